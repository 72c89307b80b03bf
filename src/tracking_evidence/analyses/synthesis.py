r"""The evidence, weighed per question: eligibility by codes, then a pooled estimate fit for its size.

The coded rows of ``data/evidence.csv`` (see ``data/evidence-protocol.md``) answer the questions
of :data:`QUESTIONS`. For one question, one contrast and one set of settings:

1. **Eligible rows** are those whose *codes* match (contrast, construct, subgroup, setting), whose
   ``estimate_role`` is ``primary``, whose unit is in the question's metric (:data:`SMD_UNITS`,
   or proportions for attainment), whose design belongs to the evidence base asked for (primary
   studies: the declared designs; syntheses: meta-analyses), and that carry uncertainty: published,
   or derived by a marked conversion (:mod:`tracking_evidence.stats.conversions`); a significance
   statement's bound decides only when ``bounds_decide`` allows it. Nothing is read from text.
2. Each eligible row becomes an **effect of more tracking** on the question's scale,
   :math:`y_i = \text{estimate}_i \times \text{sign}_i \times o_i`: ``sign`` is the coded
   ``sign_more_tracking``; :math:`o_i = +1` when a higher value of the row's outcome points the
   way the question reads (higher achievement or attainment is better; a larger gap, dispersion or
   gradient is worse) and :math:`-1` otherwise (a dropout rate: ``higher_is_better = false``).
   Its sampling variance is :math:`v_i = SE_i^2`.
3. **One study** decides alone (``min_studies = 1``): its rows' mean with the mean of their SEs (the
   rows of one sample, treated as perfectly correlated: no precision is gained by counting them
   twice). **Two or more** are pooled with the three-level model (estimates nested in studies;
   :func:`tracking_evidence.stats.pool_multilevel`). Inference fits the number of studies:
   cluster-robust CR2 with Satterthwaite df (:func:`tracking_evidence.stats.robust`) only from
   ``cr2_min_studies`` studies (its authors warn that its df below about 4 are unreliable); below,
   the model-based interval, or the Knapp–Hartung alternative (a t interval on studies − 1 df; the
   full Knapp–Hartung rescaling where each study gives one estimate, :func:`tracking_evidence.stats.pool`).
   :attr:`Synthesis.inference` says which was used and :attr:`Synthesis.df` its degrees of freedom.

Rows without uncertainty appear in :func:`evidence_map` and never decide.

:func:`weigh` returns numbers only; the verdict rules in :mod:`tracking_evidence.verdicts`
decide what they mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cache

import numpy as np
import pandas as pd
from scipy import stats

from ..data import evidence as evidence_module
from ..stats.conversions import UNSTATED, UNSTATED_BOUND, _z, derive, derive_se, se_from_significance

__all__ = [
    "SMD_UNITS",
    "SMD_SCALE",
    "EVIDENCE_BASES",
    "Question",
    "QUESTIONS",
    "derive_se",
    "INFERENCE",
    "PROTOCOL_QUESTION",
    "with_effects",
    "eligible",
    "Synthesis",
    "weigh",
    "weigh_table",
    "evidence_map",
    "book_evidence",
]

#: Units that are standardised mean differences (a controlled vocabulary of ``unit``), with the
#: factor that puts each in SD units ("SD x 100": a scale whose SD is 100; "percent of SD").
SMD_SCALE = {"SD": 1.0, "Hedges g": 1.0, "Cohen d": 1.0, "effect size": 1.0,
             "effect size (standardised mean difference)": 1.0, "SD x 100": 0.01, "percent of SD": 0.01}
SMD_UNITS = tuple(SMD_SCALE)
#: Units of a proportion (attainment: enrolment, passing), with the factor to a proportion.
PROPORTION_SCALE = {"proportion": 1.0, "percentage points": 0.01}
METRICS = {"SMD": SMD_SCALE, "proportion": PROPORTION_SCALE}
EVIDENCE_BASES = ("primary, else syntheses", "primary studies", "syntheses")
#: How a pooled interval is built: CR2 (only from ``cr2_min_studies`` studies; model-based below),
#: the three-level model's own (z), or Knapp-Hartung (t on studies - 1 df).
INFERENCE = ("CR2", "model", "Knapp-Hartung")
PRIMARY_DESIGNS_ALL = ("RCT", "quasi-experimental", "descriptive")
SYNTHESIS_DESIGNS = ("meta-analysis",)


@dataclass(frozen=True)
class Question:
    """A question the claims raise: which coded rows answer it, and which way its effect is reported.

    ``report_as`` is ``"more tracking"`` (the pooled effect is that of more tracking) or
    ``"detracking"`` (its negative: the effect of removing tracks).
    """

    key: str
    title: str
    contrasts: tuple[str, ...]
    constructs: tuple[str, ...]
    subgroups: tuple[str, ...]
    report_as: str = "more tracking"
    metric: str = "SMD"  # the common unit rows are pooled in: "SMD" or "proportion"

    @property
    def sign(self) -> int:
        return 1 if self.report_as == "more tracking" else -1


_SEPARATE = ("course tracking", "placement", "acceleration", "enrichment", "system tracking")
#: Evidence on detracking: reforms that remove tracks, and comparisons of tracked with mixed classes
#: read the other way (a trial of mixed-attainment classes against sets is evidence on detracking).
_DETRACKING = ("detracking reform", "course tracking")
QUESTIONS = {q.key: q for q in (
    Question("high", "Higher, separate or faster tracks and high achievers' achievement",
             _SEPARATE + ("within-class grouping",), ("subgroup achievement",), ("high",)),
    Question("low", "Separate tracks and low achievers' achievement",
             ("system tracking", "course tracking", "placement", "within-class grouping"),
             ("subgroup achievement",), ("low",)),
    Question("middle", "Separate tracks and middle achievers' achievement",
             ("system tracking", "course tracking", "placement", "within-class grouping"),
             ("subgroup achievement",), ("middle",)),
    Question("mean", "More tracking and mean achievement", ("system tracking", "course tracking"),
             ("mean achievement",), ("all",)),
    Question("gap", "More tracking and achievement gaps", ("system tracking", "course tracking"), ("gap",), ("all",)),
    Question("dispersion", "More tracking and the dispersion of achievement", ("system tracking", "course tracking"),
             ("dispersion",), ("all",)),
    Question("gradient", "More tracking and family-background gradients", ("system tracking", "course tracking"),
             ("gradient",), ("all",)),
    # a synthesis that pooled dispersion and gradient measures (protocol, amendment 3): its own question, never
    # pooled with either
    Question("inequality_pooled", "More tracking and inequality measures pooled by a synthesis",
             ("system tracking", "course tracking"), ("inequality, pooled",), ("all",)),
    Question("detrack_gap", "Detracking reforms and gaps", _DETRACKING, ("gap",), ("all",), "detracking"),
    Question("detrack_mean", "Detracking reforms and mean achievement", _DETRACKING, ("mean achievement",), ("all",),
             "detracking"),
    Question("detrack_low", "Detracking reforms and low achievers", _DETRACKING, ("subgroup achievement",), ("low",),
             "detracking"),
    Question("detrack_middle", "Detracking reforms and middle achievers", _DETRACKING, ("subgroup achievement",),
             ("middle",), "detracking"),
    Question("detrack_high", "Detracking reforms and high achievers", _DETRACKING, ("subgroup achievement",),
             ("high",), "detracking"),
    Question("within", "Instruction targeted to level within classes", ("within-class grouping",),
             ("mean achievement",), ("all",)),
    Question("detrack_attainment", "Detracking reforms and course-taking (enrolment, passing)", ("detracking reform",),
             ("attainment",), ("all", "low", "named group"), "detracking", "proportion"),
    Question("detrack_attainment_high", "Detracking reforms and high achievers' course-taking", ("detracking reform",),
             ("attainment",), ("high",), "detracking", "proportion"),
    Question("detrack_practice", "Detracking reforms and teachers' differentiation (views or practice)",
             ("detracking reform",), ("views or practice",), ("all", "named group"), "detracking", "proportion"),
    Question("socio_emotional", "Tracking, detracking and socio-emotional outcomes",
             ("course tracking", "placement", "acceleration", "enrichment", "detracking reform", "system tracking"),
             ("socio-emotional",), ("all",)),  # all students: one band does not stand for everyone
)}

#: The protocol's question (data/evidence-protocol.md, section 1) each key answers.
PROTOCOL_QUESTION = {"high": "Q1", "low": "Q2", "middle": "Q3", "mean": "Q4", "gap": "Q5", "dispersion": "Q5", "inequality_pooled": "Q5",
                     "gradient": "Q5", "within": "Q7", "socio_emotional": "Q8",
                     **{k: "Q6" for k in ("detrack_gap", "detrack_mean", "detrack_low", "detrack_middle",
                                          "detrack_high", "detrack_attainment", "detrack_attainment_high",
                                          "detrack_practice")}}


def _orientation(frame: pd.DataFrame) -> np.ndarray:
    """+1 where a higher value of the row's outcome points the way its question reads, else -1."""
    inequality = frame["construct"].isin(evidence_module.INEQUALITY).to_numpy()
    better = (frame["higher_is_better"].astype(str) == "true").to_numpy()
    coded = frame["higher_is_better"].notna().to_numpy()
    return np.where(coded & (better == inequality), -1.0, 1.0)


