"""What a reader sees of a verdict: the box (verdict, certainty with its reasons, robustness, parts)
and the specification curve. Presentation only: every value comes from :mod:`.multiverse`."""

from __future__ import annotations

import html

import numpy as np

from .figure_data import attach
from ..verdicts.multiverse import Multiverse, run
from ..verdicts.parameters import label, param

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


def shown_certainty(m: Multiverse) -> tuple[str, str]:
    """The certainty a reader is shown, level and reasons, the same in the boxes and the ledger: the rule's grade,
    capped at very low when the verdict is fragile (kept by fewer than ``fragile_below`` of its specifications),
    with the outcome most specifications give."""
    c = m.default.certainty
    if not (m.fragile and c.applicable):
        return c.level, c.text
    common, share = m.most_common
    return "very low", (f"{c.text}; capped at very low: fragile, kept by {100 * m.robustness:.0f}% of its "
                        f"specifications (the most common outcome, {100 * share:.0f}%: {common})")


def box_html(m: Multiverse) -> str:
    j = m.default
    c = j.certainty
    level, reasons = shown_certainty(m)
    rows = "".join(f"<tr><td>{html.escape(p.name)}</td><td>{badge(p.verdict)}</td>"
                   f"<td>{html.escape(p.because)}{('. Would settle it: ' + html.escape(p.needs)) if p.needs else ''}"
                   f"</td></tr>" for p in j.parts)
    sensitive = ""
    if m.most_sensitive_to:
        sensitive = (f"<p class='verdict-sensitivity'>Most sensitive to {html.escape(label(m.most_sensitive_to))}: "
                     f"{html.escape(m.flips_at)}.</p>")
    graded = c.applicable
    return (
        f"<div class='verdict-box'>"
        f"<p class='verdict-line'>{badge(j.verdict)} {badge(level, 'certainty') if graded else ''} "
        f"{_bar(m.robustness, m.fragile)}</p>"
        f"<p class='verdict-headline'>{html.escape(j.headline)}</p>"
        + (f"<p class='verdict-certainty'><strong>Certainty</strong>: {html.escape(reasons)}</p>" if graded else "") +
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


def spec_curve(claim_id: str):
    """Draw the specification curve of ``claim_id`` and return the figure.

    Top: the deciding estimate and its interval in each specification, coloured by the outcome it
    gives (where most specifications have no deciding estimate, one strip per outcome instead).
    Bottom: the choices, one row per varied parameter, shaded by its value. Specifications are
    ordered by outcome, then by the estimate."""
    import matplotlib.pyplot as plt

    m = run(claim_id)
    data = spec_curve_data(claim_id)
    data = data.sort_values(["outcome", "estimate"], na_position="last").reset_index(drop=True)
    names = [c for c in m.table.columns if c not in ("outcome", "verdict", "estimate", "ci_low", "ci_high")]
    varied = [n for n in names if data[n].nunique() > 1]
    rows = max(1, len(varied))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 2.4 + 0.28 * rows), dpi=100, sharex=True,
                                      gridspec_kw={"height_ratios": [2.4, 0.28 * rows]})
    x = np.arange(len(data))
    outcomes = list(dict.fromkeys(data["outcome"]))
    palette = plt.get_cmap("tab10")
    use_estimate = data["estimate"].notna().mean() >= 0.5
    for k, outcome in enumerate(outcomes):
        sel = (data["outcome"] == outcome).to_numpy()
        colour = palette(k % 10)
        if use_estimate:
            top.vlines(x[sel], data.loc[sel, "ci_low"], data.loc[sel, "ci_high"], color=colour, alpha=0.2, lw=0.8)
            top.scatter(x[sel], data.loc[sel, "estimate"], s=5, color=colour, label=f"{outcome} ({sel.mean():.0%})")
        else:
            top.scatter(x[sel], np.full(sel.sum(), k), s=5, color=colour, label=f"{outcome} ({sel.mean():.0%})")
    if use_estimate:
        threshold = m.default.deciding.threshold if m.default.deciding else None
        if threshold is not None:
            top.axhline(threshold, color="0.3", lw=0.8, ls="--")
        label = m.default.deciding.label if m.default.deciding else "deciding estimate"
        top.set_ylabel(label if len(label) <= 38 else label[:36] + "...", fontsize=9)
    else:
        top.set_yticks(range(len(outcomes)))
        top.set_yticklabels([o if len(o) <= 28 else o[:26] + "..." for o in outcomes], fontsize=9)
        top.set_ylim(-0.6, len(outcomes) - 0.4)
    top.legend(fontsize=9, loc="best", frameon=False)
    top.set_title(f"{claim_id}: {len(data)} specifications; {100 * m.robustness:.0f}% keep '{m.default.outcome}'",
                  fontsize=9)
    if varied:
        codes = np.vstack([pd_codes(data[n]) for n in varied])
        bottom.imshow(codes, aspect="auto", cmap="Greys", interpolation="nearest",
                      extent=(-0.5, len(data) - 0.5, len(varied) - 0.5, -0.5), vmin=0, vmax=1)
        bottom.set_yticks(range(len(varied)))
        bottom.set_yticklabels(varied, fontsize=9)
    else:
        bottom.set_yticks([])
    bottom.set_xlabel("specifications (ordered by outcome, then by the deciding estimate); "
                      "below: each choice's value, light to dark", fontsize=9)
    fig.tight_layout()
    table = data.dropna(axis=1, how="all")  # a rule without an interval: no empty columns in the download
    table.insert(0, "specification", x + 1)
    if use_estimate and threshold is not None:
        table["threshold_of_the_rule"] = threshold
    # x is each specification's position; without a deciding estimate, y is the outcome's strip
    attach(fig, table, layout={0: "x" if use_estimate else ("x", "y"), 1: ("x", "y")})
    return fig


def pd_codes(column) -> np.ndarray:
    """A parameter column as shades in [0, 1], in the order of its declared values where it has them."""
    values = list(dict.fromkeys(map(str, column)))
    try:
        values = sorted(values, key=float)
    except ValueError:
        pass
    index = {v: i for i, v in enumerate(values)}
    codes = column.map(str).map(index).to_numpy(float)
    return codes / max(1, len(values) - 1)


def fragile_below() -> float:
    return param("fragile_below").default


def glue_claim(claim_id: str, prefix: str = "") -> None:
    """Glue what a chapter shows of ``claim_id``: ``<p><id>_box`` (the verdict box), ``_verdict``,
    ``_certainty``, ``_robustness`` (percent of specifications), ``_headline``, ``_quote`` and
    ``_needs`` (what would settle each part not yet judged)."""
    from ..data.claims import load_claims
    from .gluing import glue

    m = run(claim_id)
    key = f"{prefix}{claim_id.lower()}"
    glue(f"{key}_box", box(claim_id), display=False)
    glue(f"{key}_verdict", m.default.verdict)
    glue(f"{key}_certainty", shown_certainty(m)[0])
    glue(f"{key}_robustness", 100 * m.robustness)
    glue(f"{key}_headline", m.default.headline)
    glue(f"{key}_quote", load_claims().set_index("id").loc[claim_id, "quote"])
    needs = [f"{p.name}: {p.needs}" for p in m.default.parts if p.needs]
    glue(f"{key}_needs", "; ".join(needs) if needs else "evidence that moves the deciding estimate across its "
                                                         "threshold (see the specification curve)")
