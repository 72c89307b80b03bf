"""The detracking evidence: what the rows of ``data/evidence.csv`` can and cannot settle.

Claims A1, B4, B5, B7, C2 and C3 are decided here, each by a stated rule on the rows the
evidence table holds when the book is built (the table keeps growing: the rules are written to
be honest about thin evidence, never tuned to today's rows).

Classifying a row
-----------------
The evidence table's schema has no "direction" column: a row says what was compared
(``comparison``, as ``"A vs B"``) and what was measured (``outcome``). :func:`classify` derives,
by keyword rules that are printed in the chapter and tested:

- **side**: which side of the comparison has *less* tracking. ``+1`` when the first side is the
  less-tracked one ("detracked vs tracked", "after vs before the comprehensive reform" for a
  detracking row), ``-1`` when the first side is the more-tracked one ("tracked vs less
  tracked", "gifted class vs regular class"), ``0`` when the rule cannot tell, and ``None`` when
  the row reports a level rather than a comparison (no "vs").
- **kind** and **polarity** of the outcome: ``equity`` outcomes (inequality, gaps, dispersion,
  family-background effects, intergenerational elasticity) where higher is worse (mobility:
  higher is better); ``achievement`` (scores, grades, GPA, exams) where higher is better;
  ``attainment`` (enrolment, passing, diplomas, college; dropout, failure and repetition are
  higher-is-worse); anything else is ``other`` with unknown polarity.
- **equity-relevant**: an equity outcome, or a row about a disadvantaged or low-achieving
  subgroup (``low``, ``below``, ``remedial``, ``low-income``, ``Black``, ``Hispanic``, ...).
- **favour** :math:`= \\operatorname{sign}(\\text{estimate}) \\times \\text{side} \\times
  \\text{polarity}`: ``+1`` favours less tracking (detracking), ``-1`` favours more tracking.
- **clear**: whether the row's own uncertainty separates it from zero: an interval that
  excludes 0, :math:`|\\text{estimate}/\\text{se}| \\ge 1.96`, or :math:`p < 0.05`; a row whose
  ``notes`` say "not (statistically) significant" is not clear; a row with no uncertainty
  reported is ``"not reported"`` and its direction is the sign alone (the chapter says so).

The resulting ``direction`` is one of ``favours less tracking``, ``favours more tracking``,
``no clear difference``, ``level, not a comparison`` or ``unclassified`` (the rule could not
tell; such rows are shown, never dropped).

Pooling
-------
:func:`pool_by_design` pools, by design and outcome kind, the rows on tracking or detracking
that have a standard error (or a 95% interval, from which :math:`se = (u - l) / (2 \\times
1.96)`) and a standardised-mean-difference unit, on the common sign *favour*, one row per study
(the ``all`` subgroup first, else the first row by id; the others are listed as left out),
with :func:`tracking_evidence.meta.pool` (REML). Meta-analyses and reviews are not pooled with
anything (their studies overlap); ``k = 1`` is reported as "cannot pool".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from .claims import Verdict, verdict_for

__all__ = [
    "REQUIRED",
    "STRONG_DESIGNS",
    "PRIMARY_DESIGNS",
    "classify",
    "evidence_map",
    "design_table",
    "pool_by_design",
    "counterexamples",
    "level_changes",
    "gap_evidence",
    "named_countries",
    "implied_gap_change",
    "selection_ages",
    "social_emotional_rows",
    "a1_verdict",
    "b4_verdict",
    "b5_verdict",
    "b7_verdict",
    "c2_verdict",
    "c3_verdict",
]

REQUIRED = (
    "id", "citation", "study", "year", "country", "topic", "design", "outcome", "comparison", "subgroup", "unit",
    "estimate", "se", "ci_low", "ci_high", "p_value", "quote", "address", "notes",
)
TOPICS = ("tracking", "ability grouping", "acceleration", "detracking", "age of selection")
DESIGNS = ("RCT", "quasi-experimental", "descriptive", "meta-analysis", "review")
STRONG_DESIGNS = ("RCT", "quasi-experimental")  # designs that can support a causal claim about the setting studied
PRIMARY_DESIGNS = ("RCT", "quasi-experimental", "descriptive")  # single studies (not syntheses)
MAP_TOPICS = ("detracking", "tracking")
Z95 = 1.959963984540054

# ---- keyword rules (lower-cased text; the more specific patterns are tried first) ----------------
_LESS_TRACKED = re.compile(
    r"less[- ]tracked|non[- ]?track|untracked|de-?tracked|detracking|de-tracking|mix(?:ed|ing)|heterogeneous|"
    r"ungrouped|no grouping|no special grouping|without tracking|comprehensive|regular class|normal class|"
    r"random|all students (?:take|in)|universal|combined|inclusive"
)
_MORE_TRACKED = re.compile(
    r"tracked|tracking|ability[- ]grouped|grouped|grouping|gifted|high[- ]ability class|high[- ]achiever class|"
    r"separate|homogeneous|selective|two-track|setting|streaming|honou?rs|remedial"
)
_AFTER = re.compile(r"\bafter\b|post-?reform|\bfirst cohort\b|detracked cohorts?")
_BEFORE = re.compile(r"\bbefore\b|pre-?reform|\bprior year\b|\bprevious year\b")
_NO_LOSS = re.compile(
    r"without (?:lowering|harming|hurting|reducing|any (?:loss|harm))|no (?:loss|harm|decline) (?:to|for)|"
    r"(?:high|higher)[- ]achievers? (?:were|was) not (?:harmed|hurt)", re.IGNORECASE)
_EQUITY = re.compile(
    r"inequality|\bgaps?\b|dispersion|family[- ]background|elasticit|intergenerational|mobility|segregation|"
    r"\bses (?:effect|gradient)|socio-?economic (?:effect|gradient)"
)
_HIGHER_BETTER_EQUITY = re.compile(r"mobility")
_ACHIEVEMENT = re.compile(r"achievement|score|test|exam|grade|gpa|reading|math|literacy|efficiency|percentile")
_ATTAINMENT = re.compile(
    r"enrol|pass|diploma|college|universit|attain|complet|course|\bap\b|dropout|fail|repeat|participation|schooling")
_SCORE = re.compile(r"score|achievement|test|exam|gpa")
_HIGHER_WORSE = re.compile(r"dropout|fail|repeat|retention|retained")
_DISADVANTAGED = re.compile(
    r"\blow\b|low-|below|remedial|struggling|disadvantag|low[- ]income|poor|free (?:or reduced[- ]price )?lunch|"
    r"\bfrl\b|minority|black|african|hispanic|latin|migrant|bottom"
)
_HIGH = re.compile(r"\bhigh\b(?![- ]school)|gifted|above|advanced|\btop\b|accelerated")
_NOT_SIGNIFICANT = re.compile(r"not (?:statistically )?significant|non-?significant|insignificant", re.IGNORECASE)
_SOCIAL_EMOTIONAL = re.compile(
    r"social|emotion|self-?concept|self-?esteem|belonging|motivation|well-?being|attitude|engagement|anxiety",
    re.IGNORECASE,
)
_SMD_UNIT = re.compile(r"^(sd|g|d|smd)$|standard deviation|hedges|cohen|standardi[sz]ed mean difference|^effect size")


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip().lower().replace("’", "'")


def check_frame(evidence: pd.DataFrame) -> pd.DataFrame:
    """Raise :class:`ValueError` naming the problem if ``evidence`` is not in the fixed schema."""
    if not isinstance(evidence, pd.DataFrame):
        raise ValueError(f"expected the evidence table as a pandas DataFrame, got {type(evidence).__name__}")
    missing = [c for c in REQUIRED if c not in evidence.columns]
    if missing:
        raise ValueError(f"evidence table lacks column(s) {missing}")
    bad_topic = sorted(set(evidence["topic"]) - set(TOPICS))
    if bad_topic:
        raise ValueError(f"evidence table has unknown topic(s) {bad_topic}; expected one of {TOPICS}")
    bad_design = sorted(set(evidence["design"]) - set(DESIGNS))
    if bad_design:
        raise ValueError(f"evidence table has unknown design(s) {bad_design}; expected one of {DESIGNS}")
    estimates = pd.to_numeric(evidence["estimate"], errors="coerce")
    if estimates.isna().any():
        raise ValueError(f"estimate is missing or not a number in row(s) {list(evidence['id'][estimates.isna()])}")
    if evidence["id"].duplicated().any():
        raise ValueError(f"duplicated id(s) {sorted(set(evidence['id'][evidence['id'].duplicated()]))}")
    return evidence


def _side(comparison: str, topic: str) -> int | None:
    """+1 if the first side of 'A vs B' is the less-tracked one, -1 if it is the more-tracked one,
    0 if the rule cannot tell, None if the row is a level (no 'vs')."""
    parts = re.split(r"\s+(?:vs\.?|versus|compared with)\s+", comparison, maxsplit=1)
    if len(parts) < 2:
        return None
    first, second = parts[0], parts[1]
    if topic == "detracking":  # a detracking reform: the side after it is the detracked one
        b1, b2 = bool(_BEFORE.search(first)), bool(_BEFORE.search(second))
        a1, a2 = bool(_AFTER.search(first)), bool(_AFTER.search(second))
        if (a1 and not a2) or (b2 and not b1):
            return +1
        if (a2 and not a1) or (b1 and not b2):
            return -1

    def score(side: str) -> int:
        if _LESS_TRACKED.search(side):
            return +1
        if _MORE_TRACKED.search(side):
            return -1
        return 0

    a, b = score(first), score(second)
    if a and b and a != b:
        return a
    if a and not b:
        return a
    if b and not a:
        return -b
    return 0


def _kind_and_polarity(outcome: str) -> tuple[str, int]:
    if _EQUITY.search(outcome):
        return "equity", (+1 if _HIGHER_BETTER_EQUITY.search(outcome) else -1)
    if _ATTAINMENT.search(outcome) and not _SCORE.search(outcome):
        return "attainment", (-1 if _HIGHER_WORSE.search(outcome) else +1)
    if _ACHIEVEMENT.search(outcome):
        return "achievement", +1
    return "other", 0


def _subgroup_band(subgroup: str) -> str:
    if subgroup in ("", "all") or subgroup.startswith("all "):
        return "all"
    if _DISADVANTAGED.search(subgroup) and not _HIGH.search(subgroup):
        return "low or disadvantaged"
    if _HIGH.search(subgroup) and not _DISADVANTAGED.search(subgroup):
        return "high"
    if _HIGH.search(subgroup) and _DISADVANTAGED.search(subgroup):
        return "disadvantaged high achievers"
    return "other"


def _clear(row) -> str:
    est = float(row["estimate"])
    low, high, se, p = row["ci_low"], row["ci_high"], row["se"], row["p_value"]
    if low is not None and high is not None and not pd.isna(low) and not pd.isna(high):
        return "interval excludes 0" if (low > 0 or high < 0) else "interval includes 0"
    if se is not None and not pd.isna(se):
        if se == 0:
            return "interval excludes 0" if est != 0 else "interval includes 0"
        return "interval excludes 0" if abs(est / se) >= Z95 else "interval includes 0"
    if p is not None and not pd.isna(p):
        return "interval excludes 0" if p < 0.05 else "interval includes 0"
    if _NOT_SIGNIFICANT.search(_text(row["notes"])):
        return "reported not significant"
    return "not reported"


def classify(evidence: pd.DataFrame) -> pd.DataFrame:
    """The evidence table with the derived columns ``side``, ``kind``, ``polarity``, ``band``,
    ``equity``, ``favour``, ``uncertainty``, ``direction``, ``strong`` (rules in the module
    docstring). Every input row is returned."""
    frame = check_frame(evidence).copy()
    sides, kinds, polarities, bands, favours, clears, directions = [], [], [], [], [], [], []
    for _, row in frame.iterrows():
        side = _side(_text(row["comparison"]), row["topic"])
        kind, polarity = _kind_and_polarity(_text(row["outcome"]))
        band = _subgroup_band(_text(row["subgroup"]))
        clear = _clear(row)
        est = float(row["estimate"])
        if side is None:
            favour, direction = 0, "level, not a comparison"
        elif side == 0 or polarity == 0:
            favour, direction = 0, "unclassified"
        elif clear in ("interval includes 0", "reported not significant") or est == 0:
            favour, direction = 0, "no clear difference"
        else:
            favour = int(np.sign(est)) * side * polarity
            direction = "favours less tracking" if favour > 0 else "favours more tracking"
        sides.append(side)
        kinds.append(kind)
        polarities.append(polarity)
        bands.append(band)
        favours.append(favour)
        clears.append(clear)
        directions.append(direction)
    frame["side"] = pd.array(sides, dtype="Int64")
    frame["kind"] = kinds
    frame["polarity"] = polarities
    frame["band"] = bands
    frame["equity"] = [k == "equity" or b in ("low or disadvantaged", "disadvantaged high achievers")
                       for k, b in zip(kinds, bands, strict=True)]
    frame["favour"] = favours
    frame["uncertainty"] = clears
    frame["direction"] = directions
    frame["strong"] = frame["design"].isin(STRONG_DESIGNS)
    return frame


def evidence_map(classified: pd.DataFrame, topics=MAP_TOPICS, strong_only: bool = False) -> pd.DataFrame:
    """Rows per design x direction x outcome kind, for rows on ``topics`` (a count table; zeros kept)."""
    rows = classified[classified["topic"].isin(topics)]
    if strong_only:
        rows = rows[rows["strong"]]
    if rows.empty:
        return pd.DataFrame(columns=["design", "direction", "kind", "rows", "studies"])
    table = (
        rows.groupby(["design", "direction", "kind"], observed=True)
        .agg(rows=("id", "size"), studies=("citation", "nunique"))
        .reset_index()
    )
    order = {d: i for i, d in enumerate(DESIGNS)}
    return table.sort_values(["design", "kind", "direction"], key=lambda c: c.map(order) if c.name == "design" else c)


def design_table(classified: pd.DataFrame, topic: str = "detracking") -> pd.DataFrame:
    """Distinct studies (citations) on ``topic`` by design; a study with rows of several designs is
    counted under its strongest (RCT > quasi-experimental > meta-analysis > review > descriptive)."""
    rank = {"RCT": 0, "quasi-experimental": 1, "meta-analysis": 2, "review": 3, "descriptive": 4}
    rows = classified[classified["topic"] == topic]
    if rows.empty:
        return pd.DataFrame({"design": list(DESIGNS), "studies": [0] * len(DESIGNS)})
    best = rows.assign(r=rows["design"].map(rank)).sort_values("r").drop_duplicates("citation")
    counts = best["design"].value_counts()
    return pd.DataFrame({"design": list(DESIGNS), "studies": [int(counts.get(d, 0)) for d in DESIGNS]})


# ---- pooling ------------------------------------------------------------------------------------


def _se_of(row) -> float:
    if row["se"] is not None and not pd.isna(row["se"]):
        return float(row["se"])
    if not pd.isna(row["ci_low"]) and not pd.isna(row["ci_high"]):
        return (float(row["ci_high"]) - float(row["ci_low"])) / (2 * Z95)
    return float("nan")


@dataclass(frozen=True)
class PoolCell:
    design: str
    kind: str
    k: int
    ids: tuple[str, ...]
    left_out: tuple[str, ...]  # eligible rows not used (a second row of the same study)
    status: str  # "pooled", "cannot pool (k = 1)", "no rows with SE and an SD unit", "not pooled (synthesis)"
    estimate: float = float("nan")
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    pi_low: float = float("nan")
    pi_high: float = float("nan")
    tau2: float = float("nan")
    i2: float = float("nan")


def _default_pool():
    from .meta import pool

    return pool


def pool_by_design(classified: pd.DataFrame, topics=MAP_TOPICS, pool: Callable | None = None) -> list[PoolCell]:
    """Pool, per design and outcome kind, the rows on ``topics`` that have an SE (or interval), an
    SD unit and a known direction, on the common sign *favour less tracking*; see the module
    docstring for the rules. ``pool`` defaults to :func:`tracking_evidence.meta.pool`."""
    pool = pool or _default_pool()
    rows = classified[classified["topic"].isin(topics)].copy()
    rows["se_used"] = [_se_of(r) for _, r in rows.iterrows()]
    rows["smd"] = rows["unit"].map(lambda u: bool(_SMD_UNIT.search(_text(u))))
    oriented = rows["side"].notna() & (rows["side"].fillna(0) != 0) & (rows["polarity"] != 0)
    usable = rows[np.isfinite(rows["se_used"]) & rows["smd"] & oriented]
    cells = []
    for design in DESIGNS:
        for kind in ("achievement", "equity", "attainment"):
            here = usable[(usable["design"] == design) & (usable["kind"] == kind)]
            if design in ("meta-analysis", "review"):
                if len(here):
                    cells.append(PoolCell(design, kind, len(here), tuple(here["id"]), (), "not pooled (synthesis)"))
                continue
            if here.empty:
                continue
            here = here.assign(is_all=here["band"].eq("all")).sort_values(["citation", "is_all", "id"],
                                                                           ascending=[True, False, True])
            chosen = here.drop_duplicates("citation")
            left = tuple(sorted(set(here["id"]) - set(chosen["id"])))
            if len(chosen) < 2:
                cells.append(PoolCell(design, kind, len(chosen), tuple(chosen["id"]), left, "cannot pool (k = 1)"))
                continue
            y = chosen["estimate"].astype(float) * chosen["side"].astype(float) * chosen["polarity"].astype(float)
            v = chosen["se_used"].astype(float) ** 2
            r = pool(y.to_numpy(), v.to_numpy(), method="REML")
            cells.append(PoolCell(design, kind, int(r.k), tuple(chosen["id"]), left, "pooled", r.estimate, r.ci_low,
                                  r.ci_high, r.pi_low, r.pi_high, r.tau2, r.i2))
    return cells


def pool_summary(cells: list[PoolCell]) -> pd.DataFrame:
    """The pooling cells as a table (one row per design x outcome kind with any usable row)."""
    columns = ["design", "kind", "k", "ids", "left_out", "status", "estimate", "ci_low", "ci_high", "pi_low",
               "pi_high", "tau2", "i2"]
    if not cells:
        return pd.DataFrame(columns=columns)
    table = pd.DataFrame([c.__dict__ for c in cells])[columns]
    table["ids"] = table["ids"].map(", ".join)
    table["left_out"] = table["left_out"].map(", ".join)
    return table


# ---- B5: counterexamples ------------------------------------------------------------------------


def counterexamples(classified: pd.DataFrame) -> pd.DataFrame:
    """Candidate counterexamples to B5: detracking rows that favour less tracking on an
    equity-relevant outcome. Columns say whether each meets the rule: strong design, and the
    study reports its higher achievers without a clear loss, either in a ``high`` row of the same
    study or in the row's own quote ("without lowering the achievement of ... peers")."""
    rows = classified[(classified["topic"] == "detracking") & classified["equity"] & (classified["favour"] > 0)]
    out = []
    for _, row in rows.iterrows():
        same = classified[(classified["citation"] == row["citation"]) & (classified["band"] == "high")]
        harmed = bool((same["favour"] < 0).any())
        stated = bool(_NO_LOSS.search(str(row["quote"])))
        out.append(
            {
                "id": row["id"],
                "study": row["study"],
                "design": row["design"],
                "outcome": row["outcome"],
                "subgroup": row["subgroup"],
                "estimate": float(row["estimate"]),
                "unit": row["unit"],
                "uncertainty": row["uncertainty"],
                "strong": bool(row["strong"]),
                "high_reported": bool(len(same)) or stated,
                "high_source": " and ".join(x for x, ok in (("row", bool(len(same))), ("quote", stated)) if ok)
                or "not reported",
                "high_harmed": harmed,
                "credible": bool(row["strong"]) and (bool(len(same)) or stated) and not harmed,
            }
        )
    columns = ["id", "study", "design", "outcome", "subgroup", "estimate", "unit", "uncertainty", "strong",
               "high_reported", "high_source", "high_harmed", "credible"]
    return pd.DataFrame(out, columns=columns)


