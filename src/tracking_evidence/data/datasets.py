"""Loaders for the book's datasets: one per file, each validating before it returns.

Every loader reads a CSV under ``data/`` and checks, in this order: that the file exists and
parses (same number of fields on every row), that every expected column is present, that every
cell has the declared type, lies in its declared range or level set and is not missing (unless
the column allows it), and finally that the file's sha256 matches the checksum recorded in
``data/README.md``. Structure is checked before the checksum so that a broken file gets the
most specific message. Any failure raises :class:`DataError`, naming the file, the row (as the
line number in the CSV, header = line 1) or the column, and the problem. Nothing is dropped.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = [
    "DataError",
    "DATASETS",
    "data_dir",
    "book_path",
    "reference_dir",
    "load",
    "read_dataset",
    "Column",
    "Dataset",
    "load_hsb_students",
    "load_hsb_schools",
    "load_hsb",
    "load_egsingle",
    "load_exam",
    "load_nlschools",
    "provenance",
]


class DataError(ValueError):
    """A data file is missing, malformed, out of range or not the file the book was built on."""

    def __init__(self, file: str, problem: str, *, row: int | None = None, column: str | None = None):
        self.file, self.problem, self.row, self.column = file, problem, row, column
        where = [file]
        if row is not None:
            where.append(f"line {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {problem}")


@dataclass(frozen=True)
class Column:
    """A column's declared type: ``int``, ``float``, ``category`` (with levels) or ``text``."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    levels: tuple[str, ...] | None = None
    nullable: bool = False
    description: str = ""


@dataclass(frozen=True)
class Dataset:
    file: str
    columns: tuple[Column, ...]
    title: str
    source: str
    checksum: bool = True  # microdata are checksummed; hand-curated registries are validated by content


def book_path(in_repository: str, bundled: str) -> Path:
    """A file or folder of the book's repository (``in_repository``, relative to its root); when the
    package runs without its repository around it (installed from the book's wheel, the student
    pack), the copy the wheel carries under ``tracking_evidence/bundled/<bundled>`` (see setup.py)."""
    repository = Path(__file__).resolve().parents[3] / in_repository
    if repository.exists():
        return repository
    carried = Path(str(resources.files("tracking_evidence").joinpath("bundled", bundled)))
    return carried if carried.exists() else repository


def data_dir() -> Path:
    """The folder holding the CSVs: ``$TRACKING_EVIDENCE_DATA`` if set, else the repository's ``data/``
    (or the wheel's copy of it: :func:`book_path`)."""
    override = os.environ.get("TRACKING_EVIDENCE_DATA")
    return Path(override) if override else book_path("data", "data")


def reference_dir() -> Path:
    """The reference fixtures written by R (``tests/reference/*.json``; or the wheel's copy of them)."""
    return book_path("tests/reference", "reference")


_BANDS = ("bottom 25%", "mid 50%", "top 25%")

