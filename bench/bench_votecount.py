"""Time the vote-counting simulation: 10,000 simulated 53-study literatures (simulated data).

Writes bench/votecount.json with the best and median wall time of several runs, the machine's
CPU count and the versions used. Target: under 2 seconds per 10,000 replications. Run with
`.venv/bin/python bench/bench_votecount.py` (not a timed test).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import scipy

from tracking_evidence.analyses import reanalysis as ra

REPS, K, RUNS, TARGET = 10_000, 53, 7, 2.0


def main() -> dict:
    ses = ra.study_ses(K, 0.05, 0.20)
    ra.simulate_votecount(-0.063, 0.2, ses, reps=100, seed=1)  # warm up imports and caches
    times = []
    for run in range(RUNS):
        start = time.perf_counter()
        result = ra.simulate_votecount(-0.063, 0.2, ses, reps=REPS, seed=20261123 + run)
        times.append(time.perf_counter() - start)
    out = {
        "what": f"simulate_votecount: {REPS} simulated literatures of {K} studies, DL pooling vectorised",
        "reps": REPS, "k": K, "runs": RUNS,
        "best_seconds": round(min(times), 4), "median_seconds": round(statistics.median(times), 4),
        "target_seconds": TARGET, "meets_target": max(times) < TARGET,
        "example_shares": {"looks_balanced": result.balanced, "pooled_significant": result.pooled_significant},
        "cpu_count": os.cpu_count(), "python": platform.python_version(),
        "numpy": np.__version__, "scipy": scipy.__version__,
    }
    path = Path(__file__).with_name("votecount.json")
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
