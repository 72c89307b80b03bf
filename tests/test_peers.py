"""Tests of tracking_evidence.analyses.peers: Exam bands, peer composition, MixedLM (against lme4), spreads, verdicts."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tracking_evidence.data import claims
from tracking_evidence import data
from tracking_evidence.analyses import peers

REPO = Path(__file__).resolve().parents[1]
R_TERMS = {"(Intercept)": "Intercept", "sexM": "C(sex)[T.M]", "schgendgirls": "C(schgend)[T.girls]",
           "schgendmixed": "C(schgend)[T.mixed]"}
LME4 = json.loads((REPO / "tests" / "reference" / "lme4_exam.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def exam() -> pd.DataFrame:
    return data.load_exam()


# ------------------------------------------------------------------ what the Exam columns are


def test_vr_is_a_school_variable_and_intake_varies_within_schools(exam):
    checks = peers.exam_band_checks(exam)
    assert checks["n_schools"] == 65
    assert checks["schools_vr_constant"] == 65  # vr: one value per school
    assert checks["schools_intake_3"] + checks["schools_intake_2"] + checks["schools_intake_1"] == 65
    assert checks["schools_intake_3"] > 60  # intake varies within nearly every school
    assert checks["schavg_max_abs_diff"] < 1e-5  # schavg is the school mean of standlrt
    # vr: the school average in three categories (MLwiN's schav), so its categories do not overlap
    ranges = exam.groupby("vr")["schavg"].agg(["min", "max"])
    assert ranges.loc["bottom 25%", "max"] < ranges.loc["mid 50%", "min"]
    assert ranges.loc["mid 50%", "max"] < ranges.loc["top 25%", "min"]
    assert checks["vr_separates_schavg"]


def test_mlmrev_labels_reversed_in_r_own_copy_too(exam):
    # lme4_exam.R reads mlmRev's own Exam (not our CSV): the same label means, the same reversal
    r_means = LME4["mlmrev_mean_standLRT_by_intake"]
    ours = peers.exam_band_checks(exam)["mean_standlrt_by_label"]
    for label, value in r_means.items():
        assert ours[label] == pytest.approx(value, abs=1e-9)
    assert r_means["bottom 25%"] > r_means["mid 50%"] > r_means["top 25%"]
    assert LME4["mlmrev_rows"] == len(exam)


def test_own_band_relabels_and_orders(exam):
    band = peers.own_band(exam)
    assert list(band.cat.categories) == ["bottom", "middle", "top"]
    means = exam["standlrt"].groupby(band, observed=True).mean()
    assert means["bottom"] < means["middle"] < means["top"]
    assert (band[exam["intake"] == "bottom 25%"] == "top").all()


def test_own_band_refuses_when_data_contradict_the_relabelling(exam):
    flipped = exam.copy()
    flipped["standlrt"] = -flipped["standlrt"]
    with pytest.raises(ValueError, match="does not rise"):
        peers.own_band(flipped)


def test_own_band_bad_inputs(exam):
    bad = exam.copy()
    bad.loc[0, "intake"] = "top 10%"
    with pytest.raises(ValueError, match="unknown intake label"):
        peers.own_band(bad)
    with pytest.raises(ValueError, match="missing column"):
        peers.own_band(exam.drop(columns="standlrt"))


# ------------------------------------------------------------------ peer composition


def test_leave_one_out_composition_matches_a_loop(exam):
    frame = peers.peer_composition(exam)
    band = peers.own_band(exam)
    for i in [0, 1, 500, 2000, 4058]:
        school = exam.loc[i, "school"]
        others = exam.index[(exam["school"] == school) & (exam.index != i)]
        assert frame.loc[i, "peer_mean"] == pytest.approx(exam.loc[others, "standlrt"].mean(), abs=1e-12)
        assert frame.loc[i, "peer_top"] == pytest.approx((band[others] == "top").mean(), abs=1e-12)
        assert frame.loc[i, "peer_bottom"] == pytest.approx((band[others] == "bottom").mean(), abs=1e-12)


def test_single_student_school_is_an_error(exam):
    lonely = exam.copy()
    lonely.loc[0, "school"] = 99
    with pytest.raises(ValueError, match="one student"):
        peers.peer_composition(lonely)


def test_band_tracks_delta_matches_a_loop():
    frame = peers.peer_composition()
    tracks = peers.band_tracks()
    for band in peers.BANDS:
        diffs = []
        for _, school in frame.groupby("school"):
            score = school["standlrt"].to_numpy()
            mates = np.flatnonzero((school["band"] == band).to_numpy())
            if len(mates) < 2:
                continue
            for i in mates:
                same = score[mates[mates != i]].mean()
                diffs.append(same - np.delete(score, i).mean())
        assert tracks.loc[band, "delta"] == pytest.approx(np.mean(diffs), abs=1e-12)
    assert tracks["p"].sum() == pytest.approx(1.0)
    assert tracks.loc["bottom", "delta"] < 0 < tracks.loc["top", "delta"]


# ------------------------------------------------------------------ MixedLM against lme4


@pytest.mark.parametrize("ref", LME4["fits"], ids=lambda r: f"{r['spec']}-{r['band']}")
def test_mixedlm_matches_lme4(ref):
    fit = peers.peer_models(ref["spec"])[ref["band"]]
    assert fit.n_students == ref["n_students"]
    assert fit.n_schools == ref["n_schools"]
    assert ref["messages"] == []
    for term, value in ref["fixef"].items():
        name = R_TERMS.get(term, term)
        assert fit.params.loc[name, "estimate"] == pytest.approx(value, rel=1e-4, abs=1e-6)
        # statsmodels' REML standard errors differ from lme4's in the 3rd-4th digit
        assert fit.params.loc[name, "se"] == pytest.approx(ref["se"][term], rel=5e-3)
    assert fit.tau2 == pytest.approx(ref["tau2"], rel=5e-4)
    assert fit.sigma2 == pytest.approx(ref["sigma2"], rel=5e-5)
    assert -2 * fit.loglik == pytest.approx(ref["reml_criterion"], abs=1e-4)


def test_mixedlm_ci_is_wald():
    fit = peers.peer_models("mean")["top"]
    row = fit.params.loc["peer_mean"]
    z = stats.norm.ppf(0.975)
    assert row["ci_low"] == pytest.approx(row["estimate"] - z * row["se"])
    assert row["ci_high"] == pytest.approx(row["estimate"] + z * row["se"])


def test_optimiser_record_rejects_lbfgs_and_accepted_fits_agree_with_lme4():
    ref = {r["band"]: r["fixef"]["peer_mean"] for r in LME4["fits"] if r["spec"] == "mean"}
    for band in peers.BANDS:
        record = peers.optimiser_comparison(band).set_index("optimiser")
        assert not record.loc["lbfgs", "accepted"]  # runs to the boundary on these data
        assert "not accepted" in record.loc["lbfgs", "record"] or "failed" in record.loc["lbfgs", "record"]
        accepted = record[record["accepted"]]
        assert len(accepted) >= 1
        for value in accepted["peer_mean"]:
            assert value == pytest.approx(ref[band], rel=1e-3)
    with pytest.raises(ValueError, match="unknown band"):
        peers.optimiser_comparison("upper")
    with pytest.raises(ValueError, match="at least one optimiser"):
        peers.fit_mixedlm(peers.peer_composition(), "normexam ~ standlrt", optimisers=())


def test_boundary_fit_is_rejected_not_hidden():
    # no school effect at all: every optimiser ends on the boundary (tau2 = 0) and warns
    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    frame = pd.DataFrame({"y": x + rng.normal(size=50), "x": x, "school": np.repeat(np.arange(10), 5)})
    with pytest.raises(RuntimeError, match="no optimiser gave a clean fit"):
        peers.fit_mixedlm(frame, "y ~ x")


def test_mixedlm_bad_inputs():
    frame = pd.DataFrame({"y": [1.0, 2.0, np.nan, 4.0], "x": [1, 2, 3, 4], "school": [1, 1, 2, 2]})
    with pytest.raises(ValueError, match="missing values"):
        peers.fit_mixedlm(frame, "y ~ x")
    with pytest.raises(ValueError, match="at least 3 groups"):
        peers.fit_mixedlm(frame.dropna(), "y ~ x")
    with pytest.raises(ValueError, match="grouping column"):
        peers.fit_mixedlm(frame, "y ~ x", group="class")
    with pytest.raises(ValueError, match="level"):
        peers.fit_mixedlm(frame, "y ~ x", level=1.5)
    with pytest.raises(ValueError, match="unknown specification"):
        peers.peer_models("quadratic")


def test_slope_equality_matches_lme4():
    ref = LME4["pooled"]
    result = peers.peer_slope_equality()
    assert ref["messages"] == []
    for band in peers.BANDS:
        assert result["slopes"][band] == pytest.approx(ref["slopes"][band], rel=1e-4)
    assert result["wald"] == pytest.approx(ref["wald"], rel=1e-3)
    assert result["p_value"] == pytest.approx(ref["p_value"], rel=1e-3)
    assert result["loglik"] == pytest.approx(ref["loglik"], abs=1e-3)
    assert result["df"] == 2 and result["n_students"] == ref["n_students"]


def test_band_peer_change_is_gamma_times_delta():
    change = peers.band_peer_change()
    tracks = peers.band_tracks()
    for ref in LME4["fits"]:
        if ref["spec"] != "mean":
            continue
        band = ref["band"]
        expected = ref["fixef"]["peer_mean"] * tracks.loc[band, "delta"]
        assert change.loc[band, "change"] == pytest.approx(expected, rel=1e-4)
        assert change.loc[band, "ci_low"] <= change.loc[band, "change"] <= change.loc[band, "ci_high"]


# ------------------------------------------------------------------ spread


def test_spread_against_independent_implementations():
    x = [3.1, 4.7, 1.2, 9.9, 5.5, 2.2, 7.0]
    assert peers.spread(x, "sd") == pytest.approx(statistics.stdev(x))
    assert peers.spread(x, "iqr") == pytest.approx(stats.iqr(x))


@pytest.mark.parametrize("bad, match", [([1.0], "at least 2"), ([1.0, float("nan")], "NaN"),
                                        ([[1.0, 2.0]], "at least 2")])
def test_spread_bad_inputs(bad, match):
    with pytest.raises(ValueError, match=match):
        peers.spread(bad)


def test_spread_unknown_measure():
    with pytest.raises(ValueError, match="unknown spread measure"):
        peers.spread([1.0, 2.0], "mad")


def test_track_labels_equal_sizes_and_order():
    x = np.array([5.0, 1.0, 4.0, 2.0, 3.0, 3.0, 9.0])
    labels = peers.track_labels(x, 3)
    sizes = np.bincount(labels)
    assert sizes.max() - sizes.min() <= 1
    for t in range(2):
        assert x[labels == t].max() <= x[labels == t + 1].min()
    with pytest.raises(ValueError, match="cannot split"):
        peers.track_labels([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="at least 1"):
        peers.track_labels([1.0, 2.0], 0)


def test_track_spread_small_known_example():
    frame = pd.DataFrame({"score": [1.0, 2.0, 3.0, 4.0]})
    res = peers.track_spread(frame, "score", n_tracks=2)
    assert res.mixed == pytest.approx(statistics.stdev([1, 2, 3, 4]))
    assert res.tracked == pytest.approx(statistics.stdev([1, 2]))
    assert res.ratio == pytest.approx(res.mixed / res.tracked)


def test_track_spread_hsb_matches_a_pandas_rank_split():
    hsb = data.load_hsb()
    res = peers.track_spread(hsb, "mathach", n_tracks=2, group="school")
    mixed, tracked, weights = [], [], []
    for _, school in hsb.groupby("school"):
        ranks = school["mathach"].rank(method="first")
        half = (ranks - 1) * 2 // len(school)
        within = school.groupby(half)["mathach"].agg(lambda v: v.std(ddof=1) * len(v)).sum() / len(school)
        mixed.append(school["mathach"].std(ddof=1))
        tracked.append(within)
        weights.append(len(school))
    assert res.mixed == pytest.approx(np.average(mixed, weights=weights), rel=1e-12)
    assert res.tracked == pytest.approx(np.average(tracked, weights=weights), rel=1e-12)
    assert res.n_groups == 160 and res.n_groups_excluded == 0


def test_small_classes_are_counted_not_dropped():
    nl = data.load_nlschools()
    res = peers.track_spread(nl, "iq", n_tracks=3, group="class")
    sizes = nl.groupby("class").size()
    assert res.n_groups_excluded == int((sizes < 6).sum())
    assert res.n_students + sum(res.excluded) == len(nl)


def test_track_spread_bad_inputs():
    frame = pd.DataFrame({"score": [1.0, 2.0, np.nan, 4.0], "t": ["a", "a", "b", "b"]})
    with pytest.raises(ValueError, match="missing values"):
        peers.track_spread(frame, "score", n_tracks=2)
    with pytest.raises(ValueError, match="exactly one"):
        peers.track_spread(frame.dropna(), "score", n_tracks=2, track_by="t")
    with pytest.raises(ValueError, match="missing column"):
        peers.track_spread(frame, "mathach", n_tracks=2)
    with pytest.raises(ValueError, match="no group is large enough"):
        peers.track_spread(pd.DataFrame({"score": [1.0, 2.0, 3.0]}), "score", n_tracks=2)


def test_bootstrap_is_seeded_and_brackets_the_ratio():
    res = peers.track_spread(data.load_hsb(), "mathach", n_tracks=2, group="school")
    first = peers.bootstrap_ratio(res, reps=300)
    assert first == peers.bootstrap_ratio(res, reps=300)
    assert first[0] < res.ratio < first[1]
    single = peers.track_spread(pd.DataFrame({"score": [1.0, 2.0, 3.0, 4.0]}), "score", n_tracks=2)
    with pytest.raises(ValueError, match="at least 2 groups"):
        peers.bootstrap_ratio(single)


def test_spread_table_has_every_case():
    table = peers.spread_table("sd")
    assert len(table) == len(peers.SPREAD_CASES)
    assert (table["n_students"] + table["students_excluded"]).isin([2287, 7185, 4059]).all()


def test_two_tracks_of_known_distributions():
    # theory: the halves of a normal have SD sqrt(1 - 2/pi) of the whole; the halves of a uniform, 1/2
    rng = np.random.default_rng(7)
    normal = peers.track_spread(pd.DataFrame({"score": rng.normal(size=200_000)}), "score", n_tracks=2)
    assert normal.ratio == pytest.approx(1 / math.sqrt(1 - 2 / math.pi), rel=5e-3)
    uniform = peers.track_spread(pd.DataFrame({"score": rng.uniform(size=200_000)}), "score", n_tracks=2)
    assert uniform.ratio == pytest.approx(2.0, rel=5e-3)


# ------------------------------------------------------------------ the spread summary (C4's arithmetic)


def test_spread_numbers_summarise_the_spread_table():
    numbers = peers.spread_numbers()
    table = peers.spread_table("sd")
    pd.testing.assert_frame_equal(numbers["table"], table)
    assert numbers["min_ratio"] == table["ratio"].min() and numbers["max_ratio"] == table["ratio"].max()
    assert numbers["min_low"] == table["ratio_low"].min()
    assert numbers["all_above_one"] == bool((table["ratio_low"] > 1).all())
    band = table[table["tracks"] == peers.BAND_TRACKS_LABEL]
    assert len(band) == 1 and numbers["band_ratio"] == band["ratio"].iloc[0]
    # a split by the score itself narrows the range more than the imperfect band split does
    exam = table[(table["dataset"] == "exam") & (table["tracks"] != peers.BAND_TRACKS_LABEL)]
    assert (exam["ratio"] > numbers["band_ratio"]).all()


def test_source_c_passages_are_verbatim():
    text = (REPO / "data" / "sources" / "C-pedagogue-detracking-blog.txt").read_text(encoding="utf-8")
    assert peers.DEFINITION_C in text
    assert peers.C6_SENTENCE in text
    registry = claims.load_claims().set_index("id")
    assert registry.loc["C6", "quote"] in peers.C6_SENTENCE


# ------------------------------------------------------------------ one common slope, measurement error, range


def test_common_peer_slope_is_one_wald_estimate_among_the_band_slopes():
    common = peers.common_peer_slope()
    assert (common["n_students"], common["n_schools"]) == (4059, 65)
    z = stats.norm.ppf(0.975)
    assert common["ci_low"] == pytest.approx(common["gamma"] - z * common["se"])
    assert common["ci_high"] == pytest.approx(common["gamma"] + z * common["se"])
    # one slope for all bands lies within the range of the band-specific slopes (lme4, tests/reference)
    slopes = LME4["pooled"]["slopes"].values()
    assert min(slopes) < common["gamma"] < max(slopes)
    assert common["beta_own"] > 0


def test_corrected_contextual_by_hand():
    # reliability 0.8, ICC 0.1: r_w = 1 - 0.2 / 0.9 = 7/9; correction 0.4 * (9/7 - 1) = 0.4 * 2/7
    assert peers.corrected_contextual(0.3, 0.4, 0.8, 0.1) == pytest.approx(0.3 - 0.8 / 7, rel=1e-12)


def test_corrected_contextual_without_error_is_unchanged_and_error_lowers_it():
    assert peers.corrected_contextual(0.33, 0.39, 1.0, 0.09) == 0.33
    values = [peers.corrected_contextual(0.33, 0.39, r, 0.09) for r in (0.6, 0.7, 0.8, 0.9, 1.0)]
    assert values == sorted(values) and len(set(values)) == len(values)
    # a larger intake ICC leaves less within-school variance, so the same error weighs more
    assert peers.corrected_contextual(0.33, 0.39, 0.8, 0.3) < peers.corrected_contextual(0.33, 0.39, 0.8, 0.0)


@pytest.mark.parametrize(("reliability", "icc", "match"), [
    (0.0, 0.1, "reliability must lie"), (1.2, 0.1, "reliability must lie"), (0.8, 1.0, "ICC must lie"),
    (0.8, -0.1, "ICC must lie"), (0.05, 0.9, "no true within-school variance"),
])
def test_corrected_contextual_bad_inputs(reliability, icc, match):
    with pytest.raises(ValueError, match=match):
        peers.corrected_contextual(0.3, 0.4, reliability, icc)


def test_contextual_sensitivity_applies_the_correction_to_the_common_slope():
    common = peers.common_peer_slope()
    table = peers.contextual_sensitivity().set_index("reliability")
    assert table.loc[1.0, "gamma_corrected"] == common["gamma"]
    for r, row in table.iterrows():
        assert row["gamma_corrected"] == peers.corrected_contextual(common["gamma"], common["beta_own"], r,
                                                                    row["intake_icc"])


def test_extrapolation_check_matches_a_loop():
    check = peers.extrapolation_check()
    frame = peers.peer_composition()
    low, high = frame["peer_mean"].min(), frame["peer_mean"].max()
    assert (check["observed_low"] == low).all() and (check["observed_high"] == high).all()
    assert check["share_outside"].between(0, 1).all()
    for band in peers.BANDS:
        tracked = []
        for _, school in frame.groupby("school"):
            mates = school.loc[school["band"] == band, "standlrt"].to_numpy()
            if len(mates) < 2:
                continue
            tracked += [np.delete(mates, k).mean() for k in range(len(mates))]
        tracked = np.array(tracked)
        assert check.loc[band, "tracked_mean"] == pytest.approx(tracked.mean(), abs=1e-12)
        assert check.loc[band, "share_outside"] == pytest.approx(((tracked < low) | (tracked > high)).mean())
    # the middle band's classmates stay within the observed range; the outer bands' leave it
    assert check.loc["middle", "share_outside"] == 0.0
    assert check.loc["bottom", "tracked_mean"] < low < high < check.loc["top", "tracked_mean"]
