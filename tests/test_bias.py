"""tracking_evidence.stats.bias: Egger and trim-and-fill against metafor (fixture), PET-PEESE against
statsmodels WLS, p-curve against scipy's Stouffer combination and by simulation, funnel data, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

from tracking_evidence.stats import bias, meta

FIXTURE = json.loads((Path(__file__).parent / "reference" / "metafor.json").read_text())
DATA = FIXTURE["datasets"]
TOL = 1e-6


def close(ours, ref, tol=TOL):
    return abs(ours - ref) <= tol * max(1.0, abs(ref))


def egger_comparisons(row):
    ds = DATA[row["data"]]
    e = bias.egger(ds["yi"], ds["vi"])
    return [("stat", e.stat, row["stat"]), ("p", e.p, row["p"]), ("df", e.df, row["df"]),
            ("intercept", e.intercept, row["intercept"]), ("slope", e.slope, row["limit_estimate"])]


def trimfill_comparisons(row):
    ds = DATA[row["data"]]
    t = bias.trimfill(ds["yi"], ds["vi"], method=row["method"])
    out = [("k0", t.k0, row["k0"])]
    for field in ("estimate", "se", "ci_low", "ci_high", "tau2"):
        out.append((field, getattr(t, field), row[field]))
    for j, (a, b) in enumerate(zip(np.sort(t.filled_yi), np.sort(row["filled_yi"]))):
        out.append((f"filled_yi[{j}]", a, b))
    for j, (a, b) in enumerate(zip(np.sort(t.filled_vi), np.sort(row["filled_vi"]))):
        out.append((f"filled_vi[{j}]", a, b))
    return out


def all_comparisons():
    out = []
    for row in FIXTURE["egger"]:
        out += egger_comparisons(row)
    for row in FIXTURE["trimfill"]:
        out += trimfill_comparisons(row)
    return out


@pytest.mark.parametrize("row", FIXTURE["egger"], ids=lambda r: r["data"])
def test_egger_matches_metafor_regtest(row):
    bad = [c for c in egger_comparisons(row) if not close(c[1], c[2])]
    assert not bad, bad


@pytest.mark.parametrize("row", FIXTURE["trimfill"], ids=lambda r: f"{r['data']}-{r['method']}")
def test_trimfill_matches_metafor(row):
    ds = DATA[row["data"]]
    t = bias.trimfill(ds["yi"], ds["vi"], method=row["method"])
    assert t.side == row["side"]
    assert t.filled_yi.size == len(row["filled_yi"]) == t.k0
    bad = [c for c in trimfill_comparisons(row) if not close(c[1], c[2])]
    assert not bad, bad


def test_fixture_has_filled_studies_on_both_sides():
    sides = {(r["side"], r["k0"] > 0) for r in FIXTURE["trimfill"]}
    assert ("left", True) in sides and ("right", True) in sides


def test_trimfill_mirror_symmetry():
    """Flipping the sign of every study flips the side and the estimate, and leaves k0 unchanged."""
    ds = DATA["sim_biased"]
    y, v = np.asarray(ds["yi"]), np.asarray(ds["vi"])
    a, b = bias.trimfill(y, v), bias.trimfill(-y, v)
    assert a.k0 == b.k0 > 0 and {a.side, b.side} == {"left", "right"}
    assert a.estimate == pytest.approx(-b.estimate, abs=1e-10)


def test_trimfill_r0_and_forced_side():
    ds = DATA["hackshaw"]
    t = bias.trimfill(ds["yi"], ds["vi"], method="FE", estimator="R0")
    assert t.estimator == "R0" and t.k0 >= 0
    forced = bias.trimfill(ds["yi"], ds["vi"], method="FE", side="right")
    assert forced.side == "right"


def test_egger_equals_weighted_regression_of_y_on_se():
    """The two textbook forms of Egger's test agree (statsmodels WLS of y on se, weights 1/v)."""
    ds = DATA["hackshaw"]
    y, v = np.asarray(ds["yi"]), np.asarray(ds["vi"])
    fit = sm.WLS(y, sm.add_constant(np.sqrt(v)), weights=1 / v).fit()
    e = bias.egger(y, v)
    assert e.intercept == pytest.approx(fit.params[1], rel=1e-10)
    assert e.stat == pytest.approx(fit.tvalues[1], rel=1e-10)
    assert e.slope == pytest.approx(fit.params[0], rel=1e-10)


def test_pet_peese_against_statsmodels():
    ds = DATA["sim_biased"]
    y, v = np.asarray(ds["yi"]), np.asarray(ds["vi"])
    r = bias.pet_peese(y, v)
    pet = sm.WLS(y, sm.add_constant(np.sqrt(v)), weights=1 / v).fit()
    peese = sm.WLS(y, sm.add_constant(v), weights=1 / v).fit()
    assert r.pet == pytest.approx(pet.params[0], rel=1e-10)
    assert r.pet_se == pytest.approx(pet.bse[0], rel=1e-10)
    assert r.pet_p == pytest.approx(pet.pvalues[0], rel=1e-8)
    assert r.peese == pytest.approx(peese.params[0], rel=1e-10)
    assert r.peese_se == pytest.approx(peese.bse[0], rel=1e-10)
    assert r.chosen == ("PEESE" if pet.pvalues[0] < 0.10 else "PET")
    assert r.estimate == (r.peese if r.chosen == "PEESE" else r.pet)


