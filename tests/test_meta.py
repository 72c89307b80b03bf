"""tracking_evidence.stats.meta against R's metafor (committed fixture), statsmodels and PyMARE; bad input; properties.

The fixture ``tests/reference/metafor.json`` is written by ``tests/reference/metafor.R`` (metafor
3.8-1), which runs the iterative estimators (PM, ML, REML, the Q-profile interval) with
convergence threshold and root tolerance 1e-12 rather than metafor's defaults (1e-5 on tau2), so
the fixture holds the converged solution. Every value is then compared to 1e-6 (relative to the
value's magnitude when it exceeds 1): closed-form and iterated quantities alike. Our own scoring
stops at a change in tau2 below 1e-10.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from statsmodels.stats.meta_analysis import combine_effects

from tracking_evidence.stats import meta

FIXTURE = json.loads((Path(__file__).parent / "reference" / "metafor.json").read_text())
DATA = FIXTURE["datasets"]
TOL = 1e-6

POOL_FIELDS = ("estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "q", "q_pvalue", "h2", "i2", "pvalue")


def close(ours: float, ref: float, tol: float = TOL) -> bool:
    return abs(ours - ref) <= tol * max(1.0, abs(ref))


def pool_comparisons(row: dict) -> list[tuple[str, float, float]]:
    """(field, ours, metafor) for one rma() row of the fixture; I2 converted to percent as metafor reports it."""
    ds = DATA[row["data"]]
    res = meta.pool(ds["yi"], ds["vi"], method=row["method"], knha=row["knha"])
    out = []
    for field in POOL_FIELDS:
        if row[field] is None:  # metafor's predict() gives no prediction interval for FE models
            continue
        ours = getattr(res, field) * (100 if field == "i2" else 1)
        out.append((field, ours, row[field]))
    out.append(("k", res.k, row["k"]))
    return out


def metareg_comparisons(row: dict) -> list[tuple[str, float, float]]:
    ds = DATA[row["data"]]
    X = np.column_stack([ds[t] for t in row["terms"][1:]])
    res = meta.metareg(ds["yi"], ds["vi"], X, method=row["method"], knha=row["knha"])
    out = []
    for field in ("coef", "se", "ci_low", "ci_high", "pvalue"):
        for j, ref in enumerate(row[field]):
            out.append((f"{field}[{j}]", getattr(res, field)[j], ref))
    for field in ("qm", "qm_pvalue", "qe", "qe_pvalue", "tau2", "h2"):
        out.append((field, getattr(res, field), row[field]))
    out.append(("i2", res.i2 * 100, row["i2"]))
    out.append(("r2", res.r2 * 100, row["r2"]))
    return out


def tau2_ci_comparisons(row: dict) -> list[tuple[str, float, float]]:
    ds = DATA[row["data"]]
    low, high = meta.tau2_ci(ds["yi"], ds["vi"], level=row["level"])
    return [("tau2_low", low, row["tau2_low"]), ("tau2_high", high, row["tau2_high"])]


def all_comparisons() -> list[tuple[str, float, float]]:
    """Every metafor value the tests below compare (used for the count and the largest difference)."""
    out = []
    for row in FIXTURE["pool"]:
        out += pool_comparisons(row)
    for row in FIXTURE["metareg"]:
        out += metareg_comparisons(row)
    for row in FIXTURE["tau2_ci"]:
        out += tau2_ci_comparisons(row)
    return out


def _id(row):
    return f"{row['data']}-{row['method']}-{'knha' if row.get('knha') else 'z'}"


# ----------------------------------------------------------------------------- metafor


@pytest.mark.parametrize("row", FIXTURE["pool"], ids=_id)
def test_pool_matches_metafor(row):
    bad = [(f, o, r) for f, o, r in pool_comparisons(row) if not close(o, r)]
    assert not bad, bad


@pytest.mark.parametrize("row", FIXTURE["metareg"], ids=_id)
def test_metareg_matches_metafor(row):
    bad = [(f, o, r) for f, o, r in metareg_comparisons(row) if not close(o, r)]
    assert not bad, bad
    ds = DATA[row["data"]]
    res = meta.metareg(ds["yi"], ds["vi"], np.column_stack([ds[t] for t in row["terms"][1:]]),
                       method=row["method"], knha=row["knha"])
    assert list(res.qm_df) == [row["qm_df"][0], row["qm_df"][1]]


@pytest.mark.parametrize("row", FIXTURE["tau2_ci"], ids=lambda r: f"{r['data']}-{r['level']}")
def test_tau2_ci_matches_metafor_confint(row):
    bad = [(f, o, r) for f, o, r in tau2_ci_comparisons(row) if not close(o, r)]
    assert not bad, bad


def test_fixture_covers_every_method_with_and_without_knha():
    seen = {(r["method"], r["knha"]) for r in FIXTURE["pool"]}
    assert seen == {(m, k) for m in meta.METHODS for k in (False, True)}
    assert len(all_comparisons()) > 2000


def test_fe_prediction_interval_is_the_confidence_interval():
    ds = DATA["bcg"]
    r = meta.pool(ds["yi"], ds["vi"], method="FE")
    assert r.tau2 == 0 and r.pi_low == r.ci_low and r.pi_high == r.ci_high


# ----------------------------------------------------------------------------- statsmodels, PyMARE


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("ours, theirs", [("DL", "chi2"), ("PM", "iterated")])
def test_against_statsmodels_combine_effects(name, ours, theirs):
    ds = DATA[name]
    y, v = np.asarray(ds["yi"]), np.asarray(ds["vi"])
    sm = combine_effects(y, v, method_re=theirs)
    r = meta.pool(y, v, method=ours)
    fe = meta.pool(y, v, method="FE")
    assert fe.estimate == pytest.approx(sm.mean_effect_fe, abs=1e-12)
    assert r.q == pytest.approx(sm.q, rel=1e-10)
    if sm.tau2 < 0:
        # statsmodels 0.15 does not truncate the DL moment estimate at 0 (sim_small: Q < k - 1 gives
        # tau2 < 0 and weights 1/(v + tau2)); DerSimonian and Laird, and metafor, truncate at 0.
        assert r.tau2 == 0 and r.estimate == fe.estimate
        return
    # statsmodels iterates PM to its own tolerance (about 1e-10 here); DL is closed form
    assert r.tau2 == pytest.approx(sm.tau2, abs=1e-7)
    assert r.estimate == pytest.approx(sm.mean_effect_re, abs=1e-7)
    assert r.se == pytest.approx(sm.sd_eff_w_re, abs=1e-7)
    # KNHA: statsmodels' HKSJ scale, untruncated
    kh = meta.pool(y, v, method=ours, knha=True)
    assert kh.se == pytest.approx(sm.sd_eff_w_re_hksj, rel=1e-6)


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("method", ["REML", "ML", "DL"])
def test_against_pymare(name, method):
    pymare = pytest.importorskip("pymare")
    ds = DATA[name]
    y, v = np.asarray(ds["yi"]), np.asarray(ds["vi"])
    data = pymare.Dataset(y=y, v=v)
    if method == "DL":
        est = pymare.estimators.DerSimonianLaird().fit_dataset(data)
    else:
        est = pymare.estimators.VarianceBasedLikelihoodEstimator(method=method).fit_dataset(data)
    r = meta.pool(y, v, method=method)
    # PyMARE maximises the likelihood with a general-purpose scipy optimiser: agreement to ~1e-6
    # relative (normand, tau2 ~ 600: 2.6e-7), while metafor run to convergence agrees with us to 1e-9
    assert r.tau2 == pytest.approx(float(np.ravel(est.params_["tau2"])[0]), rel=1e-6, abs=1e-6)
    assert r.estimate == pytest.approx(float(np.ravel(est.params_["fe_params"])[0]), rel=1e-6, abs=1e-6)


# ----------------------------------------------------------------------------- bad input


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="different lengths"):
        meta.pool([0.1, 0.2, 0.3], [0.01, 0.02])


@pytest.mark.parametrize("method", ["DL", "PM", "REML", "ML", "HE", "SJ"])
def test_k_one_random_effects(method):
    with pytest.raises(ValueError, match="k = 1"):
        meta.pool([0.1], [0.01], method=method)


def test_k_one_knha_and_fixed():
    with pytest.raises(ValueError, match="k = 1"):
        meta.pool([0.1], [0.01], method="FE", knha=True)
    r = meta.pool([0.1], [0.04], method="FE")
    assert r.estimate == 0.1 and r.se == pytest.approx(0.2)


@pytest.mark.parametrize("vi, word", [([0.01, 0.0, 0.02], "zero or negative"), ([0.01, -0.1, 0.02], "zero or negative"),
                                      ([0.01, np.nan, 0.02], "vi has 1 missing")])
def test_bad_variances(vi, word):
    with pytest.raises(ValueError, match=word):
        meta.pool([0.1, 0.2, 0.3], vi)


def test_nan_estimate():
    with pytest.raises(ValueError, match="yi has 1 missing"):
        meta.pool([0.1, np.nan, 0.3], [0.01, 0.01, 0.01])


def test_unknown_method_and_level():
    with pytest.raises(ValueError, match="unknown method"):
        meta.pool([0.1, 0.2], [0.01, 0.01], method="EB")
    with pytest.raises(ValueError, match="level"):
        meta.pool([0.1, 0.2], [0.01, 0.01], level=95)


def test_singular_moderators():
    ds = DATA["bcg"]
    x = np.asarray(ds["ablat"], dtype=float)
    with pytest.raises(ValueError, match="singular"):
        meta.metareg(ds["yi"], ds["vi"], np.column_stack([x, 2 * x]))
    with pytest.raises(ValueError, match="singular"):
        meta.metareg(ds["yi"], ds["vi"], np.ones(len(x)))
    with pytest.raises(ValueError, match="rows"):
        meta.metareg(ds["yi"], ds["vi"], x[:-1])
    with pytest.raises(ValueError, match="non-finite"):
        meta.metareg(ds["yi"], ds["vi"], np.where(np.arange(len(x)) == 3, np.nan, x))
    with pytest.raises(ValueError, match="k > p"):
        meta.metareg(ds["yi"][:3], ds["vi"][:3], np.column_stack([x[:3], np.arange(3.0) ** 2]))


def test_tau2_ci_bad_input():
    with pytest.raises(ValueError, match="k = 1"):
        meta.tau2_ci([0.1], [0.01])


# ----------------------------------------------------------------------------- properties


def studies(min_k=2, max_k=30):
    return st.integers(min_k, max_k).flatmap(
        lambda k: st.tuples(
            st.lists(st.floats(-5, 5, allow_nan=False), min_size=k, max_size=k),
            st.lists(st.floats(1e-3, 2, allow_nan=False), min_size=k, max_size=k),
        )
    )


METHOD = st.sampled_from(meta.METHODS)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(studies(), METHOD)
def test_estimate_within_range(sv, method):
    y, v = sv
    r = meta.pool(y, v, method=method)
    assert min(y) - 1e-9 <= r.estimate <= max(y) + 1e-9
    assert r.tau2 >= 0 and 0 <= r.i2 < 1 and r.ci_low <= r.estimate <= r.ci_high
    assert r.pi_low <= r.ci_low + 1e-12 and r.pi_high >= r.ci_high - 1e-12


@SETTINGS
@given(studies(min_k=3), METHOD, st.randoms(use_true_random=False))
def test_order_invariance(sv, method, rnd):
    y, v = np.asarray(sv[0]), np.asarray(sv[1])
    order = list(range(y.size))
    rnd.shuffle(order)
    a, b = meta.pool(y, v, method=method), meta.pool(y[order], v[order], method=method)
    for field in ("estimate", "se", "tau2", "q", "pi_low"):
        assert getattr(a, field) == pytest.approx(getattr(b, field), rel=1e-7, abs=1e-9)


@SETTINGS
@given(studies(min_k=3), st.sampled_from(["DL", "PM", "REML", "ML", "HE", "SJ"]), st.floats(0.1, 10))
def test_scale_equivariance(sv, method, c):
    y, v = np.asarray(sv[0]), np.asarray(sv[1])
    a = meta.pool(y, v, method=method)
    b = meta.pool(c * y, c * c * v, method=method)
    assert b.estimate == pytest.approx(c * a.estimate, rel=1e-6, abs=1e-8)
    assert b.tau2 == pytest.approx(c * c * a.tau2, rel=1e-6, abs=1e-8)
    assert b.i2 == pytest.approx(a.i2, abs=1e-6)


@SETTINGS
@given(studies(min_k=3), st.sampled_from(["REML", "ML", "DL", "PM"]))
def test_fe_equals_random_effects_when_tau2_is_zero(sv, method):
    y, v = np.asarray(sv[0]), np.asarray(sv[1])
    # shrink the spread of the estimates until the studies are homogeneous
    y = y.mean() + (y - y.mean()) * 1e-3
    r = meta.pool(y, v, method=method)
    assume(r.tau2 == 0)
    fe = meta.pool(y, v, method="FE")
    assert r.estimate == pytest.approx(fe.estimate, abs=1e-12)
    assert r.se == pytest.approx(fe.se, rel=1e-12)
    assert r.pi_low == pytest.approx(fe.ci_low, abs=1e-12)


def test_reml_tau2_is_zero_for_homogeneous_studies():
    y = np.array([0.10, 0.11, 0.09, 0.10])
    v = np.array([0.04, 0.05, 0.03, 0.06])
    r = meta.pool(y, v, method="REML")
    assert r.tau2 == 0 and r.estimate == meta.pool(y, v, method="FE").estimate


def test_fisher_scoring_reaches_the_reml_maximum():
    """REML tau2 maximises the restricted log-likelihood (checked by brute force on a grid)."""
    ds = DATA["sim_het"]
    y, v = np.asarray(ds["yi"]), np.asarray(ds["vi"])

    def reml_ll(t):
        w = 1 / (v + t)
        mu = np.sum(w * y) / np.sum(w)
        return -0.5 * (np.sum(np.log(v + t)) + np.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))

    r = meta.pool(y, v, method="REML")
    grid = np.linspace(max(0, r.tau2 - 0.05), r.tau2 + 0.05, 2001)
    assert reml_ll(r.tau2) >= max(reml_ll(t) for t in grid) - 1e-12


@pytest.mark.parametrize("method", ["ML", "REML"])
def test_scoring_that_cycles_still_finds_the_maximum(method):
    """Found by hypothesis: one precise outlying study makes plain Fisher scoring cycle between 0 and
    0.0446 (ML). The safeguarded iteration must still land on the likelihood maximum."""
    y = np.zeros(29)
    y[26] = 1.0
    v = np.ones(29)
    v[26] = 0.125
    r = meta.pool(y, v, method=method)
    ll = lambda t: meta._loglik(y, v, None, method == "REML", t)  # noqa: E731
    grid = np.linspace(0, 0.1, 10001)
    assert r.tau2 > 0
    assert ll(r.tau2) >= max(ll(t) for t in grid) - 1e-12
    assert abs(meta._score(y, v, None, method == "REML", r.tau2)) < 1e-8


@pytest.mark.parametrize("bad_v, word", [([0.1, np.nan, 0.2], "vi has 1 missing"), ([0.1, -0.2, 0.2], "zero or negative")])
def test_plots_refuse_bad_input(bad_v, word):
    """The forest and caterpillar plots validate like the engine: no study silently disappears."""
    from tracking_evidence.site import plots

    with pytest.raises(ValueError, match=word):
        plots.forest([0.1, 0.2, 0.3], bad_v, ["a", "b", "c"])
    with pytest.raises(ValueError, match=word):
        plots.caterpillar([0.1, 0.2, 0.3], bad_v)


@pytest.mark.parametrize("seed", range(5))
def test_reml_iteration_lands_on_the_score_root(seed):
    """The (Newton-accelerated) scoring iteration and the bracketing solver find the same REML root."""
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.3, size=40)
    y = rng.normal(0.1, np.sqrt(v + 0.04))
    tau2, iterations = meta._fisher_scoring(y, v, None, 1, True, meta.estimate_tau2(y, v, None, "DL"))
    assert iterations < meta._MAXITER
    assert tau2 == pytest.approx(meta._score_root(y, v, None, True), rel=1e-9, abs=1e-12)
