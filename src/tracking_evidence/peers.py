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
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from . import data
from .claims import Verdict, source_text, verdict_for

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
    "grouping_rows",
    "EVIDENCE_NEEDS",
    "missing_evidence",
    "band_tracks",
    "band_peer_change",
    "b3_numbers",
    "b8_numbers",
    "c4_numbers",
    "c6_numbers",
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
# Published evidence (data/evidence.csv, built by another module)
# ----------------------------------------------------------------------------------------------


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}")


_STANDARDISED = ("hedges g", "cohen d", "sd", "effect size", "standardised mean difference", "median effect size")


def _standardised(rows: pd.DataFrame) -> pd.Series:
    """Boolean mask: the row's unit is a standardised effect size (bool dtype even when empty)."""
    units = rows["unit"].astype(str).str.lower()
    return pd.Series([any(u == k or u.startswith(k) for k in _STANDARDISED) for u in units], index=rows.index,
                     dtype=bool)


def _contains(rows: pd.DataFrame, column: str, words: tuple[str, ...]) -> pd.Series:
    """Boolean mask: ``column`` (lower-cased) contains any of ``words`` (bool dtype even when empty)."""
    texts = rows[column].astype(str).str.lower()
    return pd.Series([any(w in t for w in words) for t in texts], index=rows.index, dtype=bool)


def _startswith(rows: pd.DataFrame, column: str, prefixes: tuple[str, ...]) -> pd.Series:
    """Boolean mask: ``column`` (lower-cased) starts with any of ``prefixes``."""
    texts = rows[column].astype(str).str.lower()
    return pd.Series([t.startswith(prefixes) for t in texts], index=rows.index, dtype=bool)


def _equals(rows: pd.DataFrame, column: str, value: str) -> pd.Series:
    """Boolean mask: ``column`` (lower-cased) equals ``value``."""
    texts = rows[column].astype(str).str.lower()
    return pd.Series([t == value for t in texts], index=rows.index, dtype=bool)


def _in(rows: pd.DataFrame, column: str, values: tuple[str, ...]) -> pd.Series:
    return pd.Series([v in values for v in rows[column]], index=rows.index, dtype=bool)


def _evidence(topics: tuple[str, ...]) -> pd.DataFrame:
    from . import evidence  # noqa: PLC0415

    table = evidence.load_evidence()
    return table[table["topic"].isin(topics)].reset_index(drop=True)


def grouping_rows(kind: str) -> pd.DataFrame:
    """Published effect sizes (all students) of ``within-class`` or ``between-class`` grouping vs none.

    Rows of ``data/evidence.csv`` with topic ``ability grouping``, subgroup ``all``, a standardised
    unit (Hedges g, Cohen d, SD, effect size) and a comparison that names the kind of grouping and
    "no grouping", "heterogeneous" or " vs none". For ``within-class``, a comparison of homogeneous
    with heterogeneous ability groups "within the class" counts too: it is the most direct
    estimate of targeting. An empty frame if there are none.
    """
    if kind not in ("within-class", "between-class"):
        raise ValueError(f"kind must be 'within-class' or 'between-class', got '{kind}'")
    rows = _evidence(("ability grouping",))
    named = _contains(rows, "comparison", (kind,))
    if kind == "within-class":  # homogeneous vs heterogeneous ability groups inside one class
        named |= _contains(rows, "comparison", ("homogeneous",)) & _contains(rows, "comparison", ("within the class",))
    keep = (named & _contains(rows, "comparison", ("no grouping", "heterogeneous", " vs none"))
            & _equals(rows, "subgroup", "all") & _standardised(rows))
    return rows[keep].reset_index(drop=True)


EVIDENCE_NEEDS = {
    "within": "effect sizes of within-class (ability) grouping against no grouping, or of homogeneous against "
              "heterogeneous ability groups within the class: topic 'ability grouping', subgroup 'all', a "
              "standardised unit (Hedges g, Cohen d, SD, effect size)",
    "between": "effect sizes of between-class grouping against no grouping or heterogeneous classes: topic "
               "'ability grouping', subgroup 'all', a standardised unit",
    "high": "effect sizes for high achievers (subgroup starting with 'high') of gifted, honours or accelerated "
            "provision against the regular or same-age alternative, or of detracked against tracked classes, from "
            "an RCT, a quasi-experiment or a meta-analysis, in a standardised unit",
}


