"""Dependent effect sizes: the three-level meta-analysis and cluster-robust (CR2) inference.

Two functions, with R as the model and the reference (``tests/reference/multilevel.R``):

* :func:`pool_multilevel`: metafor's ``rma.mv(yi, vi, mods, random = ~ 1 | study/estimate)``;
* :func:`robust`: clubSandwich's ``coef_test(model, vcov = "CR2", test = "Satterthwaite")`` for
  :func:`pool_multilevel`, :func:`tracking_evidence.stats.meta.pool` and
  :func:`tracking_evidence.stats.meta.metareg` results.

**The model** (Konstantopoulos 2011; Cheung 2014). Estimate ``j`` of study ``i`` is

.. math:: y_{ij} = x_{ij}'\\beta + u_i + w_{ij} + e_{ij}, \\quad u_i \\sim N(0, \\sigma^2_{study}),
          \\; w_{ij} \\sim N(0, \\sigma^2_{within}), \\; e_{ij} \\sim N(0, v_{ij}),

so the estimates of one study share :math:`u_i` and the marginal covariance is block diagonal with
compound-symmetric blocks :math:`V_i = \\mathrm{diag}(v_{ij} + \\sigma^2_{within}) + \\sigma^2_{study} J`.
Given the variance components, :math:`\\hat\\beta = (X'V^{-1}X)^{-1}X'V^{-1}y` with
:math:`Var(\\hat\\beta) = (X'V^{-1}X)^{-1}` and z tests, as ``rma.mv``'s default ``test = "z"``.
The components maximise the log-likelihood (``ML``) or the restricted log-likelihood (``REML``),
in metafor's form (its ``logLik``), with :math:`r = y - X\\hat\\beta`:

.. math:: \\ell_{ML} = -\\tfrac12 [k \\log 2\\pi + \\log|V| + r'V^{-1}r],

.. math:: \\ell_{REML} = -\\tfrac12 [(k-p) \\log 2\\pi - \\log|X'X| + \\log|V| + \\log|X'V^{-1}X| + r'V^{-1}r].

Each block is inverted in closed form (Sherman-Morrison): with :math:`a_{ij} = 1/(v_{ij} +
\\sigma^2_{within})`, :math:`A_i = \\sum_j a_{ij}` and :math:`c_i = \\sigma^2_{study}/(1 +
\\sigma^2_{study} A_i)`, :math:`V_i^{-1} = \\mathrm{diag}(a_i) - c_i a_i a_i'` and
:math:`\\log|V_i| = \\sum_j \\log(v_{ij} + \\sigma^2_{within}) + \\log(1 + \\sigma^2_{study} A_i)`:
every quantity is a sum over studies, computed for all studies at once (no k x k matrix). The
score, the expected (Fisher) and the observed information are analytic (Searle, Casella and
McCulloch 1992, ch. 6); the maximum over the quadrant :math:`\\sigma^2 \\ge 0` is found by a
projected Newton iteration (observed information where it is positive definite, Fisher's
otherwise) with step halving, from three starts, keeping the highest likelihood. A component at
the boundary is exactly 0 (metafor optimises on the log scale and reports 1e-10 or so instead).

When no study has more than one estimate the two components are not separately identified (only
their sum is). Then the fit is the random-effects model of :func:`tracking_evidence.stats.meta.pool` /
``metareg`` with :math:`\\tau^2` by the same method, and each component is reported as
:math:`\\tau^2/2`, which is what ``rma.mv`` returns (its optimiser is symmetric in the two);
``identified`` is False. Q_E is the fixed-effect residual heterogeneity statistic (weights
:math:`1/v_{ij}`) on k - p df, as ``rma.mv`` reports it; for intercept-only models the prediction
interval is :math:`\\hat\\mu \\pm z \\sqrt{SE^2 + \\sigma^2_{study} + \\sigma^2_{within}}` (metafor's
``predict``).

**Cluster-robust inference** (Bell and McCaffrey 2002; Pustejovsky and Tipton 2018; clubSandwich).
With the model's working covariance :math:`\\Theta_c` and weights :math:`W_c = \\Theta_c^{-1}` of
cluster ``c``, :math:`B = (X'WX)^{-1}` and residuals :math:`e_c`,

.. math:: V^{CR} = B \\left[\\sum_c X_c'W_cA_ce_ce_c'A_c'W_cX_c\\right] B,

with :math:`A_c = I` (CR0), :math:`\\sqrt{C/(C-1)}\\,I` (CR1, C clusters) or, for CR2, the
bias-reduced linearisation :math:`A_c = R_c'[R_c(I - H_{cc})\\Theta_cR_c']^{-1/2}R_c`, where
:math:`\\Theta_c = R_c'R_c`, :math:`H_{cc} = X_cBX_c'W_c` and the inverse square root is the
symmetric one (eigenvalues below 1e-12 on clubSandwich's scale set to 0). Tests and intervals
use the t distribution with Satterthwaite degrees of freedom for each coefficient ``i``,
:math:`\\nu_i = (\\mathrm{tr}\\,P_i)^2/\\|P_i\\|_F^2`, with clubSandwich's working-model
:math:`P_i = \\mathrm{diag}_c(m_{ci}'\\Theta_cm_{ci}) - K_iBK_i'`, :math:`m_{ci}` the i-th row of
:math:`BX_c'W_cA_c` and row c of :math:`K_i` the i-th row of :math:`BX_c'W_cA_cX_c`.

References: Konstantopoulos (2011), Res Synth Methods 2:61-76; Cheung (2014), Psychol Methods
19:211-229; Viechtbauer (2010), J Stat Softw 36(3) (metafor); Bell and McCaffrey (2002), Surv
Methodol 28:169-181; Pustejovsky and Tipton (2018), J Bus Econ Stat 36:672-683.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from . import meta

__all__ = ["ROBUST_TYPES", "MultilevelResult", "RobustResult", "pool_multilevel", "robust"]

ROBUST_TYPES = ("CR0", "CR1", "CR2")
_LOG_2PI = float(np.log(2 * np.pi))
_MAXITER = 100  # Newton iterations per start; the scipy fallback takes over beyond
_STEP_TOL = 1e-11  # converged when no component moves by more than this (relative to the scale)
_EIGEN_FLOOR = 1e-12  # clubSandwich's matrix_power: eigenvalues at or below are treated as 0


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MultilevelResult:
    """A three-level meta-analysis (``rma.mv(yi, vi, mods, random = ~ 1 | study/estimate)``).

    ``pi_low``/``pi_high`` are None when there are moderators. ``identified`` is False when no
    study has two or more estimates (the components are then ``tau2/2`` each; see the module
    docstring). The arrays after ``identified`` are the working model that :func:`robust` needs,
    in the order of the input: the design (with its intercept), the inputs, the integer study
    codes and the residuals ``yi - X coef``.
    """

    names: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    zval: np.ndarray
    pval: np.ndarray
    vcov: np.ndarray
    sigma2_study: float
    sigma2_within: float
    qe: float
    qe_df: int
    qe_pvalue: float
    loglik: float
    k: int
    n_studies: int
    method: str
    level: float
    pi_low: float | None
    pi_high: float | None
    identified: bool
    X: np.ndarray = field(repr=False, compare=False)
    yi: np.ndarray = field(repr=False, compare=False)
    vi: np.ndarray = field(repr=False, compare=False)
    study: np.ndarray = field(repr=False, compare=False)
    residuals: np.ndarray = field(repr=False, compare=False)

    @property
    def sigma2(self) -> tuple[float, float]:
        """``(sigma2_study, sigma2_within)``, in rma.mv's order."""
        return self.sigma2_study, self.sigma2_within

    def table(self):
        """Coefficients as a pandas DataFrame."""
        return _table(self.names, coef=self.coef, se=self.se, zval=self.zval, pval=self.pval,
                      ci_low=self.ci_low, ci_high=self.ci_high)


