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

import math
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
    "hsb_low_ses_gap",
    "naep_disability_gap",
    "mdes",
    "schools_for_mdes",
    "pretest_r2",
    "book_pretest_r2",
    "pilot_grid",
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
    intervals of ``d`` (NaN when no bootstrap was asked for), from ``n_boot_used`` of the
    ``n_boot`` resamples (a resample that lacks one of the groups has no d). ``n_excluded`` / ``excluded_reason``
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
    n_boot_used: int = 0  # resamples that contained both groups; the others are reported, not hidden
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


def _focal_and_reference(data: pd.DataFrame, outcome: str, group: str, focal):
    """Check that the outcome is numeric and the group has two levels; return (focal, reference)."""
    if not pd.api.types.is_numeric_dtype(data[outcome]):
        raise ValueError(f"outcome column '{outcome}' is not numeric (dtype {data[outcome].dtype})")
    levels = _two_levels(data[group], group)
    if focal is None:
        focal = levels[1]
    if focal not in levels:
        raise ValueError(f"focal level {focal!r} is not one of the levels of '{group}': {levels}")
    return focal, (levels[0] if focal == levels[1] else levels[1])


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
    focal, reference = _focal_and_reference(data, outcome, group, focal)
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
            n_boot_used=int(draws.size),
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


def _bootstrap_d(
    y: np.ndarray, is_focal: np.ndarray, clusters: np.ndarray | None, n_boot: int, seed: int
) -> np.ndarray:
    """Seeded percentile-bootstrap draws of Cohen's d, resampling rows or whole clusters."""
    rng = np.random.default_rng(seed)
    members = _cluster_members(clusters) if clusters is not None else None
    draws = np.empty(n_boot)
    for b in range(n_boot):
        idx = _resample(rng, len(y), members)
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
    from ..data import load_hsb

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


# --------------------------------------------------------------------------------------------
# Oaxaca-Blinder decomposition (on statsmodels.stats.oaxaca.OaxacaBlinder)
# --------------------------------------------------------------------------------------------

_GROUP = "__group__"
_CONST = "intercept"


@dataclass(frozen=True)
class Oaxaca:
    """An Oaxaca-Blinder decomposition of ``gap = mean(reference) - mean(focal)``.

    ``totals`` maps each component (twofold: ``explained``, ``unexplained``; threefold:
    ``endowments``, ``coefficients``, ``interaction``) to its value; ``detailed`` has one row per
    covariate (and ``intercept``) and one column per component; ``totals_ci`` and
    ``detailed_ci`` hold seeded bootstrap percentile intervals (empty without ``n_boot``).
    ``shares`` divides each total by the gap.
    """

    outcome: str
    group: str
    focal: object
    reference: object
    kind: str
    covariates: tuple[str, ...]
    n_focal: int
    n_reference: int
    gap: float
    totals: dict
    shares: dict
    detailed: pd.DataFrame
    totals_ci: pd.DataFrame
    detailed_ci: pd.DataFrame
    level: float
    n_boot: int
    boot_cluster: str | None
    n_excluded: int = 0
    excluded_reason: str = ""


def _oaxaca_arrays(y: np.ndarray, X: np.ndarray, is_focal: np.ndarray, kind: str) -> tuple[float, dict, np.ndarray]:
    """Numpy Oaxaca-Blinder with statsmodels' conventions (reference = "f", focal = "s").

    ``X`` holds the covariates and a final column of ones. Returns the gap, the totals and a
    (k x components) array of detailed contributions. Used for the bootstrap; tests check it
    against :class:`statsmodels.stats.oaxaca.OaxacaBlinder` on the same data.
    """
    X_r, X_f, y_r, y_f = X[~is_focal], X[is_focal], y[~is_focal], y[is_focal]
    b_r = np.linalg.lstsq(X_r, y_r, rcond=None)[0]
    b_f = np.linalg.lstsq(X_f, y_f, rcond=None)[0]
    m_r, m_f = X_r.mean(axis=0), X_f.mean(axis=0)
    gap = float(y_r.mean() - y_f.mean())
    if kind == "threefold":
        detailed = np.column_stack([(m_r - m_f) * b_f, m_f * (b_r - b_f), (m_r - m_f) * (b_r - b_f)])
        names = ("endowments", "coefficients", "interaction")
    else:
        pooled_X = np.column_stack([X, is_focal.astype(float)])
        b_p = np.linalg.lstsq(pooled_X, y, rcond=None)[0][:-1]
        detailed = np.column_stack([(m_r - m_f) * b_p, m_r * (b_r - b_p) + m_f * (b_p - b_f)])
        names = ("explained", "unexplained")
    totals = dict(zip(names, detailed.sum(axis=0).tolist(), strict=True))
    return gap, totals, detailed


def _check_covariates(data: pd.DataFrame, covariates: list[str], group: str) -> None:
    if not covariates:
        raise ValueError("give at least one covariate to decompose the gap")
    if len(set(covariates)) != len(covariates):
        raise ValueError(f"covariates are repeated: {covariates}")
    for c in covariates:
        if not pd.api.types.is_numeric_dtype(data[c]):
            raise ValueError(f"covariate '{c}' is not numeric (dtype {data[c].dtype}); code it as 0/1 indicators")
    for level, part in data.groupby(group):
        constant = [c for c in covariates if part[c].nunique() < 2]
        if constant:
            raise ValueError(
                f"covariate(s) {constant} are constant within group {group}={level!r}: "
                "their coefficients cannot be estimated in that group"
            )


