"""Tests of tracking_evidence.analyses.models: the tracking-intensity model, its calibration and B9."""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import numpy as np
import pytest

from tracking_evidence.analyses import models


def _params(**changes) -> models.Params:
    base = dict(alpha=0.5, h=0.5, gamma_bottom=0.2, gamma_middle=0.3, gamma_top=0.4, kappa=0.5, epsilon=0.0,
                rho_bottom=0.5, rho_middle=0.5, rho_top=0.5, delta_bottom=-1.0, delta_middle=-0.1,
                delta_top=0.8, p_bottom=0.25, p_middle=0.5, p_top=0.25, e=0.1)
    base.update(changes)
    return models.Params(**base)


def _random_params(rng) -> models.Params:
    shares = rng.dirichlet([2, 4, 2])
    return models.Params(
        alpha=rng.uniform(0, 1), h=rng.uniform(0, 1), gamma_bottom=rng.uniform(-0.5, 0.8),
        gamma_middle=rng.uniform(-0.5, 0.8), gamma_top=rng.uniform(-0.5, 0.8), kappa=rng.uniform(0, 2),
        epsilon=rng.uniform(0, 1.5), rho_bottom=rng.uniform(0, 1), rho_middle=rng.uniform(0, 1),
        rho_top=rng.uniform(0, 1), delta_bottom=rng.uniform(-2, 0), delta_middle=rng.uniform(-0.5, 0.5),
        delta_top=rng.uniform(0, 2), p_bottom=shares[0], p_middle=shares[1], p_top=1 - shares[0] - shares[1],
        e=rng.uniform(0, 0.3),
    )


# ------------------------------------------------------------------ the model's algebra


def test_closed_form_optimum_matches_a_grid_search():
    rng = np.random.default_rng(1)
    points = 4001
    for _ in range(300):
        p = _random_params(rng)
        closed, grid = models.optimum(p), models.optimum_grid(p, points)
        # the welfare at the closed form is never below the grid's best (up to float noise)
        assert models.welfare(p, closed) >= models.welfare(p, grid) - 1e-12
        if not math.isclose(models.welfare(p, 0.0), models.welfare(p, 1.0), abs_tol=1e-9):
            assert abs(closed - grid) <= 1.0 / (points - 1) + 1e-12 or \
                models.welfare(p, closed) == pytest.approx(models.welfare(p, grid), abs=1e-9)


def test_coefficients_reproduce_the_band_by_band_welfare():
    rng = np.random.default_rng(2)
    s = np.linspace(0, 1, 11)
    for _ in range(50):
        p = _random_params(rng)
        a, c = models.coefficients(p)
        assert np.allclose(models.welfare(p, s), a * (s - p.h * s**2 / 2) - c * s, atol=1e-12)


def test_welfare_is_zero_without_tracking_and_parts_add_up():
    p = _params()
    assert models.welfare(p, 0.0) == 0.0
    g = models.gains(p, np.array([0.3, 1.0]))
    for band in models.BANDS:
        assert np.allclose(g[band], g[f"{band}_targeting"] + g[f"{band}_peers"] + g[f"{band}_sections"])


def test_regime_conditions():
    # no peer terms: C = kappa * e, A = alpha * 0.5
    flat = dict(gamma_bottom=0.0, gamma_middle=0.0, gamma_top=0.0)
    none = _params(alpha=0.2, kappa=1.5, e=0.1, **flat)  # A = 0.1, C = 0.15 >= A
    assert models.optimum(none) == 0.0 and models.regime(models.optimum(none)) == "none"
    full = _params(alpha=0.2, kappa=0.2, e=0.1, **flat)  # A = 0.1, C = 0.02 <= A(1 - h) = 0.05
    assert models.optimum(full) == 1.0 and models.regime(1.0) == "full"
    middle = _params(alpha=0.2, kappa=0.8, e=0.1, **flat)  # A = 0.1, C = 0.08: s* = (0.1-0.08)/(0.1*0.5) = 0.4
    assert models.optimum(middle) == pytest.approx(0.4)
    assert models.regime(0.4) == "compromise"


def test_linear_case_is_a_corner():
    assert models.optimum(_params(h=0.0, kappa=0.0)) == 1.0
    assert models.optimum(_params(h=0.0, alpha=0.0, kappa=1.0)) == 0.0


def test_break_even_zeroes_the_margin():
    p = _params(epsilon=0.1)
    for name in ("epsilon", "kappa", "alpha", "gamma_top"):
        value = models.break_even(name, p)
        changed = models._replace_unchecked(p, name, value)
        assert models.margin(changed) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="linear"):
        models.break_even("h", p)


@pytest.mark.parametrize("changes, match", [
    ({"h": 1.5}, "h must lie"),
    ({"kappa": -0.1}, "kappa must be non-negative"),
    ({"rho_top": 1.2}, "rho_top"),
    ({"p_top": 0.5}, "sum to 1"),
    ({"alpha": float("nan")}, "not finite"),
])
def test_params_bad_inputs(changes, match):
    with pytest.raises(ValueError, match=match):
        _params(**changes)