# ----------------------------------------------------------------------------- p-curve


def test_pcurve_right_skew_is_stouffer_of_pp_values():
    p = np.array([0.001, 0.004, 0.012, 0.020, 0.031, 0.044, 0.2, 0.6])
    r = bias.pcurve(p)
    sig = p[p < 0.05]
    # scipy: Stouffer's combination of one-sided p-values, Z = sum Phi^-1(1 - pp) / sqrt(k)
    z, pval = stats.combine_pvalues(sig / 0.05, method="stouffer")
    assert r.right_skew_z_full == pytest.approx(-z, rel=1e-10)
    assert r.right_skew_p_full == pytest.approx(pval, rel=1e-10)
    half = sig[sig < 0.025]
    z_half, p_half = stats.combine_pvalues(half / 0.025, method="stouffer")
    assert r.right_skew_p_half == pytest.approx(p_half, rel=1e-10)
    assert (r.k_significant, r.k_half, r.k_total) == (6, 4, 8)


def test_pcurve_bins_expected_shares_sum_to_one():
    r = bias.pcurve([0.001, 0.01, 0.03, 0.04])
    assert r.bins["share_null"].sum() == pytest.approx(1)
    assert r.bins["share_33"].sum() == pytest.approx(1, abs=1e-9)
    assert r.bins["count"].sum() == 4


def _simulated_pvalues(rng, ncp, n):
    z = rng.normal(ncp, 1, size=n)
    return 2 * stats.norm.sf(np.abs(z))


def test_pcurve_tests_hold_their_size_by_simulation():
    """Under no effect the right-skew test rejects about 5% of the time; under exactly 33% power
    the flatness test does. Seeded simulation, 400 sets of 20 significant results each."""
    rng = np.random.default_rng(20261123)
    crit = stats.norm.isf(0.025)
    lam = bias._ncp_for_power(1 / 3, crit**2)
    ncp33 = np.sqrt(lam)
    assert stats.norm.sf(crit - ncp33) + stats.norm.cdf(-crit - ncp33) == pytest.approx(1 / 3, abs=1e-9)
    rej_null, rej_33 = 0, 0
    for _ in range(400):
        null = rng.uniform(0, 0.05, size=20)
        rej_null += bias.pcurve(null).right_skew_p_full < 0.05
        p33 = np.empty(0)
        while p33.size < 20:
            draw = _simulated_pvalues(rng, ncp33, 100)
            p33 = np.concatenate([p33, draw[draw < 0.05]])
        rej_33 += bias.pcurve(p33[:20]).flat_p_full < 0.05
    assert 0.025 <= rej_null / 400 <= 0.085
    assert 0.025 <= rej_33 / 400 <= 0.085


def test_pcurve_detects_strong_effects():
    rng = np.random.default_rng(7)
    p = _simulated_pvalues(rng, 3.5, 60)
    r = bias.pcurve(p)
    assert r.right_skew and not r.flat


@pytest.mark.parametrize("p, word", [([0.01], "at least 2"), ([0.01, np.nan, 0.02], "non-finite"),
                                     ([0.01, 1.2], "outside"), ([0.0, 0.01], "outside"), ([0.3, 0.4, 0.01], "at least 2")])
def test_pcurve_bad_input(p, word):
    with pytest.raises(ValueError, match=word):
        bias.pcurve(p)


# ----------------------------------------------------------------------------- funnel, bad input


def test_funnel_data():
    ds = DATA["bcg"]
    f = bias.funnel_data(ds["yi"], ds["vi"])
    assert f["estimate"] == pytest.approx(meta.pool(ds["yi"], ds["vi"], method="FE").estimate)
    assert np.allclose(f["studies"]["sei"], np.sqrt(ds["vi"]))
    region = f["region"]
    assert region["sei"].iloc[0] == 0 and region["sei"].max() >= max(np.sqrt(ds["vi"]))
    assert np.allclose(region["high"] - region["low"], 2 * stats.norm.ppf(0.975) * region["sei"])


def test_bias_bad_input():
    with pytest.raises(ValueError, match="at least 3"):
        bias.egger([0.1, 0.2], [0.01, 0.02])
    with pytest.raises(ValueError, match="different lengths"):
        bias.trimfill([0.1, 0.2, 0.3], [0.01, 0.02])
    with pytest.raises(ValueError, match="zero or negative"):
        bias.pet_peese([0.1, 0.2, 0.3], [0.01, -0.02, 0.03])
    with pytest.raises(ValueError, match="same"):
        bias.egger([0.1, 0.2, 0.3], [0.01, 0.01, 0.01])
    with pytest.raises(ValueError, match="estimator"):
        bias.trimfill([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], estimator="Q9")
    with pytest.raises(ValueError, match="side"):
        bias.trimfill([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], side="up")
    with pytest.raises(ValueError, match="missing"):
        bias.funnel_data([0.1, np.nan], [0.01, 0.02])


def test_egger_refuses_an_exact_fit():
    import numpy as np

    from tracking_evidence.stats import bias

    s = np.array([0.1, 0.2, 0.3, 0.4])
    y = 0.5 * s + 0.2  # y/s = 0.5 + 0.2 (1/s): the regression has no residual
    with pytest.raises(ValueError, match="fits the studies exactly"):
        bias.egger(y, s**2)
