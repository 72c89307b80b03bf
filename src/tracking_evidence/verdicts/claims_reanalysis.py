"""Rules for Source A's figures (A2, A3, A4), the spread of the literature (A5, B6) and B11.

A2-A4 check a secondary summary's figures against the primary source (the meta-analysis'
abstract, rows of ``data/evidence.csv``): a figure that matches is *supported*, one that differs
is *contradicted*, one the primary source does not contain is *not verified*.

A5 and B6 are claims about how estimates are distributed, judged on the weighed evidence: the
share of settings in which more tracking raises (or lowers) the outcome, from the pooled mean and
the between-study spread of the synthesis, :math:`P(\\theta_{new} > 0) = \\Phi(\\mu / \\tau)`,
evaluated at both ends of the interval for :math:`\\mu`.
"""

from __future__ import annotations

import math
from functools import cache

from scipy import stats

from ..analyses import synthesis
from ..data.claims import load_claims
from ..data.evidence import load_evidence
from ..analyses.reanalysis import FIGURE_ROWS, figure_in_text, figures_in
from .certainty import Downgrade, grade
from .common import WEIGHING, certainty_of, describe, effect_part, no_evidence_certainty, synthesis_certainty, weigh
from .core import Deciding, Part
from .registry import Judgement, rule


#: Which figures of a quote are calendar years (a reading of the text, not a threshold of judgement).
YEARS = (1900, 2100)



def _claim_quote(claim_id: str) -> str:
    claims = load_claims()
    return claims.loc[claims["id"] == claim_id, "quote"].iloc[0]


@cache
def _rows():
    return load_evidence().set_index("id")


def _verification_certainty():
    return grade("descriptive", "population measurement",
                 [Downgrade("indirectness", 1, "the abstract, not the full paper, was read")])


def figure_part(name: str, claimed: float, row_id: str | None, quote: str | None = None) -> Part:
    """A claimed figure against the primary source's: the row's estimate (or a figure in its quote)."""
    rows = _rows()
    if row_id is None or row_id not in rows.index:
        return Part(name, "not verified", f"{claimed:g} is not in any primary source read",
                    needs="the primary source's own figure (the paper's table)")
    row = rows.loc[row_id]
    published = float(row["estimate"])
    if math.isclose(published, claimed, rel_tol=0, abs_tol=1e-12) or (quote and figure_in_text(claimed, quote)):
        verdict = "supported"
    else:
        verdict = "contradicted"
    return Part(name, verdict, f"claimed {claimed:g}; the abstract ({row_id}) gives {published:g}",
                Deciding(name, published, unit=str(row["unit"]), threshold=claimed), _verification_certainty())


@rule("A2", params=(), admits=("supported", "contradicted"))
def a2(spec) -> Judgement:
    quote = _claim_quote("A2")
    figures = figures_in(quote, glued=True)
    source = _rows().loc[FIGURE_ROWS["n_analyses"], "quote"]
    counts = [f for f in figures if not YEARS[0] < f < YEARS[1]]
    parts = [figure_part("number of analyses", counts[0], FIGURE_ROWS["n_analyses"])]
    published = int(_rows().loc[FIGURE_ROWS["n_analyses"], "year"])
    for year in (f for f in figures if YEARS[0] < f < YEARS[1]):
        if figure_in_text(year, source):
            parts.append(Part(f"year {year:g}", "supported", f"{year:g} is in the abstract's sentence",
                              certainty=_verification_certainty()))
        elif year == published:
            # not a year of the period: the year the meta-analysis was published, as coded for the study
            parts.append(Part(f"year {year:g}", "supported", f"{year:g} is the study's year of publication as coded "
                              f"from its record ({FIGURE_ROWS['n_analyses']}; 'early' is not checked)",
                              certainty=_verification_certainty()))
        else:
            parts.append(Part(f"year {year:g}", "not verified", f"{year:g} is neither in the abstract's sentence nor "
                              "the study's year of publication", needs="the abstract's period"))
    parts.append(Part("'random-effects'", "not verified", "the abstract does not say which model was used",
                      needs="the paper's methods section"))
    return Judgement("A2", tuple(parts), f"53 and the period 2000-2021 match the abstract, which calls the 53 units "
                                         f"'analyses' of the selected publications, and {published} is the year of "
                                         "publication; 'random-effects' is not in it")