DATASETS: dict[str, Dataset] = {
    "hsb_students": Dataset(
        "hsb_students.csv",
        (
            Column("school", "int", 1, 10_000, description="school identifier"),
            Column("minority", "int", 0, 1, description="1 if the student belongs to a minority group"),
            Column("female", "int", 0, 1, description="1 if the student is female"),
            Column("ses", "float", -5, 5, description="standardised socio-economic status"),
            Column("mathach", "float", -5, 30, description="mathematics achievement score"),
        ),
        "High School and Beyond, students (1982)",
        "R package nlme, data set MathAchieve",
    ),
    "hsb_schools": Dataset(
        "hsb_schools.csv",
        (
            Column("school", "int", 1, 10_000, description="school identifier"),
            Column("size", "int", 1, 10_000, description="school enrolment"),
            Column("sector", "category", levels=("Public", "Catholic"), description="school sector"),
            Column("pracad", "float", 0, 1, description="share of students in the academic track"),
            Column("disclim", "float", -5, 5, description="disciplinary climate scale"),
            Column("himinty", "int", 0, 1, description="1 if more than 40% of students are minority"),
            Column("meanses", "float", -5, 5, description="school mean SES"),
        ),
        "High School and Beyond, schools (1982)",
        "R package nlme, data set MathAchSchool",
    ),
    "egsingle": Dataset(
        "egsingle.csv",
        (
            Column("schoolid", "int", 1, 10_000, description="school identifier"),
            Column("childid", "int", 1, 10**10, description="student identifier"),
            Column("year", "float", -2.5, 2.5, description="year of the test, centred as in the source"),
            Column("grade", "int", 0, 6, description="grade as coded in the R data set"),
            Column("math", "float", -10, 10, description="mathematics score, IRT scale"),
            Column("retained", "int", 0, 1, description="1 if the student was retained in a grade"),
            Column("female", "int", 0, 1, description="1 if the student is female"),
            Column("black", "int", 0, 1, description="1 if the student is Black"),
            Column("hispanic", "int", 0, 1, description="1 if the student is Hispanic"),
            Column("size", "int", 1, 10_000, description="school enrolment"),
            Column("lowinc", "float", 0, 100, description="percentage of low-income students in the school"),
            Column("mobility", "float", 0, 100, description="school mobility percentage"),
        ),
        "US Sustaining Effects Study, Chicago subset (grades 1-6)",
        "R package mlmRev, data set egsingle",
    ),
    "exam": Dataset(
        "exam.csv",
        (
            Column("school", "int", 1, 100, description="school identifier"),
            Column("student", "int", 1, 1_000, description="student identifier within school"),
            Column("normexam", "float", -5, 5, description="normalised exam score at 16"),
            Column("standlrt", "float", -5, 5, description="standardised London Reading Test score at intake"),
            Column("intake", "category", levels=_BANDS,
                   description="student's own intake band; mlmRev's labels are reversed (see data/README.md)"),
            Column("vr", "category", levels=_BANDS, description="school's average intake band (constant within school)"),
            Column("sex", "category", levels=("F", "M"), description="student's sex"),
            Column("schgend", "category", levels=("mixed", "boys", "girls"), description="school gender"),
            Column("schavg", "float", -5, 5, description="school average intake score"),
            Column("type", "category", levels=("Mxd", "Sngl"), description="mixed or single-sex school"),
        ),
        "Inner London exam scores (Goldstein et al. 1993)",
        "R package mlmRev, data set Exam",
    ),
    "nlschools": Dataset(
        "nlschools.csv",
        (
            Column("lang", "int", 0, 100, description="language test score, grade 8"),
            Column("iq", "float", 0, 30, description="verbal IQ"),
            Column("class", "int", 1, 100_000, description="class identifier"),
            Column("gs", "int", 1, 100, description="class size"),
            Column("ses", "int", 0, 100, description="family socio-economic status"),
            Column("comb", "int", 0, 1, description="1 if the class is a multi-grade (combination) class"),
        ),
        "Dutch grade-8 pupils (Snijders and Bosker)",
        "R package MASS, data set nlschools",
    ),
}

_CHECKSUM_ROW = re.compile(
    r"^\|\s*`(?P<file>[\w.]+\.csv)`\s*\|\s*(?P<rows>\d+)\s*\|\s*`(?P<sha>[0-9a-f]{64})`\s*\|", re.M
)


def recorded_checksums(folder: Path | None = None) -> dict[str, tuple[int, str]]:
    """``{file: (rows, sha256)}`` from the checksum table in ``data/README.md``."""
    readme = (folder or data_dir()) / "README.md"
    if not readme.exists():
        raise DataError("README.md", f"no checksum table: {readme} does not exist")
    text = readme.read_text(encoding="utf-8")
    return {m["file"]: (int(m["rows"]), m["sha"]) for m in _CHECKSUM_ROW.finditer(text)}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_rows(path: Path, name: str) -> tuple[list[str], list[list[str]]]:
    if not path.exists():
        raise DataError(name, f"file not found at {path}")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle, strict=True))
    except (csv.Error, UnicodeDecodeError) as exc:
        raise DataError(name, f"not a readable CSV ({exc})") from exc
    if not rows:
        raise DataError(name, "file is empty")
    header, body = rows[0], rows[1:]
    if not body:
        raise DataError(name, "file has a header but no data rows")
    for offset, fields in enumerate(body):
        if len(fields) != len(header):
            raise DataError(name, f"{len(fields)} fields where the header has {len(header)}", row=offset + 2)
    return header, body


def _convert(column: Column, cells: list[str], name: str) -> pd.Series:
    values: list[object] = []
    for offset, cell in enumerate(cells):
        line = offset + 2
        text = cell.strip()
        if text == "" or text.lower() in {"na", "nan"}:
            if not column.nullable:
                raise DataError(name, f"missing value ('{cell}')", row=line, column=column.name)
            values.append(None)
            continue
        if column.kind == "category":
            if column.levels and text not in column.levels:
                raise DataError(name, f"'{text}' is not one of {list(column.levels)}", row=line, column=column.name)
            values.append(text)
            continue
        if column.kind == "text":
            values.append(text)
            continue
        try:
            number = float(text)
        except ValueError:
            raise DataError(name, f"non-numeric value '{text}'", row=line, column=column.name) from None
        if not math.isfinite(number):
            raise DataError(name, f"non-finite value '{text}'", row=line, column=column.name)
        if column.kind == "int" and not number.is_integer():
            raise DataError(name, f"'{text}' is not a whole number", row=line, column=column.name)
        if (column.low is not None and number < column.low) or (column.high is not None and number > column.high):
            raise DataError(
                name, f"{text} outside the allowed range [{column.low}, {column.high}]", row=line, column=column.name
            )
        values.append(int(number) if column.kind == "int" else number)
    dtype = {"int": "int64", "float": "float64"}.get(column.kind, "object")
    if column.nullable and column.kind == "int":
        dtype = "Int64"
    return pd.Series(values, name=column.name, dtype=dtype)


