"""Tests for tracking_evidence.analyses.gaps: standardized gaps, Oaxaca-Blinder, variance decomposition, power."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.meta_analysis import effectsize_smd

from tracking_evidence import data
from tracking_evidence.analyses import gaps

# --------------------------------------------------------------------------------------------
# standardized_gap
# --------------------------------------------------------------------------------------------


def _two_groups(n_ref=400, n_foc=300, shift=0.5, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "y": np.concatenate([rng.normal(0, 1, n_ref), rng.normal(-shift, 1.3, n_foc)]),
            "g": ["ref"] * n_ref + ["foc"] * n_foc,
        }
    )


def test_gap_matches_hand_computation_and_statsmodels_smd():
    df = _two_groups()
    r = gaps.standardized_gap(df, "y", "g", focal="foc")
    ref, foc = df.loc[df.g == "ref", "y"], df.loc[df.g == "foc", "y"]
    # independent pieces: pandas moments, then statsmodels' bias-corrected SMD (Borenstein 2009)
    pooled = np.sqrt(((len(ref) - 1) * ref.var() + (len(foc) - 1) * foc.var()) / (len(df) - 2))
    assert r.gap == pytest.approx(ref.mean() - foc.mean(), rel=1e-12)
    assert r.d == pytest.approx((ref.mean() - foc.mean()) / pooled, rel=1e-12)
    assert r.delta == pytest.approx((ref.mean() - foc.mean()) / ref.std(), rel=1e-12)
    smd_bc, var_bc = effectsize_smd(ref.mean(), ref.std(), len(ref), foc.mean(), foc.std(), len(foc))
    correction = 1 - 3 / (4 * len(df) - 9)
    assert r.d == pytest.approx(smd_bc / correction, rel=1e-10)
    # statsmodels' variance uses the corrected d and n - 3.94; the large-sample SE agrees to 1%
    assert r.se_d == pytest.approx(np.sqrt(var_bc), rel=0.01)
    assert r.reference == "ref" and r.focal == "foc"
    assert r.ci_low < r.d < r.ci_high


def test_analytic_se_matches_monte_carlo_sd_of_d():
    # The SE formula is a claim about the sampling distribution of d: check it by simulation.
    rng = np.random.default_rng(7)
    n_r, n_f, true_d = 120, 80, 0.6
    draws = []
    for _ in range(3000):
        y_r, y_f = rng.normal(true_d, 1, n_r), rng.normal(0, 1, n_f)
        s = np.sqrt(((n_r - 1) * y_r.var(ddof=1) + (n_f - 1) * y_f.var(ddof=1)) / (n_r + n_f - 2))
        draws.append((y_r.mean() - y_f.mean()) / s)
    df = pd.DataFrame({"y": np.concatenate([y_r, y_f]), "g": [0] * n_r + [1] * n_f})
    r = gaps.standardized_gap(df, "y", "g", focal=1)
    analytic = np.sqrt((n_r + n_f) / (n_r * n_f) + true_d**2 / (2 * (n_r + n_f)))
    assert np.std(draws, ddof=1) == pytest.approx(analytic, rel=0.05)
    assert r.se_d == pytest.approx(np.sqrt((n_r + n_f) / (n_r * n_f) + r.d**2 / (2 * (n_r + n_f))), rel=1e-12)


def test_row_bootstrap_agrees_with_analytic_se_and_is_seeded():
    df = _two_groups(n_ref=300, n_foc=300, shift=0.4, seed=3)
    a = gaps.standardized_gap(df, "y", "g", focal="foc", n_boot=1500, seed=11)
    b = gaps.standardized_gap(df, "y", "g", focal="foc", n_boot=1500, seed=11)
    assert a.boot_ci_low == b.boot_ci_low and a.boot_ci_high == b.boot_ci_high
    assert a.boot_se == pytest.approx(a.se_d, rel=0.15)
    assert a.boot_ci_low < a.d < a.boot_ci_high


def test_cluster_bootstrap_is_wider_than_analytic_when_clusters_matter():
    # Simulated clustered data: a strong school effect correlated with group makes the
    # student-level SE too small; the cluster bootstrap must be wider.
    rng = np.random.default_rng(5)
    rows = []
    for school in range(40):
        share = rng.uniform(0.1, 0.9)
        effect = rng.normal(0, 1.0)
        n = 50
        g = rng.random(n) < share
        rows.append(pd.DataFrame({"s": school, "g": g.astype(int), "y": effect - 0.3 * g + rng.normal(0, 1, n)}))
    df = pd.concat(rows, ignore_index=True)
    r = gaps.standardized_gap(df, "y", "g", focal=1, n_boot=800, cluster="s", seed=2)
    assert r.boot_cluster == "s"
    assert r.boot_se > 1.3 * r.se_d


def test_default_focal_is_larger_level_and_sign_convention():
    df = pd.DataFrame({"y": [10.0, 11, 12, 5, 6, 7], "minority": [0, 0, 0, 1, 1, 1]})
    r = gaps.standardized_gap(df, "y", "minority")
    assert r.focal == 1 and r.reference == 0
    assert r.gap == pytest.approx(5.0)
    assert r.d == pytest.approx(5.0)  # both SDs are 1
    assert isinstance(r.focal, int)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"y": [1.0, 2, 3], "g": [0, 0, 0]}), "exactly two levels"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4], "g": [0, 1, 2, 2]}), "exactly two levels"),
        (pd.DataFrame({"y": [1.0, np.nan, 3, 4], "g": [0, 0, 1, 1]}), "missing values"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4], "g": [0, None, 1, 1]}), "missing values"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4], "g": [0, 1, 1, 1]}), "at least 2"),
        (pd.DataFrame({"y": [1.0, 1, 3, 4], "g": [0, 0, 1, 1]}), "constant"),
        (pd.DataFrame({"y": ["a", "b", "c", "d"], "g": [0, 0, 1, 1]}), "not numeric"),
        (pd.DataFrame({"x": [1.0, 2, 3, 4], "g": [0, 0, 1, 1]}), "missing column"),
    ],
)
def test_gap_bad_input(frame, message):
    with pytest.raises(ValueError, match=message):
        gaps.standardized_gap(frame, "y", "g")


def test_gap_bad_focal_and_level():
    df = _two_groups()
    with pytest.raises(ValueError, match="focal level"):
        gaps.standardized_gap(df, "y", "g", focal="other")
    with pytest.raises(ValueError, match="level"):
        gaps.standardized_gap(df, "y", "g", level=1.5)


def test_dropna_is_explicit_and_reported():
    df = _two_groups()
    df.loc[[0, 5, 450], "y"] = np.nan
    r = gaps.standardized_gap(df, "y", "g", focal="foc", dropna=True)
    assert r.n_excluded == 3
    assert "3 row(s) excluded" in r.excluded_reason
    assert r.n_focal + r.n_reference == len(df) - 3


def test_gaps_by_stratum_equal_separate_calls_and_report_exclusions():
    e = data.load_egsingle()
    table = gaps.standardized_gaps_by(e, "math", "black", "grade", min_per_group=10)
    one = gaps.standardized_gap(e[e.grade == 2], "math", "black")
    row = table.set_index("grade").loc[2]
    assert row["d"] == pytest.approx(one.d, rel=1e-12)
    assert row["ci_low"] == pytest.approx(one.ci_low, rel=1e-12)
    # grade 5 has 9 rows in the data: too few for min_per_group=10, and it is reported
    assert 5 not in set(table["grade"])
    assert [x["grade"] for x in table.attrs["excluded"]] == [5]


def test_hsb_ses_quartile_gap():
    r = gaps.hsb_ses_quartile_gap()
    hsb = data.load_hsb()
    q1, q3 = hsb["ses"].quantile([0.25, 0.75])
    top, bottom = hsb.loc[hsb.ses >= q3, "mathach"], hsb.loc[hsb.ses <= q1, "mathach"]
    assert r.n_reference == len(top) and r.n_focal == len(bottom)
    assert r.gap == pytest.approx(top.mean() - bottom.mean(), rel=1e-12)
    assert r.n_excluded == len(hsb) - len(top) - len(bottom)
    # school-cluster bootstrap interval: wider than the student-level analytic one
    assert r.boot_cluster == "school"
    assert r.boot_ci_high - r.boot_ci_low > r.ci_high - r.ci_low
    assert r.boot_ci_low < r.d < r.boot_ci_high


# --------------------------------------------------------------------------------------------
# oaxaca
# --------------------------------------------------------------------------------------------


def _ccards():
    import statsmodels.api as sm

    raw = sm.datasets.ccard.load_pandas()
    return pd.concat([raw.endog, raw.exog], axis=1)


def test_oaxaca_reproduces_statsmodels_documented_example():
    # Published values: the Examples section of the OaxacaBlinder docstring, statsmodels
    # documentation, read at https://statsmodels.org/stable/generated/statsmodels.stats.oaxaca.OaxacaBlinder.html
    # (the same text in statsmodels/stats/oaxaca.py):
    #   "Oaxaca-Blinder Two-fold Effects / Unexplained Effect: 27.94091 / Explained Effect: 130.80954 /
    #    Gap: 158.75044" and "Oaxaca-Blinder Three-fold Effects / Endowments Effect: 321.74824 /
    #    Coefficient Effect: 75.45371 / Interaction Effect: -238.45151 / Gap: 158.75044".
    # In that example the groups are swapped so that the gap is positive: the reference is the
    # home owners (OWNRENT = 1) and the focal group the renters (OWNRENT = 0).
    cc = _ccards()
    covs = ["AGE", "INCOME", "INCOMESQ"]
    three = gaps.oaxaca(cc, "AVGEXP", "OWNRENT", covs, kind="threefold", focal=0)
    two = gaps.oaxaca(cc, "AVGEXP", "OWNRENT", covs, kind="twofold", focal=0)
    assert three.gap == pytest.approx(158.75044, abs=5e-5)
    assert three.totals["endowments"] == pytest.approx(321.74824, abs=5e-5)
    assert three.totals["coefficients"] == pytest.approx(75.45371, abs=5e-5)
    assert three.totals["interaction"] == pytest.approx(-238.45151, abs=5e-5)
    assert two.totals["unexplained"] == pytest.approx(27.94091, abs=5e-5)
    assert two.totals["explained"] == pytest.approx(130.80954, abs=5e-5)
    # the detailed contributions (what this package adds) add up to the published totals
    assert three.detailed.sum().to_dict() == pytest.approx(three.totals, abs=1e-8)
    assert two.detailed.sum().to_dict() == pytest.approx(two.totals, abs=1e-8)


def test_oaxaca_numpy_path_matches_statsmodels_on_hsb():
    from statsmodels.stats.oaxaca import OaxacaBlinder

    hsb = gaps.hsb_with_indicators()
    covs = ["ses", "catholic", "pracad"]
    X = np.column_stack([hsb[covs].to_numpy(float), np.ones(len(hsb))])
    f = (hsb["minority"] == 1).to_numpy()
    exog = pd.DataFrame(X[:, :3], columns=covs).assign(g=f.astype(float), const=1.0)
    sm_model = OaxacaBlinder(hsb["mathach"].to_numpy(), exog, "g", hasconst=True, swap=False)
    endow, coef, inter, gap = sm_model.three_fold().params
    unexp, expl, _ = sm_model.two_fold().params
    g3, t3, _ = gaps._oaxaca_arrays(hsb["mathach"].to_numpy(), X, f, "threefold")
    g2, t2, _ = gaps._oaxaca_arrays(hsb["mathach"].to_numpy(), X, f, "twofold")
    assert g3 == pytest.approx(gap, rel=1e-12)
    assert [t3["endowments"], t3["coefficients"], t3["interaction"]] == pytest.approx([endow, coef, inter], rel=1e-9)
    assert [t2["explained"], t2["unexplained"]] == pytest.approx([expl, unexp], rel=1e-9)


def test_oaxaca_explained_part_by_hand_on_simulated_data():
    # Simulated: one covariate, equal slopes, groups differ only in the covariate's mean:
    # the explained part is slope x difference in means, the unexplained part ~ 0.
    rng = np.random.default_rng(12)
    n = 4000
    g = rng.random(n) < 0.4
    x = rng.normal(np.where(g, -1.0, 0.0), 1.0)
    y = 2.0 + 1.5 * x + rng.normal(0, 0.5, n)
    df = pd.DataFrame({"y": y, "x": x, "g": g.astype(int)})
    r = gaps.oaxaca(df, "y", "g", ["x"], focal=1)
    dx = x[~g].mean() - x[g].mean()
    assert r.totals["explained"] == pytest.approx(1.5 * dx, rel=0.03)
    assert abs(r.totals["unexplained"]) < 0.05
    assert r.gap == pytest.approx(y[~g].mean() - y[g].mean(), rel=1e-12)


def test_oaxaca_bootstrap_is_seeded_and_covers_the_estimate():
    hsb = gaps.hsb_with_indicators()
    a = gaps.oaxaca(hsb, "mathach", "minority", ["ses", "catholic"], n_boot=150, seed=4, cluster="school")
    b = gaps.oaxaca(hsb, "mathach", "minority", ["ses", "catholic"], n_boot=150, seed=4, cluster="school")
    pd.testing.assert_frame_equal(a.totals_ci, b.totals_ci)
    for name, value in a.totals.items():
        assert a.totals_ci.loc[name, "low"] < value < a.totals_ci.loc[name, "high"]
    assert a.detailed_ci[("low", "explained")]["ses"] < a.detailed.loc["ses", "explained"]


@pytest.mark.parametrize(
    ("frame", "covs", "message"),
    [
        (pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "g": [0, 0, 0, 1, 1, 2], "x": [1.0, 2, 3, 4, 5, 6]}), ["x"],
         "exactly two levels"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6, 7, 8], "g": [0] * 4 + [1] * 4, "x": [1.0, 2, 3, 4, 5, 5, 5, 5]}),
         ["x"], "constant within group"),
        (pd.DataFrame({"y": [1.0, 2, 3, np.nan, 5, 6, 7, 8], "g": [0] * 4 + [1] * 4, "x": [1.0, 2, 3, 4, 5, 6, 7, 9]}),
         ["x"], "missing values"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6, 7, 8], "g": [0] * 4 + [1] * 4, "x": list("abcdefgh")}), ["x"],
         "not numeric"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6, 7, 8], "g": [0] * 4 + [1] * 4, "x": [1.0, 2, 3, 4, 5, 6, 7, 9]}),
         [], "at least one covariate"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6, 7, 8], "g": [0] * 4 + [1] * 4, "x": [1.0, 2, 3, 4, 5, 6, 7, 9]}),
         ["z"], "missing column"),
    ],
)
def test_oaxaca_bad_input(frame, covs, message):
    with pytest.raises(ValueError, match=message):
        gaps.oaxaca(frame, "y", "g", covs)


def test_oaxaca_bad_kind_and_explicit_dropna():
    hsb = gaps.hsb_with_indicators().head(600).copy()
    with pytest.raises(ValueError, match="kind"):
        gaps.oaxaca(hsb, "mathach", "minority", ["ses"], kind="fourfold")
    hsb.loc[hsb.index[:7], "ses"] = np.nan
    r = gaps.oaxaca(hsb, "mathach", "minority", ["ses"], dropna=True)
    assert r.n_excluded == 7 and "7 row(s) excluded" in r.excluded_reason
    assert r.n_focal + r.n_reference == 593


# --------------------------------------------------------------------------------------------
# between / within schools
# --------------------------------------------------------------------------------------------


def test_within_school_gap_matches_fixed_effects_ols():
    import statsmodels.formula.api as smf

    hsb = gaps.hsb_with_indicators()
    r = gaps.between_within_gap(hsb, "mathach", "minority", "school", focal=1)
    fe = smf.ols("mathach ~ minority + C(school)", data=hsb).fit()
    assert r.within == pytest.approx(-fe.params["minority"], rel=1e-9)
    assert r.total == pytest.approx(gaps.hsb_minority_gap().gap, rel=1e-12)
    assert r.between == pytest.approx(r.total - r.within, rel=1e-12)
    # schools whose students are all minority or all non-minority do not identify the within gap
    mixed = hsb.groupby("school")["minority"].agg(lambda s: 0 < s.mean() < 1)
    assert r.n_clusters_both == int(mixed.sum())


def test_between_within_on_simulated_segregation():
    # Simulated: the whole gap is between schools (no within-school difference).
    rng = np.random.default_rng(8)
    rows = []
    for s in range(60):
        share = 0.9 if s < 30 else 0.1
        level = -1.0 if s < 30 else 0.0
        g = (rng.random(40) < share).astype(int)
        rows.append(pd.DataFrame({"s": s, "g": g, "y": level + rng.normal(0, 1, 40)}))
    df = pd.concat(rows, ignore_index=True)
    r = gaps.between_within_gap(df, "y", "g", "s", focal=1, n_boot=200)
    assert abs(r.within) < 0.15
    assert r.share_between > 0.8
    assert r.share_between_ci[0] < r.share_between < r.share_between_ci[1]


def test_between_within_errors():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": [0, 0, 1, 1], "s": [1, 1, 2, 2]})
    with pytest.raises(ValueError, match="both groups"):
        gaps.between_within_gap(df, "y", "g", "s")
    with pytest.raises(ValueError, match="missing values"):
        gaps.between_within_gap(df.assign(y=[1.0, np.nan, 3, 4]), "y", "g", "s")


# --------------------------------------------------------------------------------------------
# variance_decomposition: published values and lme4
# --------------------------------------------------------------------------------------------

import json  # noqa: E402
from pathlib import Path  # noqa: E402

FIXTURE = Path(__file__).parent / "reference" / "lme4_unconditional.json"


def _lme4_fits():
    return {f["label"]: f for f in json.loads(FIXTURE.read_text())["fits"]}


def test_hsb_unconditional_model_matches_published_values():
    # Published: Jeremy Albright, "Estimating HLM Models Using R: Part 1" (Methods Consultants,
    # 2019), which "replicates the results from Raudenbush and Bryk's (2002, hereafter R&B)
    # canonical text on hierarchical linear models (see especially chapter 4)". Its empty model
    # `lmer(mathach ~ (1 | schid), data = hsb)` prints "schid (Intercept) 8.614 2.935" and
    # "Residual 39.148 6.257", "Number of obs: 7185". Read (a stored copy) at
    # https://huggingface.co/datasets/nvidia/Nemotron-CC-Math-v1 during this session.
    # Tolerance: one unit in the last printed digit (statsmodels' REML optimum for tau2 sits
    # 8e-4 from lme4's; see the lme4 comparison below).
    v = gaps.hsb_variance()
    assert v.n == 7185 and v.n_clusters == 160
    assert v.tau2 == pytest.approx(8.614, abs=1e-3)
    assert v.sigma2 == pytest.approx(39.148, abs=1e-3)
    assert v.icc == pytest.approx(8.614 / (8.614 + 39.148), abs=1e-4)
    assert v.converged and not v.messages


def test_variance_decomposition_matches_lme4_fixture():
    fits = _lme4_fits()
    hsb = gaps.hsb_with_indicators()
    eg = gaps.egsingle_groups()
    ours = {"hsb": gaps.variance_decomposition(hsb, "mathach", "school"),
            "exam": gaps.variance_decomposition(data.load_exam(), "normexam", "school")}
    for code in range(5):
        ours[f"egsingle_grade{code}"] = gaps.variance_decomposition(eg[eg.grade == code], "math", "schoolid")
    assert set(ours) == set(fits)
    for label, v in ours.items():
        ref = fits[label]
        assert v.n == ref["n"] and v.n_clusters == ref["n_clusters"], label
        # REML optima from two optimisers (statsmodels BFGS, lme4 bobyqa): within 2e-4 relative
        assert v.grand_mean == pytest.approx(ref["grand_mean"], abs=1e-4), label
        assert v.tau2 == pytest.approx(ref["tau2"], rel=2e-4), label
        assert v.sigma2 == pytest.approx(ref["sigma2"], rel=2e-4), label
        assert v.icc == pytest.approx(ref["icc"], abs=1e-4), label
        assert v.se_grand_mean == pytest.approx(ref["se_grand_mean"], rel=2e-4), label


def test_egsingle_variance_table_uses_grades_1_to_5():
    table = gaps.egsingle_variance()
    assert list(table["school_grade"]) == [1, 2, 3, 4, 5]
    fits = _lme4_fits()
    for row in table.itertuples():
        assert row.icc == pytest.approx(fits[f"egsingle_grade{row.school_grade - 1}"]["icc"], abs=1e-4)


def test_variance_decomposition_errors():
    with pytest.raises(ValueError, match="at least 2"):
        gaps.variance_decomposition(pd.DataFrame({"y": [1.0, 2, 3], "c": [1, 1, 1]}), "y", "c")
    with pytest.raises(ValueError, match="one member"):
        gaps.variance_decomposition(pd.DataFrame({"y": [1.0, 2, 3], "c": [1, 2, 3]}), "y", "c")
    with pytest.raises(ValueError, match="missing values"):
        gaps.variance_decomposition(pd.DataFrame({"y": [1.0, np.nan, 3, 4], "c": [1, 1, 2, 2]}), "y", "c")


# --------------------------------------------------------------------------------------------
# power of a cluster-randomised pilot
# --------------------------------------------------------------------------------------------

from scipy import stats as _stats  # noqa: E402


def test_design_effect_and_errors():
    assert gaps.design_effect(1, 0.3) == 1
    assert gaps.design_effect(31, 0.1) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="ICC"):
        gaps.design_effect(10, 1.2)
    with pytest.raises(ValueError, match="cluster size"):
        gaps.design_effect(0, 0.1)


@pytest.mark.parametrize(("effect", "m", "icc"), [(0.117, 30, 0.18), (0.25, 20, 0.05), (0.4, 100, 0.22)])
def test_schools_needed_matches_closed_form_normal_approximation(effect, m, icc):
    z = _stats.norm.ppf(0.975) + _stats.norm.ppf(0.8)
    closed = 4 * z**2 * (icc + (1 - icc) / m) / effect**2
    j = gaps.schools_needed(effect, m, icc)
    assert j % 2 == 0
    assert closed <= j < closed + 2
    # the power at J is at least 0.8 and two schools fewer fall short
    assert gaps.cluster_trial_power(effect, j, m, icc) >= 0.8
    assert gaps.cluster_trial_power(effect, j - 2, m, icc) < 0.8
    # closed-form power (both tails) agrees with statsmodels
    se = np.sqrt(4 * (icc + (1 - icc) / m) / j)
    closed_power = _stats.norm.cdf(effect / se - 1.959963984540054) + _stats.norm.cdf(-effect / se - 1.959963984540054)
    assert gaps.cluster_trial_power(effect, j, m, icc) == pytest.approx(closed_power, abs=1e-9)


def test_schools_needed_limit_is_approached_from_above():
    limit = gaps.schools_needed_limit(0.117, 0.18)
    needed = [gaps.schools_needed(0.117, m, 0.18) for m in (10, 100, 1000, 100000)]
    assert all(j >= limit for j in needed)
    assert needed == sorted(needed, reverse=True)
    assert needed[-1] - limit < 2.5


def test_gap_change_sample_size_by_simulation():
    # Simulated cluster-randomised trials: the power of the treatment x group contrast at the
    # J that the formula gives for 80% power should be close to 0.8.
    effect, m, icc, p = 0.5, 20, 0.2, 0.3
    j = gaps.schools_needed_gap_change(effect, m, icc, p)
    rng = np.random.default_rng(99)
    hits, reps = 0, 400
    for _ in range(reps):
        treat = np.repeat(np.arange(j) < j // 2, m)
        school = np.repeat(np.arange(j), m)
        u = rng.normal(0, np.sqrt(icc), j)[school]
        g = np.concatenate([rng.permutation(np.arange(m) < round(p * m)) for _ in range(j)])
        y = u - 0.4 * g - effect * (g & ~treat) + rng.normal(0, np.sqrt(1 - icc), j * m)
        # within-school gap per school, then compare arms
        gap_s = np.array([y[(school == s) & ~g].mean() - y[(school == s) & g].mean() for s in range(j)])
        arm = np.arange(j) < j // 2
        diff = gap_s[~arm].mean() - gap_s[arm].mean()
        se = np.sqrt(gap_s[arm].var(ddof=1) / arm.sum() + gap_s[~arm].var(ddof=1) / (~arm).sum())
        hits += abs(diff / se) > 1.96
    assert hits / reps == pytest.approx(0.8, abs=0.07)


def test_power_input_errors():
    with pytest.raises(ValueError, match="positive"):
        gaps.schools_needed(0, 20, 0.1)
    with pytest.raises(ValueError, match="even"):
        gaps.cluster_trial_power(0.2, 7, 20, 0.1)
    with pytest.raises(ValueError, match="focal_share"):
        gaps.schools_needed_gap_change(0.2, 20, 0.1, 1.0)
    with pytest.raises(ValueError, match="slope_variance"):
        gaps.schools_needed_gap_change(0.2, 20, 0.1, 0.3, slope_variance=-1)


def test_pilot_table_rows():
    t = gaps.pilot_table(0.117, 0.18, sizes=(10, 30), focal_share=0.27)
    assert list(t["students_per_school"]) == [10, 30]
    assert (t["power_achieved"] >= 0.8).all()
    assert (t["students_mean_shift"] == t["schools_mean_shift"] * t["students_per_school"]).all()


# --------------------------------------------------------------------------------------------
# the chapter's data and verdicts
# --------------------------------------------------------------------------------------------


def test_egsingle_gaps_reference_group_and_grades():
    table = gaps.egsingle_gaps()
    eg = gaps.egsingle_groups()
    assert set(table["school_grade"]) == {1, 2, 3, 4, 5}
    assert [x["school_grade"] for x in table.attrs["excluded"]] == [6, 6]
    row = table[(table.focal_group == "Hispanic") & (table.school_grade == 3)].iloc[0]
    part = eg[(eg.school_grade == 3) & eg.ethnicity.isin(["Hispanic", "other"])]
    assert row["n_focal"] == (part.ethnicity == "Hispanic").sum()
    assert row["n_reference"] == (part.ethnicity == "other").sum()


def test_gaps_by_and_bootstrap_argument_errors():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": [0, 0, 1, 1], "k": [1, None, 1, 1]})
    with pytest.raises(ValueError, match="stratum column 'k'"):
        gaps.standardized_gaps_by(df, "y", "g", "k")
    with pytest.raises(ValueError, match="n_boot"):
        gaps.standardized_gap(df, "y", "g", n_boot=-1)
    with pytest.raises(ValueError, match="n_boot"):
        gaps.oaxaca(gaps.hsb_with_indicators(), "mathach", "minority", ["ses"], n_boot=-5)


def test_bootstrap_reports_how_many_resamples_it_used():
    import numpy as np
    import pandas as pd

    from tracking_evidence.analyses import gaps

    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"y": rng.normal(size=30), "g": [1] * 5 + [0] * 25})  # a rare focal group
    result = gaps.standardized_gap(frame, "y", "g", focal=1, n_boot=200, seed=3)
    assert result.n_boot == 200
    # about 3% of resamples draw fewer than two focal students: they are counted, not hidden
    assert 0.9 * 200 <= result.n_boot_used < 200


# --------------------------------------------------------------------------------------------
# a pilot with a pretest: MDES and schools needed (Bloom, Richburg-Hayes & Black 2007)
# --------------------------------------------------------------------------------------------


def test_mdes_schools_randomised_matches_the_closed_form_by_hand():
    # J = 20 schools of m = 25, rho = 0.2, R2_school = 0.5, R2_student = 0.3, p = 0.5, df = J - 3 = 17:
    # rho (1 - R2_2) / (p(1-p) J) = 0.1 / 5 = 0.02; (1 - rho)(1 - R2_1) / (p(1-p) J m) = 0.56 / 125 = 0.00448
    multiplier = _stats.t.ppf(0.975, 17) + _stats.t.ppf(0.8, 17)
    expected = multiplier * np.sqrt(0.02 + 0.00448)
    assert gaps.mdes(20, 25, 0.2, 0.5, 0.3) == pytest.approx(expected, rel=1e-12)


def test_mdes_without_covariates_approaches_the_normal_power_formula():
    # many schools: the t multiplier tends to z, and the MDES to the inverse of schools_needed's formula
    j, m, icc = 4000, 30, 0.18
    z = _stats.norm.ppf(0.975) + _stats.norm.ppf(0.8)
    normal = z * np.sqrt(4 * (icc + (1 - icc) / m) / j)
    assert gaps.mdes(j, m, icc) == pytest.approx(normal, rel=1e-3)


def test_mdes_students_randomised_drops_the_school_component():
    j, m, icc, r2i = 12, 20, 0.3, 0.4
    multiplier = _stats.t.ppf(0.975, j * (m - 1) - 2) + _stats.t.ppf(0.8, j * (m - 1) - 2)
    expected = multiplier * np.sqrt((1 - icc) * (1 - r2i) / (0.25 * j * m))
    assert gaps.mdes(j, m, icc, 0.9, r2i, randomise="students") == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("effect", "m", "icc", "r2s", "r2i"),
                         [(0.2, 30, 0.18, 0.0, 0.0), (0.117, 25, 0.17, 0.45, 0.33), (0.3, 10, 0.05, 0.9, 0.6)])
def test_schools_for_mdes_is_the_fewest_even_number_that_detects_the_effect(effect, m, icc, r2s, r2i):
    for randomise in ("schools", "students"):
        j = gaps.schools_for_mdes(effect, m, icc, r2s, r2i, randomise=randomise)
        assert j % 2 == 0 and j >= 4
        assert gaps.mdes(j, m, icc, r2s, r2i, randomise=randomise) <= effect
        if j > 4:
            assert gaps.mdes(j - 2, m, icc, r2s, r2i, randomise=randomise) > effect
    # randomising students within schools takes the school variance out: fewer schools
    assert gaps.schools_for_mdes(effect, m, icc, r2s, r2i, randomise="students") < \
        gaps.schools_for_mdes(effect, m, icc, r2s, r2i)


@pytest.mark.parametrize("randomise", ["schools", "students"])
def test_a_pretest_never_increases_the_schools_needed(randomise):
    r2 = [0.0, 0.2, 0.4, 0.6, 0.8]
    for icc in (0.05, 0.2):
        by_school = [gaps.schools_for_mdes(0.2, 30, icc, r, 0.3, randomise=randomise) for r in r2]
        by_student = [gaps.schools_for_mdes(0.2, 30, icc, 0.3, r, randomise=randomise) for r in r2]
        assert by_school == sorted(by_school, reverse=True)
        assert by_student == sorted(by_student, reverse=True)
        assert by_student[-1] < by_student[0]  # the student-level R2 always helps
        if randomise == "schools":
            assert by_school[-1] < by_school[0]  # the school-level R2 helps only when schools are randomised
    assert gaps.schools_for_mdes(0.2, 30, 0.18, 0.6, 0.4) < gaps.schools_for_mdes(0.2, 30, 0.18)


def test_pilot_grid_rows_follow_schools_for_mdes():
    grid = gaps.pilot_grid(0.2, 0.18, 0.6, 0.4, m=30).set_index(["randomise", "covariate"])
    assert grid.loc[("schools", "pretest"), "schools"] == gaps.schools_for_mdes(0.2, 30, 0.18, 0.6, 0.4)
    assert grid.loc[("students", "no pretest"), "schools"] == gaps.schools_for_mdes(0.2, 30, 0.18,
                                                                                    randomise="students")
    assert (grid["students"] == grid["schools"] * 30).all()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"icc": 1.0}, "icc must lie"),
    ({"r2_school": -0.1}, "r2_school must lie"),
    ({"r2_student": 1.0}, "r2_student must lie"),
    ({"p": 0.0}, "p must lie"),
    ({"n_schools": 3}, "at least 4 schools"),
    ({"m": 1}, "2 students per school"),
    ({"randomise": "classes"}, "randomise must be"),
])
def test_mdes_bad_inputs(kwargs, match):
    args = {"n_schools": 20, "m": 25, "icc": 0.2, **kwargs}
    with pytest.raises(ValueError, match=match):
        gaps.mdes(**args)


def test_schools_for_mdes_bad_inputs():
    with pytest.raises(ValueError, match="positive"):
        gaps.schools_for_mdes(0.0, 30, 0.2)
    with pytest.raises(ValueError, match="power"):
        gaps.schools_for_mdes(0.2, 30, 0.2, power=1.0)
    with pytest.raises(ValueError, match="no pilot of up to 100 schools"):
        gaps.schools_for_mdes(0.01, 30, 0.2, limit=100)
    with pytest.raises(ValueError, match="randomise must be"):
        gaps.schools_for_mdes(0.2, 30, 0.2, randomise="classes")


def _clustered(pretest_signal: float, seed: int = 3, n_schools: int = 50, m: int = 30) -> pd.DataFrame:
    """Simulated students in schools; the pretest carries ``pretest_signal`` of the outcome's parts."""
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(n_schools), m)
    u = rng.normal(0, 0.5, n_schools)[school]
    e = rng.normal(0, 1, n_schools * m)
    noise = rng.normal(0, 1, n_schools * m)
    pretest = pretest_signal * (u + e) + np.sqrt(1 - pretest_signal**2) * noise
    return pd.DataFrame({"y": u + e, "pre": pretest, "s": school})