# ---- C3: gap arithmetic -------------------------------------------------------------------------


def level_changes(classified: pd.DataFrame, topic: str = "detracking") -> pd.DataFrame:
    """Before/after arithmetic in studies that report levels (rows without "vs"): within a study,
    outcome and unit, each ``before``/``pre-reform`` level is paired with the ``after``/
    ``post-reform`` level of the same subgroup, or, when the study reports exactly one of each,
    with that one. ``change = after - before`` and ``relative_change = change / before``.
    ``same_group`` says whether both levels describe the same group: when they do not (one group
    after against another group before), the difference is **not** a change in a gap."""
    rows = classified[(classified["topic"] == topic) & classified["side"].isna()]
    out = []
    for (citation, outcome, unit), group in rows.groupby(["citation", "outcome", "unit"], sort=True):
        comp = group["comparison"].map(_text)
        before = group[comp.map(lambda c: bool(_BEFORE.search(c)))]
        after = group[comp.map(lambda c: bool(_AFTER.search(c)) and not _BEFORE.search(c))]
        pairs = []
        if len(before) == 1 and len(after) == 1:
            pairs.append((before.iloc[0], after.iloc[0]))
        else:
            for _, b_row in before.iterrows():
                match = after[after["subgroup"] == b_row["subgroup"]]
                if len(match) == 1:
                    pairs.append((b_row, match.iloc[0]))
        kind, polarity = _kind_and_polarity(_text(outcome))
        for b_row, a_row in pairs:
            b, a = float(b_row["estimate"]), float(a_row["estimate"])
            same = _text(b_row["subgroup"]) == _text(a_row["subgroup"])
            out.append(
                {
                    "citation": citation,
                    "study": group["study"].iloc[0],
                    "outcome": outcome,
                    "unit": unit,
                    "before_id": b_row["id"],
                    "after_id": a_row["id"],
                    "before_group": b_row["subgroup"],
                    "after_group": a_row["subgroup"],
                    "same_group": same,
                    "before": b,
                    "after": a,
                    "change": a - b,
                    "relative_change": (a - b) / b if b != 0 else float("nan"),
                    "kind": kind,
                    "gap_narrowed": bool(same and kind == "equity" and polarity * (a - b) > 0),
                }
            )
    columns = ["citation", "study", "outcome", "unit", "before_id", "after_id", "before_group", "after_group",
               "same_group", "before", "after", "change", "relative_change", "kind", "gap_narrowed"]
    return pd.DataFrame(out, columns=columns)