def oaxaca(
    df: pd.DataFrame,
    outcome: str,
    group: str,
    covariates: list[str],
    kind: str = "twofold",
    focal=None,
    *,
    n_boot: int = 0,
    seed: int = 20261123,
    cluster: str | None = None,
    level: float = 0.95,
    dropna: bool = False,
) -> Oaxaca:
    r"""Oaxaca-Blinder decomposition of the gap ``mean(reference) - mean(focal)`` in ``outcome``.

    With group regressions :math:`y = X\beta_R + e` (reference) and :math:`y = X\beta_F + e`
    (focal), and mean covariates :math:`\bar X_R, \bar X_F`:

    - **threefold** (Jann 2008, eq. 5, from the focal group's viewpoint, as statsmodels):
      endowments :math:`(\bar X_R-\bar X_F)'\beta_F`, coefficients
      :math:`\bar X_F'(\beta_R-\beta_F)`, interaction :math:`(\bar X_R-\bar X_F)'(\beta_R-\beta_F)`.
    - **twofold** with the pooled coefficients :math:`\beta^*` of a regression on both groups
      that includes the group indicator (Jann 2008, eq. 8; Fortin 2008): explained
      :math:`(\bar X_R-\bar X_F)'\beta^*`, unexplained
      :math:`\bar X_R'(\beta_R-\beta^*) + \bar X_F'(\beta^*-\beta_F)`.

    Totals come from :class:`statsmodels.stats.oaxaca.OaxacaBlinder` (``swap=False``). What
    statsmodels lacks is added here: the **detailed** per-covariate contributions (each total is
    the sum of its column of ``detailed``) and a **seeded** percentile bootstrap that can
    resample whole clusters (``cluster``, e.g. schools) for the totals and the detailed terms.

    A decomposition is an accounting identity on regression coefficients: the "explained" part
    is the part of the gap *associated with* group differences in the covariates, not the part
    they cause.

    Bad input raises ``ValueError``: a group column without exactly two levels, a covariate
    constant within a group, a non-numeric covariate, missing values (unless ``dropna=True``;
    the excluded rows are then counted on the result).
    """
    from statsmodels.stats.oaxaca import OaxacaBlinder

    if kind not in ("twofold", "threefold"):
        raise ValueError(f"kind must be 'twofold' or 'threefold', got {kind!r}")
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    covariates = list(covariates)
    needed = [outcome, group, *covariates] + ([cluster] if cluster else [])
    _require_columns(df, needed)
    if outcome in covariates or group in covariates:
        raise ValueError("the outcome and the group column cannot also be covariates")
    data, n_excluded, reason = _handle_missing(df, needed, dropna)
    focal, reference = _focal_and_reference(data, outcome, group, focal)
    _check_covariates(data, covariates, group)
    is_focal = (data[group] == focal).to_numpy()
    counts = (int(is_focal.sum()), int((~is_focal).sum()))
    if min(counts) <= len(covariates) + 1:
        raise ValueError(
            f"too few observations in a group ({counts}) for {len(covariates)} covariate(s) and an intercept"
        )

    y = data[outcome].to_numpy(dtype=float)
    X = np.column_stack([data[covariates].to_numpy(dtype=float), np.ones(len(data))])
    exog = pd.DataFrame(X, columns=[*covariates, _CONST])
    exog.insert(len(covariates), _GROUP, is_focal.astype(float))  # 0 = reference ("f"), 1 = focal ("s")
    model = OaxacaBlinder(y, exog, _GROUP, hasconst=True, swap=False)
    if kind == "threefold":
        endow, coef, inter, gap = model.three_fold().params
        totals = {"endowments": float(endow), "coefficients": float(coef), "interaction": float(inter)}
    else:
        unexplained, explained, gap = model.two_fold().params
        totals = {"explained": float(explained), "unexplained": float(unexplained)}
    _, _, detailed_arr = _oaxaca_arrays(y, X, is_focal, kind)
    names = list(totals)
    detailed = pd.DataFrame(detailed_arr, index=[*covariates, _CONST], columns=names)
    if not np.allclose(detailed.sum().to_numpy(), [totals[n] for n in names], rtol=1e-8, atol=1e-10):
        raise RuntimeError("detailed contributions do not add up to statsmodels' totals")  # pragma: no cover

    totals_ci = pd.DataFrame(columns=["low", "high", "se"], dtype=float)
    detailed_ci = pd.DataFrame(dtype=float)
    if n_boot:
        rng = np.random.default_rng(seed)
        members = _cluster_members(data[cluster].to_numpy()) if cluster else None
        draws_tot, draws_det = [], []
        for _ in range(n_boot):
            idx = _resample(rng, len(y), members)
            f = is_focal[idx]
            if f.sum() <= X.shape[1] or (~f).sum() <= X.shape[1]:
                continue
            _, tot, det = _oaxaca_arrays(y[idx], X[idx], f, kind)
            draws_tot.append([tot[n] for n in names])
            draws_det.append(det)
        if len(draws_tot) < 0.9 * n_boot:
            raise ValueError("more than 10% of bootstrap resamples lacked enough observations in a group")
        alpha = 1 - level
        dt, dd = np.array(draws_tot), np.array(draws_det)
        totals_ci = pd.DataFrame(
            {
                "low": np.quantile(dt, alpha / 2, axis=0),
                "high": np.quantile(dt, 1 - alpha / 2, axis=0),
                "se": dt.std(axis=0, ddof=1),
            },
            index=names,
        )
        lows, highs = np.quantile(dd, alpha / 2, axis=0), np.quantile(dd, 1 - alpha / 2, axis=0)
        detailed_ci = pd.concat(
            {
                "low": pd.DataFrame(lows, index=detailed.index, columns=names),
                "high": pd.DataFrame(highs, index=detailed.index, columns=names),
            },
            axis=1,
        )
    return Oaxaca(
        outcome=outcome,
        group=group,
        focal=focal,
        reference=reference,
        kind=kind,
        covariates=tuple(covariates),
        n_focal=counts[0],
        n_reference=counts[1],
        gap=float(gap),
        totals=totals,
        shares={n: totals[n] / float(gap) for n in names},
        detailed=detailed,
        totals_ci=totals_ci,
        detailed_ci=detailed_ci,
        level=level,
        n_boot=int(n_boot),
        boot_cluster=cluster if n_boot else None,
        n_excluded=n_excluded,
        excluded_reason=reason,
    )


