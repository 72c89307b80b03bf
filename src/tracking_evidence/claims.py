"""The claims registry: the claims of the three sources, and the verdicts computed for them.

``data/claims.csv`` holds what the sources say (id, source, type, speaker, a short paraphrase,
the exact quote and the chapter that computes it). It never holds a verdict. Verdicts are
computed by the package function that owns the claim, registered with :func:`verdict_for`:

    @verdict_for("A3")
    def a3_verdict() -> Verdict:
        ...compute...
        return Verdict("mixed", "headline built from the computed numbers")

:func:`ledger` imports every module of the package (so that each module's registrations run),
calls each registered function and returns the table. A claim no function owns yet is
``pending``.
"""

from __future__ import annotations

import html
import importlib
import re
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from .data import Column, DataError, Dataset, data_dir, read_dataset

__all__ = [
    "VERDICTS",
    "PENDING",
    "Verdict",
    "verdict_for",
    "load_claims",
    "load_sources",
    "source_text",
    "check_quotes",
    "ledger",
]

VERDICTS = ("supported", "contradicted", "mixed", "not testable here", "modelled")
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


@dataclass(frozen=True)
class Verdict:
    """A computed verdict and its one-line headline (built from computed numbers)."""

    verdict: str
    headline: str

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict '{self.verdict}' is not one of {VERDICTS}")
        if not self.headline.strip():
            raise ValueError("a verdict needs a headline")


_REGISTRY: dict[str, Callable[[], Verdict]] = {}


def verdict_for(claim_id: str) -> Callable[[Callable[[], Verdict]], Callable[[], Verdict]]:
    """Register the decorated zero-argument function as the owner of ``claim_id``'s verdict."""

    def register(function: Callable[[], Verdict]) -> Callable[[], Verdict]:
        owner = _REGISTRY.get(claim_id)
        if owner is not None and owner.__qualname__ != function.__qualname__:
            raise ValueError(f"claim {claim_id} already has a verdict function: {owner.__module__}.{owner.__qualname__}")
        _REGISTRY[claim_id] = function
        return function

    return register


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


def _import_all_modules() -> None:
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__package__}.{module.name}")


def registered() -> dict[str, Callable[[], Verdict]]:
    """Claim id -> verdict function, after importing every module of the package."""
    _import_all_modules()
    return dict(_REGISTRY)


@cache
def _computed(claim_id: str) -> Verdict:
    result = _REGISTRY[claim_id]()
    if not isinstance(result, Verdict):
        raise TypeError(f"the verdict function of {claim_id} returned {type(result).__name__}, not Verdict")
    return result


def _outcome(claim_id: str, owners: dict[str, Callable[[], Verdict]]) -> tuple[str, str]:
    if claim_id not in owners:
        return PENDING, "not yet computed"
    computed = _computed(claim_id)
    return computed.verdict, computed.headline


def ledger(folder: Path | None = None) -> pd.DataFrame:
    """Every claim with its computed verdict and headline (``pending`` where no function owns it yet)."""
    claims = load_claims(folder)
    owners = registered()
    unknown = sorted(set(owners) - set(claims["id"]))
    if unknown:
        raise ValueError(f"verdict functions registered for claims not in the registry: {unknown}")
    outcomes = [_outcome(claim_id, owners) for claim_id in claims["id"]]
    table = claims.copy()
    table["verdict"] = [verdict for verdict, _ in outcomes]
    table["headline"] = [headline for _, headline in outcomes]
    return table[["id", "source", "type", "speaker", "claim", "quote", "chapter", "verdict", "headline"]]


def _book_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "book"


def claim_section(chapter: str, claim_id: str, book_dir: Path | None = None) -> tuple[str, str] | None:
    """(title, HTML id) of the section of ``chapter`` that holds the verdict box of ``claim_id``.

    The section is the nearest heading above the box (code cells skipped); the id is the one
    docutils gives that title. None if the chapter has no verdict box for the claim yet.
    """
    from docutils.nodes import make_id

    path = (book_dir or _book_dir()) / chapter
    if not path.exists():
        return None
    heading, in_code = None, False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```{code-cell}"):
            in_code = True
        elif in_code and line.startswith("```"):
            in_code = False
        elif not in_code and re.match(r"^#{2,4} ", line):
            heading = line.lstrip("#").strip()
        elif not in_code and re.match(rf"^:{{3,}}\{{admonition\}}\s*Verdict on {re.escape(claim_id)}\b", line):
            if heading is None:
                return None
            title = re.sub(r"[`*_]", "", heading)
            return title, make_id(title)
    return None


def chapter_link(chapter: str, claim_id: str | None = None) -> str:
    """HTML link from a page in ``book/`` to ``chapter`` (``gaps.md`` -> ``gaps.html``), to the
    section that computes ``claim_id`` when there is one."""
    if not chapter.endswith(".md"):
        raise ValueError(f"chapter '{chapter}' should name a .md file in book/")
    name = html.escape(chapter[:-3])
    section = claim_section(chapter, claim_id) if claim_id else None
    if section is None:
        return f'<a href="{name}.html">{name}</a>'
    title, anchor = section
    return f'<a href="{name}.html#{anchor}">{name}: {html.escape(title)}</a>'


def claims_html(table: pd.DataFrame, columns: list[str]) -> str:
    """An HTML table of ``columns`` of a claims table; the chapter column links to the section
    that computes each claim."""
    shown = table[columns].copy()
    escaped = shown.apply(lambda col: col.map(lambda v: html.escape(str(v))))
    if "chapter" in columns:
        ids = table["id"] if "id" in table.columns else [None] * len(table)
        escaped["chapter"] = [chapter_link(chapter, claim_id) for chapter, claim_id in zip(shown["chapter"], ids)]
    return escaped.to_html(index=False, escape=False, classes=["claims-table"], border=0)


def source_html(source: str, folder: Path | None = None) -> str:
    """A definition list of a source's title, author, address, date read and what it summarises."""
    record = load_sources(folder).set_index("source").loc[source]
    fields = [("Title", "title"), ("Author", "author"), ("Read at", "address"), ("Date read", "date_read"),
              ("Summarises", "summarises")]
    items = "".join(
        f"<dt>{label}</dt><dd>{html.escape(str(record[field]))}</dd>"
        for label, field in fields
        if record[field] is not None and str(record[field]).strip()
    )
    return f"<dl class='source-meta'>{items}</dl>"
