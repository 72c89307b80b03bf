"""Every analytic choice varied: each claim's verdict over the grid of its declared parameters.

For a claim whose rule declares parameters :math:`P_1, \\dots, P_m` with :math:`n_1, \\dots, n_m`
values, the specifications are the product of the grids when it has at most ``limit`` (2,000)
members, and otherwise a seeded sample of ``limit`` of them (the default specification always
included). For each specification the rule is run and its outcome recorded (the verdict, or a
modelled claim's conclusion). Reported, per claim:

- ``robustness``: the share of specifications whose outcome equals the default's;
- ``most_sensitive_to``: the parameter whose values move that share the most (the largest spread,
  across its values, of the share of specifications that keep the default outcome);
- ``flips_at``: for that parameter, the value nearest its default at which, the other parameters
  at their defaults, the outcome changes, with the outcome it changes to (where no single change
  flips it, the value at which the fewest specifications keep the default outcome).

Results are cached per claim for the life of the process.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from .parameters import declare, param
from .registry import Judgement, all_rules

__all__ = ["Multiverse", "specifications", "run", "LIMIT", "SEED"]

LIMIT = 2000
SEED = 20261126

declare("fragile_below", 2 / 3, (0.5, 2 / 3, 0.8),
        "a verdict kept by fewer than this share of its specifications is marked fragile (issue 15 suggests two "
        "thirds); it labels verdicts and never changes one")


def specifications(names, limit: int = LIMIT, seed: int = SEED) -> list[dict]:
    """The product of the declared values of ``names`` (or a seeded sample of ``limit`` of it)."""
    names = tuple(names)
    grids = [param(n).values for n in names]
    total = int(np.prod([len(g) for g in grids])) if grids else 1
    default = {n: param(n).default for n in names}
    if total <= limit:
        return [dict(zip(names, combo)) for combo in itertools.product(*grids)]
    rng = np.random.default_rng(seed)
    picks = {tuple(int(rng.integers(len(g))) for g in grids) for _ in range(limit * 3)}
    chosen = sorted(picks)[: limit - 1]
    specs = [default] + [dict(zip(names, (g[i] for g, i in zip(grids, idx)))) for idx in chosen]
    return _unique(specs)[:limit]


def _unique(specs: list[dict]) -> list[dict]:
    seen, out = set(), []
    for s in specs:
        key = tuple(sorted((k, repr(v)) for k, v in s.items()))
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


@dataclass(frozen=True)
class Multiverse:
    claim_id: str
    default: Judgement
    table: pd.DataFrame  # one row per specification: parameter values, outcome, deciding estimate
    robustness: float
    most_sensitive_to: str
    flips_at: str

    @property
    def n_specifications(self) -> int:
        return len(self.table)

    @property
    def fragile(self) -> bool:
        return self.robustness < param("fragile_below").default


def _row(spec: dict, judgement: Judgement) -> dict:
    deciding = judgement.deciding
    return {**{k: _cell(v) for k, v in spec.items()}, "outcome": judgement.outcome, "verdict": judgement.verdict,
            "estimate": deciding.estimate if deciding else np.nan,
            "ci_low": deciding.ci_low if deciding else np.nan, "ci_high": deciding.ci_high if deciding else np.nan}


def _cell(value):
    return " + ".join(map(str, value)) if isinstance(value, tuple) else value


@cache
def run(claim_id: str) -> Multiverse:
    rules = all_rules()
    if claim_id not in rules:
        raise KeyError(f"no rule for claim {claim_id}")
    rule = rules[claim_id]
    default = rule.judge()
    rows = [_row(spec, rule.judge(**spec)) for spec in specifications(rule.params)]
    table = pd.DataFrame(rows)
    keep = table["outcome"] == default.outcome
    robustness = float(keep.mean())
    sensitive, flips = _sensitivity(rule, table, keep, default.outcome)
    return Multiverse(claim_id, default, table, robustness, sensitive, flips)


def _sensitivity(rule, table: pd.DataFrame, keep: pd.Series, default_outcome: str) -> tuple[str, str]:
    if keep.all() or not rule.params:
        return "", ""
    spreads = {}
    for name in rule.params:
        shares = keep.groupby(table[name].map(repr)).mean()
        spreads[name] = float(shares.max() - shares.min())
    name = max(rule.params, key=lambda n: (spreads[n], -rule.params.index(n)))
    declared = param(name)
    start = declared.values.index(declared.default)
    order = sorted(range(len(declared.values)), key=lambda i: (abs(i - start), i))
    for i in order[1:]:
        value = declared.values[i]
        other = rule.judge(**{name: value})
        if other.outcome != default_outcome:
            return name, f"{name} = {_cell(value)} gives {other.outcome}"
    shares = keep.groupby(table[name].map(repr)).mean()
    worst = shares.idxmin()
    return name, f"{name} = {worst}: {100 * shares.min():.0f}% of specifications keep {default_outcome}"
