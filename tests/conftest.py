"""Shared fixtures: paths of the repository, and a writable copy of data/ for bad-input tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run: CI is deterministic, a failure reproducible.
settings.register_profile("book", derandomize=True)
settings.load_profile("book")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A copy of data/ (CSVs, README with checksums, sources) that a test may break."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target