def _derived(row) -> tuple[float, float, str]:
    d = derive(row.estimate, se=row.se, ci_low=row.ci_low, ci_high=row.ci_high, ci_level=row.ci_level, p=row.p,
               t_stat=row.t_stat, p_bound=row.p_bound, raw_inputs=row.raw_inputs,
               se_derived=row.se_derived if isinstance(row.se_derived, str) else None)
    return d.estimate, d.se, d.how


def with_effects(evidence: pd.DataFrame, unstated_level: float = UNSTATED_BOUND) -> pd.DataFrame:
    """``evidence`` with ``se_used``, ``se_how``, ``bound_only``, ``yi`` (effect of more tracking on
    the question's scale), ``vi``, ``smd`` and ``has_uncertainty``. A statement of significance
    without its level is read at ``unstated_level`` (the data record it at the loosest, 0.1)."""
    frame = evidence.copy()
    derived = [_derived(r) for r in frame.itertuples()]
    frame["estimate_used"] = [d[0] for d in derived]
    frame["se_raw"] = [d[1] for d in derived]
    frame["se_how"] = [d[2] for d in derived]
    unstated = frame["se_how"] == UNSTATED
    if unstated.any() and unstated_level != UNSTATED_BOUND:
        frame.loc[unstated, "se_raw"] = [se_from_significance(e, unstated_level)
                                         for e in frame.loc[unstated, "estimate_used"]]
    frame["bound_only"] = frame["se_how"].isin(("from significance", UNSTATED))
    # the level a significance statement speaks at: its printed bound, or the reading of an unprinted one
    frame["bound_level"] = frame["p_bound"].astype(float).where(frame["se_how"] == "from significance")
    frame.loc[unstated, "bound_level"] = unstated_level
    sign = frame["sign_more_tracking"].astype("Float64").astype(float).to_numpy() * _orientation(frame)
    frame["orientation_sign"] = sign
    scale = frame["unit"].map(SMD_SCALE).astype(float)  # NaN for units that are not SMDs
    frame["smd"] = scale.notna()
    frame["se_used"] = frame["se_raw"] * scale.fillna(1.0)
    frame["yi"] = frame["estimate_used"].astype(float) * sign * scale.fillna(1.0)
    frame["vi"] = frame["se_used"] ** 2
    frame["has_uncertainty"] = frame["se_used"].notna()
    return frame


