"""`make bench`: measure how long the book takes to build and test, and how fast the engine is.

Everything is built from a snapshot of the sources (``_config.yml``, ``_toc.yml``, ``book/``,
``data/``, ``src/``) taken from the last commit (``--source head``, the default; or the working
tree as it is, ``--source worktree``) into a temporary folder, so that chapters edited by someone
else during the bench do not change what is measured, and so that the "one chapter changed"
measure can edit a chapter without touching the working tree. The chapters read ``data/`` from
the snapshot (``TRACKING_EVIDENCE_DATA``) and import the snapshot's package (its ``src/`` first
on ``PYTHONPATH``), so every build of one bench runs the same code on the same data.

Measures (each repeated; median and spread = max - min reported):

- ``cold_serial``: Jupyter Book's default, an empty ``_build``, notebooks executed one after
  another while Sphinx reads them (``jupyter-book build``);
- ``cold_parallel``: an empty ``_build``, ``scripts/preexecute.py`` (2 pages at a time into the
  execution cache), then ``jupyter-book build`` rendering from the cache;
- ``noop_rebuild``: nothing changed since the last build (``make book``'s commands);
- ``one_chapter_rebuild``: a comment appended to a code cell of one chapter (a different comment
  each run, so its cache entry misses every time), then ``make book``'s commands;
- each chapter's execution time, from myst-nb's "Executed notebook in X seconds" lines of the
  serial cold builds;
- the engine's own benchmarks (``bench/bench_meta.py``, ``bench/bench_votecount.py``,
  ``bench/bench_multilevel.py`` when present: their JSON is collected as they print it);
- ``make test`` in the repository (optional: ``--with-make-test``; it rebuilds ``_build`` of the
  working tree incrementally, then runs pytest).

The machine's load average is recorded before each run: on a shared machine other people's
builds and tests slow every measure, and the numbers say how loaded it was.

Usage: ``make bench`` or ``.venv/bin/python bench/run.py [--cold 2] [--rebuild 3] [--with-make-test]``.
Writes ``bench/results.json`` and prints a table. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
JB = [str(BIN / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"]
PRE = [sys.executable, str(ROOT / "scripts" / "preexecute.py"), "--root", ".", "--jobs", "2"]
TARGETS = {"cold": 180.0, "noop_rebuild": 15.0, "chapter": 30.0}
EXECUTED = re.compile(r"(\S+\.md): Executed notebook in ([0-9.]+) seconds")
CACHED = re.compile(r"(\S+\.md): Using cached notebook")
# pooling reads the lme4 fixture; the "How to cite" page reads CITATION.cff; the HTML build ships the
# student pack, a wheel built from pyproject.toml, setup.py and LICENSE
SNAPSHOT = ("_config.yml", "_toc.yml", "book", "data", "src", "tests/reference", "CITATION.cff", "pyproject.toml",
            "setup.py", "LICENSE")


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _run(commands: list[list[str]], cwd: Path, env: dict) -> dict:
    """Run ``commands`` one after another; wall time of all, combined log, exit status of the last."""
    load = _load()
    start = time.perf_counter()
    log, code = "", 0
    for command in commands:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        log += done.stdout + done.stderr
        code = done.returncode
        if code:
            break
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 2), "returncode": code, "load_before": load,
            "executed": {m[0]: float(m[1]) for m in EXECUTED.findall(log)},
            "cached": sorted(set(CACHED.findall(log))), "log_tail": _failure(log) if code else ""}


def _fingerprint(build: Path) -> dict:
    """What a reader sees of a build: every glued value (text/plain) and the figure files pages show."""
    glued = {}
    for path in sorted((build / "jupyter_execute").rglob("*.glue.json")):
        values = json.loads(path.read_text(encoding="utf-8"))
        glued[path.relative_to(build).as_posix()] = {k: v["data"].get("text/plain") for k, v in values.items()}
    shown = set()
    for page in (build / "html").rglob("*.html"):
        shown |= set(re.findall(r"_images/([0-9a-f]{64})\.png", page.read_text(encoding="utf-8")))
    return {"glued": glued, "figures": sorted(shown)}


def _failure(log: str) -> str:
    """The part of a failed build's log that says what failed (myst-nb's warning and the traceback)."""
    at = max(log.find("Executing notebook failed"), log.find("preexecute: FAILED"))
    head = log[at:at + 1500] + "\n[...]\n" if at >= 0 else ""
    return head + log[-2500:]


def _summary(runs: list[dict]) -> dict:
    times = [r["seconds"] for r in runs]
    return {"runs": times, "median": round(statistics.median(times), 2),
            "spread": round(max(times) - min(times), 2), "ok": all(r["returncode"] == 0 for r in runs),
            "load_before": [r["load_before"] for r in runs]}


def _snapshot(target: Path, source: str) -> Path:
    """Copy the book's sources into ``target/src``: from the last commit (``source="head"``, the
    default: a consistent state even while people edit) or from the working tree (``"worktree"``)."""
    src = target / "src"
    src.mkdir(parents=True)
    if source == "head":
        archive = subprocess.run(["git", "archive", "--format=tar", "HEAD", *SNAPSHOT], cwd=ROOT,
                                 capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
        return src
    for name in SNAPSHOT:
        path = ROOT / name
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        else:
            shutil.copy2(path, src / name)
    return src


def _edit_one_chapter(src: Path, page: str, run: int) -> None:
    """Add a comment as the last line of the first code cell of ``page``: its code (hence its cache
    hash) changes, its results do not."""
    path = src / page
    lines = path.read_text(encoding="utf-8").split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith("```{code-cell}")), None)
    if start is None:
        raise RuntimeError(f"{page} has no code cell to edit")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].rstrip() == "```")
    lines.insert(end, f"# bench edit {run} {time.time()}")
    path.write_text("\n".join(lines), encoding="utf-8")


def _engine() -> dict:
    """Run the engine benchmarks (owned by their modules' authors) from a temporary copy, so that
    the JSON files they write next to themselves land there and the working tree is left alone."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        for name in ("bench_meta.py", "bench_votecount.py", "bench_multilevel.py", "bench_multiverse.py"):
            script = ROOT / "bench" / name
            if not script.exists():
                out[name] = {"present": False}
                continue
            copy = Path(tmp) / name
            shutil.copy2(script, copy)
            done = subprocess.run([sys.executable, str(copy)], cwd=ROOT, capture_output=True, text=True)
            try:
                out[name] = json.loads(done.stdout[done.stdout.index("{"):])
            except ValueError:
                out[name] = {"returncode": done.returncode, "stdout": done.stdout[-2000:],
                             "stderr": done.stderr[-2000:]}
    return out


def _make_test() -> dict:
    load = _load()
    start = time.perf_counter()
    done = subprocess.run(["make", "test"], cwd=ROOT, capture_output=True, text=True)
    lines = (done.stdout + done.stderr).splitlines()
    summary = [line for line in lines if re.match(r"^(FAILED|ERROR) |^=+ .*(passed|failed|error)", line)]
    return {"seconds": round(time.perf_counter() - start, 2), "returncode": done.returncode,
            "load_before": load, "summary": summary[-40:] or lines[-5:]}


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip()


def measure(cold: int, rebuild: int, chapter: str, with_make_test: bool, source: str = "head") -> dict:
    results: dict = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "commit": _git("rev-parse", "HEAD"),
        "source": source,
        "dirty_files": [line for line in _git("status", "--porcelain").splitlines() if line.endswith(".md")],
        "cpu_count": os.cpu_count(), "python": platform.python_version(), "targets_seconds": TARGETS,
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        src = _snapshot(Path(tmp), source)
        # the package too: the snapshot's copy of src/ comes first on the path (before the editable install)
        path = os.pathsep.join(p for p in [str(src / "src"), os.environ.get("PYTHONPATH", "")] if p)
        env = dict(os.environ, TRACKING_EVIDENCE_DATA=str(src / "data"), PYTHONPATH=path)
        build = src / "_build"
        serial, parallel, prints = [], [], []
        for _ in range(cold):  # interleaved, so that a change of load hits both alike
            shutil.rmtree(build, ignore_errors=True)
            serial.append(_run([JB], src, env))
            prints.append(_fingerprint(build))
            shutil.rmtree(build, ignore_errors=True)
            parallel.append(_run([PRE, JB], src, env))
            prints.append(_fingerprint(build))
        noop = [_run([PRE, JB], src, env) for _ in range(rebuild)]
        noop_jb = [_run([JB], src, env) for _ in range(rebuild)]
        changed = []
        for run in range(rebuild):
            _edit_one_chapter(src, chapter, run)
            changed.append(_run([PRE, JB], src, env))
        changed_serial = []
        for run in range(rebuild):
            _edit_one_chapter(src, chapter, rebuild + run)
            changed_serial.append(_run([JB], src, env))
    per_chapter: dict[str, list[float]] = {}
    for r in serial:
        for page, seconds in r["executed"].items():
            per_chapter.setdefault(page.split("/src/")[-1], []).append(seconds)
    chapters = {p: {"runs": v, "median": round(statistics.median(v), 2), "max": max(v)}
                for p, v in sorted(per_chapter.items())}
    results["cold_serial"] = _summary(serial)
    results["cold_parallel"] = _summary(parallel)
    results["parallel_over_serial"] = round(results["cold_parallel"]["median"] / results["cold_serial"]["median"], 3)
    results["noop_rebuild"] = _summary(noop)
    results["noop_rebuild_jupyter_book_only"] = _summary(noop_jb)
    results["one_chapter_rebuild"] = dict(_summary(changed), chapter=chapter)
    results["one_chapter_rebuild_serial"] = dict(_summary(changed_serial), chapter=chapter)
    results["cold_builds_identical"] = all(p == prints[0] for p in prints)
    results["cold_builds_glued_values"] = sum(len(v) for v in prints[0]["glued"].values())
    results["cold_builds_figures"] = len(prints[0]["figures"])
    results["noop_all_cached"] = all(not r["executed"] for r in noop + noop_jb)
    results["parallel_build_executed_nothing"] = all(not r["executed"] for r in parallel)
    results["parallel_build_pages_from_cache"] = [len(r["cached"]) for r in parallel]
    results["chapter_execution_seconds"] = chapters
    results["failures"] = [r["log_tail"] for r in serial + parallel + noop + noop_jb + changed + changed_serial
                           if r["returncode"]]
    results["engine"] = _engine()
    if with_make_test:
        results["make_test"] = _make_test()
    return results


def table(results: dict) -> str:
    rows = [("measure", "median s", "spread s", "runs", "target s")]
    for key, target in [("cold_serial", TARGETS["cold"]), ("cold_parallel", TARGETS["cold"]),
                        ("noop_rebuild", TARGETS["noop_rebuild"]), ("noop_rebuild_jupyter_book_only", TARGETS["noop_rebuild"]),
                        ("one_chapter_rebuild", None), ("one_chapter_rebuild_serial", None)]:
        r = results[key]
        rows.append((key, f"{r['median']:.1f}", f"{r['spread']:.1f}", str(len(r["runs"])),
                     "" if target is None else f"{target:.0f}"))
    for page, r in results["chapter_execution_seconds"].items():
        rows.append((f"  execute {page}", f"{r['median']:.1f}", f"{max(r['runs']) - min(r['runs']):.1f}",
                     str(len(r["runs"])), f"{TARGETS['chapter']:.0f}"))
    if "make_test" in results:
        rows.append(("make test", f"{results['make_test']['seconds']:.1f}", "", "1", ""))
    width = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(width[i]) if i == 0 else cell.rjust(width[i]) for i, cell in enumerate(row))
             for row in rows]
    lines.append(f"parallel / serial cold build: {results['parallel_over_serial']:.3f}")
    lines.append(f"all cold builds (serial and parallel) identical: {results['cold_builds_identical']} "
                 f"({results['cold_builds_glued_values']} glued values, {results['cold_builds_figures']} figures)")
    for name, out in results["engine"].items():
        if "median_seconds" in out:
            lines.append(f"engine {name}: median {out['median_seconds']} s (target {out.get('target_seconds')} s)")
        else:
            lines.append(f"engine {name}: {json.dumps(out)[:200]}")
    return "\n".join(lines)


