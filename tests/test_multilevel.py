"""tracking_evidence.stats.multilevel (pool_multilevel, robust) against R's metafor and clubSandwich
(committed fixture), pimeta and PyMARE; a dense-matrix check of the likelihood's derivatives; bad
input; properties.

The fixture ``tests/reference/multilevel.json`` is written by ``tests/reference/multilevel.R``
(metafor 3.8-1, clubSandwich 0.5.8, metadat 1.2-0). Tolerances, and why:

* Given the variance components, everything ``rma.mv`` reports is closed form. The tests refit
  with the components fixed at R's values (``sigma2=``) and require agreement to 1e-9, relative
  to the value's magnitude when it exceeds 1 (observed: 3e-11 at worst, for a model with raw
  calendar years as moderator, where R's ``X'X`` is ill-conditioned); the same for clubSandwich's
  CR0/CR1/CR2 standard errors, Satterthwaite df, p-values and intervals at those components.
* R estimates the components with a general-purpose optimiser on their logarithms and numerical
  derivatives (nlminb, its default): its solution lies a few 1e-8 from the maximum, at worst
  2.6e-7 (2.5e-6 relative: sim_unbalanced, ML with a moderator). R's other optimisers (nlm,
  BFGS, bobyqa with tight tolerances) each miss by up to 2e-6 relative on one fit or another, so
  this is what is attainable against R; we find the maximum with analytic derivatives. At our
  maximum the components are compared to 1e-6 (absolute: they are variances on the scale of yi,
  all below 1 here), our log-likelihood must be at least R's (to 1e-9: rounding), and what is
  computed from the components inherits R's error in them: compared to 5e-6 relative (observed:
  1.1e-6 at worst, a z value of that fit). A component R puts at about 1e-10 is exactly 0 here.
* rma() (pool, metareg) is run with threshold 1e-12 in the fixture: the robust values for those
  fits are compared to 1e-8.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tracking_evidence.stats import meta, multilevel
from tracking_evidence.stats import pool_multilevel, robust

FIXTURE = json.loads((Path(__file__).parent / "reference" / "multilevel.json").read_text())
DATA = FIXTURE["datasets"]
EXACT = 1e-9  # closed-form given the variance components
COMPONENTS = 1e-6  # the variance components at the maximum, absolute
OPTIMUM = 5e-6  # what is computed from them, where R's optimiser limits the agreement
UNI = 1e-8  # rma() rows: tau2 converged to 1e-12 in R

MV_FIELDS = ("coef", "se", "zval", "pval", "ci_low", "ci_high", "vcov", "qe", "qe_pvalue", "loglik", "pi_low", "pi_high")
ROBUST_FIELDS = ("coef", "se", "tstat", "df", "pvalue", "ci_low", "ci_high", "vcov")


def close(ours, ref, tol) -> bool:
    ours, ref = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    return bool(np.all(np.abs(ours - ref) <= tol * np.maximum(1.0, np.abs(ref))))


def moderators(row: dict):
    terms = row["terms"][1:]
    ds = DATA[row["data"]]
    return np.column_stack([ds["mods"][t] for t in terms]) if terms else None


def fit_row(row: dict, **kwargs) -> multilevel.MultilevelResult:
    ds = DATA[row["data"]]
    names = row["terms"][1:] or None
    return pool_multilevel(ds["yi"], ds["vi"], ds["study"], moderators(row), method=row["method"], names=names, **kwargs)


def fit_at_r_components(row: dict) -> multilevel.MultilevelResult:
    return fit_row(row, sigma2=(row["sigma2_study"], row["sigma2_within"]))


def mv_comparisons(res: multilevel.MultilevelResult, row: dict) -> list[tuple[str, object, object]]:
    """(field, ours, R's) for one rma.mv row; the prediction interval only for intercept-only models."""
    return [(f, getattr(res, f), row[f]) for f in MV_FIELDS if row[f] is not None]


def robust_comparisons(res, robust_rows: dict, clusters: dict) -> list[tuple[str, object, object]]:
    out = []
    for cluster_name, by_type in robust_rows.items():
        for vcov, ref in by_type.items():
            rob = robust(res, clusters[cluster_name], vcov=vcov)
            out += [(f"{cluster_name}-{vcov}-{f}", getattr(rob, f), ref[f]) for f in ROBUST_FIELDS]
    return out


def uni_fit(row: dict):
    ds = DATA[row["data"]]
    X = moderators(row)
    if X is None:
        return meta.pool(ds["yi"], ds["vi"], method=row["method"])
    return meta.metareg(ds["yi"], ds["vi"], X, method=row["method"])


def all_comparisons() -> list[tuple[str, str, object, object, float]]:
    """Every R value the tests below compare: (kind, field, ours, R's, tolerance)."""
    out = []
    for row in FIXTURE["rma_mv"]:
        ds = DATA[row["data"]]
        fixed, fitted = fit_at_r_components(row), fit_row(row)
        out += [("rma.mv given sigma2", f, o, r, EXACT) for f, o, r in mv_comparisons(fixed, row)]
        out += [("rma.mv", f, o, r, OPTIMUM) for f, o, r in mv_comparisons(fitted, row) if f != "loglik"]
        out += [("rma.mv", f, getattr(fitted, f), row[f], COMPONENTS) for f in ("sigma2_study", "sigma2_within")]
        out += [("robust rma.mv given sigma2", f, o, r, EXACT)
                for f, o, r in robust_comparisons(fixed, row["robust"], ds["clusters"])]
        out += [("robust rma.mv", f, o, r, OPTIMUM) for f, o, r in robust_comparisons(fitted, row["robust"], ds["clusters"])]
    for row in FIXTURE["rma_uni"]:
        res = uni_fit(row)
        out += [("robust rma", f, o, r, UNI) for f, o, r in robust_comparisons(res, row["robust"], DATA[row["data"]]["clusters"])]
    return out


def _id(row):
    return f"{row['data']}-{row['method']}-{'+'.join(row['terms'][1:]) or 'intercept'}"


# ----------------------------------------------------------------------------- metafor rma.mv


@pytest.mark.parametrize("row", FIXTURE["rma_mv"], ids=_id)
def test_given_the_components_everything_matches_rma_mv(row):
    res = fit_at_r_components(row)
    bad = [(f, o, r) for f, o, r in mv_comparisons(res, row) if not close(o, r, EXACT)]
    assert not bad, bad
    assert (res.k, res.n_studies, res.qe_df, res.names) == (row["k"], row["n_studies"], row["qe_df"], tuple(row["terms"]))


@pytest.mark.parametrize("row", FIXTURE["rma_mv"], ids=_id)
def test_rma_mv_at_our_maximum(row):
    res = fit_row(row)
    assert res.loglik >= row["loglik"] - EXACT * max(1.0, abs(row["loglik"])), "a worse optimum than R's"
    bad = [(f, o, r) for f, o, r in mv_comparisons(res, row) if f != "loglik" and not close(o, r, OPTIMUM)]
    bad += [(f, getattr(res, f), row[f]) for f in ("sigma2_study", "sigma2_within")
            if abs(getattr(res, f) - row[f]) > COMPONENTS]
    bad += [("loglik", res.loglik, row["loglik"])] if not close(res.loglik, row["loglik"], OPTIMUM) else []
    assert not bad, bad
    assert res.method == row["method"] and res.identified == (row["data"] != "sim_singletons")


@pytest.mark.parametrize("name, component", [("sim_study_zero", "sigma2_study"), ("sim_within_zero", "sigma2_within")])
@pytest.mark.parametrize("method", ["REML", "ML"])
def test_a_component_on_the_boundary_is_exactly_zero(name, component, method):
    """R reports ~1e-10 (a log-scale optimiser cannot reach 0); the maximum is at 0, where the
    score points outwards (checked by refitting a little inside the quadrant)."""
    rows = [r for r in FIXTURE["rma_mv"] if r["data"] == name and r["method"] == method]
    assert rows
    for row in rows:
        res = fit_row(row)
        assert getattr(res, component) == 0.0 and row[component] < 1e-8
        inside = {"sigma2_study": (1e-4, res.sigma2_within), "sigma2_within": (res.sigma2_study, 1e-4)}[component]
        assert fit_row(row, sigma2=inside).loglik < res.loglik


def test_fixture_covers_the_required_fits():
    fits = {(r["data"], r["method"], len(r["terms"]) > 1) for r in FIXTURE["rma_mv"]}
    for name in ("konstantopoulos2011", "assink2016", "sim_balanced", "sim_unbalanced", "sim_study_zero", "sim_within_zero"):
        for method in ("REML", "ML"):
            assert {(name, method, False), (name, method, True)} <= fits
    assert any(r["data"] == "assink2016" and r["terms"][1:] == ["year"] for r in FIXTURE["rma_mv"])
    sizes = np.bincount(DATA["sim_unbalanced"]["study"])[1:]
    assert sizes.min() == 1 and sizes.max() >= 13  # unbalanced, with singletons
    assert {r["method"] for r in FIXTURE["rma_uni"]} == {"REML", "DL", "FE"}
    assert len(all_comparisons()) > 2900


# ----------------------------------------------------------------------------- clubSandwich


@pytest.mark.parametrize("row", FIXTURE["rma_mv"], ids=_id)
def test_robust_matches_clubsandwich_for_rma_mv(row):
    clusters = DATA[row["data"]]["clusters"]
    given_r = robust_comparisons(fit_at_r_components(row), row["robust"], clusters)
    bad = [(f, o, r) for f, o, r in given_r if not close(o, r, EXACT)]
    at_ours = robust_comparisons(fit_row(row), row["robust"], clusters)
    bad += [(f, o, r) for f, o, r in at_ours if not close(o, r, OPTIMUM)]
    assert not bad, bad


@pytest.mark.parametrize("row", FIXTURE["rma_uni"], ids=_id)
def test_robust_matches_clubsandwich_for_pool_and_metareg(row):
    bad = [(f, o, r) for f, o, r in robust_comparisons(uni_fit(row), row["robust"], DATA[row["data"]]["clusters"])
           if not close(o, r, UNI)]
    assert not bad, bad


def test_robust_result_fields():
    ds = DATA["konstantopoulos2011"]
    res = pool_multilevel(ds["yi"], ds["vi"], ds["study"])
    rob = robust(res, ds["clusters"]["district"], level=0.9)
    assert rob.vcov_type == "CR2" and rob.n_clusters == 11 and rob.level == 0.9
    assert rob.ci_low[0] < rob.coef[0] < rob.ci_high[0] and rob.df[0] > 1
    assert list(rob.table().columns) == ["coef", "se", "tstat", "df", "pvalue", "ci_low", "ci_high"]
    assert list(res.table().index) == ["intercept"]


# ----------------------------------------------------------------------------- one estimate per study


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_one_estimate_per_study_is_pool(method):
    """Not identified: the fit is pool's, each component is tau2/2, as rma.mv returns it."""
    ds = DATA["sim_singletons"]
    res = pool_multilevel(ds["yi"], ds["vi"], ds["study"], method=method)
    ref = meta.pool(ds["yi"], ds["vi"], method=method)
    assert not res.identified
    assert res.sigma2_study == res.sigma2_within == pytest.approx(ref.tau2 / 2, rel=1e-12)
    assert res.coef[0] == pytest.approx(ref.estimate, rel=1e-12)
    assert res.se[0] == pytest.approx(ref.se, rel=1e-12)
    assert res.pi_low == pytest.approx(ref.pi_low, rel=1e-12)


# ----------------------------------------------------------------------------- pimeta


PIMETA_ROWS = [r for r in FIXTURE["rma_mv"] if r["data"] in ("konstantopoulos2011", "sim_study_zero", "sim_within_zero")]


@pytest.mark.parametrize("row", PIMETA_ROWS, ids=_id)
def test_against_pimeta_rma_mv_and_robust(row):
    """pimeta 1.1.0 (rma_mv with L-BFGS-B on dense k x k matrices, numerical gradient; robust with
    clubSandwich=True). Its optimiser, like R's, stops short of the maximum by up to ~1e-7 in the
    components (9e-8 here): the same tolerances as against R, and our log-likelihood at least its."""
    pimeta = pytest.importorskip("pimeta")
    ds = DATA[row["data"]]
    X = moderators(row)
    ours = fit_row(row)
    with warnings.catch_warnings():
        # pimeta's matrix_power raises a negative eigenvalue to -1/2 before discarding it
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = pimeta.rma_mv(ds["yi"], ds["vi"], mods=X, data={"study": ds["study"], "estimate": ds["estimate"]},
                               random="~ 1 | study/estimate", method=row["method"])
        cluster = ds["clusters"][next(iter(ds["clusters"]))]
        their_robust = pimeta.robust(theirs, cluster=np.asarray(cluster), clubSandwich=True, vcov="CR2")
    assert ours.loglik >= theirs.ll - EXACT
    assert np.allclose(ours.sigma2, theirs.sigma2, rtol=0, atol=COMPONENTS)
    assert close(ours.coef, theirs.beta, OPTIMUM) and close(ours.se, theirs.se, OPTIMUM)
    assert ours.qe == pytest.approx(theirs.qe, rel=1e-10)
    rob = robust(ours, cluster)
    assert close(rob.se, their_robust["se"], OPTIMUM) and close(rob.df, their_robust["dfs"], OPTIMUM)


# ----------------------------------------------------------------------------- PyMARE


def _pymare_robust(y, v, X, res, cluster, method):
    from pymare import stats as pstats

    design = np.ones((len(y), 1)) if X is None else np.column_stack([np.ones(len(y)), X])
    beta = np.atleast_1d(res.estimate if X is None else res.coef)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # its advice on few clusters
        cov = pstats.cluster_robust_cov(y[:, None], v[:, None], design, beta, cluster, tau2=res.tau2,
                                        small_sample=False, method=method)[:, :, 0]
        dof = pstats.satterthwaite_dof(design, 1 / (v + res.tau2), cluster)[:, 0]
    return cov, dof


@pytest.mark.parametrize("with_moderator", [False, True])
@pytest.mark.parametrize("method", ["REML", "DL", "FE"])
def test_against_pymare_cluster_robust_cov(with_moderator, method):
    """PyMARE's CR0 is clubSandwich's. Its CR2 takes the adjustment symmetric in the whitened
    metric, which equals clubSandwich's when the weights are constant within each cluster (its
    docstring says so): compared there, with its Satterthwaite df."""
    pytest.importorskip("pymare")
    ds = DATA["sim_unbalanced"]
    y, v, cluster = np.asarray(ds["yi"]), np.asarray(ds["vi"]), np.asarray(ds["clusters"]["study"])
    X = np.asarray(ds["mods"]["x"]) if with_moderator else None
    for variances, adjustment in ((v, "CR0"), (np.bincount(cluster, v)[cluster] / np.bincount(cluster)[cluster], "CR2")):
        res = meta.pool(y, variances, method=method) if X is None else meta.metareg(y, variances, X, method=method)
        cov, dof = _pymare_robust(y, variances, X, res, cluster, adjustment)
        ours = robust(res, cluster, vcov=adjustment)
        assert np.allclose(ours.vcov, cov, rtol=1e-10, atol=0)
        if adjustment == "CR2":
            assert np.allclose(ours.df, dof, rtol=1e-10)


# ----------------------------------------------------------------------------- the likelihood, densely


def _dense(y, v, X, study, theta, reml):
    """Log-likelihood, score and informations from the k x k matrices (the textbook formulas)."""
    same = (study[:, None] == study[None, :]).astype(float)
    V = np.diag(v + theta[1]) + theta[0] * same
    Vi = np.linalg.inv(V)
    B = np.linalg.inv(X.T @ Vi @ X)
    P = Vi - Vi @ X @ B @ X.T @ Vi
    r = y - X @ (B @ X.T @ Vi @ y)
    k, p = X.shape
    ll = -0.5 * (np.linalg.slogdet(V)[1] + r @ Vi @ r)
    if reml:
        ll -= 0.5 * ((k - p) * np.log(2 * np.pi) - np.linalg.slogdet(X.T @ X)[1] + np.linalg.slogdet(X.T @ Vi @ X)[1])
    else:
        ll -= 0.5 * k * np.log(2 * np.pi)
    Q = P if reml else Vi
    e = P @ y
    dV = (same, np.eye(k))
    score = np.array([0.5 * (e @ D @ e - np.trace(Q @ D)) for D in dV])
    expected = np.array([[0.5 * np.trace(Q @ Da @ Q @ Db) for Db in dV] for Da in dV])
    observed = np.array([[e @ Da @ P @ Db @ e for Db in dV] for Da in dV]) - expected
    return ll, score, expected, observed


@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_closed_form_blocks_equal_the_dense_formulas(reml, seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, size=8)
    study = np.repeat(np.arange(8), sizes)
    k = study.size
    v = rng.uniform(0.01, 0.2, k)
    X = np.column_stack([np.ones(k), rng.normal(size=k)])
    y = rng.normal(size=k)
    theta = np.array([rng.uniform(0, 0.3), rng.uniform(0, 0.3)])
    point = multilevel._ThreeLevel(y, v, X, study, reml).evaluate(theta)
    ll, score, expected, observed = _dense(y, v, X, study, theta, reml)
    assert point.loglik == pytest.approx(ll, rel=1e-12)
    assert np.allclose(point.score, score, rtol=1e-10, atol=1e-12)
    assert np.allclose(point.expected, expected, rtol=1e-10)
    assert np.allclose(point.observed, observed, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------- bad input


KONST = DATA["konstantopoulos2011"]
Y, V, S = np.asarray(KONST["yi"]), np.asarray(KONST["vi"]), np.asarray(KONST["study"])
YEAR = np.asarray(KONST["mods"]["year"])


@pytest.mark.parametrize("args, word", [
    ((Y[:-1], V, S), "different lengths"),
    ((Y, V, S[:-1]), "study has 55 entries but there are 56"),
    ((Y, V, S, YEAR[:-1]), "55 rows but there are 56"),
    ((np.where(np.arange(56) == 3, np.nan, Y), V, S), "yi has 1 missing"),
    ((np.where(np.arange(56) == 3, np.inf, Y), V, S), "yi has 1 missing or non-finite"),
    ((Y, np.where(np.arange(56) == 3, np.inf, V), S), "vi has 1 missing or non-finite"),
    ((Y, np.where(np.arange(56) == 3, 0.0, V), S), "zero or negative"),
    ((Y, np.where(np.arange(56) == 3, -0.1, V), S), "zero or negative"),
    ((Y, V, np.where(np.arange(56) == 3, np.nan, S)), "study has 1 missing"),
    ((Y, V, np.array([None] + [1] * 55, dtype=object)), "study has 1 missing"),
    ((Y, V, np.ones(56)), "only one study"),
    ((Y, V, S, np.where(np.arange(56) == 3, np.nan, YEAR)), "non-finite"),
    ((Y, V, S, np.column_stack([YEAR, 2 * YEAR])), "singular"),
    ((Y, V, S, np.ones(56)), "singular"),
    ((Y[:3], V[:3], [1, 2, 2], np.column_stack([[0.0, 1, 2], [0.0, 1, 4]])), "k > p"),
])
def test_pool_multilevel_bad_input(args, word):
    with pytest.raises(ValueError, match=word):
        pool_multilevel(*args)


@pytest.mark.parametrize("kwargs, word", [({"method": "DL"}, "unknown method"), ({"level": 95}, "level"),
                                          ({"sigma2": (0.1,)}, "two entries"), ({"sigma2": (-0.1, None)}, "non-negative"),
                                          ({"sigma2": (np.inf, 0.0)}, "non-negative"), ({"sigma2": ("a", 0)}, "two numbers")])
def test_pool_multilevel_bad_options(kwargs, word):
    with pytest.raises(ValueError, match=word):
        pool_multilevel(Y, V, S, **kwargs)


def test_robust_bad_input():
    res = pool_multilevel(Y, V, S)
    with pytest.raises(ValueError, match="cluster has 55 entries but there are 56"):
        robust(res, S[:-1])
    with pytest.raises(ValueError, match="cluster has 1 missing"):
        robust(res, np.where(np.arange(56) == 0, np.nan, S))
    with pytest.raises(ValueError, match="single cluster"):
        robust(res, np.zeros(56))
    with pytest.raises(ValueError, match="does not match the result: 11 stud"):
        robust(res, np.arange(56))  # each estimate its own cluster: the studies are split
    with pytest.raises(ValueError, match="unknown vcov"):
        robust(res, S, vcov="CR3")
    with pytest.raises(ValueError, match="level"):
        robust(res, S, level=1.5)
    with pytest.raises(TypeError, match="robust\\(\\) takes a result"):
        robust({"coef": 1}, S)
    # for pool and metareg every estimate is its own "study": any clustering nests them
    assert robust(meta.pool(Y, V), np.arange(56)).n_clusters == 56


def test_pool_results_keep_their_inputs_out_of_as_dict():
    r = meta.pool(Y, V)
    assert "yi" not in r.as_dict() and "vi" not in r.as_dict() and "weights" not in r.as_dict()
    assert np.array_equal(r.yi, Y) and r.yi is not Y  # a copy: the frozen result cannot change under the caller


def test_the_engine_exports_every_estimator_from_one_place():
    """``tracking_evidence.stats`` is the engine's front door; ``meta`` no longer re-exports the
    three-level model (the two modules imported each other)."""
    from tracking_evidence import stats

    assert stats.pool_multilevel is multilevel.pool_multilevel and stats.robust is multilevel.robust
    assert stats.pool is meta.pool
    assert not hasattr(meta, "pool_multilevel")


# ----------------------------------------------------------------------------- properties


def three_level_data(min_studies=2, max_studies=10, max_size=5, singletons=False):
    """(y, v, study): studies of 1..max_size estimates (exactly 1 with ``singletons``)."""
    sizes = st.lists(st.integers(1, 1 if singletons else max_size), min_size=min_studies, max_size=max_studies)

    def data(sz):
        k = sum(sz)
        return st.tuples(st.lists(st.floats(-3, 3, allow_nan=False), min_size=k, max_size=k),
                         st.lists(st.floats(0.005, 1, allow_nan=False), min_size=k, max_size=k),
                         st.just(np.repeat(np.arange(len(sz)), sz)))

    return sizes.flatmap(data)


SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
METHOD = st.sampled_from(["REML", "ML"])


@SETTINGS
@given(three_level_data(min_studies=3, singletons=True), METHOD)
def test_one_estimate_per_study_reduces_to_pool(data, method):
    y, v, study = np.asarray(data[0]), np.asarray(data[1]), data[2]
    res = pool_multilevel(y, v, study, method=method)
    ref = meta.pool(y, v, method=method)
    assert not res.identified
    assert res.sigma2_study + res.sigma2_within == pytest.approx(ref.tau2, rel=1e-12, abs=1e-15)
    assert res.coef[0] == pytest.approx(ref.estimate, rel=1e-10, abs=1e-12)
    assert res.se[0] == pytest.approx(ref.se, rel=1e-10)
    x = np.arange(y.size, dtype=float)
    reg, refreg = pool_multilevel(y, v, study, x, method=method), meta.metareg(y, v, x, method=method)
    assert np.allclose(reg.coef, refreg.coef, rtol=1e-9, atol=1e-11) and np.allclose(reg.se, refreg.se, rtol=1e-9)


@SETTINGS
@given(three_level_data(min_studies=3), METHOD, st.randoms(use_true_random=False))
def test_invariant_to_the_order_of_studies_and_estimates(data, method, rnd):
    y, v, study = np.asarray(data[0]), np.asarray(data[1]), data[2]
    assume(np.bincount(study).max() > 1)
    order = list(range(y.size))
    rnd.shuffle(order)
    relabel = np.asarray(rnd.sample(range(100), int(study.max()) + 1))  # study labels in another order too
    a = pool_multilevel(y, v, study, method=method)
    b = pool_multilevel(y[order], v[order], relabel[study[order]], method=method)
    for f in ("coef", "se", "sigma2_study", "sigma2_within", "loglik", "qe", "pi_low"):
        assert np.allclose(getattr(a, f), getattr(b, f), rtol=1e-8, atol=1e-10), f
    ra, rb = robust(a, study), robust(b, relabel[study[order]])
    assert np.allclose(ra.se, rb.se, rtol=1e-8, atol=1e-10) and np.allclose(ra.df, rb.df, rtol=1e-7)


@SETTINGS
@given(three_level_data(min_studies=3), METHOD, st.floats(0.1, 10))
def test_scale_equivariance(data, method, c):
    y, v, study = np.asarray(data[0]), np.asarray(data[1]), data[2]
    a = pool_multilevel(y, v, study, method=method)
    b = pool_multilevel(c * y, c * c * v, study, method=method)
    assert b.coef[0] == pytest.approx(c * a.coef[0], rel=1e-8, abs=1e-10)
    assert b.sigma2_study == pytest.approx(c * c * a.sigma2_study, rel=1e-7, abs=1e-10)
    assert b.sigma2_within == pytest.approx(c * c * a.sigma2_within, rel=1e-7, abs=1e-10)


@SETTINGS
@given(three_level_data(min_studies=3), METHOD, st.floats(0.5, 1.5), st.floats(0.5, 1.5), st.floats(0, 0.01))
def test_no_nearby_components_have_a_higher_likelihood(data, method, fs, fw, shift):
    """The fitted components maximise the (restricted) likelihood over sigma2 >= 0: any other
    point, here scaled and shifted, is no better."""
    y, v, study = np.asarray(data[0]), np.asarray(data[1]), data[2]
    assume(np.bincount(study).max() > 1)
    res = pool_multilevel(y, v, study, method=method)
    other = pool_multilevel(y, v, study, method=method,
                            sigma2=(fs * res.sigma2_study + shift, fw * res.sigma2_within + shift))
    assert other.loglik <= res.loglik + 1e-9 * max(1.0, abs(res.loglik))
