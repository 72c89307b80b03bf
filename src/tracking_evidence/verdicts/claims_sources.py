"""Rules for the claims the sentence map added (B12-B18, C8-C22): how widely views are held, what
advocates do, how persistent gaps are, what detracking does for access and teachers, and the
normative sentences. Many are not testable with what this book has: the rule says so and names
the data that would settle it, so that the claim is listed, quoted and explained."""

from __future__ import annotations

from functools import cache

from statsmodels.stats.proportion import proportion_confint

from ..analyses import models
from ..data.evidence import load_evidence
from .certainty import Downgrade, grade, not_applicable
from .common import WEIGHING, effect_part, egsingle_gaps, fmt, pilot_numbers, weigh
from .core import Deciding, Part
from .registry import Judgement, judge, rule

def _untestable(claim_id: str, name: str, because: str, needs: str, headline: str | None = None) -> Judgement:
    part = Part(name, "not testable here", because, needs=needs)
    return Judgement(claim_id, (part,), headline or f"not testable here: {because}; would settle it: {needs}")


NOT_TESTABLE = "the claim is about beliefs, motives or practices that no data the book holds measures"


@rule("B12", admits=("not testable here",),
      why_not="what K-12 educators believe is measured by no coded survey; teachers' reported practice (NAEP: "
              "grouping by ability within classes) carries no uncertainty and is not a belief, so it is shown, "
              "never decides")
def b12(spec) -> Judgement:
    """What bears on it is shown: NAEP's reports of grade-4 teachers' grouping by ability (rows E122-E124),
    a practice within classes, without uncertainty; no survey of beliefs is coded."""
    rows = load_evidence().set_index("id")
    shown = (f"shown, not deciding: NAEP reports {rows.loc['E122', 'estimate']:.0f}% of fourth-grade teachers grouping "
             f"by ability in reading in 2009 (up from {rows.loc['E123', 'estimate']:.0f}% in 1998) and "
             f"{rows.loc['E124', 'estimate']:.0f}% in math (E122-E124): a practice within classes, printed without "
             "uncertainty, not a belief about tracking")
    part = Part("an article of faith in K-12 circles", "not testable here",
                "a belief is measured only by asking: no coded survey asks K-12 educators whether tracking causes "
                f"race-linked disparities; {shown}",
                needs="a representative survey of K-12 teachers and administrators on that question")
    return Judgement("B12", (part,), part.because)


@rule("B13", admits=("insufficient evidence",),
      why_not="the one survey of education professors the book can read (Public Agenda 1997) asks nothing about "
              "grouping: it bears on their views in general, neither for nor against this one")
def b13(spec) -> Judgement:
    row = load_evidence().set_index("id").loc["E127"]
    certainty = grade("descriptive", "sample", [Downgrade("indirectness", 2, "views of learning in general, not of "
                                                                            "tracking; 1997, not 'recent years'")])
    part = Part("the view's dominance in schools of education", "insufficient evidence",
                f"Public Agenda's survey of education professors (E127): {row['estimate']:.0f}% find the public's approach "
                "to learning outmoded, but no question asks about grouping or detracking", certainty=certainty,
                needs="a survey of education faculty, repeated over time, on tracking and detracking")
    return Judgement("B13", (part,), part.because)