def reported_change(classified: pd.DataFrame, citation: str, outcome: str, unit_pattern: str = "percent") -> float:
    """The reported percent change for ``citation`` and ``outcome`` (to check the arithmetic), or nan."""
    rows = classified[(classified["citation"] == citation) & (classified["outcome"] == outcome)
                      & classified["unit"].map(lambda u: unit_pattern in _text(u))]
    return float(rows["estimate"].iloc[0]) if len(rows) else float("nan")


@dataclass(frozen=True)
class ImpliedGap:
    effect: float
    effect_id: str
    gap: float
    gap_ci_low: float
    gap_ci_high: float
    gap_after: float
    share: float  # effect / gap
    share_low: float  # effect / upper gap bound
    share_high: float  # effect / lower gap bound


def implied_gap_change(effect: float, gap, effect_id: str = "") -> ImpliedGap:
    """If detracking removed an inequality effect ``effect`` (SD units) from a gap ``gap``
    (a :class:`tracking_evidence.gaps.Gap`, with ``d`` and its bootstrap interval): the gap after,
    :math:`G - g`, and the share :math:`g / G` (with the share at the interval's ends)."""
    if not math.isfinite(effect):
        raise ValueError(f"effect must be finite, got {effect}")
    d, low, high = float(gap.d), float(gap.boot_ci_low), float(gap.boot_ci_high)
    if not (math.isfinite(d) and d > 0 and low > 0):
        raise ValueError(f"the gap must be positive with a positive lower bound, got d = {d}, lower bound {low}")
    return ImpliedGap(effect, effect_id, d, low, high, d - effect, effect / d, effect / high, effect / low)


