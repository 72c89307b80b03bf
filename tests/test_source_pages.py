"""The three source pages in a real browser: the whole text, every sentence in order, every claim
marked and linked to the section that computes it, readable by keyboard, without colour and at
phone width. Uses the fixtures of test_browser (Chromium driven by Playwright, the built site
served on loopback); `make book` first."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

import pytest

from tracking_evidence.data import claims, sentences
from tracking_evidence.site import source_pages
from tracking_evidence.verdicts import VERDICTS

from .test_browser import browser, page, site_url  # noqa: F401  (fixtures)
from .test_site import HTML

SOURCES = ("A", "B", "C")


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _open(page, site_url, source):  # noqa: F811
    page.goto(urljoin(site_url, f"book/source-{source.lower()}.html"), wait_until="networkidle")
    assert page.problems == [], page.problems


def _units(page, site_url, source, selector, script):  # noqa: F811
    """Open the source's page and map ``script`` (a JS arrow function of one element) over ``selector``."""
    _open(page, site_url, source)
    return page.eval_on_selector_all(f"div.source-text {selector}", f"els => els.map({script})")


@pytest.mark.parametrize("source", SOURCES)
def test_every_sentence_of_the_source_is_on_its_page_in_order(page, site_url, source):  # noqa: F811
    shown = _units(page, site_url, source, ".src-unit",
                   "e => ({id: e.id, text: e.querySelector('.src-text').textContent})")
    units = sentences.source_units(source)
    assert [item["id"] for item in shown] == [source_pages.unit_id(source, n) for n in range(1, len(units) + 1)]
    assert [_fold(item["text"]) for item in shown] == [_fold(unit.text) for unit in units]


@pytest.mark.parametrize("source", SOURCES)
def test_every_claim_links_to_the_section_that_computes_it(page, site_url, source):  # noqa: F811
    links = _units(page, site_url, source, "a.src-id",
                   "e => ({id: e.textContent.trim(), href: e.href, unit: e.closest('.src-unit').id})")
    registry = claims.load_claims()
    mine = registry[registry["source"] == source].set_index("id")
    assert sorted({link["id"] for link in links}) == sorted(mine.index)
    table = sentences.load_sentences()
    spans = sentences.claim_spans(table)
    for link in links:
        claim_id = link["id"]
        n = int(link["unit"].rsplit("-", 1)[1])
        assert n in spans[claim_id][1], f"{claim_id} is linked from sentence {n}, which does not hold it"
        href, _ = source_pages.claim_href(mine.loc[claim_id, "chapter"], claim_id)
        parsed = urlparse(link["href"])
        assert parsed.path.endswith("/book/" + href.split("#")[0]), (claim_id, link["href"])
        target = HTML / parsed.path.lstrip("/")
        assert target.exists(), f"{claim_id}: {link['href']} does not exist"
        if parsed.fragment:
            assert f'id="{parsed.fragment}"' in target.read_text(encoding="utf-8"), \
                f"{claim_id}: no section #{parsed.fragment} in {target.name}"


@pytest.mark.parametrize("source", SOURCES)
def test_marks_are_words_not_only_colour(page, site_url, source):  # noqa: F811
    units = _units(page, site_url, source, ".src-unit", """e => ({
        claim: e.classList.contains('src-has-claim'),
        ids: [...e.querySelectorAll('a.src-id')].map(a => a.textContent.trim()),
        verdicts: [...e.querySelectorAll('.src-verdict')].map(v => v.textContent.trim()),
        reason: (e.querySelector('.src-reason') || {textContent: ''}).textContent.trim()})""")
    vocabulary = set(VERDICTS) | {claims.PENDING}
    for unit in units:
        if unit["claim"]:
            assert unit["ids"] and len(unit["verdicts"]) == len(unit["ids"])
            assert all(v.removeprefix("verdict: ") in vocabulary for v in unit["verdicts"]), unit
        else:
            assert unit["reason"].removeprefix("not a claim: ").split(" (")[0] in sentences.REASONS, unit


def test_a_reason_note_opens_on_keyboard_focus(page, site_url):  # noqa: F811
    _open(page, site_url, "C")
    label = page.locator("div.source-text .src-reason").first
    note = label.locator(".src-note")
    assert note.bounding_box()["width"] <= 1  # hidden (but read by screen readers) until asked for
    for _ in range(200):  # reach it with the Tab key, as a keyboard user would
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('src-reason')"):
            break
    else:
        pytest.fail("no reason label is reachable with the Tab key")
    focused = page.locator(":focus .src-note")
    assert focused.bounding_box()["width"] > 20 and focused.inner_text().strip()


@pytest.mark.parametrize("source", SOURCES)
def test_source_page_fits_a_phone(browser, site_url, source):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        tab = context.new_page()
        tab.goto(urljoin(site_url, f"book/source-{source.lower()}.html"), wait_until="networkidle")
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390
        box = tab.locator("div.source-text").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    finally:
        context.close()
