"""Tests of data/evidence.csv and its loader: the real file passes, and each check fails on a bad copy.

The bad copies are small: the header and a handful of real rows (the first rows of the file, plus
the first rows that publish an interval and a standard error), valid as they stand; each test
changes one field and expects the loader to name the line and the problem.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from tracking_evidence.data import DataError
from tracking_evidence.evidence import (
    CODED,
    COLUMNS,
    CONSTRUCTS,
    CONTRASTS,
    DESIGNS,
    DIRECTIONS,
    EVIDENCE,
    NOT_A_COMPARISON,
    NOT_TRACKING,
    ROLES,
    SETTINGS,
    SUBGROUPS,
    bib_keys,
    default_bib,
    load_evidence,
    number_in_quote,
    numbers_in_text,
)

REPO = Path(__file__).resolve().parents[1]
EVIDENCE_CSV = REPO / "data" / "evidence.csv"
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


def test_real_file_vocabularies_codes_and_addresses():
    frame = load_evidence()
    for column, levels in (("setting", SETTINGS), ("design", DESIGNS), ("contrast", CONTRASTS),
                           ("construct", CONSTRUCTS), ("subgroup", SUBGROUPS), ("direction", DIRECTIONS),
                           ("estimate_role", ROLES)):
        assert set(frame[column]) <= set(levels), column
    assert set(CODED) <= set(COLUMNS)
    # a row compares tracking intensities exactly when it is coded with a direction and a sign
    comparison = frame["contrast"] != NOT_TRACKING
    assert (comparison == (frame["direction"] != NOT_A_COMPARISON)).all()
    assert (comparison == frame["sign_more_tracking"].notna()).all()
    assert set(frame.loc[comparison, "sign_more_tracking"]) <= {-1, 1}
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
        (2.0, "students took two periods of algebra a day"),  # small whole numbers written as words
        (12.0, "Twelve schools took part"),
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
        (1.0, "one-tenth of the students"),  # a fraction in words is not the number one
        (0.5, "about half of the students"),  # nor is a phrase
        (2.0, "twofold"),  # a number word must stand alone
    ],
)
def test_number_in_quote_rejects(estimate, quote):
    assert not number_in_quote(estimate, quote)


def test_numbers_in_text_reads_words_signs_and_positions():
    text = "two classes, \u2212.5 SD and 7,185 students"
    found = numbers_in_text(text)
    assert [(value, negative) for value, negative, _, _ in found] == [(2.0, False), (0.5, True), (7185.0, False)]
    for value, _, start, end in found:
        assert text[start:end].lstrip("\u2212").replace(",", "") in {"two", ".5", "7185"}


# ---------------------------------------------------------------- bad copies of a small valid file


def _real_rows() -> list[list[str]]:
    with EVIDENCE_CSV.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _value(row: list[str], column: str) -> str:
    return row[COLUMNS.index(column)]


def _sample() -> list[list[str]]:
    """Header, the first five rows (comparisons and a context row) and the first rows that publish
    an interval and a standard error: a small file that passes every check unchanged."""
    header, *body = _real_rows()
    with_ci = next(r for r in body if _value(r, "ci_low"))
    with_se = next(r for r in body if _value(r, "se"))
    return [header, *body[:5], with_ci, with_se]


def _line(predicate) -> int:
    """The line (header = 1) of the first sample row that satisfies ``predicate``."""
    return next(i for i, row in enumerate(_sample(), start=1) if i > 1 and predicate(row))


COMPARISON = _line(lambda r: _value(r, "contrast") != NOT_TRACKING and _value(r, "estimate_role") == "primary")
CONTEXT = _line(lambda r: _value(r, "estimate_role") == "context")
WITH_CI = _line(lambda r: bool(_value(r, "ci_low")))
WITH_SE = _line(lambda r: bool(_value(r, "se")))


def _write(folder: Path, rows: list[list[str]]) -> Path:
    with (folder / "evidence.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return folder


def _mutated(folder: Path, line: int, **changes: str) -> Path:
    rows = _sample()
    for column, value in changes.items():
        rows[line - 1][COLUMNS.index(column)] = value
    return _write(folder, rows)


def _raises(folder: Path, *fragments: str, bib: Path = BIB) -> DataError:
    with pytest.raises(DataError) as info:
        load_evidence(folder, bib=bib)
    message = str(info.value)
    assert "evidence.csv" in message
    for fragment in fragments:
        assert fragment in message, message
    return info.value


def test_sample_rows_cover_every_kind_of_row():
    assert len({COMPARISON, CONTEXT, WITH_CI, WITH_SE}) == 4
    assert _value(_sample()[WITH_CI - 1], "se_derived") == "from CI"


def test_small_valid_copy_passes(tmp_path):
    frame = load_evidence(_write(tmp_path, _sample()), bib=BIB)
    assert len(frame) == len(_sample()) - 1


def test_unchanged_real_copy_passes(tmp_path):
    shutil.copy(EVIDENCE_CSV, tmp_path / "evidence.csv")
    assert len(load_evidence(tmp_path, bib=BIB)) == len(_real_rows()) - 1


# -- the file and its header


def test_missing_file(tmp_path):
    _raises(tmp_path, "file not found")


def test_empty_file(tmp_path):
    (tmp_path / "evidence.csv").write_text("", encoding="utf-8")
    _raises(tmp_path, "file is empty")


@pytest.mark.parametrize("change", ["swap", "drop last"])
def test_header_not_in_the_fixed_order(tmp_path, change):
    rows = _sample()
    if change == "swap":
        rows[0][0], rows[0][1] = rows[0][1], rows[0][0]
    else:
        rows = [row[:-1] for row in rows]
    _raises(_write(tmp_path, rows), "line 1", "fixed column order")


def test_ragged_row(tmp_path):
    rows = _sample()
    rows[COMPARISON - 1] = rows[COMPARISON - 1][:-2]
    _raises(_write(tmp_path, rows), f"line {COMPARISON}", "fields where the header has")


# -- column types and vocabularies


def test_missing_required_value(tmp_path):
    _raises(_mutated(tmp_path, COMPARISON, quote=""), f"line {COMPARISON}", "column 'quote'", "missing value")


@pytest.mark.parametrize("column", [c.name for c in EVIDENCE.columns if c.kind == "category"])
def test_vocabularies(tmp_path, column):
    _raises(_mutated(tmp_path, CONTEXT, **{column: "streaming"}), f"line {CONTEXT}", f"column '{column}'",
            "'streaming' is not one of")


def test_non_numeric_estimate(tmp_path):
    _raises(_mutated(tmp_path, COMPARISON, estimate="about .1"), f"line {COMPARISON}", "non-numeric")


def test_year_not_whole(tmp_path):
    _raises(_mutated(tmp_path, COMPARISON, year="2023.5"), f"line {COMPARISON}", "column 'year'", "whole number")


@pytest.mark.parametrize(("column", "value"), [("p", "1.5"), ("ci_level", "0.3"), ("sign_more_tracking", "2")])
def test_value_outside_its_range(tmp_path, column, value):
    _raises(_mutated(tmp_path, COMPARISON, **{column: value}), f"line {COMPARISON}", f"column '{column}'",
            "outside the allowed range")


# -- ids, citations, estimates, addresses


def test_malformed_id(tmp_path):
    _raises(_mutated(tmp_path, COMPARISON, id="X1"), f"line {COMPARISON}", "is not E followed")


def test_duplicate_id(tmp_path):
    rows = _sample()
    rows[CONTEXT - 1][0] = rows[COMPARISON - 1][0]
    error = _raises(_write(tmp_path, rows), f"line {CONTEXT}", f"already used on line {COMPARISON}")
    assert error.row == CONTEXT


def test_citation_not_in_bib(tmp_path):
    _raises(_mutated(tmp_path, COMPARISON, citation="nobody2099nothing"), f"line {COMPARISON}",
            "nobody2099nothing", "references.bib")


def test_citation_checked_against_the_given_bib(tmp_path):
    _write(tmp_path, _sample())
    empty = tmp_path / "empty.bib"
    empty.write_text("@book{other2000book,\n  title = {x}\n}\n", encoding="utf-8")
    _raises(tmp_path, "line 2", "not a key", bib=empty)


def test_missing_bib(tmp_path):
    _write(tmp_path, _sample())
    with pytest.raises(DataError, match="bibliography not found"):
        load_evidence(tmp_path, bib=tmp_path / "none.bib")


@pytest.mark.parametrize("change", ["shifted", "sign flipped"])
def test_estimate_not_in_quote(tmp_path, change):
    estimate = float(_value(_sample()[COMPARISON - 1], "estimate"))
    value = estimate + 0.001 if change == "shifted" else -estimate
    _raises(_mutated(tmp_path, COMPARISON, estimate=repr(value)), f"line {COMPARISON}", "does not appear in its quote")


def test_address_not_http(tmp_path):
    _raises(_mutated(tmp_path, COMPARISON, address="air.unimi.it/handle/2434/1042374"), f"line {COMPARISON}",
            "does not start with http")


# -- uncertainty


def test_se_not_positive(tmp_path):
    _raises(_mutated(tmp_path, WITH_SE, se="-0.01"), f"line {WITH_SE}", "se -0.01 is not positive")


def test_one_bound_only(tmp_path):
    _raises(_mutated(tmp_path, WITH_CI, ci_high=""), f"line {WITH_CI}", "only one confidence bound")


@pytest.mark.parametrize("change", ["above", "reversed"])
def test_estimate_outside_its_interval(tmp_path, change):
    estimate = float(_value(_sample()[WITH_CI - 1], "estimate"))
    low, high = (estimate + 0.5, estimate + 1.0) if change == "above" else (estimate + 1.0, estimate - 1.0)
    _raises(_mutated(tmp_path, WITH_CI, ci_low=repr(low), ci_high=repr(high)), f"line {WITH_CI}",
            "outside its interval")


@pytest.mark.parametrize("line_name", ["interval without level", "level without interval"])
def test_interval_and_level_go_together(tmp_path, line_name):
    folder = (_mutated(tmp_path, WITH_CI, ci_level="") if line_name == "interval without level"
              else _mutated(tmp_path, COMPARISON, ci_level="0.95"))
    line = WITH_CI if line_name == "interval without level" else COMPARISON
    _raises(folder, f"line {line}", "needs its level")


@pytest.mark.parametrize(("column", "which"), [("se", "se"), ("ci_low", "ci"), ("ci_high", "ci"), ("p", "none")])
def test_uncertainty_must_appear_in_the_quote(tmp_path, column, which):
    # a value that satisfies every other check but is not written in the row's quote
    line = {"se": WITH_SE, "ci": WITH_CI, "none": COMPARISON}[which]
    row = _sample()[line - 1]
    if column == "p":
        value = "0.0417"
    elif column == "se":
        value = repr(float(_value(row, "se")) + 0.0001)
    elif column == "ci_low":
        value = repr(float(_value(row, "ci_low")) - 0.001)
    else:
        value = repr(float(_value(row, "ci_high")) + 0.001)
    _raises(_mutated(tmp_path, line, **{column: value}), f"line {line}", f"column '{column}'",
            "does not appear in its quote")


def test_a_published_uncertainty_in_the_quote_passes(tmp_path):
    # E001's quote also holds .117: as an exact p-value it is in the quote, and the SE comes from it
    load_evidence(_mutated(tmp_path, COMPARISON, p="0.117", se_derived="from p"), bib=BIB)


@pytest.mark.parametrize(("where", "changes", "expected"), [
    ("ci", {"se_derived": ""}, "'from CI'"),  # an interval without its derivation
    ("none", {"se_derived": "from CI"}, "None"),  # a derivation without anything published
    ("se", {"se_derived": "from p"}, "None"),  # a published SE needs no derivation
    ("none", {"p": "0.117"}, "'from p'"),  # an exact p-value without its derivation
])
def test_se_derived_agrees_with_what_is_published(tmp_path, where, changes, expected):
    line = {"se": WITH_SE, "ci": WITH_CI, "none": COMPARISON}[where]
    _raises(_mutated(tmp_path, line, **changes), f"line {line}", "column 'se_derived'", f"makes it {expected}")


# -- the codes agree with each other


def test_contrast_and_direction_agree(tmp_path):
    _raises(_mutated(tmp_path, COMPARISON, direction=NOT_A_COMPARISON), f"line {COMPARISON}", "disagree")


@pytest.mark.parametrize(("where", "value"), [("comparison", ""), ("context", "1")])
def test_sign_exactly_for_comparisons(tmp_path, where, value):
    line = COMPARISON if where == "comparison" else CONTEXT
    _raises(_mutated(tmp_path, line, sign_more_tracking=value), f"line {line}", "column 'sign_more_tracking'",
            "exactly when the row compares")


def test_sign_zero(tmp_path):
    _raises(_mutated(tmp_path, COMPARISON, sign_more_tracking="0"), f"line {COMPARISON}", "sign_more_tracking is 0")


def test_direction_needs_its_words(tmp_path):
    _raises(_mutated(tmp_path, COMPARISON, direction_words=""), f"line {COMPARISON}", "needs the words")


def test_direction_words_occur_in_the_quote(tmp_path):
    _raises(_mutated(tmp_path, COMPARISON, direction_words="significantly negative"), f"line {COMPARISON}",
            "do not occur in the quote")


def test_context_row_is_not_a_comparison(tmp_path):
    _raises(_mutated(tmp_path, COMPARISON, estimate_role="context"), f"line {COMPARISON}",
            "a context row is not a tracking-intensity comparison")
