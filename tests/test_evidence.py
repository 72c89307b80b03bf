"""Tests of data/evidence.csv and its loader: the real file passes, and each check fails on a bad copy."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from tracking_evidence.data import DataError
from tracking_evidence.evidence import (
    COLUMNS,
    DESIGNS,
    TOPICS,
    bib_keys,
    default_bib,
    load_evidence,
    number_in_quote,
)

REPO = Path(__file__).resolve().parents[1]
EVIDENCE = REPO / "data" / "evidence.csv"
BIB = REPO / "book" / "references.bib"


# ---------------------------------------------------------------- the real file


def test_real_file_passes_every_check():
    frame = load_evidence()
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) >= 2
    assert frame["id"].is_unique


def test_every_citation_is_a_bib_entry_with_author_title_year():
    frame = load_evidence()
    text = BIB.read_text(encoding="utf-8")
    keys = bib_keys(BIB)
    for key in sorted(set(frame["citation"])):
        assert key in keys, f"{key} missing from book/references.bib"
        entry = re.search(r"@\s*\w+\s*\{\s*" + re.escape(key) + r"\s*,(.*?)\n\}", text, re.S)
        assert entry, f"cannot read the entry {key}"
        for field in ("author", "title", "year"):
            assert re.search(rf"^\s*{field}\s*=", entry.group(1), re.M), f"{key} has no {field}"


def test_real_file_vocabularies_and_addresses():
    frame = load_evidence()
    assert set(frame["topic"]) <= set(TOPICS)
    assert set(frame["design"]) <= set(DESIGNS)
    assert frame["address"].str.startswith("http").all()
    assert (frame["quote"].str.len() > 20).all()


def test_default_bib_is_the_books_bibliography():
    assert default_bib() == BIB


# ---------------------------------------------------------------- the number matcher


@pytest.mark.parametrize(
    ("estimate", "quote"),
    [
        (0.117, "it is significantly positive (G = .117) on inequality."),
        (0.117, "it is significantly positive (G = 0.117) on inequality."),
        (-0.063, "is not statistically significant (G = -.063), whereas"),
        (-0.063, "is not statistically significant (G = \u2212.063), whereas"),
        (-0.063, "is not statistically significant (G = \u22120.063), whereas"),
        (-0.063, "scores were 0.063 lower in tracked systems"),
        (-4.0, "a decline of 4 points"),
        (7185.0, "7,185 students in 160 schools"),
        (28.0, "from 28 percent in 1998 to 71 percent in 2009."),
        (71.0, "from 28 percent in 1998 to 71 percent in 2009."),
        (12.0, "grades 3\u201312"),
        (0.0, "an effect of 0 on the low group"),
        (1.5, "an effect of 1.50 SD"),
    ],
)
def test_number_in_quote_accepts(estimate, quote):
    assert number_in_quote(estimate, quote)


@pytest.mark.parametrize(
    ("estimate", "quote"),
    [
        (0.117, "it is significantly positive (G = .12) on inequality."),  # a rounding is not the number
        (0.117, "G = -.117"),  # sign differs
        (-0.063, "G = .063 on inequality"),  # negative estimate, unsigned number, no direction word
        (-12.0, "grades 3\u201312"),  # a range dash is not a minus sign
        (1.5, "an effect of 11.5 SD"),  # digits inside a larger number
        (1.5, "an effect of 1.55 SD"),
        (5.0, "p = .05"),
        (17.0, "in 2017 the district"),  # part of a year
        (0.28, "from 28 percent"),  # a percentage is not a proportion
        (float("nan"), "nan"),
    ],
)
def test_number_in_quote_rejects(estimate, quote):
    assert not number_in_quote(estimate, quote)


# ---------------------------------------------------------------- bad copies


def _rows() -> list[list[str]]:
    with EVIDENCE.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write(folder: Path, rows: list[list[str]]) -> Path:
    with (folder / "evidence.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return folder


def _bad_copy(tmp_path: Path, column: str, value: str, line: int = 2) -> Path:
    rows = _rows()
    rows[line - 1][COLUMNS.index(column)] = value
    return _write(tmp_path, rows)


def _raises(folder: Path, *fragments: str, bib: Path = BIB) -> DataError:
    with pytest.raises(DataError) as info:
        load_evidence(folder, bib=bib)
    message = str(info.value)
    assert "evidence.csv" in message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_unchanged_copy_passes(tmp_path):
    shutil.copy(EVIDENCE, tmp_path / "evidence.csv")
    assert len(load_evidence(tmp_path, bib=BIB)) == len(_rows()) - 1


def test_missing_file(tmp_path):
    _raises(tmp_path, "file not found")


def test_header_out_of_order(tmp_path):
    rows = _rows()
    rows[0][0], rows[0][1] = rows[0][1], rows[0][0]
    _raises(_write(tmp_path, rows), "line 1", "fixed column order")


def test_missing_column(tmp_path):
    rows = [row[:-1] for row in _rows()]
    _raises(_write(tmp_path, rows), "line 1")


def test_duplicate_id(tmp_path):
    rows = _rows()
    rows[2][0] = rows[1][0]
    error = _raises(_write(tmp_path, rows), "line 3", "already used on line 2")
    assert error.row == 3


def test_malformed_id(tmp_path):
    _raises(_bad_copy(tmp_path, "id", "X1"), "line 2", "is not E followed")


@pytest.mark.parametrize("column", ["topic", "design"])
def test_vocabularies(tmp_path, column):
    _raises(_bad_copy(tmp_path, column, "streaming", line=3), "line 3", f"column '{column}'", "'streaming' is not one of")


def test_citation_not_in_bib(tmp_path):
    _raises(_bad_copy(tmp_path, "citation", "nobody2099nothing"), "line 2", "nobody2099nothing", "references.bib")


def test_citation_checked_against_the_given_bib(tmp_path):
    shutil.copy(EVIDENCE, tmp_path / "evidence.csv")
    empty = tmp_path / "empty.bib"
    empty.write_text("@book{other2000book,\n  title = {x}\n}\n", encoding="utf-8")
    _raises(tmp_path, "line 2", "not a key", bib=empty)


def test_missing_bib(tmp_path):
    shutil.copy(EVIDENCE, tmp_path / "evidence.csv")
    with pytest.raises(DataError, match="bibliography not found"):
        load_evidence(tmp_path, bib=tmp_path / "none.bib")


def test_estimate_not_in_quote(tmp_path):
    rows = _rows()
    estimate = float(rows[1][COLUMNS.index("estimate")])
    rows[1][COLUMNS.index("estimate")] = repr(estimate + 0.001)
    _raises(_write(tmp_path, rows), "line 2", "does not appear in its quote")


def test_estimate_sign_flipped(tmp_path):
    rows = _rows()
    index = COLUMNS.index("estimate")
    rows[1][index] = repr(-float(rows[1][index]))
    _raises(_write(tmp_path, rows), "line 2", "does not appear in its quote")


def test_non_numeric_estimate(tmp_path):
    _raises(_bad_copy(tmp_path, "estimate", "about .1"), "line 2", "non-numeric")


def test_missing_quote(tmp_path):
    _raises(_bad_copy(tmp_path, "quote", ""), "line 2", "column 'quote'", "missing value")


def test_negative_se(tmp_path):
    _raises(_bad_copy(tmp_path, "se", "-0.01"), "line 2", "se -0.01 is negative")


def test_estimate_outside_interval(tmp_path):
    rows = _rows()
    estimate = float(rows[1][COLUMNS.index("estimate")])
    rows[1][COLUMNS.index("ci_low")] = repr(estimate + 0.5)
    rows[1][COLUMNS.index("ci_high")] = repr(estimate + 1.0)
    _raises(_write(tmp_path, rows), "line 2", "outside its interval")


def test_interval_reversed(tmp_path):
    rows = _rows()
    estimate = float(rows[1][COLUMNS.index("estimate")])
    rows[1][COLUMNS.index("ci_low")] = repr(estimate + 1.0)
    rows[1][COLUMNS.index("ci_high")] = repr(estimate - 1.0)
    _raises(_write(tmp_path, rows), "line 2", "outside its interval")


def test_interval_with_the_estimate_inside_passes(tmp_path):
    rows = _rows()
    estimate = float(rows[1][COLUMNS.index("estimate")])
    rows[1][COLUMNS.index("ci_low")] = repr(estimate - 1.0)
    rows[1][COLUMNS.index("ci_high")] = repr(estimate + 1.0)
    load_evidence(_write(tmp_path, rows), bib=BIB)


def test_one_bound_only(tmp_path):
    rows = _rows()
    rows[1][COLUMNS.index("ci_low")] = "-5"
    rows[1][COLUMNS.index("ci_high")] = ""
    _raises(_write(tmp_path, rows), "line 2", "only one confidence bound")


def test_p_value_out_of_range(tmp_path):
    _raises(_bad_copy(tmp_path, "p_value", "1.5"), "line 2", "p_value 1.5")


def test_address_not_http(tmp_path):
    _raises(_bad_copy(tmp_path, "address", "air.unimi.it/handle/2434/1042374"), "line 2", "does not start with http")


def test_year_not_whole(tmp_path):
    _raises(_bad_copy(tmp_path, "year", "2023.5"), "line 2", "column 'year'")


def test_ragged_row(tmp_path):
    rows = _rows()
    rows[1] = rows[1][:-2]
    _raises(_write(tmp_path, rows), "line 2", "fields where the header has")
