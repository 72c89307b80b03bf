"""tracking_evidence.analyses.reanalysis: SE bounds, TOST, power, differences, DL pooling, vote counting.

Checked against published worked examples (TOSTER's TOSTmeta example; Gelman's 25 +/- 10 vs
10 +/- 10 example), against independent implementations (statsmodels NormalIndPower,
statsmodels combine_effects, scipy's t test) and against the sentences the figures come from.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.power import NormalIndPower

from tracking_evidence.data import claims
from tracking_evidence.analyses import reanalysis as ra
from tracking_evidence.data import load_hsb

# ---------------------------------------------------------------------------------------------
# The figures and the sentences they come from
# ---------------------------------------------------------------------------------------------


def test_figures_in_handles_minus_signs_leading_zeros_and_glued_numbers():
    assert ra.figures_in("(G = −.063) and (G = 0.117)") == [-0.063, 0.117]
    assert ra.figures_in("Triventi53 publications") == []
    assert ra.figures_in("Triventi53 publications", glued=True) == [53.0]
    assert ra.figure_in_text(0.117, "significantly positive (G = .117) on inequality")
    assert not ra.figure_in_text(0.001, "significantly positive (G = .117) on inequality")
    with pytest.raises(ValueError, match="finite"):
        ra.figure_in_text(float("nan"), "1")


def test_reported_figures_appear_in_their_sentences():
    # The abstract sentences were read on https://iris.unitn.it/handle/11572/354943 (search tool,
    # pages corpus): "The selected publications are 53 analyses performed in the period from 2000
    # to 2021, yielding 213 estimates on efficiency and 230 estimates on inequality. The results
    # show that the mean effect size (Hedge's G) of tracking on efficiency is not statistically
    # significant (G = -.063), whereas it is significantly positive (G = .117) on inequality."
    abstract_figures = ("g_achievement", "g_inequality", "n_analyses", "n_estimates_achievement",
                        "n_estimates_inequality")
    for key in abstract_figures:
        assert ra.figure_in_text(ra.REPORTED[key], ra.TERRIN_ABSTRACT), key
    # p < 0.001 is in Source A only, not in the abstract
    assert ra.figure_in_text(ra.REPORTED["p_inequality_source_a"], ra.SOURCE_A_SENTENCE)
    assert not ra.figure_in_text(ra.REPORTED["p_inequality_source_a"], ra.TERRIN_ABSTRACT)
    # Source A's sentence is verbatim in the shipped source text
    assert ra.SOURCE_A_SENTENCE in claims.source_text("A")
    # The bibliographic line of the same page (https://iris.unitn.it/handle/11572/354943):
    # "REVIEW OF EDUCATIONAL RESEARCH. - ISSN 0034-6543. - 2023, 93:2(2023), pp. 236-274."
    assert "2023, 93:2(2023), pp. 236-274" in ra.TERRIN_RECORD
    assert ra.TERRIN_ABSTRACT_ADDRESS.startswith("https://")


def test_reported_figures_come_from_the_data():
    from tracking_evidence.data.evidence import load_evidence

    rows = load_evidence().set_index("id")
    reported = ra.reported()
    assert reported == ra.REPORTED
    for key, row_id in (("g_achievement", "E001"), ("g_inequality", "E002"), ("n_analyses", "E154"),
                        ("n_estimates_achievement", "E155"), ("n_estimates_inequality", "E156")):
        assert reported[key] == rows.loc[row_id, "estimate"], key
    assert all(isinstance(reported[k], int) for k in ("n_analyses", "n_estimates_achievement",
                                                      "n_estimates_inequality"))
    # the p-value bound is Source A's, read from its claim A4
    a4 = claims.load_claims().set_index("id").loc["A4", "quote"]
    assert "p < 0.001" in a4 and reported["p_inequality_source_a"] == 0.001
    assert set(reported) == set(ra.FIGURE_ROWS) | {"p_inequality_source_a"}


def test_reported_refuses_an_a4_quote_without_one_p_value_bound(monkeypatch):
    registry = claims.load_claims()
    for quote in ("a statistically significant mean effect size (Hedge's G = .117)",
                  "(Hedge's G = .117, p < 0.001, and p < 0.01 elsewhere)"):
        changed = registry.copy()
        changed.loc[changed["id"] == "A4", "quote"] = quote
        monkeypatch.setattr(claims, "load_claims", lambda folder=None, changed=changed: changed)
        with pytest.raises(ValueError, match="one p-value bound"):
            ra.reported()


# ---------------------------------------------------------------------------------------------
# SE bounds
# ---------------------------------------------------------------------------------------------


def test_se_bounds_invert_the_z_test_p_value():
    se_min, se_max = ra.se_bounds(-0.063, p_above=0.05)
    assert se_max == math.inf
    # at the bound, the two-sided p-value (scipy) is exactly 0.05
    assert 2 * stats.norm.sf(0.063 / se_min) == pytest.approx(0.05, rel=1e-10)
    # just above the bound: not significant; just below: significant
    assert 2 * stats.norm.sf(0.063 / (se_min * 1.01)) > 0.05
    assert 2 * stats.norm.sf(0.063 / (se_min * 0.99)) < 0.05
    lo, hi = ra.se_bounds(0.117, p_below=0.001)
    assert lo == 0 and 2 * stats.norm.sf(0.117 / hi) == pytest.approx(0.001, rel=1e-10)
    # one-sided reading gives a larger SE bound for the same p
    assert ra.se_bounds(0.117, p_below=0.001, two_sided=False)[1] > hi
    both = ra.se_bounds(0.1, p_below=0.05, p_above=0.01)
    assert both[0] < both[1]


def test_ci_at_the_non_significance_bound_touches_zero():
    se_min, _ = ra.se_bounds(-0.063, p_above=0.05)
    low, high = ra.ci(-0.063, se_min)
    assert high == pytest.approx(0.0, abs=1e-12)
    assert low == pytest.approx(-0.126, abs=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"estimate": 0.1, "p_below": 0.0}, "between 0 and 1"),
        ({"estimate": 0.1, "p_below": 1.0}, "between 0 and 1"),
        ({"estimate": 0.1, "p_above": 1.5}, "between 0 and 1"),
        ({"estimate": 0.1, "p_above": -0.1}, "between 0 and 1"),
        ({"estimate": float("nan"), "p_above": 0.05}, "finite"),
        ({"estimate": 0.1, "p_above": float("nan")}, "finite"),
        ({"estimate": 0.1, "p_below": 0.01, "p_above": 0.05}, "smaller than p_below"),
        ({"estimate": 0.0, "p_below": 0.05}, "exactly 0"),
    ],
)
def test_se_bounds_reject_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ra.se_bounds(**kwargs)


def test_ci_rejects_bad_se():
    with pytest.raises(ValueError, match="positive"):
        ra.ci(0.1, -0.02)
    with pytest.raises(ValueError, match="NaN"):
        ra.ci(0.1, float("nan"))


# ---------------------------------------------------------------------------------------------
# TOST
# ---------------------------------------------------------------------------------------------


def test_z_tost_matches_the_published_tostmeta_example():
    # TOSTER's documented example, https://aaroncaldwell.us/TOSTERpkg/reference/TOSTmeta.html :
    # "TOSTmeta(ES=0.12, se=0.09, low_eqbound_d=-0.2, high_eqbound_d=0.2, alpha=0.05)"
    # "Z-value lower bound: 3.56 	p-value lower bound: 0.0002"
    # "Z-value upper bound: -0.889 	p-value upper bound: 0.187"
    # "lower bound 90% CI: -0.028"  "upper bound 90% CI:  0.268"
    r = ra.z_tost(0.12, 0.09, -0.2, 0.2)
    assert r.z_low == pytest.approx(3.56, abs=0.005)
    assert r.p_low == pytest.approx(0.0002, abs=0.00005)
    assert r.z_high == pytest.approx(-0.889, abs=0.0005)
    assert r.p_high == pytest.approx(0.187, abs=0.0005)
    assert r.p == r.p_high
    assert r.ci90_low == pytest.approx(-0.028, abs=0.0005)
    assert r.ci90_high == pytest.approx(0.268, abs=0.0005)
    assert not r.equivalent()


def test_tost_max_se_is_the_equivalence_threshold():
    limit = ra.tost_max_se(-0.063, -0.1, 0.1)
    assert ra.z_tost(-0.063, limit * 0.999, -0.1, 0.1).equivalent()
    assert not ra.z_tost(-0.063, limit * 1.001, -0.1, 0.1).equivalent()
    assert ra.tost_max_se(0.3, -0.1, 0.1) == 0.0


@pytest.mark.parametrize(
    "args, message",
    [
        ((0.1, 0.05, 0.2, 0.2), "low < high"),
        ((0.1, 0.05, 0.3, -0.3), "low < high"),
        ((0.1, -0.05, -0.2, 0.2), "positive"),
        ((0.1, 0.0, -0.2, 0.2), "positive"),
        ((float("nan"), 0.05, -0.2, 0.2), "finite"),
        ((0.1, float("nan"), -0.2, 0.2), "finite"),
        ((0.1, 0.05, float("nan"), 0.2), "finite"),
    ],
)
def test_z_tost_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        ra.z_tost(*args)


# ---------------------------------------------------------------------------------------------
# Power and MDE, against statsmodels
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [20, 100, 800])
def test_mde_and_power_agree_with_statsmodels_normalindpower(n):
    se = math.sqrt(1 / n + 1 / n)
    solved = NormalIndPower().solve_power(nobs1=n, alpha=0.05, power=0.8, ratio=1.0)
    # statsmodels' own power function, evaluated at our MDE, gives the target power exactly ...
    assert NormalIndPower().power(ra.mde(se), nobs1=n, alpha=0.05, ratio=1.0) == pytest.approx(0.8, abs=1e-9)
    # ... and its solver agrees to its own tolerance (at n = 800 its root is off by ~4e-6 in power)
    assert ra.mde(se) == pytest.approx(solved, rel=1e-5)
    for effect in (0.05, 0.2, 0.5):
        assert ra.power(effect, se) == pytest.approx(
            NormalIndPower().power(effect, nobs1=n, alpha=0.05, ratio=1.0), rel=1e-9)
    assert ra.mde(se) == pytest.approx((stats.norm.isf(0.025) + stats.norm.ppf(0.8)) * se, rel=1e-3)


def test_mde_and_power_reject_bad_input():
    with pytest.raises(ValueError, match="positive"):
        ra.mde(-0.1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        ra.mde(0.1, power=1.2)
    with pytest.raises(ValueError, match="exceed alpha"):
        ra.mde(0.1, alpha=0.05, power=0.04)
    with pytest.raises(ValueError, match="NaN"):
        ra.power(0.1, [0.1, float("nan")])
    with pytest.raises(ValueError, match="positive"):
        ra.power(0.1, [0.1, -0.1])


# ---------------------------------------------------------------------------------------------
# Difference test: Gelman & Stern
# ---------------------------------------------------------------------------------------------


def test_diff_test_reproduces_gelmans_example():
    # Gelman's post, read at http://1-urlm.se/g/c/a/397088 : "Consider two experiments, one
    # giving an estimated effect of 25 (with a standard error of 10) and the other with an
    # estimate of 10 (with a standard error of 10). The first is highly statistically significant
    # (with a p-value of 1.2%) ..." "The difference is 15 (with a s.e. of sqrt(10^2+10^2)=14.1),
    # which is clearly not statistically significant! (The z-score is only 1.1.)"
    # (Gelman and Stern 2006, The American Statistician 60(4), make the same example: 25 +/- 10
    # and 10 +/- 10.)
    d = ra.diff_test(25, 10, 10, 10)
    assert d.difference == 15
    assert d.se == pytest.approx(14.1, abs=0.05)
    assert d.z == pytest.approx(1.1, abs=0.05)
    assert d.p > 0.05
    first = ra.diff_test(25, 10, 0, 1e-12)  # the first study against zero
    assert 100 * first.p == pytest.approx(1.2, abs=0.05)
    # a positive correlation shrinks the SE of the difference
    assert ra.diff_test(25, 10, 10, 10, corr=0.5).se == pytest.approx(10.0)


@pytest.mark.parametrize(
    "args, message",
    [
        ((0.1, -0.1, 0.0, 0.1), "positive"),
        ((0.1, 0.1, float("nan"), 0.1), "finite"),
        ((0.1, 0.1, 0.0, 0.1, 1.5), r"\[-1, 1\]"),
        ((0.1, 0.1, 0.0, 0.1, 1.0), "zero variance"),
    ],
)
def test_diff_test_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        ra.diff_test(*args)


# ---------------------------------------------------------------------------------------------
# Vectorised DerSimonian-Laird, against statsmodels
# ---------------------------------------------------------------------------------------------


def test_dl_pool_matches_statsmodels_combine_effects():
    rng = np.random.default_rng(7)
    v = rng.uniform(0.002, 0.05, size=(5, 53))
    y = rng.normal(-0.06, 0.15, size=(5, 53)) + rng.normal(0, np.sqrt(v))
    ours = ra.dl_pool(y, v)
    for r in range(5):
        ref = combine_effects(y[r], v[r], method_re="dl")
        assert ours["estimate"][r] == pytest.approx(ref.mean_effect_re, rel=1e-10)
        assert ours["se"][r] == pytest.approx(ref.sd_eff_w_re, rel=1e-10)
        assert ours["tau2"][r] == pytest.approx(ref.tau2, rel=1e-10, abs=1e-14)
        assert ours["q"][r] == pytest.approx(ref.q, rel=1e-10)
    homogeneous = ra.dl_pool(np.array([0.1, 0.1, 0.1]), np.array([0.01, 0.02, 0.03]))
    assert homogeneous["tau2"] == 0 and homogeneous["estimate"] == pytest.approx(0.1)


def test_dl_pool_rejects_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        ra.dl_pool([0.1, float("nan")], [0.01, 0.01])
    with pytest.raises(ValueError, match="positive"):
        ra.dl_pool([0.1, 0.2], [0.01, -0.01])
    with pytest.raises(ValueError, match="k >= 2"):
        ra.dl_pool([0.1], [0.01])


# ---------------------------------------------------------------------------------------------
# Vote counting and the simulation (simulated data)
# ---------------------------------------------------------------------------------------------


def test_looks_balanced_follows_its_stated_rule():
    se = np.full(6, 0.1)
    # 3 positive, 3 negative, none significant -> balanced
    assert ra.looks_balanced(np.array([0.05, 0.1, 0.02, -0.05, -0.1, -0.02]), se)
    # 5 of 6 negative: minority share 1/6 < 1/3 -> not balanced
    assert not ra.looks_balanced(np.array([0.05, -0.1, -0.02, -0.05, -0.1, -0.02]), se)
    # mixed signs but 3 of 6 significantly negative (half, not fewer) -> not balanced
    assert not ra.looks_balanced(np.array([0.05, 0.1, -0.3, -0.3, -0.3, 0.02]), se)
    # 2 of 6 significantly negative, 2 significantly positive: fewer than half each way -> balanced
    assert ra.looks_balanced(np.array([0.3, 0.3, -0.3, -0.3, 0.01, -0.01]), se)


def test_simulation_is_seeded_and_calibrated_under_the_null():
    ses = ra.study_ses(53, 0.05, 0.2)
    a = ra.simulate_votecount(0.0, 0.0, ses, reps=4000, seed=1)
    b = ra.simulate_votecount(0.0, 0.0, ses, reps=4000, seed=1)
    assert a == b
    # Under mu = tau = 0, each study is significant with probability 0.05 and negative with 0.5;
    # the DL mean has close to nominal size (Monte Carlo SE of a share ~ 0.0035 at 4000 reps).
    assert a.mean_share_significant == pytest.approx(0.05, abs=0.004)
    assert a.mean_share_negative == pytest.approx(0.5, abs=0.01)
    assert 0.035 < a.pooled_significant < 0.075
    # With a large true effect and precise studies, pooling always detects it and nothing looks balanced
    strong = ra.simulate_votecount(0.5, 0.0, ra.study_ses(53, 0.03, 0.1), reps=500, seed=2)
    assert strong.pooled_significant == 1.0 and strong.balanced == 0.0


def test_simulation_and_study_ses_reject_bad_input():
    with pytest.raises(ValueError, match="non-negative"):
        ra.simulate_votecount(0.0, -0.1, [0.1, 0.1])
    with pytest.raises(ValueError, match="positive"):
        ra.simulate_votecount(0.0, 0.1, [0.1, -0.1])
    with pytest.raises(ValueError, match="NaN"):
        ra.simulate_votecount(0.0, 0.1, [0.1, float("nan")])
    with pytest.raises(ValueError, match="positive integer"):
        ra.simulate_votecount(0.0, 0.1, [0.1, 0.1], reps=0)
    with pytest.raises(ValueError, match="must not exceed"):
        ra.study_ses(10, 0.2, 0.1)
    with pytest.raises(ValueError, match="at least 2"):
        ra.study_ses(1, 0.1, 0.2)


# ---------------------------------------------------------------------------------------------
# Heterogeneity and prediction intervals
# ---------------------------------------------------------------------------------------------


def test_pooled_se_and_implied_tau_are_inverse():
    se = ra.pooled_se(53, 0.1, 0.2)
    assert ra.implied_tau(se, 53, 0.1) == pytest.approx(0.2)
    # equal-SE random-effects mean: statsmodels gives the same SE when tau2 is known
    v = np.full(53, 0.01)
    w = 1 / (v + 0.04)
    assert se == pytest.approx(1 / math.sqrt(w.sum()))
    assert ra.implied_tau(0.001, 53, 0.1) == 0.0
    with pytest.raises(ValueError, match="at least 2"):
        ra.pooled_se(1, 0.1, 0.1)
    with pytest.raises(ValueError, match="non-negative"):
        ra.pooled_se(10, 0.1, -0.1)


def test_prediction_interval_and_share_positive():
    assert ra.prediction_interval(0.117, 0.03, 0.0) == pytest.approx(ra.ci(0.117, 0.03))
    lo, hi = ra.prediction_interval(0.117, 0.03, 0.2)
    assert hi - lo == pytest.approx(2 * stats.norm.isf(0.025) * math.sqrt(0.04 + 0.0009))
    # share of N(0.117, 0.2^2) above 0, by scipy's normal distribution
    assert ra.share_positive(0.117, 0.2) == pytest.approx(stats.norm(0.117, 0.2).sf(0.0))
    assert ra.share_positive(0.117, 0.0) == 1.0
    with pytest.raises(ValueError, match="non-negative"):
        ra.share_positive(0.1, -0.1)


# ---------------------------------------------------------------------------------------------
# Plain units: HSB gap
# ---------------------------------------------------------------------------------------------


def test_ses_quartile_gap_agrees_with_scipy_t_test():
    df = load_hsb()
    gap = ra.ses_quartile_gap(df)
    lo, hi = np.quantile(df["ses"], [0.25, 0.75])
    top = df.loc[df["ses"] >= hi, "mathach"]
    bottom = df.loc[df["ses"] <= lo, "mathach"]
    t = stats.ttest_ind(top, bottom, equal_var=True).statistic
    assert gap.d == pytest.approx(t * math.sqrt(1 / len(top) + 1 / len(bottom)), rel=1e-10)
    assert gap.n_top + gap.n_bottom >= len(df) / 2
    assert ra.u3(1.0) == pytest.approx(0.8413, abs=5e-5)  # the normal table value for z = 1


def test_ses_quartile_gap_rejects_missing_values_and_columns():
    df = load_hsb().head(50).copy()
    with pytest.raises(ValueError, match="column 'nope'"):
        ra.ses_quartile_gap(df, outcome="nope")
    df.loc[df.index[0], "mathach"] = np.nan
    with pytest.raises(ValueError, match="missing"):
        ra.ses_quartile_gap(df)


# ---------------------------------------------------------------------------------------------
# The chapter's numbers and verdicts
# ---------------------------------------------------------------------------------------------


def test_no_se_consistent_with_non_significance_allows_equivalence_at_0_1():
    a = ra.achievement_summary()
    # equivalence at +/-0.1 needs SE < (0.1 - 0.063) / 1.645, below the non-significance bound
    assert a["tost_max_se_0.1"] == pytest.approx(0.037 / stats.norm.isf(0.05))
    assert a["tost_max_se_0.1"] < a["se_min"]
    assert a["tost_p_at_se_min_0.1"] > 0.05
    assert a["tost_p_at_se_min_0.2"] < 0.05


def test_magnitude_difference_is_never_significant_in_the_grid():
    grid = ra.difference_grid(n=11)
    assert (grid["p_magnitude"] > 0.05).all()
    assert (grid["p_signed"] < 0.05).any()


def test_inequality_summary_bounds_are_the_p_value_bounds():
    i = ra.inequality_summary()
    g = ra.REPORTED["g_inequality"]
    assert i["g"] == g
    assert 2 * stats.norm.sf(g / i["se_max_p05"]) == pytest.approx(0.05, rel=1e-10)
    assert 2 * stats.norm.sf(g / i["se_max_p001"]) == pytest.approx(ra.REPORTED["p_inequality_source_a"], rel=1e-10)
    assert i["se_max_p001"] < i["se_max_p05"]
    # at the largest SE that p < 0.05 allows, the 95% interval just touches zero; p < 0.001 keeps it clear
    assert i["ci_at_max_p05"][0] == pytest.approx(0.0, abs=1e-12)
    assert i["ci_at_max_p001"][0] == pytest.approx(g * (1 - stats.norm.isf(0.025) / stats.norm.isf(0.0005)))


def test_tost_curve_crosses_alpha_at_tost_max_se():
    ses = np.array([0.02, 0.0224, 0.0226, 0.05])
    p = ra.tost_curve(-0.063, ses, -0.1, 0.1)
    assert list(p < 0.05) == [True, True, False, False]
    with pytest.raises(ValueError, match="positive"):
        ra.tost_curve(-0.063, [0.02, -0.01], -0.1, 0.1)


def test_hsb_gap_agrees_with_the_gaps_module():
    # independent implementation by another engineer (tracking_evidence.analyses.gaps), same definition
    from tracking_evidence.analyses import gaps

    theirs = gaps.hsb_ses_quartile_gap(n_boot=0)
    ours = ra.hsb_gap()
    assert ours.d == pytest.approx(theirs.d, rel=1e-12)
    assert (ours.n_top, ours.n_bottom) == (theirs.n_reference, theirs.n_focal)
