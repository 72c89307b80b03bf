"""Rules for the modelled claims B9 (the optimal amount of tracking) and B10 (acceleration and
private resources): their verdict is ``modelled``; the multiverse tracks the model's conclusion."""

from __future__ import annotations

from functools import cache

import numpy as np

from ..analyses import acceleration, models
from ..data.evidence import load_evidence
from .certainty import not_applicable
from .core import Deciding, Part
from .registry import Judgement, rule


B9_MODELLED = "B9 is normative (an optimum and a charge of ideology): it is modelled, not judged"
B10_MODELLED = "B10 is a causal claim no shipped data can test: the simulation (simulated, seeded data) is modelled"


@rule("B9", params=("equity_weight", "calibration_end", "peer_effect_end", "section_cost", "targeting_falloff"), admits=("modelled",),
      why_not=B9_MODELLED)
def b9(spec) -> Judgement:
    p = models.params_at(spec["calibration_end"], spec["peer_effect_end"], spec["section_cost"], spec["equity_weight"],
                         spec["targeting_falloff"])
    s_star = models.optimum(p)
    regime = models.regime(s_star)
    conclusion = {"none": "no tracking is optimal", "full": "full streaming is optimal",
                  "compromise": "a compromise is optimal"}[regime]
    because = (f"equity weight {spec['equity_weight']:g}, targeting gain at the between-class evidence's "
               f"{spec['calibration_end'].replace('_', ' ')}, peer effect at its {spec['peer_effect_end'].replace('_', ' ')} "
               f"({p.gamma_bottom:+.2f} SD per SD of peers), section cost {spec['section_cost']:g} SD, fall-off of the "
               f"targeting gain {spec['targeting_falloff']:g}: optimal share of "
               f"tracked instruction {s_star:.2f}")
    part = Part("the optimum is a compromise, not zero", "modelled", because,
                Deciding("optimal share of tracked instruction", s_star, unit="share"),
                not_applicable("a model of value choices"), conclusion=conclusion)
    conditions = models.describe_regimes(models.regimes_over_equity(p))
    upper = models.describe_regimes(models.regimes_over_equity(
        models.params_at(spec["calibration_end"], "ci_high", spec["section_cost"], h=spec["targeting_falloff"])))
    falloff = models.describe_regimes(models.regimes_over_equity(
        models.params_at(spec["calibration_end"], spec["peer_effect_end"], spec["section_cost"], h=1.0)))
    return Judgement("B9", (part,), f"driven by three inputs, the targeting gain, the peer effect and how fast the gain "
                                   f"falls off across subjects: with the causal peer effect at {p.gamma_bottom:+.2f} SD "
                                   f"per SD of peers, the model's optimum is {conditions}; at the upper end of the peer "
                                   f"effect's interval it is {upper}; if the last subject tracked gained nothing (fall-"
                                   f"off 1) it would be {falloff}. The targeting gain rests on one trial (Kenya, "
                                   "grade 1), the peer effect on one cutoff (Boston exam schools)")


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
