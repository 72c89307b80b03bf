"""The vocabulary of judgement: verdicts, the parts of a claim, and how parts make a claim's verdict.

A claim is judged in parts (a compound claim has several: C1 names income, race and disability;
a simple claim has one). Each part gets one of :data:`VERDICTS` from its rule, with the estimate
that decided it (:class:`Deciding`) and a certainty grade. The claim's verdict is one function
of its parts, the same for every claim (:func:`combine`):

- the parts that were *judged* (supported, contradicted or mixed) decide the direction: all
  supported gives ``supported``, all contradicted gives ``contradicted``, anything else
  ``mixed``;
- but only when they cover enough of the claim: the judged parts must be at least
  ``min_coverage`` (a declared parameter, default one half) of the parts that data of the right
  kind could settle (parts *not testable here* are outside the book's reach and do not count;
  parts with *insufficient evidence* or *not verified* do). A claim quantified over every member
  ("all students gain", "at all levels", "in any way") needs every such part judged: "all students
  gain" judged on one band out of three is not supported (``Judgement.universal``);
- parts that were not judged do not move the direction; they narrow what the verdict covers, and
  the certainty grade says so (downgraded once for indirectness);
- a universal claim falls to one credible counterexample: a part marked ``refutes`` (a single
  study of a declared design and risk of bias whose interval lies wholly against the claim) makes
  the claim ``contradicted`` whatever the other parts say;
- when too few parts were judged, the claim takes the first of ``insufficient evidence``,
  ``not verified``, ``modelled``, ``not testable here`` that any part has (the most informative
  statement that can still be made).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "VERDICTS",
    "JUDGED",
    "UNJUDGED_ORDER",
    "Deciding",
    "Part",
    "combine",
]

VERDICTS = (
    "supported",
    "contradicted",
    "mixed",
    "insufficient evidence",
    "not verified",
    "not testable here",
    "modelled",
)
JUDGED = ("supported", "contradicted", "mixed")
#: Which non-judged outcome a claim takes when none of its parts was judged (first one present).
UNJUDGED_ORDER = ("insufficient evidence", "not verified", "modelled", "not testable here")


@dataclass(frozen=True)
class Deciding:
    """The number a part's verdict turned on, for the specification curve and the verdict box.

    ``estimate`` with its interval (``ci_low``, ``ci_high``; NaN where none), in ``unit``, and the
    ``threshold`` of the rule it was compared with (None where the rule has none).
    """

    label: str
    estimate: float
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    unit: str = ""
    threshold: float | None = None


@dataclass(frozen=True)
class Part:
    """One part of a claim: its verdict, the reason in one line of computed numbers, what decided it."""

    name: str
    verdict: str
    because: str
    deciding: Deciding | None = None
    certainty: object | None = None  # a tracking_evidence.verdicts.certainty.Certainty, or None
    needs: str = ""  # for an unjudged part: the number or data that would settle it
    conclusion: str = ""  # for a modelled part: the model's conclusion, which the multiverse tracks
    refutes: bool = False  # a credible counterexample to a universal claim: the claim is contradicted

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"part '{self.name}': verdict '{self.verdict}' is not one of {VERDICTS}")
        if not self.because.strip():
            raise ValueError(f"part '{self.name}' needs a reason")
        if self.verdict not in JUDGED and self.verdict != "modelled" and not self.needs.strip():
            raise ValueError(f"part '{self.name}' is '{self.verdict}': say what would settle it (needs=...)")

    @property
    def judged(self) -> bool:
        return self.verdict in JUDGED


MIN_COVERAGE = 0.5


def combine(parts: tuple[Part, ...] | list[Part], min_coverage: float = MIN_COVERAGE) -> str:
    """The claim's verdict from its parts' verdicts (the rule in the module docstring)."""
    if not parts:
        raise ValueError("a claim needs at least one part")
    if any(p.refutes and p.verdict == "contradicted" for p in parts):
        return "contradicted"  # one credible counterexample refutes a universal claim, whatever the other parts
    judged = [p.verdict for p in parts if p.judged]
    settleable = [p for p in parts if p.verdict not in ("not testable here", "modelled")]
    if judged and len(judged) >= min_coverage * len(settleable):
        kinds = set(judged)
        if kinds == {"supported"}:
            return "supported"
        if kinds == {"contradicted"}:
            return "contradicted"
        return "mixed"
    present = {p.verdict for p in parts if not p.judged}
    return next(v for v in UNJUDGED_ORDER if v in present)


@dataclass(frozen=True)
class Coverage:
    judged: int
    total: int
    untested: tuple[str, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        return self.judged == self.total


def coverage(parts) -> Coverage:
    judged = [p for p in parts if p.judged]
    return Coverage(len(judged), len(parts), tuple(p.name for p in parts if not p.judged))
