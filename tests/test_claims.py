"""The claims registry: quotes verbatim in their sources, chapters real; the ledger contract."""

from __future__ import annotations

import csv

import pytest
import yaml

from tracking_evidence.data import claims
from tracking_evidence.site import ledger as claims_ledger
from tracking_evidence.data import DataError

from .conftest import DATA, ROOT


def _toc_files() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = {toc["root"]}
    for part in toc["parts"]:
        files.update(chapter["file"] for chapter in part["chapters"])
    return files


def test_every_quote_is_verbatim_in_its_source():
    registry = claims.load_claims()
    for row in registry.itertuples():
        assert row.quote in claims.source_text(row.source), row.id


def test_sources_cover_the_three_texts_with_address_and_date():
    sources = claims.load_sources()
    assert sorted(sources["source"]) == ["A", "B", "C"]
    assert sources["address"].str.len().gt(10).all()
    assert sources["date_read"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    for row in sources.itertuples():
        assert (DATA / "sources" / row.file).exists()


def test_registry_has_no_verdict_column():
    # verdicts are computed, never typed into the CSV
    with open(DATA / "claims.csv", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert "verdict" not in header and "headline" not in header


def test_every_claim_names_a_chapter_of_the_book():
    registry = claims.load_claims()
    toc = _toc_files()
    for row in registry.itertuples():
        assert f"book/{row.chapter.removesuffix('.md')}" in toc, (row.id, row.chapter)


def test_registry_covers_the_three_sources_and_all_claim_types():
    registry = claims.load_claims()
    assert set(registry["source"]) == {"A", "B", "C"}
    assert set(registry["type"]) == set(claims.CLAIM_TYPES)


def test_ledger_columns_and_vocabulary():
    from tracking_evidence.verdicts import VERDICTS

    table = claims_ledger.ledger()
    assert list(table.columns) == claims_ledger.LEDGER_COLUMNS
    assert len(table) == len(claims.load_claims())
    assert set(table["verdict"]) <= set(VERDICTS) | {claims.PENDING}
    assert set(table["certainty"]) <= {"high", "moderate", "low", "very low", "not applicable", ""}
    assert table["headline"].str.strip().str.len().gt(0).all()
    assert table["robustness"].between(0, 1).all()
    assert (table["n_specifications"] >= 1).all()
    # a fragile verdict is one kept by fewer than two thirds of its specifications, and nothing else is
    assert (table["fragile"] == (table["robustness"] < 2 / 3)).all()
    # a verdict that does not hold everywhere names what it is most sensitive to
    moves = table["robustness"] < 1
    assert (table.loc[moves, "most_sensitive_to"].str.len() > 0).all()


def test_every_claim_has_a_rule():
    from tracking_evidence.verdicts import all_rules

    assert set(all_rules()) == set(claims.load_claims()["id"])


def test_ledger_refuses_a_rule_for_an_unknown_claim():
    from tracking_evidence.verdicts import registry

    registry._RULES["Z8"] = registry._RULES["A3"]
    try:
        with pytest.raises(ValueError, match=r"claims not in the registry: \['Z8'\]"):
            claims_ledger.ledger()
    finally:
        registry._RULES.pop("Z8", None)


def test_edited_quote_is_caught(data_copy):
    path = data_copy / "claims.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("quite mixed", "very mixed"), encoding="utf-8")
    with pytest.raises(DataError, match=r"claims\.csv, line \d+: quote of B6 is not found verbatim in source B"):
        claims.check_quotes(data_copy)


def test_duplicate_claim_id_is_caught(data_copy):
    path = data_copy / "claims.csv"
    text = path.read_text(encoding="utf-8").replace("\nA2,", "\nA1,", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match="id 'A1' appears more than once"):
        claims.load_claims(data_copy)


def test_id_must_match_its_source(data_copy):
    path = data_copy / "claims.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("\nA2,A,", "\nA2,B,", 1), encoding="utf-8")
    with pytest.raises(DataError, match="id 'A2' is not source letter 'B' \\+ number"):
        claims.load_claims(data_copy)


def test_unknown_claim_type_is_caught(data_copy):
    path = data_copy / "claims.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",empirical,", ",anecdotal,", 1), encoding="utf-8")
    with pytest.raises(DataError, match="'anecdotal' is not one of"):
        claims.load_claims(data_copy)


def test_chapter_link_and_table_escape_html():
    assert claims_ledger.chapter_link("gaps.md") == '<a href="gaps.html">gaps</a>'
    with pytest.raises(ValueError, match="should name a .md file"):
        claims_ledger.chapter_link("gaps")
    registry = claims.load_claims().head(3).copy()
    registry.loc[0, "quote"] = "a <b>bold</b> & odd quote"
    html = claims_ledger.claims_html(registry, ["id", "quote", "chapter"])
    assert html.count("<tr>") == 3 and 'href="reanalysis.html' in html
    assert "a &lt;b&gt;bold&lt;/b&gt; &amp; odd quote" in html


def test_claim_section_is_the_heading_above_the_verdict_box(tmp_path):
    (tmp_path / "x.md").write_text(
        "# Chapter\n\n## First part\n\n```{code-cell} ipython3\n# a comment, not a heading\nx = 1\n```\n\n"
        ":::{admonition} Verdict on B7\n:class: verdict\nok\n:::\n\n## Second: `code` and *emphasis*\n\n"
        ":::{admonition} Verdict on B77\n:class: verdict\nok\n:::\n",
        encoding="utf-8",
    )
    assert claims_ledger.claim_section("x.md", "B7", tmp_path) == ("First part", "first-part")
    assert claims_ledger.claim_section("x.md", "B77", tmp_path) == ("Second: code and emphasis", "second-code-and-emphasis")
    assert claims_ledger.claim_section("x.md", "B8", tmp_path) is None
    assert claims_ledger.claim_section("missing.md", "B7", tmp_path) is None


def test_verdict_summary_refuses_unknown_verdicts_and_missing_columns():
    import pandas as pd

    from tracking_evidence.site import plots

    with pytest.raises(ValueError, match=r"unknown verdict\(s\) \['likely'\]"):
        plots.verdict_summary(pd.DataFrame({"source": ["A"], "verdict": ["likely"]}))
    with pytest.raises(ValueError, match="no 'verdict' column"):
        plots.verdict_summary(pd.DataFrame({"source": ["A"]}))
    figure = plots.verdict_summary(pd.DataFrame({"source": ["A", "A", "B"], "verdict": ["mixed", "mixed", "pending"]}))
    widths = sorted(round(p.get_width()) for p in figure.axes[0].patches if p.get_width() > 0)
    assert widths == [1, 2]
    with_certainty = plots.verdict_summary(pd.DataFrame({"source": ["A", "B"], "verdict": ["supported", "modelled"],
                                                         "certainty": ["low", "not applicable"]}))
    assert len(with_certainty.axes) == 2
