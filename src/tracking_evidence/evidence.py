"""The published evidence: ``data/evidence.csv``, loaded and validated.

One row per reported number: which study reported it, what it measures, the design, the exact
sentence that contains it (``quote``) and the address of the page where that sentence was read.
:func:`load_evidence` checks, on top of the column types that :func:`tracking_evidence.data.read_dataset`
enforces (header in the fixed order, no missing required cell, vocabularies of ``topic`` and
``design``):

- ids are ``E`` + three or more digits and unique;
- every ``citation`` is a key of ``book/references.bib``;
- the estimate's digits appear in its quote (:func:`number_in_quote`: ``0.117`` matches ``.117``,
  ``0.117`` or ``0,117`` is *not* accepted; a negative estimate matches ``-.063``, ``−0.063``,
  ``– 0.063`` or an unsigned ``0.063`` next to a word of direction such as "lower");
- ``se`` is not negative; ``ci_low <= estimate <= ci_high`` where the bounds are given, and a
  bound never comes without the other; ``p_value`` lies in [0, 1];
- ``address`` starts with ``http``.

Any failure raises :class:`~tracking_evidence.data.DataError` naming ``evidence.csv``, the line
(header = line 1) and the problem. Nothing is dropped. The file is hand-curated, so it has no
checksum (``checksum=False``): it is validated by content.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pandas as pd

from .data import Column, DataError, Dataset, book_path, data_dir, read_dataset

__all__ = [
    "TOPICS",
    "DESIGNS",
    "COLUMNS",
    "EVIDENCE",
    "bib_keys",
    "default_bib",
    "number_in_quote",
    "numbers_in_text",
    "load_evidence",
]

TOPICS = ("tracking", "ability grouping", "acceleration", "detracking", "age of selection")
DESIGNS = ("RCT", "quasi-experimental", "descriptive", "meta-analysis", "review")

EVIDENCE = Dataset(
    "evidence.csv",
    (
        Column("id", "text", description="row id: E001, E002, ..."),
        Column("citation", "text", description="key of book/references.bib"),
        Column("study", "text", description="short label, e.g. 'Terrin & Triventi 2023'"),
        Column("year", "int", 1900, 2100, description="publication year"),
        Column("country", "text", description="where the data come from ('international' for syntheses)"),
        Column("topic", "category", levels=TOPICS, description="what the number is about"),
        Column("design", "category", levels=DESIGNS, description="design of the study that produced it"),
        Column("outcome", "text", description="what was measured"),
        Column("comparison", "text", description="what is compared with what"),
        Column("subgroup", "text", description="all, high, medium, low or a named group"),
        Column("unit", "text", description="unit of the estimate (Hedges g, SD, percentage points, age, ...)"),
        Column("estimate", "float", description="the number as reported"),
        Column("se", "float", nullable=True, description="standard error, if the same source reports it"),
        Column("ci_low", "float", nullable=True, description="lower confidence bound, if reported"),
        Column("ci_high", "float", nullable=True, description="upper confidence bound, if reported"),
        Column("p_value", "float", nullable=True, description="p-value, if reported as a value"),
        Column("quote", "text", description="the exact sentence that contains the number"),
        Column("address", "text", description="URL of the page where the sentence was read"),
        Column("notes", "text", nullable=True, description="caveats"),
    ),
    "Published figures on tracking, grouping, acceleration and detracking",
    "hand-curated; each row's quote read with the search tools at its address",
    checksum=False,
)

COLUMNS = tuple(column.name for column in EVIDENCE.columns)

_ID = re.compile(r"^E\d{3,}$")
_BIB_KEY = re.compile(r"@\s*[A-Za-z]+\s*[{(]\s*([^,\s{}()]+)\s*,")

# A number in running text: an optional sign (hyphen-minus, true minus, en/em dash) only when it
# is not glued to a preceding word, digit or point (so "3–12" is the range 3 to 12, not 3 and -12),
# then digits with optional thousands commas and decimals, or a leading-point decimal (".117").
_NUMBER = re.compile(
    r"(?P<sign>(?<![\w.])[-\u2212\u2013\u2014]\s?)?"
    r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d])"
)
# Words that give an unsigned number a negative direction ("0.063 lower", "a decline of 4 points").
_NEGATIVE_WORDS = re.compile(
    r"\b(lower|less|fewer|smaller|decrease[sd]?|decreasing|decline[sd]?|declining|drop(?:ped|s)?|fell|fall(?:s|ing)?"
    r"|negative(?:ly)?|reduc(?:e[sd]?|ing|tion)|below|loss|losses|lost|worse|behind|down|harm(?:ed|s)?)\b",
    re.IGNORECASE,
)
_DIRECTION_WINDOW = 60  # characters either side of the number in which a direction word counts


def default_bib() -> Path:
    """``book/references.bib`` of this repository (or the copy the book's wheel carries)."""
    return book_path("book/references.bib", "references.bib")


def bib_keys(bib: Path | None = None) -> set[str]:
    """The entry keys of a BibTeX file (``@article{key, ...``)."""
    bib = bib or default_bib()
    if not bib.exists():
        raise DataError(bib.name, f"bibliography not found at {bib}")
    return set(_BIB_KEY.findall(bib.read_text(encoding="utf-8")))


def numbers_in_text(text: str) -> list[tuple[float, bool, int, int]]:
    """Every number in ``text`` as ``(value, signed_negative, start, end)``.

    ``value`` is the absolute value; ``signed_negative`` is True when a minus sign (``-``, ``−``,
    ``–``, ``—``) stands directly before it and is not glued to a preceding word or digit.
    """
    found = []
    for match in _NUMBER.finditer(text):
        value = float(match["num"].replace(",", ""))
        found.append((value, match["sign"] is not None, match.start(), match.end()))
    return found


def _same(value: float, estimate: float) -> bool:
    # Both come from decimal text; equal decimal strings parse to the same float. The tiny
    # relative tolerance only absorbs float noise, never a rounding ("0.12" never matches 0.117).
    return math.isclose(value, estimate, rel_tol=1e-12, abs_tol=0.0)


def number_in_quote(estimate: float, quote: str) -> bool:
    """True when ``estimate`` is written in ``quote``.

    A non-negative estimate must appear as an unsigned number (``.117``, ``0.117``, ``7,185``,
    ``28``); a number written with a minus sign does not match it. A negative estimate matches a
    signed number of the same absolute value (``-.063``, ``−0.063``, ``– .063``) or an unsigned one
    with a word of negative direction ("lower", "decline", "fewer", ...) within
    60 characters of it.
    """
    if not math.isfinite(estimate):
        return False
    target = abs(estimate)
    for value, negative, start, end in numbers_in_text(quote):
        if not _same(value, target):
            continue
        if estimate > 0 or estimate == 0:
            if not negative or estimate == 0:
                return True
            continue
        if negative:
            return True
        window = quote[max(0, start - _DIRECTION_WINDOW) : end + _DIRECTION_WINDOW]
        if _NEGATIVE_WORDS.search(window):
            return True
    return False


def _check_header(path: Path) -> None:
    if not path.exists():
        raise DataError(EVIDENCE.file, f"file not found at {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), None)
    if header is None:
        raise DataError(EVIDENCE.file, "file is empty")
    if tuple(header) != COLUMNS:
        raise DataError(EVIDENCE.file, f"header {header} is not the fixed column order {list(COLUMNS)}", row=1)


def load_evidence(folder: Path | None = None, bib: Path | None = None) -> pd.DataFrame:
    """Load and validate ``evidence.csv`` from ``folder`` (default ``data/``) against ``bib``.

    ``bib`` defaults to the repository's ``book/references.bib``. Returns the table with the
    columns in :data:`COLUMNS`; raises :class:`DataError` naming the line and the problem.
    """
    folder = folder or data_dir()
    _check_header(folder / EVIDENCE.file)
    frame = read_dataset(EVIDENCE, folder)
    keys = bib_keys(bib)
    seen: dict[str, int] = {}
    for line, row in enumerate(frame.itertuples(index=False), start=2):
        _check_row(row, line, keys, seen)
    return frame


def _fail(problem: str, line: int, column: str | None = None) -> DataError:
    return DataError(EVIDENCE.file, problem, row=line, column=column)


def _check_row(row, line: int, keys: set[str], seen: dict[str, int]) -> None:
    if not _ID.match(row.id):
        raise _fail(f"id '{row.id}' is not E followed by three or more digits", line, "id")
    if row.id in seen:
        raise _fail(f"id '{row.id}' already used on line {seen[row.id]}", line, "id")
    seen[row.id] = line
    if row.citation not in keys:
        raise _fail(f"citation '{row.citation}' is not a key of book/references.bib", line, "citation")
    if not number_in_quote(row.estimate, row.quote):
        raise _fail(f"estimate {row.estimate!r} ({row.id}) does not appear in its quote", line, "estimate")
    if row.se is not None and not pd.isna(row.se) and row.se < 0:
        raise _fail(f"se {row.se} is negative ({row.id})", line, "se")
    low, high = row.ci_low, row.ci_high
    has_low, has_high = low is not None and not pd.isna(low), high is not None and not pd.isna(high)
    if has_low != has_high:
        raise _fail(f"only one confidence bound is given ({row.id}); give both or neither", line, "ci_low")
    if has_low and not low <= row.estimate <= high:
        raise _fail(f"estimate {row.estimate} lies outside its interval [{low}, {high}] ({row.id})", line, "estimate")
    if row.p_value is not None and not pd.isna(row.p_value) and not 0 <= row.p_value <= 1:
        raise _fail(f"p_value {row.p_value} is not between 0 and 1 ({row.id})", line, "p_value")
    if not row.address.startswith(("http://", "https://")):
        raise _fail(f"address '{row.address}' does not start with http ({row.id})", line, "address")
