"""Tests of data/evidence.csv and its loader: the real file passes, and each check fails on a bad copy.

The bad copies are small: the header and a handful of real rows (the first rows of the file, plus
the first rows that publish an interval and a standard error), valid as they stand; each test
changes one field and expects the loader to name the line and the problem.
"""

from __future__ import annotations

import csv
import re
import shutil
from functools import cache
from pathlib import Path

import pytest

from tracking_evidence.data import DataError
from tracking_evidence.data.evidence import (
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
    """A year may be missing only where the page read does not show it, and the entry says so
    (protocol amendment 2)."""
    frame = load_evidence()
    text = BIB.read_text(encoding="utf-8")
    keys = bib_keys(BIB)
    for key in sorted(set(frame["citation"])):
        assert key in keys, f"{key} missing from book/references.bib"
        entry = re.search(r"@\s*\w+\s*\{\s*" + re.escape(key) + r"\s*,(.*?)\n\}", text, re.S)
        assert entry, f"cannot read the entry {key}"
        for field in ("author", "title"):
            assert re.search(rf"^\s*{field}\s*=", entry.group(1), re.M), f"{key} has no {field}"
        if not re.search(r"^\s*year\s*=", entry.group(1), re.M):
            assert re.search(r"^\s*note\s*=.*year.*not shown", entry.group(1), re.M | re.I), f"{key}: no year and no note why"


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
    assert frame["address"].str.match(r"^(https?://\S+|store:\d+)$").all()
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


@cache
def _real_rows() -> tuple[tuple[str, ...], ...]:
    with EVIDENCE_CSV.open(newline="", encoding="utf-8") as handle:
        return tuple(tuple(row) for row in csv.reader(handle))


def _value(row, column: str) -> str:
    return row[COLUMNS.index(column)]


def _sample() -> list[list[str]]:
    """Header, the first five rows (comparisons and a context row) and the first rows that publish
    an interval and a standard error: a small file that passes every check unchanged."""
    header, *body = _real_rows()
    with_ci = next(r for r in body if _value(r, "ci_low"))
    with_se = next(r for r in body if _value(r, "se"))
    with_bound = next(r for r in body[5:] if _value(r, "p_bound") and r not in (with_ci, with_se))
    return [list(row) for row in (header, *body[:5], with_ci, with_se, with_bound)]


def _line(predicate) -> int:
    """The line (header = 1) of the first sample row that satisfies ``predicate``."""
    return next(i for i, row in enumerate(_sample(), start=1) if i > 1 and predicate(row))


COMPARISON = _line(lambda r: _value(r, "contrast") != NOT_TRACKING and _value(r, "estimate_role") == "primary")
CONTEXT = _line(lambda r: _value(r, "estimate_role") == "context")
WITH_CI = _line(lambda r: bool(_value(r, "ci_low")))
WITH_SE = _line(lambda r: bool(_value(r, "se")))
WITH_BOUND = _line(lambda r: bool(_value(r, "p_bound")))
NO_SIGNIFICANCE = _line(lambda r: not re.search(r"signific|p\s*[<≤]|\*", _value(r, "quote"), re.IGNORECASE))


def _number(line: int, column: str) -> float:
    return float(_value(_sample()[line - 1], column))


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
    assert len({COMPARISON, CONTEXT, WITH_CI, WITH_SE, WITH_BOUND}) == 5
    assert _value(_sample()[WITH_CI - 1], "se_derived") == "from CI"


def test_small_valid_copy_passes(tmp_path):
    frame = load_evidence(_write(tmp_path, _sample()), bib=BIB)
    assert len(frame) == len(_sample()) - 1


def test_unchanged_real_copy_passes(tmp_path):
    shutil.copy(EVIDENCE_CSV, tmp_path / "evidence.csv")
    assert len(load_evidence(tmp_path, bib=BIB)) == len(_real_rows()) - 1


def test_a_published_uncertainty_in_the_quote_passes(tmp_path):
    # E001's quote also holds .117: as an exact p-value it is in the quote, and the SE comes from it
    load_evidence(_mutated(tmp_path, COMPARISON, p="0.117", se_derived="from p"), bib=BIB)


# -- the file, its header and its rows as a whole


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


def test_duplicate_id(tmp_path):
    rows = _sample()
    rows[CONTEXT - 1][0] = rows[COMPARISON - 1][0]
    error = _raises(_write(tmp_path, rows), f"line {CONTEXT}", f"already used on line {COMPARISON}")
    assert error.row == CONTEXT


def test_citation_checked_against_the_given_bib(tmp_path):
    _write(tmp_path, _sample())
    empty = tmp_path / "empty.bib"
    empty.write_text("@book{other2000book,\n  title = {x}\n}\n", encoding="utf-8")
    _raises(tmp_path, "line 2", "not a key", bib=empty)


def test_missing_bib(tmp_path):
    _write(tmp_path, _sample())
    with pytest.raises(DataError, match="bibliography not found"):
        load_evidence(tmp_path, bib=tmp_path / "none.bib")


# -- one field of one row changed: one case per rule, named by the rule

_CATEGORIES = [c.name for c in EVIDENCE.columns if c.kind == "category"]
_ESTIMATE = _number(COMPARISON, "estimate")
_CI_ESTIMATE = _number(WITH_CI, "estimate")

ONE_FIELD = [
    # column types and vocabularies
    pytest.param(COMPARISON, {"quote": ""}, ("column 'quote'", "missing value"), id="required value"),
    *(pytest.param(CONTEXT, {column: "streaming"}, (f"column '{column}'", "'streaming' is not one of"),
                   id=f"vocabulary of {column}") for column in _CATEGORIES),
    pytest.param(COMPARISON, {"estimate": "about .1"}, ("non-numeric",), id="numeric"),
    pytest.param(COMPARISON, {"year": "2023.5"}, ("column 'year'", "whole number"), id="whole number"),
    *(pytest.param(COMPARISON, {column: value}, (f"column '{column}'", "outside the allowed range"),
                   id=f"range of {column}")
      for column, value in (("p", "1.5"), ("ci_level", "0.3"), ("sign_more_tracking", "2"))),
    # ids, citations, estimates, addresses
    pytest.param(COMPARISON, {"id": "X1"}, ("is not E followed",), id="id format"),
    pytest.param(COMPARISON, {"citation": "nobody2099nothing"}, ("nobody2099nothing", "references.bib"),
                 id="citation in the bibliography"),
    pytest.param(COMPARISON, {"estimate": repr(_ESTIMATE + 0.001)}, ("does not appear in its quote",),
                 id="estimate in the quote"),
    pytest.param(COMPARISON, {"estimate": repr(-_ESTIMATE)}, ("does not appear in its quote",),
                 id="estimate's sign in the quote"),
    pytest.param(COMPARISON, {"address": "air.unimi.it/handle/2434/1042374"}, ("neither a web address",),
                 id="address"),
    # uncertainty: as published, consistent, and in the quote
    pytest.param(WITH_SE, {"se": "-0.01"}, ("se -0.01 is not positive",), id="se positive"),
    pytest.param(WITH_CI, {"ci_high": ""}, ("only one confidence bound",), id="both bounds"),
    pytest.param(WITH_CI, {"ci_low": repr(_CI_ESTIMATE + 0.5), "ci_high": repr(_CI_ESTIMATE + 1.0)},
                 ("outside its interval",), id="estimate inside its interval"),
    pytest.param(WITH_CI, {"ci_low": repr(_CI_ESTIMATE + 1.0), "ci_high": repr(_CI_ESTIMATE - 1.0)},
                 ("outside its interval",), id="interval in order"),
    pytest.param(WITH_CI, {"ci_level": ""}, ("needs its level",), id="interval needs a level"),
    pytest.param(COMPARISON, {"ci_level": "0.95"}, ("needs its level",), id="level needs an interval"),
    pytest.param(WITH_SE, {"se": repr(_number(WITH_SE, "se") + 0.0001)}, ("column 'se'", "does not appear"),
                 id="se in the quote"),
    pytest.param(WITH_CI, {"ci_low": repr(_number(WITH_CI, "ci_low") - 0.001)}, ("column 'ci_low'", "does not appear"),
                 id="ci_low in the quote"),
    pytest.param(WITH_CI, {"ci_high": repr(_number(WITH_CI, "ci_high") + 0.001)},
                 ("column 'ci_high'", "does not appear"), id="ci_high in the quote"),
    pytest.param(COMPARISON, {"p": "0.0417"}, ("column 'p'", "does not appear"), id="p in the quote"),
    pytest.param(WITH_CI, {"se_derived": ""}, ("column 'se_derived'", "makes it 'from CI'"),
                 id="se_derived of an interval"),
    pytest.param(COMPARISON, {"se_derived": "from CI"}, ("column 'se_derived'", "makes it None"),
                 id="se_derived without uncertainty"),
    pytest.param(WITH_SE, {"se_derived": "from p"}, ("column 'se_derived'", "makes it None"),
                 id="se_derived of a published se"),
    pytest.param(COMPARISON, {"p": "0.117"}, ("column 'se_derived'", "makes it 'from p'"),
                 id="se_derived of an exact p"),
    # the codes agree with each other and with the quote
    pytest.param(COMPARISON, {"direction": NOT_A_COMPARISON}, ("disagree",), id="contrast and direction"),
    pytest.param(COMPARISON, {"sign_more_tracking": ""}, ("exactly when the row compares",),
                 id="sign of a comparison"),
    pytest.param(CONTEXT, {"sign_more_tracking": "1"}, ("exactly when the row compares",), id="no sign for context"),
    pytest.param(COMPARISON, {"sign_more_tracking": "0"}, ("sign_more_tracking is 0",), id="sign not zero"),
    pytest.param(COMPARISON, {"direction_words": ""}, ("needs the words",), id="direction needs words"),
    pytest.param(COMPARISON, {"direction_words": "significantly negative"}, ("do not occur in the quote",),
                 id="direction words in the quote"),
    pytest.param(COMPARISON, {"estimate_role": "context"}, ("a context row is not a tracking-intensity comparison",),
                 id="context role"),
    # which way is better is coded for every comparison; inequality is worse when higher
    pytest.param(COMPARISON, {"higher_is_better": ""}, ("higher_is_better is missing",), id="higher is better given"),
    pytest.param(COMPARISON, {"construct": "dispersion", "higher_is_better": "true"},
                 ("measures inequality", "must be false"), id="inequality is worse when higher"),
    # sample sizes only as quoted; addresses a reader can open
    pytest.param(COMPARISON, {"n": "987654"}, ("column 'n'", "appears in neither its quote nor its notes"),
                 id="n quoted"),
    pytest.param(COMPARISON, {"address": "store:abc"}, ("neither a web address", "store:<id>"),
                 id="store address is a number"),
    # significance statements: a declared bound, quoted, and the derivation it makes
    pytest.param(WITH_BOUND, {"p_bound": "0.02"}, ("column 'p_bound'", "is not one of"), id="p_bound allowed"),
    pytest.param(NO_SIGNIFICANCE, {"p_bound": "0.05", "se_derived": "from significance"},
                 ("column 'p_bound'", "states no significance"), id="p_bound quoted"),
    pytest.param(WITH_BOUND, {"se_derived": ""}, ("column 'se_derived'",), id="se_derived of a bound"),
    pytest.param(WITH_BOUND, {"p_bound": "0.05", "se_derived": "from significance (level not printed)"},
                 ("column 'se_derived'", "cannot be recomputed"),
                 id="derivation must be recomputable"),
    # raw inputs: named as the derivation needs, quoted, and giving the estimate
    pytest.param(COMPARISON, {"raw_inputs": "m1=1;sd1=1", "se_derived": "from means and SDs"},
                 ("column 'raw_inputs'", "needs"), id="raw inputs complete"),
    pytest.param(COMPARISON, {"raw_inputs": "b=oops", "se_derived": "from coefficient and outcome SD"},
                 ("column 'raw_inputs'", "has no number"), id="raw inputs numeric"),
    pytest.param(COMPARISON, {"raw_inputs": "b=91.5;se_b=3.25;sd_y=47.5", "se_derived": "from coefficient and outcome SD"},
                 ("column 'raw_inputs'", "does not appear in its quote"), id="raw inputs quoted"),
]


@pytest.mark.parametrize(("line", "changes", "fragments"), ONE_FIELD)
def test_one_bad_field_is_refused_with_its_line(tmp_path, line, changes, fragments):
    _raises(_mutated(tmp_path, line, **changes), f"line {line}", *fragments)


def _twin_of_a_different_direction(rows: list) -> list:
    """A copy of the comparison row, id E999, that gives its effect another direction."""
    twin = list(rows[COMPARISON - 1])
    twin[COLUMNS.index("id")] = "E999"
    old = _value(twin, "direction")
    twin[COLUMNS.index("direction")] = next(d for d in DIRECTIONS if d not in (old, NOT_A_COMPARISON))
    return twin


def test_two_directions_for_one_effect_are_refused_naming_both_rows(tmp_path):
    rows = _sample()
    twin = _twin_of_a_different_direction(rows)
    rows.append(twin)
    error = _raises(_write(tmp_path, rows), "directions", _value(twin, "study_id"), "E999",
                    _value(rows[COMPARISON - 1], "id"))
    assert error.column == "direction"


def test_an_alternative_specification_may_differ_in_direction(tmp_path):
    rows = _sample()
    twin = _twin_of_a_different_direction(rows)
    twin[COLUMNS.index("estimate_role")] = "alternative specification"
    rows.append(twin)
    assert len(load_evidence(_write(tmp_path, rows), bib=BIB)) == len(rows) - 1


def test_estimate_recomputed_from_raw_inputs(tmp_path):
    """A row whose estimate is derived from quoted means and SDs passes when the estimate is the
    recomputed g, and is refused naming the recomputed value when it is not."""
    from tracking_evidence.stats.conversions import hedges_g

    g, _ = hedges_g(52.0, 10.0, 40, 48.0, 10.0, 40)
    rows = _sample()
    row = rows[COMPARISON - 1]
    quote = "Means were 52 (SD 10, n = 40) and 48 (SD 10, n = 40). " + _value(row, "quote")
    changes = {"quote": quote, "raw_inputs": "m1=52;sd1=10;n1=40;m2=48;sd2=10;n2=40",
               "se_derived": "from means and SDs", "estimate": f"{g:.6f}", "p": "", "p_bound": ""}
    for column, value in changes.items():
        row[COLUMNS.index(column)] = value
    load_evidence(_write(tmp_path, rows), bib=BIB)
    row[COLUMNS.index("estimate")] = f"{g + 0.01:.6f}"
    _raises(_write(tmp_path, rows), "not the from means and SDs recomputed from raw_inputs", f"{g:.4f}")
