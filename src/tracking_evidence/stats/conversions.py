r"""Effect-size and uncertainty conversions: what a published figure gives a pooled analysis.

A study's page prints its uncertainty in one of several forms; each is turned into the standard
error of the estimate by one function here, and :func:`derive_se` chooses the function from the
fields a row of the evidence table carries (``data/evidence-protocol.md``, section 5). Every
conversion is checked against R through a committed fixture (``tests/reference/conversions.R``:
``metafor::escalc`` for the standardised mean difference; R's ``qnorm`` for the Wald conversions,
which the Debian build of metafor, 3.8-1, predates ``conv.wald`` for).

=============================  ===========================================================
``se_derived``                 standard error
=============================  ===========================================================
(published)                    the printed SE
``from CI``                    :math:`(u - l) / (2 z_{(1+L)/2})`
``from p``                     :math:`|\hat\theta| / z_{1 - p/2}`
``from t``                     :math:`|\hat\theta| / |t|`
``from significance``          :math:`|\hat\theta| / z_{1 - \alpha/2}` for "significant at
                               :math:`\alpha`": the largest SE the statement allows
``from significance (level     the same, for "significant" without its level: recorded at
not printed)``                 :math:`\alpha = 0.1`, the loosest level in use (a verdict may
                               read it at the conventional 0.05: :func:`se_from_significance`)
``from means and SDs``         Hedges' *g* and its large-sample SE (:func:`hedges_g`)
``from coefficient and         :math:`b / s_y` with SE :math:`se_b / s_y`
outcome SD``
=============================  ===========================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy import special, stats

__all__ = ["DERIVATIONS", "UNSTATED", "UNSTATED_BOUND", "P_BOUNDS", "se_from_ci", "se_from_p", "se_from_t", "se_from_significance", "hedges_g",
           "coefficient_over_sd", "parse_inputs", "Derived", "derive", "derive_se"]

#: The names of the derivations, as the evidence table's ``se_derived`` writes them.
UNSTATED = "from significance (level not printed)"
DERIVATIONS = ("from CI", "from p", "from t", "from significance", UNSTATED, "from means and SDs",
               "from coefficient and outcome SD")
#: The level a statement of significance without its level is read at in the data: the loosest in use,
#: so that the SE recorded is the largest any convention allows (a verdict may read it at 5%).
UNSTATED_BOUND = 0.1
#: The bounds a statement of significance can carry (the conventional levels).
P_BOUNDS = (0.1, 0.05, 0.01, 0.005, 0.001, 0.0001)


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def _given(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x)) and not pd.isna(x)


def se_from_ci(ci_low: float, ci_high: float, level: float) -> float:
    r"""SE from a symmetric Wald interval: :math:`(u - l) / (2 z_{(1+L)/2})`.

    Exact for an interval built as estimate ± z·SE; for an asymmetric interval (a bootstrap, a
    profile likelihood) it is the SE of the symmetric interval of the same width.
    """
    if not 0 < level < 1:
        raise ValueError(f"an interval needs its level in (0, 1), got {level}")
    if not ci_high > ci_low:
        raise ValueError(f"interval [{ci_low}, {ci_high}] is empty")
    return float((ci_high - ci_low) / (2 * _z(level)))


def se_from_p(estimate: float, p: float) -> float:
    r"""SE from an exact two-sided p-value of a Wald test: :math:`|\hat\theta| / z_{1-p/2}`."""
    if not 0 < p < 1:
        raise ValueError(f"an exact p-value must lie in (0, 1), got {p}")
    if estimate == 0:
        raise ValueError("an SE cannot be derived from a p-value for a zero estimate")
    return float(abs(estimate) / stats.norm.isf(p / 2))


def se_from_t(estimate: float, t: float) -> float:
    r"""SE from a published t (or z) statistic of the estimate: :math:`|\hat\theta| / |t|`.

    A t statistic is the estimate over its SE, so this inverts it exactly, whatever the degrees of
    freedom (they matter for the interval, which the pooled analysis builds on the normal scale).
    """
    if t == 0 or not math.isfinite(t):
        raise ValueError(f"a t statistic must be finite and non-zero, got {t}")
    if estimate == 0:
        raise ValueError("an SE cannot be derived from a t statistic for a zero estimate")
    return float(abs(estimate) / abs(t))


def se_from_significance(estimate: float, p_bound: float) -> float:
    r"""The largest SE a statement "significant at level :math:`\alpha`" allows:
    :math:`|\hat\theta| / z_{1-\alpha/2}`.

    "p < α" says :math:`|\hat\theta| / SE > z_{1-\alpha/2}`, so the SE is at most this value: the
    interval built on it is the widest the statement permits (its bound touches zero at level
    :math:`1-\alpha`). A verdict that uses such a row treats it as no more precise than that.
    """
    if p_bound not in P_BOUNDS:
        raise ValueError(f"a significance bound is one of {P_BOUNDS}, got {p_bound}")
    if estimate == 0:
        raise ValueError("a zero estimate cannot be significant")
    return float(abs(estimate) / stats.norm.isf(p_bound / 2))


def _small_sample_correction(df: float) -> float:
    """Hedges' exact correction J(df) = Γ(df/2) / (√(df/2) Γ((df−1)/2)) (metafor's ``.cmicalc``);
    1 − 3/(4·df − 1) is its approximation."""
    return float(math.exp(special.gammaln(df / 2) - 0.5 * math.log(df / 2) - special.gammaln((df - 1) / 2)))


def hedges_g(m1: float, sd1: float, n1: float, m2: float, sd2: float, n2: float) -> tuple[float, float]:
    r"""Hedges' *g* of group 1 over group 2 and its SE (``metafor::escalc(measure = "SMD")``).

    .. math::
        s_p = \sqrt{\frac{(n_1-1) s_1^2 + (n_2-1) s_2^2}{n_1+n_2-2}}, \quad
        g = J(n_1+n_2-2)\,\frac{m_1 - m_2}{s_p}, \quad
        \operatorname{Var}(g) = \frac{1}{n_1} + \frac{1}{n_2} + \frac{g^2}{2 (n_1+n_2)}

    with Hedges' exact small-sample correction :math:`J` (Hedges 1981; escalc's default
    large-sample variance, ``vtype = "LS"``).
    """
    for name, value in (("sd1", sd1), ("sd2", sd2)):
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")
    for name, value in (("n1", n1), ("n2", n2)):
        if not value >= 2:
            raise ValueError(f"{name} must be at least 2, got {value}")
    df = n1 + n2 - 2
    pooled = math.sqrt(((n1 - 1) * sd1 ** 2 + (n2 - 1) * sd2 ** 2) / df)
    g = _small_sample_correction(df) * (m1 - m2) / pooled
    variance = 1 / n1 + 1 / n2 + g ** 2 / (2 * (n1 + n2))
    return float(g), float(math.sqrt(variance))


def coefficient_over_sd(b: float, se_b: float, sd_y: float) -> tuple[float, float]:
    r"""A regression coefficient in the outcome's units, put in SD units: :math:`(b / s_y, se_b / s_y)`."""
    if not sd_y > 0:
        raise ValueError(f"the outcome's SD must be positive, got {sd_y}")
    if not se_b > 0:
        raise ValueError(f"the coefficient's SE must be positive, got {se_b}")
    return float(b / sd_y), float(se_b / sd_y)


