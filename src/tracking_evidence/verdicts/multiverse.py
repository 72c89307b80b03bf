"""Every analytic choice varied: each claim's verdict over the grid of its declared parameters.

For a claim whose rule declares parameters :math:`P_1, \\dots, P_m` with :math:`n_1, \\dots, n_m`
values, the specifications are the product of the grids when it has at most ``limit`` (``LIMIT``)
members, and otherwise a seeded sample of ``limit`` of them (the default specification always
included). For each specification the rule is run and its outcome recorded (the verdict, or a
modelled claim's conclusion). Reported, per claim:

- ``robustness``: the share of specifications whose outcome equals the default's;
- ``most_sensitive_to``: the parameter whose values move that share the most (the largest spread,
  across its values, of the share of specifications that keep the default outcome);
- ``flips_at``: for that parameter, the value nearest its default at which, the other parameters
  at their defaults, the outcome changes, with the outcome it changes to (where no single change
  flips it, the value at which the fewest specifications keep the default outcome), followed by every
  other single change of one parameter, the others at their defaults, that flips it (a robustness share
  can look high when many specifications change the question and find no study; these say which one
  choice alone changes the verdict).

Results are cached per claim for the life of the process.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from .parameters import declare, label, param, value_words
from . import store
from .registry import Judgement, all_rules

__all__ = ["Multiverse", "specifications", "run", "LIMIT", "SEED"]

LIMIT = 600
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
    default_index = tuple(g.index(param(n).default) for g, n in zip(grids, names))
    picks: list[tuple[int, ...]] = []
    seen = {default_index}
    while len(picks) < limit - 1:  # distinct draws, the default specification first and only once
        draw = tuple(int(rng.integers(len(g))) for g in grids)
        if draw not in seen:
            seen.add(draw)
            picks.append(draw)
    return [default] + [dict(zip(names, (g[i] for g, i in zip(grids, idx)))) for idx in picks]


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

    @property
    def most_common(self) -> tuple[str, float]:
        """The outcome most specifications give, and their share (for a fragile verdict, shown beside it)."""
        shares = self.table["outcome"].value_counts(normalize=True)
        return str(shares.index[0]), float(shares.iloc[0])


def _rows(spec: dict, judgement: Judgement) -> list[dict]:
    """One row per value of ``min_coverage`` for a claim of several parts (the combination rule is
    varied without re-running the rule), one row otherwise."""
    deciding = judgement.deciding
    base = {k: _cell(v) for k, v in spec.items()}
    numbers = {"estimate": deciding.estimate if deciding else np.nan,
               "ci_low": deciding.ci_low if deciding else np.nan, "ci_high": deciding.ci_high if deciding else np.nan}
    varied = len(judgement.parts) > 1 and not judgement.universal  # universal claims need every part judged
    coverages = param("min_coverage").values if varied else (param("min_coverage").default,)
    return [{**base, **({"min_coverage": c} if len(coverages) > 1 else {}), "outcome": judgement.outcome_at(c),
             "verdict": judgement.verdict_at(c), **numbers} for c in coverages]


def _cell(value):
    return " + ".join(map(str, value)) if isinstance(value, tuple) else value


def _value_text(value) -> str:
    if isinstance(value, float):
        return f"{value:.2g}"
    return str(_cell(value))


@cache
def run(claim_id: str) -> Multiverse:
    """The claim's multiverse, from the build's disk store when an identical computation is there."""
    rules = all_rules()
    if claim_id not in rules:
        raise KeyError(f"no rule for claim {claim_id}")
    stored = store.load(claim_id)
    if isinstance(stored, Multiverse):
        return stored
    result = _compute(rules[claim_id])
    store.save(claim_id, result)
    return result


def _compute(rule) -> Multiverse:
    claim_id = rule.claim_id
    default = rule.judge()
    rows = [row for spec in specifications(rule.params) for row in _rows(spec, rule.judge(**spec))]
    table = pd.DataFrame(rows)
    keep = table["outcome"] == default.outcome
    robustness = float(keep.mean())
    single = _one_at_a_time(rule, default, "min_coverage" in table.columns)
    sensitive, flips = _sensitivity(rule, table, keep, default.outcome, single)
    others = [_flip_text(name, value, outcome) for (name, value), outcome in single.items()
              if name in rule.params and name != sensitive and outcome != default.outcome]
    flips = "; ".join([flips] + others) if flips else "; ".join(others)
    return Multiverse(claim_id, default, table, robustness, sensitive, flips)


def _one_at_a_time(rule, default: Judgement, coverage_varied: bool) -> dict[tuple[str, object], str]:
    """The outcome of every change of one declared parameter, the others at their defaults (and of each
    ``min_coverage`` when the combination rule is varied), computed once for the sensitivity and the flips."""
    out = {}
    for name in rule.params:
        declared = param(name)
        for value in declared.values:
            if value != declared.default:
                out[(name, value)] = rule.judge(**{name: value}).outcome
    if coverage_varied:
        declared = param("min_coverage")
        out.update({("min_coverage", c): default.outcome_at(c) for c in declared.values if c != declared.default})
    return out


def _flip_text(name: str, value, outcome: str) -> str:
    return f"if {label(name)} were {value_words(value)}, it would be {outcome}"


def _sensitivity(rule, table: pd.DataFrame, keep: pd.Series, default_outcome: str,
                 single: dict[tuple[str, object], str]) -> tuple[str, str]:
    names = [n for n in rule.params] + (["min_coverage"] if "min_coverage" in table.columns else [])
    if keep.all() or not names:
        return "", ""
    spreads = {}
    for name in names:
        shares = keep.groupby(table[name].map(repr)).mean()
        spreads[name] = float(shares.max() - shares.min())
    name = max(names, key=lambda n: (spreads[n], -names.index(n)))
    declared = param(name)
    start = declared.values.index(declared.default)
    order = sorted(range(len(declared.values)), key=lambda i: (abs(i - start), i))
    for i in order[1:]:
        value = declared.values[i]
        if single[(name, value)] != default_outcome:
            return name, _flip_text(name, value, single[(name, value)])
    shares = keep.groupby(table[name].map(repr)).mean()
    worst = shares.idxmin()
    return name, (f"with {label(name)} at {worst}, {100 * shares.min():.0f}% of specifications keep "
                  f"{default_outcome}")


def _warm_group(claim_ids: tuple[str, ...]) -> int:
    for claim_id in claim_ids:
        run(claim_id)
    return len(claim_ids)


def warm(jobs: int = 1) -> int:
    """Compute every claim's multiverse into the disk store before the pages run (they then read it
    instead of computing it each). With ``jobs`` = 1 (the default) in this process: the claims share
    cached syntheses and fits, which two processes would each compute again (``make bench`` measures
    both; on the 2-core machine one process is faster). Returns the claims done."""
    from concurrent.futures import ProcessPoolExecutor

    rules = all_rules()
    if store.folder() is None:
        return 0
    if jobs <= 1:
        return _warm_group(tuple(rules))
    order = sorted(rules, key=lambda c: -len(rules[c].params))
    groups = [tuple(order[i::jobs]) for i in range(max(1, jobs))]
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        return sum(pool.map(_warm_group, groups))