@dataclass(frozen=True)
class RobustResult:
    """Cluster-robust tests (``clubSandwich::coef_test(..., test = "Satterthwaite")`` and ``conf_int``)."""

    names: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    tstat: np.ndarray
    df: np.ndarray
    pvalue: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    vcov: np.ndarray
    vcov_type: str
    n_clusters: int
    level: float

    def table(self):
        """Coefficients as a pandas DataFrame."""
        return _table(self.names, coef=self.coef, se=self.se, tstat=self.tstat, df=self.df,
                      pvalue=self.pvalue, ci_low=self.ci_low, ci_high=self.ci_high)


def _table(names, **columns):
    import pandas as pd

    return pd.DataFrame(columns, index=list(names))


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------


def _group_codes(values, k: int, what: str) -> np.ndarray:
    """Integer codes 0..n-1 (in sorted label order) of a grouping vector of length ``k``;
    ``ValueError`` if its length is wrong or a label is missing."""
    labels = np.asarray(values)
    if labels.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional (got shape {labels.shape})")
    if labels.size != k:
        raise ValueError(f"{what} has {labels.size} entries but there are {k} estimates (yi)")
    if labels.dtype.kind == "f":
        missing = ~np.isfinite(labels)
    elif labels.dtype.kind == "O":
        missing = np.array([x is None or (isinstance(x, float) and not np.isfinite(x)) for x in labels], dtype=bool)
    else:
        missing = np.zeros(k, dtype=bool)
    if missing.any():
        raise ValueError(f"{what} has {int(missing.sum())} missing value(s) (first at position {np.flatnonzero(missing)[0]})")
    try:
        _, codes = np.unique(labels, return_inverse=True)
    except TypeError as exc:  # labels of mixed, unorderable types
        raise ValueError(f"{what} labels cannot be compared with each other: {exc}") from None
    return codes.reshape(-1).astype(np.intp)


