"""The B10 simulation (simulated data): directions the model must produce, error paths, the effects it
reads from the coded evidence and the summary of its sensitivity grid."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tracking_evidence.analyses import acceleration as acc

SMALL = acc.Assumptions(rho=0.4, n=4000, replications=8)


def test_no_effect_means_no_change():
    # If acceleration does nothing, removing it cannot move anybody across the bar.
    r = acc.simulate(replace(SMALL, effect=0.0))
    assert r.change == 0.0
    assert r.reach_public == pytest.approx(r.reach_removed)


def test_full_private_takeup_means_no_change():
    # Everyone eligible buys a private substitute of the same effect: nothing changes.
    r = acc.simulate(replace(SMALL, gradient=0.0, baseline_takeup=1 - 1e-12))
    assert r.change == pytest.approx(0.0, abs=1e-9)


def test_no_ses_link_anywhere_gives_no_systematic_change():
    # rho = 0 and gamma = 0: eligibility and take-up are independent of SES.
    r = acc.simulate(replace(SMALL, rho=0.0, gradient=0.0, n=20000, replications=20))
    assert abs(r.change) < 3 * r.change_se + 0.05


def test_gradient_alone_widens_the_gap():
    # rho = 0: public acceleration is SES-neutral; a private gradient hands it back to high SES.
    r = acc.simulate(replace(SMALL, rho=0.0, gradient=1.0))
    assert r.change > 3 * r.change_se


def test_without_gradient_removal_narrows_the_gap_when_achievement_follows_ses():
    # rho > 0, gamma = 0: the eligible are richer than average and lose acceleration equally.
    r = acc.simulate(replace(SMALL, rho=0.6, gradient=0.0))
    assert r.change < -3 * r.change_se


def test_bar_sets_advanced_share_under_public_acceleration():
    r = acc.simulate(SMALL)
    assert r.reach_public == pytest.approx(100 * SMALL.advanced_share, abs=0.05)
    assert r.reach_removed <= r.reach_public
    assert r.gap_public == pytest.approx(r.top_public - r.bottom_public)


def test_seeded_and_deterministic():
    assert acc.simulate(SMALL, seed=1) == acc.simulate(SMALL, seed=1)
    assert acc.simulate(SMALL, seed=1).change != acc.simulate(SMALL, seed=2).change


def test_independent_single_replication():
    # A second, loop-free re-implementation of one replication with the same generator stream.
    a = replace(SMALL, replications=2)
    child = np.random.SeedSequence(acc.SEED).spawn(2)[0]
    rng = np.random.default_rng(child)
    n = a.n
    ses = rng.standard_normal(n)
    prior = a.rho * ses + math.sqrt(1 - a.rho**2) * rng.standard_normal(n)
    noise = a.noise_sd * rng.standard_normal(n)
    u = rng.random(n)
    order = np.argsort(-prior)
    eligible = np.zeros(n, bool)
    eligible[order[: int(round(a.eligible_share * n))]] = True
    public = prior + a.effect * eligible + noise
    bar = np.sort(public)[int(round((1 - a.advanced_share) * n))]
    from scipy.stats import norm

    private = eligible & (u < norm.cdf(a.gradient * ses))  # baseline 0.5 -> kappa = 0
    removed = prior + a.effect * private + noise
    q1, q3 = np.quantile(ses, [0.25, 0.75])
    top, bottom = ses >= q3, ses <= q1
    expected = (100 * ((removed >= bar)[top].mean() - (removed >= bar)[bottom].mean())) - (
        100 * ((public >= bar)[top].mean() - (public >= bar)[bottom].mean())
    )
    got = acc._one(a, np.random.default_rng(np.random.SeedSequence(acc.SEED).spawn(2)[0]))
    assert (got[2] - got[3]) - (got[0] - got[1]) == pytest.approx(expected, abs=100 * 2 / (n / 4))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("rho", 1.0, "rho"),
        ("effect", -0.1, "effect"),
        ("baseline_takeup", 0.0, "baseline_takeup"),
        ("eligible_share", 1.0, "eligible_share"),
        ("advanced_share", 0.0, "advanced_share"),
        ("n", 10, "n must be"),
        ("replications", 1, "replications"),
        ("gradient", float("nan"), "gradient"),
        ("private_ratio", -1.0, "private_ratio"),
    ],
)
def test_bad_assumptions(field, value, message):
    with pytest.raises(ValueError, match=message):
        replace(SMALL, **{field: value})


def test_bad_seed_and_grid():
    with pytest.raises(ValueError, match="seed"):
        acc.simulate(SMALL, seed=-1)
    with pytest.raises(ValueError, match="at least one"):
        acc.sensitivity(SMALL, [], [0.5])


def _evidence(**over):
    # Test fixture, not book data: a synthetic table with the coded columns the function reads;
    # each acceleration row but the first two fails exactly one condition.
    acc_rows = dict(contrast="acceleration", estimate_role="primary", design="meta-analysis")
    rows = [
        dict(id="E901", study="Fixture A", construct="subgroup achievement", subgroup="high", unit="Hedges g",
             estimate=0.4, **acc_rows),
        dict(id="E902", study="Fixture B", construct="mean achievement", subgroup="all", unit="percentage points",
             estimate=30.0, **acc_rows),
        dict(id="E903", study="Fixture C", construct="socio-emotional", subgroup="high", unit="SD", estimate=0.2,
             **acc_rows),
        dict(id="E904", study="Fixture D", construct="mean achievement", subgroup="all", unit="SD", estimate=0.9,
             **{**acc_rows, "contrast": "course tracking"}),
        dict(id="E905", study="Fixture E", construct="subgroup achievement", subgroup="high", unit="Hedges g",
             estimate=0.1, **{**acc_rows, "estimate_role": "alternative specification"}),
        dict(id="E906", study="Fixture F", construct="mean achievement", subgroup="all", unit="SD",
             estimate=float("nan"), **acc_rows),
        dict(id="E907", study="Fixture G", construct="mean achievement", subgroup="all", unit="Cohen d",
             estimate=-0.2, **acc_rows),
    ]
    frame = pd.DataFrame(rows)
    for key, value in over.items():
        frame[key] = value
    return frame


def test_acceleration_effects_selects_on_codes_and_explains():
    table = acc.acceleration_effects(_evidence()).set_index("id")
    assert list(table.index) == ["E901", "E902", "E903", "E905", "E906", "E907"]  # E904 is course tracking
    assert table["use"].to_dict() == {"E901": True, "E902": False, "E903": False, "E905": False, "E906": False,
                                      "E907": True}
    assert table.loc["E901", "reason"] == "used"
    assert table.loc["E902", "reason"] == "unit is not a standardised mean difference"
    assert table.loc["E903", "reason"] == "construct is not achievement"
    assert table.loc["E905", "reason"] == "not the primary estimate"
    assert table.loc["E906", "reason"] == "estimate is not a finite number"
    # a negative effect is reported as usable but kept out of the simulation's grid
    assert acc.effects_for_simulation(_evidence()) == ((0.4,), "evidence")
    assert acc.effects_for_simulation(None) == (acc.ASSUMED_EFFECTS, "assumed")
    assert acc.effects_for_simulation(_evidence(contrast="course tracking")) == (acc.ASSUMED_EFFECTS, "assumed")
    assert acc.effects_for_simulation(_evidence(estimate_role="range end")) == (acc.ASSUMED_EFFECTS, "assumed")
    with pytest.raises(ValueError, match="lacks column"):
        acc.acceleration_effects(_evidence().drop(columns="construct"))


def test_acceleration_effects_on_the_book_evidence():
    from tracking_evidence.data.evidence import load_evidence

    evidence = load_evidence()
    table = acc.acceleration_effects(evidence)
    assert len(table) == int((evidence["contrast"] == "acceleration").sum()) > 0  # nothing dropped
    used = evidence.set_index("id").loc[table.loc[table["use"], "id"]]
    assert (used["estimate_role"] == "primary").all()
    assert used["construct"].isin(["mean achievement", "subgroup achievement"]).all()
    effects, source = acc.effects_for_simulation(evidence)
    assert source == "evidence" and set(effects) == {round(v, 6) for v in used["estimate"] if v >= 0}


def test_break_even_by_hand():
    table = pd.DataFrame({"effect": [0.3] * 3, "gradient": [0.0, 1.0, 2.0], "change": [-1.0, 1.0, 3.0]})
    assert acc.break_even_gradient(table, 0.3) == pytest.approx(0.5)
    assert math.isnan(acc.break_even_gradient(table.assign(change=[1.0, 2.0, 3.0]), 0.3))
    with pytest.raises(ValueError, match="no simulated rows"):
        acc.break_even_gradient(table, 0.5)


def test_b10_numbers_summarise_the_grid_by_two_monte_carlo_ses():
    numbers = acc.b10_numbers(None, base=SMALL, gradients=(0.0, 1.0, 2.0))
    assert numbers.effects == acc.ASSUMED_EFFECTS and numbers.effects_source == "assumed"
    assert numbers.rho == SMALL.rho
    table = numbers.table
    assert len(table) == len(acc.ASSUMED_EFFECTS) * 3
    widen, narrow = table["change"] > 2 * table["change_se"], table["change"] < -2 * table["change_se"]
    assert numbers.share_widening == widen.mean()
    assert (numbers.widens_everywhere, numbers.narrows_everywhere) == (widen.all(), narrow.all())
    # rho > 0: without a private gradient removal narrows the gap, with a steep one it widens
    assert narrow[table["gradient"] == 0.0].all() and widen[table["gradient"] == 2.0].all()
    assert set(numbers.break_even) == set(acc.ASSUMED_EFFECTS)
    assert all(0.0 < g < 2.0 for g in numbers.break_even.values())
    for effect, g in numbers.break_even.items():
        assert g == acc.break_even_gradient(table, effect)


def test_takeup_by_quartile():
    # gamma = 0: take-up is the baseline everywhere.
    assert acc.takeup_by_quartile(0.0, 0.3) == (pytest.approx(0.3), pytest.approx(0.3))
    # Symmetry: with baseline 0.5, bottom and top take-up add up to 1.
    bottom, top = acc.takeup_by_quartile(1.0, 0.5)
    assert bottom + top == pytest.approx(1.0)
    # Against a Monte Carlo estimate.
    z = np.random.default_rng(5).standard_normal(400_000)
    from scipy.stats import norm

    p = norm.cdf(1.0 * z)
    q1, q3 = np.quantile(z, [0.25, 0.75])
    assert top == pytest.approx(p[z >= q3].mean(), abs=0.005)
    assert bottom == pytest.approx(p[z <= q1].mean(), abs=0.005)
    with pytest.raises(ValueError, match="baseline_takeup"):
        acc.takeup_by_quartile(1.0, 1.0)