def load(key: str, folder: Path | None = None) -> pd.DataFrame:
    """Load and validate dataset ``key`` (a key of :data:`DATASETS`) from ``folder`` (default: ``data/``)."""
    if key not in DATASETS:
        raise KeyError(f"unknown dataset '{key}'; known: {sorted(DATASETS)}")
    return read_dataset(DATASETS[key], folder)


def read_dataset(spec: Dataset, folder: Path | None = None) -> pd.DataFrame:
    """Read and validate the file that ``spec`` describes (used by :func:`load` and other registries)."""
    folder = folder or data_dir()
    path = folder / spec.file
    header, body = _read_rows(path, spec.file)
    positions = {name: i for i, name in enumerate(header)}
    missing = [c.name for c in spec.columns if c.name not in positions]
    if missing:
        raise DataError(spec.file, f"missing column(s) {missing}; the header has {header}")
    declared = {c.name for c in spec.columns}
    unexpected = [name for name in header if name not in declared]
    if unexpected:  # refused rather than dropped: a new column means the file is not what the book expects
        raise DataError(spec.file, f"unexpected column(s) {unexpected}; the loader declares {sorted(declared)}")
    if len(set(header)) != len(header):
        raise DataError(spec.file, f"duplicated column name(s) in the header {header}")
    frame = pd.DataFrame(
        {c.name: _convert(c, [fields[positions[c.name]] for fields in body], spec.file) for c in spec.columns}
    )
    if spec.checksum:
        _verify_checksum(spec, path, folder, len(frame))
    return frame


def _verify_checksum(spec: Dataset, path: Path, folder: Path, rows: int) -> None:
    recorded = recorded_checksums(folder)
    if spec.file not in recorded:
        raise DataError(spec.file, "no checksum recorded in data/README.md")
    expected_rows, expected_sha = recorded[spec.file]
    if rows != expected_rows:
        raise DataError(spec.file, f"{rows} data rows where data/README.md records {expected_rows}")
    actual = sha256(path)
    if actual != expected_sha:
        raise DataError(
            spec.file,
            f"sha256 {actual} does not match {expected_sha} recorded in data/README.md: "
            "the file was edited; run `make data` to regenerate it",
        )


def load_hsb_students(folder: Path | None = None) -> pd.DataFrame:
    """High School and Beyond students: school, minority, female, ses, mathach (7,185 rows)."""
    return load("hsb_students", folder)


def load_hsb_schools(folder: Path | None = None) -> pd.DataFrame:
    """High School and Beyond schools: size, sector, pracad (academic-track share), ... (160 rows)."""
    schools = load("hsb_schools", folder)
    duplicated = schools["school"].duplicated()
    if duplicated.any():
        raise DataError("hsb_schools.csv", f"school {schools['school'][duplicated].iloc[0]} appears twice")
    return schools


def load_hsb(folder: Path | None = None) -> pd.DataFrame:
    """Students joined to their school's record; every student must find a school."""
    students, schools = load_hsb_students(folder), load_hsb_schools(folder)
    orphans = sorted(set(students["school"]) - set(schools["school"]))
    if orphans:
        raise DataError("hsb_students.csv", f"school(s) {orphans[:5]} have no row in hsb_schools.csv")
    return students.merge(schools, on="school", how="left", validate="many_to_one")


def load_egsingle(folder: Path | None = None) -> pd.DataFrame:
    """US Sustaining Effects Study (mlmRev egsingle): repeated mathematics scores, grades 1-6."""
    return load("egsingle", folder)


def load_exam(folder: Path | None = None) -> pd.DataFrame:
    """Inner London exam scores (mlmRev Exam): ``intake`` is the student's own band."""
    return load("exam", folder)


def load_nlschools(folder: Path | None = None) -> pd.DataFrame:
    """Dutch grade-8 pupils in classes (MASS nlschools)."""
    return load("nlschools", folder)


def provenance(folder: Path | None = None) -> pd.DataFrame:
    """One row per dataset: file, title, source, rows, columns and sha256, read from the loaded files."""
    folder = folder or data_dir()
    records = []
    for key, spec in DATASETS.items():
        frame = load(key, folder)
        records.append(
            {
                "dataset": key,
                "file": spec.file,
                "title": spec.title,
                "source": spec.source,
                "rows": int(len(frame)),
                "columns": int(frame.shape[1]),
                "sha256": sha256(folder / spec.file),
            }
        )
    return pd.DataFrame(records)