@rule("B14")
def b14(spec) -> Judgement:
    """Advocates misrepresent the literature: judged on the one advocacy text the book holds
    (Source C): its statements about what studies show (C3, C11) against the weighed evidence.
    A statement the evidence supports is represented fairly (contradicts B14); one the evidence
    contradicts is misrepresented (supports B14). A statement the coded evidence cannot settle is
    neither: the studies Source C relies on may simply not be in the table, so a gap in the book's
    evidence is not counted as the author's misrepresentation."""
    parts = []
    certainty = grade("descriptive", "convenience sample", [Downgrade("indirectness", 1, "one advocacy text")])
    for cid in ("C3", "C11"):
        verdict = judge(cid).verdict
        if verdict == "supported":
            parts.append(Part(f"{cid}: what studies show", "contradicted",
                              f"the weighed evidence supports {cid}", certainty=certainty))
        elif verdict == "contradicted":
            parts.append(Part(f"{cid}: what studies show", "supported",
                              f"{cid} says studies have shown it; the weighed evidence contradicts it",
                              certainty=certainty))
        else:
            parts.append(Part(f"{cid}: what studies show", "insufficient evidence",
                              f"{cid} is {verdict}: the coded evidence neither bears it out nor refutes it",
                              certainty=judge(cid).certainty if judge(cid).certainty.applicable else certainty,
                              needs=f"the studies {cid} relies on, coded with their uncertainty: fair if they show "
                                    "what it says, misrepresented if they show otherwise"))
    return Judgement("B14", tuple(parts), "Source C's statements of what studies have shown, against the weighed "
                                          "evidence: " + "; ".join(f"{p.name} {p.verdict}" for p in parts))


@rule("B15", admits=("insufficient evidence", "contradicted", "not testable here"),
      why_not="'this fact is disregarded' presupposes B8; if B8 is not established there is no fact to disregard, "
              "and whether advocates disregard it is a question about texts no data here measures")
def b15(spec) -> Judgement:
    b8_judgement = judge("B8")
    b8 = b8_judgement.verdict
    if b8 == "supported":
        part = Part("advocates disregard the fact", "not testable here", "B8 is supported; whether advocates "
                    "disregard it needs a content analysis of advocacy texts",
                    needs="a content analysis of detracking advocacy texts")
    elif b8 == "contradicted":
        part = Part("the presupposed fact", "contradicted", "B8 (all students benefit from targeted instruction) is "
                    "contradicted", certainty=b8_judgement.certainty)  # no more certain than B8 itself
    else:
        part = Part("the presupposed fact", "insufficient evidence", f"B8 is {b8}: the 'fact' is not established",
                    certainty=b8_judgement.certainty if b8_judgement.certainty.applicable else None,
                    needs="the evidence that would settle B8")
    return Judgement("B15", (part,), part.because)


#: Source C's one sentence on equity, read by the author (a reading of the text in hand, not a code a
#: program derives): its concern is the education system, not students' lives outside it.
SOURCE_C_EQUITY = ("Closing the gap is vital for creating an equitable education system that meets the needs of all "
                   "students, regardless of socioeconomic status or race.")


@rule("B16", admits=("insufficient evidence",),
      why_not="a claim about advocates in general, and the book holds one advocacy text (Source C): it is consistent "
              "with the claim, but one blog post is no sample of advocates; a sample of advocacy texts would settle it "
              "either way")
def b16(spec) -> Judgement:
    """Read on the one detracking advocacy text the book holds (Source C): does it speak of equity beyond
    the classroom? One text can illustrate the claim, not establish it of advocates in general."""
    from ..data.claims import source_text

    text = source_text("C")
    if SOURCE_C_EQUITY not in text:
        raise ValueError("Source C's sentence on equity is no longer in data/sources: re-read the text")
    certainty = grade("descriptive", "convenience sample", [Downgrade("indirectness", 1, "one advocacy text")])
    part = Part("advocates' concern with equity outside the classroom", "insufficient evidence",
                f"the one advocacy text in hand (Source C) speaks of equity once, for the education system: '"
                f"{SOURCE_C_EQUITY}'; nothing in it concerns students' opportunities outside school. Consistent with "
                "the claim, but one text is no sample of advocates", certainty=certainty,
                needs="a sample of detracking advocacy texts, read for what they say about equity outside school")
    return Judgement("B16", (part,), "Source C, the one advocacy text in hand, speaks of equity inside the education "
                                     "system only: consistent with the claim, but one blog post is no sample of "
                                     "advocates")


#: The rows that link schooling to later life, chosen by reading them (not by a program reading their words):
#: years of schooling and wages after a higher track, wages after comprehensive reforms; Meghir & Palme's
#: Swedish reform (E312-E319, added by the further search, with their SEs).
B17_ROWS = ("E057", "E058", "E059", "E060", "E119", "E177", "E182",
            "E312", "E313", "E314", "E315", "E316", "E317", "E318", "E319")


