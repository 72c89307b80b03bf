"""Tests of the summary page's words: every branch of the effect words, the EEF conversion, the bottom
line, interventions that point two ways, and the gap map; and that one changed evidence row changes
the sentence and the map (nothing on the page is typed)."""

from __future__ import annotations

import pandas as pd
import pytest

from tracking_evidence.data.evidence import load_evidence
from tracking_evidence.site import summary

SESOI = 0.05


@pytest.mark.parametrize(("estimate", "lo", "hi", "kind", "words"), [
    (0.01, -0.02, 0.03, "achievement", "about zero: no effect large enough to matter"),
    (0.30, 0.10, 0.50, "achievement", "a large gain"),
    (0.10, 0.06, 0.14, "achievement", "a medium-sized gain"),
    (0.10, 0.01, 0.19, "achievement", "a medium-sized gain, though it could be too small to matter"),
    (0.03, 0.01, 0.05, "achievement", "a gain, perhaps too small to matter"),
    (-0.30, -0.50, -0.10, "achievement", "a large loss"),
    (-0.10, -0.19, -0.01, "achievement", "a medium-sized loss, though it could be too small to matter"),
    (-0.03, -0.05, -0.01, "achievement", "a loss, perhaps too small to matter"),
    (-0.05, -0.12, 0.03, "achievement", "no worthwhile gain (a loss is not ruled out)"),
    (0.05, -0.03, 0.12, "achievement", "no worthwhile loss (a gain is not ruled out)"),
    (0.0, -0.2, 0.2, "achievement", "unclear: the evidence allows anything from a loss to a gain"),
    (0.12, 0.001, 0.23, "inequality", "widens inequality, though it could be too small to matter"),
    (0.30, 0.10, 0.50, "inequality", "widens inequality"),
    (-0.30, -0.50, -0.10, "inequality", "narrows inequality"),
    (0.0, -0.2, 0.2, "inequality", "unclear: the evidence allows anything from a narrowing to a widening"),
    (0.30, 0.10, 0.50, "socio-emotional", "a gain"),
])
def test_effect_words_reach_every_branch(estimate, lo, hi, kind, words):
    assert summary.effect_words(estimate, lo, hi, SESOI, kind) == words


def test_effect_words_need_an_interval():
    with pytest.raises(ValueError, match="finite interval"):
        summary.effect_words(0.1, float("nan"), 0.2, SESOI)


@pytest.mark.parametrize(("size", "word"), [(0.0, "small"), (0.049, "small"), (0.05, "medium-sized"),
                                            (0.199, "medium-sized"), (0.20, "large"), (-0.25, "large")])
def test_size_words_are_krafts_benchmarks(size, word):
    assert summary.size_word(size) == word


@pytest.mark.parametrize(("es", "months"), [(0.0, 0), (0.01, 0), (0.02, 1), (0.09, 1), (0.10, 2), (0.19, 3),
                                            (0.44, 5), (0.45, 6), (1.00, 12), (1.8, 12), (-0.15, -2), (-0.02, -1)])
def test_months_of_progress_follow_the_eef_table(es, months):
    assert summary.months_of_progress(es) == months


# ---------------------------------------------------------------- the book's own answers


def test_every_question_has_a_sentence_and_the_bottom_line_four():
    items = summary.answers()
    assert [a.question.protocol for a in items] == [f"Q{i}" for i in range(1, 9)]
    for a in items:
        assert a.sentence.startswith(a.question.title)
        assert a.sentence.endswith(".")
    assert len(summary.bottom_line()) == 4


def test_inequality_is_never_in_months_or_size_words():
    q5 = next(a for a in summary.answers() if a.question.protocol == "Q5")
    for line in q5.lines:
        assert line.months is None
        assert not any(w in line.words for w in ("small", "medium", "large"))
        if line.decides:
            assert "SD of the inequality measure" in line.numbers()


