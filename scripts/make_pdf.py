"""`make pdf`: the whole book as one PDF, printed by Debian's Chromium from a single-page build.

1. Sphinx's ``singlehtml`` builder, through Jupyter Book with the book's own configuration (the
   same ``_config.yml`` and ``_toc.yml``, warnings as errors), writes every page into one HTML file
   (``_build/singlehtml/book/intro.html``, printed from a copy at the output's root, ``book.html``). It keeps its own saved environment
   (``_build/.doctrees-singlehtml``), so that it never leaves the HTML build's pages stale, and
   shares the execution cache: nothing is executed that the HTML build executed already.
2. Chromium (``/usr/bin/chromium``, driven by Playwright, the page served on loopback) prints it:
   A4, every chapter from a new page, a printed table of contents with links, the PDF's outline
   (bookmarks) from the headings; folded tables, dropdowns and exercise solutions open; the site's
   navigation left out. Figures, glued numbers and verdict boxes are the HTML's own. Nothing is
   downloaded, no TeX.
3. The PDF is written to ``_build/pdf/`` and copied to ``_build/html/_downloads/``, where every page's
   download menu and the "How to cite" appendix link it.

Steps 1 and 2 are skipped when nothing the PDF is made from changed since the last PDF (the book's
sources, extensions and styles, the package, the data, the fixtures, the configuration: see
``pdf_fingerprint``); the PDF is then only copied.

Usage: ``.venv/bin/python scripts/make_pdf.py [--root .]`` (``make pdf``; ``make book`` runs it).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import shutil
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from downloads import DOWNLOADS, PDF_NAME  # noqa: E402
from execution_inputs import inputs_fingerprint  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
MASTER_PAGE = "book/intro.html"  # the root of _toc.yml: the single page holds every other page
PRINTED_PAGE = "book.html"
PRINT_WIDTH = 688  # px: A4's 210 mm less two 14 mm margins, at 96 px per inch

# Print layout: what a printed book needs and a web page does not.
PRINT_CSS = """
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
html { font-size: 85% !important; }  /* the theme sizes text in rem: about 10 pt on paper */
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .header-article, .prev-next-area, .bd-footer,
.bd-footer-article, .bd-footer-content, .search-button-field, a.headerlink, .scroll-hint, .table-tools,
nav.bd-links, .onlyprint { display: none !important; }
pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
.bd-container, .bd-container__inner, .bd-main, .bd-content, .bd-article-container, .bd-article {
  max-width: none !important; width: 100% !important; margin: 0 !important; padding-left: 0 !important;
  padding-right: 0 !important;
}
h1.pdf-part, .toctree-wrapper > section { break-before: page; }
h1.pdf-part + section { break-before: avoid; }
div.pdf-title { text-align: center; margin: 35mm 0 20mm; }
div.pdf-title p { margin: 0.4em 0; }
div.pdf-title p.book-title { font-size: 26pt; font-weight: 600; line-height: 1.2; }
nav.pdf-contents { break-after: page; }
nav.pdf-contents ol { list-style: none; padding-left: 0; }
nav.pdf-contents li.part { font-weight: 600; margin-top: 0.8em; }
nav.pdf-contents li.chapter { margin-left: 1.2em; }
figure, img, div.admonition, tr { break-inside: avoid; }
h2, h3 { break-after: avoid; }
.bd-article .cell_output .output.text_html, .bd-article .table-scroll { overflow: visible !important; }
/* a page cannot scroll: tables in small type; one still wider than the page may break long words */
.bd-article table { max-width: 100% !important; font-size: 7.5pt !important; }
.bd-article table td, .bd-article table th { padding: 0.15em 0.3em !important; }
.bd-article table.pdf-squeezed { width: 100% !important; }
.bd-article table.pdf-squeezed td, .bd-article table.pdf-squeezed th { overflow-wrap: anywhere !important; }
"""

# Open what a reader would open; give each part of the table of contents a heading (the single page
# holds one block of chapters per part, in order); print a title page (from CITATION.cff) and the
# contents: parts and their chapters, linked.
PREPARE_PAGE = """
([parts, book]) => {
  document.querySelectorAll("details.table-fold, details.sd-dropdown").forEach(d => { d.open = true; });
  document.querySelectorAll(".toggle-hidden").forEach(e => e.classList.remove("toggle-hidden"));
  const blocks = Array.from(document.querySelectorAll(".bd-article .toctree-wrapper"));
  if (blocks.length !== parts.length) throw new Error(`${blocks.length} blocks of chapters, ${parts.length} parts`);
  const nav = document.createElement("nav");
  nav.className = "pdf-contents";
  nav.innerHTML = "<h2>Contents</h2>";
  const list = document.createElement("ol");
  let chapters = 0;
  blocks.forEach((block, i) => {
    const heading = document.createElement("h1");
    heading.className = "pdf-part";
    heading.id = "pdf-part-" + (i + 1);
    heading.textContent = parts[i];
    block.insertBefore(heading, block.firstChild);
    const part = document.createElement("li");
    part.className = "part";
    part.innerHTML = `<a href="#${heading.id}"></a>`;
    part.firstChild.textContent = parts[i];
    list.appendChild(part);
    for (const title of block.querySelectorAll(":scope > section > h2")) {
      const item = document.createElement("li");
      item.className = "chapter";
      item.innerHTML = `<a href="#${title.parentElement.id}"></a>`;
      item.firstChild.textContent = title.textContent.replace(/#$/, "").trim();
      list.appendChild(item);
      chapters += 1;
    }
  });
  nav.appendChild(list);
  const cover = document.createElement("div");
  cover.className = "pdf-title";
  for (const [className, text] of [["book-title", book.title], ["", book.authors], ["", book.version]]) {
    const line = document.createElement("p");
    line.className = className;
    line.textContent = text;
    cover.appendChild(line);
  }
  const article = document.querySelector(".bd-article");
  article.insertBefore(nav, article.firstChild);
  article.insertBefore(cover, nav);
  return chapters;
}
"""


def title_page(root: Path) -> dict[str, str]:
    """Title, authors and version for the title page, from ``CITATION.cff`` (as the "How to cite" page)."""
    from citation import author_names, read_citation

    record = read_citation(root / "CITATION.cff")
    return {"title": record["title"], "authors": "; ".join(author_names(record)),
            "version": f"Version {record['version']}"}


def part_captions(root: Path) -> list[str]:
    """The captions of the parts of ``_toc.yml``, in order."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    return [part["caption"] for part in toc.get("parts", [])]


# After the print layout is applied: a table still wider than the page may break long words (only that
# table); the execution table's status marks in words (the PDF's fonts have no emoji).
FIT_TO_PAGE = """
() => {
  let squeezed = 0;
  for (const table of document.querySelectorAll(".bd-article table")) {
    if (table.getBoundingClientRect().width > table.parentElement.getBoundingClientRect().width + 1) {
      table.classList.add("pdf-squeezed");
      squeezed += 1;
    }
  }
  const words = {"\u2705": "succeeded", "\u274c": "failed"};
  for (const cell of document.querySelectorAll(".bd-article td")) {
    const text = cell.textContent.trim();
    if (text in words) cell.textContent = words[text];
  }
  return squeezed;
}
"""


def build_single_page(root: Path) -> Path:
    """Sphinx's singlehtml build of the book (warnings are errors); returns the single page."""
    from jupyter_book.sphinx import build_sphinx

    build = root / "_build"
    result = build_sphinx(
        str(root), str(build / "singlehtml"), noconfig=True, path_config=str(root / "_config.yml"),
        confoverrides={"external_toc_path": (root / "_toc.yml").as_posix(), "latex_individualpages": False,
                       "nitpicky": True},
        doctreedir=str(build / ".doctrees-singlehtml"), builder="singlehtml", warningiserror=True, keep_going=True)
    page = build / "singlehtml" / MASTER_PAGE
    if result != 0 or not page.exists():
        raise RuntimeError(f"the single-page build failed (status {result}): see the messages above")
    # the single page links its styles, scripts and images from the output's root (_static/, _images/)
    # but is written under book/: print a copy at the root
    at_root = build / "singlehtml" / PRINTED_PAGE
    shutil.copy2(page, at_root)
    return at_root


@contextmanager
def serve(folder: Path):
    """``folder`` over HTTP on loopback (MathJax and the fonts load as they do on the site)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def print_pdf(single_page_root: Path, target: Path, parts: list[str], book: dict[str, str]) -> int:
    """Print the single page to ``target`` with Chromium, a title page from ``book``, the chapters
    grouped under ``parts``; returns the number of chapters listed in the printed contents."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} not found: apt-get install chromium (make test installs it)")
    from playwright.sync_api import sync_playwright

    target.parent.mkdir(parents=True, exist_ok=True)
    with serve(single_page_root) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": PRINT_WIDTH, "height": 1000})
            page.goto(url + PRINTED_PAGE, wait_until="networkidle", timeout=120_000)
            page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
            page.add_style_tag(content=PRINT_CSS)
            page.emulate_media(media="print")
            chapters = page.evaluate(PREPARE_PAGE, [parts, book])
            page.evaluate(FIT_TO_PAGE)
            page.pdf(path=str(target), format="A4", print_background=True, outline=True, tagged=True,
                     display_header_footer=True, header_template="<span></span>",
                     footer_template='<div style="font-size:8px;width:100%;text-align:center;">'
                                     '<span class="pageNumber"></span> / <span class="totalPages"></span></div>',
                     margin={"top": "14mm", "bottom": "16mm", "left": "14mm", "right": "14mm"})
        finally:
            browser.close()
    return chapters