def inequality_effect(classified: pd.DataFrame) -> pd.Series | None:
    """The pooled inequality effect of tracking from a meta-analysis row (Source A's g), if present."""
    rows = classified[(classified["topic"] == "tracking") & (classified["design"] == "meta-analysis")
                      & (classified["kind"] == "equity") & classified["unit"].map(lambda u: bool(_SMD_UNIT.search(_text(u))))]
    if rows.empty:
        return None
    return rows.sort_values("id").iloc[0]


# ---- A1, C2 helpers -----------------------------------------------------------------------------

_MULTI_COUNTRY = re.compile(r"international|oecd|countries|multi|europe|world", re.IGNORECASE)


def selection_ages(classified: pd.DataFrame) -> pd.DataFrame:
    """Rows on the age of selection whose unit is an age: country, age, whether the country is a
    single named country, and whether the age falls at secondary level (10 to 16; a stated
    assumption: secondary schooling starts between 10 and 12 and tracks are formed by 16)."""
    rows = classified[(classified["topic"] == "age of selection") & classified["unit"].map(
        lambda u: "age" in _text(u) or "year" in _text(u))]
    out = rows[["id", "study", "country", "comparison", "estimate", "design"]].copy()
    out["single_country"] = ~out["country"].map(lambda c: bool(_MULTI_COUNTRY.search(str(c))))
    out["secondary"] = out["estimate"].between(10, 16)
    return out.reset_index(drop=True)