def _check_ml_method(method: str) -> str:
    if not isinstance(method, str) or method.upper() not in ("REML", "ML"):
        raise ValueError(f"unknown method {method!r}; pool_multilevel estimates by 'REML' or 'ML'")
    return method.upper()


# --------------------------------------------------------------------------------------------
# the marginal likelihood, vectorised over studies
# --------------------------------------------------------------------------------------------


@dataclass
class _Point:
    """The fit at one value of the variance components (what the optimiser and the result need)."""

    theta: np.ndarray
    loglik: float
    beta: np.ndarray
    bread: np.ndarray  # (X'V^-1 X)^-1
    score: np.ndarray | None = None
    expected: np.ndarray | None = None  # Fisher information
    observed: np.ndarray | None = None  # minus the Hessian


class _ThreeLevel:
    """The data sorted by study, with the closed-form block algebra of the module docstring.

    Per-study sums are ``np.add.reduceat`` over the sorted rows; ``(..)[g]`` spreads a per-study
    value back over its estimates.
    """

    def __init__(self, y: np.ndarray, v: np.ndarray, X: np.ndarray, codes: np.ndarray, reml: bool):
        order = np.argsort(codes, kind="stable")
        self.y, self.v, self.X = y[order], v[order], X[order]
        self.g = codes[order]
        sizes = np.bincount(self.g)
        self.starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.reml = reml
        k, p = X.shape
        if reml:
            self.constant = (k - p) * _LOG_2PI - np.linalg.slogdet(X.T @ X)[1]
        else:
            self.constant = k * _LOG_2PI

    def _sum(self, z: np.ndarray) -> np.ndarray:
        return np.add.reduceat(z, self.starts, axis=0)

    def evaluate(self, theta: np.ndarray, derivatives: bool = True) -> _Point:
        s, w = float(theta[0]), float(theta[1])
        X, y = self.X, self.y
        a = 1.0 / (self.v + w)
        A = self._sum(a)
        den = 1.0 + s * A
        c = s / den
        aX = X * a[:, None]
        SX = self._sum(aX)
        xwx = aX.T @ X - (SX * c[:, None]).T @ SX
        ay = a * y
        Sy = self._sum(ay)
        bread = np.linalg.inv(xwx)
        beta = bread @ (aX.T @ y - (SX * c[:, None]).T @ Sy)
        r = y - X @ beta
        ar = a * r
        Sr = self._sum(ar)
        rss = float(r @ ar - c @ (Sr * Sr))
        logdet_v = float(np.log(self.v + w).sum() + np.log(den).sum())
        ll = logdet_v + rss + self.constant
        if self.reml:
            ll += np.linalg.slogdet(xwx)[1]
        point = _Point(theta=np.array([s, w]), loglik=float(-0.5 * ll), beta=beta, bread=bread)
        if derivatives:
            self._derivatives(point, a, A, den, c, aX, SX, ar, Sr)
        return point

    def _derivatives(self, point: _Point, a, A, den, c, aX, SX, ar, Sr) -> None:
        """Score, expected and observed information in (sigma2_study, sigma2_within).

        With P = V^-1 - V^-1 X B X' V^-1 (REML; V^-1 for ML), e = P y, V_s = blockdiag(J),
        V_w = I: score_a = (e'V_a e - tr(P V_a))/2, expected_ab = tr(P V_a P V_b)/2,
        observed_ab = e'V_a P V_b e - expected_ab.
        """
        B, g = point.bread, self.g
        F = aX - a[:, None] * (SX * c[:, None])[g]  # V^-1 X
        U = SX / den[:, None]  # per study: 1' V_i^-1 X_i
        e = ar - a * (c * Sr)[g]  # V^-1 r = P y
        Se = self._sum(e)
        a2 = a * a
        A2, A3 = self._sum(a2), self._sum(a2 * a)
        q = A / den  # 1' V_i^-1 1
        # traces with V^-1
        tr_s, tr_w = float(q.sum()), float(a.sum() - c @ A2)
        t_ss, t_sw = float(q @ q), float((A2 / den**2).sum())
        t_ww = float((A2 - 2 * c * A3 + c * c * A2 * A2).sum())
        if self.reml:  # P instead of V^-1: corrections through X'V^-1 V_a V^-1 X
            Ms, Mw = U.T @ U, F.T @ F
            aF = F * a[:, None]
            SaF = self._sum(aF)
            Nss = (U * q[:, None]).T @ U
            Nsw = (SaF / den[:, None]).T @ U
            Nww = aF.T @ F - (SaF * c[:, None]).T @ SaF
            BMs, BMw = B @ Ms, B @ Mw
            tr_s -= float(np.sum(B * Ms))
            tr_w -= float(np.sum(B * Mw))
            t_ss += float(np.sum(BMs * BMs.T) - 2 * np.sum(B * Nss))
            t_sw += float(np.sum(BMs * BMw.T) - 2 * np.sum(B * Nsw))
            t_ww += float(np.sum(BMw * BMw.T) - 2 * np.sum(B * Nww))
        point.score = 0.5 * np.array([Se @ Se - tr_s, e @ e - tr_w])
        expected = 0.5 * np.array([[t_ss, t_sw], [t_sw, t_ww]])
        # e'V_a P V_b e = z_a'V^-1 z_b - (F'z_a)' B (F'z_b), z_s = J e, z_w = e
        ae = a * e
        Sae = self._sum(ae)
        Fs, Fw = U.T @ Se, F.T @ e
        h_ss = float(Se * Se @ q - Fs @ B @ Fs)
        h_sw = float(Se @ (Sae / den) - Fs @ B @ Fw)
        h_ww = float(e @ ae - c @ (Sae * Sae) - Fw @ B @ Fw)
        point.expected = expected
        point.observed = np.array([[h_ss, h_sw], [h_sw, h_ww]]) - expected


