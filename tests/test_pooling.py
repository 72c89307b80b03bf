"""tracking_evidence.analyses.pooling: the HSB school slopes, the two-stage analysis, the MixedLM comparison with lme4."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from tracking_evidence import data
from tracking_evidence.stats import meta
from tracking_evidence.analyses import pooling


@pytest.fixture(scope="module")
def slopes():
    return pooling.school_slopes()


def test_school_slopes_match_ols_in_each_school(slopes):
    """Each school's slope and its variance equal statsmodels OLS fitted on that school alone."""
    hsb = data.load_hsb()
    assert len(slopes) == 160 and slopes["n"].sum() == len(hsb) == 7185
    for school, rows in hsb.groupby("school"):
        fit = sm.OLS(rows["mathach"].to_numpy(), sm.add_constant(rows["ses"].to_numpy())).fit()
        row = slopes.loc[slopes["school"] == school].iloc[0]
        assert row["slope"] == pytest.approx(fit.params[1], rel=1e-9, abs=1e-12)
        assert row["var"] == pytest.approx(fit.bse[1] ** 2, rel=1e-9)
        assert row["p"] == pytest.approx(fit.pvalues[1], rel=1e-7, abs=1e-14)


def test_school_covariates_joined(slopes):
    schools = data.load_hsb_schools().set_index("school")
    joined = slopes.set_index("school")
    assert (joined["pracad"] == schools.loc[joined.index, "pracad"]).all()
    assert (joined["catholic"] == (schools.loc[joined.index, "sector"] == "Catholic")).all()


def test_within_slopes_bad_input():
    frame = pd.DataFrame({"g": [1, 1, 1, 2, 2, 2], "x": [0, 1, 2, 1, 1, 1.0], "y": [1, 2, 3, 4, 5, 6.0]})
    with pytest.raises(ValueError, match="does not vary"):
        pooling.within_slopes(frame, "g", "x", "y")
    with pytest.raises(ValueError, match="fewer than 3"):
        pooling.within_slopes(frame.iloc[:5], "g", "x", "y")
    with pytest.raises(ValueError, match="missing"):
        pooling.within_slopes(frame, "g", "x", "z")
    with pytest.raises(ValueError, match="missing values"):
        pooling.within_slopes(frame.assign(y=[1, np.nan, 3, 4, 5, 6]), "g", "x", "y")


def test_two_stage_uses_the_engine(slopes):
    results = pooling.two_stage()
    assert set(results) == {"FE", "DL", "REML", "REML_KNHA"}
    direct = meta.pool(slopes["slope"], slopes["var"], method="REML", knha=True)
    assert results["REML_KNHA"].estimate == direct.estimate and results["REML_KNHA"].knha
    # random effects widen the interval relative to FE when tau2 > 0
    assert results["REML"].tau2 > 0
    assert results["REML"].ci_high - results["REML"].ci_low > results["FE"].ci_high - results["FE"].ci_low


def test_slope_metareg_terms():
    reg = pooling.slope_metareg()
    assert reg.names == ("intercept", "pracad", "catholic") and reg.knha and reg.k == 160


def test_two_stage_close_to_one_stage():
    """The pooled REML slope and the one-stage fixed cses slope estimate the same mean gradient:
    they differ by less than one standard error of either."""
    pooled = pooling.two_stage()["REML"]
    best = pooling.best_one_stage("simple")
    assert abs(pooled.estimate - best["cses"]) < min(pooled.se, best["cses_se"])


# ----------------------------------------------------------------------------- MixedLM vs lme4


@pytest.fixture(scope="module")
def comparison():
    return pooling.mixedlm_comparison()


def test_comparison_covers_every_optimizer(comparison):
    sm_rows = comparison[comparison["software"] == "statsmodels MixedLM"]
    assert set(sm_rows["optimizer"]) == set(pooling.OPTIMIZERS)
    assert set(sm_rows["model"]) == set(pooling.ONE_STAGE_FORMULAS)
    assert (comparison["software"].str.startswith("lme4")).sum() == 4