def _designs_for(evidence_base: str, designs: tuple[str, ...]) -> tuple[str, ...]:
    if evidence_base not in EVIDENCE_BASES[1:]:
        raise ValueError(f"evidence_base must be one of {EVIDENCE_BASES}, got '{evidence_base}'")
    if evidence_base == "primary studies":
        return tuple(d for d in designs if d in PRIMARY_DESIGNS_ALL)
    return SYNTHESIS_DESIGNS


def eligible(frame: pd.DataFrame, question: Question, contrast: str | None = None, *,
             settings=("K-12",), designs=("RCT", "quasi-experimental"), evidence_base="primary studies",
             bounds_decide: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows that decide, rows that match the question but cannot decide, with the reason).

    Matching is on codes only: contrast (``contrast`` or any of the question's), construct,
    subgroup and setting. A matching row decides only if it is a primary estimate in the question's
    metric from the evidence base's designs and carries its uncertainty (a significance statement's
    bound only when ``bounds_decide``).
    """
    contrasts = (contrast,) if contrast else question.contrasts
    if contrast and contrast not in question.contrasts:
        raise ValueError(f"contrast '{contrast}' is not part of question '{question.key}'")
    match = (frame["contrast"].isin(contrasts) & frame["construct"].isin(question.constructs)
             & frame["subgroup"].isin(question.subgroups) & frame["setting"].isin(settings))
    rows = frame[match].copy()
    if question.metric != "SMD":  # re-express in the question's metric (proportions for attainment)
        scale = rows["unit"].map(METRICS[question.metric]).astype(float)
        rows["smd"] = scale.notna()  # "in the question's metric"
        rows["se_used"] = rows["se_raw"] * scale.fillna(1.0)
        rows["yi"] = rows["estimate_used"].astype(float) * rows["orientation_sign"] * scale.fillna(1.0)
        rows["vi"] = rows["se_used"] ** 2
    allowed = _designs_for(evidence_base, tuple(designs))
    role = rows["estimate_role"].to_numpy()
    design = rows["design"].to_numpy()
    unit = rows["unit"].to_numpy()
    reasons = np.select(
        [role != "primary", ~np.isin(design, allowed), ~rows["smd"].to_numpy(bool), ~rows["has_uncertainty"].to_numpy(bool),
         rows["bound_only"].to_numpy(bool) & (not bounds_decide)],
        [np.char.add(role.astype(str), ", not the primary estimate"),
         np.char.add(design.astype(str), f": outside the evidence base ({evidence_base})"),
         np.char.add(np.char.add("unit '", unit.astype(str)), f"' is not in the question's metric ({question.metric})"),
         np.full(len(rows), "no uncertainty published"),
         np.full(len(rows), "only a significance statement's bound (not allowed to decide in this specification)")],
        default="") if len(rows) else np.array([], dtype=str)
    rows["excluded_because"] = reasons
    deciding = rows[rows["excluded_because"] == ""].drop(columns="excluded_because")
    shown = rows[rows["excluded_because"] != ""]
    return deciding.reset_index(drop=True), shown.reset_index(drop=True)


@dataclass(frozen=True)
class Synthesis:
    """A question's pooled answer (numbers only), reported in the question's direction."""

    question: str
    contrast: str
    settings: tuple[str, ...]
    evidence_base: str
    status: str  # "pooled", "single study", "single synthesis", "too few studies", "no study"
    k: int
    n_studies: int
    estimate: float = float("nan")
    se: float = float("nan")
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    pi_low: float = float("nan")
    pi_high: float = float("nan")
    df: float = float("nan")
    sigma2_study: float = float("nan")
    sigma2_within: float = float("nan")
    i2: float = float("nan")
    inference: str = ""
    level: float = 0.95
    rows: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False, compare=False)
    shown: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False, compare=False)

    @property
    def decides(self) -> bool:
        """A pooled estimate, one synthesis' own pooled estimate, or one study allowed to decide alone."""
        return self.status in ("pooled", "single synthesis", "single study")

    @property
    def bound_only(self) -> bool:
        """True when every deciding row's SE is only the bound a significance statement allows (the interval is
        then the widest the statements permit, and touches zero at their level)."""
        return bool(len(self.rows)) and bool(self.rows["bound_only"].all())

    @property
    def bound_level(self) -> float:
        """The loosest level among the deciding rows' significance statements (NaN unless bound_only): the
        statements exclude zero at that level, and no stricter one."""
        if not self.bound_only or "bound_level" not in self.rows:
            return float("nan")
        return float(self.rows["bound_level"].max())

    @property
    def designs(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.rows["design"]))) if len(self.rows) else ()

    @property
    def risk_of_bias(self) -> tuple[str, ...]:
        """Coded risk of bias, one per study (the worst of its rows)."""
        if not len(self.rows):
            return ()
        order = {"low": 0, "some concerns": 1, "high": 2, "not assessed": 1}
        worst = self.rows.groupby("study_id")["risk_of_bias"].agg(lambda s: max(s, key=order.get))
        return tuple(worst)

    def se_needed(self, threshold: float) -> float:
        """The SE at which this estimate's interval would just exclude ``threshold``."""
        if not math.isfinite(self.estimate):
            return float("nan")
        return abs(self.estimate - threshold) / _z(self.level)


