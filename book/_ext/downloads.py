"""What a reader can take away, shipped with the site under ``_build/html/_downloads/``.

- The student pack (``student_pack.py``): the package's wheel, with its data, built (when what goes
  into it changed) and copied there after every HTML build.
- The whole book as a PDF (``PDF_NAME``), written there by ``make pdf`` (``scripts/make_pdf.py``),
  which ``make book`` runs after the HTML build.

Every page's download menu gets both, and ``{book-downloads}`` lists them on a page (the "How to
cite" appendix), with links relative to that page.
"""

from __future__ import annotations

import posixpath
import shutil
import sys
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

sys.path.insert(0, str(Path(__file__).resolve().parent))
import student_pack  # noqa: E402

DOWNLOADS = "_downloads"
PDF_NAME = "the-tracking-debate-recomputed.pdf"


def _links(root: Path) -> list[tuple[str, str, str]]:
    """(file name, label, what it is) of each download."""
    wheel = student_pack.wheel_name(root)
    return [
        (PDF_NAME, "The whole book as a PDF", "every chapter, figure and verdict box, with a table of contents"),
        (wheel, "The student pack (Python package)",
         "the package tracking_evidence with the book's data inside: install it with "
         f"pip install {wheel} to run any chapter's notebook on your own Python or a hosted notebook service"),
    ]


def ship_student_pack(app, exception) -> None:
    if exception is not None or app.builder.name != "html":
        return
    root = Path(app.srcdir)
    if not student_pack.can_build(root):  # a test's book built from a few of the repository's files
        logging.getLogger(__name__).info(f"downloads: {root} is not the repository: no student pack")
        return
    wheel = student_pack.ensure_wheel(root, Path(app.outdir).parent / "student-pack")
    target = Path(app.outdir) / DOWNLOADS / wheel.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(wheel, target)


def add_menu_entries(app, pagename, templatename, context, doctree):
    """The PDF and the wheel in the page's download menu (sphinx-book-theme's "download-buttons")."""
    for button in context.get("header_buttons", []):
        if button.get("label") != "download-buttons":
            continue
        for name, label, _ in _links(Path(app.srcdir)):
            icon = "fas fa-file-pdf" if name.endswith(".pdf") else "fas fa-box"
            button["buttons"].append({"type": "link", "url": context["pathto"](f"{DOWNLOADS}/{name}", 1),
                                      "text": ".pdf (book)" if name.endswith(".pdf") else ".whl (package)",
                                      "icon": icon, "tooltip": label, "label": f"download-{name}"})
        return


class BookDownloads(SphinxDirective):
    """A list of the downloads, each linked relative to the page it is on."""

    has_content = False

    def run(self):
        listing = nodes.bullet_list()
        folder = posixpath.dirname(self.env.docname)
        for name, label, what in _links(Path(self.env.srcdir)):
            item = nodes.paragraph()
            url = posixpath.relpath(f"{DOWNLOADS}/{name}", folder or ".")
            item += [nodes.reference("", label, refuri=url, internal=False), nodes.Text(f" ({name}): {what}.")]
            listing += nodes.list_item("", item)
        return [listing]


def setup(app):
    app.add_directive("book-downloads", BookDownloads)
    app.connect("build-finished", ship_student_pack)
    app.connect("html-page-context", add_menu_entries, priority=610)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