@rule("B17", admits=("not testable here",),
      why_not="B17 is about education in general; the coded rows are effects of tracking placements and reforms "
              "(the search was for tracking), and the one with uncertainty, Sweden's comprehensive reform, bundled "
              "more compulsory schooling with the end of selection, so none isolates what education itself opens")
def b17(spec) -> Judgement:
    """Shown, never deciding: what the coded rows say about schooling and later life (second referee, item 9:
    the further search added rows with SEs, which bear on a reform, not on education as such)."""
    rows = load_evidence().set_index("id")
    later = rows.loc[list(B17_ROWS)]
    with_se = later[later["se"].notna()]
    meghir = rows.loc[["E312", "E318"]]
    shown = (f"shown, not deciding: {len(later)} coded rows link schooling to later life "
             f"({len(with_se)} with their SEs); the closest, Meghir & Palme's Swedish reform, added "
             f"{fmt(meghir.loc['E312', 'estimate'])} years of schooling (SE {fmt(meghir.loc['E312', 'se'], 3)}) and "
             f"{fmt(meghir.loc['E318', 'estimate'], 1)}% to the earnings of children of unskilled fathers (SE "
             f"{fmt(meghir.loc['E318', 'se'], 2)}), effects of a reform that ended selection and lengthened "
             "compulsory school at once")
    part = Part("education opens doors outside the classroom", "not testable here",
                f"a claim about education in general, which the book's search (for tracking) did not cover; {shown}",
                needs="estimates of the earnings and opportunity returns to schooling itself, with their uncertainty "
                      "(the returns-to-schooling literature, not coded here)")
    return Judgement("B17", (part,), f"{part.because}; this says nothing against a well-studied finding")


@cache
def _model_gap_only(calibration_end: str, peer_effect_end: str, section_cost: float, h: float) -> dict:
    """Mean gain at the optimum of mean achievement, and at the optimum of the disparity alone."""
    import numpy as np

    p = models.params_at(calibration_end, peer_effect_end, section_cost, 0.0, h)
    grid = np.linspace(0, 1, 201)
    g = models.gains(p, grid)
    mean = sum(getattr(p, f"p_{b}") * g[b] for b in models.BANDS)
    gap = g["top"] - g["bottom"]
    s_mean = float(grid[int(np.argmax(mean))])
    s_gap = float(grid[int(np.argmin(gap))])
    return {"s_mean": s_mean, "s_gap": s_gap, "loss": float(mean.max() - mean[int(np.argmin(gap))])}


@rule("B18", params=("calibration_end", "peer_effect_end", "section_cost", "targeting_falloff"), admits=("modelled",),
      why_not="B18 is normative: the model shows what judging success by disparities alone costs the mean student")
def b18(spec) -> Judgement:
    n = _model_gap_only(spec["calibration_end"], spec["peer_effect_end"], spec["section_cost"], spec["targeting_falloff"])
    conflict = n["loss"] > 0
    conclusion = "judging by disparities alone lowers the mean gain" if conflict else "no conflict in the model"
    because = (f"the model's best share of tracked instruction for the mean is {n['s_mean']:.2f}, for the top-bottom "
               f"gap alone {n['s_gap']:.2f}; choosing by the gap costs {n['loss']:.3f} SD of mean gain")
    part = Part("success judged by within-class disparities alone", "modelled", because,
                Deciding("mean gain given up", n["loss"], unit="SD", threshold=0.0),
                not_applicable("a model of value choices"), conclusion=conclusion)
    return Judgement("B18", (part,), f"{conclusion}: {because} (peer effect at its "
                                     f"{spec['peer_effect_end'].replace('_', ' ')}; an assumption-driven result: with a "
                                     "peer effect near zero the model has no channel by which tracking widens the gap)")