def _study_level_i2(vi: np.ndarray, sigma2_total: float) -> float:
    # I² of the three-level model against a typical within-study variance (Cheung 2014, eq. 13)
    w = 1 / vi
    k = len(vi)
    typical = (k - 1) * w.sum() / (w.sum() ** 2 - (w ** 2).sum()) if k > 1 else float(vi[0])
    return float(sigma2_total / (sigma2_total + typical))


def weigh(question: str, contrast: str, *, settings=("K-12",), designs=("RCT", "quasi-experimental"),
          evidence_base: str = "primary, else syntheses", inference: str = "CR2", level: float = 0.95,
          min_studies: int = 1, cr2_min_studies: int = 6, bounds_decide: bool = True,
          unstated_level: float = UNSTATED_BOUND, evidence: pd.DataFrame | None = None) -> Synthesis:
    """Pool the rows that answer ``question`` for ``contrast`` (see the module docstring).

    With the book's own evidence (``evidence=None``) results are cached: the multiverse asks the
    same question under many specifications that share their eligibility choices."""
    if inference not in INFERENCE:
        raise ValueError(f"inference must be one of {INFERENCE}, got '{inference}'")
    if min_studies < 1 or cr2_min_studies < 2:
        raise ValueError(f"min_studies must be at least 1 and cr2_min_studies at least 2, got {min_studies}, "
                         f"{cr2_min_studies}")
    options = dict(settings=tuple(settings), designs=tuple(designs), evidence_base=evidence_base, inference=inference,
                   level=level, min_studies=min_studies, cr2_min_studies=cr2_min_studies, bounds_decide=bounds_decide,
                   unstated_level=unstated_level)
    if evidence is None:
        return _weigh_book(question, contrast, **options)
    return _weigh(question, contrast, evidence=evidence, **options)


