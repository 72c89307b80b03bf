"""tracking_evidence.site.tables.html_table: the HTML it writes (the browser tests check how it reads)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from tracking_evidence.site.tables import FOLD_ROWS, HtmlTable, html_table


class _Cells(HTMLParser):
    """The table's header names, its rows of cell texts and each cell's attributes."""

    def __init__(self):
        super().__init__()
        self.header, self.rows, self.attributes, self._cell, self._in_head = [], [], [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "thead":
            self._in_head = True
        elif tag == "tr" and not self._in_head:
            self.rows.append([])
            self.attributes.append([])
        elif tag in ("td", "th"):
            self._cell = ""
            if not self._in_head:
                self.attributes[-1].append(dict(attrs))

    def handle_endtag(self, tag):
        if tag == "thead":
            self._in_head = False
        elif tag in ("td", "th"):
            (self.header if self._in_head else self.rows[-1]).append(self._cell)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _parse(markup: str) -> _Cells:
    parser = _Cells()
    parser.feed(markup)
    return parser


@pytest.fixture
def frame():
    return pd.DataFrame({"id": ["A1", "B2"], "estimate": [0.123456, np.nan], "k": [3, 12],
                         "quote": ["tracking <b>works</b> & helps", "it does not"]})


def test_every_value_in_its_cell_escaped_and_a_missing_value_shown_as_a_dash(frame):
    cells = _parse(html_table(frame, digits=3))
    assert cells.header == ["id", "estimate", "k", "quote"]
    assert cells.rows == [["A1", "0.123", "3", "tracking <b>works</b> & helps"], ["B2", "\u2013", "12", "it does not"]]
    assert "<b>" not in html_table(frame)


def test_numbers_are_marked_for_right_alignment(frame):
    first = _parse(html_table(frame)).attributes[0]
    assert [("number" in a.get("class", "")) for a in first] == [False, True, True, False]


def test_a_short_table_scrolls_in_its_own_box_and_does_not_fold(frame):
    markup = html_table(frame, "Two claims")
    assert markup.startswith('<div class="table-scroll" role="region" aria-label="Two claims (2 rows)">')
    assert "<details" not in markup and "data-search" not in markup


def test_a_long_table_folds_under_one_line_and_gets_a_search_box():
    long = pd.DataFrame({"x": range(FOLD_ROWS + 1)})
    markup = html_table(long, "Every estimate")
    assert re.match(r'<details class="table-fold"><summary>Every estimate \(13 rows\)</summary>', markup)
    assert "data-search" in markup
    assert "<details" not in html_table(long, fold=False) and "data-search" in html_table(long, fold=False, search=True)


def test_cards_label_each_cell_with_its_column(frame):
    cells = _parse(html_table(frame, cards=True))
    assert [a["data-label"] for a in cells.attributes[0]] == ["id", "estimate", "k", "quote"]
    assert 'class="book-table cards-on-phone"' in html_table(frame, cards=True)


def test_html_in_cells_only_when_asked(frame):
    linked = frame.assign(id=['<a href="pooling.html">A1</a>', "B2"])
    assert '<a href="pooling.html">A1</a>' in html_table(linked, escape=False)
    assert "&lt;a href" in html_table(linked)


def test_the_index_as_a_first_column(frame):
    assert _parse(html_table(frame.set_index("id"), index=True)).header[0] == "id"


def test_it_displays_itself_as_html_in_a_notebook(frame):
    table = html_table(frame)
    assert isinstance(table, HtmlTable) and isinstance(table, str)
    assert table._repr_html_() == str(table)
    assert repr(table).startswith("HtmlTable(")


@pytest.mark.parametrize("arguments, error, words", [
    ((["not", "a", "frame"],), TypeError, "needs a pandas DataFrame"),
    ((pd.DataFrame(index=[0, 1]),), ValueError, "no columns"),
    ((pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])),), ValueError, "flatten"),
    ((pd.DataFrame({"x": [1]}), "two\nlines"), ValueError, "one line"),
])
def test_bad_input_is_named(arguments, error, words):
    with pytest.raises(error, match=words):
        html_table(*arguments)


@pytest.mark.parametrize("keywords, words", [
    ({"fold": "yes"}, "fold must be True, False or None"),
    ({"digits": -1}, "digits must be a whole number"),
    ({"digits": 2.5}, "digits must be a whole number"),
])
def test_bad_options_are_named(frame, keywords, words):
    with pytest.raises((TypeError, ValueError), match=words):
        html_table(frame, **keywords)