def named_countries(ages: pd.DataFrame) -> list[str]:
    """Distinct named countries with a secondary-level selection age ("Germany; Austria" names two)."""
    named = ages[ages["single_country"] & ages["secondary"]]
    found = set()
    for cell in named["country"]:
        for part in re.split(r"\s*(?:;|,|\band\b|/)\s*", str(cell)):
            if part.strip():
                found.add(part.strip())
    return sorted(found)


def social_emotional_rows(classified: pd.DataFrame) -> pd.DataFrame:
    """Rows on tracking or detracking whose outcome is social or emotional (self-concept, belonging, ...)."""
    rows = classified[classified["topic"].isin(MAP_TOPICS)]
    return rows[rows["outcome"].map(lambda o: bool(_SOCIAL_EMOTIONAL.search(str(o))))]


# ---- verdict rules ------------------------------------------------------------------------------

MIN_STUDIES_B4 = 3
MIN_STUDIES_B7 = 5
MIN_COUNTRIES_A1 = 5


def _studies(frame: pd.DataFrame) -> int:
    return int(frame["citation"].nunique())


def a1_from(classified: pd.DataFrame) -> Verdict:
    """Rule: ``supported`` when the table verifies secondary-level selection ages (10-16) for at
    least 5 distinct named countries; otherwise ``not testable here`` (with the count)."""
    ages = selection_ages(classified)
    countries = named_countries(ages)
    multi = ages[~ages["single_country"]]
    listing = ", ".join(countries) if countries else "none"
    extra = f"; {len(multi)} multi-country age row(s) also shown" if len(multi) else ""
    if len(countries) >= MIN_COUNTRIES_A1:
        return Verdict("supported", f"Verified secondary-level selection ages for {len(countries)} countries "
                                    f"({listing}){extra}.")
    return Verdict(
        "not testable here",
        f"The evidence table verifies a selection age for {len(countries)} named country(ies) ({listing}){extra}; "
        f"at least {MIN_COUNTRIES_A1} are needed to call tracking common in many countries.",
    )


