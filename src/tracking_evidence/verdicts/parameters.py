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

from ..analyses import acceleration, sections

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
    bound: str = ""  # why the range cannot go past the default on one side (a default at an end of its range)

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"parameter {self.name}: no values")
        if self.default not in self.values:
            raise ValueError(f"parameter {self.name}: default {self.default!r} is not among its values {self.values}")
        if len(set(map(repr, self.values))) != len(self.values):
            raise ValueError(f"parameter {self.name}: repeated values {self.values}")
        if not self.reason.strip():
            raise ValueError(f"parameter {self.name}: a reason is required")
        if self.at_an_end and not self.bound.strip():
            raise ValueError(f"parameter {self.name}: its default {self.default!r} is at an end of its range "
                             f"{self.values}: extend the range past it, or say why it cannot go further (bound=...)")

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)

    @property
    def at_an_end(self) -> bool:
        """A numeric default at the lowest or highest of its values (the range then reaches one side only)."""
        return self.numeric and len(self.values) > 1 and self.default in (min(self.values), max(self.values))

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


def declare(name: str, default, values, reason: str, cite: str = "", unit: str = "", bound: str = "") -> Param:
    """Declare a parameter (once: a second declaration of the same name is an error). A numeric
    default at an end of its range needs ``bound``: why the range cannot go further that way."""
    if name in _CATALOGUE:
        raise ValueError(f"parameter {name} is already declared")
    declared = Param(name, default, tuple(values), reason, cite, unit, bound)
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
declare("min_studies", 1, (1, 2, 3),
        "fewest independent studies with uncertainty an answer needs: one good study can decide, its certainty "
        "downgraded for imprecision (GRADE rates a single trial); 2 and 3 are the stricter alternatives",
        bound="one study is the least evidence there is: the range cannot be more permissive")
declare("inference", "CR2", ("CR2", "model", "Knapp-Hartung"),
        "CR2 cluster-robust SEs with Satterthwaite df do not trust the assumed dependence structure but need studies "
        "(below cr2_min_studies the model-based interval is used); the three-level model's own interval trusts it; "
        "Knapp-Hartung (a t interval on studies - 1 df) is the small-sample alternative",
        cite="pustejovsky2018small")
declare("unstated_significance", 0.1, (0.05, 0.1),
        "the level at which a statement of significance without its level ('significantly increased') is read: 0.1, "
        "the loosest level in use, as the protocol registered (amendment 2, item 2: the widest interval the words "
        "allow); 0.05, the commonest convention, is the declared alternative",
        bound="no convention calls a result 'significant' above the 10% level")
declare("significance_tested_at", "its own level", ("its own level", "the book's level"),
        "an estimate whose only uncertainty is a statement of significance is tested at the statement's own level "
        "(the looser of it and the book's): 'p < 0.1' excludes zero at 10% and is silent at 5%, so testing it at "
        "the book's 95% would let no such statement ever decide; its imprecision is still graded against the "
        "book's interval. Testing at the book's level is the stricter alternative (second referee, item 1)")
declare("cr2_min_studies", 6, (4, 6, 10),
        "fewest studies for a CR2 interval: its Satterthwaite df fall below about 4 with fewer, where its authors "
        "find it unreliable; 4 is the permissive end, 10 the strict one", cite="pustejovsky2018small")
declare("bounds_decide", True, (True, False),
        "whether an estimate whose only uncertainty is a statement of significance ('p < .05') may decide: its SE is "
        "the largest the statement allows, so the interval is the widest it permits; excluding such rows is the "
        "stricter alternative")
declare("settings", ("K-12",), (("K-12",), ("K-12", "higher education")),
        "the claims are about schools; university tutorial groups and dormitories are a declared alternative, "
        "not evidence by default")
declare("designs", ("RCT", "quasi-experimental"), (("RCT",), ("RCT", "quasi-experimental"),
                                                   ("RCT", "quasi-experimental", "descriptive")),
        "causal claims need designs with a counterfactual; randomised trials alone are the stricter alternative, "
        "admitting before/after and cross-sectional rows the looser one")
declare("evidence_base", "primary, else syntheses", ("primary, else syntheses", "primary studies", "syntheses"),
        "primary studies and meta-analyses are never pooled together (their estimates overlap); by default primary "
        "studies decide where enough of them carry uncertainty, else a synthesis' own pooled estimate; each base "
        "alone is the declared alternative")
