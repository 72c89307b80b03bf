"""One written rule for the certainty of a verdict, in the spirit of GRADE and the EEF Toolkit.

Start from the design of the evidence that decides the part (:data:`START`): for a causal
question, randomised and quasi-experimental evidence starts *high* and descriptive evidence
*low*; for a descriptive question (how large a gap is, how common a practice is) a direct
measurement of the population starts *high* and a convenience sample *low*. Then downgrade one
level for each serious concern (two for a very serious one), in five domains:

- **risk of bias**: the deciding estimates are mostly coded ``some concerns`` (one level) or
  ``high`` (two levels) in ``data/evidence.csv``;
- **inconsistency**: the prediction interval crosses the rule's decision threshold, or I² is
  above the declared ``i2_large``;
- **imprecision**: the confidence interval crosses the decision threshold, or the answer rests
  on fewer studies than ``min_studies_precise``;
- **indirectness**: setting, contrast, population or outcome differ from the claim's (each
  reason named), or some parts of a compound claim are not judged;
- **publication bias**: where it can be assessed (ten or more studies), a significant Egger test.

Four levels: high, moderate, low, very low. ``not applicable`` for modelled claims, claims not
testable here and figures not verified: no body of evidence is graded there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .parameters import declare

__all__ = ["LEVELS", "START", "Downgrade", "Certainty", "grade", "not_applicable", "lowest"]

LEVELS = ("high", "moderate", "low", "very low")
NOT_APPLICABLE = "not applicable"
START = {
    "causal": {"randomised or quasi-experimental": "high", "descriptive": "low", "synthesis of mixed designs": "low"},
    "descriptive": {"population measurement": "high", "sample": "moderate", "convenience sample": "low"},
}
DOMAINS = ("risk of bias", "inconsistency", "imprecision", "indirectness", "publication bias")

declare("i2_large", 0.75, (0.50, 0.75, 0.90),
        "I² above which heterogeneity is a serious inconsistency; 0.75 is 'considerable' in the Cochrane Handbook's "
        "overlapping bands (50-90% substantial, 75-100% considerable), as tabulated by Rücker et al.",
        cite="rucker2008undue")
declare("min_studies_precise", 5, (3, 5, 10),
        "fewer independent studies than this is downgraded for imprecision even when the interval is narrow: with few "
        "clusters the robust SE is itself uncertain and tests over-reject", cite="pustejovsky2018small")


@dataclass(frozen=True)
class Downgrade:
    domain: str
    levels: int
    reason: str

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise ValueError(f"unknown certainty domain '{self.domain}'; one of {DOMAINS}")
        if self.levels not in (1, 2):
            raise ValueError("a downgrade is one or two levels")


@dataclass(frozen=True)
class Certainty:
    level: str
    start: str = ""
    basis: str = ""
    downgrades: tuple[Downgrade, ...] = field(default_factory=tuple)

    @property
    def applicable(self) -> bool:
        return self.level != NOT_APPLICABLE

    @property
    def text(self) -> str:
        """'moderate: downgraded once for indirectness (university samples)' and the like."""
        if not self.applicable:
            return f"{NOT_APPLICABLE}: {self.basis}" if self.basis else NOT_APPLICABLE
        start = f"starts {self.start} ({self.basis})"
        if not self.downgrades:
            return f"{self.level}: {start}, no downgrade"
        times = {1: "once", 2: "twice"}
        pieces = [f"{times.get(d.levels, f'{d.levels} times')} for {d.domain} ({d.reason})" for d in self.downgrades]
        return f"{self.level}: {start}; downgraded " + "; ".join(pieces)


def grade(kind: str, basis: str, downgrades=()) -> Certainty:
    """Start at :data:`START` [``kind``][``basis``] and apply ``downgrades`` (at most four levels down)."""
    if kind not in START:
        raise ValueError(f"kind must be one of {tuple(START)}, got '{kind}'")
    if basis not in START[kind]:
        raise ValueError(f"basis for a {kind} question must be one of {tuple(START[kind])}, got '{basis}'")
    downgrades = tuple(downgrades)
    start = START[kind][basis]
    steps = sum(d.levels for d in downgrades)
    level = LEVELS[min(LEVELS.index(start) + steps, len(LEVELS) - 1)]
    return Certainty(level, start, basis, downgrades)


def not_applicable(basis: str) -> Certainty:
    return Certainty(NOT_APPLICABLE, basis=basis)


def lowest(certainties) -> Certainty | None:
    """The lowest applicable grade among ``certainties`` (GRADE: a body of evidence is as certain as its
    weakest critical outcome); None if none is applicable."""
    graded = [c for c in certainties if c is not None and c.applicable]
    if not graded:
        return None
    return max(graded, key=lambda c: LEVELS.index(c.level))


def with_extra(certainty: Certainty, downgrade: Downgrade) -> Certainty:
    """``certainty`` downgraded once more (e.g. for the parts of a compound claim not judged)."""
    steps = LEVELS.index(certainty.start) + sum(d.levels for d in certainty.downgrades) + downgrade.levels
    return Certainty(LEVELS[min(steps, len(LEVELS) - 1)], certainty.start, certainty.basis,
                     certainty.downgrades + (downgrade,))


def synthesis_downgrades(*, rob_levels, pi, ci, threshold: float, i2: float | None, n_studies: int,
                         i2_large: float, min_studies_precise: int, indirect=(), egger_p: float | None = None,
                         alpha: float = 0.10, single_synthesis: bool = False) -> list[Downgrade]:
    """The downgrades a pooled (or single) estimate earns against ``threshold``.

    ``rob_levels``: the coded risk of bias of the deciding rows; ``pi`` and ``ci``: (low, high)
    prediction and confidence intervals (pi may be None for a single study); ``indirect``: reasons
    of indirectness. ``egger_p``: p-value of Egger's test where ten or more studies allow it.
    ``single_synthesis``: the estimate is one meta-analysis's own pooled estimate (its studies are
    not in the book's table), which is imprecise for the book's purpose in another way than one study.
    """
    out = []
    rob = list(rob_levels)
    if rob:
        high = sum(r == "high" for r in rob) / len(rob)
        concerns = sum(r in ("high", "some concerns") for r in rob) / len(rob)
        if high > 0.5:
            out.append(Downgrade("risk of bias", 2, "most deciding estimates at high risk of bias"))
        elif concerns > 0.5:
            out.append(Downgrade("risk of bias", 1, "most deciding estimates with some concerns"))
    crosses = lambda lo, hi: lo < threshold < hi  # noqa: E731
    if pi is not None and crosses(*pi):
        out.append(Downgrade("inconsistency", 1, "prediction interval crosses the threshold"))
    elif i2 is not None and i2 > i2_large:
        out.append(Downgrade("inconsistency", 1, f"I² = {100 * i2:.0f}%"))
    if crosses(*ci):
        out.append(Downgrade("imprecision", 1, "confidence interval crosses the threshold"))
    elif single_synthesis:
        out.append(Downgrade("imprecision", 1, "one meta-analysis's pooled estimate, its studies not weighed here"))
    elif n_studies < min_studies_precise:
        out.append(Downgrade("imprecision", 1, f"{n_studies} {'study' if n_studies == 1 else 'studies'} only"))
    indirect = tuple(indirect)
    if indirect:  # one domain: serious for one reason, very serious for two or more
        out.append(Downgrade("indirectness", min(2, len(indirect)), "; ".join(indirect)))
    if egger_p is not None and egger_p < alpha:
        out.append(Downgrade("publication bias", 1, f"Egger's test p = {egger_p:.2f}"))
    return out
