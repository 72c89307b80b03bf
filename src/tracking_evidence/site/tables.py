"""Tables that read at every width: one function, :func:`html_table`, for every table a chapter shows.

The HTML it returns works with the site's stylesheet and script (``book/_static/book.css``,
``book/_static/tables.js``):

- no word is broken inside a cell (each cell is at least as wide as its longest word), and a table
  wider than the text column scrolls sideways inside its own box (a region that the keyboard can
  scroll), never the page;
- a long table folds under a one-line summary (``fold``; by default when it has more than
  :data:`FOLD_ROWS` rows): a ``<details>`` element, opened by a click, and opened when printed;
- a search box filters the rows (``search``; by default when the table folds);
- on a phone, ``cards=True`` shows one card per row, each value under its column's name (for tables
  of text; tables of numbers read better scrolled);
- numbers are right-aligned in tabular figures; a missing value shows as a dash, never as nothing.

In a notebook (Jupyter or the built site) the result displays itself as the table::

    from tracking_evidence.site.tables import html_table
    html_table(frame, summary="Every coded estimate", digits=3)
"""

from __future__ import annotations

import html
import math
from numbers import Integral, Real

import pandas as pd

__all__ = ["FOLD_ROWS", "HtmlTable", "html_table"]

FOLD_ROWS = 12  # a table with more rows than this folds by default
MISSING = "\u2013"  # shown for a missing value


class HtmlTable(str):
    """The HTML of a table. A ``str``; Jupyter and myst-nb display it as HTML."""

    def _repr_html_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"HtmlTable({len(self)} characters of HTML)"


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _format(value, digits: int | None, escape: bool) -> str:
    if _is_missing(value):
        return MISSING
    if digits is not None and _is_number(value) and not isinstance(value, Integral):
        return f"{value:.{digits}f}"
    text = str(value)
    return html.escape(text) if escape else text


def _numeric_columns(frame: pd.DataFrame) -> list[bool]:
    return [pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype) for dtype in frame.dtypes]


def _check(frame, fold, search, cards, digits, summary) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"html_table needs a pandas DataFrame, not {type(frame).__name__}")
    if isinstance(frame.columns, pd.MultiIndex):
        raise ValueError("html_table needs one row of column names (flatten the MultiIndex columns first)")
    if len(frame.columns) == 0:
        raise ValueError("html_table: the frame has no columns")
    for name, value in (("fold", fold), ("search", search), ("cards", cards)):
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"html_table: {name} must be True, False or None, not {value!r}")
    if digits is not None and (not isinstance(digits, Integral) or isinstance(digits, bool) or digits < 0):
        raise ValueError(f"html_table: digits must be a whole number >= 0, not {digits!r}")
    if summary is not None and (not isinstance(summary, str) or not summary.strip() or "\n" in summary):
        raise ValueError("html_table: summary must be one line of text")


def _header(frame: pd.DataFrame, numeric: list[bool]) -> str:
    number = ' class="number"'
    cells = "".join(f'<th scope="col"{number if is_number else ""}>{html.escape(str(name))}</th>'
                    for name, is_number in zip(frame.columns, numeric))
    return f"<thead><tr>{cells}</tr></thead>"


def _body(frame: pd.DataFrame, numeric: list[bool], digits: int | None, escape: bool, cards: bool) -> str:
    labels = [html.escape(str(name), quote=True) for name in frame.columns]
    rows = []
    for values in frame.itertuples(index=False, name=None):
        cells = []
        for value, label, is_number in zip(values, labels, numeric):
            classes = [c for c, on in (("number", is_number), ("missing", _is_missing(value))) if on]
            attributes = (f' class="{" ".join(classes)}"' if classes else "") + (f' data-label="{label}"' if cards else "")
            cells.append(f"<td{attributes}>{_format(value, digits, escape)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<tbody>{''.join(rows)}</tbody>"


def html_table(frame: pd.DataFrame, summary: str | None = None, *, fold: bool | None = None,
               search: bool | None = None, cards: bool = False, digits: int | None = None, index: bool = False,
               escape: bool = True) -> HtmlTable:
    """``frame`` as an HTML table that reads at every width (see the module's docstring).

    ``summary``: one line saying what the table holds; with the number of rows, it is what a folded
    table shows and the name screen readers give its scroll box (default: "Table (N rows)").
    ``fold``: fold under that line (default: more than :data:`FOLD_ROWS` rows). ``search``: a search
    box over the rows (default: when folded). ``cards``: one card per row on a phone. ``digits``:
    decimals shown for non-integer numbers (default: Python's ``str``). ``index``: show the index as
    the first column. ``escape=False`` lets cells hold HTML (links); the caller answers for it.
    Raises ``TypeError`` or ``ValueError`` naming a bad argument.
    """
    _check(frame, fold, search, cards, digits, summary)
    shown = frame.reset_index() if index else frame
    n_rows = len(shown)
    fold = n_rows > FOLD_ROWS if fold is None else fold
    search = fold if search is None else search
    label = f"{summary or 'Table'} ({n_rows} row{'s' if n_rows != 1 else ''})"
    numeric = _numeric_columns(shown)
    classes = "book-table" + (" cards-on-phone" if cards else "")
    table = (f'<table class="{classes}"{" data-search" if search else ""}>'
             f"{_header(shown, numeric)}{_body(shown, numeric, digits, escape, cards)}</table>")
    box = f'<div class="table-scroll" role="region" aria-label="{html.escape(label, quote=True)}">{table}</div>'
    if fold:
        box = f'<details class="table-fold"><summary>{html.escape(label)}</summary>{box}</details>'
    return HtmlTable(box)