def _cluster_members(clusters: np.ndarray) -> list[np.ndarray]:
    codes, _ = pd.factorize(clusters)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return [order[s : s + c] for s, c in zip(starts, counts, strict=True)]


def _resample(rng: np.random.Generator, n: int, members: list[np.ndarray] | None) -> np.ndarray:
    if members is None:
        return rng.integers(0, n, n)
    chosen = rng.integers(0, len(members), len(members))
    return np.concatenate([members[j] for j in chosen])


# --------------------------------------------------------------------------------------------
# Between and within clusters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BetweenWithin:
    """A raw gap split into the part within clusters and the part between them.

    ``within`` is the gap with cluster fixed effects (the average within-cluster gap, weighted
    as OLS weights it); ``between = total - within``; ``share_between = between / total``.
    ``*_ci`` are seeded cluster-bootstrap percentile intervals (NaN without ``n_boot``).
    """

    outcome: str
    group: str
    cluster: str
    total: float
    within: float
    between: float
    share_between: float
    n_clusters: int
    n_clusters_both: int
    within_ci: tuple[float, float]
    share_between_ci: tuple[float, float]
    n_boot: int


def _within_gap(y: np.ndarray, focal: np.ndarray, codes: np.ndarray) -> tuple[float, float]:
    g = focal.astype(float)
    counts = np.bincount(codes)
    y_dm = y - (np.bincount(codes, weights=y) / counts)[codes]
    g_dm = g - (np.bincount(codes, weights=g) / counts)[codes]
    denom = float(g_dm @ g_dm)
    if denom == 0:
        return float("nan"), float("nan")
    total = float(y[~focal].mean() - y[focal].mean())
    return total, float(-(g_dm @ y_dm) / denom)


def between_within_gap(
    df: pd.DataFrame,
    outcome: str,
    group: str,
    cluster: str,
    focal=None,
    *,
    n_boot: int = 0,
    seed: int = 20261123,
    level: float = 0.95,
) -> BetweenWithin:
    r"""Split the raw gap ``mean(reference) - mean(focal)`` into within- and between-cluster parts.

    The within part is :math:`-\hat\beta_W` from the fixed-effects regression
    :math:`y_{ij} = \alpha_j + \beta_W g_{ij} + e_{ij}` (``g`` = 1 for the focal group), i.e. the
    gap between students of the two groups *in the same school*; the between part is what
    remains of the raw gap, the part due to the groups attending different schools. Only
    clusters with students of both groups identify the within part (``n_clusters_both``).
    Anything measured at the school level (sector, a school's academic-track share) can be
    associated with the between part only: ``share_between`` bounds what school-level variables
    can account for. Missing values raise ``ValueError``.
    """
    _require_columns(df, [outcome, group, cluster])
    _handle_missing(df, [outcome, group, cluster], dropna=False)
    levels = _two_levels(df[group], group)
    focal = levels[1] if focal is None else focal
    if focal not in levels:
        raise ValueError(f"focal level {focal!r} is not one of the levels of '{group}': {levels}")
    y = df[outcome].to_numpy(dtype=float)
    is_focal = (df[group] == focal).to_numpy()
    codes, uniques = pd.factorize(df[cluster])
    both = pd.Series(is_focal).groupby(codes).agg(lambda s: 0 < s.mean() < 1)
    if not both.any():
        raise ValueError(f"no cluster of '{cluster}' has students of both groups: the within-cluster gap is undefined")
    total, within = _within_gap(y, is_focal, codes)
    between = total - within
    ci_w, ci_s = (float("nan"), float("nan")), (float("nan"), float("nan"))
    if n_boot:
        rng = np.random.default_rng(seed)
        members = _cluster_members(codes)
        draws = []
        for _ in range(n_boot):
            chosen = rng.integers(0, len(members), len(members))
            idx = np.concatenate([members[j] for j in chosen])
            new_codes = np.concatenate([np.full(len(members[j]), k) for k, j in enumerate(chosen)])
            f = is_focal[idx]
            if f.all() or not f.any():
                continue
            t, w = _within_gap(y[idx], f, new_codes)
            if np.isfinite(w):
                draws.append((w, (t - w) / t))
        draws = np.array(draws)
        alpha = 1 - level
        q = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
        ci_w, ci_s = (float(q[0, 0]), float(q[1, 0])), (float(q[0, 1]), float(q[1, 1]))
    return BetweenWithin(
        outcome=outcome,
        group=group,
        cluster=cluster,
        total=total,
        within=within,
        between=between,
        share_between=between / total,
        n_clusters=len(uniques),
        n_clusters_both=int(both.sum()),
        within_ci=ci_w,
        share_between_ci=ci_s,
        n_boot=int(n_boot),
    )


