"""The built site in a real browser: Debian's Chromium driven by Playwright, pages served on loopback.

On every page of the table of contents, at a desktop width (1280 px) and a phone width (390 px):
no console error, no failed request, every image loaded and described by alt text, verdict boxes
visible; the page no wider than the window; no word broken inside a table cell (each cell at least
as wide as its longest word, measured with the cell's own font; folded tables are opened first).
A screenshot of each page at each width is saved under ``_build/screenshots/<page>-<width>.png``.
Also: no broken internal link; a hidden solution opens when clicked; the site search finds a claim
by a word of its quote; a folded table opens and its search box filters its rows. Needs
``/usr/bin/chromium`` (``make test`` installs it when missing: scripts/system_packages.sh).
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from .conftest import ROOT
from .test_site import HTML, _toc_pages

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "_build" / "screenshots"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


@pytest.fixture(scope="module")
def site_url():
    if not (HTML / "index.html").exists():
        pytest.fail("_build/html is missing: run `make book` (make test does) first")
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)  # only this run's screenshots
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium is needed for the browser tests: apt-get install chromium (make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


DESKTOP, PHONE = 1280, 390
# A phone: its width, touch, and the page's <meta name="viewport"> honoured (Chromium's mobile emulation).
VIEWPORTS = {DESKTOP: {"viewport": {"width": DESKTOP, "height": 900}},
             PHONE: {"viewport": {"width": PHONE, "height": 844}, "is_mobile": True, "has_touch": True}}

# Each table cell's longest word, measured in the cell's own font (canvas measureText), against the
# width of the cell's content box (of its value's column, for a row shown as a card on a phone). Words
# are separated by white space; a line may also break after a hyphen or a dash between two letters
# ("meta-" / "analysis") and, in a web address, after "/", "?" or "&": those are where browsers and
# typesetters break lines, not breaks inside a word. A date or a range of numbers ("2026-11-26",
# "0.03-0.10") is one word. Text inside MathJax is left out. Folded tables (<details>) are opened
# first, so that they are measured too.
MEASURE_TABLES = r"""
() => {
  document.querySelectorAll("article details").forEach(d => { d.open = true; });
  const ctx = document.createElement("canvas").getContext("2d");
  const pieces = t => /^https?:\/\//.test(t) ? t.split(/(?<=[\/?&])/) : t.split(/(?<=\p{L}[-\u2013\u2014])(?=\p{L})/u);
  const broken = [];
  for (const cell of document.querySelectorAll("article td, article th")) {
    if (!cell.getClientRects().length) continue;  // not displayed (a hidden solution)
    const style = getComputedStyle(cell);
    // a card on a phone is a grid: its column's name, then the value (the last track)
    const room = style.display === "grid" ? parseFloat(style.gridTemplateColumns.split(" ").pop())
      : cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest("mjx-container, script, style")) continue;
      ctx.font = getComputedStyle(node.parentElement).font;
      for (const word of node.textContent.split(/\s+/).flatMap(pieces)) {
        const width = ctx.measureText(word).width;
        if (width > room + 1) broken.push(`'${word}' needs ${width.toFixed(0)} px, its cell has ${room.toFixed(0)} px`);
      }
    }
  }
  return {broken, documentWidth: document.documentElement.scrollWidth};
}
"""


def _new_tab(browser, width: int):
    context = browser.new_context(**VIEWPORTS[width])
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda message: tab.problems.append(f"console {message.type}: {message.text}")
           if message.type == "error" else None)
    tab.on("pageerror", lambda error: tab.problems.append(f"page error: {error}"))
    tab.on("requestfailed", lambda request: tab.problems.append(f"request failed: {request.url}"))
    tab.on("response", lambda response: tab.problems.append(f"HTTP {response.status}: {response.url}")
           if response.status >= 400 else None)
    return context, tab


@pytest.fixture
def page(browser):
    context, tab = _new_tab(browser, DESKTOP)
    yield tab
    context.close()


@pytest.fixture(params=[DESKTOP, PHONE], ids=["1280px", "390px"])
def sized_page(browser, request):
    context, tab = _new_tab(browser, request.param)
    tab.width = request.param
    yield tab
    context.close()


def _screenshot(page, page_name: str, width: int) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{page_name.replace('/', '_')}-{width}.png"), full_page=True)


@pytest.mark.parametrize("page_name", _toc_pages())
def test_page_in_the_browser(sized_page, site_url, page_name):
    page = sized_page
    url = urljoin(site_url, f"{page_name}.html")
    page.goto(url, wait_until="networkidle")
    page.wait_for_timeout(300)  # MathJax typesets after load
    _screenshot(page, page_name, page.width)  # as a reader first sees it: folded tables folded
    assert page.problems == [], f"{page_name}: {page.problems}"

    measured = page.evaluate(MEASURE_TABLES)
    assert measured["broken"] == [], f"{page_name} at {page.width} px: words broken inside table cells"
    assert measured["documentWidth"] <= page.width, (
        f"{page_name} is {measured['documentWidth']} px wide in a {page.width} px window")

    images = page.eval_on_selector_all(
        "article img", "els => els.map(e => ({src: e.src, alt: e.alt, ok: e.complete && e.naturalWidth > 0}))"
    )
    for image in images:
        assert image["ok"], f"{page_name}: image did not load: {image['src']}"
        assert image["alt"].strip(), f"{page_name}: image without alt text: {image['src']}"

    figures = page.eval_on_selector_all(
        "article img", "els => els.map(e => ({alt: e.alt, figure: e.closest('figure') ? e.closest('figure').id : null, "
        "caption: e.closest('figure') && e.closest('figure').querySelector('figcaption') ? "
        "e.closest('figure').querySelector('figcaption').innerText : ''}))")
    for image in figures:
        assert image["figure"], f"{page_name}: an image outside a numbered figure (no caption): {image['alt']}"
        assert image["caption"].strip(), f"{page_name}: {image['figure']} has no caption"
        assert not PATH_LIKE.search(image["alt"]), f"{page_name}: {image['figure']}'s alt text is a path"
    if page.width == PHONE:
        _check_figure_text(page, page_name)

    for box in page.query_selector_all("div.admonition.verdict"):
        assert box.is_visible(), f"{page_name}: a verdict box is hidden"
        assert box.inner_text().strip(), f"{page_name}: an empty verdict box"

    for math in page.query_selector_all("mjx-container"):
        assert "merror" not in (math.inner_html() or ""), f"{page_name}: MathJax error"
        break


#: An alt text that is a file path (what Sphinx writes when a figure has none).
PATH_LIKE = re.compile(r"(_images/|\.(png|svg|jpe?g)$)")
#: The smallest text a figure may show on a phone, in CSS pixels as displayed (9 px is about the size of a
#: phone's smallest system text; the book's figures are drawn for it).
MIN_FIGURE_TEXT_PX = 9.0
FIGURE_TEXT = ROOT / "_build" / "figure-text"


def _check_figure_text(page, page_name: str) -> None:
    """Each figure's smallest text as displayed at this width: its size in points (recorded when the figure was
    exported), in pixels at its dpi, scaled by the image's displayed over its natural width. Written to
    ``_build/screenshots/figure-text-390.csv`` for the record."""
    shown = page.eval_on_selector_all(
        "article figure img", "els => els.map(e => ({id: e.closest('figure').id, shown: e.getBoundingClientRect().width, "
        "natural: e.naturalWidth}))")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    report = SCREENSHOTS / "figure-text-390.csv"
    if not report.exists():
        report.write_text("page,figure,smallest_text_pt,displayed_px\n", encoding="utf-8")
    small = []
    for figure in shown:
        record = FIGURE_TEXT / f"{figure['id']}.json"
        assert record.exists(), f"{page_name}: {figure['id']} has no text-size record (is it exported?)"
        sizes = __import__("json").loads(record.read_text(encoding="utf-8"))
        px = sizes["smallest_text_pt"] * sizes["dpi"] / 72 * figure["shown"] / figure["natural"]
        with report.open("a", encoding="utf-8") as handle:
            handle.write(f"{page_name},{figure['id']},{sizes['smallest_text_pt']:g},{px:.1f}\n")
        if px < MIN_FIGURE_TEXT_PX:
            small.append(f"{figure['id']}: {px:.1f} px")
    assert not small, f"{page_name} at {PHONE} px: figure text smaller than {MIN_FIGURE_TEXT_PX} px: {small}"


def test_verdict_board_fits_in_two_screens_of_a_laptop_and_opens_by_keyboard(page, site_url):
    page.goto(urljoin(site_url, "book/ledger.html"), wait_until="networkidle")
    board = page.locator("#verdict-board")
    assert board.bounding_box()["height"] <= 2700
    summary = board.locator("tbody tr summary").first
    details = board.locator("tbody tr details").first
    summary.focus()
    page.keyboard.press("Enter")
    assert details.evaluate("d => d.open")
    assert details.locator(".board-more").is_visible()
    page.keyboard.press("Enter")
    assert not details.evaluate("d => d.open")
    assert page.problems == []


def test_a_sentences_reason_opens_by_tap_on_a_phone(browser, site_url):
    context, tab = _new_tab(browser, PHONE)
    try:
        tab.goto(urljoin(site_url, "book/source-b.html"), wait_until="networkidle")
        reason = tab.locator("div.source-text .src-reason").first
        assert reason.locator(".src-note").bounding_box()["width"] <= 1
        reason.tap(position={"x": 4, "y": 4})  # on its first line: the label may wrap
        note = tab.locator(":focus .src-note")
        assert note.bounding_box()["width"] > 20 and note.inner_text().strip()
        assert tab.problems == []
    finally:
        context.close()


def test_source_pages_open_with_their_scorecard(page, site_url):
    from tracking_evidence.site import ledger as claims_ledger

    table = claims_ledger.ledger()
    for source in ("A", "B", "C"):
        page.goto(urljoin(site_url, f"book/source-{source.lower()}.html"), wait_until="networkidle")
        card = page.locator(f"#scorecard-{source.lower()}")
        assert card.is_visible()
        assert card.locator("li").count() == int((table["source"] == source).sum())
        assert card.bounding_box()["y"] < page.locator("div.source-text").bounding_box()["y"]


def test_no_broken_internal_links(page, site_url):
    broken = []
    seen: set[str] = set()
    for page_name in _toc_pages():
        page.goto(urljoin(site_url, f"{page_name}.html"), wait_until="domcontentloaded")
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            parsed = urlparse(href)
            if parsed.scheme not in ("http", "https") or parsed.netloc != urlparse(site_url).netloc:
                continue
            target = parsed._replace(fragment="", query="").geturl()
            if target in seen:
                continue
            seen.add(target)
            relative = urlparse(target).path.lstrip("/") or "index.html"
            path = HTML / relative
            if path.is_dir():
                path = path / "index.html"
            if not path.exists():
                broken.append(f"{page_name} -> {href}")
    assert broken == []
    assert len(seen) > len(_toc_pages())


def test_verdict_boxes_are_visible_where_chapters_have_them(page, site_url):
    page.goto(urljoin(site_url, "book/intro.html"), wait_until="networkidle")
    boxes = page.query_selector_all("div.admonition.verdict")
    assert boxes and all(box.is_visible() for box in boxes)


def _pages_with(marker: str) -> list[str]:
    return [name for name in _toc_pages() if marker in (HTML / f"{name}.html").read_text(encoding="utf-8")]


def test_a_solution_opens_when_clicked(page, site_url):
    # sphinx-exercise writes a solution as div.admonition.solution; with the `dropdown` class,
    # sphinx-togglebutton hides its body (class toggle-hidden) until the title is clicked
    pages = _pages_with('class="solution')
    if not pages:
        pytest.fail("no page of the book has an exercise solution")
    for name in pages:
        page.goto(urljoin(site_url, f"{name}.html"), wait_until="networkidle")
        solutions = page.locator("div.admonition.solution")
        assert solutions.count() > 0, name
        solution = solutions.first
        body = solution.locator("> :not(.admonition-title)").first
        assert "toggle-hidden" in solution.get_attribute("class"), f"{name}: a solution is shown before it is asked for"
        assert not body.is_visible(), f"{name}: a solution is shown before it is asked for"
        # the title holds a link to the exercise; the toggle is sphinx-togglebutton's button
        solution.locator("button.toggle-button").first.click()
        page.wait_for_timeout(200)
        assert body.is_visible(), f"{name}: the solution did not open when clicked"


def test_site_search_finds_a_claim_by_a_word_of_its_quote(page, site_url):
    from tracking_evidence.data import claims
    from tracking_evidence.site import ledger as claims_ledger

    quote = claims.load_claims().set_index("id").loc["B6", "quote"]  # "...which is quite mixed."
    word = "misrepresent"
    assert word in quote
    page.goto(urljoin(site_url, f"search.html?q={word}"), wait_until="networkidle")
    page.wait_for_selector("#search-results li", timeout=15_000)
    results = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
    assert any(re.search(r"source-b\.html|ledger\.html", href) for href in results), results


def test_a_folded_table_opens_and_its_search_box_filters_its_rows(sized_page, site_url):
    """Tables of ``tracking_evidence.site.tables.html_table`` that fold (the instructor guide's exercises, for one),
    at both widths (on a phone, a table of cards: a row the search hides stays hidden)."""
    page = sized_page
    pages = _pages_with('class="table-fold"')
    if not pages:
        pytest.fail("no page of the book shows a folded table (tracking_evidence.site.tables.html_table)")
    page.goto(urljoin(site_url, f"{pages[0]}.html"), wait_until="networkidle")
    fold = page.locator("details.table-fold:has(table[data-search])").first
    table = fold.locator("table")
    assert not table.is_visible(), "a folded table is shown before it is opened"
    fold.locator("summary").click()
    assert table.is_visible()
    rows = table.locator("tbody tr")
    texts = [text.lower() for text in rows.all_inner_texts()]
    total = len(texts)
    # the word of the last row that the fewest rows contain
    word = min((w for w in re.findall(r"[a-z]{4,}", texts[-1])), key=lambda w: sum(w in t for t in texts))
    search = fold.locator("input[type=search]")
    search.fill(word)
    visible = [i for i in range(total) if rows.nth(i).is_visible()]
    assert 0 < len(visible) < total and total - 1 in visible, f"searching {word!r} left rows {visible} of {total}"
    assert fold.locator(".table-count").inner_text() == f"{len(visible)} of {total} rows"
    search.fill("")
    assert all(rows.nth(i).is_visible() for i in range(total))


def test_ledger_board_filters_and_sorts_from_the_keyboard(page, site_url):
    """The verdict board: a filter by verdict shows exactly the ledger's claims with that verdict,
    the source filter narrows further, and sorting by robustness puts the least robust first."""
    from tracking_evidence.data import claims
    from tracking_evidence.site import ledger as claims_ledger

    table = claims_ledger.ledger()
    page.goto(urljoin(site_url, "book/ledger.html"), wait_until="networkidle")
    rows = page.locator("table.ledger-board tbody tr")
    assert rows.count() == len(table)
    verdict = page.locator("select[data-filter='verdict']")
    verdict.focus()
    verdict.select_option("supported")
    visible = page.locator("table.ledger-board tbody tr:not([hidden])")
    assert visible.count() == int((table["verdict"] == "supported").sum())
    page.locator("select[data-filter='source']").select_option("C")
    assert visible.count() == int(((table["verdict"] == "supported") & (table["source"] == "C")).sum())
    assert "claims shown" in page.locator(".ledger-count").inner_text()
    verdict.select_option("")
    page.locator("select[data-filter='source']").select_option("")
    page.locator("button[data-sort='robustness']").press("Enter")
    first = page.locator("table.ledger-board tbody tr").first.get_attribute("data-id")
    assert first == table.sort_values("robustness", kind="stable").iloc[0]["id"] or \
        table.set_index("id").loc[first, "robustness"] == table["robustness"].min()
    assert page.problems == []
