"""Small-study effects and publication bias: funnel data, Egger's test, trim-and-fill, PET-PEESE, p-curve.

All of these read asymmetry in a funnel (estimate against its standard error) or in the
distribution of significant p-values as a sign that some results are missing. They cannot tell a
publication filter from a genuine relation between precision and effect (small studies that differ
in population, design or dose): asymmetry is a symptom, not a diagnosis (Sterne et al. 2011).

References: Egger, Davey Smith, Schneider and Minder (1997); Duval and Tweedie (2000); Stanley and
Doucouliagos (2014); Simonsohn, Nelson and Simmons (2014); Simonsohn, Simmons and Nelson (2015).
metafor's ``regtest(model = "lm")`` and ``trimfill()`` are the reference for the first two
(``tests/reference/metafor.R``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .meta import PoolResult, check_inputs, metareg, pool

__all__ = [
    "EggerResult",
    "egger",
    "TrimFillResult",
    "trimfill",
    "PetPeeseResult",
    "pet_peese",
    "PCurveResult",
    "pcurve",
    "funnel_data",
]


# --------------------------------------------------------------------------------------------
# Egger
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EggerResult:
    """Classical Egger test: ``intercept`` of the regression of y/se on 1/se, its t ``stat`` and ``p``."""

    intercept: float
    intercept_se: float
    stat: float
    p: float
    df: int
    slope: float  # the limit estimate: the effect of a study with se -> 0
    k: int


def _ols(y: np.ndarray, X: np.ndarray):
    """OLS coefficients, their classical standard errors, residual df."""
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    df = X.shape[0] - X.shape[1]
    sigma2 = float(resid @ resid) / df
    cov = sigma2 * np.linalg.inv(X.T @ X)
    return beta, np.sqrt(np.diag(cov)), df


def egger(yi, vi) -> EggerResult:
    """Egger's regression test for funnel asymmetry (Egger et al. 1997).

    OLS of the standardised effect on precision, :math:`y_i/s_i = \\beta_0 + \\beta_1 (1/s_i) + \\varepsilon_i`,
    :math:`s_i = \\sqrt{v_i}`; the test is :math:`t = \\hat\\beta_0 / SE(\\hat\\beta_0)` on k - 2 df.
    Identical to metafor's ``regtest(x, model = "lm")`` (weighted regression of y on s, weights 1/v:
    the coefficient of s is :math:`\\beta_0`, the intercept is :math:`\\beta_1`).
    """
    y, v = check_inputs(yi, vi, min_k=3)
    s = np.sqrt(v)
    if np.ptp(s) == 0:
        raise ValueError("Egger's test needs studies of different precision: every vi is the same")
    beta, se, df = _ols(y / s, np.column_stack([np.ones(y.size), 1 / s]))
    if not se[0] > 1e-12 * max(1.0, abs(beta[0])):  # an exact fit: the t statistic would be 0/0 or rounding noise
        raise ValueError("Egger's regression fits the studies exactly (no residual variance): the test is undefined")
    stat = float(beta[0] / se[0])
    return EggerResult(
        intercept=float(beta[0]), intercept_se=float(se[0]), stat=stat, p=float(2 * stats.t.sf(abs(stat), df)),
        df=int(df), slope=float(beta[1]), k=int(y.size),
    )


# --------------------------------------------------------------------------------------------
# trim and fill
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrimFillResult:
    """Trim-and-fill: ``k0`` studies imputed on ``side``; the pooled result of observed + filled."""

    k0: int
    se_k0: float
    side: str
    estimator: str
    method: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    tau2: float
    filled_yi: np.ndarray = field(repr=False, compare=False)
    filled_vi: np.ndarray = field(repr=False, compare=False)
    pooled: PoolResult = field(repr=False, compare=False)
    original: PoolResult = field(repr=False, compare=False)


def trimfill(yi, vi, method: str = "REML", estimator: str = "L0", side: str | None = None,
             level: float = 0.95) -> TrimFillResult:
    """Duval and Tweedie's (2000) trim-and-fill, as metafor's ``trimfill()`` runs it.

    ``method`` is the pooling model refitted at each step (metafor uses the model it is given).
    ``side`` (where studies are missing): if None, chosen as metafor chooses it, from the sign of the
    slope of a meta-regression of yi on sqrt(vi) with the same ``method``: a negative slope means
    studies are missing on the right, otherwise on the left.

    Algorithm (side = left; the right side is handled by flipping the signs): sort the studies; with
    k0 = 0, repeat: pool the k - k0 smallest, centre all k on that estimate, rank the absolute
    centred values, :math:`S_r` = sum of the ranks of the positive ones, and
    :math:`L_0 = (4 S_r - k(k+1)) / (2k - 1)` (or :math:`R_0` = k - (largest rank of a negative) - 1);
    k0 = max(0, round(L0)); until k0 stops changing. Then mirror the k0 most extreme studies
    around the last estimate (:math:`2\\hat\\mu - y_i`, same vi) and pool all k + k0.
    """
    if estimator not in ("L0", "R0"):
        raise ValueError(f"unknown estimator {estimator!r}; use 'L0' or 'R0'")
    if side not in (None, "left", "right"):
        raise ValueError(f"side must be None, 'left' or 'right' (got {side!r})")
    y0, v0 = check_inputs(yi, vi, min_k=3)
    original = pool(y0, v0, method=method, level=level)
    if side is None:
        reg = metareg(y0, v0, np.sqrt(v0), method=method)
        side = "right" if reg.coef[1] < 0 else "left"
    y = -y0 if side == "right" else y0.copy()
    order = np.argsort(y, kind="stable")
    y, v = y[order], v0[order]
    k = y.size
    k0, k0_previous, se_k0 = 0, -1, 0.0
    iterations = 0
    while k0 != k0_previous:
        k0_previous = k0
        iterations += 1
        if iterations > 100:
            raise RuntimeError("trim-and-fill did not converge in 100 iterations")
        if k - k0 < 2:
            raise ValueError(f"trim-and-fill trimmed {k0} of {k} studies: too few left to pool")
        beta = pool(y[: k - k0], v[: k - k0], method=method).estimate
        centred = y - beta
        ranks = stats.rankdata(np.abs(centred), method="ordinal")
        signed = np.sign(centred) * ranks
        if estimator == "L0":
            sr = signed[signed > 0].sum()
            k0_raw = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0_raw**3 + 27 * k0_raw**2 + 17 * k0_raw
                      - 18 * k * k0_raw**2 - 18 * k * k0_raw + 6 * k**2 * k0_raw) / 24
            se_k0 = 4 * np.sqrt(max(var_sr, 0.0)) / (2 * k - 1)
        else:
            negatives = -signed[signed < 0]
            k0_raw = k - (negatives.max() if negatives.size else 0) - 1
            se_k0 = np.sqrt(2 * max(0, k0_raw) + 2)
        k0 = int(max(0, np.round(k0_raw)))  # numpy rounds half to even, as R's round()
        se_k0 = float(max(0.0, se_k0))
    if k0 > 0:
        filled = 2 * beta - y[k - k0:]
        filled_yi = -filled if side == "right" else filled
        filled_vi = v[k - k0:].copy()
        result = pool(np.concatenate([y0, filled_yi]), np.concatenate([v0, filled_vi]), method=method, level=level)
    else:
        filled_yi, filled_vi = np.empty(0), np.empty(0)
        result = original
    return TrimFillResult(
        k0=k0, se_k0=se_k0, side=side, estimator=estimator, method=result.method, estimate=result.estimate,
        se=result.se, ci_low=result.ci_low, ci_high=result.ci_high, tau2=result.tau2, filled_yi=filled_yi,
        filled_vi=filled_vi, pooled=result, original=original,
    )


# --------------------------------------------------------------------------------------------
# PET-PEESE
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PetPeeseResult:
    """PET and PEESE intercepts (the effect of a hypothetical study with se = 0) and the one chosen."""

    pet: float
    pet_se: float
    pet_p: float
    peese: float
    peese_se: float
    peese_p: float
    chosen: str
    estimate: float
    alpha: float
    k: int


def _wls_intercept(y, x, w):
    """WLS of y on (1, x) with weights w, multiplicative residual variance (as ``lm(weights=)``)."""
    sw = np.sqrt(w)
    beta, se, df = _ols(y * sw, np.column_stack([sw, x * sw]))
    stat = beta[0] / se[0]
    return float(beta[0]), float(se[0]), float(2 * stats.t.sf(abs(stat), df))


def pet_peese(yi, vi, alpha: float = 0.10) -> PetPeeseResult:
    """PET-PEESE (Stanley and Doucouliagos 2014).

    PET: :math:`y_i = \\beta_0 + \\beta_1 s_i`; PEESE: :math:`y_i = \\gamma_0 + \\gamma_1 v_i`; both by
    weighted least squares with weights :math:`1/v_i` and a multiplicative error variance. The
    conditional estimator reports PEESE's intercept when PET's intercept differs from 0 at level
    ``alpha`` (two-sided; 0.10 two-sided = 0.05 one-sided, the usual choice), PET's otherwise.
    """
    if not (0 < alpha < 1):
        raise ValueError(f"alpha must be in (0, 1) (got {alpha})")
    y, v = check_inputs(yi, vi, min_k=3)
    s = np.sqrt(v)
    if np.ptp(s) == 0:
        raise ValueError("PET-PEESE needs studies of different precision: every vi is the same")
    pet, pet_se, pet_p = _wls_intercept(y, s, 1 / v)
    peese, peese_se, peese_p = _wls_intercept(y, v, 1 / v)
    chosen = "PEESE" if pet_p < alpha else "PET"
    return PetPeeseResult(pet, pet_se, pet_p, peese, peese_se, peese_p, chosen,
                          peese if chosen == "PEESE" else pet, alpha, int(y.size))


# --------------------------------------------------------------------------------------------
# p-curve
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PCurveResult:
    """p-curve tests (Stouffer's Z and its p for the full and half curves).

    ``right_skew``: evidential value (p-values bunched near 0). ``flat``: evidential value is
    inadequate (p-values flatter than under 33% power). Decisions as in Simonsohn, Simmons and Nelson
    (2015): right skew if the half-curve p < .05 or both p < .10; flatter than 33% power if the
    full-curve p < .05 or both p < .10.
    """

    k_significant: int
    k_half: int
    k_total: int
    right_skew_z_full: float
    right_skew_p_full: float
    right_skew_z_half: float
    right_skew_p_half: float
    flat_z_full: float
    flat_p_full: float
    flat_z_half: float
    flat_p_half: float
    right_skew: bool
    flat: bool
    bins: pd.DataFrame = field(repr=False, compare=False)


def _ncp_for_power(power: float, crit: float) -> float:
    """Non-centrality of a chi-square(1) (a squared z) with the given power at critical value ``crit``."""
    return float(optimize.brentq(lambda lam: stats.ncx2.sf(crit, 1, lam) - power, 1e-9, 100.0, xtol=1e-14))


def _stouffer(pp: np.ndarray) -> tuple[float, float]:
    if pp.size == 0:
        return float("nan"), float("nan")
    pp = np.clip(pp, 1e-16, 1 - 1e-16)
    z = float(stats.norm.ppf(pp).sum() / np.sqrt(pp.size))
    return z, float(stats.norm.cdf(z))


def pcurve(pvalues, alpha: float = 0.05) -> PCurveResult:
    """p-curve of a set of two-sided p-values from z (or large-sample t) tests (Simonsohn et al. 2014, 2015).

    Only the significant ones (p < ``alpha``) enter. Each is read as a squared z, :math:`x = \\chi^2_{1}`
    quantile of 1 - p. Right-skew test: :math:`pp_i = p_i/\\alpha` (the chance, under no effect, of a
    significant p at least this small); Stouffer's :math:`Z = \\sum \\Phi^{-1}(pp_i)/\\sqrt{k}`, p = Φ(Z).
    Half curve: the p < α/2 only, :math:`pp_i = p_i/(\\alpha/2)`. Flatness test: with λ the
    non-centrality giving 33% power, :math:`pp_i = 1 - P_\\lambda(X > x_i)/(1/3)` (the chance, under 33%
    power, of a significant p at least this large), same Stouffer combination (half curve: power
    computed at α/2).
    """
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p-values must be one-dimensional (got shape {p.shape})")
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{int((~np.isfinite(p)).sum())} p-value(s) are missing or non-finite")
    if np.any((p <= 0) | (p > 1)):
        raise ValueError("p-values must lie in (0, 1]; got values outside it")
    sig = p[p < alpha]
    if sig.size < 2:
        raise ValueError(f"p-curve needs at least 2 significant p-values (p < {alpha}); got {sig.size}")
    half = sig[sig < alpha / 2]
    rs_full = _stouffer(sig / alpha)
    rs_half = _stouffer(half / (alpha / 2))
    crit = stats.chi2.isf(alpha, 1)
    lam = _ncp_for_power(1 / 3, crit)
    x = stats.chi2.isf(sig, 1)
    flat_full = _stouffer(1 - stats.ncx2.sf(x, 1, lam) / (1 / 3))
    # half curve: conditional on p < alpha/2, under the same 33%-power alternative
    crit_half = stats.chi2.isf(alpha / 2, 1)
    power_half = stats.ncx2.sf(crit_half, 1, lam)
    xh = stats.chi2.isf(half, 1)
    flat_half = _stouffer(1 - stats.ncx2.sf(xh, 1, lam) / power_half) if half.size else (float("nan"), float("nan"))
    right_skew = bool(rs_half[1] < 0.05 or (rs_full[1] < 0.10 and rs_half[1] < 0.10))
    flat = bool(flat_full[1] < 0.05 or (flat_full[1] < 0.10 and flat_half[1] < 0.10))
    edges = np.array([0, 0.01, 0.02, 0.03, 0.04, 0.05]) * (alpha / 0.05)
    counts, _ = np.histogram(sig, bins=edges)
    # expected share of the significant p-values below each edge: uniform under no effect, and
    # P(p' < e | significant) = P_lambda(X > x_e) / (1/3) under 33% power
    below33 = np.array([0.0] + [stats.ncx2.sf(stats.chi2.isf(e, 1), 1, lam) * 3 for e in edges[1:]])
    bins = pd.DataFrame({
        "p_low": edges[:-1], "p_high": edges[1:], "count": counts, "share": counts / sig.size,
        "share_null": np.full(5, 0.2), "share_33": np.diff(below33),
    })
    return PCurveResult(
        k_significant=int(sig.size), k_half=int(half.size), k_total=int(p.size),
        right_skew_z_full=rs_full[0], right_skew_p_full=rs_full[1],
        right_skew_z_half=rs_half[0], right_skew_p_half=rs_half[1],
        flat_z_full=flat_full[0], flat_p_full=flat_full[1],
        flat_z_half=flat_half[0], flat_p_half=flat_half[1],
        right_skew=right_skew, flat=flat, bins=bins,
    )


# --------------------------------------------------------------------------------------------
# funnel
# --------------------------------------------------------------------------------------------


def funnel_data(yi, vi, estimate: float | None = None, level: float = 0.95, n_grid: int = 50) -> dict:
    """Data for a funnel plot: the studies (``yi``, ``sei``) and the pseudo-confidence region.

    The region is :math:`\\hat\\mu \\pm z_{1-\\alpha/2}\\, s` for s from 0 to the largest standard error,
    around ``estimate`` (default: the FE estimate, as metafor's ``funnel()``). Returns
    ``{"studies": DataFrame(yi, sei), "region": DataFrame(sei, low, high), "estimate": float}``.
    """
    y, v = check_inputs(yi, vi, min_k=1)
    if estimate is None:
        estimate = pool(y, v, method="FE").estimate
    s = np.sqrt(v)
    z = stats.norm.ppf(0.5 + level / 2)
    grid = np.linspace(0, s.max() * 1.05, n_grid)
    return {
        "studies": pd.DataFrame({"yi": y, "sei": s}),
        "region": pd.DataFrame({"sei": grid, "low": estimate - z * grid, "high": estimate + z * grid}),
        "estimate": float(estimate),
        "level": float(level),
    }