# --------------------------------------------------------------------------------------------
# maximisation over sigma2 >= 0
# --------------------------------------------------------------------------------------------


def _newton_direction(point: _Point, free: np.ndarray) -> np.ndarray:
    """Newton step on the free components: observed information if positive definite, else Fisher's."""
    step = np.zeros(2)
    idx = np.flatnonzero(free)
    grad = point.score[idx]
    for info in (point.observed, point.expected):
        block = info[np.ix_(idx, idx)]
        if np.all(np.isfinite(block)) and np.all(np.linalg.eigvalsh(block) > 0):
            step[idx] = np.linalg.solve(block, grad)
            return step
    step[idx] = grad / np.maximum(np.abs(np.diag(point.expected)[idx]), 1e-300)
    return step


def _ascend(model: _ThreeLevel, start: np.ndarray, fixed: np.ndarray, scale: float) -> tuple[_Point, bool]:
    """Projected Newton ascent from ``start``; returns the last point and whether it converged.

    A component at 0 whose score is not positive stays at 0 (the Karush-Kuhn-Tucker condition of
    the boundary), and so do the ``fixed`` ones; the others take the Newton step, projected onto
    sigma2 >= 0 and shortened until the likelihood does not decrease. Converged when the
    projected Newton step itself is negligible (not merely the step taken)."""
    point = model.evaluate(np.maximum(start, 0.0))
    for _ in range(_MAXITER):
        free = ~fixed & ~((point.theta <= 0) & (point.score <= 0))
        if not free.any():
            return point, True
        newton = _newton_direction(point, free)
        if np.max(np.abs(np.maximum(point.theta + newton, 0.0) - point.theta)) <= _STEP_TOL * scale:
            return point, True
        accepted = _line_search(model, point, newton)
        if accepted is None:
            accepted = _line_search(model, point, _scaled_gradient(point, free))
        if accepted is None:  # no ascent along either direction, yet the Newton step is not small
            return point, False
        point = accepted
    return point, False


