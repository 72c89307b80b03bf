"""Execute the book's notebook pages in parallel into Jupyter Book's execution cache.

Jupyter Book 1 (myst-nb, ``execute_notebooks: cache``) executes the pages one after another while
Sphinx reads them. This script runs the same execution ahead of the build, ``--jobs`` pages at a
time (default 2, the machine's cores), and stores each executed notebook in the jupyter-cache
database that myst-nb consults (``<path-output>/_build/.jupyter_cache``). The build that follows
then finds every page in the cache ("Using cached notebook: ID=...") and executes nothing.

What is executed is exactly what myst-nb would execute: the page read with myst-nb's MyST reader
(the same code cells, hence the same cache hash), run by jupyter-cache's ``single_nb_execution``
(nbclient) with the page's folder as working directory and the ``execute:`` settings of
``_config.yml`` (``timeout``, ``allow_errors``, ``exclude_patterns``). A page already in the
cache (same code) is skipped, so a rebuild with nothing changed costs only the hashing, unless
the package, the data or the reference fixtures changed since it ran: Jupyter Book's cache keys on
a page's code only, so each executed notebook is stamped with the fingerprint of those files
(``inputs_fingerprint`` of ``book/_ext/execution_inputs.py``, the extension that does the same for
a plain ``jupyter-book build .``) and a page whose stamp differs is executed again. The build that
follows re-reads every page (the extension sees that Sphinx's saved environment was read with
other inputs).

A failing cell makes the script exit with status 1 once the other pages have run, after a
message that names the page, the error and its traceback; nothing is cached for that page, so
the build that follows executes it again and fails on it too, naming it.

Usage (``make book`` runs it before ``jupyter-book build``)::

    .venv/bin/python scripts/preexecute.py [--root .] [--path-output DIR] [--jobs 2]
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from execution_inputs import FINGERPRINT_KEY, inputs_fingerprint, is_current, missing_downloads  # noqa: E402  (one fingerprint for both paths)


def toc_pages(root: Path) -> list[Path]:
    """The source files listed in ``_toc.yml`` (root page first), as existing paths."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    pages = []
    for name in names:
        candidates = [root / name] if Path(name).suffix else [root / f"{name}{ext}" for ext in (".md", ".ipynb")]
        found = [c for c in candidates if c.exists()]
        if not found:
            raise FileNotFoundError(f"_toc.yml lists '{name}', which is not a file under {root}")
        pages.append(found[0])
    return pages


def _config(root: Path) -> dict:
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}


def _md_config(config: dict):
    """The MyST parser configuration the build uses (the extensions of ``parse:``)."""
    from myst_parser.config.main import MdParserConfig

    extensions = (config.get("parse") or {}).get("myst_enable_extensions") or []
    return MdParserConfig(enable_extensions=set(extensions))


def read_page(path: Path, md_config=None):
    """The notebook myst-nb builds from ``path`` (``None`` for a Markdown page without a kernel)."""
    from myst_nb.core.read import is_myst_markdown_notebook, read_myst_markdown_notebook

    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        return nbformat.reads(text, as_version=4)
    if not is_myst_markdown_notebook(text):
        return None
    kwargs = {"config": md_config} if md_config is not None else {}
    return read_myst_markdown_notebook(text, add_source_map=True, path=str(path), **kwargs)


def _execute(path: str, timeout: int, allow_errors: bool = False) -> tuple[str, str | None, str | None, float]:
    """Worker: execute one page; returns (path, executed notebook JSON or None, error, seconds)."""
    from jupyter_cache.executors.utils import single_nb_execution

    page = Path(path)
    notebook = read_page(page, _md_config(_config(ROOT_FOR_WORKERS)))
    start = time.perf_counter()
    result = single_nb_execution(notebook, cwd=str(page.parent), allow_errors=allow_errors, timeout=timeout,
                                 meta_override=True)
    seconds = time.perf_counter() - start
    if result.err is not None:
        return path, None, f"{result.err.__class__.__name__}\n{result.exc_string}", seconds
    return path, nbformat.writes(notebook), None, seconds


ROOT_FOR_WORKERS = ROOT