# --------------------------------------------------------------------------------------------
# Variance decomposition: the unconditional two-level model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VarianceDecomposition:
    """The unconditional two-level model :math:`y_{ij} = \\gamma_{00} + u_{0j} + e_{ij}` (REML)."""

    outcome: str
    cluster: str
    grand_mean: float
    se_grand_mean: float
    tau2: float
    sigma2: float
    icc: float
    n: int
    n_clusters: int
    mean_cluster_size: float
    converged: bool
    messages: tuple[str, ...] = ()


def variance_decomposition(df: pd.DataFrame, outcome: str, cluster: str) -> VarianceDecomposition:
    r"""Fit :math:`y_{ij} = \gamma_{00} + u_{0j} + e_{ij}`, :math:`u_{0j}\sim N(0,\tau^2)`,
    :math:`e_{ij}\sim N(0,\sigma^2)`, by REML with :class:`statsmodels.regression.mixed_linear_model.MixedLM`.

    Returns the grand mean :math:`\gamma_{00}`, :math:`\tau^2` (between clusters),
    :math:`\sigma^2` (within) and the intraclass correlation
    :math:`\rho = \tau^2/(\tau^2+\sigma^2)` (Raudenbush and Bryk 2002, ch. 4, eqs. 4.1-4.6).
    Warnings raised by the optimiser are caught and returned in ``messages`` (the fit is
    checked against lme4 in the tests). Missing values, fewer than two clusters or a cluster
    variable with one member per cluster raise ``ValueError``.
    """
    import warnings

    from statsmodels.regression.mixed_linear_model import MixedLM

    _require_columns(df, [outcome, cluster])
    _handle_missing(df, [outcome, cluster], dropna=False)
    if not pd.api.types.is_numeric_dtype(df[outcome]):
        raise ValueError(f"outcome column '{outcome}' is not numeric (dtype {df[outcome].dtype})")
    sizes = df.groupby(cluster).size()
    if len(sizes) < 2:
        raise ValueError(f"'{cluster}' has {len(sizes)} cluster(s); at least 2 are needed")
    if sizes.max() < 2:
        raise ValueError(f"every cluster of '{cluster}' has one member: between and within variance are confounded")
    y = df[outcome].to_numpy(dtype=float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = MixedLM(y, np.ones((len(y), 1)), groups=df[cluster].to_numpy()).fit(reml=True)
    tau2 = float(np.asarray(fit.cov_re)[0, 0])
    sigma2 = float(fit.scale)
    n_j = sizes.to_numpy(dtype=float)
    # GLS standard error of the grand mean given the variance components (Raudenbush and Bryk
    # 2002, eq. 3.8): Var = 1 / sum_j n_j / (sigma2 + n_j tau2); lme4 reports the same quantity.
    se_grand_mean = float(np.sqrt(1.0 / np.sum(n_j / (sigma2 + n_j * tau2))))
    return VarianceDecomposition(
        outcome=outcome,
        cluster=cluster,
        grand_mean=float(fit.fe_params[0]),
        se_grand_mean=se_grand_mean,
        tau2=tau2,
        sigma2=sigma2,
        icc=tau2 / (tau2 + sigma2),
        n=int(len(y)),
        n_clusters=int(len(sizes)),
        mean_cluster_size=float(sizes.mean()),
        converged=bool(fit.converged),
        messages=tuple(str(w.message) for w in caught),
    )


# --------------------------------------------------------------------------------------------
# Power of a cluster-randomised pilot
# --------------------------------------------------------------------------------------------


def design_effect(m: float, icc: float) -> float:
    """Kish's design effect for clusters of size ``m``: :math:`1 + (m-1)\\rho` (Donner and Klar 2000)."""
    if m < 1:
        raise ValueError(f"cluster size m must be >= 1, got {m}")
    if not 0 <= icc < 1:
        raise ValueError(f"the ICC must be in [0, 1), got {icc}")
    return 1 + (m - 1) * icc


def _check_power_inputs(effect: float, alpha: float, power: float | None = None) -> None:
    if not np.isfinite(effect) or effect <= 0:
        raise ValueError(f"the effect to detect must be a positive number of SDs, got {effect}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    if power is not None and not 0 < power < 1:
        raise ValueError(f"power must be between 0 and 1, got {power}")


def cluster_trial_power(effect: float, n_schools: int, m: int, icc: float, alpha: float = 0.05) -> float:
    r"""Power of a two-arm trial randomising ``n_schools`` schools (half to each arm), ``m``
    students each, to detect a difference of ``effect`` SDs in mean achievement.

    Each arm has :math:`n = Jm/2` students, worth :math:`n/\mathrm{DE}` independent ones;
    power is that of a two-sided z-test for two independent samples of that effective size
    (``statsmodels.stats.power.NormalIndPower``).
    """
    from statsmodels.stats.power import NormalIndPower

    _check_power_inputs(effect, alpha)
    if n_schools < 2 or n_schools % 2:
        raise ValueError(f"n_schools must be an even number >= 2 (half per arm), got {n_schools}")
    n_eff = n_schools * m / 2 / design_effect(m, icc)
    return float(NormalIndPower().power(effect_size=effect, nobs1=n_eff, alpha=alpha, ratio=1.0))


def schools_needed(effect: float, m: int, icc: float, alpha: float = 0.05, power: float = 0.8) -> int:
    r"""Schools (both arms together, an even number) needed to detect ``effect`` SDs in mean
    achievement with ``m`` students per school: :math:`J = 2\lceil n^*\,\mathrm{DE}/m\rceil`,
    where :math:`n^*` is the per-arm sample size of an individually randomised trial
    (``NormalIndPower().solve_power``) and DE the design effect. The closed form
    :math:`J = 4(z_{1-\alpha/2}+z_{1-\beta})^2[\rho + (1-\rho)/m]/\delta^2` agrees (tests).
    """
    from statsmodels.stats.power import NormalIndPower

    _check_power_inputs(effect, alpha, power)
    n_star = NormalIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0)
    return int(2 * np.ceil(float(n_star) * design_effect(m, icc) / m - 1e-9))


def schools_needed_limit(effect: float, icc: float, alpha: float = 0.05, power: float = 0.8) -> float:
    r"""The fewest schools any school size can achieve for a mean shift of ``effect`` SDs: the
    limit of :func:`schools_needed` as :math:`m\to\infty`,
    :math:`4(z_{1-\alpha/2}+z_{1-\beta})^2\rho/\delta^2` (not rounded)."""
    _check_power_inputs(effect, alpha, power)
    design_effect(1, icc)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(4 * z**2 * icc / effect**2)


def schools_needed_gap_change(
    effect: float,
    m: int,
    icc: float,
    focal_share: float,
    alpha: float = 0.05,
    power: float = 0.8,
    slope_variance: float = 0.0,
) -> int:
    r"""Schools needed to detect a change of ``effect`` SDs in a *gap* (treatment x group).

    A pilot that aims to narrow a gap must detect the difference between the change for the
    focal group and the change for the others. With a share :math:`p` of focal students in
    every school, the group contrast is made within schools, so the school intercept cancels;
    if the gap also varies from school to school (variance ``slope_variance`` =
    :math:`\tau_1^2`, in squared total-SD units) that variation does not. For :math:`J` schools
    split evenly,

    .. math:: \operatorname{Var}(\hat\Delta) = \frac{4}{J}\Big[\frac{1-\rho}{m\,p(1-p)} + \tau_1^2\Big],
              \qquad J = \Big\lceil \frac{4 (z_{1-\alpha/2}+z_{1-\beta})^2}{\delta^2}
              \Big[\frac{1-\rho}{m\,p(1-p)} + \tau_1^2\Big]\Big\rceil

    rounded up to an even number (Raudenbush and Liu 2000 give the multisite version). With
    ``slope_variance = 0`` this is a lower bound.
    """
    _check_power_inputs(effect, alpha, power)
    design_effect(m, icc)
    if not 0 < focal_share < 1:
        raise ValueError(f"focal_share must be between 0 and 1, got {focal_share}")
    if slope_variance < 0:
        raise ValueError(f"slope_variance cannot be negative, got {slope_variance}")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    per_school = (1 - icc) / (m * focal_share * (1 - focal_share)) + slope_variance
    j = 4 * z**2 * per_school / effect**2
    return int(2 * np.ceil(j / 2 - 1e-9))


def pilot_table(
    effect: float,
    icc: float,
    sizes: tuple[int, ...] = (10, 20, 30, 50, 100),
    alpha: float = 0.05,
    power: float = 0.8,
    focal_share: float | None = None,
    slope_variance: float = 0.0,
) -> pd.DataFrame:
    """One row per school size ``m``: design effect, schools needed for a mean shift of
    ``effect`` SDs, students in total, achieved power; with ``focal_share``, also the schools
    needed for a change of ``effect`` SDs in the gap (:func:`schools_needed_gap_change`)."""
    rows = []
    for m in sizes:
        j = schools_needed(effect, m, icc, alpha, power)
        row = {
            "students_per_school": int(m),
            "design_effect": design_effect(m, icc),
            "schools_mean_shift": j,
            "students_mean_shift": j * int(m),
            "power_achieved": cluster_trial_power(effect, j, m, icc, alpha),
        }
        if focal_share is not None:
            jg = schools_needed_gap_change(effect, m, icc, focal_share, alpha, power, slope_variance)
            row["schools_gap_change"] = jg
            row["students_gap_change"] = jg * int(m)
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# The book's gaps: High School and Beyond and the Sustaining Effects (egsingle) data
# --------------------------------------------------------------------------------------------

BOOT = 400
SEED = 20261123


def egsingle_groups() -> pd.DataFrame:
    """egsingle with ``ethnicity`` = Black / Hispanic / other (the two indicators never overlap)
    and ``school_grade`` = ``grade`` + 1.

    The R data code grade 0 to 5; the study followed students "at the end of first grade and
    annually thereafter up to sixth grade" (Rodríguez, Princeton pop510 notes; see
    ``book/gaps.md``), so code 0 is grade 1 and code 5 is grade 6.
    """
    from ..data import load_egsingle

    eg = load_egsingle()
    both = eg[(eg["black"] == 1) & (eg["hispanic"] == 1)]
    if len(both):
        raise ValueError(f"{len(both)} egsingle rows are coded both Black and Hispanic")
    eg["ethnicity"] = np.where(eg["black"] == 1, "Black", np.where(eg["hispanic"] == 1, "Hispanic", "other"))
    eg["school_grade"] = eg["grade"] + 1
    return eg


@cache
def egsingle_gaps(n_boot: int = BOOT, seed: int = SEED, min_per_group: int = 20) -> pd.DataFrame:
    """Black and Hispanic mathematics gaps (vs students who are neither) by grade, in SD units.

    One row per (group, grade) with the analytic and the school-cluster bootstrap intervals.
    Grades where either group has fewer than ``min_per_group`` scores are listed in
    ``attrs["excluded"]`` (only grade 6, code 5, with 9 scores in all). Students retained in a
    grade contribute one score per year in it; the school-cluster bootstrap keeps each
    student's scores together.
    """
    eg = egsingle_groups()
    tables, excluded = [], []
    for focal in ("Black", "Hispanic"):
        part = eg[eg["ethnicity"].isin([focal, "other"])]
        table = standardized_gaps_by(
            part, "math", "ethnicity", "school_grade", focal=focal, min_per_group=min_per_group,
            n_boot=n_boot, seed=seed, cluster="schoolid",
        )
        table.insert(0, "focal_group", focal)
        tables.append(table)
        excluded += [{"focal_group": focal, **x} for x in table.attrs["excluded"]]
    result = pd.concat(tables, ignore_index=True)
    result.attrs["excluded"] = excluded
    return result


@dataclass(frozen=True)
class GapShare:
    """The grade-``first`` gap as a share of the grade-``last`` gap (``d_first / d_last``) for ``focal``
    students, with ``draws`` of that ratio from a seeded school-cluster bootstrap that resamples schools
    once per replicate and computes both gaps in it: the two grades are measured in the same schools, so
    their gaps move together, and only a joint resample gives the ratio an interval."""

    focal: str
    first: int
    last: int
    d_first: float
    d_last: float
    share: float
    draws: np.ndarray

    def interval(self, level: float) -> tuple[float, float]:
        """The percentile interval of the share at ``level``."""
        tail = 100 * (1 - level) / 2
        low, high = np.percentile(self.draws, [tail, 100 - tail])
        return float(low), float(high)


def _two_gaps(y, is_focal, at_first, idx) -> tuple[float, float]:
    first, last = idx[at_first[idx]], idx[~at_first[idx]]
    return _d_or_nan(y[first], is_focal[first]), _d_or_nan(y[last], is_focal[last])


def _share_of(d_first: float, d_last: float) -> float:
    return d_first / d_last if math.isfinite(d_last) and d_last != 0 else float("nan")


@cache
def egsingle_gap_share(focal: str, first: int, last: int, n_boot: int = 2000, seed: int = SEED) -> GapShare:
    """:class:`GapShare` of the mathematics gap of ``focal`` (Black or Hispanic) students in the Chicago
    data, from school grade ``first`` to ``last``."""
    eg = egsingle_groups()
    part = eg[eg["ethnicity"].isin([focal, "other"]) & eg["school_grade"].isin([first, last])]
    if set(part["school_grade"]) != {first, last}:
        raise ValueError(f"egsingle has no {focal} gap in school grade {first} or {last}")
    y = part["math"].to_numpy(float)
    is_focal = (part["ethnicity"] == focal).to_numpy()
    at_first = (part["school_grade"] == first).to_numpy()
    d_first, d_last = _two_gaps(y, is_focal, at_first, np.arange(len(y)))
    rng = np.random.default_rng(seed)
    members = _cluster_members(part["schoolid"].to_numpy())
    draws = np.array([_share_of(*_two_gaps(y, is_focal, at_first, _resample(rng, len(y), members)))
                      for _ in range(n_boot)])
    draws = draws[np.isfinite(draws)]
    if len(draws) < 0.9 * n_boot:
        raise ValueError("more than 10% of bootstrap resamples lacked a group in one of the two grades")
    return GapShare(focal, first, last, d_first, d_last, _share_of(d_first, d_last), draws)


def hsb_with_indicators() -> pd.DataFrame:
    """HSB students joined to schools, with ``catholic`` (0/1) and ``ses_quartile`` (bottom,
    middle, top: quartiles of student SES over all 7,185 students)."""
    from ..data import load_hsb

    hsb = load_hsb()
    hsb["catholic"] = (hsb["sector"] == "Catholic").astype(int)
    q1, q3 = hsb["ses"].quantile([0.25, 0.75])
    hsb["ses_quartile"] = np.where(hsb["ses"] <= q1, "bottom", np.where(hsb["ses"] >= q3, "top", "middle"))
    return hsb


@cache
def hsb_minority_gap(n_boot: int = BOOT, seed: int = SEED) -> Gap:
    """The HSB mathematics gap between non-minority and minority students, with a school-cluster bootstrap."""
    return standardized_gap(hsb_with_indicators(), "mathach", "minority", focal=1, n_boot=n_boot, seed=seed,
                            cluster="school")


@cache
def hsb_decompositions(n_boot: int = BOOT, seed: int = SEED) -> dict:
    """Twofold decompositions of the HSB minority gap (covariates: SES, Catholic sector, the
    school's academic-track share ``pracad``) and of the top-vs-bottom SES-quartile gap
    (covariates: minority, Catholic, ``pracad``), with school-cluster bootstrap intervals, and
    the between/within-school split of each gap."""
    hsb = hsb_with_indicators()
    extremes = hsb[hsb["ses_quartile"] != "middle"]
    return {
        "minority": oaxaca(hsb, "mathach", "minority", ["ses", "catholic", "pracad"], focal=1,
                           n_boot=n_boot, seed=seed, cluster="school"),
        "ses": oaxaca(extremes, "mathach", "ses_quartile", ["minority", "catholic", "pracad"], focal="bottom",
                      n_boot=n_boot, seed=seed, cluster="school"),
        "minority_bw": between_within_gap(hsb, "mathach", "minority", "school", focal=1, n_boot=n_boot, seed=seed),
        "ses_bw": between_within_gap(extremes, "mathach", "ses_quartile", "school", focal="bottom",
                                     n_boot=n_boot, seed=seed),
    }


@cache
def hsb_variance() -> VarianceDecomposition:
    """The unconditional two-level model of HSB mathematics achievement (students in schools)."""
    return variance_decomposition(hsb_with_indicators(), "mathach", "school")


@cache
def egsingle_variance() -> pd.DataFrame:
    """The unconditional model of egsingle mathematics within each grade 1-5 (one row per grade)."""
    eg = egsingle_groups()
    rows = []
    for grade, part in eg[eg["school_grade"] <= 5].groupby("school_grade"):
        v = variance_decomposition(part, "math", "schoolid")
        rows.append({"school_grade": int(grade), **asdict(v)})
    return pd.DataFrame(rows)



# --------------------------------------------------------------------------------------------
# A pilot with a pretest: minimum detectable effects and schools needed (Bloom 2005, 2007)
# --------------------------------------------------------------------------------------------


def _multiplier(df: float, alpha: float, power: float) -> float:
    return float(stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df))