def missing_evidence() -> dict[str, str]:
    """Which kinds of published rows the verdicts of this module need and ``data/evidence.csv`` lacks."""
    missing = {}
    if grouping_rows("within-class").empty:
        missing["within"] = EVIDENCE_NEEDS["within"]
    if grouping_rows("between-class").empty:
        missing["between"] = EVIDENCE_NEEDS["between"]
    if b3_numbers()["n_rows"] == 0:
        missing["high"] = EVIDENCE_NEEDS["high"]
    return missing


# ----------------------------------------------------------------------------------------------
# Verdicts
# ----------------------------------------------------------------------------------------------

HIGH_SEPARATE_WORDS = ("gifted", "accelerat", "high-ability class", "high-achiever", "honors", "honours")
CAUSAL_OR_SYNTHESIS = ("RCT", "quasi-experimental", "meta-analysis")


def _ci_excludes_zero_or_absent(rows: pd.DataFrame, sign: int) -> pd.Series:
    """True where no CI is given, or where the CI lies entirely on the side ``sign`` of zero."""
    low, high = rows["ci_low"].astype(float), rows["ci_high"].astype(float)
    absent = low.isna() & high.isna()
    return (absent | ((low > 0) if sign > 0 else (high < 0))).astype(bool)


@cache
def b3_numbers() -> dict:
    """Evidence on harm to high performers when tracked, gifted or accelerated provision is removed.

    Published part, rows of ``data/evidence.csv`` for high achievers (subgroup starting with "high"
    or naming high achievers), in a standardised unit, from an RCT, quasi-experiment or
    meta-analysis:

    - ``separate``: separate / gifted / accelerated provision versus the regular or same-age
      alternative (comparisons with *older* peers are excluded: they are not what removal
      changes); a row *shows a gain* when its estimate is > 0 and its CI, if reported, excludes 0;
    - ``detracked``: detracked versus tracked; a row *shows harm* when its estimate is < 0 and its
      CI, if reported, excludes 0.

    Exam part: the predicted change for top-band students of moving from a top-band track into
    the school mix (minus :func:`band_peer_change` for ``top``).
    """
    rows = _evidence(("ability grouping", "tracking", "acceleration", "detracking"))
    high = _startswith(rows, "subgroup", ("high",)) | _contains(rows, "subgroup", ("high achiever",))
    eligible = high & _standardised(rows) & _in(rows, "design", CAUSAL_OR_SYNTHESIS)
    detracked = _startswith(rows, "comparison", ("detracked",))
    separate = (eligible & ~detracked & _contains(rows, "comparison", HIGH_SEPARATE_WORDS)
                & ~_contains(rows, "comparison", ("older",)))
    gain = separate & (rows["estimate"] > 0) & _ci_excludes_zero_or_absent(rows, +1)
    harm = eligible & detracked & (rows["estimate"] < 0) & _ci_excludes_zero_or_absent(rows, -1)
    used = rows[separate | (eligible & detracked)].copy()
    used["shows_harm_of_removal"] = (gain | harm)[used.index]
    top = band_peer_change().loc["top"]
    shown = rows[gain | harm]
    return {
        "rows": used[["id", "study", "design", "comparison", "subgroup", "unit", "estimate", "ci_low", "ci_high",
                      "shows_harm_of_removal"]].reset_index(drop=True),
        "n_rows": int(len(used)), "n_harm": int(len(shown)),
        "min": float(shown["estimate"].abs().min()) if len(shown) else float("nan"),
        "max": float(shown["estimate"].abs().max()) if len(shown) else float("nan"),
        "track_gain": float(top["change"]), "track_gain_low": float(top["ci_low"]),
        "track_gain_high": float(top["ci_high"]), "n_students": int(top["n_students"]),
        "n_schools": int(top["n_schools"]),
    }


