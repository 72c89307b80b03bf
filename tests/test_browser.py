"""The built site in a real browser: Debian's Chromium driven by Playwright, pages served on loopback.

On every page of the table of contents: no console error, no failed request, no broken internal
link, every image loaded and described by alt text; verdict boxes visible; a hidden solution
opens when clicked; the site search finds a claim by a word of its quote. A screenshot of each
page is saved under ``_build/screenshots/``. Needs ``/usr/bin/chromium`` (``apt-get install
chromium``; ``.ci/run`` installs it when missing).
"""

from __future__ import annotations

import functools
import http.server
import re
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
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(HTML)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Chromium is needed for the browser tests: apt-get install chromium (.ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda message: tab.problems.append(f"console {message.type}: {message.text}")
           if message.type == "error" else None)
    tab.on("pageerror", lambda error: tab.problems.append(f"page error: {error}"))
    tab.on("requestfailed", lambda request: tab.problems.append(f"request failed: {request.url}"))
    tab.on("response", lambda response: tab.problems.append(f"HTTP {response.status}: {response.url}")
           if response.status >= 400 else None)
    yield tab
    context.close()


@pytest.mark.parametrize("page_name", _toc_pages())
def test_page_in_the_browser(page, site_url, page_name):
    url = urljoin(site_url, f"{page_name}.html")
    page.goto(url, wait_until="networkidle")
    page.wait_for_timeout(300)  # MathJax typesets after load
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{page_name.replace('/', '_')}.png"), full_page=True)
    assert page.problems == [], f"{page_name}: {page.problems}"

    images = page.eval_on_selector_all(
        "article img", "els => els.map(e => ({src: e.src, alt: e.alt, ok: e.complete && e.naturalWidth > 0}))"
    )
    for image in images:
        assert image["ok"], f"{page_name}: image did not load: {image['src']}"
        assert image["alt"].strip(), f"{page_name}: image without alt text: {image['src']}"

    for box in page.query_selector_all("div.admonition.verdict"):
        assert box.is_visible(), f"{page_name}: a verdict box is hidden"
        assert box.inner_text().strip(), f"{page_name}: an empty verdict box"

    for math in page.query_selector_all("mjx-container"):
        assert "merror" not in (math.inner_html() or ""), f"{page_name}: MathJax error"
        break


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
    from tracking_evidence import claims

    quote = claims.load_claims().set_index("id").loc["B6", "quote"]  # "...which is quite mixed."
    word = "misrepresent"
    assert word in quote
    page.goto(urljoin(site_url, f"search.html?q={word}"), wait_until="networkidle")
    page.wait_for_selector("#search-results li", timeout=15_000)
    results = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
    assert any(re.search(r"source-b\.html|ledger\.html", href) for href in results), results