def test_intensity_outside_unit_interval_is_an_error():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        models.welfare(_params(), 1.2)
    with pytest.raises(ValueError, match="at least 2"):
        models.optimum_grid(_params(), 1)


def test_section_increase_by_hand():
    # 120 students, cap 30: 4 sections untracked; tracks 30/60/30 -> 1 + 2 + 1 = 4; tracks of 40/80 -> 2 + 3 = 5
    assert models.section_increase((0.25, 0.5, 0.25), cap=30, grade_sizes=(120,)) == 0.0
    assert models.section_increase((1 / 3, 2 / 3), cap=30, grade_sizes=(120,)) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="empty"):
        models.section_increase((0.5, 0.5), grade_sizes=())


# ------------------------------------------------------------------ calibration


def test_alpha_reproduces_the_weighed_between_class_effect_at_full_streaming():
    table = models.calibration()
    target = models.between_class_evidence()
    assert table.loc["alpha", "source"] == "published"
    central = models.central_params()
    # each end of alpha's range comes from one end of the interval (alpha is increasing in the target)
    for end, value in (("central", target["estimate"]), ("low", target["ci_low"]), ("high", target["ci_high"])):
        alpha = table.loc["alpha", end]
        if alpha > 0:  # not floored: full streaming, mean gain only, gives the target exactly
            p = replace(central, alpha=alpha, epsilon=0.0)
            assert models.welfare(p, 1.0) == pytest.approx(value, abs=1e-9), end


def test_between_class_evidence_is_course_tracking_on_mean_achievement():
    from tracking_evidence.data.evidence import load_evidence

    target = models.between_class_evidence()
    assert target["ci_low"] < target["estimate"] < target["ci_high"]
    assert target["studies"] >= 1 and target["level"] == 0.95
    rows = load_evidence().set_index("id").loc[list(target["rows"])]
    assert (rows["contrast"] == "course tracking").all()
    assert (rows["construct"] == "mean achievement").all() and (rows["subgroup"] == "all").all()
    assert (rows["estimate_role"] == "primary").all()


def test_without_between_class_evidence_there_is_nothing_to_calibrate_to(monkeypatch):
    from tracking_evidence.analyses import synthesis

    def nothing(question, contrast, **options):
        return synthesis.Synthesis(question, contrast, ("K-12",), "primary studies", "no study", 0, 0)

    monkeypatch.setattr(synthesis, "weigh", nothing)
    models.between_class_evidence.cache_clear()
    models.calibration.cache_clear()
    try:
        with pytest.raises(ValueError, match="course-tracking rows on mean achievement"):
            models.calibration()
    finally:
        models.between_class_evidence.cache_clear()
        models.calibration.cache_clear()


def test_calibration_uses_one_causal_peer_slope():
    """Every band's peer slope is the causal estimate (E158) with its 95% interval, never the Exam
    between-school association."""
    from tracking_evidence.analyses import peers

    table = models.calibration()
    causal = peers.causal_peer_slope()
    for band in models.BANDS:
        row = table.loc[f"gamma_{band}"]
        assert row["central"] == causal["gamma"]
        assert (row["low"], row["high"]) == pytest.approx((causal["ci_low"], causal["ci_high"]))
        assert row["source"] == "published"
    assert causal["row"] == "E158"


@pytest.mark.parametrize("peer_end", ["ci_low", "estimate", "ci_high"])
def test_params_at_recalibrate_the_targeting_gain_for_the_peer_effect(peer_end):
    target = models.between_class_evidence()["estimate"]
    p = models.params_at("estimate", peer_end)
    assert p.gamma_bottom == p.gamma_middle == p.gamma_top == models.calibration().loc[
        "gamma_bottom", {"ci_low": "low", "estimate": "central", "ci_high": "high"}[peer_end]]
    assert models.welfare(p, 1.0) == pytest.approx(target, abs=1e-9)
    with pytest.raises(ValueError, match="peer_end must be one of"):
        models.params_at("estimate", "middle")


def test_a_larger_peer_effect_gives_the_equity_weight_a_say():
    """With the peer effect at the top of its interval, low achievers lose from tracking and a large enough
    equity weight makes no tracking optimal; near zero, full streaming at every weight."""
    central = models.regimes_over_equity(models.params_at("estimate", "estimate"))
    upper = models.regimes_over_equity(models.params_at("estimate", "ci_high"))
    assert [r for r, _, _ in central] == ["full"]
    assert upper[0][0] == "full" and upper[-1][0] == "none" and upper[-1][2] == 1.0