def test_pretest_r2_of_pure_noise_is_near_zero():
    r = gaps.pretest_r2(_clustered(0.0), "y", "pre", "s", data="simulated")
    assert 0 <= r.r2_school < 0.05 and 0 <= r.r2_student < 0.01
    assert (r.n, r.n_schools, r.data) == (1500, 50, "simulated")


def test_pretest_r2_of_an_informative_pretest_is_large_and_in_range():
    weak = gaps.pretest_r2(_clustered(0.5), "y", "pre", "s")
    strong = gaps.pretest_r2(_clustered(0.95), "y", "pre", "s")
    for r in (weak, strong):
        assert 0 <= r.r2_school <= 1 and 0 <= r.r2_student <= 1
    # the student-level share is about the squared correlation of pretest and outcome within schools
    assert strong.r2_student == pytest.approx(0.95**2, abs=0.05)
    assert strong.r2_student > weak.r2_student and strong.r2_school > weak.r2_school
    with pytest.raises(ValueError, match="missing column"):
        gaps.pretest_r2(_clustered(0.5), "y", "prior", "s")


def test_book_pretest_r2_in_range():
    table = gaps.book_pretest_r2()
    assert len(table) == 2
    assert table[["r2_school", "r2_student"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (table["r2_student"] > 0.2).all()  # a prior score always predicts the later one


# --------------------------------------------------------------------------------------------
# gaps against the rest (C1): HSB bottom SES quartile and NAEP students with disabilities
# --------------------------------------------------------------------------------------------


def test_hsb_low_ses_gap_is_the_bottom_quartile_against_the_rest():
    r = gaps.hsb_low_ses_gap()
    hsb = data.load_hsb()
    bottom = hsb["ses"] <= hsb["ses"].quantile(0.25)
    assert r.n_focal == int(bottom.sum()) and r.n_focal + r.n_reference == len(hsb) == 7185
    assert 0.24 < r.n_focal / len(hsb) < 0.27  # about a quarter (ties at the cut)
    assert r.gap == pytest.approx(hsb.loc[~bottom, "mathach"].mean() - hsb.loc[bottom, "mathach"].mean(), rel=1e-12)
    assert r.d > 0 and r.boot_cluster == "school"
    assert r.boot_ci_low < r.d < r.boot_ci_high
    # the rest includes the middle half, so the gap is smaller than the top-vs-bottom quartile gap
    assert r.d < gaps.hsb_ses_quartile_gap().d


def test_naep_disability_gap_from_the_published_table():
    from tracking_evidence.data.evidence import load_evidence

    evidence = load_evidence()
    r = gaps.naep_disability_gap(evidence)
    assert r.points == 225 - 191 == 34
    assert r.sd == pytest.approx((246 - 202) / 1.349, abs=0.01)
    assert r.d == pytest.approx(r.points / r.sd, rel=1e-12)
    assert r.se == pytest.approx(np.sqrt(0.7**2 + 0.3**2), rel=1e-12)  # the published SEs of the two medians
    assert r.d_low < r.d < r.d_high
    assert r.rows == ("E142", "E143", "E148", "E149")
    with pytest.raises(ValueError, match="E142"):
        gaps.naep_disability_gap(evidence[evidence["id"] != "E142"])


def test_the_share_of_a_later_gap_present_at_entry_has_a_joint_seeded_bootstrap():
    """B2's share: both grades' gaps from the same resampled schools. The point share is the ratio of the two
    gaps; the draws are seeded; the joint interval is narrower than the ratio of the two gaps' own interval
    ends (which ignores that they move together); a grade the data lack is refused by name."""
    from tracking_evidence.analyses import gaps as g

    share = g.egsingle_gap_share("Black", 1, 5, n_boot=300)
    assert share.share == pytest.approx(share.d_first / share.d_last)
    again = g.egsingle_gap_share.__wrapped__("Black", 1, 5, n_boot=300)
    assert (again.draws == share.draws).all()
    low, high = share.interval(0.95)
    table = g.egsingle_gaps().set_index(["focal_group", "school_grade"])
    naive_low = table.loc[("Black", 1), "boot_ci_low"] / table.loc[("Black", 5), "boot_ci_high"]
    naive_high = table.loc[("Black", 1), "boot_ci_high"] / table.loc[("Black", 5), "boot_ci_low"]
    assert naive_low < low < share.share < high < naive_high
    with pytest.raises(ValueError, match="grade 1 or 9"):
        g.egsingle_gap_share("Black", 1, 9, n_boot=10)
