"""The sentence map: the splitting rule on the texts' tricky cases, and data/source-sentences.csv
checked against the sources and the claims registry."""

from __future__ import annotations

import csv
import io

import pytest

from tracking_evidence.data import claims, sentences
from tracking_evidence.data import DataError
from tracking_evidence.data.sentences import body, split_units


def _texts(text: str) -> list[str]:
    return [unit.text for unit in split_units(text)]


# --- the rule ------------------------------------------------------------------------------

def test_body_drops_the_header_block():
    assert body("Title: x\nAuthor: y\n---\nFirst. Second.\n") == "First. Second.\n"
    with pytest.raises(ValueError, match="no header block"):
        body("Title: x\nFirst.\n")


def test_a_number_glued_to_a_name_does_not_split():
    text = ("In a\u00a0random-effects meta-analysis published in early 2023 by\u00a0Terrin and Triventi53 "
            "publications from 2000 to 2021 were reviewed. Next sentence.")
    assert _texts(text) == [text[: text.index(" Next")], "Next sentence."]


def test_decimals_p_values_and_curly_quotes_do_not_split():
    text = ("The meta-analysis found a statistically nonsignificant mean effect size of tracking (Hedge’s G = -.063) "
            "on students’ overall achievement level, and a statistically significant mean effect size "
            "(Hedge’s G = .117, p < 0.001) for educational inequality. The results suggest a consensus.")
    units = _texts(text)
    assert len(units) == 2
    assert units[0].endswith("for educational inequality.") and "p < 0.001" in units[0]


def test_closing_quotes_stay_with_their_sentence():
    assert _texts("They call it “advanced.” Others do not.") == ["They call it “advanced.”", "Others do not."]
    assert _texts("It is “high-ability” students in one room. “Low-ability” ones are in another.") == [
        "It is “high-ability” students in one room.", "“Low-ability” ones are in another."]


def test_abbreviations_initials_and_lower_case_do_not_split():
    assert _texts("Terrin, E. & Triventi, M. (2023). The Effect of School Tracking.") == [
        "Terrin, E. & Triventi, M. (2023).", "The Effect of School Tracking."]
    assert len(_texts("Schools differ, e.g. Catholic schools. Studies by Slavin et al. agree. So do others.")) == 3
    assert _texts("It ends here. and this is not a new sentence.") == ["It ends here. and this is not a new sentence."]


def test_headings_items_and_lists_are_units():
    text = ("By Lili Li, Johns Hopkins University\n\nIt has two severe flaws:\n\n"
            "Weak to nonexistent evidence that de-tracking enhances equity.\n\nWhat is detracking?\n\n"
            "Benefits of detracking\n\nThe first – with a dash; and a semicolon – is one sentence.\n")
    units = split_units(text)
    assert [(u.kind, u.paragraph) for u in units] == [
        ("heading", 1), ("sentence", 2), ("sentence", 3), ("sentence", 4), ("heading", 5), ("sentence", 6)]
    assert units[1].text == "It has two severe flaws:"


def test_units_are_word_for_word_pieces_of_the_body_in_order():
    for source in "ABC":
        text = body(claims.source_text(source))
        units = sentences.source_units(source)
        assert units, source
        position = 0
        for unit in units:
            assert text[unit.start:unit.end] == unit.text
            assert text[position:unit.start].strip() == "", (source, unit.text)
            position = unit.end
        assert text[position:].strip() == ""


def test_splitting_is_deterministic():
    text = body(claims.source_text("C"))
    assert split_units(text) == split_units(text)


# --- the table -----------------------------------------------------------------------------

def test_every_unit_of_every_source_is_in_the_table_once_in_order():
    table = sentences.load_sentences()
    for source in "ABC":
        rows = table[table["source"] == source]
        units = sentences.source_units(source)
        assert list(rows["sentence"]) == [unit.text for unit in units]
        assert list(rows["n"]) == list(range(1, len(units) + 1))
        assert list(rows["paragraph"]) == [unit.paragraph for unit in units]


def test_every_claim_is_held_by_sentences_that_contain_its_quote():
    table = sentences.load_sentences()
    registry = claims.load_claims().set_index("id")
    spans = sentences.claim_spans(table)
    assert set(spans) == set(registry.index)
    for claim_id, (source, numbers) in spans.items():
        assert registry.loc[claim_id, "source"] == source
        held = " ".join(table[(table["source"] == source) & table["n"].isin(numbers)]["sentence"])
        assert registry.loc[claim_id, "quote"] in held, claim_id


def test_reasons_are_from_the_closed_list_and_exclusive_with_claims():
    table = sentences.load_sentences()
    for row in table.itertuples():
        assert bool(row.claim_ids) != (row.not_claim_reason is not None), (row.source, row.n)
        if row.not_claim_reason is not None:
            assert row.not_claim_reason in sentences.REASONS
        assert row.note.strip()


# --- bad input gets a clear error ------------------------------------------------------------

def _edit(folder, change):
    path = folder / "source-sentences.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    change(rows)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _row(rows, source, n):
    return next(i for i, r in enumerate(rows) if r[0] == source and r[1] == str(n))