@cache
def _naep_ltt_gap() -> dict:
    rows = load_evidence().set_index("id")
    black, white = rows.loc["E135"], rows.loc["E136"]
    gap = float(white["estimate"] - black["estimate"])
    se = float((white["se"] ** 2 + black["se"] ** 2) ** 0.5)
    return {"gap": gap, "se": se, "rows": ("E135", "E136")}


@rule("C8", params=("gap_meaningful", "ci_level"))
def c8(spec) -> Judgement:
    from scipy import stats

    z = stats.norm.ppf(0.5 + spec["ci_level"] / 2)
    eg = egsingle_gaps()
    late = eg[eg["school_grade"] == eg["school_grade"].max()]
    worst = late.loc[late["boot_ci_low"].idxmin()]
    cohort = Part("the gap persists through the grades (Chicago, grades 1-5)",
                  "supported" if worst["boot_ci_low"] > spec["gap_meaningful"] else
                  "contradicted" if worst["boot_ci_high"] < spec["gap_meaningful"] else "insufficient evidence",
                  f"grade-5 gaps {fmt(late['d'].min())} to {fmt(late['d'].max())} SD (lowest interval from "
                  f"{fmt(worst['boot_ci_low'])})",
                  Deciding("smallest grade-5 gap", float(worst["d"]), float(worst["boot_ci_low"]),
                           float(worst["boot_ci_high"]), "SD", spec["gap_meaningful"]),
                  grade("descriptive", "convenience sample", [Downgrade("indirectness", 1, "one city, one cohort")]),
                  needs="gaps precise enough to place against the threshold")
    n = _naep_ltt_gap()
    lo, hi = n["gap"] - z * n["se"], n["gap"] + z * n["se"]
    decades = Part("the gap persists over decades (NAEP long-term trend, age 9 reading)",
                   "supported" if lo > 0 else "contradicted" if hi < 0 else "insufficient evidence",
                   f"White-Black gap {n['gap']:.0f} points in 2012 (interval {lo:.0f} to {hi:.0f}; rows "
                   f"{', '.join(n['rows'])}), four decades after 1971; smaller than it was, not gone",
                   Deciding("White-Black gap in 2012 (NAEP points)", n["gap"], lo, hi, "points", 0.0),
                   grade("descriptive", "population measurement", [Downgrade("indirectness", 1, "one age and subject")]),
                   needs="a gap measured precisely enough to exclude zero")
    return Judgement("C8", (cohort, decades), "gaps that are still there four decades on (NAEP) and through the "
                                              "early grades (Chicago): persistent, though the NAEP gap has narrowed")


@rule("C9", admits=("supported",),
      why_not="an existence claim about calls for action: a text that makes one supports it; no text can show that "
              "nobody called for action")
def c9(spec) -> Judgement:
    part = Part("the gap prompted calls for action", "supported",
                "both advocacy texts in hand respond to the gap with a call: Source C proposes detracking to close it, "
                "Source B reports detracking's supporters and argues against them", certainty=grade(
                    "descriptive", "convenience sample", [Downgrade("indirectness", 1, "two texts, not the policy record")]))
    return Judgement("C9", (part,), part.because)


@rule("C10", admits=("supported",),
      why_not="an existence claim about a proposal: a document that proposes it supports it; no document can show "
              "that nobody proposed it")
def c10(spec) -> Judgement:
    part = Part("detracking is a proposed solution", "supported",
                "Source B, written against detracking, reports what 'supporters of de-tracking argue' (B3, B11): an "
                "independent text documents the proposal", certainty=grade("descriptive", "sample"))
    return Judgement("C10", (part,), part.because)


@cache
def _judged(claim_id: str, spec: tuple) -> Judgement:
    """Another claim's judgement at a specification (cached: C11 asks for the same ones under many of its own)."""
    return judge(claim_id, **dict(spec))