def _line_search(model: _ThreeLevel, point: _Point, direction: np.ndarray) -> _Point | None:
    """The first step along ``direction`` at which the likelihood does not decrease (to rounding);
    None if there is none. The full step comes first, projected onto sigma2 >= 0 (which lands a
    component exactly on 0 when the maximum is there); then, if that step left the quadrant,
    steps that keep every component above half its current value (so the search does not zigzag
    along the boundary), halving each time."""
    theta = point.theta
    full = theta + direction
    if np.all(full >= 0):
        t = 0.5
    else:
        shrinking = direction < 0
        t = float(np.min(0.5 * theta[shrinking] / -direction[shrinking]))
    steps = [1.0]
    while t > 1e-12:
        steps.append(t)
        t *= 0.5
    for t in steps:
        trial = model.evaluate(np.maximum(theta + t * direction, 0.0))
        if trial.loglik >= point.loglik - 1e-13 * abs(point.loglik):
            return trial
    return None


def _scaled_gradient(point: _Point, free: np.ndarray) -> np.ndarray:
    diag = np.maximum(np.abs(np.diag(point.expected)), 1e-300)
    return np.where(free, point.score / diag, 0.0)


def _fallback(model: _ThreeLevel, start: np.ndarray, fixed: np.ndarray) -> _Point:
    """L-BFGS-B with the analytic score, for the rare case the Newton iteration has not settled."""
    def objective(theta):
        point = model.evaluate(theta)
        return -point.loglik, -point.score

    start = np.maximum(start, 0.0)
    bounds = [(x, x) if f else (0.0, None) for x, f in zip(start, fixed)]
    res = optimize.minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 10_000})
    return model.evaluate(res.x)


def _starts(y, v, X) -> list[np.ndarray]:
    """Three starts: metafor's (the residual variance beyond the sampling variance, split evenly)
    and two lopsided ones, so that a second local maximum would not go unseen."""
    w0 = 1.0 / v
    _, _, r = meta._wls(y, X, w0)
    harmonic = 1.0 / w0.mean()
    total = max(float(np.var(r, ddof=1)) - harmonic, 0.1 * harmonic)
    return [np.array([total / 2, total / 2]), np.array([0.9 * total, 0.1 * total]), np.array([0.1 * total, 0.9 * total])]


def _maximise(model: _ThreeLevel, y, v, X, given: np.ndarray) -> _Point:
    """The maximum over the components that are not ``given`` (NaN = to estimate)."""
    fixed = ~np.isnan(given)
    scale = max(float(np.mean(v)), float(np.var(y)))
    best = None
    for start in _starts(y, v, X):
        start = np.where(fixed, given, start)
        point, converged = _ascend(model, start, fixed, scale)
        if not converged:
            alt = _fallback(model, point.theta, fixed)
            point = alt if alt.loglik >= point.loglik else point
        if best is None or point.loglik > best.loglik:
            best = point
    return best


# --------------------------------------------------------------------------------------------
# pool_multilevel
# --------------------------------------------------------------------------------------------


