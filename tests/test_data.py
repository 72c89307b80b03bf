"""The loaders: real files pass; every kind of bad file gets a DataError naming file, place and problem."""

from __future__ import annotations

import hashlib
import re

import pandas as pd
import pytest

from tracking_evidence import data
from tracking_evidence.data import DataError

from .conftest import DATA

EXPECTED_ROWS = {  # independent of data/README.md: the sizes documented by the R packages
    "hsb_students": 7185,  # nlme MathAchieve: "7185 rows"
    "hsb_schools": 160,  # nlme MathAchSchool: "160 rows"
    "egsingle": 7230,  # mlmRev egsingle: "7230 observations"
    "exam": 4059,  # mlmRev Exam: "4059 observations"
    "nlschools": 2287,  # MASS nlschools: "2287 rows"
}


@pytest.mark.parametrize("key", sorted(data.DATASETS))
def test_real_files_load_with_documented_sizes(key):
    frame = data.load(key)
    assert len(frame) == EXPECTED_ROWS[key]
    assert list(frame.columns) == [c.name for c in data.DATASETS[key].columns]
    assert not frame.isna().any().any()


def test_readme_checksums_are_the_files_sha256():
    recorded = data.recorded_checksums()
    assert set(recorded) == {spec.file for spec in data.DATASETS.values()}
    for file, (_, sha) in recorded.items():
        assert hashlib.sha256((DATA / file).read_bytes()).hexdigest() == sha


def test_readme_documents_every_column():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for spec in data.DATASETS.values():
        section = readme[readme.index(f"## `{spec.file}`"):]
        for column in spec.columns:
            assert f"| `{column.name}` |" in section, (spec.file, column.name)


def test_hsb_join_gives_each_student_a_school():
    hsb = data.load_hsb()
    assert len(hsb) == EXPECTED_ROWS["hsb_students"]
    assert hsb["school"].nunique() == EXPECTED_ROWS["hsb_schools"]
    assert hsb["pracad"].between(0, 1).all()


def test_exam_vr_is_the_schools_band_and_intake_labels_are_reversed():
    # what data/README.md reports about the documentation of mlmRev's Exam
    exam = data.load_exam()
    assert (exam.groupby("school")["vr"].nunique() == 1).all()
    ranges = exam.groupby("vr")["schavg"].agg(["min", "max"]).loc[["bottom 25%", "mid 50%", "top 25%"]]
    assert (ranges["max"].iloc[:-1].to_numpy() < ranges["min"].iloc[1:].to_numpy()).all()
    assert (exam.groupby("school")["intake"].nunique() > 1).sum() > 60
    mean_intake = exam.groupby("intake")["standlrt"].mean()
    assert mean_intake["bottom 25%"] > mean_intake["mid 50%"] > mean_intake["top 25%"]


def test_egsingle_lowinc_is_a_school_variable():
    eg = data.load_egsingle()
    assert (eg.groupby("schoolid")["lowinc"].nunique() == 1).all()


def test_provenance_reads_the_files():
    table = data.provenance()
    assert dict(zip(table["dataset"], table["rows"])) == EXPECTED_ROWS
    assert table["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()


def _rewrite(path, transform):
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(transform(lines)), encoding="utf-8")


def _set_cell(path, index, field, value):
    """Replace one cell: ``index`` counts lines from 0 (the header), ``field`` columns from 0."""

    def replace(lines):
        fields = lines[index].split(",")
        fields[field] = value
        return lines[:index] + [",".join(fields)] + lines[index + 1:]

    _rewrite(path, replace)


def test_missing_file(data_copy):
    (data_copy / "exam.csv").unlink()
    with pytest.raises(DataError, match=r"exam\.csv: file not found"):
        data.load_exam(data_copy)


def test_missing_column_is_named(data_copy):
    frame = pd.read_csv(data_copy / "hsb_schools.csv").drop(columns=["pracad"])
    frame.to_csv(data_copy / "hsb_schools.csv", index=False)
    with pytest.raises(DataError, match=r"hsb_schools\.csv: missing column\(s\) \['pracad'\]"):
        data.load_hsb_schools(data_copy)


def test_renamed_column_is_named(data_copy):
    _rewrite(data_copy / "exam.csv", lambda lines: [lines[0].replace("normexam", "score")] + lines[1:])
    with pytest.raises(DataError, match=r"missing column\(s\) \['normexam'\]"):
        data.load_exam(data_copy)


def test_non_numeric_cell_names_line_and_column(data_copy):
    _set_cell(data_copy / "hsb_students.csv", 5, 4, "abc")
    with pytest.raises(DataError, match=r"hsb_students\.csv, line 6, column 'mathach': non-numeric value 'abc'"):
        data.load_hsb_students(data_copy)


