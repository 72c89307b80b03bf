"""Part rules shared by several claims: one written form for each kind of judgement.

- :func:`effect_part`: a claimed effect ("X improves Y") judged on a weighed synthesis:
  *supported* when the interval lies above zero in the claimed direction; *contradicted* when it
  lies below the smallest effect of interest (``sesoi``: the effect, if any, is too small to
  matter or goes the other way); *mixed* when it is credibly positive but credibly below the
  smallest effect of interest; otherwise *insufficient evidence*, with the standard error that
  would settle it.
- :func:`no_harm_part`: a universal "does not harm" claim: *contradicted* when the interval shows
  harm (lies beyond zero on the harmful side); *supported* when it rules out harm as large as the
  smallest effect of interest; otherwise *insufficient evidence*.
- :func:`size_part`: a descriptive claim that a quantity exceeds a threshold ("a substantial
  gap"): *supported* when the interval lies above it, *contradicted* when it lies below, else
  *insufficient evidence*.

Certainty for a synthesis follows :mod:`.certainty`.
"""

from __future__ import annotations

import math

from functools import cache

from ..analyses import gaps, synthesis
from ..analyses.synthesis import Synthesis
from .certainty import grade, synthesis_downgrades
from .core import Deciding, Part
from .parameters import param

__all__ = ["effect_part", "no_harm_part", "size_part", "synthesis_certainty", "describe", "fmt", "WEIGHING", "weigh",
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


def _insufficient(name: str, s: Synthesis, label: str, sign: int, threshold: float, unit: str, what: str) -> Part:
    if s.status == "no study":
        needs = f"{what}: two or more studies with published uncertainty (none is coded yet)"
    else:
        needs = (f"{what}: a pooled SE of at most {fmt(s.se_needed(threshold), 3)} (now {fmt(s.se, 3)}), "
                 f"or at least {max(2, s.n_studies + 1)} studies with published uncertainty")
    return Part(name, "insufficient evidence", describe(s, unit),
                _deciding(s, label, sign, threshold, unit) if s.status != "no study" else None, needs=needs)


def effect_part(name: str, s: Synthesis, *, sign: int, sesoi: float, spec: dict, label: str, what: str,
                unit: str = "SD", indirect=()) -> Part:
    """A claimed effect in direction ``sign`` (+1: the synthesis' reported direction)."""
    if not s.decides:
        return _insufficient(name, s, label, sign, 0.0, unit, what)
    est, lo, hi = _in_direction(s, sign)
    if lo > 0 and hi < sesoi:
        verdict, threshold = "mixed", sesoi
    elif lo > 0:
        verdict, threshold = "supported", 0.0
    elif hi < sesoi:
        verdict, threshold = "contradicted", sesoi
    else:
        return _insufficient(name, s, label, sign, 0.0, unit, what)
    return Part(name, verdict, describe(s, unit), _deciding(s, label, sign, threshold, unit),
                synthesis_certainty(s, threshold * sign, spec, indirect))


def no_harm_part(name: str, s: Synthesis, *, harm_sign: int, sesoi: float, spec: dict, label: str, what: str,
                 unit: str = "SD", indirect=()) -> Part:
    """'Does not harm': harm is an effect in direction ``harm_sign`` of the synthesis' estimate."""
    if not s.decides:
        return _insufficient(name, s, label, harm_sign, 0.0, unit, what)
    est, lo, hi = _in_direction(s, harm_sign)
    if lo > 0:
        verdict, threshold = "contradicted", 0.0
    elif hi < sesoi:
        verdict, threshold = "supported", sesoi
    else:
        return _insufficient(name, s, label, harm_sign, sesoi, unit, what)
    return Part(name, verdict, describe(s, unit), _deciding(s, label, harm_sign, threshold, unit),
                synthesis_certainty(s, threshold * harm_sign, spec, indirect))


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
                           bounds_decide=spec["bounds_decide"])


WEIGHING = ("settings", "designs", "evidence_base", "inference", "ci_level", "min_studies", "cr2_min_studies",
            "bounds_decide")


#: The last school grade of the Chicago data used: grade 6 holds 9 scores and is excluded by
#: gaps.egsingle_gaps (a fact about the data, not a threshold of judgement).
LAST_GRADE = 5


@cache
def egsingle_gaps() -> object:
    table = gaps.egsingle_gaps()
    return table[table["school_grade"] <= LAST_GRADE]



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
