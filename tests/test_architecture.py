"""The package's architecture: five layers, imports pointing down only, enforced.

``pyproject.toml`` holds the ``import-linter`` contracts; these tests run them (``lint-imports``),
show that they can fail (an upward import planted in a copy of the package breaks the layers
contract, a rule module importing another breaks the independence contract), find no import
cycle anywhere in the package, and check that the drawing in ``CONTRIBUTING.md`` lists the same
layers, in the same order, as the contract.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = "tracking_evidence"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def _lint(root: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` on the package under ``root/src`` with ``root/pyproject.toml``'s contracts."""
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_the_contracts_are_kept():
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken" in done.stdout


def test_the_layers_contract_names_the_five_layers_in_order():
    layers = next(c for c in _contracts() if c["id"] == "layers")
    assert layers["type"] == "layers"
    assert [name.removeprefix(f"{PACKAGE}.") for name in layers["layers"]] == [
        "site", "verdicts", "analyses", "data", "stats"]


def test_an_upward_import_fails_the_layers_contract(tmp_path):
    """The engine importing presentation: the contract fails, naming itself and the import."""
    copy = _copy(tmp_path)
    meta = copy / "src" / PACKAGE / "stats" / "meta.py"
    meta.write_text(meta.read_text(encoding="utf-8") + "\nfrom ..site import tables  # planted upward import\n",
                    encoding="utf-8")
    done = _lint(copy)
    assert done.returncode != 0
    assert "Five layers, imports point down only" in done.stdout and "BROKEN" in done.stdout
    assert "tracking_evidence.stats.meta -> tracking_evidence.site.tables" in done.stdout


def test_a_rule_module_importing_another_fails_the_independence_contract(tmp_path):
    copy = _copy(tmp_path)
    rules = copy / "src" / PACKAGE / "verdicts" / "claims_peers.py"
    rules.write_text(rules.read_text(encoding="utf-8") + "\nfrom . import claims_gaps  # planted\n", encoding="utf-8")
    done = _lint(copy)
    assert done.returncode != 0
    assert "no rule module imports another" in done.stdout and "BROKEN" in done.stdout


_CYCLES = """
import json, sys
import grimp
graph = grimp.build_graph("tracking_evidence", cache_dir=None)
found = []
for importer in sorted(graph.modules):
    for imported in sorted(graph.find_modules_directly_imported_by(importer)):
        if graph.find_shortest_chain(importer=imported, imported=importer):
            found.append([importer, imported])
print(json.dumps({"modules": len(graph.modules), "cycles": found}))
"""


def _cycles(src: Path) -> dict:
    """Every pair (a, b) of modules of the package under ``src`` with a direct import a -> b and a
    chain of imports back from b to a (grimp, in a fresh process so that it reads ``src``)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, "-c", _CYCLES], env=env, capture_output=True, text=True, timeout=300,
                          check=True)
    return json.loads(done.stdout)


def test_no_import_cycle_in_the_package():
    found = _cycles(ROOT / "src")
    assert found["modules"] > 30
    assert found["cycles"] == []


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path):
    copy = _copy(tmp_path)
    meta = copy / "src" / PACKAGE / "stats" / "meta.py"
    meta.write_text(meta.read_text(encoding="utf-8") + "\nfrom . import multilevel  # planted cycle\n", encoding="utf-8")
    assert [f"{PACKAGE}.stats.meta", f"{PACKAGE}.stats.multilevel"] in _cycles(copy / "src")["cycles"]


def _drawn_layers() -> list[str]:
    """The layers of CONTRIBUTING.md's drawing, top first (lines ' 5 site   ...')."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    block = text.split("## The package (`src/tracking_evidence/`)", 1)[1].split("```", 2)[1]
    return [m.group(2) for m in re.finditer(r"^ (\d) (\w+) ", block, flags=re.M)]


def test_contributing_draws_the_contract():
    layers = next(c for c in _contracts() if c["id"] == "layers")["layers"]
    assert _drawn_layers() == [name.removeprefix(f"{PACKAGE}.") for name in layers]


@pytest.mark.parametrize("layer", ["stats", "data", "analyses", "verdicts", "site"])
def test_each_layer_is_a_subpackage_with_its_docstring(layer):
    init = ROOT / "src" / PACKAGE / layer / "__init__.py"
    assert init.exists()
    assert init.read_text(encoding="utf-8").lstrip().startswith('"""')


def test_no_module_left_at_the_top_of_the_package():
    """Every module lives in a layer; the package's top holds only its __init__."""
    top = sorted(p.name for p in (ROOT / "src" / PACKAGE).glob("*.py"))
    assert top == ["__init__.py"]
