"""Every choice a verdict rule makes, declared once: default, the range a careful analyst could defend, why.

A rule never compares against a bare number: it reads its thresholds, eligibility choices and
assumed values from a specification (a mapping of parameter name to value) built from the
parameters it declares. The multiverse (:mod:`tracking_evidence.verdicts.multiverse`) varies each
declared parameter over its ``values``; the ledger shows how many of those specifications keep
each verdict. The appendix page on judgement prints this catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["Param", "PARAMETERS", "declare", "param", "spec_of"]


@dataclass(frozen=True)
class Param:
    """A declared choice: ``default``, the ``values`` the multiverse explores (the default among
    them), a one-line ``reason``, and the BibTeX key(s) of what the reason cites (``cite``)."""

    name: str
    default: object
    values: tuple
    reason: str
    cite: str = ""
    unit: str = ""

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"parameter {self.name}: no values")
        if self.default not in self.values:
            raise ValueError(f"parameter {self.name}: default {self.default!r} is not among its values {self.values}")
        if len(set(map(repr, self.values))) != len(self.values):
            raise ValueError(f"parameter {self.name}: repeated values {self.values}")
        if not self.reason.strip():
            raise ValueError(f"parameter {self.name}: a reason is required")

    @property
    def range_text(self) -> str:
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)
        if numeric and len(self.values) > 2:
            return f"{min(self.values):g} to {max(self.values):g}"
        return ", ".join(_show(v) for v in self.values)


def _show(value) -> str:
    if isinstance(value, tuple):
        return " + ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


_CATALOGUE: dict[str, Param] = {}
PARAMETERS = MappingProxyType(_CATALOGUE)


def declare(name: str, default, values, reason: str, cite: str = "", unit: str = "") -> Param:
    """Declare a parameter (once: a second declaration of the same name is an error)."""
    if name in _CATALOGUE:
        raise ValueError(f"parameter {name} is already declared")
    declared = Param(name, default, tuple(values), reason, cite, unit)
    _CATALOGUE[name] = declared
    return declared


def param(name: str) -> Param:
    try:
        return _CATALOGUE[name]
    except KeyError:
        raise KeyError(f"no parameter named {name!r} is declared") from None


def spec_of(names, **overrides) -> dict:
    """The default specification of the parameters ``names``, with ``overrides`` (checked)."""
    names = tuple(names)
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise KeyError(f"overrides for parameters this rule does not declare: {unknown}")
    spec = {name: param(name).default for name in names}
    for name, value in overrides.items():
        if value not in param(name).values:
            raise ValueError(f"{name}={value!r} is outside its declared values {param(name).values}")
        spec[name] = value
    return spec


# ----------------------------------------------------------------------------------------------
# Shared choices (used by several rules)
# ----------------------------------------------------------------------------------------------

declare("ci_level", 0.95, (0.90, 0.95, 0.99),
        "confidence level of every interval a rule compares with a threshold; 0.95 is the field's convention, "
        "0.90 and 0.99 bracket it")
declare("min_studies", 2, (2, 3, 4),
        "fewest independent studies (with published uncertainty) a pooled answer needs; fewer is 'insufficient "
        "evidence' (issue 14); 3 and 4 are stricter")
declare("inference", "CR2", ("CR2", "model"),
        "CR2 cluster-robust SEs with Satterthwaite df do not trust the assumed dependence structure; the "
        "model-based SEs of the three-level model do, and are tighter with few studies",
        cite="pustejovsky2018small")
declare("settings", ("K-12",), (("K-12",), ("K-12", "higher education")),
        "the claims are about schools; university tutorial groups and dormitories are a declared alternative, "
        "not evidence by default")
declare("designs", ("RCT", "quasi-experimental"), (("RCT", "quasi-experimental"),
                                                   ("RCT", "quasi-experimental", "descriptive")),
        "causal claims need designs with a counterfactual; admitting before/after and cross-sectional rows is the "
        "declared alternative")
declare("evidence_base", "primary, else syntheses", ("primary, else syntheses", "primary studies", "syntheses"),
        "primary studies and meta-analyses are never pooled together (their estimates overlap); by default primary "
        "studies decide where enough of them carry uncertainty, else a synthesis' own pooled estimate; each base "
        "alone is the declared alternative")
declare("sesoi", 0.05, (0.02, 0.05, 0.10),
        "smallest effect on achievement (SD) worth acting on; 0.05 SD is the lower edge of a 'medium' effect "
        "of an education intervention in Kraft's benchmarks; 0.02 and 0.10 bracket it", cite="kraft2020interpreting",
        unit="SD")
declare("min_coverage", 0.5, (0.5, 2 / 3, 1.0),
        "a compound claim is judged only if its judged parts are at least this share of the parts data could settle; "
        "the one rule that combines parts, the same for every claim (tracking_evidence.verdicts.core.combine); a "
        "third is not in the range: one part of three cannot stand for the claim. Claims quantified over every "
        "member ('all students', 'at all levels', 'in any way') need every part judged, whatever this value")