@rule("A3", params=(), admits=("supported", "contradicted"))
def a3(spec) -> Judgement:
    row = _rows().loc[FIGURE_ROWS["g_achievement"]]
    claimed = figures_in(_claim_quote("A3"))[0]
    parts = (figure_part(f"g = {claimed:g}", claimed, FIGURE_ROWS["g_achievement"]),
             Part("not significant", "supported" if row["direction"] == "no clear difference" else "contradicted",
                  f"the abstract's words: '{row['direction_words']}'", certainty=_verification_certainty()))
    # not significant at 5%: the 95% interval contains 0, so it reaches at least twice the estimate on
    # the estimate's side (|g| <= 1.96 SE); the other end is not known without the SE
    far_end = 2 * claimed
    return Judgement("A3", parts, f"g = {claimed:g} and 'not statistically significant' match the abstract; no "
                                  f"interval is published, but a non-significant g = {claimed:g} has a 95% interval "
                                  f"reaching at least {far_end:.3f}, so an effect of {far_end:.3f} SD is not ruled out")


@rule("A4", params=(), admits=("supported", "contradicted"))
def a4(spec) -> Judgement:
    row = _rows().loc[FIGURE_ROWS["g_inequality"]]
    significant = row["direction"] == "favours less tracking"
    claimed = figures_in(_claim_quote("A4"))[0]
    parts = (figure_part(f"g = {claimed:g}", claimed, FIGURE_ROWS["g_inequality"]),
             Part("statistically significant", "supported" if significant else "contradicted",
                  f"the abstract's words: '{row['direction_words']}'", certainty=_verification_certainty()),
             Part("p < 0.001", "not verified", "the abstract says only 'significantly positive'",
                  needs="the paper's standard error or p-value for the inequality estimate"))
    return Judgement("A4", parts, "g = .117 and 'significant' match the abstract; 'p < 0.001' appears only in the "
                                  "secondary summary and cannot be checked; g is an effect on inequality measures, "
                                  "not a shift of achievement")


def _tau(s: synthesis.Synthesis) -> float:
    return math.sqrt(max(s.sigma2_study + s.sigma2_within, 1e-12))


def share_positive(s: synthesis.Synthesis) -> tuple[float, float, float]:
    """P(effect in a new setting > 0) at the estimate and at both ends of its interval."""
    t = _tau(s)
    return tuple(float(stats.norm.cdf(m / t)) for m in (s.estimate, s.ci_low, s.ci_high))


def balance_part(name: str, s: synthesis.Synthesis, minority: float, spec: dict, what: str) -> Part:
    """'Balanced' / 'quite mixed': both sides of zero hold at least ``minority`` of settings."""
    if not s.decides or s.status != "pooled":
        return Part(name, "insufficient evidence", describe(s), certainty=certainty_of(s, 0.0, spec, what),
                    needs=what + ": two or more studies with uncertainty, or the synthesis' between-study SD")
    mid, lo, hi = share_positive(s)
    inside = lambda p: minority <= p <= 1 - minority  # noqa: E731
    because = (f"{describe(s)}; share of settings with a positive effect {mid:.0%} "
               f"({lo:.0%} to {hi:.0%} across the interval)")
    deciding = Deciding("share of settings with a positive effect", mid, lo, hi, "share", minority)
    certainty = synthesis_certainty(s, 0.0, spec)
    if inside(lo) and inside(hi):
        return Part(name, "supported", because, deciding, certainty)
    if (lo < minority and hi < minority) or (lo > 1 - minority and hi > 1 - minority):
        return Part(name, "contradicted", because, deciding, certainty)
    return Part(name, "insufficient evidence", because, deciding, certainty,
                needs=what + ": a pooled mean precise enough to place the share of settings")


