"""The wheel's build step (pyproject.toml holds the metadata).

The wheel of ``tracking_evidence`` (the book's "student pack", built by ``make book``) carries a
copy of what the package reads from the repository: the data (``data/``), the reference fixtures
written by R (``tests/reference/*.json``) and the bibliography (``book/references.bib``). They go
under ``tracking_evidence/bundled/``, where ``tracking_evidence.data.book_path`` finds them when
the repository is not there. In the repository they stay where they are; an editable install
(``pip install -e .``, what ``make`` does) copies nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def bundled_files() -> dict[str, Path]:
    """``{path under tracking_evidence/bundled/: file in the repository}``."""
    files = {f"data/{p.relative_to(ROOT / 'data').as_posix()}": p
             for p in sorted((ROOT / "data").rglob("*")) if p.is_file()}
    files.update({f"reference/{p.name}": p for p in sorted((ROOT / "tests" / "reference").glob("*.json"))})
    files["references.bib"] = ROOT / "book" / "references.bib"
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing or not any(name.startswith("data/") for name in files):
        raise FileNotFoundError(f"the wheel needs the book's data, fixtures and bibliography; missing: {missing or 'data/'}")
    return files


class BuildPyWithBookFiles(build_py):
    """``build_py``, then the book's files copied into the package (not for an editable install)."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "tracking_evidence" / "bundled"
        for name, source in bundled_files().items():
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)


setup(cmdclass={"build_py": BuildPyWithBookFiles})
