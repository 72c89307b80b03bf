"""What the evidence says, in words a reader takes in at a glance: one sentence per question of the
protocol, the bottom line of the book, the forest plot's table, and the evidence gap map.

Everything here is chosen by tested functions from the synthesis at the book's default
specification (:mod:`tracking_evidence.analyses.synthesis`, graded by
:mod:`tracking_evidence.verdicts`): no sentence is typed. An effect on achievement is put in words
with Kraft's benchmarks for education interventions and, where it is an achievement effect, in the
EEF's months of additional progress (:mod:`tracking_evidence.data.months`); an effect on an
inequality measure is never put in months (its unit is the SD of the measure, not of achievement).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from ..analyses import synthesis
from ..data.months import load_months
from ..verdicts.common import certainty_of, clears, study_estimates, tested_low, weigh
from ..verdicts.parameters import spec_of

__all__ = ["Line", "Question", "QUESTIONS", "Answer", "LineAnswer", "effect_words", "size_word", "months_of_progress",
           "answer", "answers", "bottom_line", "forest_table", "gap_map", "GAP_ROWS", "GAP_COLUMNS", "default_spec"]

#: The weighing choices of the book's default specification (the verdicts' defaults).
WEIGHING = ("settings", "designs", "evidence_base", "inference", "ci_level", "min_studies", "cr2_min_studies",
            "support_threshold", "bounds_decide", "unstated_significance", "sesoi", "i2_large", "min_studies_precise")


def default_spec() -> dict:
    return spec_of(WEIGHING)




@dataclass(frozen=True)
class Line:
    """One line of evidence on a question: a synthesis question and one contrast, in a reader's words."""

    key: str
    contrast: str
    label: str


@dataclass(frozen=True)
class Question:
    protocol: str  # Q1 ... Q8
    title: str  # for a reader
    asks: str
    kind: str  # "achievement", "inequality", "socio-emotional"
    lines: tuple[Line, ...]


QUESTIONS = (
    Question("Q1", "High achievers", "What do separate, selective or faster classes do for high achievers?",
             "achievement", (Line("high", "course tracking", "separate classes by attainment"),
                             Line("high", "placement", "a place in a selective class or school, at its cutoff"),
                             Line("high", "acceleration", "acceleration"),
                             Line("high", "enrichment", "enrichment programmes"))),
    Question("Q2", "Low achievers", "What do separate classes, or teaching at their level, do for low achievers?",
             "achievement", (Line("low", "course tracking", "separate classes by attainment"),
                             Line("low", "within-class grouping", "instruction targeted to their level"))),
    Question("Q3", "Middle achievers", "What do separate classes do for middle achievers?", "achievement",
             (Line("middle", "course tracking", "separate classes by attainment"),)),
    Question("Q4", "The average student", "What does more tracking do to average achievement?", "achievement",
             (Line("mean", "course tracking", "separate classes by attainment"),
              Line("mean", "system tracking", "selective school systems"))),
    Question("Q5", "Inequality", "What does tracking a whole school system do to inequality?", "inequality",
             (Line("inequality_pooled", "system tracking", "inequality as a meta-analysis pooled it, spread and family "
                   "background together"),
              Line("dispersion", "system tracking", "the spread of achievement"),
              Line("gradient", "system tracking", "the family-background gap"))),
    Question("Q6", "Detracking", "What does removing tracks do?", "achievement",
             (Line("detrack_mean", "course tracking", "mixed instead of separate classes, all students (trials)"),
              Line("detrack_mean", "detracking reform", "detracking reforms, all students"),
              Line("detrack_low", "detracking reform", "detracking reforms, low achievers"),
              Line("detrack_low", "course tracking", "mixed instead of separate classes, low achievers (trials)"),
              Line("detrack_high", "course tracking", "mixed instead of separate classes, high achievers (trials)"))),
    Question("Q7", "Teaching at each student's level", "Does instruction targeted to level raise achievement?",
             "achievement", (Line("within", "within-class grouping", "instruction targeted to level"),)),
    Question("Q8", "Self-concept and well-being", "What do tracking and detracking do to students' self-concept and "
             "well-being?", "socio-emotional",
             (Line("socio_emotional", "course tracking", "separate classes by attainment"),
              Line("socio_emotional", "acceleration", "acceleration"),
              Line("socio_emotional", "enrichment", "enrichment programmes"),
              Line("socio_emotional", "placement", "a place in a selective class or school"))),
)