@pytest.mark.parametrize("bad", ["", "NA", "nan"])
def test_missing_value_is_refused(data_copy, bad):
    _set_cell(data_copy / "hsb_students.csv", 10, 3, bad)
    with pytest.raises(DataError, match=r"line 11, column 'ses': missing value"):
        data.load_hsb_students(data_copy)


@pytest.mark.parametrize("bad", ["inf", "-inf"])
def test_infinite_value_is_refused(data_copy, bad):
    _set_cell(data_copy / "hsb_students.csv", 2, 3, bad)
    with pytest.raises(DataError, match=r"line 3, column 'ses': non-finite value"):
        data.load_hsb_students(data_copy)


def test_out_of_range_value(data_copy):
    _set_cell(data_copy / "hsb_schools.csv", 1, 3, "1.7")  # pracad is a proportion
    with pytest.raises(DataError, match=r"line 2, column 'pracad': 1\.7 outside the allowed range"):
        data.load_hsb_schools(data_copy)


def test_unknown_category_level(data_copy):
    _rewrite(data_copy / "hsb_schools.csv", lambda lines: [lines[0], lines[1].replace("Public", "Private")] + lines[2:])
    with pytest.raises(DataError, match=r"line 2, column 'sector': 'Private' is not one of"):
        data.load_hsb_schools(data_copy)


def test_non_integer_in_integer_column(data_copy):
    _set_cell(data_copy / "hsb_students.csv", 3, 1, "0.5")
    with pytest.raises(DataError, match=r"line 4, column 'minority': '0\.5' is not a whole number"):
        data.load_hsb_students(data_copy)


def test_truncated_file_names_the_short_row(data_copy):
    path = data_copy / "nlschools.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")  # cut mid-row
    with pytest.raises(DataError, match=r"nlschools\.csv, line \d+: \d fields where the header has 6"):
        data.load_nlschools(data_copy)


def test_malformed_quoting(data_copy):
    path = data_copy / "exam.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("mid 50%", '"mid 50%', 1), encoding="utf-8")
    with pytest.raises(DataError, match=r"exam\.csv"):
        data.load_exam(data_copy)


def test_empty_file(data_copy):
    (data_copy / "exam.csv").write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=r"exam\.csv: file is empty"):
        data.load_exam(data_copy)


def test_header_only(data_copy):
    path = data_copy / "exam.csv"
    path.write_text(path.read_text(encoding="utf-8").split("\n")[0] + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"header but no data rows"):
        data.load_exam(data_copy)


def test_edited_file_fails_its_checksum(data_copy):
    # a plausible edit: valid types and ranges, so only the checksum can catch it
    _set_cell(data_copy / "hsb_students.csv", 1, 4, "12.345")
    with pytest.raises(DataError, match=r"hsb_students\.csv: sha256 [0-9a-f]{64} does not match .* edited"):
        data.load_hsb_students(data_copy)


def test_dropped_row_is_reported_as_row_count(data_copy):
    _rewrite(data_copy / "hsb_schools.csv", lambda lines: lines[:1] + lines[2:])
    with pytest.raises(DataError, match=r"159 data rows where data/README\.md records 160"):
        data.load_hsb_schools(data_copy)


def test_checksum_table_missing(data_copy):
    readme = data_copy / "README.md"
    readme.write_text(re.sub(r"\| `exam\.csv` .*\n", "", readme.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(DataError, match=r"exam\.csv: no checksum recorded"):
        data.load_exam(data_copy)


def test_duplicate_school_in_school_file(data_copy):
    _rewrite(data_copy / "hsb_schools.csv", lambda lines: lines[:2] + [lines[1]] + lines[2:])
    readme = data_copy / "README.md"  # keep the checksum right so that the duplicate check is what fires
    path = data_copy / "hsb_schools.csv"
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    text = re.sub(r"(\| `hsb_schools\.csv` \| )\d+( \| `)[0-9a-f]{64}", rf"\g<1>161\g<2>{sha}", readme.read_text())
    readme.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"school 1224 appears twice"):
        data.load_hsb_schools(data_copy)


def test_environment_variable_overrides_the_folder(data_copy, monkeypatch):
    (data_copy / "exam.csv").unlink()
    monkeypatch.setenv("TRACKING_EVIDENCE_DATA", str(data_copy))
    with pytest.raises(DataError, match="file not found"):
        data.load_exam()


def test_duplicated_column_name_is_refused(data_copy):
    def duplicate_first_column(lines):
        return [line + "," + line.split(",")[0] if line else line for line in lines]

    _rewrite(data_copy / "nlschools.csv", duplicate_first_column)
    with pytest.raises(DataError, match=r"nlschools\.csv: duplicated column name\(s\)"):
        data.load_nlschools(data_copy)