def _set(source, n, column, value, *more):
    """An edit of one cell (source, n, column, value), or of several: more quadruples follow."""
    edits = [(source, n, column, value)] + [tuple(more[i:i + 4]) for i in range(0, len(more), 4)]

    def change(rows):
        for s, k, col, val in edits:
            rows[_row(rows, s, k)][rows[0].index(col)] = val
    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_set("B", 3, "sentence", "Tracking is the practice of sorting students."),
         r"line 9, column 'sentence': unit 3 of source B is not word for word"),
        (_set("B", 3, "not_claim_reason", "obvious"), r"line 9, column 'not_claim_reason': 'obvious' is not one of"),
        (_set("B", 3, "claims", "B1"), r"line 9: holds claims and a not-claim reason"),
        (_set("B", 1, "claims", ""), r"line 7: holds no claim and gives no reason"),
        (_set("B", 1, "claims", "B99"), r"line 7, column 'claims': claim 'B99' is not in claims\.csv"),
        (_set("B", 1, "claims", "C1"), r"line 7, column 'claims': claim 'C1' belongs to source C, not B"),
        (_set("B", 1, "claims", "B1;B1"), r"line 7, column 'claims': a claim id is listed twice"),
        (_set("B", 2, "n", "5"), r"line 8, column 'n': n is 5 where unit 2 of source B is expected"),
        (_set("B", 2, "paragraph", "7"), r"line 8, column 'paragraph': unit 2 of source B sits on body line 2"),
        (lambda rows: rows.pop(_row(rows, "C", 34)), r"source C has 34 units; the table lists 33"),
        (lambda rows: rows.insert(2, rows.pop(_row(rows, "B", 1))),
         r"line 4, column 'source': source A after source B"),
        (_set("B", 1, "note", ""), r"line 7, column 'note': missing value"),
        (_set("A", 5, "claims", "", "A", 5, "not_claim_reason", "signpost"),
         r"column 'claims': claim\(s\) \['A5'\] of claims\.csv are held by no sentence"),
        (_set("A", 2, "claims", "A2", "A", 3, "claims", "A1"),
         r"line 3, column 'claims': the quote of claim A2 does not lie inside its sentence\(s\) \[2\] of source A"),
        (_set("A", 5, "claims", "A5;A2"), r"line 4, column 'claims': the sentences of claim A2 are not consecutive"),
        (lambda rows: rows.insert(_row(rows, "A", 5) + 1, ["A", "6", "3", "An invented sentence.", "", "heading", "x"]),
         r"line 7: source A has 5 units; this row is one too many"),
    ],
)
def test_bad_table_is_refused_with_file_and_line(data_copy, change, message):
    _edit(data_copy, change)
    with pytest.raises(DataError, match=r"^source-sentences\.csv(, |: )" + message):
        sentences.load_sentences(data_copy)


# --- the source pages' HTML (the browser tests check the built pages) -------------------------

def _ledger(**extra):
    table = claims.load_claims()
    table["verdict"] = "mixed"
    table["headline"] = "x"
    for column, value in extra.items():
        table[column] = value
    return table


def test_source_html_marks_claims_and_reasons():
    from tracking_evidence.site import source_pages

    page = source_pages.text_html("B", _ledger())
    assert page.count('class="src-unit') == len(sentences.source_units("B"))
    assert page.count('<a class="src-id"') == sum(len(ids) for ids in sentences.load_sentences()
                                                 .query("source == 'B'")["claim_ids"])
    assert 'id="src-b-3"' in page and "definition" in page and "signpost" in page
    assert 'href="reanalysis.html#' in page  # B6's section exists today
    assert "certainty" not in page


def test_source_html_shows_certainty_when_the_ledger_has_it():
    from tracking_evidence.site import source_pages

    page = source_pages.text_html("A", _ledger(certainty="moderate"))
    assert page.count("certainty: moderate") == 5
    table = _ledger(certainty=None)
    assert "certainty" not in source_pages.text_html("A", table)


def test_source_html_escapes_and_refuses_unknown_claims():
    from tracking_evidence.site import source_pages

    table = _ledger()
    table.loc[table["id"] == "A1", "claim"] = 'a "quoted" <b>claim</b>'
    page = source_pages.text_html("A", table)
    assert "&lt;b&gt;claim&lt;/b&gt;" in page and "<b>claim" not in page
    with pytest.raises(ValueError, match=r"claims \['A5'\] of source A are not in the ledger table"):
        source_pages.text_html("A", table[table["id"] != "A5"])
    with pytest.raises(KeyError, match="no units for source 'D'"):
        source_pages.text_html("D", table)


def test_reasons_table_counts_every_unit():
    from tracking_evidence.site import source_pages

    for source in "ABC":
        counts = source_pages.reasons_table(source)
        assert counts["sentences"].sum() == len(sentences.source_units(source))
        glued = source_pages.counts(source)
        assert glued["claim_units"] + glued["plain_units"] == glued["units"]