def test_certainty_is_graded_in_the_estimates_own_direction():
    """Tracking's effect on the average student and detracking's mirror of it are one body of evidence:
    the same certainty either way round."""
    by = {a.question.protocol: a for a in summary.answers()}
    forward = by["Q4"].line("course tracking")
    mirror = next(a for a in by["Q6"].lines if a.line.key == "detrack_mean" and a.line.contrast == "course tracking")
    assert forward.synthesis.estimate == pytest.approx(-mirror.synthesis.estimate)
    assert forward.certainty.level == mirror.certainty.level


def test_interventions_that_point_two_ways_are_both_reported():
    q6 = next(a for a in summary.answers() if a.question.protocol == "Q6")
    if q6.opposing is None:
        pytest.skip("the detracking lines do not point two ways at the default")
    assert "points two ways" in q6.sentence
    assert q6.lead.line.label[:20].lower() in q6.sentence.lower()
    assert q6.opposing.line.label in q6.sentence


# ---------------------------------------------------------------- one changed row changes the page


@pytest.fixture(scope="module")
def evidence():
    return load_evidence()


def _q7(evidence):
    return summary.answer(next(q for q in summary.QUESTIONS if q.protocol == "Q7"), evidence=evidence)


def test_an_answer_from_a_copy_equals_the_books(evidence):
    book = next(a for a in summary.answers() if a.question.protocol == "Q7")
    assert _q7(evidence).sentence == book.sentence


def test_one_changed_row_changes_the_sentence(evidence):
    before = _q7(evidence)
    row = before.lead.synthesis.rows["id"].iloc[0]
    changed = evidence.copy()
    i = changed.index[changed["id"] == row][0]
    changed.loc[i, "estimate_role"] = "alternative specification"  # the row no longer decides
    after = _q7(changed)
    assert after.sentence != before.sentence
    assert after.lead.synthesis.k == before.lead.synthesis.k - 1


def test_one_changed_row_changes_the_gap_map(evidence):
    before = summary.gap_map(evidence).set_index(["contrast", "outcome"])
    from tracking_evidence.analyses.synthesis import with_effects

    changed = evidence.copy()
    effects = with_effects(evidence)
    i = effects.index[(effects["contrast"] == "within-class grouping") & (effects["estimate_role"] == "primary")
                      & (effects["construct"] == "mean achievement") & (effects["setting"] == "K-12")
                      & effects["has_uncertainty"]][0]
    changed.loc[i, "setting"] = "other"
    after = summary.gap_map(changed).set_index(["contrast", "outcome"])
    cell = ("within-class grouping", "all students")
    assert after.loc[cell, "rows_with_uncertainty"] == before.loc[cell, "rows_with_uncertainty"] - 1
    assert not after.equals(before)
    others = before.index.difference([cell])
    pd.testing.assert_frame_equal(after.loc[others], before.loc[others])


def test_gap_map_covers_every_cell_and_grades_only_where_uncertainty_is(evidence):
    table = summary.gap_map(evidence)
    assert len(table) == len(summary.GAP_ROWS) * len(summary.GAP_COLUMNS)
    assert ((table["certainty"] == "") == (table["studies_with_uncertainty"] == 0)).all()
    assert (table["studies_with_uncertainty"] <= table["studies"]).all()


def test_a_statement_of_significance_is_put_in_words_by_its_direction_only():
    """Terrin & Triventi's inequality G ('significantly positive', no level): the book's 95% interval crosses
    zero, the statement at its own level does not, so the sentence gives the direction and says the size is
    not known; tested at the book's level (the declared alternative) the interval's own words return."""
    assert summary.significance_words(0.12, "inequality").startswith("widens inequality")
    assert summary.significance_words(-0.2, "achievement").startswith("a loss")
    spec = summary.default_spec()
    q = next(q for q in summary.QUESTIONS if q.kind == "inequality" and any(
        line.key == "inequality_pooled" for line in q.lines))
    line = next(a for a in summary.answer(q, spec).lines if a.line.key == "inequality_pooled")
    assert line.synthesis.ci_low < 0 < line.synthesis.ci_high
    assert "how much is not known" in line.words
    strict = summary.answer(q, {**spec, "significance_tested_at": "the book's level"})
    assert "how much is not known" not in next(a for a in strict.lines if a.line.key == "inequality_pooled").words
