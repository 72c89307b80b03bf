"""Tests of the documented search: the screening log and its loader, the PRISMA 2020 flow, and the
EEF months-of-progress table the summary page converts effect sizes with.

The real files pass; a copy with one field changed is refused with its line and the problem.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from tracking_evidence.analyses import prisma
from tracking_evidence.data import DataError
from tracking_evidence.data.evidence import load_evidence
from tracking_evidence.data.months import load_months
from tracking_evidence.data.screening import REASONS, SCREENING_STAGE, load_screening

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"


@pytest.fixture(scope="module")
def evidence():
    return load_evidence()


@pytest.fixture(scope="module")
def log(evidence):
    return load_screening(evidence=evidence)


# ---------------------------------------------------------------- the screening log


def test_real_log_passes_against_the_table(log):
    assert len(log) > 1000
    assert set(log["decision"]) == {"included", "excluded", "duplicate"}


def test_every_second_search_row_comes_from_an_included_record(log, evidence):
    named = {r for cell in log.loc[log["decision"] == "included", "rows"] for r in cell.split(";")}
    from_search = set(evidence.loc[evidence["search_record"].notna(), "id"])
    assert from_search == named


def _copy(tmp_path: Path) -> Path:
    (tmp_path / "search").mkdir()
    shutil.copy(DATA / "search" / "screening.csv", tmp_path / "search" / "screening.csv")
    return tmp_path


def _edit(folder: Path, record: str, **changes) -> int:
    path = folder / "search" / "screening.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    index = frame.index[frame["record_id"] == record][0]
    for column, value in changes.items():
        frame.loc[index, column] = value
    frame.to_csv(path, index=False)
    return int(index) + 2


def _first(log, decision: str) -> str:
    return log.loc[log["decision"] == decision, "record_id"].iloc[0]


def _refused(folder: Path, evidence, line: int | None, *fragments: str) -> None:
    with pytest.raises(DataError) as info:
        load_screening(folder, evidence=evidence)
    message = str(info.value)
    if line is not None:
        assert f"line {line}" in message, message
    for fragment in fragments:
        assert fragment in message, message


CASES = [
    ("excluded", {"record_id": "X12"}, ("is not S followed",)),
    ("excluded", {"question": "Q9"}, ("are not among",)),
    ("included", {"reason": REASONS[0]}, ("a reason is given exactly for excluded",)),
    ("excluded", {"reason": ""}, ("a reason is given exactly for excluded",)),
    ("excluded", {"reason": "too long"}, ("'too long' is not one of",)),
    ("duplicate", {"duplicate_of": "S9999"}, ("not in the log",)),
    ("duplicate", {"duplicate_of": ""}, ("duplicate_of is given exactly for duplicates",)),
    ("excluded", {"rows": "E001"}, ("only an included record",)),
    ("included", {"rows": "E99999"}, ("E99999", "not in evidence.csv")),
    ("included", {"rows": "E001"}, ("E001", "search_record")),
]


@pytest.mark.parametrize(("decision", "changes", "fragments"), CASES,
                         ids=[f"{d}: {', '.join(c)}={'/'.join(c.values())}" for d, c, _ in CASES])
def test_one_bad_field_of_the_log_is_refused(tmp_path, log, evidence, decision, changes, fragments):
    folder = _copy(tmp_path)
    line = _edit(folder, _first(log, decision), **changes)
    _refused(folder, evidence, line, *fragments)


def test_duplicate_of_a_duplicate_is_refused(tmp_path, log, evidence):
    folder = _copy(tmp_path)
    duplicates = log.loc[log["decision"] == "duplicate", "record_id"]
    line = _edit(folder, duplicates.iloc[0], duplicate_of=duplicates.iloc[1])
    _refused(folder, evidence, line, "itself a duplicate")


def test_reused_record_id_is_refused(tmp_path, log, evidence):
    folder = _copy(tmp_path)
    second = log["record_id"].iloc[1]
    line = _edit(folder, second, record_id=log["record_id"].iloc[0])
    _refused(folder, evidence, line, "used twice")


def test_an_evidence_row_naming_a_record_that_was_not_included_is_refused(log, evidence):
    changed = evidence.copy()
    row = changed.index[changed["search_record"].isna()][0]  # a first-round row, named by no record
    changed.loc[row, "search_record"] = _first(log, "excluded")
    with pytest.raises(DataError, match="not an included record"):
        load_screening(evidence=changed)


# ---------------------------------------------------------------- the PRISMA flow


def test_flow_adds_up_and_matches_the_log(log, evidence):
    f = prisma.flow(log, evidence)
    assert f.identified == len(log)
    assert f.duplicates == (log["decision"] == "duplicate").sum()
    assert f.included_reports == (log["decision"] == "included").sum()
    excluded = log[log["decision"] == "excluded"]["reason"].map(SCREENING_STAGE).value_counts()
    assert sum(f.excluded_screening.values()) == excluded.get("screening", 0)
    assert sum(f.excluded_eligibility.values()) == excluded.get("eligibility", 0)
    assert f.not_retrieved == excluded.get("retrieval", 0)
    assert f.total_studies == evidence["study_id"].nunique()
    assert 0 < f.new_studies_with_uncertainty <= f.included_studies <= f.total_studies


def test_excluding_one_more_record_moves_exactly_one_box(log, evidence):
    before = prisma.flow(log, evidence)
    changed = log.copy()
    i = changed.index[(changed["decision"] == "excluded")
                      & (changed["reason"] == "no estimate on the pages read")][0]
    changed.loc[i, "reason"] = "not K-12"
    after = prisma.flow(changed, evidence)
    assert after.excluded_screening["not K-12"] == before.excluded_screening["not K-12"] + 1
    assert after.excluded_eligibility["no estimate on the pages read"] == (
        before.excluded_eligibility["no estimate on the pages read"] - 1)
    assert after.sought == before.sought - 1 and after.included_reports == before.included_reports


def test_a_flow_that_does_not_add_up_is_caught():
    broken = prisma.Flow(identified=10, duplicates=2, screened=9)
    with pytest.raises(AssertionError):
        broken.check()


def test_per_question_counts_each_record_under_each_of_its_questions(log, evidence):
    table = prisma.per_question(log, evidence)
    assert list(table["question"]) == [f"Q{i}" for i in range(1, 9)]
    n_questions = log["question"].str.split(";").map(len).sum()
    assert table["records identified"].sum() == n_questions
    assert (table["studies with uncertainty"] <= table["studies in the table"]).all()


# ---------------------------------------------------------------- the EEF months table


def test_months_table_is_the_printed_table():
    table = load_months()
    assert list(table["months"]) == list(range(13))
    assert table["es_high"].iloc[-1] == 1.0


@pytest.mark.parametrize(("column", "value", "fragment"), [
    ("es_high", "0.10", "is not the row printed"),
    ("months", "3", "is not the row printed"),
])
def test_months_row_not_as_printed_is_refused(tmp_path, column, value, fragment):
    frame = pd.read_csv(DATA / "eef-months-progress.csv", dtype=str)
    frame.loc[2, column] = value
    frame.to_csv(tmp_path / "eef-months-progress.csv", index=False)
    with pytest.raises(DataError, match=fragment):
        load_months(tmp_path)


def test_overlapping_months_bands_are_refused(tmp_path):
    frame = pd.read_csv(DATA / "eef-months-progress.csv", dtype=str)
    frame.loc[2, ["es_low", "row_as_printed"]] = ["0.09", "20.090.18Low impact"]
    frame.to_csv(tmp_path / "eef-months-progress.csv", index=False)
    with pytest.raises(DataError, match="ordered and disjoint"):
        load_months(tmp_path)
