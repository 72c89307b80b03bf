"""A transparent model of tracking intensity: how much of the school day to teach in tracks.

Claim B9 (Source B): "The optimal amount of tracking in a school reflects a compromise between
targeted, personalized instruction and the sharing of common resources". The model below makes
the premises of that sentence explicit. It is a model, not an estimate: its parameters are
calibrated to this book's own estimates where the book has them and varied over stated ranges
everywhere.

**Intensity.** :math:`s \\in [0, 1]` is the share of instruction taught in tracks (three tracks,
one per intake band); :math:`s = 0` is no tracking, :math:`s = 1` full streaming. Subjects are
tracked in order of how much targeting matters, so the marginal targeting gain falls with
:math:`s` at rate :math:`h \\in [0, 1]` (:math:`h = 0`: every subject gains alike).

**Gain of a student of band** :math:`b` (in SD of achievement), relative to no tracking:

.. math::

    G_b(s) = \\underbrace{\\alpha\\,(1 - \\rho_b)\\,(s - h s^2/2)}_{\\text{targeting}}
           + \\underbrace{\\gamma_b\\,\\Delta_b\\, s}_{\\text{peers}}
           - \\underbrace{\\kappa\\, e\\, s}_{\\text{sections}}

- targeting: :math:`\\rho_b` is the within-track variance of prior achievement of band
  :math:`b`'s track relative to the variance in the mixed class (computed from the Exam data,
  students of each school by their own band); :math:`\\alpha` is the gain of a class made
  perfectly homogeneous for the whole day;
- peers: :math:`\\Delta_b` is the change in the mean intake score of a band-:math:`b` student's
  classmates when the school's cohort is split into band tracks (computed from the Exam data) and
  :math:`\\gamma_b` the association of the exam score with the classmates' mean intake for band
  :math:`b` (the book's MixedLM estimates, :func:`tracking_evidence.analyses.peers.peer_models`);
- sections: :math:`e` is the proportional increase in the number of sections that three tracks
  need over one (:mod:`tracking_evidence.analyses.sections` arithmetic, averaged over grade sizes), and
  :math:`\\kappa` the achievement cost of doubling the number of sections with the same resources
  (the "sharing of common resources" of B9; no estimate in this book).

**Objective.** :math:`W(s) = \\sum_b p_b G_b(s) - \\varepsilon\\,[G_{top}(s) - G_{bottom}(s)]`:
the mean gain, minus an equity weight :math:`\\varepsilon \\ge 0` times the widening of the gap
between the top and bottom bands (a value judgement, varied, never estimated). Writing
:math:`W(s) = A (s - h s^2 / 2) - C s`, the optimum is

.. math::

    s^* = \\min\\bigl(1, \\max(0, (A - C) / (A h))\\bigr) \\quad (A > 0,\\ h > 0),

so no tracking is optimal iff :math:`C \\ge A`, full streaming iff :math:`C \\le A(1 - h)`, and a
compromise in between otherwise. With :math:`A \\le 0` or :math:`h = 0`, :math:`W` is convex
or linear and the optimum is a corner (0 or 1, whichever is larger).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from functools import cache

import numpy as np
import pandas as pd

from . import peers, sections

__all__ = [
    "params_at",
    "regimes_over_equity",
    "Params",
    "band_inputs",
    "section_increase",
    "calibration",
    "central_params",
    "coefficients",
    "welfare",
    "gains",
    "optimum",
    "optimum_grid",
    "regime",
    "margin",
    "full_margin",
    "tornado",
    "break_even",
    "regime_grid",
    "monte_carlo",
    "b9_numbers",
    "between_class_evidence",
    "alpha_for_full_streaming",
    "optimum_by_equity",
]

BANDS = peers.BANDS
QUARTILE_SHARES = (0.25, 0.5, 0.25)  # the alternative band shares of the tornado (bands cut in the cohort)


@dataclass(frozen=True)
class Params:
    """All parameters of the model (see the module docstring for their meaning and units)."""

    alpha: float  # SD gain of a perfectly homogeneous class, whole day
    h: float  # decline of the marginal targeting gain across subjects, in [0, 1]
    gamma_bottom: float  # peer slope, bottom band
    gamma_middle: float
    gamma_top: float
    kappa: float  # SD cost of doubling the number of sections with the same resources
    epsilon: float  # equity weight on the top-bottom gap, >= 0
    rho_bottom: float  # within-track / mixed variance, bottom band's track
    rho_middle: float
    rho_top: float
    delta_bottom: float  # change in classmates' mean intake when tracked
    delta_middle: float
    delta_top: float
    p_bottom: float  # band shares
    p_middle: float
    p_top: float
    e: float  # proportional increase in sections with three tracks

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not np.isfinite(value):
                raise ValueError(f"parameter {f.name} is not finite ({value})")
        if not 0 <= self.h <= 1:
            raise ValueError(f"h must lie in [0, 1], got {self.h}")
        for name in ("kappa", "epsilon", "e", "alpha"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative, got {getattr(self, name)}")
        for band in BANDS:
            rho = getattr(self, f"rho_{band}")
            if not 0 <= rho <= 1:
                raise ValueError(f"rho_{band} must lie in [0, 1] (a track is never wider than the mix), got {rho}")
        shares = [getattr(self, f"p_{b}") for b in BANDS]
        if min(shares) < 0 or not np.isclose(sum(shares), 1.0):
            raise ValueError(f"band shares must be non-negative and sum to 1, got {shares}")


# ----------------------------------------------------------------------------------------------
# Inputs computed from data
# ----------------------------------------------------------------------------------------------


def band_inputs() -> pd.DataFrame:
    """Per band: share ``p``, variance ratio ``rho`` and classmates' intake change ``delta``
    (:func:`tracking_evidence.analyses.peers.band_tracks`, computed from the Exam data)."""
    return peers.band_tracks()


def section_increase(shares: tuple[float, ...], cap: int = sections.DEFAULT_CAP,
                     grade_sizes: tuple[int, ...] = sections.DEFAULT_GRADE_SIZES) -> float:
    """Mean over grade sizes of (sections with the tracks of ``shares`` / sections untracked) - 1."""
    if not grade_sizes:
        raise ValueError("grade_sizes is empty")
    ratios = [sections.sections_needed(n, cap, shares) / sections.sections_needed(n, cap) - 1 for n in grade_sizes]
    return float(np.mean(ratios))


# ----------------------------------------------------------------------------------------------
# Calibration: each parameter's central value, range and where it comes from
# ----------------------------------------------------------------------------------------------


@cache
def calibration() -> pd.DataFrame:
    """Central value, low and high (low <= high) of every parameter, and its source (``book
    estimate``, ``published``, ``computed`` or ``assumption``).

    ``alpha`` (the targeting gain) is calibrated so that full streaming, with the other parameters
    central and epsilon 0, reproduces the weighed between-class (course tracking) effect on mean
    achievement (:func:`between_class_evidence`); its low and high ends reproduce the ends of that
    estimate's interval. Without such evidence the calibration raises ``ValueError``: alpha is not
    silently assumed. The peer slopes are one causal slope (:func:`tracking_evidence.analyses.peers.causal_peer_slope`),
    not the Exam between-school association.
    """
    inputs = band_inputs()
    shares = tuple(float(inputs.loc[b, "p"]) for b in BANDS)
    rows = []

    def add(name, central, a, b, source, note):
        low, high = sorted((float(a), float(b)))
        rows.append({"parameter": name, "central": float(central), "low": low, "high": high,
                     "source": source, "note": note})

    h_central = 0.5
    add("h", h_central, 0.0, 1.0, "assumption", "decline of the marginal targeting gain across subjects")
    # one peer slope for every band, from causal evidence: the Boston exam-school regression
    # discontinuity (peers' mean achievement jumps at the cutoff; achievement does not), about zero,
    # its range the 95% interval; the Exam between-school slope is an association, not an effect
    # (peers.extrapolation_check, peers.contextual_sensitivity), and is not the model's input
    causal = peers.causal_peer_slope()
    for band in BANDS:
        add(f"gamma_{band}", causal["gamma"], causal["ci_low"], causal["ci_high"], "published",
            f"causal peer-quality effect (SD per SD of peers' mean baseline), {causal['study']} ({causal['row']}); "
            "range: its 95% interval, which includes zero")
    add("kappa", 0.5, 0.0, 1.0, "assumption",
        "SD cost of doubling the sections with the same resources: no estimate here; wide range, midpoint")
    add("epsilon", 0.0, 0.0, 1.0, "assumption",
        "equity weight (a value choice): central 0 = mean achievement only, as B9 frames it; up to 1")
    for band in BANDS:
        rho = inputs.loc[band, "rho"]
        add(f"rho_{band}", rho, max(0.0, rho - 0.15), min(1.0, rho + 0.15), "computed",
            "Exam within-band / within-school variance; range +-0.15")
        delta = inputs.loc[band, "delta"]
        add(f"delta_{band}", delta, 0.5 * delta, 1.5 * delta, "computed",
            "Exam change in classmates' mean intake; range +-50%")
    for band, p in zip(BANDS, shares):
        add(f"p_{band}", p, p, p, "computed", "Exam band share (not varied)")
    e_central = section_increase(shares)
    add("e", e_central, section_increase(shares, cap=35), section_increase(shares, cap=25), "computed",
        "section arithmetic, grade sizes 60-600, class cap 30 (range: caps 25 and 35)")

    target = between_class_evidence()
    partial = Params(**{**{r["parameter"]: r["central"] for r in rows}, "alpha": 0.0, "epsilon": 0.0})
    alphas = [alpha_for_full_streaming(partial, v) for v in (target["estimate"], target["ci_low"], target["ci_high"])]
    add("alpha", alphas[0], alphas[1], alphas[2], "published",
        f"full streaming reproduces the pooled between-class (course tracking) effect on mean achievement, "
        f"{target['estimate']:.3f} SD ({target['studies']} studies, model-based {100 * target['level']:.0f}% CI "
        f"{target['ci_low']:.3f} to {target['ci_high']:.3f}); range: the interval's ends (alpha floored at 0)")
    order = ["alpha", "h", "gamma_bottom", "gamma_middle", "gamma_top", "kappa", "epsilon"]
    table = pd.DataFrame(rows).set_index("parameter")
    return table.loc[order + [n for n in table.index if n not in order]]


@cache
def between_class_evidence(level: float = 0.95) -> dict:
    """The weighed between-class (course tracking) effect on mean achievement that calibrates alpha:
    :func:`tracking_evidence.analyses.synthesis.weigh` with model-based inference (a calibration needs the
    estimate and a finite interval even from two studies; the verdicts' robust intervals are wider)."""
    from . import synthesis

    s = synthesis.weigh("mean", "course tracking", inference="model", level=level)
    if not s.decides:
        raise ValueError("no weighed between-class estimate to calibrate the model: data/evidence.csv needs course-"
                         "tracking rows on mean achievement with published uncertainty")
    return {"estimate": s.estimate, "ci_low": s.ci_low, "ci_high": s.ci_high, "studies": s.n_studies, "level": level,
            "rows": tuple(s.rows["id"])}


def alpha_for_full_streaming(p: Params, target: float) -> float:
    """The targeting gain alpha at which the mean gain of full streaming, :math:`W(1)` with epsilon 0,
    equals ``target`` (the other parameters as in ``p``); floored at 0."""
    mean_gap = float(sum(getattr(p, f"p_{b}") * (1 - getattr(p, f"rho_{b}")) for b in BANDS))
    _, c0 = coefficients(replace(p, alpha=0.0, epsilon=0.0))
    return max(0.0, (target + c0) / (mean_gap * (1 - p.h / 2)))


def optimum_by_equity(weights=None, p: Params | None = None) -> pd.DataFrame:
    """The optimal intensity :math:`s^*` and its regime as a function of the equity weight epsilon,
    at the central calibration and at alpha's low and high ends."""
    weights = np.linspace(0, 1, 41) if weights is None else np.asarray(weights, float)
    table = calibration()
    base = p or central_params()
    rows = []
    for label, alpha in (("central", base.alpha), ("alpha low", table.loc["alpha", "low"]),
                         ("alpha high", table.loc["alpha", "high"])):
        for eps in weights:
            s_star = optimum(replace(base, alpha=float(alpha), epsilon=float(eps)))
            rows.append({"calibration": label, "epsilon": float(eps), "s_star": s_star, "regime": regime(s_star)})
    return pd.DataFrame(rows)


def regimes_by_equity(calibration: str = "central") -> list[tuple[str, float, float]]:
    """The optimal regime over the equity weight at one calibration (``central``, ``alpha low``,
    ``alpha high``): ``(regime, first weight, last weight)`` runs, in order of the weight. A normative
    claim's headline states these conditions (the break-even weights) rather than one weight's verdict."""
    table = optimum_by_equity()
    rows = table[table["calibration"] == calibration].sort_values("epsilon")
    runs: list[tuple[str, float, float]] = []
    for regime_, eps in zip(rows["regime"], rows["epsilon"]):
        if runs and runs[-1][0] == regime_:
            runs[-1] = (regime_, runs[-1][1], float(eps))
        else:
            runs.append((regime_, float(eps), float(eps)))
    return runs


_END = {"estimate": "central", "ci_low": "low", "ci_high": "high"}


def params_at(calibration_end: str = "estimate", peer_end: str = "estimate", section_cost: float | None = None,
              epsilon: float | None = None, h: float | None = None) -> Params:
    """The model's parameters with the peer slope of every band at one end of the causal estimate's interval
    (``peer_end``: ``ci_low``, ``estimate`` or ``ci_high``) and the targeting gain recalibrated, for that peer
    slope, to reproduce the between-class evidence at ``calibration_end`` (so that a larger peer effect is
    not silently added on top of an effect the evidence already contains). ``h``, the fall-off of the marginal
    targeting gain across subjects (an assumption), is set before the recalibration, which depends on it."""
    if h is not None and not 0.0 <= h <= 1.0:
        raise ValueError(f"h must lie in [0, 1], got {h}")
    for name, value in (("calibration_end", calibration_end), ("peer_end", peer_end)):
        if value not in _END:
            raise ValueError(f"{name} must be one of {sorted(_END)}, got '{value}'")
    table = calibration()
    base = central_params()
    gammas = {f"gamma_{b}": float(table.loc[f"gamma_{b}", _END[peer_end]]) for b in BANDS}
    p = replace(base, **gammas, epsilon=0.0, alpha=0.0)
    if section_cost is not None:
        p = replace(p, kappa=float(section_cost))
    if h is not None:
        p = replace(p, h=float(h))
    target = between_class_evidence()[{"estimate": "estimate", "ci_low": "ci_low", "ci_high": "ci_high"}[calibration_end]]
    p = replace(p, alpha=alpha_for_full_streaming(p, float(target)))
    return replace(p, epsilon=float(epsilon)) if epsilon is not None else p


def regimes_over_equity(p: Params, weights=None) -> list[tuple[str, float, float]]:
    """The optimal regime over the equity weight for the parameters ``p``: ``(regime, first, last)`` runs."""
    weights = np.linspace(0, 1, 41) if weights is None else np.asarray(weights, float)
    runs: list[tuple[str, float, float]] = []
    for eps in weights:
        r = regime(optimum(replace(p, epsilon=float(eps))))
        if runs and runs[-1][0] == r:
            runs[-1] = (r, runs[-1][1], float(eps))
        else:
            runs.append((r, float(eps), float(eps)))
    return runs


def describe_regimes(runs) -> str:
    """'full streaming at every equity weight from 0 to 1', 'a compromise for weights 0 to 0.28, full
    streaming from 0.3' and the like."""
    name = {"none": "no tracking", "full": "full streaming", "compromise": "a compromise"}
    if len(runs) == 1:
        return f"{name[runs[0][0]]} at every equity weight from {runs[0][1]:g} to {runs[0][2]:g}"
    return ", ".join(f"{name[r]} for weights {a:g} to {b:g}" for r, a, b in runs)


def central_params() -> Params:
    return Params(**calibration()["central"].to_dict())


def varied_parameters() -> list[str]:
    table = calibration()
    return [name for name in table.index if table.loc[name, "low"] != table.loc[name, "high"]]


# ----------------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------------


def _check_s(s) -> np.ndarray:
    arr = np.asarray(s, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise ValueError("tracking intensity s must lie in [0, 1]")
    return arr


def gains(p: Params, s) -> dict[str, np.ndarray]:
    """:math:`G_b(s)` for each band, and its three parts (targeting, peers, sections)."""
    s = _check_s(s)
    out = {}
    for band in BANDS:
        targeting = p.alpha * (1 - getattr(p, f"rho_{band}")) * (s - p.h * s**2 / 2)
        peer = getattr(p, f"gamma_{band}") * getattr(p, f"delta_{band}") * s
        cost = p.kappa * p.e * s
        out[band] = targeting + peer - cost
        out[f"{band}_targeting"], out[f"{band}_peers"], out[f"{band}_sections"] = targeting, peer, -cost
    return out


def welfare(p: Params, s) -> np.ndarray:
    """:math:`W(s)`: share-weighted mean gain minus ``epsilon`` times the top-bottom gap in gains."""
    g = gains(p, s)
    mean = sum(getattr(p, f"p_{b}") * g[b] for b in BANDS)
    return mean - p.epsilon * (g["top"] - g["bottom"])


def coefficients(p: Params) -> tuple[float, float]:
    """``(A, C)`` with :math:`W(s) = A (s - h s^2/2) - C s`."""
    target = {b: p.alpha * (1 - getattr(p, f"rho_{b}")) for b in BANDS}
    peer = {b: getattr(p, f"gamma_{b}") * getattr(p, f"delta_{b}") for b in BANDS}
    a = sum(getattr(p, f"p_{b}") * target[b] for b in BANDS) - p.epsilon * (target["top"] - target["bottom"])
    benefit = sum(getattr(p, f"p_{b}") * peer[b] for b in BANDS) - p.epsilon * (peer["top"] - peer["bottom"])
    c = p.kappa * p.e - benefit
    return float(a), float(c)


def optimum(p: Params) -> float:
    """The intensity :math:`s^*` that maximises :math:`W` (closed form; see the module docstring)."""
    a, c = coefficients(p)
    if a > 0 and p.h > 0:
        return float(min(1.0, max(0.0, (a - c) / (a * p.h))))
    w1 = a * (1 - p.h / 2) - c  # W(1); W(0) = 0
    return 1.0 if w1 > 0 else 0.0


def optimum_grid(p: Params, points: int = 2001) -> float:
    """The maximiser of :math:`W` on an even grid of ``points`` values of ``s`` (an independent check)."""
    if points < 2:
        raise ValueError("points must be at least 2")
    grid = np.linspace(0, 1, points)
    return float(grid[int(np.argmax(welfare(p, grid)))])


def regime(s_star: float, tol: float = 1e-9) -> str:
    """``none`` (s* = 0), ``full`` (s* = 1) or ``compromise``."""
    if s_star <= tol:
        return "none"
    if s_star >= 1 - tol:
        return "full"
    return "compromise"


# ----------------------------------------------------------------------------------------------
# Sensitivity
# ----------------------------------------------------------------------------------------------


def margin(p: Params) -> float:
    """:math:`A - C`: the net value of the first tracked subject. No tracking is optimal iff it is <= 0
    (for :math:`A > 0`)."""
    a, c = coefficients(p)
    return a - c


def full_margin(p: Params) -> float:
    """:math:`A(1-h) - C`: the net value of the *last* tracked subject. Full streaming is optimal iff
    it is >= 0 (for :math:`A > 0`)."""
    a, c = coefficients(p)
    return a * (1 - p.h) - c


def tornado() -> pd.DataFrame:
    """Each varied parameter at its low and at its high value, the others central: :math:`s^*`, the
    margin :math:`A - C` (no tracking iff <= 0) and the full-streaming margin :math:`A(1-h) - C`
    (full streaming iff >= 0). The margins are continuous, so they show how close each change
    brings the optimum to a regime boundary even when :math:`s^*` stays at a corner. The band
    shares, which must sum to 1, move together: the row ``band shares`` compares the Exam shares
    ("low" end) with bands cut at the cohort's quartiles, 25/50/25 ("high" end)."""
    table = calibration()
    base = central_params()
    s0, m0 = optimum(base), margin(base)
    rows = []
    for name in varied_parameters():
        at_low = replace(base, **{name: table.loc[name, "low"]})
        at_high = replace(base, **{name: table.loc[name, "high"]})
        rows.append({"parameter": name, "low_value": table.loc[name, "low"], "high_value": table.loc[name, "high"],
                     "s_at_low": optimum(at_low), "s_at_high": optimum(at_high), "s_central": s0,
                     "margin_at_low": margin(at_low), "margin_at_high": margin(at_high), "margin_central": m0,
                     "full_at_low": full_margin(at_low), "full_at_high": full_margin(at_high),
                     "full_central": full_margin(base),
                     "swing": abs(margin(at_high) - margin(at_low))})
    # the band shares move together (they sum to 1): Exam shares versus quartile bands 25/50/25
    quartiles = replace(base, **dict(zip((f"p_{b}" for b in BANDS), QUARTILE_SHARES)))
    rows.append({"parameter": "band shares", "low_value": float("nan"), "high_value": float("nan"),
                 "s_at_low": s0, "s_at_high": optimum(quartiles), "s_central": s0,
                 "margin_at_low": m0, "margin_at_high": margin(quartiles), "margin_central": m0,
                 "full_at_low": full_margin(base), "full_at_high": full_margin(quartiles),
                 "full_central": full_margin(base), "swing": abs(margin(quartiles) - m0)})
    return pd.DataFrame(rows).sort_values("swing", ascending=False).reset_index(drop=True)


def break_even(name: str, p: Params | None = None) -> float | None:
    """The value of parameter ``name`` at which :math:`A = C` (no tracking becomes optimal), the
    others as in ``p`` (default central). :math:`A - C` is linear in ``alpha``, ``kappa``,
    ``epsilon``, ``e`` and each ``gamma``/``delta``, so two evaluations solve it exactly. ``None``
    if ``A - C`` does not depend on the parameter."""
    p = p or central_params()
    if name not in {f.name for f in fields(Params)} or name.startswith(("p_", "rho_", "h")):
        raise ValueError(f"break_even is defined for the parameters A - C is linear in, not '{name}'")
    at0 = margin(_replace_unchecked(p, name, 0.0))
    at1 = margin(_replace_unchecked(p, name, 1.0))
    slope = at1 - at0
    if abs(slope) < 1e-15:
        return None
    return float(-at0 / slope)


def _replace_unchecked(p: Params, name: str, value: float) -> Params:
    values = asdict(p)
    values[name] = value
    obj = object.__new__(Params)
    for key, val in values.items():
        object.__setattr__(obj, key, val)
    return obj


def regime_grid(x: str = "alpha", y: str = "kappa", n: int = 41, **fixed) -> pd.DataFrame:
    """:math:`s^*` on an ``n`` x ``n`` grid of parameters ``x`` and ``y`` over their ranges (others central)."""
    table = calibration()
    for name in (x, y):
        if name not in table.index:
            raise ValueError(f"unknown parameter '{name}'")
    base = replace(central_params(), **fixed)
    xs = np.linspace(table.loc[x, "low"], table.loc[x, "high"], n)
    ys = np.linspace(table.loc[y, "low"], table.loc[y, "high"], n)
    rows = [{x: xv, y: yv, "s_star": optimum(replace(base, **{x: xv, y: yv}))} for yv in ys for xv in xs]
    return pd.DataFrame(rows)


def monte_carlo(draws: int = 5000, seed: int = 20261123) -> pd.DataFrame:
    """Simulated parameter draws (seeded): every varied parameter uniform over its range.

    Returns one row per draw with the drawn values, ``s_star`` and ``regime``. Simulated: the
    draws describe the assumed ranges, not the distribution of real schools.
    """
    if draws < 1:
        raise ValueError("draws must be at least 1")
    table = calibration()
    names = varied_parameters()
    rng = np.random.default_rng(seed)
    values = {name: rng.uniform(table.loc[name, "low"], table.loc[name, "high"], draws) for name in names}
    base = asdict(central_params())
    out = []
    for i in range(draws):
        params = Params(**{**base, **{name: values[name][i] for name in names}})
        out.append(optimum(params))
    frame = pd.DataFrame(values)
    frame["s_star"] = out
    frame["regime"] = [regime(v) for v in out]
    return frame


# ----------------------------------------------------------------------------------------------
# B9
# ----------------------------------------------------------------------------------------------


@cache
def b9_numbers() -> dict:
    """The numbers behind B9: central optimum, its coefficients, the break-even values of the equity
    weight and of the section cost at which no tracking becomes optimal, the model's full-streaming
    mean effect (which the calibration sets to the weighed between-class evidence)."""
    p = central_params()
    a, c = coefficients(p)
    mean_only = replace(p, epsilon=0.0)
    return {
        "s_central": optimum(p), "regime_central": regime(optimum(p)), "A": a, "C": c, "h": p.h,
        "margin": a - c, "epsilon_break_even": break_even("epsilon"), "kappa_break_even": break_even("kappa"),
        "alpha_break_even": break_even("alpha"),
        "full_streaming_mean_effect": float(welfare(mean_only, 1.0)),
        "alpha_source": calibration().loc["alpha", "source"],
    }
