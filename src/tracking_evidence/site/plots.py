"""The book's figures in one house style: a flat module of functions, each returning a matplotlib Figure.

House style: figsize about (7, 4), dpi 100, one accent colour for estimates (``ACCENT``), grey for
reference lines and regions, no top or right spines, labelled axes. Functions take data (or the
result objects of :mod:`tracking_evidence.stats.meta` and :mod:`tracking_evidence.stats.bias`), never read files.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from scipy import stats

from .figure_data import attach
from ..stats.meta import check_inputs

__all__ = ["ACCENT", "GREY", "new_figure", "forest", "caterpillar", "funnel", "pcurve_plot", "verdict_summary",
           "question_forest", "gap_map_plot", "GRADE_COLOURS", "prisma_flow"]

ACCENT = "#1f5a96"
SECOND = "#c0504d"
GREY = "#7f7f7f"
LIGHT = "#d9d9d9"


def new_figure(figsize=(7, 4), dpi=100):
    """A figure and axes in the house style."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, dpi=dpi)
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def forest(yi, vi, labels, result=None, level: float = 0.95, xlabel: str = "Estimate", title: str | None = None,
           figsize=None, summary_label: str | None = None):
    """Forest plot: each study's estimate and ``level`` CI (square area proportional to its weight in
    ``result``, else to 1/vi), then the pooled estimate as a diamond (its CI) with the prediction
    interval as a bar beneath it when ``result`` (a :class:`~tracking_evidence.stats.meta.PoolResult`) is given.
    """
    y, v = check_inputs(yi, vi)  # ValueError naming NaN, infinite or non-positive values: nothing drawn silently
    labels = list(labels)
    if not (y.size == v.size == len(labels)):
        raise ValueError(f"yi, vi and labels have different lengths ({y.size}, {v.size}, {len(labels)})")
    k = y.size
    height = figsize or (7, max(3.0, 0.28 * (k + 4)))
    fig, ax = new_figure(figsize=height)
    half = _z(level) * np.sqrt(v)
    rows = np.arange(k, 0, -1) + 2
    w = result.weights if result is not None and result.weights.size == k else (1 / v) / (1 / v).sum()
    ax.hlines(rows, y - half, y + half, color="black", lw=1)
    ax.scatter(y, rows, marker="s", s=20 + 400 * w / w.max() * 0.5, color=ACCENT, zorder=3)
    ticks, ticklabels = list(rows), labels
    if result is not None:
        est, lo, hi = result.estimate, result.ci_low, result.ci_high
        ax.fill([lo, est, hi, est], [1.5, 1.8, 1.5, 1.2], color=ACCENT, zorder=3)
        ax.hlines(0.7, result.pi_low, result.pi_high, color=SECOND, lw=2)
        ax.vlines([result.pi_low, result.pi_high], 0.55, 0.85, color=SECOND, lw=2)
        ax.axvline(est, color=GREY, ls=":", lw=1)
        name = summary_label or f"Pooled ({result.method}{', KNHA' if result.knha else ''})"
        ticks = ticks + [1.5, 0.7]
        ticklabels = ticklabels + [name, "Prediction interval"]
    ax.set_yticks(ticks)
    ax.set_yticklabels(ticklabels, fontsize=8)
    ax.set_ylim(0.2, k + 3)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    table = pd.DataFrame({"row": labels, "what": "study", "estimate": y, "interval_low": y - half,
                          "interval_high": y + half, "interval": f"{level:.0%} confidence interval",
                          "weight_share": w})
    if result is not None:
        table = pd.concat([table, pd.DataFrame({
            "row": ticklabels[-2:], "what": ["pooled mean", "prediction interval"],
            "estimate": [est, est], "interval_low": [lo, result.pi_low], "interval_high": [hi, result.pi_high],
            "interval": [f"{result.level:.0%} confidence interval", f"{result.level:.0%} prediction interval"],
            "weight_share": [1.0, np.nan]})], ignore_index=True)
    attach(fig, table, layout="y")  # rows are positions: the data are the estimates and intervals on x
    return fig


