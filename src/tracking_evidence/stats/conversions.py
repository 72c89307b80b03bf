r"""Effect-size and uncertainty conversions: what a published figure gives a pooled analysis.

Each conversion is one function with its formula; every one is checked against R's metafor
(``escalc``, ``conv.wald``) through committed fixtures (``tests/reference/``).
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

__all__ = ["derive_se"]


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def derive_se(estimate: float, se=None, ci_low=None, ci_high=None, ci_level=None, p=None) -> tuple[float, str]:
    r"""The standard error a row contributes, and how it was obtained.

    - published ``se``: used as is (``"published"``);
    - a published interval at level :math:`L`: :math:`SE = (u - l) / (2 z_{(1+L)/2})`
      (``"from CI"``; exact for a symmetric Wald interval, an approximation otherwise);
    - an exact two-sided p-value: :math:`SE = |\hat\theta| / z_{1 - p/2}` (``"from p"``; needs
      :math:`0 < p < 1` and a non-zero estimate);
    - nothing published: ``(nan, "none")``.
    """
    def given(x) -> bool:
        return x is not None and not (isinstance(x, float) and math.isnan(x)) and not pd.isna(x)

    if given(se):
        if se <= 0:
            raise ValueError(f"a published SE must be positive, got {se}")
        return float(se), "published"
    if given(ci_low) or given(ci_high):
        if not (given(ci_low) and given(ci_high)):
            raise ValueError("an interval needs both bounds")
        level = float(ci_level) if given(ci_level) else None
        if level is None or not 0 < level < 1:
            raise ValueError(f"an interval needs its level in (0, 1), got {ci_level}")
        if ci_high <= ci_low:
            raise ValueError(f"interval [{ci_low}, {ci_high}] is empty")
        return float((ci_high - ci_low) / (2 * _z(level))), "from CI"
    if given(p):
        if not 0 < p < 1:
            raise ValueError(f"an exact p-value must lie in (0, 1), got {p}")
        if estimate == 0:
            raise ValueError("an SE cannot be derived from a p-value for a zero estimate")
        return float(abs(estimate) / stats.norm.isf(p / 2)), "from p"
    return float("nan"), "none"