_INPUTS = {"from means and SDs": ("m1", "sd1", "n1", "m2", "sd2", "n2"),
           "from coefficient and outcome SD": ("b", "se_b", "sd_y")}


def parse_inputs(text: str, derivation: str) -> dict[str, float]:
    """``'m1=12.1;sd1=3;...'`` as a mapping, with exactly the names ``derivation`` needs."""
    if derivation not in _INPUTS:
        raise ValueError(f"'{derivation}' takes no raw inputs")
    pairs = {}
    for item in str(text).split(";"):
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"raw input '{item}' is not name=value")
        try:
            pairs[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"raw input '{item}' has no number") from None
    wanted = set(_INPUTS[derivation])
    if set(pairs) != wanted:
        raise ValueError(f"{derivation} needs {sorted(wanted)}, got {sorted(pairs)}")
    return pairs


@dataclass(frozen=True)
class Derived:
    """What a row's fields give: the estimate the book uses, its SE and how the SE was obtained."""

    estimate: float
    se: float
    how: str  # "published", one of DERIVATIONS, or "none"

    @property
    def bound_only(self) -> bool:
        """True when the SE is the largest a significance statement allows, not a measured SE."""
        return self.how in ("from significance", UNSTATED)


def derive(estimate: float, *, se=None, ci_low=None, ci_high=None, ci_level=None, p=None, t_stat=None,
           p_bound=None, raw_inputs=None, se_derived=None) -> Derived:
    """The SE a row contributes, from the first uncertainty it carries, in the protocol's order:
    a published SE; a derivation from raw inputs (``se_derived`` names which); an interval; an
    exact p; a t statistic; a statement of significance; else none (``nan``)."""
    if _given(se):
        if se <= 0:
            raise ValueError(f"a published SE must be positive, got {se}")
        return Derived(float(estimate), float(se), "published")
    if _given(raw_inputs):
        if se_derived not in _INPUTS:
            raise ValueError(f"raw inputs are given, so se_derived must be one of {sorted(_INPUTS)}, got {se_derived!r}")
        values = parse_inputs(raw_inputs, se_derived)
        computed = hedges_g(**values) if se_derived == "from means and SDs" else coefficient_over_sd(**values)
        return Derived(computed[0], computed[1], se_derived)
    if _given(ci_low) or _given(ci_high):
        if not (_given(ci_low) and _given(ci_high)):
            raise ValueError("an interval needs both bounds")
        if not _given(ci_level):
            raise ValueError("an interval needs its level")
        return Derived(float(estimate), se_from_ci(ci_low, ci_high, float(ci_level)), "from CI")
    if _given(p):
        return Derived(float(estimate), se_from_p(estimate, float(p)), "from p")
    if _given(t_stat):
        return Derived(float(estimate), se_from_t(estimate, float(t_stat)), "from t")
    if _given(p_bound):
        how = UNSTATED if se_derived == UNSTATED else "from significance"
        if how == UNSTATED and float(p_bound) != UNSTATED_BOUND:
            raise ValueError(f"a statement without its level is recorded at p_bound {UNSTATED_BOUND}, got {p_bound}")
        return Derived(float(estimate), se_from_significance(estimate, float(p_bound)), how)
    return Derived(float(estimate), float("nan"), "none")


def derive_se(estimate: float, se=None, ci_low=None, ci_high=None, ci_level=None, p=None, t_stat=None,
              p_bound=None) -> tuple[float, str]:
    """``(SE, how)`` for a row without raw inputs (see :func:`derive`)."""
    d = derive(estimate, se=se, ci_low=ci_low, ci_high=ci_high, ci_level=ci_level, p=p, t_stat=t_stat,
               p_bound=p_bound)
    return d.se, d.how