def consensus_part(name: str, s: synthesis.Synthesis, share: float, spec: dict, what: str) -> Part:
    if not s.decides or s.status != "pooled":
        return Part(name, "insufficient evidence", describe(s, "SD of the inequality measure"),
                    certainty=certainty_of(s, 0.0, spec, what),
                    needs=what + ": two or more studies with uncertainty, or the synthesis' between-study SD")
    mid, lo, hi = share_positive(s)
    because = f"{describe(s, 'SD of the inequality measure')}; settings with more inequality {mid:.0%} ({lo:.0%} to {hi:.0%})"
    deciding = Deciding("share of settings where tracking raises inequality", mid, lo, hi, "share", share)
    certainty = synthesis_certainty(s, 0.0, spec)
    if lo >= share:
        return Part(name, "supported", because, deciding, certainty)
    if hi < share:
        return Part(name, "contradicted", because, deciding, certainty)
    return Part(name, "insufficient evidence", because, deciding, certainty,
                needs=what + ": a pooled mean precise enough to place the share of settings")




@rule("A5", params=WEIGHING + ("minority_share", "consensus_share", "inequality_construct", "tracking_contrast"))
def a5(spec) -> Judgement:
    achievement = weigh("mean", spec["tracking_contrast"], spec)
    inequality = weigh(spec["inequality_construct"], spec["tracking_contrast"], spec)
    parts = (balance_part("balanced on achievement", achievement, spec["minority_share"], spec,
                          "the spread of tracking's effects on achievement"),
             consensus_part("consensus on inequality", inequality, spec["consensus_share"], spec,
                            "the spread of tracking's effects on inequality"))
    return Judgement("A5", parts, "judged on how the estimates are spread across settings, not on one test: "
                                  f"achievement {parts[0].verdict}, inequality {parts[1].verdict}; Terrin and "
                                  "Triventi publish no between-study SD")


@rule("B6", params=WEIGHING + ("minority_share", "inequality_construct", "tracking_contrast"))
def b6(spec) -> Judgement:
    achievement = weigh("mean", spec["tracking_contrast"], spec)
    inequality = weigh(spec["inequality_construct"], spec["tracking_contrast"], spec)
    parts = (balance_part("mixed on achievement", achievement, spec["minority_share"], spec,
                          "the spread of tracking's effects on achievement"),
             balance_part("mixed on inequality", inequality, spec["minority_share"], spec,
                          "the spread of tracking's effects on inequality"))
    return Judgement("B6", parts, "'quite mixed' read as estimates spread on both sides of zero, weighed by "
                                  f"precision: achievement {parts[0].verdict}, inequality {parts[1].verdict}")


@rule("B11", params=WEIGHING + ("inequality_construct", "tracking_contrast"))
def b11(spec) -> Judgement:
    inequality = weigh(spec["inequality_construct"], spec["tracking_contrast"], spec)
    amplifies = effect_part("amplifies inequality", inequality, sign=1, sesoi=0.0, spec=spec,
                            label=f"effect of {spec['tracking_contrast']} on {spec['inequality_construct']}",
                            what="the effect of tracking on inequality", unit="SD of the inequality measure")
    access = Part("harder access for minority and low-income students", "insufficient evidence",
                  "the book's evidence on access (gifted identification under universal screening) concerns how "
                  "students are identified, not tracking itself", certainty=no_evidence_certainty(
                      "tracking's effect on minority and low-income students' access"),
                  needs="the effect of tracking versus none on minority and low-income students' enrolment in "
                        "advanced courses, with its uncertainty")
    return Judgement("B11", (amplifies, access),
                     f"on inequality measures (units: SD of the measure, not of achievement) the weighed evidence is "
                     f"{amplifies.verdict}; the access mechanism is not measured with uncertainty here")
