"""The downloadable notebooks: one per page, clean Markdown, no outputs, and each runs on its own."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT
from .test_site import HTML, _toc_pages

NOTEBOOKS = HTML / "_notebooks"
MYST_LEFTOVER = re.compile(r"^(`{3,}|:{3,})\{|\{[a-z:]+\}`|^\s*:[a-z-]+:", re.M)


def _notebook_pages() -> list[str]:
    return [p for p in _toc_pages() if "kernelspec:" in (ROOT / f"{p}.md").read_text(encoding="utf-8")[:600]]


def _read(page: str):
    path = NOTEBOOKS / f"{page}.ipynb"
    if not path.exists():
        pytest.fail(f"{path} is missing: `make book` writes the notebooks")
    return nbformat.read(path, as_version=4)


def test_every_notebook_page_is_offered_for_download():
    pages = _notebook_pages()
    assert len(pages) >= 5
    for page in pages:
        html = (HTML / f"{page}.html").read_text(encoding="utf-8")
        assert "download-notebook-button" in html, page
        assert (NOTEBOOKS / f"{page}.ipynb").exists(), page


@pytest.mark.parametrize("page", _notebook_pages())
def test_notebook_is_clean(page):
    notebook = _read(page)
    nbformat.validate(notebook)
    kinds = {cell.cell_type for cell in notebook.cells}
    assert kinds <= {"markdown", "code"}
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            leftover = MYST_LEFTOVER.search(cell.source)
            assert leftover is None, f"{page}: MyST left in a Markdown cell: {cell.source[leftover.start():][:60]!r}"
        else:
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("page", _notebook_pages())
def test_notebook_runs_in_a_fresh_kernel_from_the_repository_root(page):
    notebook = _read(page)
    client = NotebookClient(notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