@cache
def _eligible_book(question, contrast, settings, designs, evidence_base, bounds_decide, unstated_level):
    return eligible(_book_effects(unstated_level), QUESTIONS[question], contrast, settings=settings, designs=designs,
                    evidence_base=evidence_base, bounds_decide=bounds_decide)


@cache
def _weigh_book(question, contrast, **options) -> Synthesis:
    return _weigh(question, contrast, evidence=None, **options)


def _weigh(question: str, contrast: str, *, settings, designs, evidence_base, inference, level, min_studies,
           cr2_min_studies, bounds_decide, unstated_level, evidence) -> Synthesis:
    options = dict(settings=settings, designs=designs, inference=inference, level=level, min_studies=min_studies,
                   cr2_min_studies=cr2_min_studies, bounds_decide=bounds_decide, unstated_level=unstated_level,
                   evidence=evidence)
    if evidence_base == "primary, else syntheses":
        primary = _weigh(question, contrast, evidence_base="primary studies", **options)
        if primary.decides:
            return primary
        syntheses = _weigh(question, contrast, evidence_base="syntheses", **options)
        return syntheses if syntheses.decides else primary
    q = QUESTIONS[question]
    if evidence is None:
        rows, shown = _eligible_book(question, contrast, tuple(settings), tuple(designs), evidence_base, bounds_decide,
                                     unstated_level)
    else:
        rows, shown = eligible(with_effects(evidence, unstated_level), q, contrast, settings=tuple(settings), designs=tuple(designs),
                               evidence_base=evidence_base, bounds_decide=bounds_decide)
    base = dict(question=question, contrast=contrast, settings=tuple(settings), evidence_base=evidence_base,
                k=len(rows), n_studies=int(rows["study_id"].nunique()) if len(rows) else 0, level=level,
                rows=rows, shown=shown)
    if len(rows) == 0:
        return Synthesis(status="no study", **base)
    if evidence_base == "syntheses" and base["n_studies"] > 1:
        return _most_precise_synthesis(q, rows, shown, base)
    yi = q.sign * rows["yi"].to_numpy(float)
    vi = rows["vi"].to_numpy(float)
    if evidence_base == "syntheses" and base["n_studies"] == 1:
        return _one_study(yi, vi, base, status="single synthesis")
    if base["n_studies"] == 1:
        return _one_study(yi, vi, base, status="single study" if min_studies <= 1 else "too few studies")
    if base["n_studies"] < min_studies:
        return _one_study_each(yi, vi, rows, base)
    return _pooled(yi, vi, rows, base, inference, level, cr2_min_studies)