@rule("C11", params=WEIGHING + ("sesoi", "subgroup_correlation"))
def c11(spec) -> Judgement:
    sub = tuple((k, spec[k]) for k in WEIGHING + ("sesoi",))
    parts = list(_judged("C2", sub).parts)
    parts += [p for p in _judged("C6", sub).parts if p.name == "low achievers"]
    parts += list(_judged("C3", sub + (("subgroup_correlation", spec["subgroup_correlation"]),)).parts)
    return Judgement("C11", tuple(parts), "'shown to have several benefits': each benefit judged on the weighed "
                                          "evidence: " + "; ".join(f"{p.name} {p.verdict}" for p in parts))


@rule("C12", params=WEIGHING)
def c12(spec) -> Judgement:
    part = effect_part("access to courses widens for students once held back", weigh("detrack_attainment",
                       "detracking reform", spec), sign=1, sesoi=0.0, spec=spec,
                       label="effect of detracking on course-taking (proportion)", unit="proportion",
                       what="detracking and course-taking of previously lower-placed students")
    return Judgement("C12", (part,), f"course-taking after detracking: {part.verdict} ({part.because}; the "
                                     "estimates of the one study differ in sign by group and outcome)")


@rule("C13", admits=("not testable here",), why_not=NOT_TESTABLE)
def c13(spec) -> Judgement:
    return _untestable("C13", "detracking benefits teachers", "no coded estimate measures teachers' outcomes "
                       "(satisfaction, workload, retention) under detracking",
                       "teachers' outcomes in detracked and tracked schools, with their uncertainty")


@rule("C14", admits=("not testable here",), why_not=NOT_TESTABLE)
def c14(spec) -> Judgement:
    return _untestable("C14", "detracking fosters collaboration", "collaboration is not measured in anything coded; "
                       "Sequoia's common prep period was an input the reform paid for, not an outcome",
                       "measured collaboration (time, frequency) before and after detracking")


@rule("C15", params=("ci_level",), admits=("not testable here",),
      why_not="'resistance is a significant obstacle' is about what stopped reforms: no coded study measures "
              "opposition to detracking or whether it stopped one; a poll of what parents value is context, not "
              "resistance, and 'significant' for an obstacle has no majority threshold")
def c15(spec) -> Judgement:
    row = load_evidence().set_index("id").loc["E128"]
    share, n = float(row["estimate"]) / 100, int(row["n"])
    lo, hi = proportion_confint(round(share * n), n, alpha=1 - spec["ci_level"], method="wilson")
    context = (f"context: {share:.0%} of {n} parents in an opt-in poll say advanced classes are important (Wilson "
               f"interval {lo:.0%} to {hi:.0%}; E128), which is valuing advanced classes, not resisting detracking; "
               "educators are not polled")
    resistance = Part("resistance is a significant obstacle", "not testable here",
                      "resistance to detracking is documented qualitatively, not measured; " + context,
                      needs="a study of detracking reforms that measures opposition from parents and educators and "
                            "whether it stopped or reversed them")
    return Judgement("C15", (resistance,), f"not testable here: resistance is not measured in anything coded; "
                                           f"{context}")


@rule("C16", params=WEIGHING + ("sesoi",))
def c16(spec) -> Judgement:
    challenge = effect_part("grouping gives high achievers the challenge they need", weigh("high", "course tracking",
                            spec), sign=1, sesoi=spec["sesoi"], spec=spec,
                            label="effect of course tracking on high achievers", what="course tracking for high achievers")
    rigour = effect_part("detracking makes education less rigorous", weigh("detrack_attainment_high",
                         "detracking reform", spec), sign=-1, sesoi=0.0, spec=spec,
                         label="fall in high achievers' course-taking under detracking", unit="proportion",
                         what="detracking and high achievers' advanced course-taking")
    return Judgement("C16", (challenge, rigour), f"high achievers' gain from grouping: {challenge.verdict}; "
                                                 f"rigour: {rigour.verdict}")


@rule("C17", admits=("not testable here",), why_not=NOT_TESTABLE)
def c17(spec) -> Judgement:
    return _untestable("C17", "the belief that detracking is too costly is an obstacle",
                       "no survey of leaders' perceived barriers is coded (C5 models whether detracking needs more "
                       "teachers)",
                       "a survey of district leaders on the barriers to detracking")