def pool_multilevel(yi, vi, study, X=None, method: str = "REML", level: float = 0.95,
                    names=None, sigma2=None) -> MultilevelResult:
    """Three-level meta-analysis: estimates nested in studies (metafor's
    ``rma.mv(yi, vi, mods = X, random = ~ 1 | study/estimate, method)``).

    ``study``: one label per estimate (any sortable labels). ``X``: moderators (k x m, without the
    intercept, which is added; a DataFrame's column names are used, or ``names``). ``method``:
    "REML" (default) or "ML". ``sigma2``: as metafor's ``sigma2 =``, fixes the variance
    components ``(sigma2_study, sigma2_within)`` at the values given instead of estimating them;
    None (or NaN) in one place leaves that one to be estimated, e.g. ``(None, 0.0)`` for the
    two-level model. Model, likelihood, algorithm and references: see the module docstring.
    Raises ``ValueError`` for mismatched lengths, missing or non-finite values, non-positive
    variances, fewer than two studies, a singular moderator matrix, k <= p or a bad ``sigma2``.
    """
    method = _check_ml_method(method)
    level = meta._check_level(level)
    y, v = meta.check_inputs(yi, vi, min_k=2)
    k = y.size
    codes = _group_codes(study, k, "study")
    n_studies = int(codes.max()) + 1
    if n_studies < 2:
        raise ValueError("only one study: the study-level variance cannot be estimated (pool_multilevel needs at "
                         "least two studies; for the estimates of one study use meta.pool)")
    if X is None:
        design, labels = np.ones((k, 1)), ("intercept",)
    else:
        design, labels = meta._design(X, k, True, names)
    p = design.shape[1]
    if k <= p:
        raise ValueError(f"k = {k} estimates for {p} coefficients: the model needs k > p")
    given = _check_sigma2(sigma2)
    # the fit runs on an orthonormal basis of the design's columns (X = QR): the same likelihood
    # (the REML term log|X'V^-1 X| - log|X'X| is unchanged), fitted values and residuals, without
    # the ill-conditioning of raw moderators such as calendar years; coefficients are mapped back
    basis, triangle = np.linalg.qr(design)
    model = _ThreeLevel(y, v, basis, codes, reml=method == "REML")
    identified = bool(np.bincount(codes).max() > 1)
    if not np.isnan(given).any():
        point = model.evaluate(given, derivatives=False)
    elif identified or not np.isnan(given).all():
        point = _maximise(model, y, v, None if X is None else design, given)
    else:  # one estimate per study: only the sum is identified; rma.mv returns it halved
        tau2 = meta.estimate_tau2(y, v, None if X is None else design, method)
        point = model.evaluate(np.array([tau2 / 2, tau2 / 2]), derivatives=False)
    to_design = np.linalg.inv(triangle)  # beta = R^-1 beta_Q
    point.beta = to_design @ point.beta
    point.bread = to_design @ point.bread @ to_design.T
    return _result(point, y, v, design, labels, codes, method, level, identified)


def _check_sigma2(sigma2) -> np.ndarray:
    """``sigma2`` as a length-2 float array, NaN where the component is to be estimated."""
    if sigma2 is None:
        return np.full(2, np.nan)
    values = [np.nan if x is None else x for x in np.asarray(sigma2, dtype=object).reshape(-1)]
    try:
        given = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"sigma2 must be two numbers or None (got {sigma2!r})") from None
    if given.size != 2:
        raise ValueError(f"sigma2 must have two entries, (sigma2_study, sigma2_within) (got {given.size})")
    if np.any(np.isinf(given)) or np.any(given < 0):
        raise ValueError(f"sigma2 must be non-negative and finite, or None to estimate (got {sigma2!r})")
    return given


def _result(point: _Point, y, v, design, labels, codes, method, level, identified) -> MultilevelResult:
    k, p = design.shape
    s, w = (float(x) for x in point.theta)
    beta, vb = point.beta, point.bread
    se = np.sqrt(np.diag(vb))
    crit = float(special.ndtri(0.5 + level / 2))
    zval = beta / se
    qe, qe_p, _, _ = meta._heterogeneity(y, v, None if p == 1 else design, p, 0.0, "FE")
    pi_low = pi_high = None
    if p == 1:
        half = crit * np.sqrt(vb[0, 0] + s + w)
        pi_low, pi_high = float(beta[0] - half), float(beta[0] + half)
    return MultilevelResult(
        names=tuple(labels), coef=beta, se=se, ci_low=beta - crit * se, ci_high=beta + crit * se, zval=zval,
        pval=2 * special.ndtr(-np.abs(zval)), vcov=vb, sigma2_study=s, sigma2_within=w, qe=qe, qe_df=k - p,
        qe_pvalue=qe_p, loglik=point.loglik, k=int(k), n_studies=int(codes.max()) + 1, method=method, level=level,
        pi_low=pi_low, pi_high=pi_high, identified=identified,
        X=design, yi=y.copy(), vi=v.copy(), study=codes, residuals=y - design @ beta,
    )


# --------------------------------------------------------------------------------------------
# robust: CR0 / CR1 / CR2 with Satterthwaite degrees of freedom
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WorkingModel:
    """What a fit says about its estimates: design, residuals, and the covariance the weights
    invert, compound symmetric within ``study``: diag(vi + within) + between * [same study]."""

    names: tuple[str, ...]
    X: np.ndarray
    coef: np.ndarray
    residuals: np.ndarray
    vi: np.ndarray
    study: np.ndarray
    between: float
    within: float
    weight_scale: float  # clubSandwich's scale of the weights (for its eigenvalue floor)


