"""The PDF of the whole book (`make pdf`, run by `make book`; scripts/make_pdf.py), read with pypdf:
its pages, its contents and outline, every chapter's title, the ledger's text, the glued numbers and
verdict boxes of the site, and its figures; and the site links it."""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache
from html import unescape

import pytest
from tracking_evidence.site import ledger as claims_ledger

from .conftest import ROOT
from .test_site import HTML, _page, _toc_pages

sys.path.insert(0, str(ROOT / "book" / "_ext"))
from downloads import DOWNLOADS, PDF_NAME  # noqa: E402

PDF = HTML / DOWNLOADS / PDF_NAME
FOOTER = re.compile(r"\s*\d+ / \d+\s*$")  # "12 / 131", the page number printed at the foot of every page


@cache
def _reader():
    from pypdf import PdfReader

    if not PDF.exists():
        pytest.fail(f"{PDF} is missing: `make book` makes it (with Chromium; `make pdf` alone)")
    return PdfReader(PDF)


def _normal(text: str) -> str:
    """Text as a PDF and a web page can both be compared: ligatures undone (NFKC), typographic quotes
    straight, white space folded, and a line broken after a hyphen, dash or slash joined again."""
    text = unicodedata.normalize("NFKC", unescape(text)).replace("\u00a0", " ")
    text = text.translate(str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}))
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"(?<=\S)([-/\u2013\u2014]) (?=\S)", r"\1", text)


@cache
def _page_texts() -> tuple[str, ...]:
    return tuple(FOOTER.sub("", page.extract_text()) for page in _reader().pages)


@cache
def _text() -> str:
    return _normal(" ".join(_page_texts()))


def _images(page) -> int:
    """The images a PDF page draws (its image XObjects), counted without decoding them."""
    objects = page.get("/Resources", {}).get("/XObject", {})
    return sum(1 for item in objects.values() if item.get_object().get("/Subtype") == "/Image")


def _article(page: str) -> str:
    html = _page(page)
    return html[html.find("<article"):html.find("</article>")]


def _title(page: str) -> str:
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", _article(page), re.S).group(1)
    return _normal(re.sub(r"<[^>]+>", "", heading)).rstrip("#").strip()


def _outline_titles(outline) -> list[str]:
    titles = []
    for entry in outline:
        titles.extend(_outline_titles(entry) if isinstance(entry, list) else [entry["/Title"]])
    return titles


def test_the_pdf_has_a_page_or_more_per_chapter():
    assert len(_reader().pages) >= 2 * len(_toc_pages())


def test_every_chapter_title_is_in_the_pdf_its_contents_and_its_outline():
    squeezed = re.compile(r"\s+")  # the outline joins a heading's wrapped lines without a space
    outline = {squeezed.sub("", _normal(title)) for title in _outline_titles(_reader().outline)}
    contents = _normal(" ".join(_page_texts()[:3]))
    for page in _toc_pages()[1:]:  # the root page is the book itself: its title is on the title page
        title = _title(page)
        assert title in _text(), f"{page}: '{title}' is not in the PDF"
        assert squeezed.sub("", title) in outline, f"{page}: '{title}' is not in the PDF's outline"
        assert title in contents, f"{page}: '{title}' is not in the printed contents"


def test_the_ledger_is_in_the_pdf():
    for row in claims_ledger.ledger().itertuples():
        for field in ("quote", "headline"):
            assert _normal(getattr(row, field)) in _text(), f"{row.id}: its {field} is not in the PDF"


def test_the_glued_numbers_and_the_verdict_boxes_of_the_site_are_in_the_pdf():
    glued, boxes = set(), 0
    for page in _toc_pages():
        article = _article(page)
        glued |= {re.sub(r"<[^>]+>", "", value).strip()
                  for value in re.findall(r'class="pasted-text">(.*?)</span>', article, re.S)}
        boxes += len(re.findall(r'<div class="[^"]*\bverdict\b[^"]*\badmonition\b', article))
    numbers = sorted(value for value in glued if re.search(r"\d", value))
    assert numbers and boxes
    missing = [value for value in numbers if _normal(value) not in _text()]
    # a value broken across two pages at a hyphen ("5.2e-" / "07") cannot be found in the extracted text,
    # which follows the order the page draws its text in: one in a hundred may be missed that way
    assert len(missing) <= len(numbers) // 100, f"{len(missing)} of {len(numbers)} glued values not in the PDF: {missing}"
    assert _text().count("Verdict on") >= boxes


def test_the_pdf_has_the_figures_of_the_site():
    figures = set()
    for page in _toc_pages():
        figures |= set(re.findall(r'<img[^>]+src="[^"]*_images/([^"]+)"', _article(page)))
    images = sum(_images(page) for page in _reader().pages)
    assert figures and images >= len(figures), f"{images} images in the PDF, {len(figures)} figures on the site"


def test_every_page_of_the_site_links_the_pdf():
    for page in _toc_pages():
        assert f"{DOWNLOADS}/{PDF_NAME}" in _page(page), f"{page} does not link the PDF"


def test_the_pdf_carries_the_summary_page_its_bottom_line_and_the_gap_map():
    from tracking_evidence.site import summary

    text = _text()
    assert _title("book/evidence-summary") in text
    for sentence in summary.bottom_line():
        assert _normal(sentence)[:120] in text, f"not in the PDF: {sentence[:80]}"
    caption = re.search(r'id="fig-summary-gap-map".*?<figcaption>(.*?)</figcaption>', _page("book/evidence-summary"),
                        re.S)
    assert caption, "the gap map has no caption on the site"
    words = _normal(re.sub(r"<[^>]+>", "", caption.group(1))).split()
    assert " ".join(words[2:14]) in text, "the gap map's caption is not in the PDF"
