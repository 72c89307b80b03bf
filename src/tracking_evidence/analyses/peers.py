"""Peer composition by intake band (inner-London Exam data) and the spread a teacher faces.

Two families of computations, behind the chapter ``book/peers.md``:

1. **Peer composition by band.** For each student of the mlmRev ``Exam`` data, the composition
   of the *other* students of the same school (leave-one-out): their mean intake score
   (``standlrt``) and the shares of them in the top and in the bottom verbal-reasoning band.
   A two-level model (students in schools, school random intercept; statsmodels ``MixedLM``,
   REML) is fitted separately for the students of each band:

   .. math:: y_{ij} = \\beta_0 + \\beta_1 x_{ij} + \\gamma\\, \\bar{x}_{(-i)j} + u_j + e_{ij},
             \\quad u_j \\sim N(0, \\tau^2),\\ e_{ij} \\sim N(0, \\sigma^2)

   (Goldstein et al. 1993; Raudenbush & Bryk 2002, ch. 5). ``gamma`` is the association of a
   student's exam score with the intake of the school's other students, for students of the same
   own intake score. It is a between-school association, not the causal effect of tracking.

2. **Spread of prior achievement.** Within each class or school (the "mixed class") and within
   each track of a split of that group into ``k`` equal-sized tracks by the score (or by another
   variable), the standard deviation or the interquartile range of prior achievement. The ratio
   mixed / tracked says how much wider the range a teacher faces becomes when tracks are merged.

The band labels of ``Exam``: mlmRev labels the levels of ``intake`` ``bottom 25%``, ``mid 50%``
and ``top 25%``, but the students labelled ``bottom 25%`` have the *highest* mean intake score.
The MLwiN original of the data (documented in R package jomo, ``ExamScores``: "vrband ... vb1 =
top 25%, vb2 = middle 50%, vb3 = bottom 25%") codes the top band first, so mlmRev's labels are
reversed. :func:`own_band` relabels, and refuses to if the data do not show that ordering.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats

from .. import data

__all__ = [
    "BANDS",
    "MLMREV_TO_OWN_BAND",
    "DEFINITION_C",
    "exam_band_checks",
    "own_band",
    "peer_composition",
    "fit_mixedlm",
    "optimiser_comparison",
    "MixedFit",
    "peer_models",
    "peer_slope_equality",
    "Spread",
    "spread",
    "track_spread",
    "spread_table",
    "bootstrap_ratio",
    "band_tracks",
    "band_peer_change",
    "spread_numbers",
    "common_peer_slope",
    "corrected_contextual",
    "contextual_sensitivity",
    "extrapolation_check",
]

BANDS = ("bottom", "middle", "top")
# mlmRev level -> the student's own band (see the module docstring and exam_band_checks)
MLMREV_TO_OWN_BAND = {"bottom 25%": "top", "mid 50%": "middle", "top 25%": "bottom"}

DEFINITION_C = (
    "Detracking, on the other hand, creates heterogeneous classrooms where students of all abilities are "
    "taught together."
)
C6_SENTENCE = (
    "By creating homogeneous classrooms, we can help all students reach their full potential, regardless of "
    "their perceived academic ability."
)

_OPTIMISERS = ("bfgs", "lbfgs", "powell", "nm")


# ----------------------------------------------------------------------------------------------
# The Exam data: which column is what
# ----------------------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}")


def exam_band_checks(exam: pd.DataFrame | None = None) -> dict:
    """What the Exam data say about ``vr`` and ``intake`` (computed, not assumed).

    Returns the number of schools, how many have one ``vr`` value (constant within school means a
    school variable), how many have 1, 2 or 3 ``intake`` levels, the largest gap between
    ``schavg`` and the school mean of ``standlrt``, the mean ``standlrt`` by mlmRev ``intake``
    label (used to decide which label is the top band), and whether the ``vr`` categories
    (bottom, mid, top) cut ``schavg`` into non-overlapping, increasing ranges (as a school average
    coded in three categories would).
    """
    exam = data.load_exam() if exam is None else exam
    _require(exam, ["school", "vr", "intake", "standlrt", "schavg"], "exam")
    by_school = exam.groupby("school")
    vr_levels = by_school["vr"].nunique()
    intake_levels = by_school["intake"].nunique()
    school_mean = by_school["standlrt"].transform("mean")
    means = exam.groupby("intake")["standlrt"].mean()
    ranges = exam.groupby("vr")["schavg"].agg(["min", "max"]).reindex(list(MLMREV_TO_OWN_BAND))
    separated = bool((ranges["max"].to_numpy()[:-1] < ranges["min"].to_numpy()[1:]).all())
    return {
        "n_students": int(len(exam)),
        "n_schools": int(exam["school"].nunique()),
        "schools_vr_constant": int((vr_levels == 1).sum()),
        "schools_intake_1": int((intake_levels == 1).sum()),
        "schools_intake_2": int((intake_levels == 2).sum()),
        "schools_intake_3": int((intake_levels == 3).sum()),
        "schavg_max_abs_diff": float((school_mean - exam["schavg"]).abs().max()),
        "mean_standlrt_by_label": {str(k): float(v) for k, v in means.items()},
        "n_by_label": {str(k): int(v) for k, v in exam["intake"].value_counts().items()},
        "vr_separates_schavg": separated,
    }


def own_band(exam: pd.DataFrame) -> pd.Series:
    """The student's own verbal-reasoning band (``bottom``, ``middle``, ``top``) from mlmRev ``intake``.

    mlmRev's labels are reversed (see the module docstring). The relabelling is applied only if the
    data agree: the mean intake score must rise from the label mapped to ``bottom`` to the one mapped
    to ``top``; otherwise ``ValueError``.
    """
    _require(exam, ["intake", "standlrt"], "exam")
    unknown = sorted(set(exam["intake"]) - set(MLMREV_TO_OWN_BAND))
    if unknown:
        raise ValueError(f"exam: unknown intake label(s) {unknown}; expected {sorted(MLMREV_TO_OWN_BAND)}")
    band = exam["intake"].map(MLMREV_TO_OWN_BAND)
    means = exam["standlrt"].groupby(band).mean()
    present = [b for b in BANDS if b in means.index]
    if len(present) < 2 or not np.all(np.diff(means.loc[present].to_numpy()) > 0):
        raise ValueError(
            "exam: mean standlrt does not rise from the bottom to the top band under the documented "
            f"relabelling ({means.to_dict()}); the band coding is not the one this function expects"
        )
    return pd.Series(pd.Categorical(band, categories=BANDS, ordered=True), index=exam.index, name="band")


def peer_composition(exam: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each student with the composition of the *other* students of the school (leave-one-out).

    Adds ``band`` (own band), ``peer_mean`` (mean ``standlrt`` of the school's other students),
    ``peer_top`` and ``peer_bottom`` (shares of the other students in the top / bottom band) and
    ``school_n``. A school with a single student has no peers: ``ValueError`` names it (the Exam
    data have none).
    """
    exam = data.load_exam() if exam is None else exam
    _require(exam, ["school", "normexam", "standlrt", "intake"], "exam")
    frame = exam.copy()
    frame["band"] = own_band(frame)
    groups = frame.groupby("school")
    n = groups["standlrt"].transform("size")
    if (n < 2).any():
        lonely = sorted(frame.loc[n < 2, "school"].unique())
        raise ValueError(f"exam: school(s) {lonely[:5]} have one student, so no peers to describe")
    top = (frame["band"] == "top").astype(float)
    bottom = (frame["band"] == "bottom").astype(float)
    frame["school_n"] = n
    frame["peer_mean"] = (groups["standlrt"].transform("sum") - frame["standlrt"]) / (n - 1)
    frame["peer_top"] = (top.groupby(frame["school"]).transform("sum") - top) / (n - 1)
    frame["peer_bottom"] = (bottom.groupby(frame["school"]).transform("sum") - bottom) / (n - 1)
    return frame


