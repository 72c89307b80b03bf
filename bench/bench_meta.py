"""Time ``meta.pool(method="REML")`` against statsmodels and PyMARE on the same simulated inputs.

For k = 50, 1,000 and 100,000 simulated studies (seeded: y_i ~ N(0.2, 0.05 + v_i), v_i ~ U(0.01, 0.2))
this times, best of several repeats (the machine is shared: the minimum is the least disturbed run):

- ``ours_reml``: ``tracking_evidence.stats.meta.pool(y, v, method="REML")`` (the full result: estimate,
  CI, prediction interval, Q, I2, H2);
- ``statsmodels_pm``: ``statsmodels.stats.meta_analysis.combine_effects(y, v, method_re="iterated")``
  (Paule-Mandel iterated, statsmodels' only iterative estimator; it has no REML);
- ``pymare_reml``: ``pymare.estimators.VarianceBasedLikelihoodEstimator(method="REML").fit_dataset``.

Aim: ours faster than PyMARE's REML and no slower than statsmodels' iterated estimator at every k.
Prints a table, then the JSON it writes to ``bench/meta.json`` (``bench/run.py`` reads the JSON
from stdout). Not a timed test: run ``.venv/bin/python bench/bench_meta.py``.
"""

from __future__ import annotations

import json
import os
import platform
import timeit
from pathlib import Path

import numpy as np
import pymare
import statsmodels
from statsmodels.stats.meta_analysis import combine_effects

from tracking_evidence.stats import meta

KS = (50, 1_000, 100_000)
SEED = 20261123


def _best(fn, k: int) -> float:
    number = 200 if k <= 1_000 else 5
    fn()  # warm up
    return min(timeit.repeat(fn, number=number, repeat=7)) / number


def main() -> dict:
    rows = []
    for k in KS:
        rng = np.random.default_rng(SEED + k)
        v = rng.uniform(0.01, 0.2, size=k)
        y = rng.normal(0.2, np.sqrt(0.05 + v))
        ours = meta.pool(y, v, method="REML")
        data = pymare.Dataset(y=y, v=v)
        est = pymare.estimators.VarianceBasedLikelihoodEstimator(method="REML").fit_dataset(data)
        tau2_pymare = float(np.ravel(est.params_["tau2"])[0])
        t_ours = _best(lambda: meta.pool(y, v, method="REML"), k)
        t_sm = _best(lambda: combine_effects(y, v, method_re="iterated"), k)
        t_py = _best(lambda: pymare.estimators.VarianceBasedLikelihoodEstimator(method="REML").fit_dataset(
            pymare.Dataset(y=y, v=v)), k)
        rows.append({
            "k": k,
            "ours_reml_seconds": t_ours,
            "statsmodels_pm_seconds": t_sm,
            "pymare_reml_seconds": t_py,
            "ratio_statsmodels_over_ours": t_sm / t_ours,
            "ratio_pymare_over_ours": t_py / t_ours,
            "tau2_ours": ours.tau2,
            "tau2_pymare": tau2_pymare,
            "meets_aim": bool(t_ours < t_py and t_ours <= t_sm),
        })
    return {
        "what": "meta.pool REML vs statsmodels combine_effects (iterated PM) and PyMARE REML, simulated inputs",
        "seed": SEED,
        "rows": rows,
        "all_meet_aim": all(r["meets_aim"] for r in rows),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "statsmodels": statsmodels.__version__,
        "pymare": pymare.__version__,
    }


if __name__ == "__main__":
    result = main()
    print(f"{'k':>8} {'ours (ms)':>10} {'statsmodels PM (ms)':>20} {'PyMARE REML (ms)':>17} {'sm/ours':>8} {'pymare/ours':>12}")
    for r in result["rows"]:
        print(f"{r['k']:>8} {1e3 * r['ours_reml_seconds']:>10.3f} {1e3 * r['statsmodels_pm_seconds']:>20.3f} "
              f"{1e3 * r['pymare_reml_seconds']:>17.3f} {r['ratio_statsmodels_over_ours']:>8.2f} "
              f"{r['ratio_pymare_over_ours']:>12.2f}")
    path = Path(__file__).with_name("meta.json")
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
