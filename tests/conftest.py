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

# The front matter of a MyST notebook page (a page with code cells), for the small books tests build.
NOTEBOOK_FRONT_MATTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A copy of data/ (CSVs, README with checksums, sources) that a test may break."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target
