"""Part rules shared by several claims: one written form for each kind of judgement.

How a part is judged against an effect (``data/evidence-protocol.md``; the judgement appendix):

- :func:`effect_part`, a claimed effect ("X improves Y"), on a weighed synthesis, against the
  smallest effect worth acting on (``sesoi``):

  * *contradicted* when the interval's upper end lies below ``sesoi`` (no worthwhile effect is
    compatible with the evidence: an equivalence test, TOST, when the interval also lies above
    ``-sesoi``, which is evidence of absence; harm when it lies below zero);
  * *supported* when the interval's lower end lies above the declared threshold of support
    (``support_threshold``: ``sesoi`` by default, a worthwhile effect; ``zero`` the permissive
    alternative, any benefit);
  * *insufficient evidence* only when the interval spans both a worthwhile effect and none.

- :func:`no_harm_part`, "does not harm": *supported* when the interval rules out a worthwhile
  harm (its harmful end below ``sesoi``), *contradicted* when it shows harm beyond the threshold,
  else *insufficient evidence*.
- :func:`counterexample_part`, a universal claim ("all", "none", "in any way"): *contradicted* by
  one credible counterexample: one study of a declared design and risk of bias whose own interval
  lies wholly against the claim.
- :func:`lines_part`, a part read from several lines of evidence (contrasts never pooled together,
  such as detracking reforms and trials of mixed against set classes, read the other way): the lines
  of the highest certainty decide; if they disagree the part is *mixed*.
- :func:`size_part`: a descriptive claim that a quantity exceeds a threshold.

Every part that rests on evidence carries a certainty grade (:mod:`.certainty`), insufficient
evidence included: "insufficient, very low" (little is known) and "a precise null, moderate" look
different.
"""

from __future__ import annotations

import math
from functools import cache

import pandas as pd

from ..analyses import gaps, synthesis
from ..analyses.synthesis import Synthesis
from .certainty import Certainty, Downgrade, grade, synthesis_downgrades
from .core import Deciding, Part
from .parameters import param

__all__ = ["effect_part", "no_harm_part", "counterexample_part", "lines_part", "study_estimates", "size_part",
           "synthesis_certainty", "no_evidence_certainty", "harm_level", "certainty_of", "clears", "tested_low", "statement_z", "TOUCH", "describe", "fmt", "WEIGHING", "weigh", "gap_share",
           "LAST_GRADE", "egsingle_gaps", "pilot_numbers"]