@verdict_for("B3")
def b3_verdict() -> Verdict:
    """B3 is universal ("does not harm high-performing students in any way").

    Rule: ``contradicted`` if at least one published row of :func:`b3_numbers` shows harm of
    removal (a gain of separate provision for high achievers, or a loss in detracked groups, with
    the CI excluding 0 where reported): one credible case suffices against "in any way". If
    eligible rows exist and none shows harm: ``supported``. Without eligible rows the Exam
    association alone cannot settle a causal claim: ``not testable here``.
    """
    n = b3_numbers()
    exam = (f"in the Exam data, mixing goes with a predicted score {n['track_gain']:.2f} SD lower for top-band "
            f"students (95% CI {n['track_gain_low']:.2f} to {n['track_gain_high']:.2f}; a between-school association, "
            f"{n['n_students']} students in {n['n_schools']} schools)")
    if n["n_rows"] == 0:
        return Verdict("not testable here", f"No published estimate for high achievers in data/evidence.csv; {exam}.")
    if n["n_harm"] == 0:
        return Verdict("supported", f"{n['n_rows']} published estimates for high achievers, none showing harm "
                                    f"from removing separate provision; {exam}.")
    return Verdict(
        "contradicted",
        f"{n['n_harm']} of {n['n_rows']} published estimates for high achievers show a gain from separate or "
        f"accelerated provision ({n['min']:.2f} to {n['max']:.2f} SD or g) that its removal would take away; "
        f"{exam}.",
    )


@cache
def b8_numbers() -> dict:
    """Targeted instruction on average, for every group, and through separate classes.

    - ``within``: published within-class grouping effects (all students) in a standardised unit;
    - ``between``: published between-class grouping effects (all students);
    - ``negative_subgroups``: published rows for a named ability subgroup (not ``all``) of ability
      grouping or tracking of *instruction* (residential/dormitory tracking excluded) with a
      negative estimate;
    - ``detracked_better``: published detracked-versus-tracked rows (causal design or
      meta-analysis) for a named subgroup in which the detracked group does better (CI excluding 0
      where reported): that subgroup did not benefit from the tracked, targeted arm;
    - ``exam_losers``: bands whose predicted change under band tracks (:func:`band_peer_change`)
      has a 95% interval entirely below zero.
    """
    rows = _evidence(("ability grouping", "tracking"))
    std = _standardised(rows)
    within, between = grouping_rows("within-class"), grouping_rows("between-class")
    instruction = ~_contains(rows, "comparison", ("dormitor", "residential"))
    named = ~_startswith(rows, "subgroup", ("all",))
    negative = rows[std & named & instruction & (rows["estimate"] < 0) & _ci_excludes_zero_or_absent(rows, -1)]
    detrack = _evidence(("detracking",))
    d_better = detrack[_startswith(detrack, "comparison", ("detracked vs tracked",)) & _standardised(detrack)
                       & ~_startswith(detrack, "subgroup", ("all",)) & _in(detrack, "design", CAUSAL_OR_SYNTHESIS)
                       & (detrack["estimate"] > 0) & _ci_excludes_zero_or_absent(detrack, +1)]
    change = band_peer_change()
    losers = change[change["ci_high"] < 0]
    return {
        "within": within[["id", "study", "comparison", "estimate"]].reset_index(drop=True),
        "between": between[["id", "study", "comparison", "estimate"]].reset_index(drop=True),
        "negative_subgroups": negative[["id", "study", "comparison", "subgroup", "estimate"]].reset_index(drop=True),
        "detracked_better": d_better[["id", "study", "comparison", "subgroup", "estimate", "ci_low", "ci_high"]]
        .reset_index(drop=True),
        "exam_change": change,
        "exam_losers": list(losers.index),
    }