def _working_model(result) -> _WorkingModel:
    if isinstance(result, MultilevelResult):
        return _WorkingModel(result.names, result.X, result.coef, result.residuals, result.vi, result.study,
                             result.sigma2_study, result.sigma2_within, 1.0)
    if isinstance(result, (meta.PoolResult, meta.MetaRegResult)):
        y, v = result.yi, result.vi
        if y is None or v is None:
            raise ValueError("this result does not carry its inputs (yi, vi); refit it with meta.pool or meta.metareg")
        if isinstance(result, meta.PoolResult):
            X, coef, names = np.ones((y.size, 1)), np.array([result.estimate]), ("intercept",)
        else:
            X, coef, names = result.X, result.coef, result.names
        # rma.uni's working weights are 1/(vi + tau2), which clubSandwich divides by their mean
        return _WorkingModel(names, X, coef, y - X @ coef, v, np.arange(y.size), 0.0, result.tau2,
                             float(np.mean(1.0 / (v + result.tau2))))
    raise TypeError(f"robust() takes a result of meta.pool, meta.metareg or pool_multilevel, not {type(result).__name__}")


def _check_nested(study: np.ndarray, cluster: np.ndarray) -> None:
    """Every study within one cluster (clubSandwich: the random effects must nest in the clusters)."""
    order = np.argsort(study, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(study[order]) != 0])
    lo = np.minimum.reduceat(cluster[order], starts)
    hi = np.maximum.reduceat(cluster[order], starts)
    if np.any(lo != hi):
        raise ValueError(f"cluster does not match the result: {int(np.sum(lo != hi))} stud(ies) of the model fall in "
                         "more than one cluster (the random effects must be nested within the clusters)")


def _cluster_blocks(wm: _WorkingModel, cluster: np.ndarray):
    """Yield, for each cluster size m, the clusters' ids and their row indices (n_c x m), sorted by
    cluster then study."""
    order = np.lexsort((wm.study, cluster))
    sizes = np.bincount(cluster)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for m in np.unique(sizes):
        ids = np.flatnonzero(sizes == m)
        yield ids, order[starts[ids][:, None] + np.arange(m)]


def _theta_blocks(wm: _WorkingModel, rows: np.ndarray) -> np.ndarray:
    """The working covariance of each cluster of the batch: (n_c, m, m)."""
    st = wm.study[rows]
    theta = wm.between * (st[:, :, None] == st[:, None, :])
    idx = np.arange(rows.shape[1])
    theta[:, idx, idx] += wm.vi[rows] + wm.within
    return theta


def _inverse_sqrt_psd(G: np.ndarray, floor: float) -> np.ndarray:
    """Symmetric inverse square root of a batch of symmetric matrices (clubSandwich's
    ``matrix_power(G, -1/2)``: eigenvalues at or below ``floor`` contribute 0)."""
    values, vectors = np.linalg.eigh(G)
    powered = np.where(values > floor, 1.0 / np.sqrt(np.where(values > floor, values, 1.0)), 0.0)
    return (vectors * powered[:, None, :]) @ np.swapaxes(vectors, 1, 2)


