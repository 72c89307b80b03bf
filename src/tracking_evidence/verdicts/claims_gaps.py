"""Rules for the gap claims: B1, C1 (descriptive), B2 (causal), C7 (normative, modelled)."""

from __future__ import annotations


from ..analyses import gaps
from ..data.evidence import load_evidence
from .certainty import Downgrade, grade
from .common import egsingle_gaps, fmt, gap_share, size_part
from .core import Deciding, Part
from .registry import Judgement, rule



def _gap_certainty(basis: str, indirect) -> object:
    return grade("descriptive", basis, [Downgrade("indirectness", min(2, len(indirect)), "; ".join(indirect))]
                 if indirect else [])


def _all_gaps_part(name: str, table, threshold: float, label: str, basis: str, indirect, what: str) -> Part:
    """Every gap in ``table`` (columns d, boot_ci_low, boot_ci_high) claimed to exceed ``threshold``,
    judged on the set's joint evidence, not on its worst interval: *contradicted* by one gap whose
    interval lies wholly below the threshold (a counterexample); otherwise on the set's mean gap
    with the mean of the gaps' SEs (the levels are the same schools and cohorts, taken as perfectly
    correlated: no precision is gained by counting them separately): *supported* when that interval
    lies above the threshold, else *insufficient evidence*."""
    certainty = _gap_certainty(basis, indirect)
    z = 1.959963984540054  # the bootstrap intervals are 95% intervals
    se = (table["boot_ci_high"] - table["boot_ci_low"]) / (2 * z)
    mean, mean_se = float(table["d"].mean()), float(se.mean())
    lo, hi = mean - z * mean_se, mean + z * mean_se
    if len(table) == 1:
        because = f"gap {fmt(mean)} SD (interval {fmt(lo)} to {fmt(hi)})"
    else:
        because = (f"{len(table)} gaps from {fmt(table['d'].min())} to {fmt(table['d'].max())} SD; their mean "
                   f"{fmt(mean)} SD (interval {fmt(lo)} to {fmt(hi)}, the levels' SEs averaged)")
    if (table["boot_ci_high"] < threshold).any():
        below = table.loc[table["boot_ci_high"].idxmin()]
        return Part(name, "contradicted", because + f"; one gap lies wholly below {threshold:g} SD",
                    Deciding(f"lowest of the {label}", float(below["d"]), float(below["boot_ci_low"]), float(below["boot_ci_high"]),
                             "SD", threshold), certainty, refutes=True)
    label = label if len(table) == 1 else f"mean of the {label}"
    return size_part(name, estimate=mean, ci_low=lo, ci_high=hi, threshold=threshold, label=label, because=because,
                     certainty=certainty, what=what)


def _gap_frame(gap) -> object:
    import pandas as pd

    return pd.DataFrame([{"d": gap.d, "boot_ci_low": gap.boot_ci_low, "boot_ci_high": gap.boot_ci_high}])


@rule("B1", params=("gap_substantial",))
def b1(spec) -> Judgement:
    t = spec["gap_substantial"]
    eg = egsingle_gaps()
    hsb = gaps.hsb_minority_gap()
    parts = (
        _all_gaps_part("performance, grades 1-5", eg, t, "Black and Hispanic gaps, Chicago grades 1-5",
                       "convenience sample", ["one city's schools, early 1990s"],
                       "race-linked gaps in grades 1-5 measured precisely enough"),
        _all_gaps_part("performance, high school", _gap_frame(hsb), t, "minority gap, US high schools 1982",
                       "sample", ["HSB used unweighted (no sampling weights shipped)", "1982 cohort"],
                       "the high-school gap measured precisely enough"),
        Part("opportunities and outcomes", "not testable here", "the shipped data measure test scores only",
             needs="course access, teacher experience and attainment by race (e.g. the Civil Rights Data Collection)"),
        Part("'systemic'", "not testable here", "a statement about causes that a gap alone cannot test",
             needs="evidence on the mechanisms that produce the gaps"),
    )
    # "at all levels of schooling": every measured level must be judged
    return Judgement("B1", parts, "; ".join(f"{p.name}: {p.verdict} ({p.because})" for p in parts[:2])
                     + f"; against a 'substantial' threshold of {t:g} SD; opportunities and outcomes are not measured "
                       "here", universal=True)