def mdes(n_schools: int, m: int, icc: float, r2_school: float = 0.0, r2_student: float = 0.0, *,
         randomise: str = "schools", p: float = 0.5, alpha: float = 0.05, power: float = 0.8) -> float:
    r"""Minimum detectable effect size (SD of the outcome) of a pilot with a pretest covariate.

    Schools randomised (``randomise="schools"``; Bloom, Richburg-Hayes & Black 2007, eq. 6):

    .. math:: \mathrm{MDES} = M_{J-3}\sqrt{\frac{\rho(1-R_2^2)}{p(1-p)J} + \frac{(1-\rho)(1-R_1^2)}{p(1-p)Jm}}

    Students randomised within each school (``randomise="students"``, a blocked trial with a
    constant effect), the school component drops out:

    .. math:: \mathrm{MDES} = M_{J(m-1)-2}\sqrt{\frac{(1-\rho)(1-R_1^2)}{p(1-p)Jm}}

    :math:`M_{df} = t_{1-\alpha/2,df} + t_{power,df}`; :math:`R_2^2` and :math:`R_1^2` are the
    shares of school-level and student-level outcome variance the pretest explains.
    """
    for name, value in (("icc", icc), ("r2_school", r2_school), ("r2_student", r2_student)):
        if not 0 <= value < 1:
            raise ValueError(f"{name} must lie in [0, 1), got {value}")
    if not 0 < p < 1:
        raise ValueError(f"p must lie in (0, 1), got {p}")
    if n_schools < 4 or m < 2:
        raise ValueError(f"a pilot needs at least 4 schools and 2 students per school, got {n_schools} and {m}")
    within = (1 - icc) * (1 - r2_student) / (p * (1 - p) * n_schools * m)
    if randomise == "schools":
        return _multiplier(n_schools - 3, alpha, power) * math.sqrt(icc * (1 - r2_school) / (p * (1 - p) * n_schools)
                                                                      + within)
    if randomise == "students":
        return _multiplier(n_schools * (m - 1) - 2, alpha, power) * math.sqrt(within)
    raise ValueError(f"randomise must be 'schools' or 'students', got {randomise!r}")


