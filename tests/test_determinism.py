"""Determinism: the numbers and figures of the built site come back identical from a second,
independent execution, and they equal what the package computes when called directly.

Needs the built site (`make book`; `make test` does it first).

What is compared, and why this way. A second *execution* is the point: a build that re-rendered
the first build's cached outputs would prove nothing about seeds, hash salts or sort orders. So
``test_second_execution_reproduces_the_site`` executes every notebook page again from scratch
(``scripts/preexecute.py`` into a temporary execution cache: new kernels, new Python hash seeds,
two pages at a time, about a minute on 2 cores) and compares, page by page, each glued value
(its ``text/plain`` repr: what ``{glue:text}`` formats) and the SHA-256 of every PNG output with
what the site was built from (``_build/.jupyter_cache``, the cache ``make book`` rendered). The
Sphinx render is not repeated: it is a pure function of those executed notebooks and the sources,
and its figure files are named by the SHA-256 of their bytes (``_build/html/_images/<sha>.png``),
which a test checks, so "same PNG outputs" is "same figure files byte for byte". The glued values
the site shows come from ``_build/jupyter_execute/**/<page>.glue.json``, which the test reads too.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import re
import sys
from base64 import b64decode
from functools import cache
from pathlib import Path

import pytest

from tracking_evidence.analyses import acceleration, gaps, models, peers, reanalysis, synthesis
from tracking_evidence.data import claims, evidence
from tracking_evidence.site import ledger as claims_ledger
from tracking_evidence import data

from .conftest import ROOT
from .test_offline import offline_env

BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"
GLUE_JSON = BUILD / "jupyter_execute"
IMAGES = BUILD / "html" / "_images"
VERDICT_KEY = re.compile(r"(?:^|_)([abc]\d+)_(verdict|headline)$")


def _preexecute_module():
    """scripts/preexecute.py, imported by name (its process pool pickles its functions by module name)."""
    scripts = str(ROOT / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    return importlib.import_module("preexecute")


def _require_site():
    for path in (CACHE, GLUE_JSON, IMAGES):
        if not path.exists():
            pytest.fail(f"{path} is missing: run `make book` (make test does) before this test")


def _outputs(notebook) -> tuple[dict, list[str]]:
    """(glued values as their text/plain repr, SHA-256 of each PNG output in order) of an executed notebook."""
    glued, pngs = {}, []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            record = output.get("metadata", {}).get("scrapbook")
            bundle = output.get("data", {})
            if record:
                prefix = record.get("mime_prefix", "")
                glued[record["name"]] = {k[len(prefix):]: v for k, v in bundle.items() if k.startswith(prefix)}
            for mime, payload in bundle.items():
                if mime.endswith("image/png"):
                    raw = b64decode("".join(payload) if isinstance(payload, list) else payload)
                    pngs.append(hashlib.sha256(raw).hexdigest())
    return glued, pngs


def _executed_pages(cache_path: Path) -> dict[str, tuple[dict, list[str]]]:
    """``{page: outputs}`` for every notebook page of the book, matched by its current code in ``cache_path``."""
    from jupyter_cache import get_cache

    pre = _preexecute_module()
    md_config = pre._md_config(pre._config(ROOT))
    cache_ = get_cache(str(cache_path))
    pages = {}
    for page in pre.toc_pages(ROOT):
        notebook = pre.read_page(page, md_config)
        if notebook is None:
            continue
        name = page.relative_to(ROOT).as_posix()
        try:
            record = cache_.match_cache_notebook(notebook)
        except KeyError:
            pytest.fail(f"{name}: no executed notebook in {cache_path} matches its code "
                        "(edited since the last `make book`? rebuild first)")
        pages[name] = _outputs(cache_.get_cache_bundle(record.pk).nb)
    return pages


@cache
def _site_glue() -> dict[str, dict]:
    """``{page: {key: mime bundle}}`` from the glue files the site was rendered with."""
    _require_site()
    out = {}
    for path in sorted(GLUE_JSON.rglob("*.glue.json")):
        page = "book/" + path.relative_to(GLUE_JSON / "book").as_posix().removesuffix(".glue.json") + ".md"
        out[page] = {key: value["data"] for key, value in json.loads(path.read_text(encoding="utf-8")).items()}
    return out


def _plain(page: str, key: str):
    """The Python value behind a glued key of the built site (its text/plain repr, evaluated)."""
    import ast

    glued = _site_glue().get(page)
    assert glued is not None, f"{page}: no glue file in the built site"
    assert key in glued, f"{page}: the site glues no key '{key}'"
    return ast.literal_eval(glued[key]["text/plain"])


@pytest.mark.slow
def test_second_execution_reproduces_the_site(tmp_path, monkeypatch):
    """Also the offline check of the book's execution: every kernel of the second execution starts
    with the network guard of tests/test_offline.py (non-loopback connections refused)."""
    _require_site()
    built = _executed_pages(CACHE)
    env, marks = offline_env(tmp_path / "guard")
    for name in ("PYTHONPATH", "OFFLINE_GUARD_MARKS"):
        monkeypatch.setenv(name, env[name])
    messages: list[str] = []
    try:
        _preexecute_module().preexecute(ROOT, tmp_path / "out", jobs=2, log=messages.append)
    except RuntimeError as error:
        pytest.fail(f"second execution failed: {error}\n" + "\n".join(messages)[-5000:])
    assert len(list(marks.iterdir())) >= len(built), "the network guard did not start in every kernel"
    fresh = _executed_pages(tmp_path / "out" / "_build" / ".jupyter_cache")
    assert built.keys() == fresh.keys()
    problems = []
    for page, (glued, pngs) in built.items():
        fresh_glued, fresh_pngs = fresh[page]
        if glued.keys() != fresh_glued.keys():
            problems.append(f"{page}: glue keys differ: {sorted(set(glued) ^ set(fresh_glued))}")
        for key in sorted(glued.keys() & fresh_glued.keys()):
            if glued[key] != fresh_glued[key]:
                problems.append(f"{page}: glued '{key}' differs: {str(glued[key])[:120]} vs {str(fresh_glued[key])[:120]}")
        if pngs != fresh_pngs:
            problems.append(f"{page}: figures differ: {len(pngs)} vs {len(fresh_pngs)} PNGs, "
                            f"{sum(a != b for a, b in zip(pngs, fresh_pngs))} with different bytes")
    assert not problems, "two executions differ:\n" + "\n".join(problems)


def test_site_figure_files_are_the_executed_figures():
    """Each figure file a page of the site shows is named by the SHA-256 of its bytes and is a PNG
    output of a cached execution: so equal PNG outputs mean equal figure files. (``_images`` also
    keeps files of earlier incremental builds that no page shows any more: only shown ones count.)"""
    _require_site()
    executed = {sha for _, pngs in _executed_pages(CACHE).values() for sha in pngs}
    shown = set()
    for page in (BUILD / "html").rglob("*.html"):
        shown |= set(re.findall(r"_images/([0-9a-f]{64})\.png", page.read_text(encoding="utf-8")))
    assert shown, "no page of the site shows a figure"
    for name in sorted(shown):
        path = IMAGES / f"{name}.png"
        assert path.exists(), f"a page shows {path.name}, which is not in {IMAGES}"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert name == digest, f"{path.name}: name is not the SHA-256 of its bytes ({digest})"
        assert digest in executed, f"{path.name}: not a PNG output of any executed page in {CACHE}"


def test_site_glue_is_what_was_executed():
    """The glue files the site was rendered from hold the values of the cached executions."""
    for page, (glued, _) in _executed_pages(CACHE).items():
        site = _site_glue().get(page, {})
        assert site.keys() == glued.keys(), f"{page}: glue keys of the site and the cache differ"
        for key, value in glued.items():
            assert site[key]["text/plain"] == value["text/plain"], f"{page}: '{key}'"


# ---- the numbers a reader sees are the numbers the package computes ------------------------------


def test_every_glued_verdict_and_headline_is_the_package_verdict():
    """Every chapter glues its verdicts as ``[prefix_]<id>_verdict`` / ``_headline``: each must
    equal the registered verdict function's output, as the ledger computes it now."""
    table = claims_ledger.ledger().set_index("id")
    checked = 0
    for page, glued in _site_glue().items():
        for key in glued:
            match = VERDICT_KEY.search(key)
            if not match:
                continue
            claim_id, field = match[1].upper(), match[2]
            assert claim_id in table.index, f"{page}: '{key}' names no claim of the registry"
            assert _plain(page, key) == table.loc[claim_id, field], f"{page}: '{key}'"
            checked += 1
    assert checked >= 20, f"only {checked} glued verdicts or headlines found in the site"