def test_alpha_for_full_streaming_hits_its_target():
    rng = np.random.default_rng(3)
    for _ in range(100):
        p = _random_params(rng)
        target = rng.uniform(0.01, 0.5)
        alpha = models.alpha_for_full_streaming(p, target)
        if alpha > 0:
            assert models.welfare(replace(p, alpha=alpha, epsilon=0.0), 1.0) == pytest.approx(target, abs=1e-9)
        # the alpha and epsilon of p play no part
        assert models.alpha_for_full_streaming(replace(p, alpha=0.9, epsilon=1.0), target) == pytest.approx(alpha)
    # peers and sections that already cost more than a negative target allows: floored at 0
    assert models.alpha_for_full_streaming(_params(), -5.0) == 0.0
    p = _params()
    alpha = models.alpha_for_full_streaming(p, 0.1)
    assert alpha > 0 and models.welfare(replace(p, alpha=alpha), 1.0) == pytest.approx(0.1, abs=1e-12)


def test_optimum_by_equity_falls_with_the_equity_weight():
    table = models.optimum_by_equity()
    assert set(table["calibration"]) == {"central", "alpha low", "alpha high"}
    assert (table["regime"] == table["s_star"].map(models.regime)).all()
    central = table[table["calibration"] == "central"].sort_values("epsilon")
    assert len(central) == 41 and central["epsilon"].iloc[[0, -1]].tolist() == [0.0, 1.0]
    assert (np.diff(central["s_star"].to_numpy()) <= 1e-12).all()  # s* never rises with epsilon
    assert central["s_star"].iloc[0] == models.optimum(replace(models.central_params(), epsilon=0.0))
    assert central["s_star"].iloc[0] >= central["s_star"].iloc[-1]
    # the alpha ends of the calibration bracket the central optimum at every weight
    by = table.pivot(index="epsilon", columns="calibration", values="s_star")
    assert ((by["alpha low"] <= by["central"] + 1e-12) & (by["central"] <= by["alpha high"] + 1e-12)).all()
    weights = models.optimum_by_equity([0.0, 0.5])
    assert sorted(set(weights["epsilon"])) == [0.0, 0.5] and len(weights) == 6


def test_calibration_ranges_are_ordered_and_contain_the_centre():
    table = models.calibration()
    assert (table["low"] <= table["central"] + 1e-12).all()
    assert (table["central"] <= table["high"] + 1e-12).all()
    assert set(table["source"]) <= {"book estimate", "published", "computed", "assumption"}
    assert set(asdict(models.central_params())) == set(table.index)


def test_tornado_covers_every_varied_parameter():
    tornado = models.tornado()
    assert set(tornado["parameter"]) == set(models.varied_parameters()) | {"band shares"}
    assert tornado[["s_at_low", "s_at_high"]].apply(lambda c: c.between(0, 1)).all().all()
    assert (tornado["swing"].diff().dropna() <= 1e-12).all()  # sorted by swing


def test_tornado_margins_decide_the_regime():
    table = models.calibration()
    base = models.central_params()
    for row in models.tornado().itertuples():
        if row.parameter == "band shares":
            quartiles = replace(base, p_bottom=0.25, p_middle=0.5, p_top=0.25)
            assert row.margin_at_high == pytest.approx(models.margin(quartiles))
            continue
        for end, margin, full in [("low", row.margin_at_low, row.full_at_low),
                                  ("high", row.margin_at_high, row.full_at_high)]:
            p = replace(base, **{row.parameter: table.loc[row.parameter, end]})
            s_star = models.optimum(p)
            a, _ = models.coefficients(p)
            if a > 0 and p.h > 0:
                assert (s_star == 0.0) == (margin <= 0)
                assert (s_star == 1.0) == (full >= 0)


def test_regime_grid_shape_and_unknown_parameter():
    grid = models.regime_grid("alpha", "epsilon", n=5)
    assert len(grid) == 25 and grid["s_star"].between(0, 1).all()
    with pytest.raises(ValueError, match="unknown parameter"):
        models.regime_grid("beta", "epsilon")


def test_monte_carlo_is_seeded():
    a, b = models.monte_carlo(200), models.monte_carlo(200)
    assert a.equals(b)
    assert set(a["regime"]) <= {"none", "compromise", "full"}
    with pytest.raises(ValueError, match="at least 1"):
        models.monte_carlo(0)


def test_b9_numbers_follow_the_central_calibration():
    numbers = models.b9_numbers()
    p = models.central_params()
    a, c = models.coefficients(p)
    assert numbers["s_central"] == models.optimum(p) and numbers["regime_central"] == models.regime(models.optimum(p))
    assert (numbers["A"], numbers["C"], numbers["margin"]) == (a, c, a - c)
    for name in ("epsilon", "kappa", "alpha"):
        assert numbers[f"{name}_break_even"] == models.break_even(name, p)
    # the calibration sets the model's full-streaming mean effect to the weighed between-class evidence
    assert numbers["full_streaming_mean_effect"] == pytest.approx(models.between_class_evidence()["estimate"], abs=1e-9)
    assert numbers["alpha_source"] == "published"
