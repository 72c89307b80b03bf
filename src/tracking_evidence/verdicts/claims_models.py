"""Rules for the modelled claims B9 (the optimal amount of tracking) and B10 (acceleration and
private resources): their verdict is ``modelled``; the multiverse tracks the model's conclusion."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np

from ..analyses import acceleration, models
from ..data.evidence import load_evidence
from .certainty import not_applicable
from .core import Deciding, Part
from .registry import Judgement, rule


B9_MODELLED = "B9 is normative (an optimum and a charge of ideology): it is modelled, not judged"
B10_MODELLED = "B10 is a causal claim no shipped data can test: the simulation (simulated, seeded data) is modelled"


@rule("B9", params=("equity_weight", "calibration_end", "section_cost"), admits=("modelled",), why_not=B9_MODELLED)
def b9(spec) -> Judgement:
    base = models.central_params()
    table = models.calibration()
    alpha = {"estimate": table.loc["alpha", "central"], "ci_low": table.loc["alpha", "low"],
             "ci_high": table.loc["alpha", "high"]}[spec["calibration_end"]]
    p = replace(base, alpha=float(alpha), epsilon=float(spec["equity_weight"]), kappa=float(spec["section_cost"]))
    s_star = models.optimum(p)
    regime = models.regime(s_star)
    conclusion = {"none": "no tracking is optimal", "full": "full streaming is optimal",
                  "compromise": "a compromise is optimal"}[regime]
    because = (f"equity weight {spec['equity_weight']:g}, targeting gain at the between-class evidence's "
               f"{spec['calibration_end'].replace('_', ' ')}, section cost {spec['section_cost']:g} SD: optimal share of "
               f"tracked instruction {s_star:.2f}")
    part = Part("the optimum is a compromise, not zero", "modelled", because,
                Deciding("optimal share of tracked instruction", s_star, unit="share"),
                not_applicable("a model of value choices"), conclusion=conclusion)
    cal = {"estimate": "central", "ci_low": "alpha low", "ci_high": "alpha high"}[spec["calibration_end"]]
    conditions = models.describe_regimes(models.regimes_by_equity(cal))
    return Judgement("B9", (part,), f"with a causal peer effect near zero, the model's optimum is {conditions} "
                                   f"(targeting gain at the between-class evidence's {spec['calibration_end'].replace('_', ' ')}): "
                                   "it turns on the size of the targeting gain more than on the equity weight")


@cache
def _b10_table():
    return acceleration.b10_numbers(load_evidence()).table


@rule("B10", params=("private_gradient",), admits=("modelled",), why_not=B10_MODELLED)
def b10(spec) -> Judgement:
    table = _b10_table()
    rows = table[np.isclose(table["gradient"], spec["private_gradient"])]
    widen = bool((rows["change"] > 2 * rows["change_se"]).all())
    narrow = bool((rows["change"] < -2 * rows["change_se"]).all())
    conclusion = ("the gap widens" if widen else "the gap narrows" if narrow else "the gap's change depends on the "
                  "effect size")
    because = (f"simulated: private gradient {spec['private_gradient']:g}; removing public acceleration changes the "
               f"top-minus-bottom SES gap by {rows['change'].min():+.1f} to {rows['change'].max():+.1f} points across "
               "the effect sizes")
    part = Part("removing public acceleration widens the gap", "modelled", because,
                Deciding("change in the SES gap (points)", float(rows["change"].mean()), unit="points", threshold=0.0),
                not_applicable("a simulation (simulated data)"), conclusion=conclusion)
    return Judgement("B10", (part,), f"{conclusion} when private take-up rises with SES at gradient "
                                     f"{spec['private_gradient']:g} (simulated)")
