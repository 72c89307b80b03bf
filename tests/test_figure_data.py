"""Each figure's data as a CSV: the check that the table holds what the figure draws (and fails when
it does not), the files written, and the built site's download links (`make book` first)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tracking_evidence.stats import bias, meta
from tracking_evidence.site import figure_data, plots  # noqa: E402

from .conftest import ROOT  # noqa: E402

HTML = ROOT / "_build" / "html"
FIG_NAME = re.compile(r"^\s+name: (fig-[a-z0-9-]+)$", re.M)
DOWNLOAD = re.compile(r"\{download\}`[^`<]*</_build/figure-data/([a-z0-9-]+\.(?:csv|json))>`")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def out(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TRACKING_FIGURE_DATA", str(tmp_path / "figure-data"))
    return tmp_path / "figure-data"


def _intervals():
    table = pd.DataFrame({"position": [1.0, 2.0, 3.0], "estimate": [0.1, 0.25, 0.3],
                          "ci_low": [0.0, 0.1, 0.2], "ci_high": [0.2, 0.4, 0.45], "threshold": 0.15})
    fig, ax = plt.subplots()
    ax.scatter(table["position"], table["estimate"])
    ax.vlines(table["position"], table["ci_low"], table["ci_high"])
    ax.axhline(0.15)
    ax.fill_between(table["position"], table["ci_low"], table["ci_high"], alpha=0.2)
    return fig, ax, table


# --- the check ----------------------------------------------------------------------------------


def test_a_table_holding_every_drawn_number_passes():
    fig, _, table = _intervals()
    figure_data.check_covers(fig, table)


@pytest.mark.parametrize("extra", ["reference line", "point", "interval end", "span"])
def test_a_number_drawn_but_not_tabled_is_named(extra):
    fig, ax, table = _intervals()
    if extra == "reference line":
        ax.axhline(0.17)
    elif extra == "point":
        ax.plot([2.0], [0.33], "o")
    elif extra == "interval end":
        ax.vlines([3.0], [0.2], [0.47])
    else:
        ax.axvspan(1.0, 2.5)
    with pytest.raises(ValueError, match="does not hold") as error:
        figure_data.check_covers(fig, table, name="fig-test")
    assert "fig-test" in str(error.value)


def test_a_changed_value_fails_even_when_the_columns_are_all_there():
    fig, _, table = _intervals()
    changed = table.copy()
    changed.loc[1, "estimate"] = 0.2500001
    with pytest.raises(ValueError, match=r"y=0\.25"):
        figure_data.check_covers(fig, changed)


def test_layout_positions_are_left_out_only_where_declared():
    table = pd.DataFrame({"group": ["a", "b", "c"], "value": [3.0, -1.5, 2.0]})
    fig, ax = plt.subplots()
    ax.bar(range(3), table["value"], width=0.6)
    with pytest.raises(ValueError, match="axes 0 x="):
        figure_data.check_covers(fig, table)  # the bars' slots (0 +- 0.3, ...) are not in the table
    figure_data.check_covers(fig, table, layout="x")
    figure_data.check_covers(fig, table, layout={0: ("x",)})
    with pytest.raises(ValueError, match="layout"):
        figure_data.check_covers(fig, table, layout="z")


def test_stacked_bars_are_covered_by_their_lengths_not_their_cumulative_ends():
    table = pd.DataFrame({"part": ["p", "q", "r"], "count": [2, 5, 4]})
    fig, ax = plt.subplots()
    ax.barh([0, 0, 0], table["count"], left=[0, 2, 7])
    figure_data.check_covers(fig, table, layout="y")
    with pytest.raises(ValueError):
        figure_data.check_covers(fig, table.assign(count=[2, 5, 3]), layout="y")


def test_a_colour_mesh_must_hold_its_values():
    grid = pd.DataFrame({"x_edge": [0.0, 1.0, 2.0], "y_edge": [0.0, 1.0, 2.0]})
    values = np.array([[0.1, 0.2], [0.3, 0.4]])
    fig, ax = plt.subplots()
    mesh = ax.pcolormesh(grid["x_edge"], grid["y_edge"], values)
    fig.colorbar(mesh, ax=ax)  # the colour bar is a scale, not data
    with pytest.raises(ValueError, match="value"):
        figure_data.check_covers(fig, grid)
    figure_data.check_covers(fig, pd.concat([grid, pd.DataFrame({"share": values.ravel()})], ignore_index=True))


# --- the files ----------------------------------------------------------------------------------


def test_export_writes_the_table_and_it_reads_back_equal(out):
    fig, _, table = _intervals()
    path = figure_data.export(fig, "fig-test", table)
    assert path == out / "fig-test.csv"
    pd.testing.assert_frame_equal(pd.read_csv(path), table, check_dtype=False)


def test_export_refuses_what_it_cannot_write_well(out):
    fig, _, table = _intervals()
    with pytest.raises(ValueError, match="keeps none"):
        figure_data.export(fig, "fig-test")
    with pytest.raises(ValueError, match="name"):
        figure_data.export(fig, "fig-test", table.rename(columns={"estimate": "Unnamed: 1"}))
    with pytest.raises(ValueError, match="lower-case"):
        figure_data.export(fig, "Fig Test", table)
    with pytest.raises(ValueError, match="non-empty"):
        figure_data.export(fig, "fig-test", table.iloc[0:0])
    assert not (out / "fig-test.csv").exists()


def test_json_records(out):
    table = pd.DataFrame({"id": ["A1", "B2"], "robustness": [0.5, 1.0]})
    path = figure_data.export_table(table, "ledger", suffix="json")
    assert json.loads(path.read_text()) == [{"id": "A1", "robustness": 0.5}, {"id": "B2", "robustness": 1.0}]


def test_output_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKING_FIGURE_DATA", raising=False)
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    (book / "_config.yml").write_text("title: x\n")
    (book / "_toc.yml").write_text("root: intro\n")
    monkeypatch.chdir(book / "chapters")
    assert figure_data.output_directory() == (book / figure_data.DOWNLOAD_DIR).resolve()
    elsewhere = tmp_path / "student"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert figure_data.output_directory() == elsewhere.resolve() / "figure-data"


# --- the book's plotting functions keep tables that cover what they draw -----------------------


def _studies():
    rng = np.random.default_rng(20261126)
    return rng.normal(0.2, 0.3, 15), rng.uniform(0.01, 0.08, 15)


def _library_figures():
    y, v = _studies()
    result = meta.pool(y, v, method="REML", knha=True)
    from scipy import stats

    p_values = 2 * stats.norm.sf(np.abs(y) / np.sqrt(v))
    return {
        "forest": plots.forest(y, v, [f"study {i}" for i in range(y.size)], result),
        "caterpillar": plots.caterpillar(y, v, result, highlight=y > 0.2),
        "funnel": plots.funnel(bias.funnel_data(y, v), bias.trimfill(y, v)),
        "pcurve": plots.pcurve_plot(bias.pcurve(p_values)),
    }


@pytest.mark.parametrize("kind", ["forest", "caterpillar", "funnel", "pcurve"])
def test_library_figures_keep_tables_that_cover_them(kind, out):
    fig = _library_figures()[kind]
    table, layout = fig.tracking_figure_data
    assert not table.empty
    path = figure_data.export(fig, f"fig-{kind}")
    assert len(pd.read_csv(path)) == len(table)
    # the same figure with one kept number changed no longer passes: the check is not vacuous
    numeric = table.select_dtypes("number").columns
    broken = table.copy()
    broken[numeric] = broken[numeric] + 0.123
    with pytest.raises(ValueError, match="does not hold"):
        figure_data.check_covers(fig, broken, layout)


def test_verdict_summary_keeps_its_counts():
    ledger = pd.DataFrame({"source": ["A", "A", "B"], "verdict": ["supported", "modelled", "supported"],
                           "certainty": ["low", "", "high"]})
    fig = plots.verdict_summary(ledger)
    table, layout = fig.tracking_figure_data
    assert table["claims"].sum() == 2 * len(ledger)
    figure_data.check_covers(fig, table, layout)


# --- the built site ------------------------------------------------------------------------------


def _sources() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in sorted((ROOT / "book").rglob("*.md"))
            if "_build" not in p.parts}


def test_every_named_figure_has_a_download_link_in_its_page():
    missing = []
    for page, text in _sources().items():
        linked = {name.removesuffix(".csv") for name in DOWNLOAD.findall(text)}
        missing += [f"{page}: {name}" for name in FIG_NAME.findall(text) if name not in linked]
    assert not missing, f"figures without a data link: {missing}"


def _downloads() -> dict[str, Path]:
    folder = HTML / "_downloads"
    if not folder.exists():
        pytest.fail("no _build/html/_downloads: run `make book` (make test does) first")
    return {p.name: p for p in folder.rglob("*") if p.suffix in (".csv", ".json")}


def test_every_linked_csv_is_in_the_site_and_reads_as_a_table():
    shipped = _downloads()
    linked = sorted({name for text in _sources().values() for name in DOWNLOAD.findall(text)})
    assert len(linked) >= 30
    for name in linked:
        assert name in shipped, f"{name} is linked but not in the site's _downloads"
        if name.endswith(".csv"):
            table = pd.read_csv(shipped[name])
            assert len(table) > 0, name
            assert not [c for c in table.columns if c.startswith("Unnamed")], name
            # the shipped file is the one the figure's check passed on
            assert shipped[name].read_bytes() == (ROOT / figure_data.DOWNLOAD_DIR / name).read_bytes(), name


def test_the_pages_link_their_csv_files():
    for page, text in _sources().items():
        names = DOWNLOAD.findall(text)
        if not names:
            continue
        html = (HTML / page).with_suffix(".html").read_text(encoding="utf-8")
        for name in names:
            assert re.search(rf'href="[^"]*_downloads/[0-9a-f]+/{re.escape(name)}"', html), f"{page}: {name}"


def test_the_ledger_downloads_hold_every_claim():
    from tracking_evidence.site import ledger as claims_ledger

    shipped = _downloads()
    ledger = claims_ledger.ledger()
    as_csv = pd.read_csv(shipped["ledger.csv"], keep_default_na=False)
    as_json = pd.DataFrame(json.loads(shipped["ledger.json"].read_text(encoding="utf-8")))
    for table in (as_csv, as_json):
        assert list(table["id"]) == list(ledger["id"])
        assert list(table["verdict"]) == list(ledger["verdict"])
        np.testing.assert_allclose(table["robustness"].astype(float), ledger["robustness"].astype(float))
