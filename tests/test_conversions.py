"""The conversions of published uncertainty into standard errors (tracking_evidence.stats.conversions),
checked against R (tests/reference/conversions.R: metafor's escalc for Hedges' g; qnorm for the Wald
conversions) and against statsmodels' independent implementation of the standardised mean difference."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from statsmodels.stats.meta_analysis import effectsize_smd

from tracking_evidence.stats import conversions as cv

from .conftest import ROOT

REFERENCE = json.loads((ROOT / "tests" / "reference" / "conversions.json").read_text())
TOL = 1e-10


@pytest.mark.parametrize("case", ["smd_normand", "smd_random"])
def test_hedges_g_matches_metafor_escalc(case):
    ref = REFERENCE[case]
    for i in range(len(ref["yi"])):
        g, se = cv.hedges_g(ref["m1"][i], ref["sd1"][i], ref["n1"][i], ref["m2"][i], ref["sd2"][i], ref["n2"][i])
        assert g == pytest.approx(ref["yi"][i], abs=TOL)
        assert se ** 2 == pytest.approx(ref["vi"][i], abs=TOL)


def test_hedges_g_matches_statsmodels():
    ref = REFERENCE["smd_random"]
    smd, var = effectsize_smd(np.array(ref["m1"]), np.array(ref["sd1"]), np.array(ref["n1"]), np.array(ref["m2"]),
                              np.array(ref["sd2"]), np.array(ref["n2"]))
    ours = np.array([cv.hedges_g(*args) for args in zip(ref["m1"], ref["sd1"], ref["n1"], ref["m2"], ref["sd2"],
                                                        ref["n2"])])
    # statsmodels uses the approximate correction 1 - 3/(4 N - 9) and the variance n/(n1 n2) + g^2/(2 (N - 3.94)):
    # agreement to those approximations' error, and a planted error of 1% in g would fail
    assert np.allclose(ours[:, 0], smd, rtol=0, atol=1e-5)
    assert not np.allclose(1.01 * ours[:, 0], smd, rtol=0, atol=1e-5)
    assert np.allclose(ours[:, 1] ** 2, var, rtol=1e-2)


def test_wald_conversions_match_r():
    r = REFERENCE["from_ci"]
    for lo, hi, level, se in zip(r["ci_low"], r["ci_high"], r["level"], r["se"]):
        assert cv.se_from_ci(lo, hi, level) == pytest.approx(se, rel=TOL)
    r = REFERENCE["from_p"]
    for est, p, se in zip(r["estimate"], r["p"], r["se"]):
        if 0 < p < 1 and est != 0:
            assert cv.se_from_p(est, p) == pytest.approx(se, rel=1e-8)
    r = REFERENCE["from_t"]
    for est, t, se in zip(r["estimate"], r["t"], r["se"]):
        assert cv.se_from_t(est, t) == pytest.approx(se, rel=TOL)
    r = REFERENCE["from_significance"]
    for est, bound, se in zip(r["estimate"], r["p_bound"], r["se"]):
        assert cv.se_from_significance(est, bound) == pytest.approx(se, rel=TOL)
    r = REFERENCE["from_coefficient"]
    for b, se_b, sd_y, est, se in zip(r["b"], r["se_b"], r["sd_y"], r["estimate"], r["se"]):
        assert cv.coefficient_over_sd(b, se_b, sd_y) == pytest.approx((est, se), rel=TOL)


def test_a_significance_bound_gives_the_widest_interval_the_statement_allows():
    se = cv.se_from_significance(0.2, 0.05)
    # the 95% interval built on the bound just touches zero
    assert 0.2 - 1.959963984540054 * se == pytest.approx(0.0, abs=1e-12)
    # a stricter statement allows a smaller SE
    assert cv.se_from_significance(0.2, 0.01) < se < cv.se_from_significance(0.2, 0.1)


def test_derive_takes_the_first_uncertainty_in_the_protocols_order():
    assert cv.derive(0.2, se=0.05, p=0.3).how == "published"
    assert cv.derive(0.2, ci_low=0.1, ci_high=0.3, ci_level=0.95, p=0.01).how == "from CI"
    assert cv.derive(0.2, p=0.01, t_stat=3.0).how == "from p"
    assert cv.derive(0.2, t_stat=2.0, p_bound=0.05).how == "from t"
    assert cv.derive(0.2, p_bound=0.05).how == "from significance"
    assert cv.derive(0.2, p_bound=0.05).bound_only
    none = cv.derive(0.2)
    assert none.how == "none" and math.isnan(none.se)
    g = cv.derive(99.0, raw_inputs="m1=10;sd1=2;n1=30;m2=9;sd2=2;n2=30", se_derived="from means and SDs")
    assert g.how == "from means and SDs" and g.estimate == pytest.approx(cv.hedges_g(10, 2, 30, 9, 2, 30)[0])
    b = cv.derive(0.0, raw_inputs="b=5;se_b=2;sd_y=50", se_derived="from coefficient and outcome SD")
    assert (b.estimate, b.se) == pytest.approx((0.1, 0.04))


@pytest.mark.parametrize("call, message", [
    (lambda: cv.se_from_ci(0.3, 0.1, 0.95), "empty"),
    (lambda: cv.se_from_ci(0.1, 0.3, 95), "level"),
    (lambda: cv.se_from_p(0.2, 0.0), "exact p-value"),
    (lambda: cv.se_from_p(0.0, 0.2), "zero estimate"),
    (lambda: cv.se_from_t(0.2, 0.0), "non-zero"),
    (lambda: cv.se_from_significance(0.2, 0.03), "one of"),
    (lambda: cv.se_from_significance(0.0, 0.05), "zero estimate"),
    (lambda: cv.hedges_g(1, 0, 10, 1, 1, 10), "sd1 must be positive"),
    (lambda: cv.hedges_g(1, 1, 1, 1, 1, 10), "n1 must be at least 2"),
    (lambda: cv.coefficient_over_sd(1, 1, 0), "SD must be positive"),
    (lambda: cv.parse_inputs("m1=1;sd1=2", "from means and SDs"), "needs"),
    (lambda: cv.parse_inputs("b=x;se_b=1;sd_y=2", "from coefficient and outcome SD"), "no number"),
    (lambda: cv.derive(0.2, raw_inputs="b=1;se_b=1;sd_y=2"), "se_derived must be"),
    (lambda: cv.derive(0.2, ci_low=0.1), "both bounds"),
    (lambda: cv.derive(0.2, se=-0.1), "positive"),
])
def test_bad_input_is_refused_with_a_message_that_names_it(call, message):
    with pytest.raises(ValueError, match=message):
        call()