def _init_worker(root: str) -> None:
    global ROOT_FOR_WORKERS
    ROOT_FOR_WORKERS = Path(root)


def preexecute(root: Path = ROOT, path_output: Path | None = None, jobs: int = 2, log=print) -> dict:
    """Execute every uncached notebook page of the book at ``root`` into the execution cache.

    Returns ``{page: seconds}`` for the pages executed (cached pages are not listed). Raises
    ``RuntimeError`` naming every page whose execution failed.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    root = Path(root).resolve()
    config = _config(root)
    if (config.get("execute") or {}).get("execute_notebooks", "auto") not in {"cache"}:
        raise RuntimeError("preexecute.py needs `execute: execute_notebooks: cache` in _config.yml")
    execute = config.get("execute") or {}
    timeout = int(execute.get("timeout", 30))
    allow_errors = bool(execute.get("allow_errors", False))
    excluded = execute.get("exclude_patterns") or []
    build = Path(path_output or root).resolve() / "_build"
    cache_path = build / ".jupyter_cache"
    cache = get_cache(str(cache_path))
    md_config = _md_config(config)
    fingerprint = inputs_fingerprint()

    todo, stale = [], []
    for page in toc_pages(root):
        if any(fnmatch.fnmatch(page.relative_to(root).as_posix(), pattern) for pattern in excluded):
            continue  # `execute: exclude_patterns`: myst-nb does not execute these either
        notebook = read_page(page, md_config)
        if notebook is None:
            continue
        try:
            record = cache.match_cache_notebook(notebook)
        except KeyError:
            todo.append(page)  # new page, or its code changed
            continue
        if not is_current(record, fingerprint):
            todo.append(page)  # same code, but the package, the data or the fixtures changed since it ran
            stale.append(page)
        elif missing_downloads(page, root):
            todo.append(page)  # the figure CSVs it links were removed: only running it writes them
    if stale:
        log(f"preexecute: the package, data or fixtures changed since {len(stale)} cached page(s) ran: executing "
            "them again (the build that follows re-reads every page)")
    if not todo:
        log(f"preexecute: every notebook page is in the cache ({cache_path})")
        return {}
    # the verdicts' multiverse first, shared by every page through its disk store
    from tracking_evidence.verdicts import multiverse

    start = time.perf_counter()
    warmed = multiverse.warm()  # one process: the claims share their cached computations
    log(f"preexecute: multiverse of {warmed} claims computed in {time.perf_counter() - start:.2f} s")
    # longest first (by size of the code): the two workers finish at about the same time
    todo.sort(key=lambda p: -sum(len(c.source) for c in read_page(p, md_config).cells if c.cell_type == "code"))
    log(f"preexecute: executing {len(todo)} page(s) with {jobs} worker(s) into {cache_path}")
    times, failures = {}, {}
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, jobs), initializer=_init_worker, initargs=(str(root),)) as pool:
        futures = [pool.submit(_execute, str(page), timeout, allow_errors) for page in todo]
        for future in as_completed(futures):
            path, executed, error, seconds = future.result()
            name = os.path.relpath(path, root)
            if error is not None:
                failures[name] = error
                log(f"preexecute: FAILED {name} after {seconds:.2f} s\n{error}")
                continue
            notebook = nbformat.reads(executed, as_version=4)
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, path, data={"execution_seconds": seconds, FINGERPRINT_KEY: fingerprint}),
                check_validity=False, overwrite=True)
            times[name] = seconds
            log(f"preexecute: executed {name} in {seconds:.2f} s")
    log(f"preexecute: {len(times)} page(s) executed in {time.perf_counter() - start:.2f} s wall time")
    if failures:
        raise RuntimeError("notebook execution failed in: " + ", ".join(sorted(failures)))
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="book root (with _config.yml and _toc.yml)")
    parser.add_argument("--path-output", type=Path, default=None,
                        help="as jupyter-book build --path-output (cache in <path-output>/_build/.jupyter_cache)")
    parser.add_argument("--jobs", type=int, default=2, help="pages executed at the same time")
    args = parser.parse_args(argv)
    try:
        preexecute(args.root, args.path_output, args.jobs)
    except RuntimeError as error:
        print(f"preexecute: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
