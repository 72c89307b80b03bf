"""The ledger: every claim of the registry with its verdict, certainty, robustness and headline,
and the links from a claim to the section of the book that computes it. Presentation: it runs the
judgement layer (:mod:`tracking_evidence.verdicts`) and lays its results out; it judges nothing."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from ..data.claims import PENDING, load_claims, load_sources
from ..data.datasets import book_path
from ..verdicts import all_rules, multiverse

__all__ = ["LEDGER_COLUMNS", "ledger", "claim_section", "chapter_link", "claims_html", "source_html", "board_html",
           "IN_WORDS", "SCORECARD", "INVERTED", "claim_line", "chapter_summary_html", "scorecard_html", "chapter_claims"]

LEDGER_COLUMNS = ["id", "source", "type", "speaker", "claim", "quote", "chapter", "verdict", "certainty",
                  "certainty_reasons", "robustness", "n_specifications", "most_sensitive_to", "flips_at", "fragile",
                  "parts", "headline"]


def _row(claim_id: str) -> dict:
    from .boxes import shown_certainty

    m = multiverse.run(claim_id)
    j = m.default
    level, reasons = shown_certainty(m)
    return {"verdict": j.verdict, "certainty": level, "certainty_reasons": reasons,
            "robustness": m.robustness, "n_specifications": m.n_specifications,
            "most_sensitive_to": m.most_sensitive_to, "flips_at": m.flips_at, "fragile": m.fragile,
            "parts": "; ".join(f"{p.name}: {p.verdict}" for p in j.parts), "headline": j.headline}


def ledger(folder: Path | None = None) -> pd.DataFrame:
    """Every claim with its verdict, certainty (with reasons), robustness over its multiverse, the
    parameter it is most sensitive to and where it flips, its parts and headline (``pending`` where
    no rule exists yet)."""
    claims = load_claims(folder)
    rules = all_rules()
    unknown = sorted(set(rules) - set(claims["id"]))
    if unknown:
        raise ValueError(f"verdict rules registered for claims not in the registry: {unknown}")
    empty = {"verdict": PENDING, "certainty": "", "certainty_reasons": "", "robustness": float("nan"),
             "n_specifications": 0, "most_sensitive_to": "", "flips_at": "", "fragile": False, "parts": "",
             "headline": "not yet computed"}
    rows = [_row(i) if i in rules else empty for i in claims["id"]]
    table = pd.concat([claims.reset_index(drop=True), pd.DataFrame(rows)], axis=1)
    return table[LEDGER_COLUMNS]


def _book_dir() -> Path:
    return book_path("book", "book")


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


def _robustness_cell(row) -> str:
    pct = 100 * row.robustness if row.robustness == row.robustness else 0.0
    label = f"kept in {pct:.0f}% of {row.n_specifications} analysis choices" + (", fragile" if row.fragile else "")
    return (f"<span class='robustness' role='img' aria-label='{html.escape(label)}'><span class='robustness-fill"
            f"{' fragile' if row.fragile else ''}' style='width:{pct:.0f}%'></span></span>"
            f"<span class='board-pct'>{pct:.0f}%{' <strong>fragile</strong>' if row.fragile else ''}</span>")


def board_html(table: pd.DataFrame) -> str:
    """The verdict board: one compact row per claim (its id, the claim in a few words, the verdict, the
    certainty where it applies, the robustness bar); the full quote, the headline, the parts, the
    certainty's reasons and what the verdict turns on open from the claim's own row (a ``<details>``
    element: keyboard and tap). ``table`` is :func:`ledger`."""
    from .boxes import badge

    rows = []
    for row in table.itertuples():
        graded = row.certainty and row.certainty != "not applicable"
        more = [f"<p class='board-quote'>&ldquo;{html.escape(row.quote)}&rdquo; (Source {row.source}, "
                f"{html.escape(row.type)})</p>",
                f"<p class='board-headline'>{html.escape(row.headline)}</p>"]
        if graded:
            more.append(f"<p class='board-certainty'><strong>Certainty</strong>: {html.escape(row.certainty_reasons)}</p>")
        if row.flips_at:
            more.append(f"<p class='board-flips'>What it turns on: {html.escape(row.flips_at)}.</p>")
        more.append(f"<p class='board-link'>{chapter_link(row.chapter, row.id)}</p>")
        rows.append(
            f"<tr id='claim-{row.id.lower()}' data-id='{row.id}' data-source='{row.source}' "
            f"data-verdict='{html.escape(row.verdict)}' data-certainty='{html.escape(row.certainty)}' "
            f"data-type='{html.escape(row.type)}' data-robustness='{row.robustness:.4f}'>"
            f"<td class='board-id'>{row.id}</td>"
            f"<td class='board-claim'><details><summary>{html.escape(row.claim)}</summary>"
            f"<div class='board-more'>{''.join(more)}</div></details></td>"
            f"<td class='board-verdict'>{badge(row.verdict)}</td>"
            f"<td class='board-certainty-cell'>{badge(row.certainty, 'certainty') if graded else ''}</td>"
            f"<td class='board-robustness'>{_robustness_cell(row)}</td></tr>")
    return ("<table id='verdict-board' class='ledger-board no-cards'><thead><tr><th>claim</th><th>in a few words "
            "(open for the quote and why)</th><th>verdict</th><th>certainty</th><th>robustness</th></tr></thead>"
            "<tbody>" + "".join(rows) + "</tbody></table>")


#: What each verdict means for a reader, in a few words (the board's and the summaries' vocabulary).
IN_WORDS = {"supported": "holds up", "contradicted": "does not hold up", "mixed": "the evidence is mixed",
            "insufficient evidence": "cannot be told yet", "not verified": "cannot be checked",
            "not testable here": "nothing here bears on it", "modelled": "a value or a model", PENDING: "pending"}
#: Scorecard groups of a source page, in order.
SCORECARD = (("Holds up", ("supported",)), ("Does not hold up", ("contradicted",)),
             ("The evidence is mixed", ("mixed",)), ("Cannot be told yet", ("insufficient evidence", "not verified")),
             ("Nothing here bears on it", ("not testable here",)), ("A value or a model", ("modelled",)))
#: Claims whose sense is easy to invert: they assert that evidence is weak, absent or not significant, so
#: "supported" confirms the weakness and "contradicted" finds what they say is missing.
INVERTED = {
    "A3": "the claim is that the effect is not significant: 'holds up' means the abstract says so, not that "
          "tracking works",
    "B4": "the claim is that the evidence is weak: 'holds up' means the book's search also finds it weak",
    "B5": "the claim is that no example exists: 'does not hold up' means an example was found",
    "B7": "the claim is that almost no study supports generalisable findings: 'holds up' would mean the studies are "
          "weak",
}


def claim_line(row, with_link: bool = True) -> str:
    """One claim in a reader's words: the claim, what the verdict means, the certainty where it applies,
    the headline; and the reading note where its sense is easy to invert."""
    graded = row.certainty and row.certainty != "not applicable"
    certainty = f", certainty {html.escape(row.certainty)}" if graded else ""
    link = f" ({chapter_link(row.chapter, row.id)})" if with_link else ""
    # the note says what 'holds up' or 'does not hold up' means for a claim of absence: shown with those only
    note = (f"<br><small>Read with care: {html.escape(INVERTED[row.id])}.</small>"
            if row.id in INVERTED and row.verdict in ("supported", "contradicted") else "")
    return (f"<li><strong>{html.escape(row.claim)}</strong>: {IN_WORDS.get(row.verdict, row.verdict)}"
            f"{certainty}. {html.escape(row.headline)}{link}{note}</li>")


def chapter_summary_html(claim_ids, table: pd.DataFrame | None = None) -> str:
    """A chapter's summary, in words and without claim ids: what the evidence shows first (the claims
    that hold up or do not), then what it cannot settle and what would, then values and models."""
    from ..verdicts import judge

    table = ledger() if table is None else table
    rows = table.set_index("id").loc[list(claim_ids)].reset_index()
    shows = [r for r in rows.itertuples() if r.verdict in ("supported", "contradicted", "mixed")]
    open_ = [r for r in rows.itertuples() if r.verdict in ("insufficient evidence", "not verified", "not testable here")]
    models = [r for r in rows.itertuples() if r.verdict == "modelled"]
    out = []
    if shows:
        out.append("<p><strong>What the evidence shows.</strong></p><ul>"
                   + "".join(claim_line(r, with_link=False) for r in shows) + "</ul>")
    if open_:
        items = []
        for r in open_:
            needs = next((p.needs for p in judge(r.id).parts if p.needs), "")
            items.append(f"<li><strong>{html.escape(r.claim)}</strong>: {IN_WORDS[r.verdict]}"
                         + (f"; what would settle it: {html.escape(needs)}" if needs else "") + ".</li>")
        out.append("<p><strong>What it cannot settle, and what would.</strong></p><ul>" + "".join(items) + "</ul>")
    if models:
        out.append("<p><strong>Values and models.</strong></p><ul>"
                   + "".join(claim_line(r, with_link=False) for r in models) + "</ul>")
    return "<div class='chapter-summary'>" + "".join(out) + "</div>"


def scorecard_html(source: str, table: pd.DataFrame | None = None) -> str:
    """A source page's scorecard: its claims sorted into holds up, does not hold up, cannot be told yet,
    a value or a model; each with its short form, what the verdict means and a link to the section that
    computes it."""
    table = ledger() if table is None else table
    mine = table[table["source"] == source]
    out = []
    for title, verdicts in SCORECARD:
        group = mine[mine["verdict"].isin(verdicts)]
        if group.empty:
            continue
        slug = title.lower().replace(" ", "-")
        out.append(f"<div class='scorecard-group scorecard-{slug}'><p><strong>{title}</strong> ({len(group)})</p><ul>"
                   + "".join(claim_line(r) for r in group.itertuples()) + "</ul></div>")
    return f"<div class='scorecard' id='scorecard-{source.lower()}'>" + "".join(out) + "</div>"


def chapter_claims(chapter: str) -> list[str]:
    """The ids of the claims a chapter computes (the registry's ``chapter``), in registry order."""
    claims = load_claims()
    return list(claims.loc[claims["chapter"] == chapter, "id"])