@verdict_for("B8")
def b8_verdict() -> Verdict:
    """Rule: ``not testable here`` without published within-class grouping rows; ``contradicted`` if
    every within-class estimate is <= 0; otherwise ``supported`` if no published ability subgroup
    has a negative estimate and no Exam band is predicted to lose (95% interval below zero) under
    band tracks, else ``mixed`` (targeting helps on average, but not every student, or not when it
    is delivered through separate classes).
    """
    n = b8_numbers()
    within, between = n["within"], n["between"]
    if within.empty:
        return Verdict("not testable here", "No published within-class grouping effect in data/evidence.csv.")
    w = (f"within-class grouping {within['estimate'].min():.2f} to {within['estimate'].max():.2f} SD "
         f"({len(within)} estimates)")
    if (within["estimate"] <= 0).all():
        return Verdict("contradicted", f"Targeted grouping shows no gain: {w}.")
    b = (f"; between-class grouping {between['estimate'].min():.2f} to {between['estimate'].max():.2f}"
         if len(between) else "")
    parts = []
    if len(n["negative_subgroups"]):
        parts.append(f"{len(n['negative_subgroups'])} published subgroup estimate(s) of grouping negative")
    if len(n["detracked_better"]):
        d = n["detracked_better"]
        parts.append(f"{len(d)} published estimate(s) show {', '.join(sorted(set(d['subgroup'])))}-ability students "
                     f"doing better detracked (d {d['estimate'].min():.2f} to {d['estimate'].max():.2f})")
    for band in n["exam_losers"]:
        row = n["exam_change"].loc[band]
        parts.append(f"in the Exam data, band tracks would cost the {band} band {-row['change']:.2f} SD of "
                     f"classmate association (95% CI {-row['ci_high']:.2f} to {-row['ci_low']:.2f})")
    if not parts:
        return Verdict("supported", f"Targeting helps on average ({w}{b}) and no group is shown to lose.")
    return Verdict("mixed", f"Targeting helps on average ({w}{b}), but not shown for all: " + "; ".join(parts) + ".")


def _spread_summary() -> pd.DataFrame:
    return spread_table("sd")


@cache
def c4_numbers() -> dict:
    """Mixed-class / tracked spread ratios (SD) with their school/class-bootstrap 95% intervals."""
    table = _spread_summary()
    return {"table": table, "min_ratio": float(table["ratio"].min()), "max_ratio": float(table["ratio"].max()),
            "min_low": float(table["ratio_low"].min()), "all_above_one": bool((table["ratio_low"] > 1).all()),
            "band_ratio": float(table.loc[table["tracks"].str.contains("band"), "ratio"].iloc[0])}


@verdict_for("C4")
def c4_verdict() -> Verdict:
    """Rule: ``contradicted`` if, in every data set and split, the 95% bootstrap lower bound of the
    mixed / tracked SD ratio exceeds 1 (merging tracks widens the range of prior achievement a
    teacher must teach, so the need to differentiate grows); ``mixed`` if only some do;
    ``supported`` if none does.
    """
    n = c4_numbers()
    table = n["table"]
    above = int((table["ratio_low"] > 1).sum())
    text = (f"a mixed class spans {n['min_ratio']:.2f} to {n['max_ratio']:.2f} times the SD of prior achievement of "
            f"a track ({len(table)} splits in {table['dataset'].nunique()} data sets; {n['band_ratio']:.2f} with the "
            f"real Exam bands)")
    if above == len(table):
        return Verdict("contradicted", f"Detracking widens what must be differentiated: {text}.")
    if above == 0:
        return Verdict("supported", f"Mixing does not widen the spread: {text}.")
    return Verdict("mixed", f"{above} of {len(table)} splits show a wider spread when mixed: {text}.")


@cache
def c6_numbers() -> dict:
    text = source_text("C")
    c4 = c4_numbers()
    return {"definition_found": DEFINITION_C in text, "sentence_found": C6_SENTENCE in text,
            "min_ratio": c4["min_ratio"], "all_above_one": c4["all_above_one"]}


@verdict_for("C6")
def c6_verdict() -> Verdict:
    """Rule: ``contradicted`` if Source C contains both its definition (detracking "creates
    heterogeneous classrooms") and the C6 sentence ("By creating homogeneous classrooms"), and the
    spread measure confirms that mixing makes classes more heterogeneous (every bootstrap lower
    bound of the mixed / tracked ratio above 1). If either passage is missing: ``not testable
    here`` (the registry text changed).
    """
    n = c6_numbers()
    if not (n["definition_found"] and n["sentence_found"]):
        return Verdict("not testable here", "One of the two passages of Source C was not found in the stored text.")
    if n["all_above_one"]:
        return Verdict("contradicted", "Source C defines detracking as creating heterogeneous classrooms, then credits "
                                       "it with creating homogeneous ones; mixed classes are at least "
                                       f"{n['min_ratio']:.2f} times as spread as tracks.")
    return Verdict("mixed", "Source C contradicts itself in words, but not every split shows mixed classes wider.")
