"""Meta-analytic pooling: fixed and random effects, heterogeneity, meta-regression.

One function per job, with metafor (Viechtbauer 2010) as the model and the reference: the tests
compare every quantity below with ``rma()``, ``predict()`` and ``confint()`` run on the same inputs
(``tests/reference/metafor.R``).

Notation: study ``i`` = 1..k reports an estimate :math:`y_i` with sampling variance :math:`v_i`.
The random-effects model is :math:`y_i = \\mu + u_i + e_i`, :math:`u_i \\sim N(0, \\tau^2)`,
:math:`e_i \\sim N(0, v_i)`; the fixed-effect (FE, "equal-effects") model sets :math:`\\tau^2 = 0`.
Given :math:`\\tau^2`, the estimate is the weighted mean with :math:`w_i = 1/(v_i + \\tau^2)`,

.. math:: \\hat\\mu = \\sum w_i y_i / \\sum w_i, \\qquad SE(\\hat\\mu) = (\\sum w_i)^{-1/2}.

Estimators of :math:`\\tau^2` (``method``):

* ``FE``: :math:`\\tau^2 = 0`.
* ``DL`` (DerSimonian and Laird 1986): :math:`\\max\\{0, (Q - (k-p)) / \\mathrm{tr}\\,P\\}` with
  Cochran's :math:`Q` and :math:`P = W - WX(X'WX)^{-1}X'W`, :math:`W = \\mathrm{diag}(1/v_i)`.
* ``HE`` (Hedges 1983): from the unweighted residual sum of squares,
  :math:`\\max\\{0, (RSS - \\mathrm{tr}(P_{OLS} V)) / (k-p)\\}`.
* ``SJ`` (Sidik and Jonkman 2005): :math:`\\tau_0^2 \\, y'P_0y/(k-p)`, with
  :math:`\\tau_0^2` the mean squared OLS residual and :math:`P_0` built on
  :math:`1/(v_i+\\tau_0^2)`.
* ``PM`` (Paule and Mandel 1982): the root of the generalised Q statistic,
  :math:`\\sum w_i(\\tau^2)(y_i - \\hat\\mu(\\tau^2))^2 = k - p` (0 if there is none).
* ``ML`` and ``REML``: maximum (restricted) likelihood, by Fisher scoring as metafor does:
  :math:`\\tau^2 \\leftarrow \\tau^2 + (y'PPy - \\mathrm{tr}P)/\\mathrm{tr}(PP)` for REML and
  :math:`\\tau^2 \\leftarrow \\tau^2 + (y'PPy - \\sum w_i)/\\sum w_i^2` for ML, P built on
  :math:`1/(v_i + \\tau^2)`, truncated at 0, to a change below 1e-10, started at the DL estimate;
  if scoring has not converged in 200 steps (it can cycle) the score equation is solved by
  bracketing instead (same root).

Knapp and Hartung (2003) (``knha=True``): the variance of the estimate is multiplied by
:math:`s^2 = \\sum w_i (y_i - \\hat\\mu)^2 / (k-p)` and intervals and tests use the t distribution
with :math:`k-p` degrees of freedom, also for the prediction interval, as metafor does (no
truncation of :math:`s^2` at 1).

Heterogeneity, as metafor defines it: Cochran's :math:`Q = \\sum (y_i - \\hat\\mu_{FE})^2/v_i`
(always the FE statistic) on :math:`k-p` degrees of freedom; the "typical" within-study variance
:math:`\\tilde v = (k-p)/\\mathrm{tr}P`; :math:`I^2 = \\tau^2/(\\tilde v + \\tau^2)` and
:math:`H^2 = (\\tilde v + \\tau^2)/\\tilde v` (for FE: :math:`I^2 = (Q-(k-p))/Q`,
:math:`H^2 = Q/(k-p)`). **I² and R² are returned as fractions** (metafor prints percent).
The prediction interval is :math:`\\hat\\mu \\pm c\\sqrt{SE^2 + \\tau^2}` (Higgins, Thompson and
Spiegelhalter 2009; metafor's ``predict``), c the normal or t quantile.

References: Viechtbauer (2005, 2007, 2010); DerSimonian and Laird (1986); Knapp and Hartung (2003);
Higgins and Thompson (2002).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special, stats

__all__ = ["METHODS", "PoolResult", "MetaRegResult", "pool", "tau2_ci", "metareg", "estimate_tau2", "check_inputs"]

# Dependent effect sizes (the three-level model, robust inference) build on this module in
# tracking_evidence.stats.multilevel; this module never imports it.

METHODS = ("FE", "DL", "HE", "SJ", "PM", "ML", "REML")

_THRESHOLD = 1e-10  # Fisher scoring stops when tau2 changes by less than this
_MAXITER = 200  # Fisher scoring iterations before the bracketing fallback


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def check_inputs(yi, vi, min_k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return ``(yi, vi)`` as float arrays; raise ``ValueError`` naming the problem."""
    try:
        y = np.asarray(yi, dtype=float)
        v = np.asarray(vi, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"yi and vi must be numeric: {exc}") from None
    if y.ndim != 1 or v.ndim != 1:
        raise ValueError(f"yi and vi must be one-dimensional (got shapes {y.shape} and {v.shape})")
    if y.shape != v.shape:
        raise ValueError(f"yi and vi have different lengths ({y.size} and {v.size})")
    if not np.all(np.isfinite(y)):
        bad = np.flatnonzero(~np.isfinite(y))
        raise ValueError(f"yi has {bad.size} missing or non-finite value(s) (first at position {bad[0]})")
    if not np.all(np.isfinite(v)):
        bad = np.flatnonzero(~np.isfinite(v))
        raise ValueError(f"vi has {bad.size} missing or non-finite value(s) (first at position {bad[0]})")
    if np.any(v <= 0):
        bad = np.flatnonzero(v <= 0)
        raise ValueError(
            f"vi must be strictly positive: {bad.size} zero or negative sampling variance(s) "
            f"(first at position {bad[0]}: {v[bad[0]]})"
        )
    if y.size < min_k:
        raise ValueError(f"k = {y.size} studies: this analysis needs at least {min_k}")
    return y, v