def size_word(estimate: float) -> str:
    """Kraft's benchmarks for the effects of education interventions on achievement: under 0.05 SD
    small, 0.05 to under 0.20 medium, 0.20 or more large."""
    size = abs(estimate)
    return "small" if size < 0.05 else "medium-sized" if size < 0.20 else "large"


def _directions(kind: str) -> tuple[str, str]:
    """The words for an effect up and down: on inequality, widening and narrowing; else a gain and a loss."""
    return ("widens inequality", "narrows inequality") if kind == "inequality" else ("a gain", "a loss")


def effect_words(estimate: float, lo: float, hi: float, sesoi: float, kind: str = "achievement") -> str:
    """The weighed estimate in words a teacher reads, chosen from the interval against the smallest
    effect worth acting on (``sesoi``): about zero, a gain, a loss, or unclear."""
    up, down = _directions(kind)
    up_noun, down_noun = ("a widening", "a narrowing") if kind == "inequality" else ("a gain", "a loss")
    if not all(map(math.isfinite, (estimate, lo, hi))):
        raise ValueError("an estimate and a finite interval are needed to put an effect in words")
    if lo > -sesoi and hi < sesoi:
        return "about zero: no effect large enough to matter"
    # Kraft's benchmarks are for achievement: an inequality measure or a socio-emotional scale gets the direction only
    sized = (lambda word: f"a {size_word(estimate)} {word[2:]}") if kind == "achievement" else (lambda word: word)
    if lo > sesoi:
        return sized(up)
    if lo > 0:
        if abs(estimate) >= sesoi:  # a worthwhile estimate whose interval reaches down to almost nothing
            return f"{sized(up)}, though it could be too small to matter"
        return f"{up}, perhaps too little to matter" if kind == "inequality" else f"{up}, perhaps too small to matter"
    if hi < -sesoi:
        return sized(down)
    if hi < 0:
        if abs(estimate) >= sesoi:
            return f"{sized(down)}, though it could be too small to matter"
        return f"{down}, perhaps too little to matter" if kind == "inequality" else f"{down}, perhaps too small to matter"
    if hi < sesoi:
        return f"no worthwhile {'widening' if kind == 'inequality' else 'gain'} ({down_noun} is not ruled out)"
    if lo > -sesoi:
        return f"no worthwhile {'narrowing' if kind == 'inequality' else 'loss'} ({up_noun} is not ruled out)"
    return f"unclear: the evidence allows anything from {down_noun} to {up_noun}"


def significance_words(estimate: float, kind: str = "achievement") -> str:
    """Words for an estimate whose only uncertainty is a statement of significance that excludes zero at its own
    level while the book's interval crosses zero: the direction, and that its size is not known."""
    up, down = _directions(kind)
    return f"{up if estimate > 0 else down} by its statement of significance, though how much is not known"


def _decided_by_statement(s: synthesis.Synthesis, spec: dict) -> bool:
    """The book's interval crosses zero but the statement of significance, tested at its own level (the
    verdicts' default), excludes it."""
    if not (s.bound_only and s.ci_low < 0 < s.ci_high):
        return False
    sign = 1 if s.estimate > 0 else -1
    est, lo = abs(s.estimate), (s.ci_low if sign > 0 else -s.ci_high)
    return clears(tested_low(lo, est, s.se, True, s.bound_level, spec), 0.0, True)


def months_of_progress(effect_size: float) -> int:
    """Additional months' progress for an effect size, by the EEF's table (rounded to 2 decimals, as the
    table is; negative effect sizes give the same months, negative; beyond 1.00, the table's last row)."""
    table = load_months()
    size = round(abs(effect_size), 2)
    if size > float(table["es_high"].max()):
        months = int(table["months"].max())
    else:
        hit = table[(table["es_low"] <= size) & (size <= table["es_high"])]
        if hit.empty:  # between two printed bands (e.g. 0.015): the nearer band's lower bound
            hit = table.iloc[[int(np.argmin(np.abs(table["es_low"].to_numpy() - size)))]]
        months = int(hit["months"].iloc[0])
    return months if effect_size >= 0 else -months


