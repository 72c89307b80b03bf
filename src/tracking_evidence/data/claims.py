"""The claims registry: the claims of the three sources, as data.

``data/claims.csv`` holds what the sources say (id, source, type, speaker, a short paraphrase,
the exact quote and the chapter that computes it). It never holds a verdict: verdicts come from
the rules of :mod:`tracking_evidence.verdicts`, and the ledger that shows them is presentation
(:mod:`tracking_evidence.site.ledger`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .datasets import Column, DataError, Dataset, data_dir, read_dataset

__all__ = [
    "PENDING",
    "load_claims",
    "load_sources",
    "source_text",
    "check_quotes",
]

PENDING = "pending"
CLAIM_TYPES = ("empirical", "causal", "statistical", "universal", "normative", "internal")

CLAIMS = Dataset(
    "claims.csv",
    (
        Column("id", "text", description="claim id: source letter and number"),
        Column("source", "category", levels=("A", "B", "C"), description="source text"),
        Column("type", "category", levels=CLAIM_TYPES, description="kind of claim"),
        Column("speaker", "text", description="the author, or whom the author attributes the claim to"),
        Column("claim", "text", description="short paraphrase"),
        Column("quote", "text", description="the claim word for word from the source"),
        Column("chapter", "text", description="the chapter file that computes the verdict"),
    ),
    "Claims registry",
    "extracted from data/sources/",
    checksum=False,
)

SOURCES = Dataset(
    "sources/sources.csv",
    (
        Column("source", "category", levels=("A", "B", "C")),
        Column("file", "text"),
        Column("title", "text"),
        Column("author", "text"),
        Column("summarises", "text", nullable=True),
        Column("address", "text"),
        Column("date_read", "text"),
    ),
    "The three source texts",
    "data/sources/",
    checksum=False,
)


def load_claims(folder: Path | None = None) -> pd.DataFrame:
    """The registry, validated: unique ids whose letter matches the source, no empty quote."""
    claims = read_dataset(CLAIMS, folder)
    for line, row in enumerate(claims.itertuples(index=False), start=2):
        if not row.id.startswith(row.source) or not row.id[1:].isdigit():
            raise DataError(CLAIMS.file, f"id '{row.id}' is not source letter '{row.source}' + number", row=line)
    duplicated = claims["id"][claims["id"].duplicated()]
    if len(duplicated):
        raise DataError(CLAIMS.file, f"id '{duplicated.iloc[0]}' appears more than once", column="id")
    return claims


def load_sources(folder: Path | None = None) -> pd.DataFrame:
    return read_dataset(SOURCES, folder)


def source_text(source: str, folder: Path | None = None) -> str:
    """The full text of source ``source`` (A, B or C) as shipped under ``data/sources/``."""
    folder = folder or data_dir()
    sources = load_sources(folder).set_index("source")
    if source not in sources.index:
        raise KeyError(f"unknown source '{source}'")
    return (folder / "sources" / sources.loc[source, "file"]).read_text(encoding="utf-8")


def check_quotes(folder: Path | None = None) -> None:
    """Raise :class:`DataError` for the first claim whose quote is not verbatim in its source."""
    claims = load_claims(folder)
    texts = {s: source_text(s, folder) for s in claims["source"].unique()}
    for line, row in enumerate(claims.itertuples(index=False), start=2):
        if row.quote not in texts[row.source]:
            raise DataError(CLAIMS.file, f"quote of {row.id} is not found verbatim in source {row.source}", row=line)