declare("sesoi", 0.05, (0.02, 0.05, 0.10),
        "smallest effect on achievement (SD) worth acting on; 0.05 SD is the lower edge of a 'medium' effect "
        "of an education intervention in Kraft's benchmarks; 0.02 and 0.10 bracket it", cite="kraft2020interpreting",
        unit="SD")
declare("support_threshold", "sesoi", ("sesoi", "zero"),
        "what an interval must clear for a claimed effect to be supported: the smallest effect worth acting on (the "
        "book's design: a worthwhile effect) or zero (any effect in the claimed direction, the permissive alternative); "
        "a claim is contradicted when no worthwhile effect is compatible with the evidence, whichever is chosen")
declare("harm_threshold", "zero", ("zero", "sesoi"),
        "the harm a claim that something 'does not harm in any way' is refuted by, one threshold for every part of "
        "the claim: any harm an interval shows (zero) by the claim's own words; the smallest harm worth acting on "
        "(sesoi) is the permissive alternative")
declare("counterexample_designs", ("RCT", "quasi-experimental"),
        (("RCT",), ("RCT", "quasi-experimental"), ("RCT", "quasi-experimental", "descriptive")),
        "the designs a single study needs to refute a universal claim ('all students', 'no example', 'in any way'): "
        "randomised or quasi-experimental by default; randomised only is stricter, admitting before/after "
        "comparisons the permissive end")
declare("counterexample_max_rob", "some concerns", ("low", "some concerns", "high"),
        "the worst coded risk of bias a counterexample may carry: 'some concerns' by default (most coded studies are "
        "read from their abstracts); 'low' is stricter, 'high' admits every coded study")
declare("min_coverage", 0.5, (0.5, 2 / 3, 1.0),
        "a compound claim is judged only if its judged parts are at least this share of the parts data could settle; "
        "the one rule that combines parts, the same for every claim (tracking_evidence.verdicts.core.combine); a "
        "third is not in the range: one part of three cannot stand for the claim. Claims quantified over every "
        "member ('all students', 'at all levels', 'in any way') need every part judged, whatever this value",
        bound="below a half, fewer parts than not would stand for the claim (a referee struck a third)")


# ----------------------------------------------------------------------------------------------
# Gaps (B1, B2, C1, C7, C8, C18)
# ----------------------------------------------------------------------------------------------

declare("gap_substantial", 0.2, (0.1, 0.2, 0.3),
        "a 'substantial' gap: 0.2 SD is Cohen's 'small' and at the top of what education interventions achieve "
        "(Kraft's 'large'); 0.1 and 0.3 bracket it", cite="kraft2020interpreting", unit="SD")
declare("gap_meaningful", 0.1, (0.05, 0.1, 0.2),
        "smallest gap that counts as 'underperforming': below 0.1 SD a difference is smaller than a median "
        "intervention effect; 0.05 and 0.2 bracket it", cite="kraft2020interpreting", unit="SD")
declare("root_share", 0.5, (0.33, 0.5, 0.67),
        "if at school entry a gap is already this share of its later size, tracking (which begins later) cannot be "
        "its root; half, with a third and two thirds as the range")
declare("pilot_effect", 0.1, (0.05, 0.1, 0.2),
        "achievement effect (SD) a pilot of detracking should be able to detect: 0.1 SD is about the median effect "
        "of education RCTs (Kraft); 0.2 SD is Dee and Huffaker's effect for low achievers", cite="kraft2020interpreting",
        unit="SD")
declare("pilot_schools", 10, (4, 10, 20),
        "size of a pilot 'in a single grade or subject area' of one district: a handful of schools; 4 to 20")
declare("pilot_randomise", "schools", ("schools", "students"),
        "detracking is usually a school decision (schools randomised); randomising students within schools, as Dee "
        "and Huffaker did, is the alternative")
declare("pilot_students", 30, (20, 30, 60),
        "students per school in the pilot's grade or subject: about one class of 25-30; 20 and 60 (two classes) "
        "bracket it")
declare("pilot_pretest", "Exam", ("Exam", "egsingle", "none"),
        "share of variance a prior score explains, estimated in the shipped data (London age-16 exam; Chicago "
        "grades 2-5); 'none' is a pilot without a pretest")


# ----------------------------------------------------------------------------------------------
# Models (B9, B10, B18, C22)
# ----------------------------------------------------------------------------------------------