ROOT_FILES = ("_config.yml", "_toc.yml", "CITATION.cff", "scripts/make_pdf.py")


def pdf_fingerprint(root: Path) -> str:
    """SHA-256 of what the PDF is made from: the book's folder (pages, extensions, styles,
    bibliography), the package, the data, the fixtures and the configuration."""
    folders = {"book": root / "book", "package": root / "src", "data": root / "data",
               "reference": root / "tests" / "reference"}
    digest = hashlib.sha256(inputs_fingerprint(folders).encode())
    for name in ROOT_FILES:
        path = root / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    return digest.hexdigest()


def ship(pdf: Path, root: Path) -> Path:
    shipped = root / "_build" / "html" / DOWNLOADS / PDF_NAME
    shipped.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(pdf, shipped)
    return shipped


def make_pdf(root: Path = ROOT, log=print) -> Path:
    root = Path(root).resolve()
    pdf = root / "_build" / "pdf" / PDF_NAME
    stamp = pdf.with_name("fingerprint.txt")
    fingerprint = pdf_fingerprint(root)
    if pdf.exists() and stamp.exists() and stamp.read_text(encoding="utf-8").strip() == fingerprint:
        log(f"make_pdf: nothing changed since {pdf} was made; copied to {ship(pdf, root)}")
        return pdf
    start = time.perf_counter()
    single = build_single_page(root)
    built = time.perf_counter()
    chapters = print_pdf(single.parent, pdf, part_captions(root), title_page(root))
    stamp.write_text(fingerprint + "\n", encoding="utf-8")
    log(f"make_pdf: {pdf} ({pdf.stat().st_size / 1e6:.1f} MB, {chapters} chapters listed): single page "
        f"{built - start:.1f} s, printing {time.perf_counter() - built:.1f} s; copied to {ship(pdf, root)}")
    return pdf


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="book root (with _config.yml and _toc.yml)")
    args = parser.parse_args(argv)
    try:
        make_pdf(args.root)
    except RuntimeError as error:
        print(f"make_pdf: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
