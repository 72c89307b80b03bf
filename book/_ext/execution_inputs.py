"""Execute a page again when what it computes from changed, not only when its code changed.

Jupyter Book's execution cache (jupyter-cache, which myst-nb consults with ``execute_notebooks:
cache``) keys a page on its code cells alone. A page whose code did not change keeps its cached
outputs after the package (``src/tracking_evidence``), the data (``data/``) or the reference
fixtures (``tests/reference/*.json``) changed, and the site would show numbers the current code no
longer computes. This extension makes ``jupyter-book build .`` key on those files too:

- ``builder-inited``: the fingerprint of those files (:func:`inputs_fingerprint`) is computed, and
  every cache record that was not stamped with it is dropped, so myst-nb executes those pages again;
- ``env-get-outdated``: if Sphinx's saved environment was read with other inputs, every page is
  read again (a page's doctree holds the outputs it was read with, and pages glue from each other);
- ``env-updated``: the records executed during this build are stamped with the fingerprint, and the
  environment remembers it.

A page that links figure data (``{download}`` of ``/_build/figure-data/<file>``, written when the
page runs, see ``tracking_evidence.site.figure_data``) is executed and read again when one of those files
is missing, e.g. after ``_build/figure-data`` was deleted but the cache kept.

``scripts/preexecute.py`` (``make book``'s parallel execution) imports :func:`inputs_fingerprint`
and :data:`FINGERPRINT_KEY` from here and stamps what it executes the same way, so the two paths
agree on what is stale.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from pathlib import Path

FINGERPRINT_KEY = "inputs_sha256"  # in a cache record's ``data`` and on Sphinx's environment
PACKAGE = "tracking_evidence"


def _package_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package '{PACKAGE}' is not importable: install it (make book does, `pip install -e .`)")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def input_folders() -> dict[str, Path]:
    """The folders the pages compute from: the imported package, its data folder
    (``tracking_evidence.data.data_dir()``) and the reference fixtures beside the package's repository."""
    from tracking_evidence.data import data_dir

    package = _package_dir()
    return {"package": package, "data": data_dir().resolve(), "reference": package.parents[1] / "tests" / "reference"}


def _files(label: str, folder: Path) -> list[tuple[str, Path]]:
    if not folder.is_dir():
        return []
    if label == "reference":
        found = folder.glob("*.json")
    else:
        found = (p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return sorted((f"{label}/{p.relative_to(folder).as_posix()}", p) for p in found)


def inputs_fingerprint(folders: dict[str, Path] | None = None) -> str:
    """SHA-256 over the names and bytes of every file the pages compute from besides their own code:
    the package's files, every file of the data folder and the reference fixtures (``*.json``).
    ``folders`` (label -> folder) defaults to :func:`input_folders`."""
    digest = hashlib.sha256()
    for label, folder in (folders or input_folders()).items():
        for name, path in _files(label, Path(folder)):
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def stamp_record(cache, pk: int, fingerprint: str) -> None:
    """Record in a cache record's ``data`` the fingerprint of the inputs it was executed with."""
    from jupyter_cache.cache.db import NbCacheRecord, session_context

    with session_context(cache.db) as session:
        record = session.query(NbCacheRecord).filter_by(pk=pk).one()
        record.data = {**(record.data or {}), FINGERPRINT_KEY: fingerprint}
        session.commit()


def is_current(record, fingerprint: str) -> bool:
    return (record.data or {}).get(FINGERPRINT_KEY) == fingerprint


# ------------------------------------------------------------------------------------ Sphinx events


DOWNLOAD_LINK = re.compile(r"</_build/figure-data/([^>]+)>`")


def missing_downloads(page: Path, root: Path) -> list[str]:
    """The files under ``_build/figure-data`` that ``page`` links and that do not exist (the page
    writes them when it runs; a page taken from the cache does not run)."""
    try:
        names = DOWNLOAD_LINK.findall(Path(page).read_text(encoding="utf-8"))
    except OSError:
        return []
    return [n for n in names if not (Path(root) / "_build" / "figure-data" / n).is_file()]


def _cache(app):
    config = getattr(app.env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache":
        return None
    from jupyter_cache import get_cache

    return get_cache(config.execution_cache_path)


def drop_stale_records(app) -> None:
    app.inputs_fingerprint = fingerprint = inputs_fingerprint()
    cache = _cache(app)
    if cache is None:
        return
    stale = [record for record in cache.list_cache_records()
             if not is_current(record, fingerprint) or missing_downloads(Path(record.uri), app.srcdir)]
    for record in stale:
        cache.remove_cache(record.pk)
    if stale:
        from sphinx.util import logging

        logging.getLogger(__name__).info(
            f"execution_inputs: the package, data or fixtures changed since {len(stale)} cached page(s) ran: "
            "they will be executed again")


def _read_with(env) -> dict[str, str]:
    """``{builder name: fingerprint of the inputs its pages were last read with}``, kept in the environment
    (per builder: builders that share the environment, html and singlehtml, each write the pages they read)."""
    if not isinstance(getattr(env, "inputs_fingerprint_by_builder", None), dict):
        env.inputs_fingerprint_by_builder = {}
    return env.inputs_fingerprint_by_builder


def reread_when_inputs_changed(app, env, added, changed, removed) -> list[str]:
    others = env.found_docs - set(added) - set(changed)
    if _read_with(env).get(app.builder.name) == app.inputs_fingerprint:
        return sorted(doc for doc in others if missing_downloads(Path(env.doc2path(doc)), app.srcdir))
    return sorted(others)


def stamp_new_records(app, env) -> None:
    fingerprint = app.inputs_fingerprint
    if inputs_fingerprint() != fingerprint:
        return  # an input was edited during the build: leave the records unstamped (executed again next time)
    cache = _cache(app)
    if cache is not None:
        for record in cache.list_cache_records():
            if FINGERPRINT_KEY not in (record.data or {}):
                stamp_record(cache, record.pk, fingerprint)
    _read_with(env)[app.builder.name] = fingerprint  # pickled with the environment


def setup(app):
    app.connect("builder-inited", drop_stale_records, priority=600)  # after myst-nb has set the cache path
    app.connect("env-get-outdated", reread_when_inputs_changed)
    app.connect("env-updated", stamp_new_records)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
