"""A disk cache for the multiverse, so that the pages of one build share one computation.

Each chapter runs in its own kernel and the ledger needs every claim; without a shared store the
multiverse would be computed once per page. Results are pickled per claim under
``_build/.multiverse/<digest>/`` (or ``$TRACKING_EVIDENCE_CACHE``), where the digest covers the
package's source and the data it reads: any change to either gives a new folder, so a stale
result is never read. Writes are atomic (a temporary file renamed into place), so two pages that
compute the same claim at once do not corrupt it. Where the repository's ``_build`` cannot be
found or written (an installed wheel), nothing is stored and everything is computed.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path

__all__ = ["inputs_digest", "folder", "load", "save"]

_PACKAGE = Path(__file__).resolve().parents[1]  # src/tracking_evidence


@cache
def inputs_digest() -> str:
    """SHA-256 of the package's source files and of every file under the data folder."""
    from ..data import data_dir

    files = sorted(_PACKAGE.rglob("*.py"))
    data = data_dir()
    if data.exists():
        files += sorted(p for p in data.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(path.anchor)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def folder() -> Path | None:
    override = os.environ.get("TRACKING_EVIDENCE_CACHE")
    if override:
        base = Path(override)
    else:
        root = _PACKAGE.parents[1]
        if not (root / "_config.yml").exists():
            return None
        base = root / "_build" / ".multiverse"
    return base / inputs_digest()


def load(claim_id: str):
    where = folder()
    path = where / f"{claim_id}.pickle" if where else None
    if path is None or not path.exists():
        return None
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        return None  # unreadable (an older layout): recompute


def save(claim_id: str, value) -> None:
    where = folder()
    if where is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # a read-only tree: the result is simply not shared
    handle = tempfile.NamedTemporaryFile("wb", dir=where, delete=False, suffix=".tmp")
    try:
        with handle:
            pickle.dump(value, handle)
        os.replace(handle.name, where / f"{claim_id}.pickle")
    finally:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