def schools_for_mdes(effect: float, m: int, icc: float, r2_school: float = 0.0, r2_student: float = 0.0, *,
                     randomise: str = "schools", alpha: float = 0.05, power: float = 0.8,
                     limit: int = 100000) -> int:
    """The fewest schools (an even number, at least 4) whose :func:`mdes` is at most ``effect``
    (the MDES falls as schools are added, so a bisection over even numbers finds it)."""
    _check_power_inputs(effect, alpha, power)

    def small_enough(j: int) -> bool:
        return mdes(2 * j, m, icc, r2_school, r2_student, randomise=randomise, alpha=alpha, power=power) <= effect

    lo, hi = 2, limit // 2  # in pairs of schools
    if not small_enough(hi):
        raise ValueError(f"no pilot of up to {limit} schools detects {effect} SD")
    while lo < hi:
        mid = (lo + hi) // 2
        if small_enough(mid):
            hi = mid
        else:
            lo = mid + 1
    return 2 * lo


@dataclass(frozen=True)
class PretestR2:
    """Shares of school-level and student-level outcome variance a pretest explains (two-level REML)."""

    data: str
    outcome: str
    pretest: str
    r2_school: float
    r2_student: float
    icc: float
    n: int
    n_schools: int


def pretest_r2(df: pd.DataFrame, outcome: str, pretest: str, cluster: str, data: str = "") -> PretestR2:
    r""":math:`R_2^2 = 1 - \tau^2_{cond}/\tau^2`, :math:`R_1^2 = 1 - \sigma^2_{cond}/\sigma^2` from random-
    intercept models without and with the pretest (student level, as Bloom et al. 2007 do)."""
    import warnings

    from statsmodels.regression.mixed_linear_model import MixedLM

    _require_columns(df, [outcome, pretest, cluster])
    base = variance_decomposition(df, outcome, cluster)
    X = np.column_stack([np.ones(len(df)), df[pretest].to_numpy(float)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = MixedLM(df[outcome].to_numpy(float), X, groups=df[cluster].to_numpy()).fit(reml=True)
    if not fit.converged or not np.isfinite(fit.llf):
        raise RuntimeError(f"the model of {outcome} on {pretest} did not converge "
                           f"({'; '.join(str(w.message) for w in caught) or 'no warning'})")
    tau2 = float(np.asarray(fit.cov_re)[0, 0])
    sigma2 = float(fit.scale)
    return PretestR2(data, outcome, pretest, max(0.0, 1 - tau2 / base.tau2), max(0.0, 1 - sigma2 / base.sigma2),
                     base.icc, base.n, base.n_clusters)


@cache
def book_pretest_r2() -> pd.DataFrame:
    """Pretest R² in the shipped data: Exam (intake reading score -> age-16 exam, London schools) and
    egsingle (previous year's mathematics -> this year's, Chicago grades 2-5)."""
    from ..data import load_exam

    exam = load_exam()
    eg = egsingle_groups().sort_values(["childid", "year"])
    eg["prior_math"] = eg.groupby("childid")["math"].shift(1)
    eg = eg[eg["prior_math"].notna() & (eg["school_grade"].between(2, 5))]
    rows = [pretest_r2(exam, "normexam", "standlrt", "school", "Exam (London, age 16)"),
            pretest_r2(eg, "math", "prior_math", "schoolid", "egsingle (Chicago, grades 2-5)")]
    return pd.DataFrame([asdict(r) for r in rows])


def pilot_grid(effect: float, icc: float, r2_school: float, r2_student: float, m: int = 30,
               alpha: float = 0.05, power: float = 0.8) -> pd.DataFrame:
    """Schools needed to detect ``effect`` SD, with and without the pretest, randomising schools or students."""
    rows = []
    for randomise in ("schools", "students"):
        for label, r2s, r2i in (("no pretest", 0.0, 0.0), ("pretest", r2_school, r2_student)):
            j = schools_for_mdes(effect, m, icc, r2s, r2i, randomise=randomise, alpha=alpha, power=power)
            rows.append({"randomise": randomise, "covariate": label, "schools": j, "students": j * m})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Gaps against the rest (C1: "compared to their peers")
# --------------------------------------------------------------------------------------------


@cache
def hsb_low_ses_gap(n_boot: int = BOOT, seed: int = SEED) -> Gap:
    """The HSB mathematics gap between students in the bottom SES quartile and all other students
    (the rest, not the top quartile: "compared to their peers"), with a school-cluster bootstrap.
    HSB is used unweighted (the data carry no sampling weights), so the gap describes these 160
    schools' students, not the 1982 US population."""
    hsb = hsb_with_indicators()
    hsb["low_ses"] = (hsb["ses_quartile"] == "bottom").astype(int)
    return standardized_gap(hsb, "mathach", "low_ses", focal=1, n_boot=n_boot, seed=seed, cluster="school")


@dataclass(frozen=True)
class PublishedGap:
    """A gap computed from two published group statistics with their published SEs."""

    label: str
    points: float
    se: float
    sd: float
    d: float
    d_low: float
    d_high: float
    rows: tuple[str, ...]


#: The rows of data/evidence.csv that hold the NAEP grade-4 reading statistics (one published table row).
NAEP_GRADE4_READING = {"median_swd": "E142", "median_other": "E143", "p25_other": "E148", "p75_other": "E149"}


def naep_disability_gap(evidence: pd.DataFrame, level: float = 0.95) -> PublishedGap:
    """Grade-4 NAEP reading (2009): median score of students not identified with disabilities minus
    that of students with disabilities, in points and in SD units.

    The SD is not published on the page read; it is derived from the published 25th and 75th
    percentiles of students without disabilities under normality, :math:`SD = IQR / 1.349`
    (an explicit relation; a skewed distribution would make it approximate). The SE of the
    difference treats the two medians as independent.
    """
    by_id = evidence.set_index("id")
    missing = [i for i in NAEP_GRADE4_READING.values() if i not in by_id.index]
    if missing:
        raise ValueError(f"data/evidence.csv lacks the NAEP grade-4 reading rows {missing}")
    stats_by = {k: by_id.loc[i] for k, i in NAEP_GRADE4_READING.items()}
    need = tuple(NAEP_GRADE4_READING)
    swd, other = stats_by["median_swd"], stats_by["median_other"]
    points = float(other.estimate - swd.estimate)
    se = math.sqrt(float(other.se) ** 2 + float(swd.se) ** 2)
    sd = float(stats_by["p75_other"].estimate - stats_by["p25_other"].estimate) / (2 * stats.norm.ppf(0.75))
    z = stats.norm.ppf(0.5 + level / 2)
    return PublishedGap("students with disabilities, NAEP grade-4 reading 2009", points, se, float(sd),
                        float(points / sd), float((points - z * se) / sd), float((points + z * se) / sd),
                        tuple(NAEP_GRADE4_READING[k] for k in need))