def _check_method(method: str) -> str:
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}")
    return method.upper()


def _check_level(level: float) -> float:
    if not (0 < level < 1):
        raise ValueError(f"level must be a probability in (0, 1) (got {level}); 0.95 for 95%")
    return float(level)


# --------------------------------------------------------------------------------------------
# weighted least squares pieces, vectorised over studies (O(k p^2))
# --------------------------------------------------------------------------------------------


def _wls(y: np.ndarray, X: np.ndarray | None, w: np.ndarray):
    """Weighted least squares: ``(beta, (X'WX)^-1, residuals)``; ``X`` None = intercept only."""
    if X is None:
        sw = w.sum()
        b = np.dot(w, y) / sw
        return np.array([b]), np.array([[1.0 / sw]]), y - b
    A = (X * w[:, None]).T @ X
    Ainv = np.linalg.inv(A)
    b = Ainv @ ((X * w[:, None]).T @ y)
    return b, Ainv, y - X @ b


def _xtdx(X: np.ndarray | None, d: np.ndarray) -> np.ndarray:
    """``X' diag(d) X`` (1 x 1 ``sum d`` when intercept only)."""
    if X is None:
        return np.array([[d.sum()]])
    return (X * d[:, None]).T @ X


def _trace_p(X, w, Ainv) -> float:
    """tr P for P = W - W X (X'WX)^-1 X'W."""
    if X is None:  # intercept only: sum w - sum w^2 / sum w
        sw = w.sum()
        return float(sw - np.dot(w, w) / sw)
    return float(w.sum() - np.trace(Ainv @ _xtdx(X, w * w)))


