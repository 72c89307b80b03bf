"""Time ``pool_multilevel`` against pimeta's ``rma_mv`` and R's ``metafor::rma.mv`` on the same data.

Seeded simulated data (``SIZES``: 50 studies with 200 estimates, 500 / 2,000 and 5,000 / 20,000;
every study has at least one estimate, the rest spread at random, so sizes are unbalanced):
y_ij = 0.2 + u_i + w_ij + e_ij with sigma2 = (0.05, 0.02) and v_ij ~ U(0.01, 0.2). The model is
the intercept-only three-level model fitted by REML, ``random = ~ 1 | study/estimate``.

- ``ours``: ``tracking_evidence.stats.pool_multilevel(y, v, study)`` (the full result), best of
  several repeats (the machine is shared: the minimum is the least disturbed run);
- ``pimeta``: ``pimeta.rma_mv(y, v, data=..., random="~ 1 | study/estimate")``, in a subprocess
  with a timeout; it builds dense k x k matrices, so it is not run where they would not fit in
  memory (``PIMETA_MAX_K``);
- ``R``: ``metafor::rma.mv`` timed inside R (``system.time`` around the fit only, best of the
  repeats), through ``Rscript`` where it exists (skipped, with a note, where it does not): with
  dense matrices (metafor's default) and with ``sparse = TRUE`` (the fair comparison at scale),
  each in its own process with a timeout (``R_TIMEOUT``), reported as such when it runs out;
  dense fits are not tried at a larger size once one has run out of time, nor where the dense
  matrices would not fit in the memory available.

Each engine's variance components are recorded next to its time, to show that the three fit the
same model. Aim: ours faster than every other at every size. Prints a table, then the JSON it
writes to ``bench/multilevel.json`` (``bench/run.py`` reads the JSON from stdout). Not a timed
test: run ``.venv/bin/python bench/bench_multilevel.py``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import timeit
from pathlib import Path

import numpy as np

from tracking_evidence.stats import pool_multilevel

SIZES = ((50, 200), (500, 2_000), (5_000, 20_000))
SEED = 20261126
R_TIMEOUT = {"dense": 300.0, "sparse": 600.0}  # seconds per R process (one size, one variant)
PIMETA_TIMEOUT = 300.0
PIMETA_MAX_K = 2_000  # pimeta holds several dense k x k float matrices: at 20,000, 3.2 GB each
R_DENSE_COPIES = 4  # dense k x k matrices rma.mv holds at once (V, M, W and a factor): a memory guard

R_SCRIPT = textwrap.dedent("""
    suppressPackageStartupMessages({library(metafor); library(jsonlite)})
    args <- commandArgs(trailingOnly = TRUE)
    d <- read.csv(args[1])
    sparse <- args[2] == "sparse"
    repeats <- as.integer(args[3])
    best <- Inf
    for (i in seq_len(repeats)) {
      t <- system.time(fit <- rma.mv(y, v, random = ~ 1 | study/estimate, data = d, method = "REML",
                                     sparse = sparse))[["elapsed"]]
      best <- min(best, t)
    }
    cat(toJSON(list(seconds = best, sigma2 = fit$sigma2, beta = as.numeric(fit$beta),
                    metafor = as.character(packageVersion("metafor")), r = R.version.string,
                    blas = sessionInfo()$BLAS), digits = NA, auto_unbox = TRUE))
""")

PIMETA_SCRIPT = textwrap.dedent("""
    import json, sys, time, warnings
    import numpy as np
    import pimeta
    d = np.load(sys.argv[1])
    repeats = int(sys.argv[2])
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pimeta.rma_mv(d["y"], d["v"], data={"study": d["study"], "estimate": d["estimate"]},
                                random="~ 1 | study/estimate", method="REML")
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"seconds": best, "sigma2": list(fit.sigma2), "beta": list(fit.beta),
                      "pimeta": pimeta.__version__}))
""")


def simulate(n_studies: int, k: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = 1 + rng.multinomial(k - n_studies, np.full(n_studies, 1.0 / n_studies))
    study = np.repeat(np.arange(1, n_studies + 1), sizes)
    estimate = np.concatenate([np.arange(1, m + 1) for m in sizes])
    v = rng.uniform(0.01, 0.2, size=k)
    y = 0.2 + rng.normal(0, np.sqrt(0.05), n_studies)[study - 1] + rng.normal(0, np.sqrt(0.02 + v))
    return {"y": y, "v": v, "study": study, "estimate": estimate}


def _ours(data: dict) -> dict:
    y, v, study = data["y"], data["v"], data["study"]
    def fit_once():
        return pool_multilevel(y, v, study)

    fit = fit_once()  # also the warm-up
    number = 20 if y.size <= 2_000 else 2
    seconds = min(timeit.repeat(fit_once, number=number, repeat=5)) / number
    return {"seconds": seconds, "sigma2": [fit.sigma2_study, fit.sigma2_within], "beta": fit.coef.tolist()}


def _subprocess_json(command: list[str], timeout: float) -> dict:
    """Run ``command`` in its own process group; its JSON answer, or why there is none."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)  # the process group we started, and only it
        proc.communicate()
        return {"seconds": None, "note": f"timed out after {timeout:.0f} s (killed)"}
    if proc.returncode:
        return {"seconds": None, "note": f"failed (exit {proc.returncode}): {err.strip()[-300:]}"}
    answer = json.loads(out[out.index("{"):])
    answer["wall_seconds_with_startup"] = round(time.perf_counter() - start, 2)
    return answer


