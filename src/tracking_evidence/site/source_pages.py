"""Each source read in place: the whole text, sentence by sentence, as HTML for the source pages.

:func:`text_html` renders a source's body from the sentence map (``data/source-sentences.csv``,
:mod:`tracking_evidence.data.sentences`), paragraph by paragraph, as the text was read:

- a sentence that holds claims is marked (``<mark class="src-claim">``, a left rule and the
  word "claim" for readers who do not see colour), followed by one tag per claim: its id as a
  link to the section of the chapter that computes it (:func:`tracking_evidence.site.ledger.chapter_link`),
  its verdict as a word, and its certainty when the ledger has a ``certainty`` column;
- a sentence that holds none stays plain, followed by a small muted label with the reason
  (``definition``, ``heading``, ...); the one-line note that says why is in the label's
  tooltip, shown on hover and on keyboard focus, and read by screen readers;
- every unit carries an id (``src-b-7``: source letter, unit number) so a page can link to it.

Plain HTML and CSS (``book/_static/sources.css``), no script. Verdicts come from a ledger table
(:func:`tracking_evidence.site.ledger.ledger`), passed in so a page computes it once.
"""

from __future__ import annotations

import html
import re

import pandas as pd

from ..data.claims import PENDING, load_claims
from .ledger import chapter_link
from ..data.sentences import REASONS, load_sentences

__all__ = ["text_html", "legend_html", "reasons_table", "counts", "claim_href", "unit_id"]

_HREF = re.compile(r'href="([^"]+)"')
_TITLE = re.compile(r">([^<]*)</a>$")


def unit_id(source: str, n: int) -> str:
    """The HTML id of unit ``n`` of ``source`` on its page: ``src-b-7``."""
    return f"src-{source.lower()}-{int(n)}"


def claim_href(chapter: str, claim_id: str) -> tuple[str, str]:
    """(href, link title) of the section that computes ``claim_id``, from :func:`chapter_link`."""
    link = chapter_link(chapter, claim_id)
    href, title = _HREF.search(link), _TITLE.search(link)
    if href is None or title is None:  # chapter_link always writes one <a href="...">title</a>
        raise ValueError(f"unexpected link from chapter_link: {link}")
    return href.group(1), html.unescape(title.group(1))


def _slug(word: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(word).lower()).strip("-")


def _claim_tag(claim: pd.Series) -> str:
    href, where = claim_href(claim["chapter"], claim["id"])
    verdict = str(claim.get("verdict", PENDING))
    label = f'Claim {claim["id"]}: {claim["claim"]}. Computed in {where}'
    parts = [
        f'<a class="src-id" href="{html.escape(href)}" title="{html.escape(where)}" aria-label="{html.escape(label)}">'
        f'{html.escape(claim["id"])}</a>',
        f'<span class="src-verdict src-verdict-{_slug(verdict)}">'
        f'<span class="src-visually-hidden">verdict: </span>{html.escape(verdict)}</span>',
    ]
    certainty = claim.get("certainty")  # the ledger gains this column with the graded verdicts
    if certainty is not None and not pd.isna(certainty) and str(certainty).strip():
        parts.append(f'<span class="src-certainty src-certainty-{_slug(certainty)}">'
                     f'certainty: {html.escape(str(certainty))}</span>')
    return f'<span class="src-tag">{"".join(parts)}</span>'


def _claim_unit(row, claims_by_id: pd.DataFrame) -> str:
    tags = "".join(_claim_tag(claims_by_id.loc[claim_id]) for claim_id in row.claim_ids)
    label = "claims" if len(row.claim_ids) > 1 else "claim"
    note = (f' <span class="src-claim-note"><span class="src-visually-hidden">note: </span>'
            f'{html.escape(row.note)}</span>') if str(row.note).strip() else ""
    return (f'<span class="src-unit src-has-claim" id="{unit_id(row.source, row.n)}">'
            f'<mark class="src-claim"><span class="src-visually-hidden">{label}: </span>'
            f'<span class="src-text">{sentence_html(row.sentence)}</span></mark> '
            f'<span class="src-tags">{tags}</span>{note}</span>')


#: A word run straight into a number ("Triventi53": the source lost a break or a footnote mark there).
_GLUED = re.compile(r"(?<=[a-z])(?=\d)")