REPRESENTATIVE = {
    # page: {glue key: the direct call of the package that the chapter's cell makes}
    "book/intro.md": {"n_claims": lambda: len(claims.load_claims()),
                      "n_claims_B": lambda: int((claims.load_claims()["source"] == "B").sum())},
    "book/ledger.md": {"ledger_n": lambda: len(claims_ledger.ledger())},
    "book/appendix/provenance.md": {
        "rows_hsb_students": lambda: int(data.provenance().set_index("dataset").loc["hsb_students", "rows"]),
        "sha_exam": lambda: data.provenance().set_index("dataset").loc["exam", "sha256"]},
    "book/gaps.md": {"gaps_hsb_n": lambda: len(gaps.hsb_with_indicators()),
                     "gaps_ses_d": lambda: gaps.hsb_ses_quartile_gap(gaps.BOOT, gaps.SEED).d,
                     "gaps_min_d": lambda: gaps.hsb_minority_gap().d},
    "book/peers.md": {"peers_n": lambda: peers.exam_band_checks()["n_students"]},
    "book/model.md": {"model_A": lambda: models.coefficients(models.central_params())[0]},
    "book/reanalysis.md": {"g_a": lambda: reanalysis.REPORTED["g_achievement"]},
    "book/outside.md": {"rho": lambda: acceleration.b10_numbers(evidence.load_evidence()).rho},
    "book/detracking.md": {"dt_rows": lambda: len(synthesis.book_evidence())},
}


@pytest.mark.parametrize("page,key", [(p, k) for p, keys in REPRESENTATIVE.items() for k in keys])
def test_glued_value_equals_direct_call(page, key):
    expected = REPRESENTATIVE[page][key]()
    shown = _plain(page, key)
    if isinstance(expected, float):
        assert math.isclose(shown, expected, rel_tol=1e-12, abs_tol=1e-15), f"{page}: {key} = {shown} != {expected}"
    else:
        assert shown == expected, f"{page}: {key} = {shown!r} != {expected!r}"