@dataclass(frozen=True)
class LineAnswer:
    line: Line
    synthesis: synthesis.Synthesis
    certainty: object  # verdicts.certainty.Certainty
    words: str
    months: int | None

    @property
    def decides(self) -> bool:
        return self.synthesis.decides

    @property
    def n_studies(self) -> int:
        return self.synthesis.n_studies

    kind: str = "achievement"

    def numbers(self) -> str:
        s = self.synthesis
        pct = f"{100 * s.level:.0f}%"
        unit = "SD of the inequality measure" if self.kind == "inequality" else "SD"
        return f"{s.estimate:+.2f} {unit}, {pct} interval {s.ci_low:+.2f} to {s.ci_high:+.2f}; {self.sources()}"

    def sources(self) -> str:
        """Which studies, in a reader's words: their number, and their names and countries when there are
        at most three (a synthesis is called a meta-analysis); a significance statement without its level
        is said to be one."""
        s = self.synthesis
        kind = "meta-analysis" if s.evidence_base == "syntheses" else "study"
        plural = {"meta-analysis": "meta-analyses", "study": "studies"}[kind]
        head = f"{s.n_studies} {kind if s.n_studies == 1 else plural}"
        if 0 < s.n_studies <= 3 and len(s.rows):
            named = s.rows.drop_duplicates("study_id")
            labels = [_short(r.study) + (f", {r.country}" if r.country and r.country != "international" else "")
                      for r in named.itertuples()]
            head += f": {'; '.join(labels)}"
        if s.bound_only and (s.rows["se_how"] == "from significance (level not printed)").all():
            head += ("; its interval is the widest that 'significant', printed without its level, allows (read at "
                     "10%)")
        return head


@dataclass(frozen=True)
class Answer:
    question: Question
    lines: tuple[LineAnswer, ...]

    @property
    def lead(self) -> LineAnswer | None:
        """The line that answers the question first: of the lines that decide, the most certain, then the
        one with the most studies (weigh, never count: a single trial outranks two weaker syntheses)."""
        deciding = [a for a in self.lines if a.decides]
        if not deciding:
            return None
        return min(deciding, key=lambda a: (_LEVELS.index(a.certainty.level), -a.n_studies))

    @property
    def opposing(self) -> LineAnswer | None:
        """The strongest deciding line whose interval lies wholly on the other side of zero from the lead's:
        different interventions that point different ways are reported side by side, never averaged."""
        lead = self.lead
        if lead is None or not _clear_side(lead):
            return None
        other = [a for a in self.lines if a.decides and _clear_side(a) == -_clear_side(lead)]
        return min(other, key=lambda a: (_LEVELS.index(a.certainty.level), -a.n_studies)) if other else None

    def line(self, contrast: str) -> LineAnswer | None:
        return next((a for a in self.lines if a.line.contrast == contrast), None)

    @property
    def sentence(self) -> str:
        """One plain sentence: what the weighed evidence says, its interval, studies and certainty."""
        lead = self.lead
        q = self.question
        if lead is None:
            shown = sum(len(a.synthesis.shown) for a in self.lines)
            return (f"{q.title}: no study that reports its uncertainty answers this yet ({shown} "
                    f"estimate{'s' if shown != 1 else ''} without it, in the evidence table, cannot decide).")
        months = (f", roughly {abs(lead.months)} months' {'additional progress' if lead.months >= 0 else 'less progress'}"
                  f" in the EEF's conversion" if lead.months not in (None, 0) else "")
        first = f"{lead.line.label}: {lead.words} ({lead.numbers()}{months}); certainty {lead.certainty.level}"
        other = self.opposing
        if other is None:
            return f"{q.title}, {first}."
        return (f"{q.title}: the evidence points two ways, by intervention. {first[0].upper()}{first[1:]}. But "
                f"{other.line.label}: {other.words} ({other.numbers()}); certainty {other.certainty.level}.")


def _short(label: str) -> str:
    """A study's label without the parenthetical of where it was read ("(as coded by ...)")."""
    return re.sub(r"\s*\(.*\)$", "", str(label))


def _clear_side(a: LineAnswer) -> int:
    """+1 or -1 when the line's interval excludes zero on that side, else 0."""
    s = a.synthesis
    return 1 if s.ci_low > 0 else -1 if s.ci_high < 0 else 0


