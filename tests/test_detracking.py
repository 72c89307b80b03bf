"""The detracking chapter's computations, on small synthetic evidence tables.

Every frame built here is a test fixture (ids E9xx, studies "Fixture ..."), not book data.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tracking_evidence import detracking as dt

BASE = dict(
    citation="fixture", study="Fixture", year=2020, country="USA", topic="detracking", design="RCT",
    outcome="test scores", comparison="detracked vs tracked classes", subgroup="all", unit="SD", estimate=0.1,
    se=np.nan, ci_low=np.nan, ci_high=np.nan, p_value=np.nan, quote="fixture quote 0.1", address="https://example.org",
    notes="",
)


def frame(*rows):
    out = []
    for i, row in enumerate(rows):
        record = {**BASE, **row}
        record.setdefault("id", f"E9{i:02d}")
        record["id"] = record.get("id") or f"E9{i:02d}"
        out.append(record)
    table = pd.DataFrame(out)
    return table[list(dt.REQUIRED)]


# --- input checks ------------------------------------------------------------------------------


def test_bad_frames():
    good = frame({})
    with pytest.raises(ValueError, match="lacks column"):
        dt.classify(good.drop(columns="comparison"))
    with pytest.raises(ValueError, match="unknown topic"):
        dt.classify(frame({"topic": "streaming"}))
    with pytest.raises(ValueError, match="unknown design"):
        dt.classify(frame({"design": "anecdote"}))
    with pytest.raises(ValueError, match="not a number"):
        dt.classify(frame({"estimate": "big"}))
    with pytest.raises(ValueError, match="duplicated id"):
        dt.classify(frame({"id": "E901"}, {"id": "E901"}))
    with pytest.raises(ValueError, match="DataFrame"):
        dt.classify([1, 2])


# --- classification ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "comparison, topic, side",
    [
        ("tracked vs less tracked systems", "tracking", -1),
        ("detracked vs tracked groups", "detracking", +1),
        ("tracking schools vs non-tracking schools", "tracking", -1),
        ("separate gifted class vs regular class", "tracking", -1),
        ("three-way tracking vs ability mixing", "tracking", -1),
        ("after vs before the comprehensive school reform", "detracking", +1),
        ("class of 2019 (first cohort under the new sequence) vs the year before", "detracking", +1),
        ("before vs after the reform", "detracking", -1),
        ("Algebra I with training vs remedial pre-algebra class", "detracking", +1),
        ("more tracked vs more detracked schools", "detracking", -1),
        ("programme A vs programme B", "tracking", 0),
        ("pre-reform level", "detracking", None),
    ],
)
def test_side(comparison, topic, side):
    assert dt._side(comparison.lower(), topic) == side


@pytest.mark.parametrize(
    "outcome, kind, polarity",
    [
        ("inequality (dispersion)", "equity", -1),
        ("intergenerational income elasticity", "equity", -1),
        ("social mobility", "equity", +1),
        ("test scores after 18 months", "achievement", +1),
        ("first-year university gpa", "achievement", +1),
        ("dropout rate", "attainment", -1),
        ("participation in ap math", "attainment", +1),
        ("wages", "other", 0),
    ],
)
def test_kind_and_polarity(outcome, kind, polarity):
    assert dt._kind_and_polarity(outcome) == (kind, polarity)


@pytest.mark.parametrize(
    "subgroup, band",
    [("all", "all"), ("low (bottom quartile of high-school scores)", "low or disadvantaged"),
     ("high (gifted)", "high"), ("black and hispanic high achievers", "disadvantaged high achievers"),
     ("males born 1960-1966", "other")],
)
def test_band(subgroup, band):
    assert dt._subgroup_band(subgroup) == band


def test_direction_sign_and_uncertainty():
    c = dt.classify(frame(
        {"topic": "tracking", "comparison": "tracked vs untracked", "estimate": 0.2},  # tracking helps scores
        {"topic": "tracking", "comparison": "tracked vs untracked", "outcome": "inequality", "estimate": 0.1},
        {"topic": "tracking", "comparison": "tracked vs untracked", "estimate": 0.2, "ci_low": -0.1, "ci_high": 0.5},
        {"topic": "tracking", "comparison": "tracked vs untracked", "estimate": 0.2, "se": 0.05},
        {"topic": "tracking", "comparison": "tracked vs untracked", "estimate": 0.2, "se": 0.2},
        {"topic": "tracking", "comparison": "tracked vs untracked", "estimate": 0.2, "p_value": 0.2},
        {"topic": "tracking", "comparison": "tracked vs untracked", "estimate": -0.06,
         "notes": "not statistically significant"},
        {"comparison": "detracked vs tracked", "outcome": "wages"},
        {"comparison": "post-reform level"},
    ))
    assert list(c["direction"]) == [
        "favours more tracking", "favours less tracking", "no clear difference", "favours more tracking",
        "no clear difference", "no clear difference", "no clear difference", "unclassified", "level, not a comparison",
    ]
    assert list(c["uncertainty"][:4]) == ["not reported", "not reported", "interval includes 0", "interval excludes 0"]
    assert c.loc[6, "uncertainty"] == "reported not significant"
    assert list(c["favour"][:2]) == [-1, 1]
    assert len(c) == 9  # nothing dropped


def test_evidence_map_and_design_table():
    c = dt.classify(frame(
        {"citation": "a", "design": "RCT"},
        {"citation": "a", "design": "descriptive"},
        {"citation": "b", "design": "descriptive"},
        {"citation": "c", "design": "meta-analysis"},
        {"citation": "d", "topic": "acceleration"},
    ))
    table = dt.design_table(c)
    counts = dict(zip(table["design"], table["studies"], strict=True))
    assert counts == {"RCT": 1, "quasi-experimental": 0, "descriptive": 1, "meta-analysis": 1, "review": 0}
    emap = dt.evidence_map(c)
    assert emap["rows"].sum() == 4  # the acceleration row is not on the map
    assert dt.evidence_map(c, strong_only=True)["rows"].sum() == 1


# --- pooling -------------------------------------------------------------------------------------


def test_pooling_signs_ses_and_reference():
    # Three RCT studies on the common sign "favour less tracking": a tracked-vs-untracked row with
    # estimate -0.2 counts as +0.2; an interval gives se = width / (2 * 1.96).
    c = dt.classify(frame(
        {"citation": "a", "comparison": "detracked vs tracked", "estimate": 0.2, "se": 0.1},
        {"citation": "b", "topic": "tracking", "comparison": "tracked vs untracked", "estimate": -0.2, "se": 0.1},
        {"citation": "c", "estimate": 0.2, "ci_low": 0.2 - 1.959963984540054 * 0.2, "ci_high": 0.2 + 1.959963984540054 * 0.2},
        {"citation": "c", "subgroup": "low", "estimate": 0.5, "se": 0.1},  # second row of study c: left out
        {"citation": "d", "estimate": 0.3},  # no SE: not poolable
    ))
    cells = dt.pool_by_design(c)
    assert len(cells) == 1
    cell = cells[0]
    assert cell.status == "pooled" and cell.k == 3
    assert cell.left_out == ("E903",)
    # Identical estimates: tau2 = 0 and the pooled value is 0.2 whatever the weights.
    assert cell.estimate == pytest.approx(0.2, abs=1e-6)
    w = np.array([1 / 0.01, 1 / 0.01, 1 / 0.04])
    assert cell.ci_high - cell.estimate == pytest.approx(1.959963984540054 / np.sqrt(w.sum()), rel=1e-4)


def test_pooling_records_inputs_and_cannot_pool_k1():
    seen = {}

    def fake_pool(yi, vi, method):
        seen.update(yi=list(yi), vi=list(vi), method=method)
        return SimpleNamespace(k=len(yi), estimate=0.0, ci_low=0.0, ci_high=0.0, pi_low=0.0, pi_high=0.0,
                               tau2=0.0, i2=0.0)

    c = dt.classify(frame(
        {"citation": "a", "outcome": "inequality", "estimate": -0.1, "se": 0.05},  # detracked lowers inequality
        {"citation": "b", "outcome": "inequality", "estimate": -0.3, "se": 0.1},
        {"citation": "z", "design": "quasi-experimental", "estimate": 0.3, "se": 0.1},
        {"citation": "m", "design": "meta-analysis", "estimate": 0.3, "se": 0.1},
    ))
    cells = {(x.design, x.kind): x for x in dt.pool_by_design(c, pool=fake_pool)}
    assert seen == {"yi": [0.1, 0.3], "vi": [pytest.approx(0.0025), pytest.approx(0.01)], "method": "REML"}
    assert cells[("quasi-experimental", "achievement")].status == "cannot pool (k = 1)"
    assert cells[("meta-analysis", "achievement")].status == "not pooled (synthesis)"
    summary = dt.pool_summary(list(cells.values()))
    assert set(summary["status"]) == {"pooled", "cannot pool (k = 1)", "not pooled (synthesis)"}


# --- B5 counterexamples, C3 gaps, levels -------------------------------------------------------------


def test_counterexamples_rule():
    c = dt.classify(frame(
        {"citation": "a", "subgroup": "low", "estimate": 0.2, "quote": "raised scores 0.2 without lowering peers"},
        {"citation": "b", "subgroup": "low", "estimate": 0.2},
        {"citation": "b", "subgroup": "high", "estimate": -0.3},  # study b harms its high achievers
        {"citation": "c", "subgroup": "low", "estimate": 0.2, "design": "descriptive"},
        {"citation": "d", "subgroup": "low", "estimate": 0.2},
        {"citation": "d", "subgroup": "high", "estimate": 0.0},
    ))
    table = dt.counterexamples(c).set_index("id")
    assert table.loc["E900", "credible"] and table.loc["E900", "high_source"] == "quote"
    assert not table.loc["E901", "credible"] and table.loc["E901", "high_harmed"]
    assert not table.loc["E903", "credible"]  # descriptive
    assert table.loc["E904", "credible"] and table.loc["E904", "high_source"] == "row"
    assert dt.b5_from(c).verdict == "contradicted"
    assert dt.b5_from(c[c["citation"].isin(["b", "c"])]).verdict == "not testable here"


def test_level_changes_by_hand():
    c = dt.classify(frame(
        {"citation": "p", "comparison": "pre-reform level", "outcome": "income elasticity", "unit": "elasticity",
         "estimate": 0.30, "subgroup": "men"},
        {"citation": "p", "comparison": "post-reform level", "outcome": "income elasticity", "unit": "elasticity",
         "estimate": 0.23, "subgroup": "men"},
        {"citation": "q", "comparison": "low-SES students after detracking", "outcome": "completion",
         "unit": "probability", "estimate": 0.37, "subgroup": "low SES"},
        {"citation": "q", "comparison": "high-SES students before detracking", "outcome": "completion",
         "unit": "probability", "estimate": 0.38, "subgroup": "high SES"},
    ))
    table = dt.level_changes(c).set_index("citation")
    assert table.loc["p", "change"] == pytest.approx(-0.07)
    assert table.loc["p", "relative_change"] == pytest.approx(-0.07 / 0.30)
    assert table.loc["p", "gap_narrowed"]
    assert table.loc["q", "change"] == pytest.approx(-0.01)
    assert not table.loc["q", "same_group"] and not table.loc["q", "gap_narrowed"]


def test_implied_gap_by_hand():
    gap = SimpleNamespace(d=0.8, boot_ci_low=0.7, boot_ci_high=0.9)
    r = dt.implied_gap_change(0.12, gap, "E002")
    assert r.gap_after == pytest.approx(0.68)
    assert r.share == pytest.approx(0.15)
    assert (r.share_low, r.share_high) == (pytest.approx(0.12 / 0.9), pytest.approx(0.12 / 0.7))
    with pytest.raises(ValueError, match="positive"):
        dt.implied_gap_change(0.1, SimpleNamespace(d=0.0, boot_ci_low=-0.1, boot_ci_high=0.1))
    with pytest.raises(ValueError, match="finite"):
        dt.implied_gap_change(float("nan"), gap)


# --- verdict rules -----------------------------------------------------------------------------------


def _equity(citation, favour_less, design="RCT"):
    # An equity row: detracked vs tracked on inequality, negative = less inequality when detracked.
    return {"citation": citation, "design": design, "outcome": "achievement inequality",
            "estimate": -0.1 if favour_less else 0.1}


def test_b4_rule():
    assert dt.b4_from(dt.classify(frame(_equity("a", True), _equity("b", True)))).verdict == "not testable here"
    assert dt.b4_from(dt.classify(frame(_equity("a", True), _equity("b", True), _equity("c", True)))).verdict \
        == "contradicted"
    assert dt.b4_from(dt.classify(frame(_equity("a", True), _equity("b", False), _equity("c", True)))).verdict \
        == "mixed"
    weak = frame(_equity("a", True, "descriptive"), _equity("b", True, "descriptive"), _equity("c", False))
    assert dt.b4_from(dt.classify(weak)).verdict == "supported"


def test_b7_rule():
    def studies(n_strong, n_weak):
        rows = [{"citation": f"s{i}", "design": "RCT"} for i in range(n_strong)]
        rows += [{"citation": f"w{i}", "design": "descriptive"} for i in range(n_weak)]
        return dt.classify(frame(*rows))

    assert dt.b7_from(studies(1, 3)).verdict == "not testable here"
    assert dt.b7_from(studies(1, 4)).verdict == "supported"  # 0.2
    assert dt.b7_from(studies(2, 4)).verdict == "mixed"
    assert dt.b7_from(studies(3, 3)).verdict == "contradicted"


def test_c2_rule():
    up = {"estimate": 0.2}
    down = {"estimate": -0.2}
    assert dt.c2_from(dt.classify(frame({**up, "citation": "a"}))).verdict == "not testable here"
    both = dt.c2_from(dt.classify(frame({**up, "citation": "a"}, {**down, "citation": "b"})))
    assert both.verdict == "mixed"
    assert dt.c2_from(dt.classify(frame({**down, "citation": "a"}, {**down, "citation": "b"}))).verdict \
        == "contradicted"
    only_up = dt.c2_from(dt.classify(frame({**up, "citation": "a"}, {**up, "citation": "b"})))
    assert only_up.verdict == "mixed" and "social-emotional part is not testable" in only_up.headline
    with_se = frame({**up, "citation": "a"}, {**up, "citation": "b"},
                    {"citation": "e", "outcome": "social-emotional development", "estimate": 0.1})
    assert dt.c2_from(dt.classify(with_se)).verdict == "supported"


def test_c3_rule():
    implied = dt.implied_gap_change(0.117, SimpleNamespace(d=1.0, boot_ci_low=0.9, boot_ci_high=1.1))
    narrow = {"subgroup": "low", "estimate": 0.2, "quote": "gain of 0.2 without lowering the achievement of peers"}
    assert dt.c3_from(dt.classify(frame({"subgroup": "all"})), implied).verdict == "not testable here"
    one = dt.c3_from(dt.classify(frame({**narrow, "citation": "a"})), implied)
    assert one.verdict == "mixed" and "0.117" in one.headline
    assert dt.c3_from(dt.classify(frame({**narrow, "citation": "a"}, {**narrow, "citation": "b"})), None).verdict \
        == "supported"
    assert dt.c3_from(dt.classify(frame(_equity("a", False), _equity("b", False))), None).verdict == "contradicted"
    income = {"outcome": "intergenerational income elasticity", "estimate": -0.1, "citation": "i"}
    assert dt.c3_from(dt.classify(frame(income)), None).verdict == "not testable here"


def test_a1_rule():
    ages = [{"topic": "age of selection", "design": "descriptive", "unit": "age", "comparison": "current system",
             "outcome": "age of first selection", "country": country, "estimate": age}
            for country, age in [("Germany; Austria", 10), ("Netherlands", 12), ("Finland", 16), ("Sweden", 16),
                                 ("OECD (majority)", 15)]]
    assert dt.a1_from(dt.classify(frame(*ages))).verdict == "supported"
    assert dt.named_countries(dt.selection_ages(dt.classify(frame(*ages)))) == \
        ["Austria", "Finland", "Germany", "Netherlands", "Sweden"]
    assert dt.a1_from(dt.classify(frame(*ages[1:]))).verdict == "not testable here"
    outside = [{**a, "estimate": 18} for a in ages]  # 18 is not secondary-level selection
    assert dt.a1_from(dt.classify(frame(*outside))).verdict == "not testable here"