def _most_precise_synthesis(q: Question, rows: pd.DataFrame, shown: pd.DataFrame, base: dict) -> Synthesis:
    """Syntheses of one question share their studies, so they are never pooled: the most precise one (the
    smallest mean SE of its rows) answers, and the others are shown with the reason."""
    se = rows.assign(se=np.sqrt(rows["vi"].to_numpy(float))).groupby("study_id", sort=False)["se"].mean()
    best = se.idxmin()
    keep, others = rows[rows["study_id"] == best], rows[rows["study_id"] != best]
    others = others.assign(excluded_because=f"an overlapping synthesis: {best} is more precise, and syntheses are "
                                            "never pooled (they share studies)")
    base = {**base, "rows": keep, "shown": pd.concat([shown, others], ignore_index=True), "k": len(keep),
            "n_studies": 1}
    s = _one_study(q.sign * keep["yi"].to_numpy(float), keep["vi"].to_numpy(float), base, status="single synthesis")
    return replace(s, inference=f"{s.inference}: the most precise of {len(se)} syntheses (never pooled: they share "
                                "studies)")


def _one_study(yi, vi, base, status: str) -> Synthesis:
    """One study (or one synthesis): the mean of its rows, with the mean of their SEs (rows of one sample,
    taken as perfectly correlated, so that counting a study's rows twice gains no precision)."""
    z = _z(base["level"])
    estimate = float(np.mean(yi))
    se = float(np.mean(np.sqrt(vi)))
    how = "the study's own estimate" if len(yi) == 1 else f"the mean of the study's {len(yi)} estimates"
    return Synthesis(status=status, estimate=estimate, se=se, ci_low=estimate - z * se, ci_high=estimate + z * se,
                     inference=how, **base)


def _one_study_each(yi, vi, rows, base) -> Synthesis:
    """Fewer studies than a pooled answer is allowed: the most precise study's own estimate, shown, not deciding."""
    per_study = pd.DataFrame({"study": rows["study_id"].to_numpy(), "yi": yi, "se": np.sqrt(vi)}).groupby("study").mean()
    best = per_study["se"].idxmin()
    z = _z(base["level"])
    estimate, se = float(per_study.loc[best, "yi"]), float(per_study.loc[best, "se"])
    return Synthesis(status="too few studies", estimate=estimate, se=se, ci_low=estimate - z * se,
                     ci_high=estimate + z * se, inference=f"the most precise study's own ({best})", **base)


@cache
def _fit(yi: tuple, vi: tuple, studies: tuple, level: float):
    """The three-level fit of one set of rows (cached: the multiverse asks for the same rows under many
    specifications that differ only in how the interval is built)."""
    from ..stats import pool_multilevel  # noqa: PLC0415  (the engine; imported where used)

    return pool_multilevel(np.array(yi), np.array(vi), np.array(studies, dtype=object), level=level)


@cache
def _robust(yi: tuple, vi: tuple, studies: tuple, level: float):
    from ..stats import robust  # noqa: PLC0415

    return robust(_fit(yi, vi, studies, level), np.array(studies, dtype=object), vcov="CR2", level=level)


@cache
def _knapp_hartung(yi: tuple, vi: tuple, level: float):
    from ..stats import pool  # noqa: PLC0415

    return pool(np.array(yi), np.array(vi), method="REML", knha=True, level=level)