def caterpillar(yi, vi, result=None, level: float = 0.95, xlabel: str = "Study, ordered by estimate",
                ylabel: str = "Estimate", title: str | None = None, highlight=None,
                labels: tuple[str, str] = ("studies", "highlighted")):
    """Every study's estimate and CI, sorted by estimate; the pooled estimate as a line and its
    prediction interval as a shaded band when ``result`` is given. ``highlight``: boolean mask of
    studies drawn in the second colour (e.g. one sector)."""
    y, v = check_inputs(yi, vi)
    order = np.argsort(y, kind="stable")
    half = _z(level) * np.sqrt(v)
    x = np.arange(1, y.size + 1)
    fig, ax = new_figure()
    if result is not None:
        ax.axhspan(result.pi_low, result.pi_high, color=LIGHT, zorder=0, label="prediction interval")
        ax.axhline(result.estimate, color=GREY, lw=1.5, label="pooled estimate")
    colours = np.full(y.size, ACCENT, dtype=object)
    if highlight is not None:
        mask = np.asarray(highlight, dtype=bool)
        colours[mask] = SECOND
    colours = colours[order]
    ax.vlines(x, (y - half)[order], (y + half)[order], colors=list(colours), lw=0.7)
    ax.scatter(x, y[order], s=8, c=list(colours), zorder=3)
    if highlight is not None:
        ax.scatter([], [], s=8, color=ACCENT, label=labels[0])
        ax.scatter([], [], s=8, color=SECOND, label=labels[1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    if result is not None or highlight is not None:
        ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    rows = pd.DataFrame({"rank": x, "what": "study", "estimate": y[order], "ci_low": (y - half)[order],
                         "ci_high": (y + half)[order]})
    if highlight is not None:
        rows["group"] = np.where(np.asarray(highlight, dtype=bool)[order], labels[1], labels[0])
    if result is not None:
        rows = pd.concat([rows, pd.DataFrame({"what": ["pooled estimate and prediction interval"],
                                              "estimate": [result.estimate], "ci_low": [result.pi_low],
                                              "ci_high": [result.pi_high]})], ignore_index=True)
    attach(fig, rows)
    return fig


def funnel(fdata: dict, trimfill=None, xlabel: str = "Estimate", title: str | None = None):
    """Funnel plot from :func:`tracking_evidence.stats.bias.funnel_data`: estimates against their standard
    errors (inverted axis, most precise at the top) inside the pseudo-confidence region; with a
    :class:`~tracking_evidence.stats.bias.TrimFillResult`, the filled studies as open circles and the
    trim-and-fill estimate as a dashed line."""
    studies, region = fdata["studies"], fdata["region"]
    fig, ax = new_figure()
    ax.fill_betweenx(region["sei"], region["low"], region["high"], color=LIGHT, zorder=0,
                     label=f"{fdata['level']:.0%} pseudo-confidence region")
    ax.axvline(fdata["estimate"], color=GREY, lw=1.2, label="FE estimate")
    ax.scatter(studies["yi"], studies["sei"], s=12, color=ACCENT, zorder=3, label="studies")
    if trimfill is not None and trimfill.k0 > 0:
        ax.scatter(trimfill.filled_yi, np.sqrt(trimfill.filled_vi), s=14, facecolors="none", edgecolors=SECOND,
                   zorder=3, label=f"filled ({trimfill.k0})")
        ax.axvline(trimfill.estimate, color=SECOND, ls="--", lw=1.2, label="trim-and-fill estimate")
    ax.set_ylim(region["sei"].max(), 0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Standard error")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    fig.tight_layout()
    parts = [pd.DataFrame({"what": "study", "estimate": studies["yi"], "standard_error": studies["sei"]}),
             pd.DataFrame({"what": "pseudo-confidence region", "standard_error": region["sei"],
                           "region_low": region["low"], "region_high": region["high"]}),
             pd.DataFrame({"what": ["fixed-effect estimate"], "estimate": [fdata["estimate"]]})]
    if trimfill is not None and trimfill.k0 > 0:
        parts += [pd.DataFrame({"what": "filled study (imputed)", "estimate": trimfill.filled_yi,
                                "standard_error": np.sqrt(trimfill.filled_vi)}),
                  pd.DataFrame({"what": ["trim-and-fill estimate"], "estimate": [trimfill.estimate]})]
    attach(fig, pd.concat(parts, ignore_index=True))
    return fig


def pcurve_plot(result, title: str | None = None):
    """The p-curve (share of significant p-values in each .01 bin) against the shapes expected under
    no effect (flat) and under 33% power, from a :class:`~tracking_evidence.stats.bias.PCurveResult`."""
    bins = result.bins
    mids = (bins["p_low"] + bins["p_high"]) / 2
    fig, ax = new_figure()
    ax.plot(mids, bins["share"], marker="o", color=ACCENT, label=f"observed ({result.k_significant} p < .05)")
    ax.plot(mids, bins["share_null"], ls=":", color=GREY, label="no effect")
    ax.plot(mids, bins["share_33"], ls="--", color=SECOND, label="33% power")
    ax.set_xticks(mids)
    ax.set_xticklabels([f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(bins["p_low"], bins["p_high"])])
    ax.set_xlabel("p-value")
    ax.set_ylabel("Share of significant results")
    ax.set_ylim(0, 1)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    attach(fig, pd.DataFrame({"p_low": bins["p_low"], "p_high": bins["p_high"], "p_mid": mids,
                              "share_observed": bins["share"], "share_if_no_effect": bins["share_null"],
                              "share_if_33pct_power": bins["share_33"]}))
    return fig


VERDICT_COLOURS = {
    "supported": "#2e7d32",
    "contradicted": "#c0504d",
    "mixed": "#e0a526",
    "insufficient evidence": "#6b6b9a",
    "not verified": "#8e5aa8",
    "not testable here": "#7f7f7f",
    "modelled": "#1f5a96",
    "pending": "#d9d9d9",
}
CERTAINTY_COLOURS = {"high": "#0b4d1c", "moderate": "#4f7d3a", "low": "#b9872c", "very low": "#8c2f2f",
                     "not applicable": "#cccccc"}


def _stacked(ax, counts, colours, title):
    left = np.zeros(len(counts))
    for key in [k for k in colours if k in counts.columns]:
        values = counts[key].to_numpy()
        ax.barh([f"Source {s}" for s in counts.index], values, left=left, color=colours[key], label=key,
                edgecolor="white")
        for y, (x0, n) in enumerate(zip(left, values)):
            if n:
                ax.text(x0 + n / 2, y, str(n), ha="center", va="center", color="white", fontsize=8)
        left += values
    ax.set_title(title, fontsize=9, loc="left")
    ax.legend(ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.25), frameon=False, fontsize=9)


def verdict_summary(table):
    """Two panels of horizontal stacked bars per source: the claims' verdicts, and their certainty.

    ``table`` is :func:`tracking_evidence.site.ledger.ledger`'s frame (columns ``source``, ``verdict`` and,
    when present, ``certainty``).
    """
    for column in ("source", "verdict"):
        if column not in table.columns:
            raise ValueError(f"the ledger table has no '{column}' column")
    unknown = sorted(set(table["verdict"]) - set(VERDICT_COLOURS))
    if unknown:
        raise ValueError(f"unknown verdict(s) {unknown}")
    import matplotlib.pyplot as plt

    panels = 2 if "certainty" in table.columns else 1
    fig, axes = plt.subplots(panels, 1, figsize=(7, 2.2 * panels + 0.6), dpi=100, squeeze=False)
    counts = table.groupby(["source", "verdict"]).size().unstack(fill_value=0).sort_index(ascending=False)
    _stacked(axes[0, 0], counts, VERDICT_COLOURS, "Verdicts")
    if panels == 2:
        certainty = table["certainty"].replace("", "not applicable")
        counts = table.assign(certainty=certainty).groupby(["source", "certainty"]).size().unstack(fill_value=0)
        _stacked(axes[1, 0], counts.sort_index(ascending=False), CERTAINTY_COLOURS, "Certainty")
    axes[-1, 0].set_xlabel("Number of claims")
    fig.tight_layout()
    tidy = [table.groupby(["source", "verdict"]).size().rename("claims").reset_index()
            .rename(columns={"verdict": "value"}).assign(panel="verdict")]
    if panels == 2:
        tidy.append(table.assign(certainty=certainty).groupby(["source", "certainty"]).size().rename("claims")
                    .reset_index().rename(columns={"certainty": "value"}).assign(panel="certainty"))
    attach(fig, pd.concat(tidy, ignore_index=True)[["panel", "source", "value", "claims"]], layout="y")
    return fig


def question_forest(table: pd.DataFrame, xlabel: str = "Effect (SD)", title: str | None = None, width: float = 5.2):
    """One question's forest plot: for each line of evidence (its name in bold across the top of its
    block), its studies' estimates and intervals (squares), then the line's weighed estimate (a
    diamond: pooled; an outlined square: one study or one synthesis) and, where pooled, its prediction
    interval (a red bar). ``table`` is :func:`tracking_evidence.site.summary.forest_table`. Large type
    and a narrow figure: it is read on a phone."""
    if table.empty:  # the page still shows the question's figure: an honest empty state, not a blank
        fig, ax = new_figure(figsize=(width, 1.6))
        ax.axis("off")
        ax.text(0.5, 0.5, "No study that reports its uncertainty\nanswers this question yet", ha="center", va="center",
                fontsize=13, transform=ax.transAxes)
        attach(fig, pd.DataFrame({"lines_with_a_study_with_uncertainty": [0]}))
        return fig
    rows = len(table) + table["line"].nunique()
    fig, ax = new_figure(figsize=(width, max(2.4, 0.42 * rows + 1.0)))
    y, ticks, labels = rows, [], []
    for line, group in table.groupby("line", sort=False):
        ax.annotate(textwrap.fill(line, 44), (0.02, y), xycoords=("figure fraction", "data"), ha="left",
                    va="center", fontsize=12, fontweight="bold", annotation_clip=False)
        y -= 1
        for r in group.itertuples():
            if r.kind == "study":
                ax.hlines(y, r.ci_low, r.ci_high, color="black", lw=1.2)
                ax.scatter([r.estimate], [y], marker="s", s=40, color=ACCENT, zorder=3)
                labels.append(str(r.row))
            else:
                if r.kind == "pooled":
                    ax.fill([r.ci_low, r.estimate, r.ci_high, r.estimate], [y, y + 0.3, y, y - 0.3], color=ACCENT,
                            zorder=3)
                    if np.isfinite(r.pi_low):
                        ax.hlines(y - 0.42, r.pi_low, r.pi_high, color=SECOND, lw=2.5)
                else:
                    ax.hlines(y, r.ci_low, r.ci_high, color=ACCENT, lw=2.5)
                    ax.scatter([r.estimate], [y], marker="s", s=70, facecolor="white", edgecolor=ACCENT, lw=2,
                               zorder=3)
                labels.append("weighed")
            ticks.append(y)
            y -= 1
    ax.axvline(0, color=GREY, lw=1, ls=":")
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels, fontsize=12)
    ax.tick_params(axis="x", labelsize=12)
    ax.set_xlabel(xlabel, fontsize=12)
    ax.set_ylim(y + 0.3, rows + 0.7)
    if title:
        ax.set_title(title, fontsize=13)
    fig.tight_layout()
    attach(fig, table, layout="y")  # rows are positions; the data are the estimates and intervals on x
    return fig


GRADE_COLOURS = {"high": "#1a7f37", "moderate": "#4f9a3a", "low": "#d29922", "very low": "#cf222e", "": "#d9d9d9"}


def gap_map_plot(table: pd.DataFrame, rows, columns, width: float = 6.4):
    """The evidence gap map: contrasts by outcome, each cell a bubble whose area is the number of studies
    with uncertainty and whose colour is the certainty such a study's estimate starts with; an empty cell
    is an empty circle (studies without uncertainty) or nothing (no study at all)."""
    rows, columns = list(rows), list(columns)
    fig, ax = new_figure(figsize=(width, 0.55 * len(rows) + 2.6))
    biggest = max(1, int(table["studies_with_uncertainty"].max()))
    for r in table.itertuples():
        x, y = columns.index(r.outcome), len(rows) - 1 - rows.index(r.contrast)
        if r.studies_with_uncertainty:
            size = 150 + 850 * r.studies_with_uncertainty / biggest
            ax.scatter([x], [y], s=size, color=GRADE_COLOURS[r.certainty], edgecolor="black", lw=0.6, zorder=3)
            ax.annotate(str(r.studies_with_uncertainty), (x, y), ha="center", va="center", fontsize=11,
                        color="white" if r.certainty in ("high", "very low", "moderate") else "black", zorder=4)
        elif r.studies:
            ax.scatter([x], [y], s=150, facecolor="white", edgecolor=GREY, lw=1, zorder=3)
    ax.set_xticks(range(len(columns)))
    ax.set_xticklabels(columns, rotation=40, ha="right", fontsize=11)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(list(reversed(rows)), fontsize=11)
    ax.set_xlim(-0.6, len(columns) - 0.4)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.grid(color=LIGHT, lw=0.6)
    ax.set_axisbelow(True)
    handles = [ax.scatter([], [], s=120, color=GRADE_COLOURS[g], edgecolor="black", lw=0.6, label=g)
               for g in ("high", "moderate", "low", "very low")]
    handles.append(ax.scatter([], [], s=120, facecolor="white", edgecolor=GREY, label="no uncertainty"))
    ax.legend(handles=handles, title="certainty", fontsize=10, title_fontsize=10, loc="upper center",
              bbox_to_anchor=(0.45, -0.42), ncol=3, frameon=False)
    fig.tight_layout()
    attach(fig, table, layout=("x", "y"))
    return fig


def _excluded_text(stage: pd.DataFrame) -> str:
    """A PRISMA exclusion box's body: the stage's excluded records in all, then one line per reason."""
    out = stage[stage["box"].str.startswith("excluded: ")]
    lines = "\n".join(f"{b[len('excluded: '):]}: {n}" for b, n in zip(out["box"], out["count"]))
    return f"{int(out['count'].sum()):,}\n{lines}"


def prisma_flow(table: pd.DataFrame, width: float = 6.4):
    """The PRISMA 2020 flow diagram of the documented search, drawn from its table
    (:func:`tracking_evidence.analyses.prisma.flow_table`): the main flow down the left (identified,
    screened, sought, assessed, included), what left at each step on the right, with its reasons."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    count = dict(zip(table["box"], table["count"]))
    by_stage = {stage: group for stage, group in table.groupby("stage", sort=False)}
    fig = plt.figure(figsize=(width, 8.6), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 12.4)
    ax.axis("off")

    def box(x, y, w, h, text, fill="#eef3f8"):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05", fc=fill, ec="#1f5a96", lw=1))
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=10.5, wrap=True)

    def arrow(x0, y0, x1, y1):
        ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(arrowstyle="->", color="#333333", lw=1))

    collections = by_stage["identification"]
    sources = "; ".join(f"{b.split(': ')[1]} {n}" for b, n in zip(collections["box"], collections["count"])
                        if b.startswith("records identified: "))
    box(0.2, 10.6, 4.6, 1.5, f"Records identified\n{count['records identified']:,}\n({sources})")
    box(5.4, 10.6, 4.4, 1.5, f"Duplicates removed\n{count['duplicates removed']:,}", "#f4f4f4")
    arrow(4.8, 11.35, 5.4, 11.35)
    box(0.2, 8.3, 4.6, 1.4, f"Records screened\n{count['records screened']:,}")
    arrow(2.5, 10.6, 2.5, 9.7)
    box(5.4, 7.7, 4.4, 2.6, f"Excluded at screening\n{_excluded_text(by_stage['screening'])}", "#f4f4f4")
    arrow(4.8, 9.0, 5.4, 9.0)
    box(0.2, 6.2, 4.6, 1.2, f"Reports sought\n{count['reports sought']:,}")
    arrow(2.5, 8.3, 2.5, 7.4)
    box(5.4, 6.2, 4.4, 1.2, f"Full text not in the store\n{count['reports not retrieved']:,}", "#f4f4f4")
    arrow(4.8, 6.8, 5.4, 6.8)
    box(0.2, 4.1, 4.6, 1.2, f"Reports assessed\n{count['reports assessed']:,}")
    arrow(2.5, 6.2, 2.5, 5.3)
    box(5.4, 3.8, 4.4, 1.8, f"Excluded at eligibility\n{_excluded_text(by_stage['eligibility'])}", "#f4f4f4")
    arrow(4.8, 4.7, 5.4, 4.7)
    box(0.2, 1.6, 4.6, 1.6, f"Included\n{count['reports included']} reports, rows of\n{count['new studies included']} "
                            f"studies ({count['new studies with uncertainty']} with uncertainty)", "#dff0e0")
    arrow(2.5, 4.1, 2.5, 3.2)
    box(5.4, 1.6, 4.4, 1.6, f"In the table\n{count['studies in the table']} studies ({count['studies of the first round']} "
                            f"of the first round);\n{count['studies with uncertainty in the table']} with uncertainty, "
                            f"{count['rows with uncertainty in the table']} rows", "#dff0e0")
    attach(fig, table, layout=("x", "y"))  # boxes and arrows are layout; the counts are the table's
    return fig