def sentence_html(sentence: str) -> str:
    """A source sentence as HTML, exactly as read, with a visible mark where a word runs straight into a
    number (the text is not changed: the mark is a separate element a reader can tap for the note)."""
    pieces = _GLUED.split(sentence)
    mark = ('<span class="src-sic" title="no break between these two in the source (a lost space or footnote '
            'mark)" role="img" aria-label="no break in the source here"></span>')  # drawn by CSS: the text stays as read
    return mark.join(html.escape(piece) for piece in pieces)


def _plain_unit(row) -> str:
    reason = row.not_claim_reason
    return (f'<span class="src-unit src-plain" id="{unit_id(row.source, row.n)}">'
            f'<span class="src-text">{sentence_html(row.sentence)}</span> '
            f'<span class="src-reason" tabindex="0" role="note">'
            f'<span class="src-visually-hidden">not a claim: </span>{html.escape(reason)}'
            f'<span class="src-note"> ({html.escape(row.note)})</span></span></span>')  # a tap or Tab focuses it


def text_html(source: str, table: pd.DataFrame | None = None, sentence_map: pd.DataFrame | None = None) -> str:
    """The body of ``source`` as HTML, one ``<p>`` per body line, every unit marked.

    ``table`` is a ledger (:func:`tracking_evidence.site.ledger.ledger`): one row per claim with at
    least ``id``, ``claim`` and ``chapter``; ``verdict`` and ``certainty`` are shown when present.
    Without it, the claims registry is used and every verdict reads "pending".
    """
    sentence_map = load_sentences() if sentence_map is None else sentence_map
    claims_by_id = (load_claims() if table is None else table).set_index("id", drop=False)
    rows = sentence_map[sentence_map["source"] == source]
    if rows.empty:
        raise KeyError(f"the sentence map has no units for source '{source}'")
    missing = sorted({c for ids in rows["claim_ids"] for c in ids} - set(claims_by_id.index))
    if missing:
        raise ValueError(f"claims {missing} of source {source} are not in the ledger table")
    paragraphs = []
    for paragraph, units in rows.groupby("paragraph", sort=True):
        pieces = [_claim_unit(row, claims_by_id) if row.claim_ids else _plain_unit(row)
                  for row in units.itertuples(index=False)]
        heading = all(reason == "heading" for reason in units["not_claim_reason"])
        kind = "src-par src-heading" if heading else "src-par"
        paragraphs.append(f'<p class="{kind}">{" ".join(pieces)}</p>')
    return (f'<div class="source-text" lang="en" aria-label="Source {html.escape(source)}, '
            f'sentence by sentence">{"".join(paragraphs)}</div>')


def legend_html() -> str:
    """What the marks mean, in words (the colours only repeat them)."""
    return (
        '<dl class="source-legend">'
        '<dt><mark class="src-claim">A marked sentence</mark> <span class="src-tags"><span class="src-tag">'
        '<span class="src-id">B3</span><span class="src-verdict">verdict</span></span></span></dt>'
        '<dd>holds a claim: the id links to the section that computes it; the word after it is the '
        'verdict (and its certainty, where graded).</dd>'
        '<dt><span class="src-text">A plain sentence</span> <span class="src-reason">reason</span></dt>'
        '<dd>holds no claim; the label says why (hover or focus it for the one-line note).</dd>'
        '</dl>'
    )


def reasons_table(source: str | None = None, sentence_map: pd.DataFrame | None = None) -> pd.DataFrame:
    """How many units hold claims and how many hold none, by reason (all of :data:`REASONS`, in order)."""
    sentence_map = load_sentences() if sentence_map is None else sentence_map
    rows = sentence_map if source is None else sentence_map[sentence_map["source"] == source]
    counts = rows["not_claim_reason"].value_counts()
    records = [{"sentences": int(rows["claim_ids"].map(bool).sum()), "what they hold": "one or more claims",
                "meaning": "checkable assertions, each in the claims registry"}]
    records += [{"sentences": int(counts.get(reason, 0)), "what they hold": f"no claim: {reason}",
                 "meaning": meaning} for reason, meaning in REASONS.items()]
    return pd.DataFrame.from_records(records)


def counts(source: str, sentence_map: pd.DataFrame | None = None) -> dict[str, int]:
    """What a source page glues: its units, those that hold claims, those that hold none, its claims."""
    sentence_map = load_sentences() if sentence_map is None else sentence_map
    rows = sentence_map[sentence_map["source"] == source]
    holds = rows["claim_ids"].map(bool)
    registry = load_claims()
    return {
        "units": len(rows),
        "claim_units": int(holds.sum()),
        "plain_units": int((~holds).sum()),
        "claims": int((registry["source"] == source).sum()),
    }