def _trace_pp(X, w, Ainv) -> float:
    """tr(PP) = sum w^2 - 2 tr(A^-1 X'W^3X) + tr((A^-1 X'W^2X)^2)."""
    if X is None:
        sw, w2 = w.sum(), w * w
        s2 = w2.sum()
        return float(s2 - 2 * np.dot(w2, w) / sw + (s2 / sw) ** 2)
    B = Ainv @ _xtdx(X, w * w)
    return float((w * w).sum() - 2 * np.trace(Ainv @ _xtdx(X, w**3)) + np.trace(B @ B))


def _q_gen(y, v, X, tau2: float) -> float:
    """Generalised Q: sum w_i (y_i - x_i b)^2 with w_i = 1/(v_i + tau2)."""
    w = 1.0 / (v + tau2)
    _, _, r = _wls(y, X, w)
    return float(np.dot(w, r * r))


def _loglik(y, v, X, reml: bool, tau2: float) -> float:
    """(Restricted) log-likelihood of tau2, up to a constant: -1/2 [sum log(v+t) (+ log|X'WX|) + r'Wr]."""
    w = 1.0 / (v + tau2)
    _, Ainv, r = _wls(y, X, w)
    ll = np.log(v + tau2).sum() + np.dot(w, r * r)
    if reml:
        ll -= np.linalg.slogdet(Ainv)[1]
    return float(-0.5 * ll)


def _fisher_scoring(y, v, X, p: int, reml: bool, tau2: float) -> tuple[float, int]:
    """Fisher scoring for tau2 with metafor's updates, truncated at 0 (for intercept-only REML, a
    Newton step with the observed information replaces the Fisher step when it is defined and
    points the same way: same root, fewer iterations). If it has not converged after
    ``_MAXITER`` steps (it can cycle, e.g. when one very precise study is an outlier), the score
    equation is solved by bracketing instead (:func:`_score_root`): the same root."""
    intercept_only = X is None
    if intercept_only:  # preallocated buffers: no new arrays per iteration (matters at k = 100,000)
        w, r, tmp = np.empty_like(y), np.empty_like(y), np.empty_like(y)
    for iteration in range(1, _MAXITER + 1):
        if intercept_only:  # scalar sums only
            np.add(v, tau2, out=w)
            np.reciprocal(w, out=w)
            sw = w.sum()
            np.subtract(y, np.dot(w, y) / sw, out=r)
            np.multiply(w, r, out=r)  # r now holds P y
            ypp = np.dot(r, r)
            np.multiply(w, w, out=tmp)
            s2 = tmp.sum()
            if reml:
                score = ypp - (sw - s2 / sw)  # y'PPy - tr P
                trpp = s2 - 2 * np.dot(tmp, w) / sw + (s2 / sw) ** 2
                adj = score / trpp  # Fisher scoring (metafor)
                # Newton step with the observed information 2 y'PPPy - tr(PP): the same root, reached
                # in fewer steps; used only when it is defined and points the same way as Fisher's
                ypppy = np.dot(w, r * r) - np.dot(w, r) ** 2 / sw
                observed = 2 * ypppy - trpp
                if observed > 0 and score / observed * adj > 0:
                    adj = score / observed
            else:
                adj = (ypp - sw) / s2
        else:
            w = 1.0 / (v + tau2)
            _, Ainv, r = _wls(y, X, w)
            pr = w * r  # P y
            if reml:
                adj = (np.dot(pr, pr) - _trace_p(X, w, Ainv)) / _trace_pp(X, w, Ainv)
            else:
                adj = (np.dot(pr, pr) - w.sum()) / np.dot(w, w)
        new = max(0.0, float(tau2 + adj))
        if abs(new - tau2) < _THRESHOLD:
            return new, iteration
        tau2 = new
    return _score_root(y, v, X, reml), _MAXITER


