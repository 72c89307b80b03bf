"""What a reader sees of a verdict: the box (verdict, certainty with its reasons, robustness, parts)
and the specification curve. Presentation only: every value comes from :mod:`.multiverse`."""

from __future__ import annotations

import html

import numpy as np

from .multiverse import Multiverse, run
from .parameters import param

__all__ = ["box_html", "box", "glue_claim", "spec_curve", "spec_curve_data", "badge", "VERDICT_CLASS"]

VERDICT_CLASS = {"supported": "v-supported", "contradicted": "v-contradicted", "mixed": "v-mixed",
                 "insufficient evidence": "v-insufficient", "not verified": "v-unverified",
                 "not testable here": "v-untestable", "modelled": "v-modelled", "pending": "v-untestable"}
CERTAINTY_CLASS = {"high": "c-high", "moderate": "c-moderate", "low": "c-low", "very low": "c-verylow",
                   "not applicable": "c-na"}


def badge(text: str, kind: str = "verdict") -> str:
    classes = VERDICT_CLASS if kind == "verdict" else CERTAINTY_CLASS
    return f'<span class="badge-{kind} {classes.get(text, "")}">{html.escape(text)}</span>'


def _bar(share: float, fragile: bool) -> str:
    pct = 100 * share
    label = f"kept in {pct:.0f}% of specifications" + (" (fragile)" if fragile else "")
    return (f'<span class="robustness" role="img" aria-label="{html.escape(label)}">'
            f'<span class="robustness-fill{" fragile" if fragile else ""}" style="width:{pct:.0f}%"></span></span> '
            f'<span class="robustness-text">{html.escape(label)}</span>')


def box_html(m: Multiverse) -> str:
    j = m.default
    c = j.certainty
    rows = "".join(f"<tr><td>{html.escape(p.name)}</td><td>{badge(p.verdict)}</td>"
                   f"<td>{html.escape(p.because)}{('. Would settle it: ' + html.escape(p.needs)) if p.needs else ''}"
                   f"</td></tr>" for p in j.parts)
    sensitive = ""
    if m.most_sensitive_to:
        sensitive = (f"<p class='verdict-sensitivity'>Most sensitive to <code>{html.escape(m.most_sensitive_to)}"
                     f"</code>: {html.escape(m.flips_at)}.</p>")
    return (
        f"<div class='verdict-box'>"
        f"<p class='verdict-line'>{badge(j.verdict)} {badge(c.level, 'certainty')} {_bar(m.robustness, m.fragile)}</p>"
        f"<p class='verdict-headline'>{html.escape(j.headline)}</p>"
        f"<p class='verdict-certainty'><strong>Certainty</strong>: {html.escape(c.text)}</p>"
        f"<details class='verdict-parts'><summary>{len(j.parts)} part{'s' if len(j.parts) > 1 else ''} and how each "
        f"was judged; {m.n_specifications} specifications</summary>"
        f"<div class='table-scroll'><table class='parts-table'><thead><tr><th>part</th><th>verdict</th>"
        f"<th>because</th></tr></thead><tbody>{rows}</tbody></table></div></details>"
        f"{sensitive}</div>")


def box(claim_id: str):
    """The verdict box of ``claim_id`` as an HTML display object (glue it into the chapter)."""
    from IPython.display import HTML

    return HTML(box_html(run(claim_id)))


def spec_curve_data(claim_id: str):
    """The specification curve's numbers: one row per specification, ordered by the deciding
    estimate, with the choices made and the outcome (a CSV readers can download)."""
    m = run(claim_id)
    table = m.table.copy()
    table["keeps_default"] = table["outcome"] == m.default.outcome
    return table.sort_values(["estimate", "outcome"], na_position="last").reset_index(drop=True)


def spec_curve(claim_id: str, ax=None):
    """Draw the specification curve of ``claim_id``: the deciding estimate (and its interval) across
    specifications, coloured by outcome, with the choices marked below. Returns the figure."""
    import matplotlib.pyplot as plt

    m = run(claim_id)
    data = spec_curve_data(claim_id)
    names = [c for c in data.columns if c in m.table.columns and c not in
             ("outcome", "verdict", "estimate", "ci_low", "ci_high", "keeps_default")]
    varied = [n for n in names if data[n].nunique() > 1]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 2.2 + 0.35 * max(1, len(varied))),
                                      gridspec_kw={"height_ratios": [2.2, 0.35 * max(1, len(varied))]}, sharex=True)
    x = np.arange(len(data))
    outcomes = list(dict.fromkeys(data["outcome"]))
    palette = plt.get_cmap("tab10")
    has_estimate = data["estimate"].notna().any()
    for k, outcome in enumerate(outcomes):
        sel = data["outcome"] == outcome
        y = data.loc[sel, "estimate"] if has_estimate else np.zeros(sel.sum())
        top.scatter(x[sel], y, s=6, color=palette(k % 10), label=outcome)
        if has_estimate:
            top.vlines(x[sel], data.loc[sel, "ci_low"], data.loc[sel, "ci_high"], color=palette(k % 10), alpha=0.15,
                       linewidth=0.8)
    threshold = m.default.deciding.threshold if m.default.deciding else None
    if threshold is not None and has_estimate:
        top.axhline(threshold, color="0.3", linewidth=0.8, linestyle="--")
    top.set_ylabel(m.default.deciding.label[:40] if m.default.deciding else "outcome", fontsize=8)
    top.legend(fontsize=7, loc="best", frameon=False)
    top.set_title(f"{claim_id}: {len(data)} specifications, {100 * m.robustness:.0f}% keep '{m.default.outcome}'",
                  fontsize=9)
    for row, name in enumerate(varied):
        values = list(dict.fromkeys(map(str, data[name])))
        codes = data[name].map(str).map({v: i for i, v in enumerate(values)}).to_numpy(float)
        bottom.scatter(x, np.full(len(x), row) + (codes / max(1, len(values) - 1) - 0.5) * 0.6, s=2, color="0.3")
    bottom.set_yticks(range(len(varied)))
    bottom.set_yticklabels(varied, fontsize=7)
    bottom.set_ylim(-0.7, max(0, len(varied) - 1) + 0.7)
    bottom.set_xlabel("specifications, ordered by the deciding estimate", fontsize=8)
    fig.tight_layout()
    return fig


def fragile_below() -> float:
    return param("fragile_below").default


def glue_claim(claim_id: str, prefix: str = "") -> None:
    """Glue what a chapter shows of ``claim_id``: ``<p><id>_box`` (the verdict box), ``_verdict``,
    ``_certainty``, ``_robustness`` (percent of specifications), ``_headline``, ``_quote`` and
    ``_needs`` (what would settle each part not yet judged)."""
    from ..claims import load_claims
    from ..gluing import glue

    m = run(claim_id)
    key = f"{prefix}{claim_id.lower()}"
    glue(f"{key}_box", box(claim_id), display=False)
    glue(f"{key}_verdict", m.default.verdict)
    glue(f"{key}_certainty", m.default.certainty.level)
    glue(f"{key}_robustness", 100 * m.robustness)
    glue(f"{key}_headline", m.default.headline)
    glue(f"{key}_quote", load_claims().set_index("id").loc[claim_id, "quote"])
    needs = [f"{p.name}: {p.needs}" for p in m.default.parts if p.needs]
    glue(f"{key}_needs", "; ".join(needs) if needs else "evidence that moves the deciding estimate across its "
                                                         "threshold (see the specification curve)")