def b4_from(classified: pd.DataFrame) -> Verdict:
    """Rule, on rows about tracking or detracking with an equity-relevant outcome and a known
    direction: fewer than 3 distinct studies -> ``not testable here``; no strong-design (RCT or
    quasi-experimental) study favouring less tracking -> ``supported``; at least 2 such studies and
    none favouring more tracking -> ``contradicted``; otherwise ``mixed``."""
    rows = classified[classified["topic"].isin(MAP_TOPICS) & classified["equity"]
                      & classified["direction"].isin(["favours less tracking", "favours more tracking",
                                                      "no clear difference"])]
    n = _studies(rows)
    strong = rows[rows["strong"]]
    favour = strong[strong["favour"] > 0]
    against = strong[strong["favour"] < 0]
    f, a = _studies(favour), _studies(against)
    detail = (f"{n} studies with equity-relevant rows; of the RCT or quasi-experimental ones, {f} favour less tracking "
              f"({', '.join(sorted(set(favour['study']))) or 'none'}) and {a} favour more tracking "
              f"({', '.join(sorted(set(against['study']))) or 'none'})")
    if n < MIN_STUDIES_B4:
        return Verdict("not testable here", f"Too few studies to map ({detail}).")
    if f == 0:
        return Verdict("supported", f"No strong-design row shows less tracking enhancing equity: {detail}.")
    if f >= 2 and a == 0:
        return Verdict("contradicted", f"Strong-design studies show less tracking enhancing equity: {detail}.")
    return Verdict("mixed", f"Strong-design evidence points both ways or is thin: {detail}.")