def fmt(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def describe(s: Synthesis, unit: str = "SD") -> str:
    """'0.12 SD (95% CI 0.03 to 0.21; 4 studies, 9 estimates)' and the like."""
    pct = f"{100 * s.level:.0f}%"
    if s.status == "no study":
        return "no eligible estimate with published uncertainty"
    base = f"{fmt(s.estimate)} {unit} ({pct} CI {fmt(s.ci_low)} to {fmt(s.ci_high)}"
    if s.status == "pooled":
        return base + f"; {s.n_studies} studies, {s.k} estimates; prediction interval {fmt(s.pi_low)} to {fmt(s.pi_high)})"
    if s.status == "single synthesis":
        return base + "; one meta-analysis's own pooled estimate, not pooled again)"
    return base + f"; {s.n_studies} {'study' if s.n_studies == 1 else 'studies'} only, not pooled)"


def _basis(s: Synthesis) -> tuple[str, str]:
    designs = set(s.designs)
    if designs and designs <= {"RCT", "quasi-experimental"}:
        return "causal", "randomised or quasi-experimental"
    if designs and designs <= {"descriptive"}:
        return "causal", "descriptive"
    return "causal", "synthesis of mixed designs"


def synthesis_certainty(s: Synthesis, threshold: float, spec: dict, indirect=()):
    kind, basis = _basis(s)
    downgrades = synthesis_downgrades(
        rob_levels=s.risk_of_bias, pi=(s.pi_low, s.pi_high) if s.decides else None, ci=(s.ci_low, s.ci_high),
        threshold=threshold, i2=s.i2 if s.decides else None, n_studies=s.n_studies,
        i2_large=spec.get("i2_large", param("i2_large").default),
        min_studies_precise=spec.get("min_studies_precise", param("min_studies_precise").default),
        indirect=indirect, single_synthesis=s.status == "single synthesis")
    return grade(kind, basis, downgrades)


def _in_direction(s: Synthesis, sign: int) -> tuple[float, float, float]:
    """Estimate and interval re-expressed so that positive is the claimed direction."""
    if sign == 1:
        return s.estimate, s.ci_low, s.ci_high
    return -s.estimate, -s.ci_high, -s.ci_low


def _deciding(s: Synthesis, label: str, sign: int, threshold: float, unit: str) -> Deciding:
    est, lo, hi = _in_direction(s, sign)
    return Deciding(label, est, lo, hi, unit, threshold)


def no_evidence_certainty(what: str):
    """The grade of a part no eligible estimate bears on: very low (nothing is known)."""
    return Certainty("very low", "very low", f"no eligible estimate with uncertainty ({what})")


#: An interval built on a significance statement's bound touches zero exactly at the statement's own
#: level ("p < alpha" excludes it): a floating-point tolerance, not a threshold of judgement.
TOUCH = 1e-12


def clears(lo: float, threshold: float, bound_only: bool) -> bool:
    """The interval's lower end lies above ``threshold`` (for a significance bound at zero: touches it)."""
    return lo > threshold or (bound_only and threshold == 0 and lo >= -TOUCH)


def tested_low(lo: float, est: float, se: float, bound_only: bool, bound_level: float, spec: dict) -> float:
    """The lower end the clearing test reads (in the claimed direction). An interval that rests only on
    statements of significance is, by default (``significance_tested_at``), tested at the looser of the
    statements' level and the book's: 'p < alpha' excludes zero at alpha and says nothing at a stricter level,
    so testing it at 95% could never let a statement read at 10% decide. Its imprecision is graded against the
    book's interval, which crosses zero (one downgrade)."""
    if not (bound_only and math.isfinite(se)):
        return lo
    z = statement_z(bound_level, spec)
    return lo if z is None else est - z * se


def statement_z(bound_level: float, spec: dict) -> float | None:
    """The z a statement of significance at ``bound_level`` is tested with: that of the looser of its level
    and the book's, when ``significance_tested_at`` is its own level; None when the book's interval stands
    (the strict alternative, or no statement)."""
    own = spec.get("significance_tested_at", param("significance_tested_at").default) == "its own level"
    if not (own and math.isfinite(bound_level)):
        return None
    return synthesis._z(min(spec["ci_level"], 1 - bound_level))


def at_own_level(lo: float, tested: float, threshold: float) -> str:
    """Words for a part the statement's own level decided (empty when the book's interval decides alone)."""
    if lo > threshold or tested == lo:
        return ""
    return "; decided by the statement of significance at its own level (the book's interval crosses zero)"


def certainty_of(s: Synthesis, threshold: float, spec: dict, what: str, indirect=()):
    """The grade of a part judged on ``s``: very low when no estimate bears on it."""
    if s.status == "no study":
        return no_evidence_certainty(what)
    return synthesis_certainty(s, threshold, spec, indirect)


def _support_level(spec: dict, sesoi: float) -> float:
    choice = spec.get("support_threshold", param("support_threshold").default)
    return sesoi if choice == "sesoi" else 0.0


def _insufficient(name: str, s: Synthesis, label: str, sign: int, threshold: float, unit: str, what: str, spec: dict,
                  indirect=()) -> Part:
    if s.status == "no study":
        return Part(name, "insufficient evidence", describe(s, unit), None, no_evidence_certainty(what),
                    needs=f"{what}: a study with uncertainty (none is coded yet)")
    needs = (f"{what}: an interval clear of {fmt(threshold)} {unit}, i.e. an SE of at most "
             f"{fmt(s.se_needed(threshold), 3)} (now {fmt(s.se, 3)}), or more studies with uncertainty")
    return Part(name, "insufficient evidence", describe(s, unit), _deciding(s, label, sign, threshold, unit),
                synthesis_certainty(s, threshold * sign, spec, indirect), needs=needs)


def effect_part(name: str, s: Synthesis, *, sign: int, sesoi: float, spec: dict, label: str, what: str,
                unit: str = "SD", indirect=()) -> Part:
    """A claimed effect in direction ``sign`` (+1: the synthesis' reported direction); see the module
    docstring. A synthesis that does not decide (too few studies for the specification) is
    insufficient evidence with its own certainty."""
    support = _support_level(spec, sesoi)
    if not s.decides:
        return _insufficient(name, s, label, sign, support, unit, what, spec, indirect)
    est, lo, hi = _in_direction(s, sign)
    low = tested_low(lo, est, s.se, s.bound_only, s.bound_level, spec)
    if hi < sesoi:
        kind = "no worthwhile effect (equivalence)" if lo > -sesoi else "the effect goes the other way"
        part = Part(name, "contradicted", f"{describe(s, unit)}: {kind}", _deciding(s, label, sign, sesoi, unit),
                    synthesis_certainty(s, sesoi * sign, spec, indirect))
        return part
    if clears(low, support, s.bound_only):
        return Part(name, "supported", describe(s, unit) + at_own_level(lo, low, support),
                    _deciding(s, label, sign, support, unit),
                    synthesis_certainty(s, support * sign, spec, indirect))
    return _insufficient(name, s, label, sign, support, unit, what, spec, indirect)


def harm_level(spec: dict, sesoi: float) -> float:
    """The declared ``harm_threshold``: zero (any harm an interval shows) or the smallest effect worth acting on."""
    choice = spec.get("harm_threshold", param("harm_threshold").default)
    return sesoi if choice == "sesoi" else 0.0


def no_harm_part(name: str, s: Synthesis, *, harm_sign: int, sesoi: float, spec: dict, label: str, what: str,
                 unit: str = "SD", indirect=()) -> Part:
    """'Does not harm': harm is an effect in direction ``harm_sign`` of the synthesis' estimate. Contradicted
    when the interval clears the declared harm threshold (the same threshold as the claim's counterexample);
    supported when it excludes every worthwhile harm."""
    threshold = harm_level(spec, sesoi)
    if not s.decides:
        return _insufficient(name, s, label, harm_sign, sesoi, unit, what, spec, indirect)
    est, lo, hi = _in_direction(s, harm_sign)
    low = tested_low(lo, est, s.se, s.bound_only, s.bound_level, spec)
    if clears(low, threshold, s.bound_only):
        return Part(name, "contradicted", f"{describe(s, unit)}: harm shown{at_own_level(lo, low, threshold)}",
                    _deciding(s, label, harm_sign, threshold, unit),
                    synthesis_certainty(s, threshold * harm_sign, spec, indirect))
    if hi < sesoi:
        return Part(name, "supported", f"{describe(s, unit)}: no worthwhile harm", _deciding(s, label, harm_sign, sesoi,
                    unit), synthesis_certainty(s, sesoi * harm_sign, spec, indirect))
    return _insufficient(name, s, label, harm_sign, sesoi, unit, what, spec, indirect)


_ROB_ORDER = ("low", "some concerns", "not assessed", "high")


def study_estimates(s: Synthesis) -> pd.DataFrame:
    """One row per study of a synthesis' deciding rows: its estimate (the mean of its rows, in the
    question's direction), SE (the mean of its rows' SEs), design, worst risk of bias, rows, and
    whether its SE is only a significance bound."""
    if not len(s.rows):
        return pd.DataFrame(columns=["study_id", "estimate", "se", "design", "rob", "rows", "bound_only", "bound_level"])
    r = s.rows
    return _study_estimates(synthesis.QUESTIONS[s.question].sign, tuple(r["study_id"]), tuple(r["id"]),
                            tuple(map(float, r["yi"])), tuple(map(float, r["se_used"])), tuple(r["design"]),
                            tuple(r["risk_of_bias"]), tuple(map(bool, r["bound_only"])),
                            tuple(map(float, r["bound_level"])) if "bound_level" in r else (math.nan,) * len(r))


@cache
def _study_estimates(sign, studies, ids, yi, se, designs, robs, bound_only, bound_level) -> pd.DataFrame:
    # cached on the rows themselves: many specifications select the same rows
    out = []
    for study in dict.fromkeys(studies):
        idx = [i for i, st in enumerate(studies) if st == study]
        out.append({"study_id": study, "estimate": sign * sum(yi[i] for i in idx) / len(idx),
                    "se": sum(se[i] for i in idx) / len(idx), "design": designs[idx[0]],
                    "rob": max((robs[i] for i in idx), key=_ROB_ORDER.index), "rows": ", ".join(ids[i] for i in idx),
                    "bound_only": all(bound_only[i] for i in idx),
                    "bound_level": max(bound_level[i] for i in idx)})
    return pd.DataFrame(out)


def counterexample_part(name: str, syntheses, *, against_sign: int, threshold: float, spec: dict, label: str,
                        what: str, unit: str = "SD", indirect: str | dict = "") -> Part | None:
    """The first credible counterexample among the studies of ``syntheses``: a study of a declared
    design (``counterexample_designs``) and risk of bias no worse than ``counterexample_max_rob``,
    whose own interval lies wholly beyond ``threshold`` in direction ``against_sign`` (against the
    claim). None when there is none; a universal claim then stands or falls on its other parts.
    ``indirect`` names how the study's contrast differs from the claim's (one more level down): one reason
    for every synthesis, or a mapping from a synthesis' contrast to its reason."""
    z = synthesis._z(spec["ci_level"])
    allowed = _ROB_ORDER[:_ROB_ORDER.index(spec["counterexample_max_rob"]) + 1]
    for s in syntheses:
        if not len(s.rows) or s.evidence_base == "syntheses":
            continue
        for study in study_estimates(s).itertuples():
            if study.design not in spec["counterexample_designs"] or study.rob not in allowed:
                continue
            est = against_sign * study.estimate
            lo, hi = est - z * study.se, est + z * study.se
            low = tested_low(lo, est, study.se, study.bound_only, study.bound_level, spec)
            if clears(low, threshold, study.bound_only):
                downgrades = [Downgrade("imprecision", 1, "one study"),
                              Downgrade("indirectness", 1, f"one setting ({study.study_id})")]
                reason = indirect.get(s.contrast, "") if isinstance(indirect, dict) else indirect
                if reason:
                    downgrades.append(Downgrade("indirectness", 1, reason))
                certainty = grade("causal", "randomised or quasi-experimental", downgrades)
                because = (f"{_study_label(s.rows, study.study_id)} ({study.design}, rows {study.rows}): "
                           f"{fmt(study.estimate)} {unit} "
                           f"({100 * spec['ci_level']:.0f}% CI {fmt(study.estimate - z * study.se)} to "
                           f"{fmt(study.estimate + z * study.se)}), a credible counterexample")
                return Part(name, "contradicted", because,
                            Deciding(label, float(est), float(lo), float(hi), unit, threshold), certainty, refutes=True)
    return None


_LEVELS = ("high", "moderate", "low", "very low")


def _study_label(rows: pd.DataFrame, study_id: str) -> str:
    """'Duflo, Dupas & Kremer 2011, Kenya': the study's label without where it was read, and its country
    (the study id where the rows carry no label)."""
    if not {"study", "country"} <= set(rows.columns):
        return study_id
    where = rows.loc[rows["study_id"] == study_id, ["study", "country"]].iloc[0]
    label = _without_where_read(str(where["study"]))
    return f"{label}, {where['country']}"


def _without_where_read(study: str) -> str:
    """'Duflo, Dupas & Kremer 2011 (AER, Table 2)' -> 'Duflo, Dupas & Kremer 2011': a display label only
    (string slicing, no pattern: the judgement layer reads no text to code a row)."""
    if study.endswith(")") and "(" in study:
        return study[:study.index("(")].rstrip()
    return study


def _side(p: Part) -> int:
    """+1 or -1 when a line's interval lies wholly on that side of zero (in the claim's direction), else 0."""
    d = p.deciding
    if d is None or not (math.isfinite(d.ci_low) and math.isfinite(d.ci_high)):
        return 0
    return 1 if d.ci_low > 0 else -1 if d.ci_high < 0 else 0


def _points(p: Part) -> int:
    """The side of zero a line's estimate lies on (in the claim's direction), 0 without one."""
    d = p.deciding
    if d is None or not math.isfinite(d.estimate) or d.estimate == 0:
        return 0
    return 1 if d.estimate > 0 else -1


def lines_part(name: str, lines: list[Part]) -> Part:
    """One part from several lines of evidence (different interventions, never pooled): the judged lines
    of the highest certainty decide (a line of weaker design or precision does not outvote a stronger
    one); if they disagree, *mixed*. A line that was not judged still counts against the lead when it is
    at least as certain and its interval lies wholly on the other side of zero: two interventions of
    equal standing pointing opposite ways are *mixed*, whatever thresholds each cleared; a line more certain
    than the lead whose estimate points the other way leaves the part *insufficient evidence*. With no judged
    line, the line of the highest certainty stands for the part (insufficient evidence)."""
    def level(p: Part) -> int:
        return _LEVELS.index(p.certainty.level) if p.certainty is not None and p.certainty.applicable else 4

    judged = [p for p in lines if p.judged]
    pool = judged or lines
    best = min(level(p) for p in pool)
    top = [p for p in pool if level(p) == best]
    because = "; ".join(f"{p.name}: {p.verdict} ({p.because})" for p in lines)
    verdicts = {p.verdict for p in top}
    lead = top[0]
    verdict = lead.verdict if len(verdicts) == 1 else "mixed"
    if verdict in ("supported", "contradicted") and _side(lead):
        against = [p for p in lines if p is not lead and level(p) <= level(lead) and _side(p) == -_side(lead)]
        stronger = [p for p in lines if level(p) < level(lead) and _points(p) == -_side(lead)]
        if against:
            verdict = "mixed"
            because += (f"; {against[0].name} points the other way with at least the same certainty "
                        f"({against[0].certainty.level}): the lines disagree")
        elif stronger:
            # a more certain line that points the other way, though it settles nothing itself, leaves the
            # less certain line unable to settle the part (second referee, item 2)
            verdict, lead = "insufficient evidence", stronger[0]
            because += (f"; {lead.name} is more certain ({lead.certainty.level}) and its estimate points the other "
                        f"way: the less certain line cannot settle the part")
    needs = lead.needs if verdict not in ("supported", "contradicted", "mixed") else ""
    return Part(name, verdict, because, lead.deciding, lead.certainty, needs=needs)


def size_part(name: str, *, estimate: float, ci_low: float, ci_high: float, threshold: float, label: str,
              because: str, certainty, unit: str = "SD", what: str = "") -> Part:
    """A quantity claimed to exceed ``threshold`` (descriptive)."""
    deciding = Deciding(label, estimate, ci_low, ci_high, unit, threshold)
    if ci_low > threshold:
        return Part(name, "supported", because, deciding, certainty)
    if ci_high < threshold:
        return Part(name, "contradicted", because, deciding, certainty)
    return Part(name, "insufficient evidence", because, deciding, certainty,
                needs=what or f"an interval for {label} that lies entirely above or below {threshold:g} {unit}")


# What several rule modules read: one place, so that no rule module imports another.

def weigh(question: str, contrast: str, spec: dict) -> synthesis.Synthesis:
    return synthesis.weigh(question, contrast, settings=spec["settings"], designs=spec["designs"],
                           evidence_base=spec["evidence_base"], inference=spec["inference"], level=spec["ci_level"],
                           min_studies=spec["min_studies"], cr2_min_studies=spec["cr2_min_studies"],
                           bounds_decide=spec["bounds_decide"], unstated_level=spec["unstated_significance"])


WEIGHING = ("settings", "designs", "evidence_base", "inference", "ci_level", "min_studies", "cr2_min_studies", "support_threshold",
            "bounds_decide", "unstated_significance", "significance_tested_at")


#: The last school grade of the Chicago data used: grade 6 holds 9 scores and is excluded by
#: gaps.egsingle_gaps (a fact about the data, not a threshold of judgement).
LAST_GRADE = 5


@cache
def egsingle_gaps() -> object:
    table = gaps.egsingle_gaps()
    return table[table["school_grade"] <= LAST_GRADE]


def gap_share(group: str, first: int) -> gaps.GapShare:
    """The grade-``first`` gap as a share of the grade-LAST_GRADE gap, with its joint school bootstrap."""
    return gaps.egsingle_gap_share(group, first, LAST_GRADE)



@cache
def _r2_table():
    return gaps.book_pretest_r2().set_index("data")


def pilot_numbers(spec) -> dict:
    table = _r2_table()
    icc = float(gaps.egsingle_variance()["icc"].max())
    if spec["pilot_pretest"] == "none":
        r2s = r2i = 0.0
    else:
        key = next(k for k in table.index if k.startswith(spec["pilot_pretest"]))
        r2s, r2i = float(table.loc[key, "r2_school"]), float(table.loc[key, "r2_student"])
    m = spec["pilot_students"]
    mdes = gaps.mdes(spec["pilot_schools"], m, icc, r2s, r2i, randomise=spec["pilot_randomise"])
    needed = gaps.schools_for_mdes(spec["pilot_effect"], m, icc, r2s, r2i, randomise=spec["pilot_randomise"])
    return {"icc": icc, "r2_school": r2s, "r2_student": r2i, "mdes": mdes, "needed": needed, "m": m}