def markdown(results: dict) -> str:
    """The measures as a Markdown table (for README.md / the README)."""
    def cell(r):
        runs = ", ".join(f"{t:.1f}" for t in r["runs"])
        return f"{r['median']:.1f} | {r['spread']:.1f} | {runs}"

    rows = ["| Measure | Median (s) | Spread (s) | Runs (s) | Target (s) |", "|---|---|---|---|---|"]
    names = [("cold_serial", "Cold build, serial (Jupyter Book's default: `make book-serial`)", TARGETS["cold"]),
             ("cold_parallel", "Cold build, parallel pre-execution + render (`make book`)", TARGETS["cold"]),
             ("noop_rebuild", "Rebuild, nothing changed (`make book`)", TARGETS["noop_rebuild"]),
             ("noop_rebuild_jupyter_book_only", "Rebuild, nothing changed (`jupyter-book build` only)",
              TARGETS["noop_rebuild"]),
             ("one_chapter_rebuild", f"Rebuild, one chapter changed (`make book`; {results['one_chapter_rebuild']['chapter']})", None),
             ("one_chapter_rebuild_serial", "Rebuild, one chapter changed (`jupyter-book build` only)", None)]
    for key, label, target in names:
        rows.append(f"| {label} | {cell(results[key])} | {'' if target is None else f'{target:.0f}'} |")
    for page, r in results["chapter_execution_seconds"].items():
        runs = ", ".join(f"{t:.1f}" for t in r["runs"])
        rows.append(f"| Execute `{page}` (serial build) | {r['median']:.1f} | {max(r['runs']) - min(r['runs']):.1f} | "
                    f"{runs} | {TARGETS['chapter']:.0f} |")
    if "make_test" in results:
        mt = results["make_test"]
        rows.append(f"| `make test` (working tree, exit status {mt['returncode']}) | {mt['seconds']:.1f} | | 1 run | |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Measure build, rebuild, chapter and engine times.")
    parser.add_argument("--cold", type=int, default=2, help="cold builds of each kind (serial, parallel)")
    parser.add_argument("--rebuild", type=int, default=3, help="runs of each rebuild measure")
    parser.add_argument("--chapter", default="book/reanalysis.md", help="the chapter edited for the one-chapter rebuild")
    parser.add_argument("--source", choices=["head", "worktree"], default="head",
                        help="build the last commit (default) or the working tree as it is")
    parser.add_argument("--with-make-test", action="store_true", help="also time `make test` in the working tree")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="print the Markdown table of an existing results file and exit (no measuring)")
    args = parser.parse_args(argv)
    if args.markdown is not None:
        print(markdown(json.loads(args.markdown.read_text(encoding="utf-8"))))
        return 0
    results = measure(args.cold, args.rebuild, args.chapter, args.with_make_test, args.source)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(f"written: {args.output}")
    return 0 if not results["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
