"""A seeded, **simulated** model of claim B10: removing public acceleration when private
supplementation rises with family SES.

Everything this module produces is simulated; the only inputs taken from data are the
correlation between family SES and achievement (High School and Beyond, computed by
:func:`ses_achievement_correlation`) and, where ``data/evidence.csv`` holds them, the effect sizes
of acceleration in standard-deviation units (:func:`acceleration_effects`). Every other quantity
is an assumption, stated in :class:`Assumptions` and varied in the chapter.

The model
---------
For each simulated student :math:`i`:

.. math::

    \\text{SES}_i \\sim N(0, 1), \\qquad
    A_i = \\rho\\,\\text{SES}_i + \\sqrt{1-\\rho^2}\\,e_i, \\qquad e_i \\sim N(0, 1)

(prior achievement :math:`A_i`). The students whose :math:`A_i` lies in the top ``eligible_share``
are *eligible* for acceleration. Readiness for an advanced course later is

.. math::

    R_i = A_i + \\delta\\,T_i + u_i, \\qquad u_i \\sim N(0, \\sigma_u^2),

where :math:`T_i = 1` if the student is accelerated and :math:`\\delta` is the effect of
acceleration (SD). A student *reaches the advanced course* when :math:`R_i \\ge b`, with the bar
:math:`b` fixed so that ``advanced_share`` of students reach it when acceleration is public.

- **Public acceleration**: every eligible student is accelerated (:math:`T_i = 1`).
- **Public acceleration removed**: an eligible student is accelerated only through a private
  substitute, taken up with probability :math:`p(\\text{SES}) = \\Phi(\\kappa + \\gamma\\,
  \\text{SES})`, whose effect is ``private_ratio`` :math:`\\times\\,\\delta`. :math:`\\gamma`
  is the *private-supplement gradient*: :math:`\\gamma = 0` means take-up does not depend on
  family resources; :math:`\\kappa = \\Phi^{-1}(` ``baseline_takeup`` :math:`)` is the take-up at
  mean SES.

Private supplementation by students who are not eligible is left out: it is the same with or
without the public programme, which is what the comparison holds fixed.

The outcome is the **SES gap in reaching the advanced course**: the share of top-quartile-SES
students who reach it minus the share of bottom-quartile students (percentage points), and its
change when public acceleration is removed (positive = the gap widens, as B10 says). Both
scenarios use the same simulated students and the same draws (common random numbers), so the
change is not blurred by sampling noise; the Monte Carlo standard error comes from
``replications`` independent seeded replications (seeds from ``numpy.random.SeedSequence``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import cache

import numpy as np
import pandas as pd
from scipy import stats


__all__ = [
    "SEED",
    "Assumptions",
    "ScenarioResult",
    "simulate",
    "ses_achievement_correlation",
    "acceleration_effects",
    "ASSUMED_EFFECTS",
    "DEFAULT_GRADIENTS",
    "sensitivity",
    "break_even_gradient",
    "takeup_by_quartile",
    "b10_numbers",
]

SEED = 20261123
ASSUMED_EFFECTS = (0.1, 0.3, 0.5)  # assumption, used only when the evidence table has no SD effects
DEFAULT_GRADIENTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)  # assumption: range of the private gradient


@dataclass(frozen=True)
class Assumptions:
    """The simulation's assumptions (all but ``rho`` and ``effect`` are set here, not estimated)."""

    rho: float  # SES-achievement correlation: the chapter and the verdict use HSB's
    effect: float = 0.3  # delta, SD
    gradient: float = 0.5  # gamma
    baseline_takeup: float = 0.5  # take-up of the private substitute at mean SES
    private_ratio: float = 1.0  # private effect / public effect
    eligible_share: float = 0.2
    advanced_share: float = 0.3
    noise_sd: float = 1.0
    n: int = 20_000
    replications: int = 10

    def __post_init__(self) -> None:
        checks = [
            (-1 < self.rho < 1, "rho must lie strictly between -1 and 1"),
            (math.isfinite(self.effect) and self.effect >= 0, "effect must be a finite non-negative number (SD)"),
            (math.isfinite(self.gradient), "gradient must be finite"),
            (0 < self.baseline_takeup < 1, "baseline_takeup must lie strictly between 0 and 1"),
            (math.isfinite(self.private_ratio) and self.private_ratio >= 0, "private_ratio must be >= 0"),
            (0 < self.eligible_share < 1, "eligible_share must lie strictly between 0 and 1"),
            (0 < self.advanced_share < 1, "advanced_share must lie strictly between 0 and 1"),
            (math.isfinite(self.noise_sd) and self.noise_sd >= 0, "noise_sd must be >= 0"),
            (isinstance(self.n, int) and self.n >= 100, "n must be an integer of at least 100"),
            (isinstance(self.replications, int) and self.replications >= 2, "replications must be an integer >= 2"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"{message} (got {asdict(self)})")


@dataclass(frozen=True)
class ScenarioResult:
    """Mean over replications (and Monte Carlo SE) of the simulated SES gaps, in percentage points."""

    assumptions: Assumptions
    gap_public: float
    gap_removed: float
    change: float  # gap_removed - gap_public; > 0 means the gap widens
    change_se: float
    reach_public: float  # share of all students reaching the advanced course, %
    reach_removed: float
    top_public: float
    top_removed: float
    bottom_public: float
    bottom_removed: float


def _one(a: Assumptions, rng: np.random.Generator) -> tuple[float, ...]:
    n = a.n
    ses = rng.standard_normal(n)
    prior = a.rho * ses + math.sqrt(1 - a.rho**2) * rng.standard_normal(n)
    noise = a.noise_sd * rng.standard_normal(n)
    u = rng.random(n)
    eligible = prior >= np.quantile(prior, 1 - a.eligible_share)
    ready_public = prior + a.effect * eligible + noise
    bar = np.quantile(ready_public, 1 - a.advanced_share)
    takeup = stats.norm.cdf(stats.norm.ppf(a.baseline_takeup) + a.gradient * ses)
    private = eligible & (u < takeup)
    ready_removed = prior + a.effect * a.private_ratio * private + noise
    top = ses >= np.quantile(ses, 0.75)
    bottom = ses <= np.quantile(ses, 0.25)
    reach_pub, reach_rem = ready_public >= bar, ready_removed >= bar
    return (
        100 * reach_pub[top].mean(),
        100 * reach_pub[bottom].mean(),
        100 * reach_rem[top].mean(),
        100 * reach_rem[bottom].mean(),
        100 * reach_pub.mean(),
        100 * reach_rem.mean(),
    )


def simulate(assumptions: Assumptions, seed: int = SEED) -> ScenarioResult:
    """Run ``assumptions.replications`` seeded replications of both scenarios (simulated data)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    children = np.random.SeedSequence(int(seed)).spawn(assumptions.replications)
    draws = np.array([_one(assumptions, np.random.default_rng(child)) for child in children])
    top_pub, bot_pub, top_rem, bot_rem, reach_pub, reach_rem = draws.T
    change = (top_rem - bot_rem) - (top_pub - bot_pub)
    return ScenarioResult(
        assumptions=assumptions,
        gap_public=float((top_pub - bot_pub).mean()),
        gap_removed=float((top_rem - bot_rem).mean()),
        change=float(change.mean()),
        change_se=float(change.std(ddof=1) / math.sqrt(len(change))),
        reach_public=float(reach_pub.mean()),
        reach_removed=float(reach_rem.mean()),
        top_public=float(top_pub.mean()),
        top_removed=float(top_rem.mean()),
        bottom_public=float(bot_pub.mean()),
        bottom_removed=float(bot_rem.mean()),
    )


def takeup_by_quartile(gradient: float, baseline_takeup: float) -> tuple[float, float]:
    """Mean take-up of the private substitute in the bottom and top SES quartiles of a standard
    normal SES, :math:`E[\\Phi(\\kappa + \\gamma Z) \\mid Z \\le q_{.25}]` and
    :math:`E[\\Phi(\\kappa + \\gamma Z) \\mid Z \\ge q_{.75}]`, by numerical integration: it turns
    the gradient into two shares a reader can picture."""
    from scipy import integrate

    if not math.isfinite(gradient):
        raise ValueError(f"gradient must be finite, got {gradient}")
    if not 0 < baseline_takeup < 1:
        raise ValueError(f"baseline_takeup must lie strictly between 0 and 1, got {baseline_takeup}")
    kappa = stats.norm.ppf(baseline_takeup)
    q = stats.norm.ppf(0.75)

    def f(z: float) -> float:
        return stats.norm.cdf(kappa + gradient * z) * stats.norm.pdf(z)

    top = integrate.quad(f, q, np.inf)[0] / 0.25
    bottom = integrate.quad(f, -np.inf, -q)[0] / 0.25
    return float(bottom), float(top)


@cache
def ses_achievement_correlation() -> float:
    """Pearson correlation of student SES and mathematics achievement in High School and Beyond."""
    from ..data import load_hsb_students

    students = load_hsb_students()
    return float(np.corrcoef(students["ses"], students["mathach"])[0, 1])


def acceleration_effects(evidence: pd.DataFrame) -> pd.DataFrame:
    """The coded rows of an evidence table whose contrast is ``acceleration`` (enrichment is another intervention, amendment 2), with a
    column ``use`` saying whether the row enters the simulation as an effect of acceleration and
    ``reason`` saying why not. A row enters when it is a primary estimate, its unit is a
    standardised mean difference (:data:`tracking_evidence.analyses.synthesis.SMD_UNITS`) and its construct
    is achievement (mean or subgroup). All codes are people's (data/evidence-protocol.md); a
    comparison with older peers is coded as not a tracking-intensity comparison and so never
    appears here. Nothing is dropped: every acceleration row is returned with its reason.
    """
    from .synthesis import SMD_SCALE

    required = {"id", "study", "contrast", "construct", "estimate_role", "design", "unit", "estimate", "subgroup"}
    missing = required - set(evidence.columns)
    if missing:
        raise ValueError(f"evidence table lacks column(s) {sorted(missing)}")
    rows = evidence[evidence["contrast"] == "acceleration"].copy()
    smd = rows["unit"].isin(tuple(SMD_SCALE)).astype(bool)
    finite = pd.Series(np.isfinite(pd.to_numeric(rows["estimate"], errors="coerce")), index=rows.index)
    achievement = rows["construct"].isin(["mean achievement", "subgroup achievement"]).astype(bool)
    primary = (rows["estimate_role"] == "primary").astype(bool)
    rows["use"] = smd & finite & achievement & primary
    rows["reason"] = np.select(
        [~primary, ~smd, ~finite, ~achievement],
        ["not the primary estimate", "unit is not a standardised mean difference", "estimate is not a finite number",
         "construct is not achievement"],
        default="used",
    )
    return rows[["id", "study", "design", "construct", "subgroup", "unit", "estimate", "use",
                 "reason"]].reset_index(drop=True)


def effects_for_simulation(evidence: pd.DataFrame | None) -> tuple[tuple[float, ...], str]:
    """The effect sizes to vary: the distinct usable SD effects of the evidence table when there
    are any (``"evidence"``), otherwise :data:`ASSUMED_EFFECTS` (``"assumed"``). Negative effects
    are kept out of the simulation's grid (acceleration that lowers readiness would make removal
    help everyone) and reported by :func:`acceleration_effects` all the same."""
    if evidence is not None:
        usable = acceleration_effects(evidence)
        values = sorted({round(float(v), 6) for v in usable.loc[usable["use"], "estimate"] if float(v) >= 0})
        if values:
            return tuple(values), "evidence"
    return ASSUMED_EFFECTS, "assumed"


def sensitivity(
    base: Assumptions,
    effects: Iterable[float],
    gradients: Iterable[float] = DEFAULT_GRADIENTS,
    seed: int = SEED,
) -> pd.DataFrame:
    """Simulate every (effect, gradient) pair; one row each: ``effect``, ``gradient``, the gaps,
    ``change`` and ``change_se`` (percentage points, simulated data)."""
    effects, gradients = list(effects), list(gradients)
    if not effects or not gradients:
        raise ValueError("give at least one effect and one gradient")
    rows = []
    for effect in effects:
        for gradient in gradients:
            r = simulate(replace(base, effect=float(effect), gradient=float(gradient)), seed)
            rows.append(
                {
                    "effect": float(effect),
                    "gradient": float(gradient),
                    "gap_public": r.gap_public,
                    "gap_removed": r.gap_removed,
                    "change": r.change,
                    "change_se": r.change_se,
                    "reach_public": r.reach_public,
                    "reach_removed": r.reach_removed,
                }
            )
    return pd.DataFrame(rows)


def break_even_gradient(table: pd.DataFrame, effect: float) -> float:
    """The private gradient at which removing public acceleration stops narrowing the gap and
    starts widening it, by linear interpolation between the simulated gradients; ``nan`` if the
    change does not cross zero over the range simulated (then the sign holds across the range)."""
    rows = table[np.isclose(table["effect"], effect)].sort_values("gradient")
    if rows.empty:
        raise ValueError(f"no simulated rows for effect {effect}")
    g, c = rows["gradient"].to_numpy(), rows["change"].to_numpy()
    for j in range(len(g) - 1):
        if c[j] == 0:
            return float(g[j])
        if (c[j] < 0) != (c[j + 1] < 0):
            return float(g[j] + (g[j + 1] - g[j]) * (0 - c[j]) / (c[j + 1] - c[j]))
    return float(g[-1]) if c[-1] == 0 else float("nan")


@dataclass(frozen=True)
class B10Numbers:
    rho: float
    effects: tuple[float, ...]
    effects_source: str
    table: pd.DataFrame
    break_even: dict[float, float]
    widens_everywhere: bool
    narrows_everywhere: bool
    share_widening: float


def b10_numbers(
    evidence: pd.DataFrame | None,
    base: Assumptions | None = None,
    gradients: Sequence[float] = DEFAULT_GRADIENTS,
    seed: int = SEED,
) -> B10Numbers:
    """The sensitivity grid behind the B10 verdict (simulated data)."""
    rho = ses_achievement_correlation() if base is None else base.rho
    base = base or Assumptions(rho=rho)
    effects, source = effects_for_simulation(evidence)
    table = sensitivity(base, effects, gradients, seed)
    # A change within 2 Monte Carlo SE of zero counts as neither widening nor narrowing.
    widen = table["change"] > 2 * table["change_se"]
    narrow = table["change"] < -2 * table["change_se"]
    return B10Numbers(
        rho=rho,
        effects=effects,
        effects_source=source,
        table=table,
        break_even={e: break_even_gradient(table, e) for e in effects},
        widens_everywhere=bool(widen.all()),
        narrows_everywhere=bool(narrow.all()),
        share_widening=float(widen.mean()),
    )