@rule("C1", params=("gap_meaningful",))
def c1(spec) -> Judgement:
    t = spec["gap_meaningful"]
    eg = egsingle_gaps()
    low = gaps.hsb_low_ses_gap()
    minority = gaps.hsb_minority_gap()
    naep = gaps.naep_disability_gap(load_evidence())
    import pandas as pd

    race = pd.concat([eg[["d", "boot_ci_low", "boot_ci_high"]], _gap_frame(minority)], ignore_index=True)
    disability = pd.DataFrame([{"d": naep.d, "boot_ci_low": naep.d_low, "boot_ci_high": naep.d_high}])
    parts = (
        _all_gaps_part("low-income", _gap_frame(low), t, "bottom SES quartile vs the rest, HSB", "sample",
                       ["HSB used unweighted", "1982 cohort", "SES composite, not income"], "a precise low-income gap"),
        _all_gaps_part("students of color", race, t, "race-linked gaps (Chicago grades 1-5, HSB)",
                       "convenience sample", ["one city and one 1982 cohort"], "precise race-linked gaps"),
        _all_gaps_part("students with disabilities", disability, t, "NAEP grade-4 reading 2009, median gap",
                       "population measurement", ["reading only, one grade and year", "SD derived from the IQR"],
                       "a precise disability gap"),
    )
    return Judgement("C1", parts, f"against the rest of their peers: bottom-SES-quartile students {fmt(low.d)} SD "
                                  f"(HSB), Black and Hispanic students {fmt(eg['d'].min())} to {fmt(eg['d'].max())} SD "
                                  f"(Chicago grades 1-5), minority students {fmt(minority.d)} SD (HSB), students with "
                                  f"disabilities {fmt(naep.d)} SD (NAEP grade-4 reading 2009)")


@rule("B2", params=("root_share", "ci_level"), admits=("contradicted", "insufficient evidence"),
      why_not="descriptive gaps can show that most of a gap is there before course tracking begins (so tracking is "
              "not its root), but a gap that grows later does not show that tracking caused the growth: the "
              "'supported' side needs students' own tracks and a change in tracking")
def b2(spec) -> Judgement:
    share_needed = spec["root_share"]
    eg = egsingle_gaps()
    parts = []
    for group in ("Black", "Hispanic"):
        g = eg[eg["focal_group"] == group].set_index("school_grade")
        entry, later = g.loc[g.index.min()], g.loc[g.index.max()]
        # the share's interval from a joint bootstrap: both grades' gaps from the same resampled schools
        joint = gap_share(group, int(g.index.min()))
        share = joint.share
        low, high = joint.interval(spec["ci_level"])
        deciding = Deciding(f"{group} gap in grade {g.index.min()} as a share of grade {g.index.max()}", share, low,
                            high, unit="share", threshold=share_needed)
        certainty = grade("causal", "descriptive", [Downgrade("indirectness", 1, "one Chicago cohort, grades 1-5")])
        because = (f"{group} gap {fmt(entry['d'])} SD in grade {g.index.min()} (interval {fmt(entry['boot_ci_low'])} "
                   f"to {fmt(entry['boot_ci_high'])}), {fmt(later['d'])} SD in grade {g.index.max()} (interval "
                   f"{fmt(later['boot_ci_low'])} to {fmt(later['boot_ci_high'])}): {share:.0%} present before any "
                   f"course tracking ({100 * spec['ci_level']:.0f}% interval {low:.0%} to {high:.0%}, schools "
                   f"resampled jointly for both grades; reading groups within a grade-1 class may already exist)")
        if low >= share_needed:
            parts.append(Part(f"origin, {group} students", "contradicted", because, deciding, certainty))
        else:
            parts.append(Part(f"origin, {group} students", "insufficient evidence", because, deciding, certainty,
                              needs=f"the share of the later gap present at entry, with an interval above "
                                    f"{share_needed:.0%}: a larger cohort"))
    parts.append(Part("tracking as the cause", "not testable here",
                      "no shipped data set records a student's own track or a change in tracking",
                      needs="students' own tracks and a change in tracking policy (a reform or a cutoff)"))
    shares = "; ".join(f"{p.name}: {p.verdict}" for p in parts[:2])
    return Judgement("B2", tuple(parts), "a root cannot come after what it causes: how much of the grade-5 race gap "
                                         f"is already there in grade 1, before any course tracking ({shares}); tracking "
                                         "can still widen gaps later, which these data cannot show")




@rule("C7", admits=("not testable here",),
      why_not="C7 is about the order of implementation (gradually, a pilot first): no coded study compares a phased "
              "with an all-at-once detracking; what a pilot can detect is C18's claim, which the power calculation "
              "models")
def c7(spec) -> Judgement:
    part = Part("detracking is best implemented gradually, a pilot first", "not testable here",
                "no coded study compares a phased detracking with an all-at-once one; how much a one-grade pilot can "
                "tell is C18's claim (a power calculation, modelled)",
                needs="an evaluation that compares phased with all-at-once detracking on students' outcomes and on "
                      "how well the reform was carried out")
    return Judgement("C7", (part,), f"not testable here: {part.because}")