def _score(y, v, X, reml: bool, tau2: float) -> float:
    """Twice the derivative of the (restricted) log-likelihood in tau2: y'PPy - tr P (REML), r'W^2r - sum w (ML)."""
    w = 1.0 / (v + tau2)
    _, Ainv, r = _wls(y, X, w)
    pr = w * r
    return float(np.dot(pr, pr) - (_trace_p(X, w, Ainv) if reml else w.sum()))


def _score_root(y, v, X, reml: bool) -> float:
    """Fallback when Fisher scoring cycles (a very precise outlying study can make the expected
    information a poor guide): the root of the score equation by bracketing (Brent), 0 if the
    score is not positive at 0."""
    if _score(y, v, X, reml, 0.0) <= 0:
        return 0.0
    hi = max(float(np.var(y)), 1e-6)
    while _score(y, v, X, reml, hi) > 0:
        hi *= 4
        if hi > 1e300:
            raise RuntimeError("could not bracket the root of the likelihood score for tau2")
    return float(optimize.brentq(lambda t: _score(y, v, X, reml, t), 0.0, hi, xtol=1e-14, rtol=1e-14, maxiter=500))


def _root_q(y, v, X, target: float, hint: float) -> float:
    """The tau2 >= 0 at which the generalised Q equals ``target`` (Q decreases in tau2); 0 if Q(0) <= target."""
    if _q_gen(y, v, X, 0.0) <= target:
        return 0.0
    hi = max(hint, 1e-8)
    while _q_gen(y, v, X, hi) > target:
        hi *= 4
        if hi > 1e300:
            raise RuntimeError("could not bracket the root of the generalised Q statistic")
    return float(optimize.brentq(lambda t: _q_gen(y, v, X, t) - target, 0.0, hi, xtol=1e-14, rtol=1e-14, maxiter=500))