def _line_answer(line: Line, kind: str, spec: dict, evidence: pd.DataFrame | None = None) -> LineAnswer:
    s = weigh(line.key, line.contrast, spec) if evidence is None else synthesis.weigh(
        line.key, line.contrast, settings=spec["settings"], designs=spec["designs"],
        evidence_base=spec["evidence_base"], inference=spec["inference"], level=spec["ci_level"],
        min_studies=spec["min_studies"], cr2_min_studies=spec["cr2_min_studies"], bounds_decide=spec["bounds_decide"],
        unstated_level=spec["unstated_significance"], evidence=evidence)
    sesoi = spec["sesoi"]
    # graded against a worthwhile effect in the estimate's own direction, as the verdicts grade their parts
    toward = -sesoi if s.decides and s.estimate < 0 else sesoi
    certainty = certainty_of(s, toward, spec, line.label)
    if s.decides and all(map(math.isfinite, (s.estimate, s.ci_low, s.ci_high))):
        words = effect_words(s.estimate, s.ci_low, s.ci_high, sesoi, "inequality" if kind == "inequality" else kind)
        if _decided_by_statement(s, spec):
            words = significance_words(s.estimate, "inequality" if kind == "inequality" else kind)
        months = months_of_progress(s.estimate) if kind == "achievement" else None
    else:
        words, months = "no study with uncertainty", None
    return LineAnswer(line, s, certainty, words, months, kind)


def answer(question: Question, spec: dict | None = None, evidence: pd.DataFrame | None = None) -> Answer:
    """A question's answer at ``spec`` (the default specification if None), from ``evidence`` (a loaded
    evidence table; the book's if None)."""
    spec = spec or default_spec()
    return Answer(question, tuple(_line_answer(line, question.kind, spec, evidence) for line in question.lines))


@cache
def answers() -> tuple[Answer, ...]:
    """Every question's answer at the book's default specification."""
    return tuple(answer(q) for q in QUESTIONS)


def _interval(line: LineAnswer) -> str:
    s = line.synthesis
    return f"{s.estimate:+.2f} SD, {s.ci_low:+.2f} to {s.ci_high:+.2f}"


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _bands_sentence(bands: list[tuple[str, LineAnswer]]) -> str:
    """Separate classes, band by band, naming the study or studies; one phrase when every band's answer
    reads the same and carries the same certainty."""
    rows = pd.concat([line.synthesis.rows for _, line in bands])
    studies = sorted({_short(label) for label in rows["study"]})
    design = "randomised or quasi-experimental"
    which = (f"the one {design} study that reports its uncertainty ({studies[0]})" if len(studies) == 1 else
             f"the {len(studies)} {design} studies that report their uncertainty ({_listed(studies)})")
    words = {line.words for _, line in bands}
    levels = {line.certainty.level for _, line in bands}
    if len(words) == 1 and len(levels) == 1:
        head, _, tail = next(iter(words)).partition(", though ")
        each = _listed([f"{title} ({_interval(line)})" for title, line in bands])
        tail = ", though each could be too small to matter" if tail else ""
        return f"Separate classes by attainment, in {which}: {head} for {each}{tail}; certainty {levels.pop()}."
    parts = [f"{title}, {line.words} ({_interval(line)}, certainty {line.certainty.level})" for title, line in bands]
    return f"Separate classes by attainment, in {which}: " + "; ".join(parts) + "."


def bottom_line(items: tuple[Answer, ...] | None = None) -> list[str]:
    """Four sentences for the introduction, always four: the questions a reader comes with (high, low
    and middle achievers under separate classes, the average student, inequality, detracking), each
    from its lead line, or saying that no study with uncertainty answers it yet."""
    items = items or answers()
    by = {a.question.protocol: a for a in items}
    out = []
    bands = [(by[q].question.title.lower(), by[q].line("course tracking")) for q in ("Q2", "Q3", "Q1")]
    bands = [(title, line) for title, line in bands if line is not None and line.decides]
    if not bands:
        out.append("Separate classes by attainment: no study that reports its uncertainty answers this yet for any "
                   "band of prior attainment.")
    else:
        out.append(_bands_sentence(bands))
    for q in ("Q4", "Q5", "Q6"):
        a = by[q]
        if a.lead is not None and a.opposing is not None:
            lead, other = a.lead, a.opposing
            out.append(f"{a.question.asks} It depends on the intervention: {lead.line.label}, {lead.words} "
                       f"({lead.numbers()}; certainty {lead.certainty.level}); {other.line.label}, {other.words} "
                       f"({other.numbers()}; certainty {other.certainty.level}).")
        elif a.lead is not None:
            label = a.lead.line.label
            out.append(f"{a.question.asks} {label[0].upper()}{label[1:]}: {a.lead.words} "
                       f"({a.lead.numbers()}; certainty {a.lead.certainty.level}).")
        else:
            out.append(f"{a.question.asks} No study with uncertainty answers it yet.")
    return out  # four sentences: the bands, the average student, inequality, detracking