def _available_memory() -> float:
    """Bytes of memory available (Linux), or infinity where that cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float("inf")


def _r(csv: Path, sparse: bool, k: int) -> dict:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return {"seconds": None, "note": "skipped: Rscript not found (apt-get install r-base-core r-cran-metafor)"}
    need = R_DENSE_COPIES * k * k * 8
    if not sparse and need > _available_memory():
        return {"seconds": None, "note": f"not run: dense rma.mv holds about {R_DENSE_COPIES} {k:,} x {k:,} matrices "
                                         f"({need / 1e9:.0f} GB), more than the memory available"}
    script = csv.with_name("rma_mv_time.R")
    script.write_text(R_SCRIPT, encoding="utf-8")
    repeats = 3 if k <= 2_000 else 1
    variant = "sparse" if sparse else "dense"
    return _subprocess_json([rscript, str(script), str(csv), variant, str(repeats)], R_TIMEOUT[variant])


def _pimeta(npz: Path, k: int) -> dict:
    try:
        import pimeta  # noqa: F401
    except ImportError:
        return {"seconds": None, "note": "skipped: pimeta not installed"}
    if k > PIMETA_MAX_K:
        gb = k * k * 8 / 1e9
        return {"seconds": None, "note": f"not run: pimeta.rma_mv builds several dense {k:,} x {k:,} matrices "
                                         f"({gb:.1f} GB each) and inverts them at every likelihood evaluation"}
    script = npz.with_name("pimeta_time.py")
    script.write_text(PIMETA_SCRIPT, encoding="utf-8")
    repeats = 3 if k <= 200 else 1
    return _subprocess_json([sys.executable, str(script), str(npz), str(repeats)], PIMETA_TIMEOUT)


def _ratio(other: dict, ours: dict) -> float | None:
    return None if other.get("seconds") is None else other["seconds"] / ours["seconds"]


def main() -> dict:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-multilevel-") as tmp:
        for n_studies, k in SIZES:
            data = simulate(n_studies, k, SEED + k)
            csv, npz = Path(tmp) / f"data_{k}.csv", Path(tmp) / f"data_{k}.npz"
            np.savetxt(csv, np.column_stack([data["y"], data["v"], data["study"], data["estimate"]]), delimiter=",",
                       header="y,v,study,estimate", comments="", fmt=["%.17g", "%.17g", "%d", "%d"])
            np.savez(npz, **data)
            ours = _ours(data)
            engines = {"pimeta": _pimeta(npz, k), "r_sparse": _r(csv, True, k)}
            # dense rma.mv grows as k^3: once it has run out of time, a larger k is not tried
            gave_up = [r["k"] for r in rows if "timed out" in r["r_dense"].get("note", "")]
            engines["r_dense"] = ({"seconds": None, "note": f"not run: timed out at k = {gave_up[0]:,} already"}
                                  if gave_up else _r(csv, False, k))
            timed = [e["seconds"] for e in engines.values() if e.get("seconds") is not None]
            rows.append({
                "n_studies": n_studies, "k": k, "ours": ours, **engines,
                **{f"ratio_{name}_over_ours": _ratio(e, ours) for name, e in engines.items()},
                "faster_than_every_engine_that_ran": all(ours["seconds"] < t for t in timed),
            })
    return {
        "what": "pool_multilevel (REML, intercept only) vs pimeta.rma_mv and metafor::rma.mv (dense and sparse, "
                "timed inside R), seeded simulated three-level data",
        "seed": SEED,
        "rows": rows,
        "all_meet_aim": all(r["faster_than_every_engine_that_ran"] for r in rows),
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def _cell(engine: dict) -> str:
    return f"{engine['seconds']:.4f}" if engine.get("seconds") is not None else "-"


def _ratio_cell(value: float | None) -> str:
    return f"{value:.0f}x" if value is not None else "-"


if __name__ == "__main__":
    result = main()
    print(f"{'studies':>8} {'k':>7} {'ours (s)':>9} {'pimeta (s)':>11} {'R dense (s)':>12} {'R sparse (s)':>13} "
          f"{'pimeta/ours':>12} {'Rdense/ours':>12} {'Rsparse/ours':>13}")
    for r in result["rows"]:
        print(f"{r['n_studies']:>8} {r['k']:>7} {r['ours']['seconds']:>9.4f} {_cell(r['pimeta']):>11} "
              f"{_cell(r['r_dense']):>12} {_cell(r['r_sparse']):>13} {_ratio_cell(r['ratio_pimeta_over_ours']):>12} "
              f"{_ratio_cell(r['ratio_r_dense_over_ours']):>12} {_ratio_cell(r['ratio_r_sparse_over_ours']):>13}")
        for name in ("pimeta", "r_dense", "r_sparse"):
            if r[name].get("note"):  # no braces before the JSON: bench/run.py reads from the first one
                print(f"{'':>17} {name}: {r[name]['note']}".replace("{", "(").replace("}", ")"))
    path = Path(__file__).with_name("multilevel.json")
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
