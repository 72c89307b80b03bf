"""The screening log of the documented search: ``data/search/screening.csv``, loaded and validated.

One row per record a query returned that was about a study (``data/evidence-protocol.md``,
amendment 1, section 4.5): the question it was searched for, the collection and the query as
sent, the title and address, the study, and the decision: ``included`` (with the evidence rows it
gave), ``excluded`` (with one reason of a closed list) or ``duplicate`` (of a kept record).

:func:`load_screening` checks, beyond the column types: unique record ids ``S0001``...; a reason
exactly for excluded records and from the closed list; a duplicate pointing at a record that
exists and is not itself a duplicate; the questions from Q1-Q8; and, against the evidence table,
that every row an included record names exists and names that record back
(``evidence.search_record``), and that every row of the second search names an included record.
Every failure raises :class:`~tracking_evidence.data.DataError` naming the file, line and column.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .datasets import Column, DataError, Dataset, data_dir, read_dataset

__all__ = ["DECISIONS", "REASONS", "SCREENING_STAGE", "QUESTIONS", "COLLECTIONS", "SCREENING", "load_screening"]

DECISIONS = ("included", "excluded", "duplicate")
#: The closed list of reasons, in the order they are checked (protocol, section 4.5).
REASONS = ("not about tracking or grouping", "not K-12", "not a tracking-intensity contrast", "not an empirical study",
           "no eligible construct", "full text not in the store", "no estimate on the pages read",
           "estimate not separable")
#: Where each reason removes a record in the PRISMA 2020 flow.
SCREENING_STAGE = {**{r: "screening" for r in REASONS[:5]}, "full text not in the store": "retrieval",
                   "no estimate on the pages read": "eligibility", "estimate not separable": "eligibility"}
QUESTIONS = tuple(f"Q{i}" for i in range(1, 9))
COLLECTIONS = ("pages", "docs", "code", "fetch")

SCREENING = Dataset(
    "search/screening.csv",
    (
        Column("record_id", "text", description="S0001, S0002, ... in the order records were logged"),
        Column("question", "text", description="the question(s) the query was run for: Q1-Q8, ';'-separated"),
        Column("collection", "category", levels=COLLECTIONS, description="the search tools' collection"),
        Column("query", "text", description="the query as sent"),
        Column("title", "text", description="the record's title as shown"),
        Column("address", "text", description="the page's address"),
        Column("study_id", "text", nullable=True, description="the study, in the evidence table's form"),
        Column("decision", "category", levels=DECISIONS, description="included, excluded or duplicate"),
        Column("reason", "category", levels=REASONS, nullable=True, description="why excluded (closed list)"),
        Column("duplicate_of", "text", nullable=True, description="the record kept, for a duplicate"),
        Column("rows", "text", nullable=True, description="the evidence rows an included record gave, ';'-separated"),
        Column("pages_read", "text", nullable=True, description="for a study whose tables were not found: what was read"),
        Column("lacked", "text", nullable=True, description="what those pages lacked"),
        Column("screened_by", "text", description="who screened the record"),
    ),
    "Screening log of the documented search",
    "data/evidence-protocol.md, amendment 1: every record a query returned that was about a study",
    checksum=False,
)

_RECORD = re.compile(r"^S\d{4,}$")


def _fail(problem: str, line: int | None = None, column: str | None = None) -> DataError:
    return DataError(SCREENING.file, problem, row=line, column=column)


def load_screening(folder: Path | None = None, evidence: pd.DataFrame | None = None) -> pd.DataFrame:
    """The screening log, validated; against ``evidence`` (the loaded evidence table) when given."""
    folder = folder or data_dir()
    log = read_dataset(SCREENING, folder)
    lines = {rid: i + 2 for i, rid in enumerate(log["record_id"])}
    _check_records(log, lines)
    if evidence is not None:
        _check_against_evidence(log, lines, evidence)
    return log


def _check_records(log: pd.DataFrame, lines: dict[str, int]) -> None:
    decision = dict(zip(log["record_id"], log["decision"]))
    seen: set[str] = set()
    for row in log.itertuples(index=False):
        line = lines[row.record_id]
        if not _RECORD.match(row.record_id):
            raise _fail(f"record id '{row.record_id}' is not S followed by four or more digits", line, "record_id")
        if row.record_id in seen:
            raise _fail(f"record id '{row.record_id}' is used twice", line, "record_id")
        seen.add(row.record_id)
        unknown = [q for q in row.question.split(";") if q.strip() not in QUESTIONS]
        if unknown:
            raise _fail(f"{row.record_id}: question(s) {unknown} are not among {QUESTIONS}", line, "question")
        has_reason = isinstance(row.reason, str) and bool(row.reason)
        if (row.decision == "excluded") != has_reason:
            raise _fail(f"{row.record_id} is {row.decision}: a reason is given exactly for excluded records", line,
                        "reason")
        target = row.duplicate_of if isinstance(row.duplicate_of, str) else ""
        if (row.decision == "duplicate") != bool(target):
            raise _fail(f"{row.record_id} is {row.decision}: duplicate_of is given exactly for duplicates", line,
                        "duplicate_of")
        if target and decision.get(target) in (None, "duplicate"):
            raise _fail(f"{row.record_id} is a duplicate of '{target}', which is "
                        f"{'not in the log' if target not in decision else 'itself a duplicate'}", line, "duplicate_of")
        rows = row.rows if isinstance(row.rows, str) else ""
        if bool(rows) != (row.decision == "included"):
            raise _fail(f"{row.record_id} is {row.decision}: an included record names the rows it gave, and only an "
                        "included record does", line, "rows")


def _check_against_evidence(log: pd.DataFrame, lines: dict[str, int], evidence: pd.DataFrame) -> None:
    record_of = {r.id: (r.search_record if isinstance(r.search_record, str) else "") for r in evidence.itertuples()}
    included = {r.record_id for r in log.itertuples() if r.decision == "included"}
    for row in log[log["decision"] == "included"].itertuples(index=False):
        for rid in row.rows.split(";"):
            if rid not in record_of:
                raise _fail(f"{row.record_id} names row {rid}, which is not in evidence.csv", lines[row.record_id],
                            "rows")
            if record_of[rid] != row.record_id:
                raise _fail(f"{row.record_id} names row {rid}, whose search_record is '{record_of[rid]}'",
                            lines[row.record_id], "rows")
    for rid, record in record_of.items():
        if record and record not in included:
            raise DataError("evidence.csv", f"row {rid} names search record '{record}', which is not an included "
                                            f"record of {SCREENING.file}", column="search_record")
