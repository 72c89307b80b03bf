r"""Significant versus non-significant: what two reported pooled effects can and cannot support.

Source A summarises the meta-analysis of Terrin and Triventi (2023) with two numbers: a pooled
effect of tracking on achievement of g = -0.063, "statistically nonsignificant", and a pooled
effect on inequality of g = 0.117, "p < 0.001". Neither standard error is reported. This module
works out what such statements imply, with formulas that need no more than the estimate and the
p-value bound, and makes every assumption an explicit, variable argument:

- :func:`se_bounds`: the standard errors consistent with an estimate and a p-value bound;
- :func:`z_tost`: the two one-sided z tests of equivalence (Schuirmann 1987; Lakens 2017);
- :func:`power` and :func:`mde`: power of a two-sided z test and minimum detectable effect;
- :func:`diff_test`: the z test of a difference between two estimates (Gelman and Stern 2006);
- :func:`prediction_interval` and :func:`share_positive`: what a random-effects mean says about
  the spread of effects across settings;
- :func:`dl_pool`: DerSimonian-Laird pooling vectorised over many simulated literatures;
- :func:`simulate_votecount`: how often a literature with a real mean effect *looks* balanced
  by counting signs and significant results, while pooling detects the effect;
- :func:`ses_quartile_gap`: the High School and Beyond gap in mathematics between the top and
  bottom SES quartiles, to read a g in familiar units.

Published figures used here are stored with the sentence they come from and the address where
that sentence was read (:data:`TERRIN_ABSTRACT`, :data:`TERRIN_RECORD`, :data:`SOURCE_A_SENTENCE`);
the figures computed from come from ``data/evidence.csv`` (:func:`reported`).

The verdicts on A2-A5, B6 and B11 are in :mod:`tracking_evidence.verdicts.claims_reanalysis`; this
module computes numbers only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy import optimize, stats


__all__ = [
    "TERRIN_ABSTRACT",
    "TERRIN_ABSTRACT_ADDRESS",
    "TERRIN_RECORD",
    "TERRIN_RECORD_ADDRESS",
    "SOURCE_A_SENTENCE",
    "REPORTED",
    "ASSUMED",
    "figures_in",
    "figure_in_text",
    "z_crit",
    "se_bounds",
    "ci",
    "TostResult",
    "z_tost",
    "tost_max_se",
    "tost_curve",
    "power",
    "mde",
    "DiffResult",
    "diff_test",
    "pooled_se",
    "implied_tau",
    "plausible_se_range",
    "prediction_interval",
    "share_positive",
    "dl_pool",
    "study_ses",
    "VoteCount",
    "looks_balanced",
    "simulate_votecount",
    "votecount_grid",
    "achievement_votecount",
    "inequality_votecount",
    "ses_quartile_gap",
    "u3",
    "achievement_summary",
    "inequality_summary",
    "difference_grid",
    "pi_table",
]

# --------------------------------------------------------------------------------------------
# Published figures, each with the sentence it comes from and where that sentence was read.
# --------------------------------------------------------------------------------------------

#: Two sentences of the abstract of Terrin & Triventi (2023), as shown on the University of
#: Trento repository page (read with the `search` tool, pages corpus, 2026-11-23). The same text
#: is at https://air.unimi.it/handle/2434/1042374 and (with a true minus sign) at
#: https://sage.cnpereading.com/doi/10.3102/00346543221100850 .
TERRIN_ABSTRACT = (
    "The selected publications are 53 analyses performed in the period from 2000 to 2021, yielding "
    "213 estimates on efficiency and 230 estimates on inequality. The results show that the mean "
    "effect size (Hedge's G) of tracking on efficiency is not statistically significant (G = -.063), "
    "whereas it is significantly positive (G = .117) on inequality."
)
TERRIN_ABSTRACT_ADDRESS = "https://iris.unitn.it/handle/11572/354943"

#: The bibliographic line of the same repository page (publication year, volume, pages).
TERRIN_RECORD = (
    "The Effect of School Tracking on Student Achievement and Inequality: A Meta-Analysis / Terrin, "
    "Éder; Triventi, Moris. - In: REVIEW OF EDUCATIONAL RESEARCH. - ISSN 0034-6543. - 2023, "
    "93:2(2023), pp. 236-274. [10.3102/00346543221100850]"
)
TERRIN_RECORD_ADDRESS = TERRIN_ABSTRACT_ADDRESS

#: Source A's sentence with both pooled effects (data/sources/A-...txt, also at
#: https://edcentral.uk/ednews/schools/17149-does-school-tracking-impact-student-achievement-and-educational-inequality).
SOURCE_A_SENTENCE = (
    "The meta-analysis found a statistically nonsignificant mean effect size of tracking (Hedge’s G = "
    "-.063) on students’ overall achievement level, and a statistically significant mean effect size "
    "(Hedge’s G = .117, p < 0.001) for educational inequality"
)



#: Assumptions (not data): varied in the chapter, never presented as findings.
#: - ``k_eff``: the effective number of independent estimates behind a pooled mean, between the
#:   53 analyses (estimates within an analysis fully dependent) and the 213 estimates
#:   (all independent);
#: - ``study_se``: a typical within-study standard error of g (0.05 is roughly 800 students per
#:   group, 0.15 roughly 90 per group);
#: - ``tau``: the between-study standard deviation of true effects (not reported in the abstract).
ASSUMED = {
    "k_eff": (53, 213),
    "study_se": (0.05, 0.15),
    "tau": (0.0, 0.05, 0.1, 0.2, 0.3),
    "alpha": 0.05,
}

_NUMBER = re.compile(r"(?<![\w.])[-−]?(?:\d+(?:\.\d+)?|\.\d+)")
_NUMBER_GLUED = re.compile(r"[-−]?(?:\d+(?:\.\d+)?|\.\d+)")


def figures_in(text: str, glued: bool = False) -> list[float]:
    """Every number written in ``text`` as a float (``−.063`` -> -0.063, ``0.117`` -> 0.117).

    A true minus sign (U+2212) counts as a minus. With ``glued=True`` a number stuck to a word
    (Source A's "Triventi53") is found too.
    """
    pattern = _NUMBER_GLUED if glued else _NUMBER
    return [float(m.group().replace("−", "-")) for m in pattern.finditer(text)]


def figure_in_text(value: float, text: str, *, tol: float = 1e-9) -> bool:
    """True if ``value`` is written in ``text`` (sign, leading zero and minus sign forgiven)."""
    if not math.isfinite(value):
        raise ValueError(f"figure must be finite, got {value}")
    return any(abs(f - value) <= tol for f in figures_in(text))


# --------------------------------------------------------------------------------------------
# Checks of input
# --------------------------------------------------------------------------------------------


def _finite(name: str, value: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value}")
    return x


def _positive(name: str, value: float) -> float:
    x = _finite(name, value)
    if x <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return x


def _probability(name: str, value: float) -> float:
    x = _finite(name, value)
    if not 0 < x < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value}")
    return x


def _se_array(name: str, values) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains an infinite value")
    if (arr <= 0).any():
        raise ValueError(f"{name} must be positive; smallest value is {arr.min()}")
    return arr


# --------------------------------------------------------------------------------------------
# Standard errors and intervals consistent with a reported p-value bound
# --------------------------------------------------------------------------------------------


#: Rows of data/evidence.csv that hold the meta-analysis' figures (Source A's figures live in the
#: data, not in code): the two pooled effects and the size of the evidence base.
FIGURE_ROWS = {"g_achievement": "E001", "g_inequality": "E002", "n_analyses": "E154",
               "n_estimates_achievement": "E155", "n_estimates_inequality": "E156"}


def reported() -> dict:
    """The numbers this chapter works from: the meta-analysis' figures from ``data/evidence.csv``
    (:data:`FIGURE_ROWS`) and Source A's p-value bound from its claim A4 in ``data/claims.csv``
    (the bound is Source A's alone: the abstract says only "significantly positive")."""
    from ..data.claims import load_claims
    from ..data.evidence import load_evidence

    rows = load_evidence().set_index("id")
    values = {name: float(rows.loc[row_id, "estimate"]) for name, row_id in FIGURE_ROWS.items()}
    for name in ("n_analyses", "n_estimates_achievement", "n_estimates_inequality"):
        values[name] = int(values[name])
    quote = load_claims().set_index("id").loc["A4", "quote"]
    bounds = [f for f in figures_in(quote) if 0 < f < 0.05]
    if len(bounds) != 1:
        raise ValueError(f"claim A4's quote should hold one p-value bound, found {bounds}")
    values["p_inequality_source_a"] = bounds[0]
    return values


REPORTED = reported()


def z_crit(p: float, two_sided: bool = True) -> float:
    """The |z| whose p-value is ``p``: :math:`z_{1-p/2}` (two-sided) or :math:`z_{1-p}`."""
    p = _probability("p", p)
    return float(stats.norm.isf(p / 2 if two_sided else p))


def se_bounds(estimate: float, p_below: float | None = None, p_above: float | None = None,
              two_sided: bool = True) -> tuple[float, float]:
    r"""The standard errors consistent with ``estimate`` and a reported bound on its p-value.

    For a z test, :math:`p = 2\,\Phi(-|\hat\theta|/SE)` (two-sided), which decreases as
    :math:`|\hat\theta|/SE` grows. Hence

    - "p < p_below" (e.g. "p < 0.001") :math:`\iff SE < |\hat\theta| / z_{1-p_{below}/2}`: an upper
      bound on the SE;
    - "p > p_above" (e.g. "not significant", p > 0.05) :math:`\iff SE > |\hat\theta| / z_{1-p_{above}/2}`:
      a lower bound.

    Returns ``(se_min, se_max)``; a side the report does not bound is ``0`` or ``math.inf``,
    never a guessed number. Raises ``ValueError`` for a non-finite estimate, a p outside (0, 1),
    bounds that contradict each other (``p_above >= p_below``), or an estimate of exactly 0 with
    a ``p_below`` (an estimate of 0 has p = 1 whatever its SE).
    """
    est = _finite("estimate", estimate)
    se_min, se_max = 0.0, math.inf
    if p_below is not None:
        p_below = _probability("p_below", p_below)
        if est == 0:
            raise ValueError("an estimate of exactly 0 has p = 1 at any SE: it cannot be 'p < p_below'")
        se_max = abs(est) / z_crit(p_below, two_sided)
    if p_above is not None:
        p_above = _probability("p_above", p_above)
        se_min = abs(est) / z_crit(p_above, two_sided)
    if p_below is not None and p_above is not None and p_above >= p_below:
        raise ValueError(f"p_above ({p_above}) must be smaller than p_below ({p_below}): no p-value satisfies both")
    return se_min, se_max


def ci(estimate: float, se: float, level: float = 0.95) -> tuple[float, float]:
    r"""Normal-theory interval :math:`\hat\theta \pm z_{1-(1-level)/2}\,SE` (``se`` may be inf)."""
    est = _finite("estimate", estimate)
    if se is None or (isinstance(se, float) and math.isnan(se)):
        raise ValueError("se is missing (NaN)")
    se = float(se)
    if se <= 0:
        raise ValueError(f"se must be positive, got {se}")
    level = _probability("level", level)
    half = z_crit(1 - level) * se
    return est - half, est + half


# --------------------------------------------------------------------------------------------
# Equivalence, power, differences
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TostResult:
    """Two one-sided z tests: against ``low`` (H0: theta <= low) and ``high`` (H0: theta >= high)."""

    estimate: float
    se: float
    low: float
    high: float
    z_low: float
    p_low: float
    z_high: float
    p_high: float
    p: float
    ci90_low: float
    ci90_high: float

    def equivalent(self, alpha: float = 0.05) -> bool:
        """True if both one-sided tests reject at ``alpha`` (equivalence within [low, high])."""
        return self.p < _probability("alpha", alpha)


def z_tost(estimate: float, se: float, low: float, high: float) -> TostResult:
    r"""Two one-sided tests (TOST) of equivalence for a normally distributed estimate.

    .. math::

        z_L = (\hat\theta - \Delta_L)/SE,\ p_L = 1 - \Phi(z_L);\qquad
        z_U = (\hat\theta - \Delta_U)/SE,\ p_U = \Phi(z_U);\qquad p = \max(p_L, p_U).

    Equivalence at level :math:`\alpha` iff :math:`p < \alpha`, i.e. iff the
    :math:`1-2\alpha` interval lies inside :math:`[\Delta_L, \Delta_U]` (Schuirmann 1987;
    Lakens 2017, the ``TOSTmeta`` function of the TOSTER package, after Rogers, Howard and
    Vessey 1993). Raises ``ValueError`` for non-positive or NaN SE and ``low >= high``.
    """
    est = _finite("estimate", estimate)
    se = _positive("se", se)
    low, high = _finite("low", low), _finite("high", high)
    if low >= high:
        raise ValueError(f"equivalence bounds need low < high, got low={low}, high={high}")
    z_low = (est - low) / se
    z_high = (est - high) / se
    p_low = float(stats.norm.sf(z_low))
    p_high = float(stats.norm.cdf(z_high))
    half = z_crit(0.10) * se
    return TostResult(est, se, low, high, z_low, p_low, z_high, p_high, max(p_low, p_high), est - half, est + half)


def tost_max_se(estimate: float, low: float, high: float, alpha: float = 0.05) -> float:
    r"""Largest SE at which the TOST still concludes equivalence: :math:`\min(\hat\theta-\Delta_L,
    \Delta_U-\hat\theta)/z_{1-\alpha}`; 0 if the estimate lies outside the bounds."""
    est = _finite("estimate", estimate)
    low, high = _finite("low", low), _finite("high", high)
    if low >= high:
        raise ValueError(f"equivalence bounds need low < high, got low={low}, high={high}")
    alpha = _probability("alpha", alpha)
    margin = min(est - low, high - est)
    return max(margin, 0.0) / z_crit(alpha, two_sided=False)


def tost_curve(estimate: float, ses, low: float, high: float) -> np.ndarray:
    """TOST p-value (:func:`z_tost`) at each SE in ``ses`` (for the figure of p against SE)."""
    return np.array([z_tost(estimate, s, low, high).p for s in _se_array("ses", ses)])


def power(effect, se, alpha: float = 0.05):
    r"""Power of a two-sided z test at level ``alpha`` when the true effect is ``effect``:

    .. math:: 1-\beta = \Phi(\delta/SE - z_{1-\alpha/2}) + \Phi(-\delta/SE - z_{1-\alpha/2}).

    (Both tails, as ``statsmodels.stats.power.NormalIndPower`` computes it.) Vectorised.
    """
    alpha = _probability("alpha", alpha)
    eff = np.asarray(effect, dtype=float)
    if np.isnan(eff).any():
        raise ValueError("effect contains NaN")
    s = _se_array("se", se)
    z = stats.norm.isf(alpha / 2)
    out = stats.norm.cdf(eff / s - z) + stats.norm.cdf(-eff / s - z)
    return float(out) if np.ndim(out) == 0 else out


def mde(se: float, alpha: float = 0.05, power_target: float = 0.8, *, power: float | None = None) -> float:
    r"""Minimum detectable effect: the true effect a two-sided z test detects with the given power.

    Approximately :math:`(z_{1-\alpha/2} + z_{1-\beta})\,SE` (2.80 SE at 5% and 80%); computed
    exactly (both tails of :func:`power`) by root finding, so that it agrees with
    ``NormalIndPower().solve_power`` when ``se = sqrt(1/n1 + 1/n2)``.
    """
    target = power_target if power is None else power
    target = _probability("power", target)
    alpha = _probability("alpha", alpha)
    se = _positive("se", se)
    if target <= alpha:
        raise ValueError(f"power ({target}) must exceed alpha ({alpha})")
    approx = (z_crit(alpha) + float(stats.norm.ppf(target))) * se

    def gap(delta: float) -> float:
        z = stats.norm.isf(alpha / 2)
        return stats.norm.cdf(delta / se - z) + stats.norm.cdf(-delta / se - z) - target

    return float(optimize.brentq(gap, 1e-12, approx * 2 + se, xtol=1e-14))


@dataclass(frozen=True)
class DiffResult:
    difference: float
    se: float
    z: float
    p: float


def diff_test(est1: float, se1: float, est2: float, se2: float, corr: float = 0.0) -> DiffResult:
    r"""z test of :math:`\theta_1 - \theta_2`:

    .. math:: SE_d = \sqrt{SE_1^2 + SE_2^2 - 2\rho\,SE_1 SE_2},\quad z = (\hat\theta_1-\hat\theta_2)/SE_d,
              \quad p = 2\,\Phi(-|z|).

    Gelman and Stern (2006): "the difference between 'significant' and 'not significant' is not
    itself statistically significant". ``corr`` is the correlation of the two estimates
    (0 for independent studies), in [-1, 1].
    """
    e1, e2 = _finite("est1", est1), _finite("est2", est2)
    s1, s2 = _positive("se1", se1), _positive("se2", se2)
    rho = _finite("corr", corr)
    if not -1 <= rho <= 1:
        raise ValueError(f"corr must lie in [-1, 1], got {corr}")
    var = s1**2 + s2**2 - 2 * rho * s1 * s2
    if var <= 0:
        raise ValueError("the difference has zero variance (corr = 1 with equal SEs)")
    sd = math.sqrt(var)
    z = (e1 - e2) / sd
    return DiffResult(e1 - e2, sd, z, float(2 * stats.norm.sf(abs(z))))


# --------------------------------------------------------------------------------------------
# What SE a body of evidence of a given size could have; heterogeneity
# --------------------------------------------------------------------------------------------


def pooled_se(k: int, study_se: float, tau: float) -> float:
    r"""SE of a random-effects mean of ``k`` independent estimates with equal within-study SE:
    :math:`\sqrt{(\tau^2 + s^2)/k}` (inverse-variance weights are then equal)."""
    if int(k) != k or k < 2:
        raise ValueError(f"k must be an integer of at least 2, got {k}")
    s = _positive("study_se", study_se)
    t = _finite("tau", tau)
    if t < 0:
        raise ValueError(f"tau must be non-negative, got {tau}")
    return math.sqrt((t**2 + s**2) / k)


def implied_tau(se: float, k: int, study_se: float) -> float:
    r"""The :math:`\tau` at which :func:`pooled_se` equals ``se``: :math:`\sqrt{\max(k\,SE^2 - s^2, 0)}`.

    With "not significant" giving a lower bound on the SE, it gives a lower bound on
    :math:`\tau` (under the equal-SE, independent-estimates assumption); an upper bound on the SE
    gives an upper bound on :math:`\tau`.
    """
    se = _positive("se", se)
    if int(k) != k or k < 2:
        raise ValueError(f"k must be an integer of at least 2, got {k}")
    s = _positive("study_se", study_se)
    return math.sqrt(max(k * se**2 - s**2, 0.0))


def plausible_se_range(k_eff=ASSUMED["k_eff"], study_se=ASSUMED["study_se"], tau=ASSUMED["tau"]) -> tuple[float, float]:
    """Smallest and largest :func:`pooled_se` over the grid of assumptions (an assumption, not data)."""
    values = [pooled_se(k, s, t) for k in k_eff for s in study_se for t in tau]
    return min(values), max(values)


def prediction_interval(estimate: float, se: float, tau: float, level: float = 0.95) -> tuple[float, float]:
    r"""Normal-theory prediction interval for the true effect in a new setting:
    :math:`\hat\mu \pm z_{1-(1-level)/2}\sqrt{\tau^2 + SE^2}` (Higgins, Thompson and
    Spiegelhalter 2009 use a t quantile with k-2 df; with k >= 53 the two differ little)."""
    est = _finite("estimate", estimate)
    se = _positive("se", se)
    t = _finite("tau", tau)
    if t < 0:
        raise ValueError(f"tau must be non-negative, got {tau}")
    return ci(est, math.sqrt(t**2 + se**2), level)


def share_positive(mean: float, tau: float, se: float = 0.0) -> float:
    r"""Share of settings whose true effect is above 0 if true effects are
    :math:`N(\mu, \tau^2)`: :math:`\Phi(\mu/\sqrt{\tau^2 + SE^2})` (``se`` > 0 adds the
    uncertainty of the mean; ``tau = se = 0`` returns 1 or 0 by the sign of the mean)."""
    mu = _finite("mean", mean)
    t, s = _finite("tau", tau), _finite("se", se)
    if t < 0 or s < 0:
        raise ValueError("tau and se must be non-negative")
    sd = math.sqrt(t**2 + s**2)
    if sd == 0:
        return float(mu > 0)
    return float(stats.norm.cdf(mu / sd))


# --------------------------------------------------------------------------------------------
# Vectorised DerSimonian-Laird pooling and the vote-counting simulation
# --------------------------------------------------------------------------------------------


def dl_pool(y, v) -> dict[str, np.ndarray]:
    r"""DerSimonian-Laird random-effects pooling along the last axis (vectorised).

    With :math:`w_i = 1/v_i`, :math:`\bar y_{FE} = \sum w_i y_i / \sum w_i`,
    :math:`Q = \sum w_i (y_i - \bar y_{FE})^2`,
    :math:`\hat\tau^2 = \max\{0, (Q - (k-1)) / (\sum w_i - \sum w_i^2/\sum w_i)\}`,
    :math:`w_i^* = 1/(v_i + \hat\tau^2)`, :math:`\hat\mu = \sum w_i^* y_i/\sum w_i^*`,
    :math:`SE = (\sum w_i^*)^{-1/2}` (DerSimonian and Laird 1986). ``y`` and ``v`` broadcast
    to shape ``(..., k)``; returns arrays ``estimate``, ``se``, ``tau2``, ``q``, ``z``, ``p``.
    Cross-checked in the tests against ``statsmodels.stats.meta_analysis.combine_effects``.
    """
    y = np.asarray(y, dtype=float)
    v = np.asarray(v, dtype=float)
    if np.isnan(y).any() or np.isnan(v).any():
        raise ValueError("y or v contains NaN")
    if not (np.isfinite(y).all() and np.isfinite(v).all()):  # an infinite variance would get weight 0: a study dropped
        raise ValueError("y or v contains an infinite value")
    if (v <= 0).any():
        raise ValueError("variances v must be positive")
    y, v = np.broadcast_arrays(y, v)
    k = y.shape[-1]
    if k < 2:
        raise ValueError(f"pooling needs k >= 2 estimates, got {k}")
    w = 1.0 / v
    sw = w.sum(-1)
    fe = (w * y).sum(-1) / sw
    q = (w * (y - fe[..., None]) ** 2).sum(-1)
    c = sw - (w**2).sum(-1) / sw
    tau2 = np.maximum(0.0, (q - (k - 1)) / c)
    ws = 1.0 / (v + tau2[..., None])
    sws = ws.sum(-1)
    est = (ws * y).sum(-1) / sws
    se = 1.0 / np.sqrt(sws)
    z = est / se
    return {"estimate": est, "se": se, "tau2": tau2, "q": q, "z": z, "p": 2 * stats.norm.sf(np.abs(z))}


def study_ses(k: int, se_low: float, se_high: float) -> np.ndarray:
    """``k`` study SEs spaced evenly on the log scale from ``se_low`` to ``se_high`` (an assumed
    spread of study sizes: SE of g is roughly sqrt(2/n) for n students per group)."""
    if int(k) != k or k < 2:
        raise ValueError(f"k must be an integer of at least 2, got {k}")
    lo, hi = _positive("se_low", se_low), _positive("se_high", se_high)
    if lo > hi:
        raise ValueError(f"se_low ({lo}) must not exceed se_high ({hi})")
    return np.geomspace(lo, hi, int(k))


#: The rule for a literature that "looks balanced" when its studies are counted one by one.
BALANCED_RULE = {"min_minority_sign_share": 1 / 3, "max_significant_share": 0.5}


def looks_balanced(y: np.ndarray, se: np.ndarray, alpha: float = 0.05,
                   min_minority_sign_share: float = BALANCED_RULE["min_minority_sign_share"],
                   max_significant_share: float = BALANCED_RULE["max_significant_share"]) -> np.ndarray:
    r"""Vote count along the last axis: a literature *looks balanced* (or "quite mixed") when

    1. signs are mixed: the less common sign is carried by at least ``min_minority_sign_share``
       of the estimates (1/3 by default: at most two results of one sign for each of the other),
       **and**
    2. significant results are few in any one direction: fewer than ``max_significant_share``
       (half) of the estimates are significant (two-sided z test at ``alpha``) with a positive
       sign, and fewer than half with a negative sign.

    A reader counting studies sees no majority of significant results pointing one way.
    """
    y = np.asarray(y, dtype=float)
    if np.isnan(y).any():
        raise ValueError("y contains NaN")
    se = _se_array("se", se)
    k = y.shape[-1]
    pos = (y > 0).sum(-1)
    minority = np.minimum(pos, k - pos) / k
    z = y / se
    crit = z_crit(alpha)
    sig_pos = (z > crit).sum(-1) / k
    sig_neg = (z < -crit).sum(-1) / k
    return (minority >= min_minority_sign_share) & (np.maximum(sig_pos, sig_neg) < max_significant_share)


@dataclass(frozen=True)
class VoteCount:
    """Shares over simulated literatures (simulated data)."""

    mu: float
    tau: float
    k: int
    reps: int
    balanced: float           # share that looks balanced (BALANCED_RULE)
    pooled_significant: float  # share where the DL mean is significant (two-sided, alpha)
    balanced_and_significant: float
    pooled_ns: float           # share where the DL mean is not significant
    median_pooled_se: float
    mean_share_significant: float  # average share of individually significant studies
    mean_share_negative: float


def simulate_votecount(mu: float, tau: float, ses, reps: int = 10_000, seed: int = 20261123,
                       alpha: float = 0.05) -> VoteCount:
    r"""Simulate ``reps`` literatures of ``k = len(ses)`` studies (**simulated data**, seeded).

    Study i's true effect is :math:`\theta_i \sim N(\mu, \tau^2)` and its estimate
    :math:`y_i \sim N(\theta_i, s_i^2)` with the given SEs. Each literature is vote-counted
    (:func:`looks_balanced`) and pooled (:func:`dl_pool`, vectorised over replications).
    """
    mu = _finite("mu", mu)
    tau = _finite("tau", tau)
    if tau < 0:
        raise ValueError(f"tau must be non-negative, got {tau}")
    s = _se_array("ses", ses)
    if s.ndim != 1 or s.size < 2:
        raise ValueError("ses must be a 1-D array of at least 2 standard errors")
    if int(reps) != reps or reps < 1:
        raise ValueError(f"reps must be a positive integer, got {reps}")
    alpha = _probability("alpha", alpha)
    rng = np.random.default_rng(seed)
    k = s.size
    theta = mu + tau * rng.standard_normal((int(reps), k))
    y = theta + s * rng.standard_normal((int(reps), k))
    balanced = looks_balanced(y, s, alpha)
    pooled = dl_pool(y, s**2)
    sig = pooled["p"] < alpha
    return VoteCount(
        mu=mu, tau=tau, k=k, reps=int(reps),
        balanced=float(balanced.mean()),
        pooled_significant=float(sig.mean()),
        balanced_and_significant=float((balanced & sig).mean()),
        pooled_ns=float((~sig).mean()),
        median_pooled_se=float(np.median(pooled["se"])),
        mean_share_significant=float((np.abs(y / s) > z_crit(alpha)).mean()),
        mean_share_negative=float((y < 0).mean()),
    )


#: Assumed spreads of study SEs for the simulation (assumptions, varied in the chapter).
SE_SPREADS = {"large studies (SE 0.03-0.10)": (0.03, 0.10),
              "medium studies (SE 0.05-0.20)": (0.05, 0.20),
              "small studies (SE 0.10-0.40)": (0.10, 0.40)}


def votecount_grid(mu: float = REPORTED["g_achievement"], taus=(0.0, 0.1, 0.2, 0.3), spreads=None,
                   k: int = REPORTED["n_analyses"], reps: int = 10_000, seed: int = 20261123) -> pd.DataFrame:
    """:func:`simulate_votecount` over a grid of tau and SE spreads (simulated data), one row each."""
    spreads = SE_SPREADS if spreads is None else spreads
    rows = []
    for i, (label, (lo, hi)) in enumerate(spreads.items()):
        for j, tau in enumerate(taus):
            r = simulate_votecount(mu, tau, study_ses(k, lo, hi), reps=reps, seed=seed + 100 * i + j)
            rows.append({"studies": label, "tau": tau, "looks balanced": r.balanced,
                         "pooled significant": r.pooled_significant,
                         "balanced and pooled significant": r.balanced_and_significant,
                         "pooled not significant": r.pooled_ns, "median pooled SE": r.median_pooled_se,
                         "share of studies significant": r.mean_share_significant,
                         "share of estimates negative": r.mean_share_negative})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Plain units: U3 and the High School and Beyond SES gap
# --------------------------------------------------------------------------------------------


def u3(g: float) -> float:
    r"""Cohen's U3: the share of the comparison distribution below the shifted mean, :math:`\Phi(g)`
    (normal distributions with equal SD). ``u3(g) - 0.5`` is the percentile shift of the median."""
    return float(stats.norm.cdf(_finite("g", g)))


@dataclass(frozen=True)
class QuartileGap:
    d: float
    mean_top: float
    mean_bottom: float
    sd_pooled: float
    n_top: int
    n_bottom: int
    cut_low: float
    cut_high: float


def ses_quartile_gap(df: pd.DataFrame, outcome: str = "mathach", group: str = "ses") -> QuartileGap:
    r"""Standardised gap in ``outcome`` between the top and bottom quartiles of ``group``.

    Bottom = ``group`` at or below its 25th percentile, top = at or above its 75th percentile
    (``numpy.quantile``, linear interpolation). :math:`d = (\bar y_{top} - \bar y_{bottom})/s_p`
    with the pooled SD :math:`s_p^2 = ((n_t-1)s_t^2 + (n_b-1)s_b^2)/(n_t+n_b-2)` (Cohen's d).
    Raises ``ValueError`` for a missing column or any missing value (nothing is dropped).
    """
    for col in (outcome, group):
        if col not in df.columns:
            raise ValueError(f"column '{col}' not in the data frame")
        if df[col].isna().any():
            raise ValueError(f"column '{col}' has {int(df[col].isna().sum())} missing value(s)")
    x = df[group].to_numpy(float)
    y = df[outcome].to_numpy(float)
    lo, hi = np.quantile(x, [0.25, 0.75])
    bottom, top = y[x <= lo], y[x >= hi]
    if len(bottom) < 2 or len(top) < 2:
        raise ValueError("each quartile needs at least 2 observations")
    nt, nb = len(top), len(bottom)
    sp = math.sqrt(((nt - 1) * top.var(ddof=1) + (nb - 1) * bottom.var(ddof=1)) / (nt + nb - 2))
    return QuartileGap((top.mean() - bottom.mean()) / sp, float(top.mean()), float(bottom.mean()), sp,
                       nt, nb, float(lo), float(hi))


@cache
def hsb_gap() -> QuartileGap:
    """:func:`ses_quartile_gap` on High School and Beyond (``data.load_hsb()``)."""
    from ..data import load_hsb

    return ses_quartile_gap(load_hsb(), "mathach", "ses")


# --------------------------------------------------------------------------------------------
# The chapter's summaries
# --------------------------------------------------------------------------------------------


def achievement_summary(bounds=(0.1, 0.2), alpha: float = 0.05) -> dict:
    """What "g = -0.063, not significant" implies, with and without the size assumptions."""
    g = REPORTED["g_achievement"]
    se_min, se_max = se_bounds(g, p_above=alpha)
    plaus_lo, plaus_hi = plausible_se_range()
    out = {"g": g, "se_min": se_min, "se_max": se_max, "ci_at_se_min": ci(g, se_min),
           "plausible_se": (plaus_lo, plaus_hi),
           "consistent_se": (max(se_min, plaus_lo), plaus_hi),
           "ci_at_consistent_max": ci(g, max(se_min, plaus_hi)),
           "mde_at_se_min": mde(se_min, alpha)}
    for b in bounds:
        out[f"tost_max_se_{b}"] = tost_max_se(g, -b, b, alpha)
        out[f"tost_p_at_se_min_{b}"] = z_tost(g, se_min, -b, b).p
        out[f"tost_p_at_consistent_max_{b}"] = z_tost(g, max(se_min, plaus_hi), -b, b).p
    out["tau_min_k53"] = {s: implied_tau(se_min, REPORTED["n_analyses"], s) for s in ASSUMED["study_se"]}
    out["tau_min_k213"] = {s: implied_tau(se_min, REPORTED["n_estimates_achievement"], s) for s in ASSUMED["study_se"]}
    return out


def inequality_summary(alpha: float = 0.05) -> dict:
    """SE bounds for g = 0.117 under the abstract's reading (p < 0.05) and Source A's (p < 0.001)."""
    g = REPORTED["g_inequality"]
    _, se_max_05 = se_bounds(g, p_below=alpha)
    _, se_max_001 = se_bounds(g, p_below=REPORTED["p_inequality_source_a"])
    return {"g": g, "se_max_p05": se_max_05, "se_max_p001": se_max_001,
            "ci_at_max_p05": ci(g, se_max_05), "ci_at_max_p001": ci(g, se_max_001),
            "tau_max_k53": {s: implied_tau(se_max_001, REPORTED["n_analyses"], s) for s in ASSUMED["study_se"]},
            "tau_max_k53_p05": {s: implied_tau(se_max_05, REPORTED["n_analyses"], s) for s in ASSUMED["study_se"]}}


def difference_grid(n: int = 41, corrs=(-0.5, 0.0, 0.5), alpha: float = 0.05) -> pd.DataFrame:
    """Tests of the two pooled effects' difference across the SEs consistent with the reports.

    Two contrasts: the signed difference 0.117 - (-0.063) (different outcomes), and the
    difference in *magnitude* 0.117 - 0.063 (is the inequality effect demonstrably larger than
    the achievement effect?). SE of achievement from its lower bound (not significant) to the
    top of the assumed plausible range; SE of inequality from 1/10 of its upper bound under
    p < 0.05 up to that bound. ``corr`` is the assumed correlation of the two pooled estimates.
    """
    a = achievement_summary()
    i = inequality_summary()
    ga, gi = REPORTED["g_achievement"], REPORTED["g_inequality"]
    se_a = np.linspace(a["consistent_se"][0], a["consistent_se"][1], n)
    se_i = np.linspace(i["se_max_p05"] / 10, i["se_max_p05"], n)
    rows = []
    for rho in corrs:
        for sa in se_a:
            for si in se_i:
                signed = diff_test(gi, si, ga, sa, rho)
                # |g_a| = -g_a: the magnitude contrast gi - (-ga) has correlation -rho
                size = diff_test(gi, si, -ga, sa, -rho)
                rows.append({"corr": rho, "se_achievement": sa, "se_inequality": si,
                             "within_p001": si <= i["se_max_p001"],
                             "z_signed": signed.z, "p_signed": signed.p, "z_magnitude": size.z, "p_magnitude": size.p})
    return pd.DataFrame(rows)


def pi_table(taus=ASSUMED["tau"]) -> pd.DataFrame:
    """Prediction intervals and share of settings with a positive effect on inequality, by tau
    (assumed) and reading of the p-value (SE at its upper bound, the least favourable case)."""
    i = inequality_summary()
    rows = []
    for reading, se in (("p < 0.001", i["se_max_p001"]), ("p < 0.05", i["se_max_p05"])):
        for t in taus:
            lo, hi = prediction_interval(REPORTED["g_inequality"], se, t)
            rows.append({"reading": reading, "tau": t, "se": se, "pi_low": lo, "pi_high": hi,
                         "share_positive": share_positive(REPORTED["g_inequality"], t),
                         "share_above_0.1": float(stats.norm.sf((0.1 - REPORTED["g_inequality"]) / t)) if t > 0
                         else float(REPORTED["g_inequality"] > 0.1)})
    return pd.DataFrame(rows)


@cache
def achievement_votecount() -> pd.DataFrame:
    """:func:`votecount_grid` for the reported achievement mean, 10,000 replications (cached)."""
    return votecount_grid(REPORTED["g_achievement"])


@cache
def inequality_votecount() -> pd.DataFrame:
    """:func:`votecount_grid` for the reported inequality mean, 10,000 replications (cached)."""
    return votecount_grid(REPORTED["g_inequality"])