def _fe_pieces(y: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """Intercept-only FE pieces: weights 1/v, their sum, Cochran's Q and tr P."""
    w0 = 1.0 / v
    sw0 = float(w0.sum())
    r = y - np.dot(w0, y) / sw0
    q = float(np.dot(w0 * r, r))
    return w0, sw0, q, float(sw0 - np.dot(w0, w0) / sw0)


def estimate_tau2(y: np.ndarray, v: np.ndarray, X: np.ndarray | None, method: str, fe=None) -> float:
    """Between-study variance by ``method`` (see the module docstring); inputs already checked.
    ``fe``: the intercept-only FE pieces (:func:`_fe_pieces`) if already computed."""
    k = y.size
    p = 1 if X is None else X.shape[1]
    if method == "FE":
        return 0.0
    if method == "DL":
        if X is None:
            _, sw0, q, trp0 = fe if fe is not None else _fe_pieces(y, v)
            return max(0.0, (q - (k - 1)) / trp0)
        w = 1.0 / v
        _, Ainv, r = _wls(y, X, w)
        q = float(np.dot(w, r * r))
        return max(0.0, (q - (k - p)) / _trace_p(X, w, Ainv))
    if method in ("ML", "REML"):
        tau2, _ = _fisher_scoring(y, v, X, p, method == "REML", estimate_tau2(y, v, X, "DL", fe))
        return tau2
    # unweighted (OLS) pieces: the HE estimator, the SJ start and the PM bracket
    if X is None:
        r_ols = y - y.mean()
        trace_pv = v.sum() * (1 - 1 / k)
    else:
        _, Ainv_ols, r_ols = _wls(y, X, np.ones(k))
        trace_pv = v.sum() - np.trace(Ainv_ols @ _xtdx(X, v))
    rss = float(np.dot(r_ols, r_ols))
    he = (rss - trace_pv) / (k - p)
    if method == "HE":
        return max(0.0, float(he))
    if method == "SJ":
        tau0 = rss / k
        if tau0 <= 0:
            return 0.0
        return float(tau0 * _q_gen(y, v, X, tau0) / (k - p))
    if method == "PM":
        return _root_q(y, v, X, k - p, hint=max(he, rss / k, 1e-4))
    raise ValueError(f"unknown method {method!r}; use one of {METHODS}")  # pragma: no cover


def _heterogeneity(y, v, X, p: int, tau2: float, method: str, fe=None) -> tuple[float, float, float, float]:
    """``(Q, Q p-value, I2 as a fraction, H2)`` as metafor computes them."""
    k = y.size
    if X is None:
        _, _, q, trp = fe if fe is not None else _fe_pieces(y, v)
    else:
        w = 1.0 / v
        _, Ainv, r = _wls(y, X, w)
        q = float(np.dot(w, r * r))
        trp = _trace_p(X, w, Ainv)
    df = k - p
    q_p = float(special.chdtrc(df, q)) if df > 0 else 1.0
    if method == "FE":
        i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
        h2 = q / df if df > 0 else float("nan")
    else:
        vt = df / trp
        i2 = tau2 / (vt + tau2)
        h2 = (vt + tau2) / vt
    return q, q_p, float(i2), float(h2)


# --------------------------------------------------------------------------------------------
# pooling
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolResult:
    """A pooled estimate. ``i2`` is a fraction (metafor prints percent). ``df`` is None for z tests.

    ``yi``, ``vi``: the inputs, kept for :func:`robust` (cluster-robust inference needs the
    working model); like ``weights`` they are not part of ``as_dict()`` or of comparisons.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_pvalue: float
    k: int
    method: str
    knha: bool
    level: float
    stat: float
    pvalue: float
    df: int | None
    weights: np.ndarray = field(repr=False, compare=False)
    yi: np.ndarray | None = field(default=None, repr=False, compare=False)
    vi: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def tau(self) -> float:
        return float(np.sqrt(self.tau2))

    def as_dict(self) -> dict:
        """The scalar fields (no weights, no inputs), for tables and glue."""
        return {k: v for k, v in self.__dict__.items() if k not in ("weights", "yi", "vi")}


def pool(yi, vi, method: str = "REML", knha: bool = False, level: float = 0.95) -> PoolResult:
    """Pool estimates ``yi`` with sampling variances ``vi`` (metafor's ``rma(yi, vi, method, test)``).

    ``method``: "FE", "DL", "HE", "SJ", "PM", "ML" or "REML" (formulas in the module docstring).
    ``knha=True``: Knapp-Hartung adjustment, t distribution on k-1 df for the CI, the test and the
    prediction interval. Random effects and KNHA need k >= 2.
    """
    method = _check_method(method)
    level = _check_level(level)
    y, v = check_inputs(yi, vi, min_k=1 if (method == "FE" and not knha) else 2)
    k = y.size
    fe = _fe_pieces(y, v)
    tau2 = estimate_tau2(y, v, None, method, fe)
    w = fe[0] if tau2 == 0 else 1.0 / (v + tau2)
    sw = w.sum()
    est = float(np.dot(w, y) / sw)
    var = 1.0 / sw
    if knha:
        r = y - est
        var *= float(np.dot(w, r * r)) / (k - 1)
        df = k - 1
        crit = float(special.stdtrit(df, 0.5 + level / 2))
    else:
        df = None
        crit = float(special.ndtri(0.5 + level / 2))
    se = float(np.sqrt(var))
    stat = est / se if se > 0 else float("inf")
    # scipy.special's t and normal functions: the same values as scipy.stats, without its overhead
    pvalue = float(2 * (special.stdtr(df, -abs(stat)) if knha else special.ndtr(-abs(stat))))
    half_pi = crit * np.sqrt(var + tau2)
    q, q_p, i2, h2 = _heterogeneity(y, v, None, 1, tau2, method, fe)
    return PoolResult(
        estimate=est,
        se=se,
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        pi_low=float(est - half_pi),
        pi_high=float(est + half_pi),
        tau2=float(tau2),
        i2=i2,
        h2=h2,
        q=q,
        q_pvalue=q_p,
        k=int(k),
        method=method,
        knha=bool(knha),
        level=level,
        stat=float(stat),
        pvalue=pvalue,
        df=df,
        weights=w / sw,
        yi=y.copy(),  # copies: the caller may reuse its arrays, a frozen result must not change
        vi=v.copy(),
    )


def tau2_ci(yi, vi, level: float = 0.95, X=None) -> tuple[float, float]:
    """Q-profile confidence interval for tau2 (Viechtbauer 2007; metafor's ``confint``).

    The bounds solve :math:`Q_{gen}(\\tau^2) = \\chi^2_{k-p; 1-\\alpha/2}` (lower) and
    :math:`\\chi^2_{k-p; \\alpha/2}` (upper); a bound is 0 when :math:`Q_{gen}(0)` is already below
    its quantile. ``X``: moderators (without intercept) for a residual-heterogeneity interval.
    """
    level = _check_level(level)
    y, v = check_inputs(yi, vi, min_k=2)
    Xf = None if X is None else _design(X, y.size)[0]
    p = 1 if Xf is None else Xf.shape[1]
    df = y.size - p
    if df < 1:
        raise ValueError(f"k = {y.size} studies and {p} coefficients: no degrees of freedom left for tau2")
    alpha = 1 - level
    hint = max(float(np.var(y)), 1e-4)
    low = _root_q(y, v, Xf, float(stats.chi2.ppf(1 - alpha / 2, df)), hint)
    high = _root_q(y, v, Xf, float(stats.chi2.ppf(alpha / 2, df)), hint)
    return low, high


# --------------------------------------------------------------------------------------------
# meta-regression
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetaRegResult:
    """A mixed-effects meta-regression (metafor's ``rma(yi, vi, mods = X)``).

    ``qm``: omnibus test of every coefficient but the intercept, a chi-square on ``qm_df[0]`` df,
    or with KNHA an F on ``qm_df`` (metafor's convention: the F value is QM/m). ``r2`` is the share
    of tau2 explained, ``max(0, (tau2_RE - tau2) / tau2_RE)``, as a fraction; for FE models, as
    metafor, the adjusted R^2 of the weighted regression, ``1 - (QE/Q)(k-1)/(k-p)``. ``X`` (the
    design, with its intercept), ``yi`` and ``vi`` are kept for :func:`robust`.
    """

    names: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    stat: np.ndarray
    pvalue: np.ndarray
    vcov: np.ndarray
    qm: float
    qm_pvalue: float
    qm_df: tuple[int, int | None]
    qe: float
    qe_pvalue: float
    tau2: float
    tau2_re: float | None
    r2: float | None
    i2: float
    h2: float
    k: int
    method: str
    knha: bool
    level: float
    X: np.ndarray | None = field(default=None, repr=False, compare=False)
    yi: np.ndarray | None = field(default=None, repr=False, compare=False)
    vi: np.ndarray | None = field(default=None, repr=False, compare=False)

    def table(self):
        """Coefficients as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(
            {"coef": self.coef, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high,
             "stat": self.stat, "pvalue": self.pvalue},
            index=list(self.names),
        )


def _design(X, k: int, intercept: bool = True, names=None) -> tuple[np.ndarray, tuple[str, ...]]:
    if hasattr(X, "columns"):  # a pandas DataFrame
        names = tuple(str(c) for c in X.columns)
        X = X.to_numpy(dtype=float)
    try:
        M = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"moderator matrix X must be numeric: {exc}") from None
    if M.ndim == 1:
        M = M[:, None]
    if M.ndim != 2:
        raise ValueError(f"moderator matrix X must be two-dimensional (got shape {M.shape})")
    if M.shape[0] != k:
        raise ValueError(f"moderator matrix X has {M.shape[0]} rows but there are {k} studies (yi)")
    if not np.all(np.isfinite(M)):
        rows = np.flatnonzero(~np.all(np.isfinite(M), axis=1))
        raise ValueError(f"moderator matrix X has missing or non-finite values in {rows.size} row(s) (first: {rows[0]})")
    if names is None:
        names = tuple(f"x{j + 1}" for j in range(M.shape[1]))
    if intercept:
        M = np.column_stack([np.ones(k), M])
        names = ("intercept", *names)
    rank = np.linalg.matrix_rank(M)
    if rank < M.shape[1]:
        raise ValueError(
            f"moderator matrix is singular: rank {rank} with {M.shape[1]} columns {list(names)} "
            "(a moderator is constant or a linear combination of others)"
        )
    return M, tuple(names)


def metareg(yi, vi, X, method: str = "REML", knha: bool = False, level: float = 0.95,
            intercept: bool = True, names=None) -> MetaRegResult:
    """Mixed-effects meta-regression of ``yi`` on the moderators ``X`` (k x m; an intercept is added).

    Model :math:`y_i = x_i'\\beta + u_i + e_i`; :math:`\\hat\\beta = (X'WX)^{-1}X'Wy`,
    :math:`Var(\\hat\\beta) = (X'WX)^{-1}` (times the KNHA factor :math:`s^2`), residual tau2 by
    ``method``; QE is the FE residual heterogeneity statistic on k - p df.
    """
    method = _check_method(method)
    level = _check_level(level)
    y, v = check_inputs(yi, vi, min_k=2)
    M, names = _design(X, y.size, intercept, names)
    k, p = M.shape
    if k - p < 1:
        raise ValueError(f"k = {k} studies for {p} coefficients: meta-regression needs k > p")
    tau2 = estimate_tau2(y, v, M, method)
    w = 1.0 / (v + tau2)
    b, Ainv, r = _wls(y, M, w)
    vb = Ainv.copy()
    if knha:
        vb *= float(np.dot(w, r * r)) / (k - p)
        df = k - p
        crit = float(stats.t.ppf(0.5 + level / 2, df))
    else:
        df = None
        crit = float(stats.norm.ppf(0.5 + level / 2))
    se = np.sqrt(np.diag(vb))
    z = b / se
    pval = 2 * (stats.t.sf(np.abs(z), df) if knha else stats.norm.sf(np.abs(z)))
    first = 1 if intercept else 0
    m = p - first
    if m > 0:
        bb = b[first:]
        qm = float(bb @ np.linalg.solve(vb[first:, first:], bb))
        if knha:
            qm /= m
            qm_p = float(stats.f.sf(qm, m, df))
        else:
            qm_p = float(stats.chi2.sf(qm, m))
    else:
        qm, qm_p = float("nan"), float("nan")
    qe, qe_p, i2, h2 = _heterogeneity(y, v, M, p, tau2, method)
    tau2_re = r2 = None
    if intercept and method == "FE":
        # metafor, for FE models: the adjusted R^2 of the weighted regression (weights 1/vi)
        q_total = _heterogeneity(y, v, None, 1, 0.0, "FE")[0]
        r2 = max(0.0, 1 - (qe / q_total) * (k - 1) / (k - p)) if q_total > 0 else 0.0
    elif intercept:
        tau2_re = estimate_tau2(y, v, None, method)
        r2 = max(0.0, (tau2_re - tau2) / tau2_re) if tau2_re > 0 else 0.0
    return MetaRegResult(
        names=names, coef=b, se=se, ci_low=b - crit * se, ci_high=b + crit * se, stat=z, pvalue=pval, vcov=vb,
        qm=qm, qm_pvalue=qm_p, qm_df=(m, df), qe=qe, qe_pvalue=qe_p, tau2=float(tau2), tau2_re=tau2_re, r2=r2,
        i2=i2, h2=h2, k=int(k), method=method, knha=bool(knha), level=level, X=M, yi=y.copy(), vi=v.copy(),
    )