@rule("C18", params=("pilot_effect", "pilot_schools", "pilot_students", "pilot_randomise", "pilot_pretest"),
      admits=("modelled",),
      why_not="whether a one-grade pilot lets educators evaluate effectiveness is a power calculation (the same as "
              "C7's), not a measurement: it is modelled, and the multiverse varies the pilot's size, design, pretest "
              "and the effect it should detect")
def c18(spec) -> Judgement:
    n = pilot_numbers(spec)
    can = n["mdes"] <= spec["pilot_effect"]
    conclusion = "a pilot of this size can detect the effect" if can else "a pilot of this size cannot detect the effect"
    because = (f"{spec['pilot_schools']} schools of {n['m']} students, {spec['pilot_randomise']} randomised, pretest "
               f"{spec['pilot_pretest']}: smallest detectable effect {n['mdes']:.2f} SD against {spec['pilot_effect']:g} "
               f"SD; {n['needed']} schools would detect it")
    deciding = Deciding("minimum detectable effect of the pilot", n["mdes"], unit="SD", threshold=spec["pilot_effect"])
    part = Part("a pilot can evaluate effectiveness", "modelled", because, deciding,
                not_applicable("a power calculation, not evidence"), conclusion=conclusion)
    return Judgement("C18", (part,), f"{conclusion}: {because}")


NORMATIVE_UNTESTABLE = ("a normative claim with no model here: the book can say what evidence would bear on its "
                        "premise, not judge the value")


@rule("C19", admits=("not testable here",), why_not=NORMATIVE_UNTESTABLE)
def c19(spec) -> Judgement:
    return _untestable("C19", "training is needed", "no trial varies training within detracking; the EEF trial of "
                       "training for setting found no gain (E068, E069, without intervals)",
                       "a trial of detracking with and without teacher training")


@rule("C20", admits=("not testable here",), why_not=NORMATIVE_UNTESTABLE)
def c20(spec) -> Judgement:
    return _untestable("C20", "a shift in mindset is required", "teachers' beliefs are not measured against reform "
                       "outcomes in anything coded", "reform outcomes by measured teacher beliefs")


@rule("C21", admits=("not testable here",), why_not=NORMATIVE_UNTESTABLE)
def c21(spec) -> Judgement:
    return _untestable("C21", "communication is essential", "no study compares reforms with and without engagement "
                       "of parents", "detracking reforms compared by how they engaged parents, teachers and students")


@rule("C22", params=("equity_weight", "calibration_end", "peer_effect_end", "section_cost", "targeting_falloff"), admits=("modelled",),
      why_not="C22 is normative: the model says under which values detracking's benefits outweigh its costs")
def c22(spec) -> Judgement:
    p = models.params_at(spec["calibration_end"], spec["peer_effect_end"], spec["section_cost"], spec["equity_weight"],
                         spec["targeting_falloff"])
    s_star = models.optimum(p)
    value = float(models.welfare(p, 0.0) - models.welfare(p, 1.0))
    conclusion = "detracking is worth it in the model" if value > 0 else "detracking is not worth it in the model"
    because = (f"equity weight {spec['equity_weight']:g}, peer effect {p.gamma_bottom:+.2f} SD per SD of peers: welfare "
               f"of no tracking minus full streaming {value:+.3f} (optimum {s_star:.2f})")
    part = Part("the benefits are worth the effort", "modelled", because,
                Deciding("welfare of detracking minus full streaming", value, threshold=0.0),
                not_applicable("a model of value choices"), conclusion=conclusion)
    conditions = models.describe_regimes(models.regimes_over_equity(p))
    return Judgement("C22", (part,), f"{conclusion} at equity weight {spec['equity_weight']:g}; the model's optimum "
                                    f"is {conditions}. Driven by its inputs, not found in data: the targeting gain (the "
                                    f"between-class evidence) and the causal peer effect ({p.gamma_bottom:+.2f}); "
                                    "the benefits the claim names beyond achievement (social development, access) "
                                    "are not in the model")