declare("equity_weight", 0.25, (0.0, 0.1, 0.25, 0.5, 1.0),
        "weight on the top-bottom gap in the model's objective: a value judgement, never estimated; the headlines of "
        "the normative claims state the weights at which the optimum changes rather than the verdict at one weight; "
        "0 (B9's own framing, mean achievement only) and 1 are the ends")
declare("calibration_end", "estimate", ("ci_low", "estimate", "ci_high"),
        "where in the interval of the weighed between-class effect the model's targeting gain is set")
declare("peer_effect_end", "estimate", ("ci_low", "estimate", "ci_high"),
        "where in the 95% interval of the causal peer effect (Abdulkadiroglu, Angrist & Pathak's 2SLS estimate at the "
        "Boston exam-school cutoff, E158) every band's peer slope is set: the estimate, about zero, or an end; at the "
        "upper end (0.24 SD per SD of peers) low achievers lose from losing able classmates, the channel by which "
        "tracking could widen gaps in the model")
declare("targeting_falloff", 0.5, (0.0, 0.5, 1.0),
        "how fast the marginal gain of tracking one more subject falls (the model's h): 0, every subject gains "
        "alike (the optimum is then none or all); 1, the last subject gains nothing; no study measures it, so the "
        "middle is the default and both ends are varied (second referee, item 6: at 1 a compromise is optimal)")
declare("section_cost", 0.5, (0.0, 0.5, 1.0),
        "achievement cost (SD) of doubling the sections with the same resources: no estimate exists; 0 to 1")
declare("private_gradient", 0.5, acceleration.DEFAULT_GRADIENTS,
        "how steeply private take-up of acceleration rises with family SES (gamma): an assumption, varied over "
        "the simulation's range")


# ----------------------------------------------------------------------------------------------
# What the syntheses show (A5, B6, B11)
# ----------------------------------------------------------------------------------------------

declare("consensus_share", 0.8, (0.7, 0.8, 0.9),
        "'consensus' that tracking raises inequality: at least this share of settings would see an increase; 0.7 to "
        "0.9")
declare("minority_share", 0.2, (0.1, 0.2, 0.3),
        "'balanced' or 'quite mixed': at least this share of settings on each side of zero; 0.1 to 0.3")
declare("inequality_construct", "inequality_pooled", ("inequality_pooled", "dispersion", "gradient", "gap"),
        "which inequality measure a claim about 'inequality' is judged on: by default the measure Source A reports, "
        "Terrin and Triventi's pooling of dispersion and family-background effects; each single measure is an "
        "alternative; the book never pools measures itself")
declare("tracking_contrast", "system tracking", ("system tracking", "course tracking"),
        "between-school (system) tracking, which the inequality literature studies most, or course tracking within "
        "schools")


# ----------------------------------------------------------------------------------------------
# Tracking's prevalence and the detracking evidence (A1, B4, B5, B7, C5)
# ----------------------------------------------------------------------------------------------

declare("many_countries", 5, (3, 5, 10),
        "'many countries': at least this many with tracking documented at or before secondary age; 3 to 10")
declare("a1_population_statement", True, (True, False),
        "whether a review's statement about the majority of OECD countries (E050/E051) decides A1: a statement about "
        "a population of systems says more than a count of the countries the book happened to collect (second "
        "referee, item 5); the count alone is the stricter alternative")
declare("secondary_age_max", 16, (15, 16, 18),
        "the last age of first selection that still counts as 'at the secondary school level' (upper secondary "
        "starts at 15 or 16)")
declare("almost_all", 0.8, (0.67, 0.8, 0.9),
        "'almost all': at least this share; two thirds to nine in ten")
declare("strong_certainty", "moderate", ("low", "moderate", "high"),
        "how certain evidence that detracking enhances equity must be to count as more than 'weak': GRADE's moderate "
        "('the true effect is likely close'); low is the permissive end, high the strict one")
declare("include_system_reforms", False, (False, True),
        "Source B's 'de-tracking' is US schools' removal of levels; system reforms that delayed selection abroad are a "
        "declared alternative")
declare("search_is_systematic", True, (True, False),
        "whether the book's documented search (a written protocol, every record screened with its reason, a PRISMA "
        "flow) counts as a systematic search for B4's claim about the evidence; its limits (stored pages: abstracts and "
        "table pages) downgrade the certainty; taking the table as a convenience collection is the alternative")
declare("subgroup_correlation", 0.0, (0.0, 0.3, 0.6),
        "correlation of a study's low- and high-achiever estimates when their difference gives a gap change; "
        "unpublished, so varied from 0 (separate samples) to 0.6",
        bound="estimates for different students are not negatively correlated: no mechanism makes them so")
