"""Achievement gaps in standard-deviation units, their decomposition, and the size of a pilot.

Functions
---------
- :func:`standardized_gap`: the difference in means between two groups divided by the pooled
  SD (Cohen's d) and by the reference group's SD (Glass's delta), with analytic and (optionally)
  seeded, optionally cluster-resampled bootstrap confidence intervals.
- :func:`standardized_gaps_by`: the same, one row per stratum (for example per grade).
- :func:`hsb_ses_quartile_gap`: the standardized mathematics gap between the top and bottom SES
  quartiles of High School and Beyond students (a yardstick other chapters use).

Sign convention: a gap is ``mean(reference) - mean(focal)``, so a positive gap means the focal
group (for example minority students) scores below the reference group.

Bad input raises :class:`ValueError` naming the problem: a missing column, a group column
without exactly two levels, missing values in the outcome or group (unless ``dropna=True``, in
which case the number of excluded rows is reported on the result), a group with fewer than two
observations or zero variance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "Gap",
    "standardized_gap",
    "standardized_gaps_by",
    "hsb_ses_quartile_gap",
]


# --------------------------------------------------------------------------------------------
# Input checks shared by every function
# --------------------------------------------------------------------------------------------


def _require_columns(df: pd.DataFrame, columns: list[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"missing column(s) {missing}; the data have {list(df.columns)}")


def _handle_missing(df: pd.DataFrame, columns: list[str], dropna: bool) -> tuple[pd.DataFrame, int, str]:
    """Raise on missing values in ``columns`` unless ``dropna``; then drop them and say how many."""
    missing = df[columns].isna()
    n_missing = int(missing.any(axis=1).sum())
    if n_missing == 0:
        return df, 0, ""
    per_column = {c: int(missing[c].sum()) for c in columns if missing[c].any()}
    if not dropna:
        raise ValueError(
            f"{n_missing} row(s) have missing values (per column: {per_column}); "
            "remove them yourself or pass dropna=True to exclude them (the count is reported)"
        )
    reason = f"{n_missing} row(s) excluded for missing values (per column: {per_column}) at the caller's request"
    return df.loc[~missing.any(axis=1)], n_missing, reason


def _two_levels(values: pd.Series, group: str) -> list:
    levels = sorted(pd.unique(values).tolist())
    if len(levels) != 2:
        raise ValueError(f"group column '{group}' must have exactly two levels; it has {len(levels)}: {levels[:10]}")
    return levels


# --------------------------------------------------------------------------------------------
# Standardized gaps
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """A standardized gap between a reference and a focal group.

    ``gap`` is ``mean_reference - mean_focal`` in outcome units. ``d`` divides it by the pooled
    SD, ``delta`` by the reference group's SD. ``se_d`` / ``se_delta`` are the analytic large-sample
    standard errors; ``ci_*`` the analytic intervals; ``boot_*`` the percentile bootstrap
    intervals of ``d`` (NaN when no bootstrap was asked for). ``n_excluded`` / ``excluded_reason``
    report rows dropped at the caller's explicit request.
    """

    outcome: str
    group: str
    focal: object
    reference: object
    n_focal: int
    n_reference: int
    mean_focal: float
    mean_reference: float
    sd_focal: float
    sd_reference: float
    sd_pooled: float
    gap: float
    d: float
    se_d: float
    ci_low: float
    ci_high: float
    delta: float
    se_delta: float
    delta_ci_low: float
    delta_ci_high: float
    level: float
    boot_ci_low: float = float("nan")
    boot_ci_high: float = float("nan")
    boot_se: float = float("nan")
    n_boot: int = 0
    boot_cluster: str | None = None
    n_excluded: int = 0
    excluded_reason: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def _d_and_delta(y_ref: np.ndarray, y_foc: np.ndarray) -> tuple[float, float]:
    n_r, n_f = len(y_ref), len(y_foc)
    s_r, s_f = y_ref.std(ddof=1), y_foc.std(ddof=1)
    pooled = np.sqrt(((n_r - 1) * s_r**2 + (n_f - 1) * s_f**2) / (n_r + n_f - 2))
    diff = y_ref.mean() - y_foc.mean()
    return diff / pooled, diff / s_r


def standardized_gap(
    df: pd.DataFrame,
    outcome: str,
    group: str,
    focal=None,
    *,
    level: float = 0.95,
    n_boot: int = 0,
    seed: int = 20261123,
    cluster: str | None = None,
    dropna: bool = False,
) -> Gap:
    r"""The gap between the two levels of ``group`` in ``outcome``, in SD units, with its CI.

    With :math:`\bar y_R, s_R, n_R` the reference group's mean, SD and size and
    :math:`\bar y_F, s_F, n_F` the focal group's,

    .. math::

        d = \frac{\bar y_R - \bar y_F}{s_p},\quad
        s_p^2 = \frac{(n_R-1)s_R^2 + (n_F-1)s_F^2}{n_R+n_F-2},\quad
        \operatorname{SE}(d) = \sqrt{\frac{n_R+n_F}{n_R n_F} + \frac{d^2}{2(n_R+n_F)}}

    (Cohen's d and the large-sample SE of Hedges and Olkin 1985, eq. 5.4.x; Borenstein et al.
    2009, eq. 4.20), and Glass's :math:`\Delta = (\bar y_R - \bar y_F)/s_R` with
    :math:`\operatorname{SE}(\Delta) = \sqrt{(n_R+n_F)/(n_R n_F) + \Delta^2/(2(n_R-1))}`.
    Intervals are :math:`\hat\theta \pm z_{1-\alpha/2}\operatorname{SE}`.

    The analytic SE treats students as independent. When students are clustered in schools it
    is too small; pass ``n_boot`` (and ``cluster``, a column naming the clusters, to resample
    whole clusters) for a seeded percentile bootstrap of ``d`` that respects the clustering.

    Parameters
    ----------
    focal:
        The level of ``group`` whose shortfall is measured (default: the larger of the two
        sorted levels, e.g. ``1`` for a 0/1 indicator). The other level is the reference.
    dropna:
        Missing outcome or group values raise unless ``dropna=True``; then the rows are
        excluded and counted in ``n_excluded`` / ``excluded_reason``.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    needed = [outcome, group] + ([cluster] if cluster else [])
    _require_columns(df, needed)
    data, n_excluded, reason = _handle_missing(df, needed, dropna)
    if not pd.api.types.is_numeric_dtype(data[outcome]):
        raise ValueError(f"outcome column '{outcome}' is not numeric (dtype {data[outcome].dtype})")
    levels = _two_levels(data[group], group)
    if focal is None:
        focal = levels[1]
    if focal not in levels:
        raise ValueError(f"focal level {focal!r} is not one of the levels of '{group}': {levels}")
    reference = levels[0] if focal == levels[1] else levels[1]
    is_focal = (data[group] == focal).to_numpy()
    y = data[outcome].to_numpy(dtype=float)
    y_f, y_r = y[is_focal], y[~is_focal]
    for name, values in (("focal", y_f), ("reference", y_r)):
        if len(values) < 2:
            raise ValueError(f"the {name} group of '{group}' has {len(values)} observation(s); at least 2 are needed")
        if np.ptp(values) == 0:
            raise ValueError(f"'{outcome}' is constant in the {name} group of '{group}': the SD is zero")
    n_f, n_r = len(y_f), len(y_r)
    s_f, s_r = y_f.std(ddof=1), y_r.std(ddof=1)
    pooled = float(np.sqrt(((n_r - 1) * s_r**2 + (n_f - 1) * s_f**2) / (n_r + n_f - 2)))
    diff = float(y_r.mean() - y_f.mean())
    d, delta = diff / pooled, diff / s_r
    se_d = float(np.sqrt((n_r + n_f) / (n_r * n_f) + d**2 / (2 * (n_r + n_f))))
    se_delta = float(np.sqrt((n_r + n_f) / (n_r * n_f) + delta**2 / (2 * (n_r - 1))))
    z = stats.norm.ppf(0.5 + level / 2)

    boot = dict(boot_ci_low=float("nan"), boot_ci_high=float("nan"), boot_se=float("nan"))
    if n_boot:
        draws = _bootstrap_d(y, is_focal, data[cluster].to_numpy() if cluster else None, n_boot, seed)
        alpha = 1 - level
        boot = dict(
            boot_ci_low=float(np.quantile(draws, alpha / 2)),
            boot_ci_high=float(np.quantile(draws, 1 - alpha / 2)),
            boot_se=float(draws.std(ddof=1)),
        )
    return Gap(
        outcome=outcome,
        group=group,
        focal=focal,
        reference=reference,
        n_focal=int(n_f),
        n_reference=int(n_r),
        mean_focal=float(y_f.mean()),
        mean_reference=float(y_r.mean()),
        sd_focal=float(s_f),
        sd_reference=float(s_r),
        sd_pooled=pooled,
        gap=diff,
        d=float(d),
        se_d=se_d,
        ci_low=float(d - z * se_d),
        ci_high=float(d + z * se_d),
        delta=float(delta),
        se_delta=se_delta,
        delta_ci_low=float(delta - z * se_delta),
        delta_ci_high=float(delta + z * se_delta),
        level=level,
        n_boot=int(n_boot),
        boot_cluster=cluster if n_boot else None,
        n_excluded=n_excluded,
        excluded_reason=reason,
        **boot,
    )


