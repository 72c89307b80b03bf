"""Rebuilding never shows stale numbers: `jupyter-book build .`, the command authors are told to use,
executes a page again when the package, the data or the reference fixtures changed since it was
cached (book/_ext/execution_inputs.py), and `make book`'s parallel pre-execution agrees with it.

The end-to-end test works on a copy of the repository with a one-page table of contents: the page
glues a number that a function of the copy's package returns; the function is edited; the plain
`jupyter-book build .` must show the new number.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import NOTEBOOK_FRONT_MATTER, ROOT

BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import execution_inputs  # noqa: E402

PROBE_MODULE = "def value():\n    return {value!r}\n"
PROBE_PAGE = NOTEBOOK_FRONT_MATTER + """
# A page that shows a number the package computes

```{code-cell} ipython3
from tracking_evidence import stale_probe
from tracking_evidence.site.gluing import glue

glue("probe_value", stale_probe.value())
```

The package computes {glue:text}`probe_value`.
"""


# ------------------------------------------------------------------------------ the fingerprint


@pytest.fixture
def input_folders(tmp_path: Path) -> dict[str, Path]:
    folders = {"package": tmp_path / "pkg", "data": tmp_path / "data", "reference": tmp_path / "reference"}
    for folder in folders.values():
        folder.mkdir()
    (folders["package"] / "compute.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    (folders["data"] / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (folders["reference"] / "fit.json").write_text('{"estimate": 0.5}', encoding="utf-8")
    return folders


@pytest.mark.parametrize("edited", ["package/compute.py", "data/table.csv", "reference/fit.json"])
def test_fingerprint_changes_with_the_package_the_data_and_the_fixtures(input_folders, edited):
    before = execution_inputs.inputs_fingerprint(input_folders)
    label, name = edited.split("/")
    with (input_folders[label] / name).open("a", encoding="utf-8") as handle:
        handle.write("\n")
    assert execution_inputs.inputs_fingerprint(input_folders) != before


def test_fingerprint_ignores_what_the_pages_do_not_read(input_folders):
    before = execution_inputs.inputs_fingerprint(input_folders)
    (input_folders["package"] / "__pycache__").mkdir()
    (input_folders["package"] / "__pycache__" / "compute.cpython-311.pyc").write_bytes(b"\0")
    (input_folders["reference"] / "fit.R").write_text("# the script that wrote the fixture\n", encoding="utf-8")
    assert execution_inputs.inputs_fingerprint(input_folders) == before


def test_fingerprint_sees_a_renamed_file(input_folders):
    before = execution_inputs.inputs_fingerprint(input_folders)
    (input_folders["data"] / "table.csv").rename(input_folders["data"] / "other.csv")
    assert execution_inputs.inputs_fingerprint(input_folders) != before


def test_the_default_folders_are_the_repositorys():
    folders = execution_inputs.input_folders()
    assert folders["package"] == ROOT / "src" / "tracking_evidence"
    assert folders["data"] == ROOT / "data"
    assert folders["reference"] == ROOT / "tests" / "reference"


# -------------------------------------------------------------- end to end, in a copy of the repository


@pytest.fixture
def repository_copy(tmp_path: Path) -> Path:
    """The repository's configuration, extensions, package, data and fixtures, with one page that
    glues ``tracking_evidence.stale_probe.value()``."""
    copy = tmp_path / "repo"
    (copy / "book").mkdir(parents=True)
    (copy / "tests").mkdir()
    shutil.copy2(ROOT / "_config.yml", copy / "_config.yml")
    for folder in ("book/_ext", "book/_static", "data", "tests/reference"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy2(ROOT / "book" / "references.bib", copy / "book" / "references.bib")
    (copy / "_toc.yml").write_text("format: jb-book\nroot: book/probe\n", encoding="utf-8")
    (copy / "book" / "probe.md").write_text(PROBE_PAGE, encoding="utf-8")
    _set_probe(copy, 271.828)
    return copy


def _set_probe(copy: Path, value: float) -> None:
    (copy / "src" / "tracking_evidence" / "stale_probe.py").write_text(PROBE_MODULE.format(value=value),
                                                                        encoding="utf-8")


def _run(copy: Path, command: list[str]) -> str:
    """Run ``command`` in the copy, its package first on the path (for the build and its kernels)."""
    env = {**os.environ, "PYTHONPATH": str(copy / "src")}
    env.pop("TRACKING_EVIDENCE_DATA", None)
    done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=600)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    return log


def _build(copy: Path) -> str:
    return _run(copy, [str(BIN / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"])


def _shown(copy: Path) -> str:
    html = (copy / "_build" / "html" / "book" / "probe.html").read_text(encoding="utf-8")
    return re.search(r"The package computes\s*(.*?)\.\s*</p>", html, re.S).group(1)


@pytest.mark.slow
def test_jupyter_book_build_alone_shows_the_number_the_package_now_computes(repository_copy):
    log = _build(repository_copy)
    assert "Executed notebook" in log and "271.828" in _shown(repository_copy)

    log = _build(repository_copy)  # nothing changed: rendered from the cache, nothing executed
    assert "Executing notebook" not in log, log[-2000:]

    _set_probe(repository_copy, 314.159)  # the page's code is unchanged: only the package changed
    log = _build(repository_copy)
    assert "Executed notebook" in log, log[-2000:]
    shown = _shown(repository_copy)
    assert "314.159" in shown and "271.828" not in shown


@pytest.mark.slow
def test_preexecution_and_the_build_agree_on_what_is_stale(repository_copy):
    """`make book`'s path: pre-execution stamps what it executes with the same fingerprint, so the build
    that follows executes nothing and re-renders the page with the new outputs."""
    preexecute = [sys.executable, str(ROOT / "scripts" / "preexecute.py"), "--root", ".", "--jobs", "1"]
    _run(repository_copy, preexecute)
    assert "Executing notebook" not in _build(repository_copy)
    assert "271.828" in _shown(repository_copy)

    _set_probe(repository_copy, 314.159)
    assert "executed book/probe.md" in _run(repository_copy, preexecute)
    log = _build(repository_copy)
    assert "Executing notebook" not in log, log[-2000:]
    assert "314.159" in _shown(repository_copy)
