"""The student pack: the package's wheel, built by `make book` and shipped with the site
(book/_ext/student_pack.py, downloads.py), carries the data, the reference fixtures and the
bibliography, and one `pip install` of it lets a downloaded chapter notebook run away from the
repository (tracking_evidence.data.book_path reads the wheel's copy)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest

from .conftest import ROOT
from .test_site import HTML, _page

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import student_pack  # noqa: E402
from downloads import DOWNLOADS  # noqa: E402

WHEEL = HTML / DOWNLOADS / student_pack.wheel_name(ROOT)
NOTEBOOK = HTML / "_notebooks" / "book" / "pooling.ipynb"  # reads the data and an lme4 fixture


def _wheel() -> zipfile.ZipFile:
    if not WHEEL.exists():
        pytest.fail(f"{WHEEL} is missing: `make book` builds the student pack")
    return zipfile.ZipFile(WHEEL)


def _clean_env(**extra) -> dict:
    """The environment without anything that would point the package at the repository."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "TRACKING_EVIDENCE_DATA", "VIRTUAL_ENV"}}
    return {**env, **extra}


def test_the_site_ships_the_wheel_and_links_it():
    built = ROOT / "_build" / "student-pack" / WHEEL.name
    assert WHEEL.read_bytes() == built.read_bytes()
    assert f"{DOWNLOADS}/{WHEEL.name}" in _page("book/appendix/cite")
    assert f"{DOWNLOADS}/{WHEEL.name}" in _page("book/intro")  # every page's download menu


def test_the_wheel_carries_the_data_the_fixtures_and_the_bibliography():
    carried = {"data/" + p.relative_to(ROOT / "data").as_posix(): p for p in (ROOT / "data").rglob("*") if p.is_file()}
    carried |= {f"reference/{p.name}": p for p in (ROOT / "tests" / "reference").glob("*.json")}
    carried["references.bib"] = ROOT / "book" / "references.bib"
    with _wheel() as wheel:
        names = set(wheel.namelist())
        for name, source in carried.items():
            inside = f"tracking_evidence/bundled/{name}"
            assert inside in names, f"the wheel lacks {inside}"
            assert wheel.read(inside) == source.read_bytes(), f"{inside} differs from {source}"
        assert not [n for n in names if "__pycache__" in n]
        assert {f"tracking_evidence/{p.name}" for p in (ROOT / "src" / "tracking_evidence").glob("*.py")} <= names


def test_the_wheel_declares_what_the_package_needs():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    with _wheel() as wheel:
        metadata = wheel.read(f"tracking_evidence-{student_pack.project(ROOT)[1]}.dist-info/METADATA").decode()
    assert [line.split(": ", 1)[1] for line in metadata.splitlines() if line.startswith("Requires-Dist:")] == declared


def test_away_from_the_repository_the_package_reads_the_wheels_copy(tmp_path):
    """The wheel unpacked alone into a folder (no dependencies installed there: the test's own are used)."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target",
                    str(target), str(WHEEL)], check=True, capture_output=True, timeout=120)
    probe = ("import tracking_evidence as te, tracking_evidence.data as d, tracking_evidence.data.evidence as e, "
             "tracking_evidence.analyses.pooling as p\n"
             "print(te.__file__); print(d.data_dir()); print(d.reference_dir()); print(e.default_bib())\n"
             "print(len(d.load_hsb())); print(sorted(p.lme4_reference())[0]); print(len(e.load_evidence()))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=_clean_env(PYTHONPATH=str(target)))
    assert done.returncode == 0, done.stderr[-3000:]
    package, data, reference, bib, rows, _, evidence_rows = done.stdout.splitlines()
    bundled = target / "tracking_evidence" / "bundled"
    assert Path(package).parent == target / "tracking_evidence"
    assert (Path(data), Path(reference), Path(bib)) == (bundled / "data", bundled / "reference",
                                                        bundled / "references.bib")
    assert int(rows) > 0 and int(evidence_rows) > 0


def test_each_downloaded_notebook_says_first_how_to_run_it():
    for path in sorted((HTML / "_notebooks").rglob("*.ipynb")):
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.cell_type == "markdown" and f"pip install {WHEEL.name}" in first.source, path


RUN_NOTEBOOK = """
import sys, nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
notebook.cells.append(nbformat.v4.new_code_cell(
    "import tracking_evidence, tracking_evidence.data as d; print(tracking_evidence.__file__); print(d.data_dir())"))
NotebookClient(notebook, timeout=600, kernel_name="student-pack").execute()
print(notebook.cells[-1].outputs[0]["text"])
"""


@pytest.mark.slow
def test_a_downloaded_notebook_runs_with_the_wheel_alone_outside_the_repository(tmp_path):
    """A fresh virtual environment outside the repository, the wheel installed into it alone (pip brings
    its dependencies, held to requirements.txt's pins, from pip's configured index), a Jupyter kernel
    of that environment, and the site's downloadable notebook of the pooling chapter run from a folder
    of its own."""
    if not NOTEBOOK.exists():
        pytest.fail(f"{NOTEBOOK} is missing: `make book` writes the notebooks")
    venv, work = tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    python = venv / "bin" / "python"
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120, env=env)
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "-c", str(ROOT / "requirements.txt"), str(WHEEL), "ipykernel", "nbclient"]
    done = subprocess.run(install, capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    subprocess.run([str(python), "-m", "ipykernel", "install", "--prefix", str(venv), "--name", "student-pack"],
                   check=True, capture_output=True, timeout=120, env=env)
    notebook = work / NOTEBOOK.name
    notebook.write_bytes(NOTEBOOK.read_bytes())
    done = subprocess.run([str(python), "-c", RUN_NOTEBOOK, str(notebook)], cwd=work, capture_output=True, text=True,
                          timeout=900, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    package, data = done.stdout.strip().splitlines()[-2:]
    assert Path(package).is_relative_to(venv) and Path(data).is_relative_to(venv), (package, data)
    assert not Path(package).is_relative_to(ROOT)
