"""The sentence map: every sentence of the three sources, and what the book did with it.

A source text (``data/sources/*.txt``) is a header block (``Title:``, ``Author:``, ...) closed
by a line holding only ``---``, then the body: the text as read. :func:`split_units` cuts the
body into *units* (sentences and headings) by one rule, stated in its docstring.
``data/source-sentences.csv`` lists every unit of every source, in order, word for word, with
either the ids of the claims it holds (``data/claims.csv``) or the reason it holds none, chosen
from the closed list :data:`REASONS`. :func:`load_sentences` reads and validates that table and
checks it against the sources and the claims registry; any failure raises
:class:`~tracking_evidence.data.DataError` naming the file, the line and the problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .claims import load_claims, source_text
from .datasets import Column, DataError, Dataset, read_dataset

__all__ = [
    "REASONS",
    "SENTENCES",
    "Unit",
    "body",
    "split_units",
    "source_units",
    "load_sentences",
    "claim_spans",
]

#: Why a unit holds no claim. Closed list: the loader refuses any other reason.
REASONS: dict[str, str] = {
    "heading": "a title, section heading or byline: it labels the text that follows and asserts nothing of its own",
    "definition": "says what a word means (how the author uses a term); true by stipulation, nothing to check",
    "question": "asks rather than asserts",
    "call to action": "urges the reader to do something; no assertion about the world",
    "attribution without assertion": "reports that someone holds a view without the author or the attributed "
                                     "speaker asserting a checkable content",
    "signpost": "announces what the next sentences say (for example 'it has two severe flaws:'); the claims are "
                "in those sentences, which are registered and judged",
    "restatement": "repeats, in the same or weaker terms, a claim registered from an earlier sentence of the "
                   "same text (named in the note); the verdict on that claim covers it",
    "rhetorical statement with nothing to check": "an evaluation, emphasis or value statement that no data or "
                                                  "model could confirm or refute",
}

SENTENCES = Dataset(
    "source-sentences.csv",
    (
        Column("source", "category", levels=("A", "B", "C"), description="source text"),
        Column("n", "int", 1, 10_000, description="unit number in the source, from 1, in reading order"),
        Column("paragraph", "int", 1, 10_000, description="the body line (paragraph, heading or item) it belongs to"),
        Column("sentence", "text", description="the unit word for word, as split_units cuts it"),
        Column("claims", "text", nullable=True, description="ids of the claims it holds, separated by ';'"),
        Column("not_claim_reason", "category", levels=tuple(REASONS), nullable=True,
               description="why it holds no claim (blank when it holds one)"),
        Column("note", "text", description="why, in one line"),
    ),
    "Sentence map of the three sources",
    "split from data/sources/ by tracking_evidence.data.sentences.split_units; claims and reasons by hand",
    checksum=False,
)

HEADER_END = "---"

# A sentence ends at . ! or ? (closing quotes and brackets may follow), followed by white space and
# then by something that can start a sentence: a capital letter, a digit, or an opening quote or bracket.
_BOUNDARY = re.compile(r"""(?<=[.!?])([”’"')\]]*)(\s+)(?=[A-Z0-9“‘"'(\[])""")
# Words whose final full stop does not end a sentence.
ABBREVIATIONS = frozenset(
    {"e.g.", "i.e.", "etc.", "al.", "vs.", "cf.", "Dr.", "Mr.", "Mrs.", "Ms.", "Prof.", "St.", "No.", "Fig.",
     "Eq.", "Vol.", "pp.", "p.", "U.S.", "U.K.", "Jr.", "Sr.", "approx."}
)
_FINAL = re.compile(r"""[.!?:][”’"')\]]*$""")


@dataclass(frozen=True)
class Unit:
    """One unit of a source's body: its text, its kind, the body line it sits on (from 1) and where
    it lies in the body (``body[start:end] == text``)."""

    text: str
    kind: str  # "sentence" or "heading"
    paragraph: int
    start: int
    end: int


def body(text: str) -> str:
    """The text after the header block: everything after the first line that is exactly ``---``."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip() == HEADER_END:
            return "".join(lines[i + 1:])
    raise ValueError("no header block: the source has no line '---' closing its header")


def _ends_with_abbreviation(piece: str) -> bool:
    words = piece.split()
    word = words[-1].lstrip("(“‘\"'") if words else ""
    return word in ABBREVIATIONS or bool(re.fullmatch(r"[A-Z]\.", word))  # an initial: "E." in "Terrin, E."


def _split_line(line: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(line):
        end = match.start(2)  # after the closing quotes, before the white space
        if _ends_with_abbreviation(line[start:match.start(1)]):
            continue
        pieces.append(line[start:end])
        start = match.end()
    pieces.append(line[start:])
    return [piece.strip() for piece in pieces if piece.strip()]


def split_units(text: str) -> list[Unit]:
    """Split a source's body (the text after its header block) into units, in reading order.

    The rule, applied to the body alone (:func:`body` removes the header):

    1. **Lines.** Each non-blank line is one block: the sources hold one paragraph, heading or
       list item per line. Blank lines only separate blocks. White space at either end of a line
       is dropped; white space inside is kept as it is.
    2. **Headings.** A block that does not end with ``.``, ``!``, ``?`` or ``:`` (closing quotes or
       brackets may follow) is one unit of kind ``heading``: a title, a section heading, a byline.
    3. **Sentences.** Any other block is cut into sentences of kind ``sentence``. A sentence ends at
       ``.``, ``!`` or ``?`` (with any closing quotes or brackets right after it) when white space
       follows and the next character can start a sentence: a capital letter, a digit, or an
       opening quote or bracket. A full stop does not end a sentence when the word it closes is a
       listed abbreviation (:data:`ABBREVIATIONS`, e.g. "e.g.", "et al.") or a single capital
       initial ("E."). So a decimal point (".063", "0.001") never ends a sentence (no white space
       follows), nor does a colon or semicolon inside a block, nor a dash. The end of a block
       always ends its last sentence, whatever its final character (a block ending in ``:``
       ends in a sentence that announces a list).
    4. **Nothing else.** The units, in order, are the body with only white space removed between
       them: each unit is word for word a piece of the source (checked here, so the rule cannot
       drop or rewrite text). The function is deterministic: the same text gives the same units.

    A one-line item ("Weak to nonexistent evidence that de-tracking enhances equity.") is a
    sentence by rule 3; a title phrased as a question ("What is detracking?") is a sentence by
    form, and the sentence map gives it the reason ``heading``.
    """
    pieces: list[tuple[str, str, int]] = []
    paragraph = 0
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        paragraph += 1
        if not _FINAL.search(stripped):
            pieces.append((stripped, "heading", paragraph))
            continue
        pieces.extend((piece, "sentence", paragraph) for piece in _split_line(stripped))
    units, position = [], 0
    for piece, kind, paragraph in pieces:
        found = text.find(piece, position)
        if found < 0 or text[position:found].strip():  # cannot happen unless the rule has a bug
            raise AssertionError(f"unit {piece[:40]!r} is not the next piece of the text")
        position = found + len(piece)
        units.append(Unit(piece, kind, paragraph, found, position))
    if text[position:].strip():
        raise AssertionError("text left over after the last unit")
    return units


def source_units(source: str, folder: Path | None = None) -> list[Unit]:
    """The units of source ``source`` (A, B or C) as shipped under ``data/sources/``."""
    return split_units(body(source_text(source, folder)))


def _claim_ids(cell: object) -> list[str]:
    if cell is None or (isinstance(cell, float) and pd.isna(cell)):
        return []
    return [part.strip() for part in str(cell).split(";")]


def load_sentences(folder: Path | None = None) -> pd.DataFrame:
    """``data/source-sentences.csv``, validated against its rules, the sources and the claims registry.

    Checks, each failure a :class:`DataError` naming the file and line: every row holds either
    claim ids or a reason from :data:`REASONS`, never both and never neither; rows come grouped by
    source (A, then B, then C); each source's rows are its units in order (numbered 1, 2, ... and
    on the right body line), word for word as :func:`split_units` cuts them, none missing and none
    extra; every claim id is in ``claims.csv``, belongs to the row's source and is listed once per
    row; every claim of ``claims.csv`` is held by at least one sentence, its sentences are
    consecutive, and its quote lies inside them. Adds a column ``claim_ids`` (a list per row).
    """
    table = read_dataset(SENTENCES, folder)
    name = SENTENCES.file
    table["claim_ids"] = [_claim_ids(cell) for cell in table["claims"]]
    registry = load_claims(folder).set_index("id")
    for line, row in enumerate(table.itertuples(index=False), start=2):
        if row.claim_ids and row.not_claim_reason is not None:
            raise DataError(name, "holds claims and a not-claim reason: give one or the other", row=line)
        if not row.claim_ids and row.not_claim_reason is None:
            raise DataError(name, "holds no claim and gives no reason: fill 'claims' or 'not_claim_reason'",
                            row=line)
        for claim_id in row.claim_ids:
            if claim_id not in registry.index:
                raise DataError(name, f"claim '{claim_id}' is not in claims.csv", row=line, column="claims")
            if registry.loc[claim_id, "source"] != row.source:
                raise DataError(name, f"claim '{claim_id}' belongs to source {registry.loc[claim_id, 'source']}, "
                                      f"not {row.source}", row=line, column="claims")
        if len(set(row.claim_ids)) != len(row.claim_ids):
            raise DataError(name, f"a claim id is listed twice in '{row.claims}'", row=line, column="claims")
    _check_against_sources(table, folder)
    _check_claims_covered(table, registry, folder)
    return table


def _check_against_sources(table: pd.DataFrame, folder: Path | None) -> None:
    name = SENTENCES.file
    order = list(table["source"])
    for line, (before, after) in enumerate(zip(order, order[1:]), start=3):
        if after < before:
            raise DataError(name, f"source {after} after source {before}: rows go grouped by source, A, B, C",
                            row=line, column="source")
    for source in ("A", "B", "C"):
        rows = table.index[table["source"] == source]
        units = source_units(source, folder)
        for k, index in enumerate(rows):
            record, line = table.loc[index], int(index) + 2
            if k >= len(units):
                raise DataError(name, f"source {source} has {len(units)} units; this row is one too many", row=line)
            unit = units[k]
            if record["n"] != k + 1:
                raise DataError(name, f"n is {record['n']} where unit {k + 1} of source {source} is expected",
                                row=line, column="n")
            if record["sentence"] != unit.text:
                raise DataError(name, f"unit {k + 1} of source {source} is not word for word the source's: "
                                      f"expected {unit.text!r}", row=line, column="sentence")
            if record["paragraph"] != unit.paragraph:
                raise DataError(name, f"unit {k + 1} of source {source} sits on body line {unit.paragraph}, "
                                      f"not {record['paragraph']}", row=line, column="paragraph")
        if len(rows) < len(units):
            raise DataError(name, f"source {source} has {len(units)} units; the table lists {len(rows)} "
                                  f"(the first missing is unit {len(rows) + 1}: {units[len(rows)].text!r})")


def claim_spans(table: pd.DataFrame) -> dict[str, tuple[str, list[int]]]:
    """Claim id -> (source, the unit numbers n that hold it, in order)."""
    spans: dict[str, tuple[str, list[int]]] = {}
    for row in table.itertuples(index=False):
        for claim_id in row.claim_ids:
            spans.setdefault(claim_id, (row.source, []))[1].append(int(row.n))
    return spans


def _check_claims_covered(table: pd.DataFrame, registry: pd.DataFrame, folder: Path | None) -> None:
    name = SENTENCES.file
    spans = claim_spans(table)
    missing = [claim_id for claim_id in registry.index if claim_id not in spans]
    if missing:
        raise DataError(name, f"claim(s) {missing} of claims.csv are held by no sentence", column="claims")
    units = {source: source_units(source, folder) for source in ("A", "B", "C")}
    texts = {source: body(source_text(source, folder)) for source in ("A", "B", "C")}
    for claim_id, (source, numbers) in spans.items():
        line = 2 + int(table.index[(table["source"] == source) & (table["n"] == numbers[0])][0])
        if numbers != list(range(numbers[0], numbers[-1] + 1)):
            raise DataError(name, f"the sentences of claim {claim_id} are not consecutive ({numbers})",
                            row=line, column="claims")
        span = texts[source][units[source][numbers[0] - 1].start:units[source][numbers[-1] - 1].end]
        if registry.loc[claim_id, "quote"] not in span:
            raise DataError(name, f"the quote of claim {claim_id} does not lie inside its sentence(s) "
                                  f"{numbers} of source {source}", row=line, column="claims")