# ----------------------------------------------------------------------------------------------
# Multilevel models
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MixedFit:
    """One MixedLM fit: coefficients with Wald 95% CIs, variance components and the fit's history."""

    formula: str
    band: str
    params: pd.DataFrame  # index = term; columns estimate, se, ci_low, ci_high, p_value
    tau2: float  # school random-intercept variance
    sigma2: float  # residual variance
    n_students: int
    n_schools: int
    optimiser: str
    attempts: tuple[str, ...]  # what happened with each optimiser tried, in order
    loglik: float
    cov: pd.DataFrame  # covariance matrix of the fixed effects

    def coef(self, term: str) -> pd.Series:
        return self.params.loc[term]


def fit_mixedlm(frame: pd.DataFrame, formula: str, group: str = "school", band: str = "all",
                reml: bool = True, level: float = 0.95, optimisers: tuple[str, ...] = _OPTIMISERS) -> MixedFit:
    """Fit ``formula`` with a random intercept for ``group`` (statsmodels ``MixedLM``).

    Convergence is handled explicitly: the optimisers ``bfgs`` (statsmodels' default), ``lbfgs``,
    ``powell`` and ``nm`` are tried in turn; a fit is accepted only if statsmodels reports it
    converged, its log-likelihood is finite and it raised no warning at all (a
    ``ConvergenceWarning`` such as "MLE on the boundary", i.e. a school variance estimated as
    zero, or a ``SingularMatrixWarning``). On the Exam data ``lbfgs`` runs to the boundary with an
    infinite log-likelihood, which is why the order and the check matter. What happened with each
    attempt is kept in ``attempts``. If no optimiser
    gives a clean fit, ``RuntimeError`` names the model and what each attempt reported.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if group not in frame.columns:
        raise ValueError(f"grouping column '{group}' not in the data")
    used = frame.dropna()
    if len(used) != len(frame):
        raise ValueError(f"{len(frame) - len(used)} row(s) with missing values; this function drops nothing")
    n_groups = used[group].nunique()
    if n_groups < 3:
        raise ValueError(f"a random intercept needs at least 3 groups; band '{band}' has {n_groups}")
    if not optimisers:
        raise ValueError("give at least one optimiser")
    attempts: list[str] = []
    for method in optimisers:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = smf.mixedlm(formula, used, groups=used[group]).fit(reml=reml, method=method)
            except (np.linalg.LinAlgError, ValueError) as exc:
                attempts.append(f"{method}: failed ({exc})")
                continue
        problems = [f"{w.category.__name__}: {w.message}" for w in caught]
        if not np.isfinite(result.llf):
            problems.append(f"log-likelihood {result.llf}")
        if result.converged and not problems:
            attempts.append(f"{method}: converged")
            z = stats.norm.ppf(0.5 + level / 2)
            fe = result.fe_params
            se = result.bse_fe
            params = pd.DataFrame({
                "estimate": fe, "se": se, "ci_low": fe - z * se, "ci_high": fe + z * se,
                "p_value": 2 * stats.norm.sf(np.abs(fe / se)),
            })
            cov = result.cov_params().loc[fe.index, fe.index]
            return MixedFit(formula, band, params, float(result.cov_re.iloc[0, 0]), float(result.scale),
                            int(len(used)), int(n_groups), method, tuple(attempts), float(result.llf), cov)
        attempts.append(f"{method}: not accepted (converged={result.converged}; {'; '.join(problems) or 'no warning'})")
    raise RuntimeError(f"{formula} ({band}): no optimiser gave a clean fit: {attempts}")


def optimiser_comparison(band: str = "bottom", spec: str = "mean") -> pd.DataFrame:
    """Each optimiser alone on one band's model: accepted or not, and why (the convergence record).

    Columns: ``optimiser``, ``accepted``, ``peer_mean`` (the estimate if accepted), ``record``
    (what :func:`fit_mixedlm` noted: converged, or the warnings / non-finite log-likelihood that
    made it reject the fit).
    """
    if band not in BANDS:
        raise ValueError(f"unknown band '{band}'; known: {BANDS}")
    frame = peer_composition()
    data_band = frame[frame["band"] == band]
    rows = []
    for method in _OPTIMISERS:
        try:
            fit = fit_mixedlm(data_band, PEER_FORMULAS[spec], band=band, optimisers=(method,))
            rows.append({"optimiser": method, "accepted": True,
                         "peer_mean": float(fit.params.iloc[-1]["estimate"]), "record": fit.attempts[-1]})
        except RuntimeError as exc:
            record = str(exc).split("clean fit: ", 1)[-1].strip("[]'\"")
            rows.append({"optimiser": method, "accepted": False, "peer_mean": float("nan"), "record": record})
    return pd.DataFrame(rows)


PEER_FORMULAS = {
    "mean": "normexam ~ standlrt + peer_mean",
    "shares": "normexam ~ standlrt + peer_top + peer_bottom",
    # the mean specification with the student's sex and the school's gender (boys', girls', mixed)
    "controls": "normexam ~ standlrt + peer_mean + C(sex) + C(schgend)",
}


@cache
def _peer_models_cached(spec: str) -> dict[str, MixedFit]:
    frame = peer_composition()
    return {band: fit_mixedlm(frame[frame["band"] == band], PEER_FORMULAS[spec], band=band) for band in BANDS}


def peer_models(spec: str = "mean", exam: pd.DataFrame | None = None) -> dict[str, MixedFit]:
    """One MixedLM per own band: ``spec='mean'`` (peer mean intake), ``'shares'`` (top/bottom shares)
    or ``'controls'`` (peer mean, with sex and school gender).

    With ``exam=None`` the shipped data are used and the fits are cached.
    """
    if spec not in PEER_FORMULAS:
        raise ValueError(f"unknown specification '{spec}'; known: {sorted(PEER_FORMULAS)}")
    if exam is None:
        return _peer_models_cached(spec)
    frame = peer_composition(exam)
    return {band: fit_mixedlm(frame[frame["band"] == band], PEER_FORMULAS[spec], band=band) for band in BANDS}


def peer_table(spec: str = "mean") -> pd.DataFrame:
    """The peer-composition coefficients of :func:`peer_models`, one row per band and term."""
    rows = []
    for band, fit in peer_models(spec).items():
        for term in fit.params.index:
            if term.startswith("peer_"):
                rows.append({"band": band, "term": term, **fit.params.loc[term].to_dict(),
                             "n_students": fit.n_students, "n_schools": fit.n_schools, "optimiser": fit.optimiser})
    return pd.DataFrame(rows)


@cache
def peer_slope_equality() -> dict:
    """Do the three bands share one peer-mean slope? Pooled MixedLM with band-specific slopes.

    Model: ``normexam ~ C(band) + standlrt:C(band) + peer_mean:C(band)`` with a school random
    intercept, fitted by ML; the Wald test of equal peer-mean slopes across bands (2 df).
    """
    frame = peer_composition()
    formula = "normexam ~ C(band) + standlrt:C(band) + peer_mean:C(band) - 1"
    fit = fit_mixedlm(frame[["normexam", "band", "standlrt", "peer_mean", "school"]], formula, reml=False)
    terms = [f"peer_mean:C(band)[{b}]" for b in BANDS]
    est = fit.params.loc[terms, "estimate"].to_numpy()
    cov = fit.cov.loc[terms, terms].to_numpy()
    contrast = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]])
    diff = contrast @ est
    wald = float(diff @ np.linalg.solve(contrast @ cov @ contrast.T, diff))
    return {"slopes": dict(zip(BANDS, est.tolist())), "wald": wald, "df": 2,
            "p_value": float(stats.chi2.sf(wald, 2)), "n_students": fit.n_students, "n_schools": fit.n_schools,
            "loglik": fit.loglik}


# ----------------------------------------------------------------------------------------------
# Spread of prior achievement: mixed class versus tracks
# ----------------------------------------------------------------------------------------------


def spread(values, measure: str = "sd") -> float:
    """Sample standard deviation (ddof = 1) or interquartile range (numpy's linear quantiles)."""
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError(f"a spread needs at least 2 values, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("values contain NaN or infinite entries")
    if measure == "sd":
        return float(np.std(x, ddof=1))
    if measure == "iqr":
        q75, q25 = np.quantile(x, [0.75, 0.25])
        return float(q75 - q25)
    raise ValueError(f"unknown spread measure '{measure}'; use 'sd' or 'iqr'")


def track_labels(sort_on, n_tracks: int) -> np.ndarray:
    """Split positions into ``n_tracks`` tracks of (almost) equal size by rank of ``sort_on``.

    Ties are broken by position (a stable sort), so the split is deterministic; track 0 is lowest.
    """
    x = np.asarray(sort_on, dtype=float)
    if n_tracks < 1:
        raise ValueError(f"n_tracks must be at least 1, got {n_tracks}")
    if len(x) < n_tracks:
        raise ValueError(f"cannot split {len(x)} students into {n_tracks} tracks")
    order = np.argsort(x, kind="stable")
    labels = np.empty(len(x), dtype=int)
    labels[order] = (np.arange(len(x)) * n_tracks) // len(x)
    return labels


@dataclass(frozen=True)
class Spread:
    """Mixed-class versus within-track spread, aggregated over groups (weights: students)."""

    dataset: str
    score: str
    tracks: str  # how the tracks were formed
    measure: str
    mixed: float  # student-weighted mean of the within-group spread
    tracked: float  # student-weighted mean of the within-track spread
    ratio: float  # mixed / tracked
    n_students: int
    n_groups: int
    n_groups_excluded: int  # groups too small to split (listed by size in ``excluded``)
    per_group: pd.DataFrame  # group, n, mixed, tracked (for the bootstrap)
    excluded: tuple[int, ...]


def track_spread(frame: pd.DataFrame, score: str, *, n_tracks: int | None = 2, track_by: str | None = None,
                 group: str | None = None, measure: str = "sd", min_per_track: int = 2,
                 dataset: str = "") -> Spread:
    """Spread of ``score`` in the mixed group and within tracks, per group, then averaged.

    Tracks are either ``n_tracks`` equal-sized rank groups of ``score`` within each group (perfect
    sorting on the very score measured: the most homogeneity tracking could deliver) or the levels
    of an existing column ``track_by`` (``n_tracks=None``; e.g. the Exam verbal-reasoning bands,
    an imperfect sort). ``group=None`` treats the whole data set as one cohort. A group whose
    smallest track would have fewer than ``min_per_track`` students cannot be split; it is
    excluded from both sides of the comparison and counted in ``n_groups_excluded`` (never
    dropped silently).

    Within a group of size n the within-track spread is the size-weighted mean of the tracks'
    spreads; across groups both spreads are averaged with weights n.
    """
    cols = [score] + ([group] if group else []) + ([track_by] if track_by else [])
    _require(frame, cols, dataset or "data")
    if (n_tracks is None) == (track_by is None):
        raise ValueError("give exactly one of n_tracks (rank split) or track_by (existing column)")
    if frame[score].isna().any():
        raise ValueError(f"{dataset}: column '{score}' has missing values")
    groups = [(0, frame)] if group is None else list(frame.groupby(group))
    rows, excluded = [], []
    for key, g in groups:
        x = g[score].to_numpy(float)
        if track_by is None and len(x) < n_tracks * min_per_track:
            excluded.append(len(x))
            continue
        labels = track_labels(x, n_tracks) if track_by is None else g[track_by].astype(str).to_numpy()
        sizes = pd.Series(labels).value_counts()
        if sizes.min() < min_per_track:
            excluded.append(len(x))
            continue
        within = sum(len(x[labels == lab]) * spread(x[labels == lab], measure) for lab in sizes.index) / len(x)
        rows.append({"group": key, "n": len(x), "mixed": spread(x, measure), "tracked": within})
    if not rows:
        raise ValueError(f"{dataset}: no group is large enough to split into tracks")
    per_group = pd.DataFrame(rows)
    w = per_group["n"]
    mixed = float(np.average(per_group["mixed"], weights=w))
    tracked = float(np.average(per_group["tracked"], weights=w))
    how = f"{n_tracks} rank tracks by {score}" if track_by is None else f"existing groups in '{track_by}'"
    return Spread(dataset, score, how, measure, mixed, tracked, mixed / tracked, int(w.sum()), len(per_group),
                  len(excluded), per_group, tuple(excluded))


def bootstrap_ratio(result: Spread, reps: int = 1000, seed: int = 20261123, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of ``result.ratio`` resampling groups with replacement (seeded)."""
    per = result.per_group
    if len(per) < 2:
        raise ValueError("a group bootstrap needs at least 2 groups; a single cohort has no sampling interval")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(per), size=(reps, len(per)))
    n = per["n"].to_numpy(float)[idx]
    mixed = (per["mixed"].to_numpy()[idx] * n).sum(1) / n.sum(1)
    tracked = (per["tracked"].to_numpy()[idx] * n).sum(1) / n.sum(1)
    lo, hi = np.quantile(mixed / tracked, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


SPREAD_CASES = (
    # dataset, loader, score, group, tracks (int = rank split; str = existing column)
    ("nlschools", "nlschools", "iq", "class", 2),
    ("nlschools", "nlschools", "iq", "class", 3),
    ("hsb", "hsb", "mathach", "school", 2),
    ("hsb", "hsb", "mathach", "school", 3),
    ("exam", "exam", "standlrt", "school", 2),
    ("exam", "exam", "standlrt", "school", 3),
    ("exam", "exam", "standlrt", "school", "band"),
)


@cache
def spread_table(measure: str = "sd", reps: int = 1000) -> pd.DataFrame:
    """Mixed versus tracked spread of prior achievement in every shipped data set (see ``SPREAD_CASES``).

    Groups: nlschools classes, HSB schools, Exam schools. The Exam case ``band`` uses the students'
    own verbal-reasoning bands as three real, imperfect tracks of the reading score.
    """
    loaders = {"nlschools": data.load_nlschools, "hsb": data.load_hsb,
               "exam": lambda: peer_composition(data.load_exam())}
    frames = {key: loader() for key, loader in loaders.items()}
    rows = []
    for dataset, key, score, group, tracks in SPREAD_CASES:
        if isinstance(tracks, str):
            res = track_spread(frames[key], score, n_tracks=None, track_by=tracks, group=group,
                               measure=measure, dataset=dataset)
        else:
            res = track_spread(frames[key], score, n_tracks=tracks, group=group, measure=measure, dataset=dataset)
        lo, hi = bootstrap_ratio(res, reps=reps)
        cohort = track_spread(frames[key], score, n_tracks=None if isinstance(tracks, str) else tracks,
                              track_by=tracks if isinstance(tracks, str) else None, group=None,
                              measure=measure, dataset=dataset)
        rows.append({"dataset": dataset, "score": score, "group": group, "tracks": res.tracks, "measure": measure,
                     "mixed": res.mixed, "tracked": res.tracked, "ratio": res.ratio, "ratio_low": lo,
                     "ratio_high": hi, "cohort_mixed": cohort.mixed, "cohort_tracked": cohort.tracked,
                     "cohort_ratio": cohort.ratio, "n_students": res.n_students, "n_groups": res.n_groups,
                     "n_groups_excluded": res.n_groups_excluded, "students_excluded": int(sum(res.excluded))})
    return pd.DataFrame(rows)


@cache
def band_tracks() -> pd.DataFrame:
    """Per own band, what splitting each Exam school into band tracks changes (computed):

    ``p`` (share of students), ``rho`` (mean within-school-band variance of ``standlrt`` over the
    mean within-school variance, over the band's students), ``delta`` (mean over the band's
    students of: mean intake of the other students of the same band and school minus mean intake
    of all other students of the school: the change in classmates' mean intake). Students whose
    school has no other student of their band have no track-mate; they are counted in
    ``n_excluded`` and left out of ``rho`` and ``delta`` (not silently).
    """
    frame = peer_composition()
    school_var = frame.groupby("school")["standlrt"].transform(lambda x: x.var(ddof=1))
    cell = frame.groupby(["school", "band"], observed=True)["standlrt"]
    cell_n = cell.transform("size")
    cell_var = cell.transform(lambda x: x.var(ddof=1) if len(x) > 1 else np.nan)
    cell_loo = (cell.transform("sum") - frame["standlrt"]) / (cell_n - 1).where(cell_n > 1)
    rows = []
    for band in BANDS:
        in_band = frame["band"] == band
        ok = in_band & (cell_n > 1)
        rows.append({
            "band": band,
            "p": float(in_band.mean()),
            "rho": float(cell_var[ok].mean() / school_var[ok].mean()),
            "delta": float((cell_loo[ok] - frame.loc[ok, "peer_mean"]).mean()),
            "n": int(in_band.sum()),
            "n_excluded": int((in_band & ~ok).sum()),
        })
    return pd.DataFrame(rows).set_index("band")


def band_peer_change() -> pd.DataFrame:
    """Predicted change in a band's exam score from its change in classmates' intake under band tracks.

    ``gamma * delta`` with the band's peer-mean slope (:func:`peer_models`) and ``delta`` from
    :func:`band_tracks`; the interval is ``delta`` times the slope's 95% CI (``delta`` is treated as
    fixed: it is a description of the data, not an estimate with sampling error here). A
    between-school association carried over to classes, not a causal effect.
    """
    tracks, fits = band_tracks(), peer_models("mean")
    rows = []
    for band in BANDS:
        c = fits[band].coef("peer_mean")
        d = tracks.loc[band, "delta"]
        lo, hi = sorted((d * c["ci_low"], d * c["ci_high"]))
        rows.append({"band": band, "gamma": c["estimate"], "delta": d, "change": d * c["estimate"],
                     "ci_low": lo, "ci_high": hi, "n_students": fits[band].n_students,
                     "n_schools": fits[band].n_schools})
    return pd.DataFrame(rows).set_index("band")


# ----------------------------------------------------------------------------------------------
# The spread of prior achievement in mixed classes and in tracks (C4): arithmetic, not evidence
# ----------------------------------------------------------------------------------------------


#: The label :func:`spread_table` gives the split by the London bands (the real tracks of the data).
BAND_TRACKS_LABEL = "existing groups in 'band'"


def _spread_summary() -> pd.DataFrame:
    return spread_table("sd")


@cache
def spread_numbers() -> dict:
    """Mixed-class / tracked spread ratios (SD) with their school/class-bootstrap 95% intervals."""
    table = _spread_summary()
    return {"table": table, "min_ratio": float(table["ratio"].min()), "max_ratio": float(table["ratio"].max()),
            "min_low": float(table["ratio_low"].min()), "all_above_one": bool((table["ratio_low"] > 1).all()),
            "band_ratio": float(table.loc[table["tracks"] == BAND_TRACKS_LABEL, "ratio"].iloc[0])}




# ----------------------------------------------------------------------------------------------
# What a referee asks of a contextual effect: one slope first, measurement error, observed range
# ----------------------------------------------------------------------------------------------


@cache
def common_peer_slope() -> dict:
    """One peer-mean slope for all bands (band intercepts and own-score slopes kept), REML.

    Band-specific slopes carry a conclusion only if equal slopes are rejected
    (:func:`peer_slope_equality`); otherwise this common slope is the estimate to use."""
    frame = peer_composition()
    formula = "normexam ~ C(band) + standlrt + peer_mean - 1"
    fit = fit_mixedlm(frame[["normexam", "band", "standlrt", "peer_mean", "school"]], formula)
    peer, own = fit.coef("peer_mean"), fit.coef("standlrt")
    return {"gamma": peer["estimate"], "ci_low": peer["ci_low"], "ci_high": peer["ci_high"], "se": peer["se"],
            "beta_own": own["estimate"], "n_students": fit.n_students, "n_schools": fit.n_schools}


#: The causal peer-quality estimate the model uses (a row of data/evidence.csv): the Boston exam-school
#: regression discontinuity, 2SLS effect of peers' mean baseline achievement (per SD) on achievement (SD),
#: as reproduced with its SE in Mastering 'Metrics (Abdulkadiroglu, Angrist & Pathak 2014).
CAUSAL_PEER_ROW = "E158"


def causal_peer_slope(evidence=None, level: float = 0.95) -> dict:
    """The causal peer-quality slope (SD of achievement per SD of peers' mean baseline achievement)
    from the evidence table, with its interval: the model's peer term, in place of the Exam
    between-school association, which this chapter declines to read causally."""
    from scipy import stats as _stats

    from ..data.evidence import load_evidence

    rows = (evidence if evidence is not None else load_evidence()).set_index("id")
    if CAUSAL_PEER_ROW not in rows.index:
        raise ValueError(f"the causal peer estimate ({CAUSAL_PEER_ROW}) is not in the evidence table")
    row = rows.loc[CAUSAL_PEER_ROW]
    z = float(_stats.norm.ppf(0.5 + level / 2))
    est, se = float(row["estimate"]), float(row["se"])
    return {"gamma": est, "se": se, "ci_low": est - z * se, "ci_high": est + z * se, "row": CAUSAL_PEER_ROW,
            "study": str(row["study"])}


def corrected_contextual(gamma: float, beta_own: float, reliability: float, icc_intake: float) -> float:
    r"""The peer-mean slope corrected for measurement error in the student's own intake score.

    With a fallible own score, the within-school slope is attenuated by the within-school
    reliability :math:`r_w = 1 - (1 - r)/(1 - \rho_x)` (the error variance :math:`1 - r` is all
    within schools; :math:`\rho_x` is the intake score's ICC), and the part of own ability left
    uncontrolled loads onto the school mean: the manifest contextual slope overstates the true
    one by about :math:`\beta_{own}(1/r_w - 1)` (the "phantom" contextual effect of Lüdtke et al.
    2008 and Televantou et al. 2015). Returns :math:`\gamma - \beta_{own}(1/r_w - 1)`.
    """
    if not 0 < reliability <= 1:
        raise ValueError(f"reliability must lie in (0, 1], got {reliability}")
    if not 0 <= icc_intake < 1:
        raise ValueError(f"the intake ICC must lie in [0, 1), got {icc_intake}")
    r_within = 1 - (1 - reliability) / (1 - icc_intake)
    if r_within <= 0:
        raise ValueError(f"reliability {reliability} leaves no true within-school variance at ICC {icc_intake}")
    return gamma - beta_own * (1 / r_within - 1)


RELIABILITIES = (0.7, 0.8, 0.9, 1.0)  # assumed: the intake test's reliability is not published where read


@cache
def contextual_sensitivity(reliabilities=RELIABILITIES) -> pd.DataFrame:
    """The common peer slope corrected for an intake-score reliability of 0.7 to 1 (1 = no correction)."""
    from .gaps import variance_decomposition

    common = common_peer_slope()
    icc = variance_decomposition(data.load_exam(), "standlrt", "school").icc
    return pd.DataFrame([{"reliability": r, "intake_icc": icc,
                          "gamma_corrected": corrected_contextual(common["gamma"], common["beta_own"], r, icc)}
                         for r in reliabilities])


@cache
def extrapolation_check() -> pd.DataFrame:
    """Per band: the range of classmates' mean intake observed across schools, and the share of the
    band's students whose classmates' mean intake under band tracks would lie outside it (a
    prediction there is an extrapolation, not a description of any observed school)."""
    frame = peer_composition()
    lo, hi = float(frame["peer_mean"].min()), float(frame["peer_mean"].max())
    cell = frame.groupby(["school", "band"], observed=True)["standlrt"]
    cell_n = cell.transform("size")
    tracked = (cell.transform("sum") - frame["standlrt"]) / (cell_n - 1).where(cell_n > 1)
    rows = []
    for band in BANDS:
        mine = tracked[(frame["band"] == band) & (cell_n > 1)]
        outside = (mine < lo) | (mine > hi)
        rows.append({"band": band, "observed_low": lo, "observed_high": hi,
                     "tracked_mean": float(mine.mean()), "share_outside": float(outside.mean())})
    return pd.DataFrame(rows).set_index("band")
