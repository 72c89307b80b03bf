"""The built site (`make book` first; `make test` does it): every page rendered, no error output,
every glued value in place and equal to what the package computes."""

from __future__ import annotations

import re
from html import unescape
from functools import cache
from pathlib import Path

import pytest
import yaml

from tracking_evidence.data import claims
from tracking_evidence.site import ledger as claims_ledger
from tracking_evidence import data

from .conftest import ROOT

HTML = ROOT / "_build" / "html"
GLUE_ROLE = re.compile(r"\{glue(?::(?:text|md|any))?\}`([^`]+)`")


def _toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages.extend(chapter["file"] for chapter in part["chapters"])
    return pages


@cache
def _page(page: str) -> str:
    path = HTML / f"{page}.html"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make book` (make test does) before the site tests")
    return path.read_text(encoding="utf-8")


def _text(page: str) -> str:
    """The page's visible text, tags stripped and white space folded."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", _page(page), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)).replace("\u00a0", " "))


@pytest.mark.parametrize("page", _toc_pages())
def test_page_rendered_without_error_output(page):
    html = _page(page)
    assert "<h1" in html
    for marker in ["Traceback (most recent call last)", 'class="output traceback', 'class="output stderr',
                   "output_area stderr", "Error in callback"]:
        assert marker not in html, f"{page}: {marker}"


@pytest.mark.parametrize("page", _toc_pages())
def test_every_glue_role_rendered(page):
    source = (ROOT / f"{page}.md")
    if not source.exists():
        pytest.fail(f"{source} missing")
    roles = GLUE_ROLE.findall(source.read_text(encoding="utf-8"))
    html = _page(page)
    assert "{glue" not in _text(page), f"{page}: a glue role was not resolved"
    rendered = len(re.findall(r'class="pasted-(?:text|inline)', html))
    assert rendered >= len(roles), f"{page}: {len(roles)} glue roles, {rendered} rendered values"


def test_intro_counts_are_the_registrys():
    registry = claims.load_claims()
    counts = registry["source"].value_counts()
    text = _text("book/intro")
    assert (f"The registry holds {len(registry)} claims: {counts['A']} from Source A, {counts['B']} from Source B "
            f"and {counts['C']} from Source C") in text


def test_provenance_shows_each_files_checksum_and_rows():
    text = _text("book/appendix/provenance")
    for row in data.provenance().itertuples():
        assert row.sha256 in text
        assert f"{row.rows} " in text


def test_ledger_page_shows_every_claim_with_its_verdict():
    html = _page("book/ledger")
    table = claims_ledger.ledger()
    for row in table.itertuples():
        assert f"<td>{row.id}</td>" in html
    for verdict in table["verdict"].unique():
        assert f"<td>{verdict}</td>" in html


def test_source_pages_quote_their_claims():
    registry = claims.load_claims()
    for source in "ABC":
        text = _text(f"book/source-{source.lower()}")
        for quote in registry.loc[registry["source"] == source, "quote"]:
            assert re.sub(r"\s+", " ", quote.replace("\u00a0", " ")) in text, quote


def test_ledger_links_reach_the_section_that_computes_each_claim():
    html = _page("book/ledger")
    links = re.findall(r'<a href="(?P<page>[\w-]+)\.html#(?P<anchor>[\w-]+)"', html)
    table = claims_ledger.ledger()
    assert len(links) == len(table), "every claim links to a section"
    for page, anchor in links:
        assert f'id="{anchor}"' in _page(f"book/{page}"), f"{page}.html has no section #{anchor}"


def test_ledger_figure_counts_match_the_ledger():
    from tracking_evidence.site import plots

    table = claims_ledger.ledger()
    figure = plots.verdict_summary(table)
    bars = [patch for patch in figure.axes[0].patches]
    assert sum(int(round(bar.get_width())) for bar in bars) == len(table)
    assert "fig-ledger-summary" in _page("book/ledger")


def _page_weight(page: str) -> int:
    """Bytes of the page's HTML plus the images it shows (shared CSS/JS are cached across pages)."""
    html = _page(page)
    folder = (HTML / f"{page}.html").parent
    images = set(re.findall(r'<img[^>]+src="([^"]+)"', html))
    return len(html.encode("utf-8")) + sum((folder / src).stat().st_size for src in images if "://" not in src)


@pytest.mark.parametrize("page", _toc_pages())
def test_every_page_weighs_under_two_megabytes(page):
    assert _page_weight(page) < 2_000_000, f"{page}: {_page_weight(page)} bytes"