def robust(result, cluster, vcov: str = "CR2", level: float = 0.95) -> RobustResult:
    """Cluster-robust variance and small-sample t tests for a fit of :func:`pool_multilevel`,
    :func:`tracking_evidence.stats.meta.pool` or :func:`tracking_evidence.stats.meta.metareg`, as
    ``clubSandwich::coef_test(fit, vcov = vcov, cluster = cluster, test = "Satterthwaite")`` and
    ``conf_int`` compute them (formulas in the module docstring).

    ``cluster``: one label per estimate, in the order of the fit's input; for a three-level fit
    each study must lie within one cluster. ``vcov``: "CR2" (default), "CR1" or "CR0". The
    working model is the fit's own (weights ``V^-1``); a Knapp-Hartung factor is not part of it.
    """
    if not isinstance(vcov, str) or vcov.upper() not in ROBUST_TYPES:
        raise ValueError(f"unknown vcov {vcov!r}; use one of {ROBUST_TYPES}")
    vcov = vcov.upper()
    level = meta._check_level(level)
    wm = _working_model(result)
    k, p = wm.X.shape
    codes = _group_codes(cluster, k, "cluster")
    n_clusters = int(codes.max()) + 1
    if n_clusters < 2:
        raise ValueError("cluster has a single cluster: cluster-robust variance needs at least two")
    _check_nested(wm.study, codes)
    blocks = []
    xwx = np.zeros((p, p))
    for ids, rows in _cluster_blocks(wm, codes):
        theta = _theta_blocks(wm, rows)
        Xb = wm.X[rows]
        xtw = np.swapaxes(Xb, 1, 2) @ np.linalg.inv(theta)  # X_c' W_c
        xwx += np.einsum("cpm,cmq->pq", xtw, Xb)
        blocks.append((ids, rows, theta, Xb, xtw))
    bread = np.linalg.inv(xwx)
    floor = _EIGEN_FLOOR / wm.weight_scale**2
    meat = np.zeros((p, p))
    g = np.empty((n_clusters, p))  # diag(M_c Theta_c M_c'), M_c = B E_c
    K = np.empty((n_clusters, p, p))  # B E_c X_c
    for ids, rows, theta, Xb, xtw in blocks:
        E = xtw @ _adjustment(vcov, theta, Xb, bread, floor, n_clusters)
        u = np.einsum("cpm,cm->cp", E, wm.residuals[rows])
        meat += u.T @ u
        ME = bread @ E
        g[ids] = np.einsum("cpm,cmn,cpn->cp", ME, theta, ME)
        K[ids] = ME @ Xb
    vr = bread @ meat @ bread
    se = np.sqrt(np.diag(vr))
    df = _satterthwaite(g, K, bread)
    with np.errstate(divide="ignore", invalid="ignore"):  # a perfect fit: se 0, t infinite (0/0 undefined)
        tstat = wm.coef / se
    crit = special.stdtrit(df, 0.5 + level / 2)
    return RobustResult(
        names=wm.names, coef=wm.coef, se=se, tstat=tstat, df=df, pvalue=2 * special.stdtr(df, -np.abs(tstat)),
        ci_low=wm.coef - crit * se, ci_high=wm.coef + crit * se, vcov=vr, vcov_type=vcov,
        n_clusters=n_clusters, level=level,
    )


def _adjustment(vcov: str, theta, Xb, bread, floor: float, n_clusters: int) -> np.ndarray:
    """A_c for a batch of clusters: I (CR0), sqrt(C/(C-1)) I (CR1), or CR2's
    R'[R (I - H_cc) Theta R']^{-1/2} R with Theta = R'R (any square root gives the same A)."""
    m = theta.shape[1]
    if vcov != "CR2":
        factor = 1.0 if vcov == "CR0" else np.sqrt(n_clusters / (n_clusters - 1))
        return np.broadcast_to(factor * np.eye(m), theta.shape)
    L = np.linalg.cholesky(theta)  # Theta = L L', so R = L'
    Lt = np.swapaxes(L, 1, 2)
    LtX = Lt @ Xb
    # R (I - X B X' W) Theta R' = L'Theta L - L'X B X'L, symmetric by construction
    G = Lt @ theta @ L - LtX @ bread @ np.swapaxes(LtX, 1, 2)
    return L @ _inverse_sqrt_psd(0.5 * (G + np.swapaxes(G, 1, 2)), floor) @ Lt


def _satterthwaite(g: np.ndarray, K: np.ndarray, bread: np.ndarray) -> np.ndarray:
    """Satterthwaite df per coefficient, (tr P_i)^2 / ||P_i||_F^2 with P_i = diag(g_i) - K_i B K_i'
    (clubSandwich's P array for a working model without absorbed effects), computed through
    p x p products: ||K B K'||_F^2 = tr((B K'K)^2)."""
    p = bread.shape[0]
    df = np.empty(p)
    for i in range(p):
        Ki = K[:, i, :]
        q = np.einsum("jp,pq,jq->j", Ki, bread, Ki)  # diagonal of K_i B K_i'
        C = bread @ (Ki.T @ Ki)
        trace = g[:, i].sum() - q.sum()
        norm2 = g[:, i] @ g[:, i] - 2 * g[:, i] @ q + np.sum(C * C.T)
        df[i] = trace * trace / norm2
    return df