def _pooled(yi, vi, rows, base, inference: str, level: float, cr2_min_studies: int) -> Synthesis:
    studies = rows["study_id"].to_numpy()
    key = (tuple(map(float, yi)), tuple(map(float, vi)), tuple(map(str, studies)))
    n = base["n_studies"]
    model = _fit(*key, level)
    estimate = float(model.coef[0])
    sigma2 = float(model.sigma2_study + model.sigma2_within)
    if inference == "CR2" and n >= cr2_min_studies:
        r = _robust(*key, level)
        se, lo, hi, df = float(r.se[0]), float(r.ci_low[0]), float(r.ci_high[0]), float(r.df[0])
        crit, used = float(stats.t.ppf(0.5 + level / 2, df)), f"CR2 (Satterthwaite df {df:.1f})"
    elif inference == "Knapp-Hartung" and len(set(studies)) == len(studies):
        kh = _knapp_hartung(key[0], key[1], level)
        estimate, se, lo, hi, df = kh.estimate, kh.se, kh.ci_low, kh.ci_high, float(kh.df)
        crit, used = float(stats.t.ppf(0.5 + level / 2, df)), f"Knapp-Hartung (t, {kh.df} df)"
        sigma2 = float(kh.tau2)
    elif inference == "Knapp-Hartung":
        df = float(n - 1)
        crit = float(stats.t.ppf(0.5 + level / 2, df))
        se = float(model.se[0])
        lo, hi = estimate - crit * se, estimate + crit * se
        used = f"t on studies - 1 = {n - 1} df (three-level model)"
    else:
        se, lo, hi, df = float(model.se[0]), float(model.ci_low[0]), float(model.ci_high[0]), float("inf")
        crit = _z(level)
        used = ("model-based (z)" if inference == "model" else
                f"model-based (z): {n} studies, fewer than the {cr2_min_studies} CR2 needs")
    half = crit * math.sqrt(se ** 2 + sigma2)
    return Synthesis(status="pooled", estimate=estimate, se=se, ci_low=lo, ci_high=hi, df=df,
                     pi_low=estimate - half, pi_high=estimate + half, sigma2_study=float(model.sigma2_study),
                     sigma2_within=float(model.sigma2_within), i2=_study_level_i2(vi, sigma2), inference=used,
                     **base)


def weigh_table(**options) -> pd.DataFrame:
    """Every question x contrast, at the given options: one row per cell with its pooled numbers, the
    inference used and its degrees of freedom."""
    out = []
    for q in QUESTIONS.values():
        for contrast in q.contrasts:
            s = weigh(q.key, contrast, **options)
            if s.k == 0 and len(s.shown) == 0:
                continue
            out.append({"question": q.key, "protocol question": PROTOCOL_QUESTION[q.key], "title": q.title,
                        "contrast": contrast, "reported as": q.report_as, "status": s.status, "studies": s.n_studies,
                        "estimates": s.k, "estimate": s.estimate, "ci_low": s.ci_low, "ci_high": s.ci_high,
                        "pi_low": s.pi_low, "pi_high": s.pi_high, "inference": s.inference, "df": s.df,
                        "sigma2_study": s.sigma2_study, "sigma2_within": s.sigma2_within,
                        "rows shown, not deciding": len(s.shown)})
    return pd.DataFrame(out)


def evidence_map(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows that compare tracking intensities, by contrast x construct: how many carry uncertainty."""
    frame = _book_effects() if frame is None else with_effects(frame)
    comparisons = frame[frame["contrast"] != evidence_module.NOT_TRACKING]
    table = comparisons.groupby(["contrast", "construct"]).agg(
        rows=("id", "size"), studies=("study_id", "nunique"),
        with_uncertainty=("has_uncertainty", "sum")).reset_index()
    return table


@cache
def _book_effects(unstated_level: float = UNSTATED_BOUND) -> pd.DataFrame:
    return with_effects(evidence_module.load_evidence(), unstated_level)


def book_evidence(unstated_level: float = UNSTATED_BOUND) -> pd.DataFrame:
    """The book's coded evidence with the effect columns of :func:`with_effects` (cached)."""
    return _book_effects(unstated_level).copy()