declare("staffing_support", "common prep period", sections.SUPPORTS,
        "what detracking includes: the supports the evaluated reforms added (Sequoia Union's common prep period, "
        "Chicago's double dose) or none")
declare("b5_designs", ("RCT", "quasi-experimental"), (("RCT",), ("RCT", "quasi-experimental"),
                                                      ("RCT", "quasi-experimental", "descriptive")),
        "an 'example' of equitable outcomes after detracking needs a design that attributes them to the reform; "
        "randomised trials alone are the stricter alternative, before/after comparisons the looser one")


# ----------------------------------------------------------------------------------------------
# Peers and targeting (B8)
# ----------------------------------------------------------------------------------------------

declare("targeting_contrast", "within-class grouping", ("within-class grouping", "course tracking"),
        "instruction 'highly targeted to their abilities': grouping by level inside the class is the direct case; "
        "separate classes (course tracking) target too, and are the declared alternative")


# ----------------------------------------------------------------------------------------------
# Each parameter in words, for readers (verdict boxes and the board say "if the smallest effect worth
# acting on were 0.1 SD", never "sesoi = 0.1")
# ----------------------------------------------------------------------------------------------

LABELS = {
    "ci_level": "the confidence level of the intervals",
    "min_studies": "the fewest studies an answer needs",
    "inference": "how a pooled interval is built",
    "unstated_significance": "the level at which 'significant' without a level is read",
    "significance_tested_at": "the level at which a statement of significance is tested",
    "cr2_min_studies": "the fewest studies for cluster-robust (CR2) intervals",
    "bounds_decide": "whether a statement of significance alone may decide",
    "settings": "the settings admitted",
    "designs": "the designs admitted",
    "evidence_base": "which evidence decides (primary studies or syntheses)",
    "sesoi": "the smallest effect worth acting on",
    "support_threshold": "what an interval must clear to support a claimed effect",
    "harm_threshold": "the harm that refutes 'does not harm in any way'",
    "counterexample_designs": "the designs a counterexample needs",
    "counterexample_max_rob": "the worst risk of bias a counterexample may carry",
    "min_coverage": "the share of a claim's parts that must be judged",
    "gap_substantial": "the size of a 'substantial' gap",
    "gap_meaningful": "the smallest gap that counts as underperforming",
    "root_share": "the share of a later gap already there at entry",
    "pilot_effect": "the effect a pilot should detect",
    "pilot_schools": "the schools in a pilot",
    "pilot_randomise": "what a pilot randomises",
    "pilot_students": "the students per school in a pilot",
    "pilot_pretest": "the pretest a pilot adjusts for",
    "equity_weight": "the weight put on the gap between the top and the bottom",
    "calibration_end": "where the targeting gain is set in its interval",
    "section_cost": "the achievement cost of more sections",
    "peer_effect_end": "where the peer effect is set in its interval",
    "a1_population_statement": "whether the review's statement about most OECD countries decides",
    "targeting_falloff": "how fast the gain of tracking one more subject falls off",
    "private_gradient": "how steeply private acceleration rises with family income",
    "consensus_share": "the share of settings that makes a consensus",
    "minority_share": "the share of settings on each side that makes a literature mixed",
    "inequality_construct": "the inequality measure read",
    "tracking_contrast": "the kind of tracking read",
    "many_countries": "how many countries make 'many'",
    "secondary_age_max": "the oldest age of first selection that counts as secondary",
    "almost_all": "the share that makes 'almost all'",
    "strong_certainty": "the certainty that makes evidence strong",
    "include_system_reforms": "whether system reforms abroad count as detracking",
    "search_is_systematic": "whether the book's documented search counts as systematic",
    "subgroup_correlation": "the correlation of a study's low- and high-achiever estimates",
    "staffing_support": "the support detracking includes",
    "b5_designs": "the designs an example of equitable detracking needs",
    "targeting_contrast": "the kind of targeted instruction read",
    "i2_large": "the heterogeneity that counts as inconsistent",
    "min_studies_precise": "the fewest studies that are not imprecise",
    "fragile_below": "the share of specifications below which a verdict is fragile",
}


def label(name: str) -> str:
    """The parameter in words (its name where no words are written)."""
    return LABELS.get(name, name.replace("_", " "))


def value_words(value) -> str:
    """A parameter's value in words: yes or no, a list joined with 'and', a number as written."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return " and ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