def b5_from(classified: pd.DataFrame) -> Verdict:
    """Rule (one credible counterexample refutes a universal claim): a detracking row from an RCT
    or quasi-experiment that favours less tracking on an equity-relevant outcome, from a study that
    also reports its high achievers without a clear loss, is a credible counterexample ->
    ``contradicted``. Otherwise ``not testable here``: a curated table cannot show that no example
    exists, and the headline lists the candidates and what each lacks."""
    cands = counterexamples(classified)
    credible = cands[cands["credible"]]
    if len(credible):
        return Verdict("contradicted", f"{len(credible)} credible counterexample(s): "
                                       f"{', '.join(sorted(set(credible['study'])))}.")
    strong = cands[cands["strong"]]
    weak = cands[~cands["strong"]]
    return Verdict(
        "not testable here",
        f"{len(cands)} candidate row(s) from {cands['study'].nunique()} detracking case(s) favour less tracking on "
        f"equity; {len(strong)} from strong designs ({', '.join(sorted(set(strong['study']))) or 'none'}), none of "
        f"which reports its high achievers; {len(weak)} from weaker designs. No credible counterexample by the rule, "
        "and absence from this table is not absence of examples.",
    )


def b7_from(classified: pd.DataFrame) -> Verdict:
    """Rule, on distinct detracking studies (strongest design each): fewer than 5 ->
    ``not testable here``; share of RCT or quasi-experimental studies at most 0.2 -> ``supported``
    ("almost all" not designed for generalisable findings); at least 0.5 -> ``contradicted``;
    otherwise ``mixed``. Syntheses (meta-analysis, review) are counted but are not studies of
    schools: they are excluded from the share."""
    table = design_table(classified)
    primary = table[table["design"].isin(PRIMARY_DESIGNS)]
    total = int(primary["studies"].sum())
    strong = int(primary[primary["design"].isin(STRONG_DESIGNS)]["studies"].sum())
    syntheses = int(table[~table["design"].isin(PRIMARY_DESIGNS)]["studies"].sum())
    share = strong / total if total else float("nan")
    detail = f"{strong} of {total} primary detracking studies are RCTs or quasi-experiments; {syntheses} syntheses"
    if total < MIN_STUDIES_B7:
        return Verdict("not testable here", f"Too few detracking studies in the table: {detail}.")
    if share <= 0.2:
        return Verdict("supported", f"{detail} (share {share:.2f}).")
    if share >= 0.5:
        return Verdict("contradicted", f"{detail} (share {share:.2f}).")
    return Verdict("mixed", f"{detail} (share {share:.2f}).")


def c2_from(classified: pd.DataFrame) -> Verdict:
    """Rule: the academic part uses strong-design rows on tracking or detracking with an
    achievement outcome and a known direction: fewer than 2 distinct studies -> part not testable;
    all favouring less tracking -> part supported; all favouring more tracking (or no clear
    difference) -> part contradicted; both -> part mixed. The social-emotional part is testable only
    with social or emotional outcome rows. Overall: academic contradicted -> ``contradicted``;
    academic mixed -> ``mixed``; academic supported with the social-emotional part untested ->
    ``mixed``; academic not testable -> ``not testable here``."""
    rows = classified[classified["topic"].isin(MAP_TOPICS) & (classified["kind"] == "achievement")
                      & classified["strong"]
                      & classified["direction"].isin(["favours less tracking", "favours more tracking",
                                                      "no clear difference"])]
    favour = rows[rows["favour"] > 0]
    against = rows[rows["favour"] <= 0]
    f, a, n = _studies(favour), _studies(against), _studies(rows)
    se_rows = social_emotional_rows(classified)
    se_note = (f"{len(se_rows)} social-emotional row(s)" if len(se_rows)
               else "the social-emotional part is not testable here (no such rows)")
    detail = (f"of {n} strong-design studies with achievement rows, {f} favour less tracking and {a} favour more "
              f"tracking or find no clear difference; {se_note}")
    if n < 2:
        return Verdict("not testable here", f"Too few strong-design achievement studies: {detail}.")
    if f and a:
        return Verdict("mixed", f"Academic evidence points both ways: {detail}.")
    if a:
        return Verdict("contradicted", f"No strong-design study favours less tracking on achievement: {detail}.")
    return Verdict("mixed" if not len(se_rows) else "supported", f"Academic part supported: {detail}.")


_INCOME = re.compile(r"income|earning|wage|elasticit|mobility")
GAP_DESIGNS = ("RCT", "quasi-experimental", "meta-analysis")