def _bootstrap_d(y: np.ndarray, is_focal: np.ndarray, clusters: np.ndarray | None, n_boot: int, seed: int) -> np.ndarray:
    """Seeded percentile-bootstrap draws of Cohen's d, resampling rows or whole clusters."""
    rng = np.random.default_rng(seed)
    draws = np.empty(n_boot)
    if clusters is None:
        n = len(y)
        for b in range(n_boot):
            idx = rng.integers(0, n, n)
            draws[b] = _d_or_nan(y[idx], is_focal[idx])
    else:
        codes, _ = pd.factorize(clusters)
        order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        members = [order[s : s + c] for s, c in zip(starts, counts, strict=True)]
        k = len(members)
        for b in range(n_boot):
            chosen = rng.integers(0, k, k)
            idx = np.concatenate([members[j] for j in chosen])
            draws[b] = _d_or_nan(y[idx], is_focal[idx])
    draws = draws[np.isfinite(draws)]
    if len(draws) < 0.9 * n_boot:
        raise ValueError("more than 10% of bootstrap resamples lacked one of the groups: too few observations")
    return draws


def _d_or_nan(y: np.ndarray, is_focal: np.ndarray) -> float:
    y_f, y_r = y[is_focal], y[~is_focal]
    if len(y_f) < 2 or len(y_r) < 2:
        return float("nan")
    return _d_and_delta(y_r, y_f)[0]


