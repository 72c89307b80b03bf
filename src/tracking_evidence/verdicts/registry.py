"""Rules: one per claim, a function of computed numbers and of the declared parameters it names.

    @rule("B3", params=("sesoi", "ci_level", ...))
    def b3(spec) -> Judgement:
        ...

A rule receives a specification (parameter name -> value) and returns a :class:`Judgement`: the
claim's parts, each with its verdict, and a headline. :func:`judge` runs a rule at its defaults
(or with overrides); :func:`all_rules` imports every claim module of this package so that their
registrations run. ``admits`` names the verdicts a test must show the rule can reach; a claim
whose kind rules one out says why in ``why_not``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType

from .certainty import Certainty, Downgrade, lowest, not_applicable, with_extra
from .core import JUDGED, Deciding, Part, combine, coverage
from .parameters import param, spec_of

__all__ = ["Judgement", "Rule", "rule", "RULES", "all_rules", "judge"]


@dataclass(frozen=True)
class Judgement:
    claim_id: str
    parts: tuple[Part, ...]
    headline: str
    spec: dict = field(default_factory=dict, compare=False)
    #: a claim quantified over every member ("all students", "at all levels", "in any way"): judged only
    #: when every part that data could settle is judged (``min_coverage`` does not apply)
    universal: bool = False

    def __post_init__(self) -> None:
        if not self.parts:
            raise ValueError(f"{self.claim_id}: a judgement needs at least one part")
        if not self.headline.strip():
            raise ValueError(f"{self.claim_id}: a judgement needs a headline")

    @property
    def verdict(self) -> str:
        return self.verdict_at(self.spec.get("min_coverage", param("min_coverage").default))

    def verdict_at(self, min_coverage: float) -> str:
        return combine(self.parts, 1.0 if self.universal else min_coverage)

    def outcome_at(self, min_coverage: float) -> str:
        verdict = self.verdict_at(min_coverage)
        if verdict == "modelled":
            conclusions = [p.conclusion for p in self.parts if p.conclusion]
            return "; ".join(conclusions) if conclusions else "modelled"
        return verdict

    @property
    def outcome(self) -> str:
        """What the multiverse compares: the verdict, or a modelled claim's conclusion."""
        if self.verdict == "modelled":
            conclusions = [p.conclusion for p in self.parts if p.conclusion]
            return "; ".join(conclusions) if conclusions else "modelled"
        return self.verdict

    @property
    def coverage(self):
        return coverage(self.parts)

    @property
    def certainty(self) -> Certainty:
        """A grade for every verdict that rests on evidence (supported, contradicted, mixed and
        insufficient evidence alike); not applicable only for not testable, not verified and modelled."""
        judged = [p for p in self.parts if p.verdict in JUDGED]
        if self.verdict == "insufficient evidence":
            graded = lowest(p.certainty for p in self.parts if p.verdict == "insufficient evidence")
            return graded if graded is not None else Certainty("very low", "very low",
                                                               "no graded evidence bears on the claim")
        if not judged or self.verdict not in JUDGED:
            return not_applicable(f"the claim is {self.verdict}")
        refuting = [p for p in self.parts if p.refutes and p.verdict == "contradicted"]
        if refuting:  # a counterexample stands on its own study: its grade, not the untested parts', applies
            return lowest(p.certainty for p in refuting)
        base = lowest(p.certainty for p in judged)
        if base is None:
            return not_applicable("no graded evidence")
        cov = self.coverage
        if not cov.complete:
            untested = ", ".join(cov.untested)
            base = with_extra(base, Downgrade("indirectness", 1, f"{cov.judged} of {cov.total} parts judged; "
                                                                  f"not judged: {untested}"))
        return base

    @property
    def deciding(self) -> Deciding | None:
        for part in self.parts:
            if part.judged and part.deciding is not None:
                return part.deciding
        return next((p.deciding for p in self.parts if p.deciding is not None), None)


@dataclass(frozen=True)
class Rule:
    claim_id: str
    params: tuple[str, ...]
    function: Callable[[dict], Judgement]
    admits: tuple[str, ...]
    why_not: str = ""

    def judge(self, **overrides) -> Judgement:
        spec = spec_of(self.params, **overrides)
        result = self.function(spec)
        if not isinstance(result, Judgement):
            raise TypeError(f"the rule of {self.claim_id} returned {type(result).__name__}, not Judgement")
        if result.claim_id != self.claim_id:
            raise ValueError(f"the rule of {self.claim_id} returned a judgement of {result.claim_id}")
        return Judgement(result.claim_id, result.parts, result.headline, dict(spec), result.universal)


_RULES: dict[str, Rule] = {}
RULES = MappingProxyType(_RULES)


def rule(claim_id: str, params=(), admits=("supported", "contradicted"), why_not: str = ""):
    """Register the decorated function (spec -> Judgement) as the rule of ``claim_id``."""
    params = tuple(params)
    for name in params:
        param(name)  # every parameter a rule names is declared
    if set(admits) != {"supported", "contradicted"} and not why_not.strip():
        raise ValueError(f"{claim_id}: a rule that cannot reach both supported and contradicted must say why")

    def register(function: Callable[[dict], Judgement]):
        existing = _RULES.get(claim_id)
        if existing is not None and existing.function.__qualname__ != function.__qualname__:
            raise ValueError(f"claim {claim_id} already has a rule: {existing.function.__module__}")
        _RULES[claim_id] = Rule(claim_id, params, function, tuple(admits), why_not)
        return function

    return register


def all_rules() -> MappingProxyType:
    """Every registered rule, after importing the claim modules (``claims_*``) of this package."""
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("claims_"):
            importlib.import_module(f"{__package__}.{module.name}")
    return RULES


def judge(claim_id: str, **overrides) -> Judgement:
    rules = all_rules()
    if claim_id not in rules:
        raise KeyError(f"no rule for claim {claim_id}")
    return rules[claim_id].judge(**overrides)