def gap_evidence(classified: pd.DataFrame) -> pd.DataFrame:
    """Detracking rows that bear on an *achievement* gap, from an RCT, a quasi-experiment or a
    meta-analysis, each labelled ``narrows``, ``widens``, ``no clear change`` or ``low gain only``:

    - an equity outcome that is not about income (inequality, dispersion, a gap): ``narrows`` if
      it favours less tracking, ``widens`` if it favours more tracking, else ``no clear change``;
    - a gain (or loss) for a low-achieving or disadvantaged subgroup: ``narrows`` only when the
      study reports its higher achievers without a clear loss (a ``high`` row or the quote, as
      for B5), ``widens`` when the low group loses, else ``low gain only`` (half of a gap).
    """
    rows = classified[(classified["topic"] == "detracking") & classified["design"].isin(GAP_DESIGNS)
                      & ~classified["outcome"].map(lambda o: bool(_INCOME.search(_text(o))))
                      & classified["direction"].isin(["favours less tracking", "favours more tracking",
                                                      "no clear difference"])]
    out = []
    for _, row in rows.iterrows():
        if row["kind"] == "equity":
            label = {1: "narrows", -1: "widens"}.get(int(row["favour"]), "no clear change")
        elif row["band"] in ("low or disadvantaged",):
            high = classified[(classified["citation"] == row["citation"]) & (classified["band"] == "high")]
            no_loss = (len(high) and not (high["favour"] < 0).any()) or bool(_NO_LOSS.search(str(row["quote"])))
            if row["favour"] < 0:
                label = "widens"
            elif row["favour"] > 0:
                label = "narrows" if no_loss else "low gain only"
            else:
                label = "no clear change"
        else:
            continue
        out.append({"id": row["id"], "study": row["study"], "citation": row["citation"], "design": row["design"],
                    "outcome": row["outcome"], "subgroup": row["subgroup"], "estimate": float(row["estimate"]),
                    "unit": row["unit"], "uncertainty": row["uncertainty"], "label": label})
    return pd.DataFrame(out, columns=["id", "study", "citation", "design", "outcome", "subgroup", "estimate", "unit",
                                      "uncertainty", "label"])


def c3_from(classified: pd.DataFrame, implied: ImpliedGap | None) -> Verdict:
    """Rule, on :func:`gap_evidence` counted by distinct study: no study -> ``not testable here``;
    at least 2 studies that narrow the gap and none that widens it -> ``supported``; only studies
    that widen it or show no clear change -> ``contradicted``; otherwise (both, or a single
    narrowing study, or only low-group gains with the higher achievers unreported) -> ``mixed``:
    "studies have shown" asks for more than one study. The headline adds what Source A's
    inequality effect would imply for a gap if reversed."""
    evidence = gap_evidence(classified)
    narrows = evidence[evidence["label"] == "narrows"]
    against = evidence[evidence["label"].isin(["widens", "no clear change"])]
    partial = evidence[evidence["label"] == "low gain only"]
    n, f, a, p = _studies(evidence), _studies(narrows), _studies(against), _studies(partial)
    arithmetic = ""
    if implied is not None:
        arithmetic = (f"; reversing Source A's inequality effect ({implied.effect:.3f} SD) would shrink a "
                      f"{implied.gap:.2f} SD top-bottom SES-quartile gap (HSB) to {implied.gap_after:.2f} SD, "
                      f"{100 * implied.share:.0f}% of it")
    names = ", ".join(sorted(set(narrows["study"]))) or "none"
    detail = (f"{n} detracking studies (RCT, quasi-experimental or meta-analysis) bear on an achievement gap: "
              f"{f} narrow it ({names}), {a} widen it or show no clear change, {p} report low-group gains without "
              f"their higher achievers{arithmetic}")
    if n == 0:
        return Verdict("not testable here", f"No detracking study in the table measures an achievement gap{arithmetic}.")
    if f >= 2 and a == 0:
        return Verdict("supported", f"{detail}.")
    if f == 0 and p == 0:
        return Verdict("contradicted", f"{detail}.")
    return Verdict("mixed", f"{detail}.")


# ---- the registered verdicts (on the book's evidence table) -------------------------------------


@cache
def book_evidence() -> pd.DataFrame:
    """``data/evidence.csv`` through its validating loader, classified."""
    from .evidence import load_evidence

    return classify(load_evidence())


@cache
def book_implied_gap() -> ImpliedGap | None:
    """Source A's inequality effect (from the evidence table) against the HSB SES-quartile gap."""
    from .gaps import BOOT, SEED, hsb_ses_quartile_gap

    row = inequality_effect(book_evidence())
    if row is None:
        return None
    return implied_gap_change(float(row["estimate"]), hsb_ses_quartile_gap(BOOT, SEED), str(row["id"]))


@verdict_for("A1")
def a1_verdict() -> Verdict:
    """A1 (rule in :func:`a1_from`)."""
    return a1_from(book_evidence())


@verdict_for("B4")
def b4_verdict() -> Verdict:
    """B4 (rule in :func:`b4_from`)."""
    return b4_from(book_evidence())


@verdict_for("B5")
def b5_verdict() -> Verdict:
    """B5 (rule in :func:`b5_from`)."""
    return b5_from(book_evidence())


@verdict_for("B7")
def b7_verdict() -> Verdict:
    """B7 (rule in :func:`b7_from`)."""
    return b7_from(book_evidence())


@verdict_for("C2")
def c2_verdict() -> Verdict:
    """C2 (rule in :func:`c2_from`)."""
    return c2_from(book_evidence())


@verdict_for("C3")
def c3_verdict() -> Verdict:
    """C3 (rule in :func:`c3_from`)."""
    return c3_from(book_evidence(), book_implied_gap())