def forest_table(item: Answer) -> pd.DataFrame:
    """The forest plot's rows: each study's estimate and interval per line, then the line's weighed
    estimate (with its prediction interval where pooled)."""
    rows = []
    for a in item.lines:
        s = a.synthesis
        if not s.decides:
            continue
        z = synthesis._z(s.level)
        studies = study_estimates(s)
        for st in studies.itertuples():
            rows.append({"line": a.line.label, "row": st.study_id, "kind": "study", "estimate": st.estimate,
                         "ci_low": st.estimate - z * st.se, "ci_high": st.estimate + z * st.se,
                         "pi_low": float("nan"), "pi_high": float("nan"), "rows": st.rows})
        rows.append({"line": a.line.label, "row": "weighed estimate", "kind": "pooled" if s.status == "pooled"
                     else "single", "estimate": s.estimate, "ci_low": s.ci_low, "ci_high": s.ci_high,
                     "pi_low": s.pi_low, "pi_high": s.pi_high, "rows": ", ".join(s.rows["id"])})
    return pd.DataFrame(rows, columns=["line", "row", "kind", "estimate", "ci_low", "ci_high", "pi_low", "pi_high",
                                       "rows"])


#: The gap map's rows (contrasts) and columns (whose outcome, or which outcome).
GAP_ROWS = ("course tracking", "placement", "acceleration", "enrichment", "system tracking", "within-class grouping",
            "detracking reform")
GAP_COLUMNS = {"low achievers": ("subgroup achievement", ("low",)), "middle achievers": ("subgroup achievement", ("middle",)),
               "high achievers": ("subgroup achievement", ("high",)), "all students": ("mean achievement", ("all",)),
               "inequality": (("gap", "dispersion", "gradient", "inequality, pooled"), ("all",)), "attainment": ("attainment", None),
               "self-concept, well-being": ("socio-emotional", None)}
_LEVELS = ("high", "moderate", "low", "very low")


def gap_map(evidence: pd.DataFrame | None = None) -> pd.DataFrame:
    """One cell per contrast x outcome: the studies in the table (any design), those with uncertainty,
    and the highest certainty of a study's deciding estimate there (the grade a single study would carry
    at the book's default: design, risk of bias; empty where no study has uncertainty)."""
    frame = synthesis.book_evidence() if evidence is None else synthesis.with_effects(evidence)
    frame = frame[(frame["estimate_role"] == "primary") & (frame["setting"] == "K-12")]
    out = []
    for contrast in GAP_ROWS:
        for column, (constructs, subgroups) in GAP_COLUMNS.items():
            constructs = (constructs,) if isinstance(constructs, str) else constructs
            cell = frame[(frame["contrast"] == contrast) & frame["construct"].isin(constructs)]
            if subgroups is not None:
                cell = cell[cell["subgroup"].isin(subgroups)]
            with_u = cell[cell["has_uncertainty"]]
            best = ""
            if len(with_u):
                designs = set(with_u["design"])
                start = 0 if designs & {"RCT", "quasi-experimental"} else 2
                rob = 0 if (with_u["risk_of_bias"] == "low").any() else 1
                best = _LEVELS[min(start + rob + (1 if with_u["study_id"].nunique() == 1 else 0), 3)]
            out.append({"contrast": contrast, "outcome": column, "studies": int(cell["study_id"].nunique()),
                        "studies_with_uncertainty": int(with_u["study_id"].nunique()),
                        "rows_with_uncertainty": int(len(with_u)), "certainty": best})
    return pd.DataFrame(out)