def standardized_gaps_by(
    df: pd.DataFrame,
    outcome: str,
    group: str,
    by: str,
    focal=None,
    *,
    min_per_group: int = 2,
    **kwargs,
) -> pd.DataFrame:
    """:func:`standardized_gap` within each level of ``by`` (for example ``grade``): one row each.

    A stratum in which either group has fewer than ``min_per_group`` observations cannot give a
    gap; it is left out of the table and listed, with its counts, in ``result.attrs["excluded"]``
    (the threshold is the caller's explicit choice). Other keyword arguments go to
    :func:`standardized_gap`.
    """
    _require_columns(df, [outcome, group, by])
    if df[by].isna().any():
        raise ValueError(f"stratum column '{by}' has {int(df[by].isna().sum())} missing value(s)")
    _two_levels(df[group].dropna(), group)
    rows, excluded = [], []
    for stratum, part in df.groupby(by, sort=True):
        counts = part[group].value_counts()
        levels = sorted(df[group].dropna().unique().tolist())
        smallest = min(int(counts.get(v, 0)) for v in levels)
        if smallest < min_per_group:
            excluded.append({by: stratum, **{f"n_{v}": int(counts.get(v, 0)) for v in levels}})
            continue
        result = standardized_gap(part, outcome, group, focal, **kwargs)
        rows.append({by: stratum, **result.as_dict()})
    table = pd.DataFrame(rows)
    table.attrs["excluded"] = excluded
    return table


@cache
def hsb_ses_quartile_gap(n_boot: int = 1000, seed: int = 20261123) -> Gap:
    """The standardized mathematics gap between the top and bottom SES quartiles in HSB.

    High School and Beyond (``data.load_hsb()``, 7,185 students in 160 schools): students are
    split at the quartiles of student ``ses`` (over all students); the gap is the mean
    ``mathach`` of the top quartile minus that of the bottom quartile, divided by the pooled SD
    of the two quartiles (``d``; ``delta`` divides by the top quartile's SD). The two middle
    quartiles are left out by construction (``n_excluded`` counts them). The analytic CI treats
    students as independent; ``boot_ci_low``/``boot_ci_high`` come from a seeded bootstrap that
    resamples whole schools, which is the interval to use.

    Use it as a yardstick: an effect of size ``e`` (in SD units) is ``e / gap.d`` of the
    typical top-versus-bottom SES-quartile gap in US high schools of 1982.
    """
    from .data import load_hsb

    hsb = load_hsb()
    q1, q3 = hsb["ses"].quantile([0.25, 0.75])
    band = np.where(hsb["ses"] <= q1, "bottom", np.where(hsb["ses"] >= q3, "top", "middle"))
    extremes = hsb.assign(ses_quartile=band)
    kept = extremes[extremes["ses_quartile"] != "middle"]
    result = standardized_gap(
        kept, "mathach", "ses_quartile", focal="bottom", n_boot=n_boot, seed=seed, cluster="school"
    )
    n_middle = len(hsb) - len(kept)
    return Gap(
        **{
            **result.as_dict(),
            "n_excluded": n_middle,
            "excluded_reason": (
                f"{n_middle} students in the two middle SES quartiles (ses between {q1:.3f} and {q3:.3f}) "
                "are not part of a top-versus-bottom comparison"
            ),
        }
    )