def test_lme4_optimizers_agree(comparison):
    lme4 = comparison[comparison["software"].str.startswith("lme4")]
    for _, rows in lme4.groupby("model"):
        assert np.ptp(rows["loglik_reml"]) < 1e-6
        assert (rows["n_warnings"] == 0).all()


@pytest.mark.parametrize("model", sorted(pooling.ONE_STAGE_FORMULAS))
def test_best_mixedlm_fit_reaches_lme4(comparison, model):
    """statsmodels' REML log-likelihood is on lme4's scale: the best clean MixedLM fit is within 1e-3
    of lme4's, and its fixed effects and slope variance agree with lme4's to 1e-3 relative."""
    best = pooling.best_one_stage(model)
    ref = comparison[(comparison["model"] == model) & comparison["software"].str.startswith("lme4")].iloc[0]
    assert best["loglik_reml"] == pytest.approx(ref["loglik_reml"], abs=1e-3)
    assert best["cses"] == pytest.approx(ref["cses"], rel=1e-3)
    assert best["var_slope"] == pytest.approx(ref["var_slope"], rel=2e-3)
    if model == "moderated":
        assert best["cses_catholic"] == pytest.approx(ref["cses_catholic"], rel=1e-3)


def test_some_optimizers_fail_on_this_model(comparison):
    """What the chapter warns about: at least one optimizer stops with warnings, and at least one
    reports convergence, raises no warning, and stops more than 1 log-likelihood unit below lme4's optimum."""
    sm_rows = comparison[comparison["software"] == "statsmodels MixedLM"]
    assert (sm_rows["n_warnings"] > 0).any()
    silent = sm_rows["converged"] & (sm_rows["n_warnings"] == 0) & (sm_rows["loglik_gap"] < -1)
    assert silent.any()


def test_warnings_recorded_not_leaked(comparison):
    """A fit that warns (simple model, bfgs) has its warnings caught and recorded, even when warnings are errors."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit, messages = pooling._fit_mixedlm(pooling.hsb_one_stage_frame(), pooling.ONE_STAGE_FORMULAS["simple"], "bfgs")
    assert any(m.startswith("ConvergenceWarning") for m in messages)
    row = comparison[(comparison["model"] == "simple") & (comparison["optimizer"] == "bfgs")].iloc[0]
    assert row["warnings"] == " | ".join(messages) and not row["converged"]


# ----------------------------------------------------------------------------- Source A, simulation


def test_source_a_pooled_g_parsed_from_the_registry():
    figures = pooling.source_a_pooled_g()
    assert set(figures) == {"A3", "A4"}
    for item in figures.values():
        text = f"{item['g']:.3f}".replace("0.", ".")
        assert text in item["quote"]


def test_simulated_studies_are_seeded():
    a = pooling.simulate_studies(20, 0.1, 0.02, seed=3)
    b = pooling.simulate_studies(20, 0.1, 0.02, seed=3)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="tau2"):
        pooling.simulate_studies(5, 0, -1, seed=1)


def test_pi_illustration_is_seeded_and_uses_the_engine():
    table, studies = pooling.pi_illustration(-0.05, taus=(0.0, 0.2), k=15, seed=5)
    again, _ = pooling.pi_illustration(-0.05, taus=(0.0, 0.2), k=15, seed=5)
    pd.testing.assert_frame_equal(table, again)
    sim = studies[0.2]
    r = meta.pool(sim["yi"], sim["vi"], method="REML", knha=True)
    assert table.loc[1, "pi_low"] == r.pi_low and len(sim) == 15


def test_asymmetry_diagnostics_consistent_with_bias_module(slopes):
    from tracking_evidence.stats import bias

    d = pooling.asymmetry_diagnostics()
    pub = slopes[slopes["catholic"] == 0]
    assert d["egger_public_p"] == bias.egger(pub["slope"], pub["var"]).p
    assert d["k_public"] + d["k_catholic"] == 160
    assert d["corr_se_slope"] == pytest.approx(np.corrcoef(slopes["se"], slopes["slope"])[0, 1])
