"""Section arithmetic (C5): exact small cases worked by hand, error paths, properties, and staffing
with the supports detracking reforms used."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracking_evidence.analyses import sections as sec

# --- worked by hand --------------------------------------------------------------------------


def test_allocate_largest_remainder_by_hand():
    # 101 * (0.25, 0.5, 0.25) = 25.25, 50.5, 25.25 -> floors 25, 50, 25 (100); the one leftover
    # student goes to the largest fractional part, the middle track.
    assert sec.allocate(101, (0.25, 0.5, 0.25)) == (25, 51, 25)
    # 7 * (0.5, 0.5) = 3.5, 3.5: tie, the leftover goes to the first track.
    assert sec.allocate(7, (0.5, 0.5)) == (4, 3)


def test_sections_by_hand():
    # 62 students, cap 30: one track ceil(62/30) = 3; two tracks 31 + 31 -> 2 + 2 = 4;
    # three tracks 16 + 31 + 15 -> 1 + 2 + 1 = 4.
    assert sec.sections_needed(62, 30, (1.0,)) == 3
    assert sec.sections_needed(62, 30, (0.5, 0.5)) == 4
    assert sec.sections_needed(62, 30, (0.25, 0.5, 0.25)) == 4
    # 120 students fill classes of 30 exactly in every structure: 4 sections each.
    assert {sec.sections_needed(120, 30, s) for s in sec.DEFAULT_TRACK_SHARES.values()} == {4}


def test_teachers_by_hand():
    assert sec.teachers_needed(5, 5) == 1
    assert sec.teachers_needed(6, 5) == 2
    assert sec.teachers_needed(0, 5) == 0


def test_table_columns_and_reference_rows():
    table = sec.sections_table([62], cap=30, load=5)
    row = table.set_index("tracks")
    assert list(row["sections"]) == [3, 4, 4]
    assert list(row["extra_sections"]) == [0, 1, 1]
    assert list(row["teachers"]) == [1, 1, 1]
    assert row.loc[2, "mean_class"] == pytest.approx(62 / 4)
    assert row.loc[3, "fte"] == pytest.approx(4 / 5)


def test_summary_by_hand():
    table = sec.sections_table([60, 62], cap=30, load=5)
    # 60: one track 2 sections; three tracks 15, 30, 15 -> 3 sections: extra 1.
    # 62: one track 3; three tracks 16, 31, 15 -> 4: extra 1.
    summary = sec.summarise_sections(table, 30, 5)
    assert summary.mean_extra_sections[3] == pytest.approx(1.0)
    assert summary.share_more_sections[3] == pytest.approx(1.0)
    assert summary.mean_extra_fte[3] == pytest.approx(0.2)
    assert summary.mean_class[1] == pytest.approx((60 / 2 + 62 / 3) / 2)
    assert summary.one_track_ever_more is False


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, -5, 2.5, "10", True])
def test_bad_n(n):
    with pytest.raises(ValueError, match="n must be a positive integer"):
        sec.allocate(n, (1.0,))


@pytest.mark.parametrize("cap", [0, -1, 30.0])
def test_bad_cap(cap):
    with pytest.raises(ValueError, match="cap must be a positive integer"):
        sec.sections_for_counts([10], cap)


@pytest.mark.parametrize(
    "shares, message",
    [((), "empty"), ((0.5, 0.4), "sum to 1"), ((1.2, -0.2), "positive"), ((float("nan"), 1.0), "positive")],
)
def test_bad_shares(shares, message):
    with pytest.raises(ValueError, match=message):
        sec.allocate(100, shares)


def test_bad_counts_and_load():
    with pytest.raises(ValueError, match="non-negative integer"):
        sec.sections_for_counts([10, -1], 30)
    with pytest.raises(ValueError, match="empty"):
        sec.sections_for_counts([], 30)
    with pytest.raises(ValueError, match="load must be a positive integer"):
        sec.teachers_needed(4, 0)
    with pytest.raises(ValueError, match="sections must be"):
        sec.teachers_needed(-1, 5)


def test_bad_table_input():
    with pytest.raises(ValueError, match="key 1"):
        sec.sections_table([100], track_shares={2: (0.5, 0.5)})
    with pytest.raises(ValueError, match="expected 3"):
        sec.sections_table([100], track_shares={1: (1.0,), 3: (0.5, 0.5)})
    with pytest.raises(ValueError, match="sizes are empty"):
        sec.sections_table([])
    with pytest.raises(ValueError, match="lacks column"):
        sec.summarise_sections(sec.sections_table([100]).drop(columns="fte"), 30, 5)
    with pytest.raises(ValueError, match="caps are empty"):
        sec.c5_numbers(caps=[])


# --- properties (hypothesis) ------------------------------------------------------------------

counts_strategy = st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=6)
caps = st.integers(min_value=1, max_value=60)


@settings(max_examples=300, deadline=None)
@given(counts=counts_strategy, cap=caps)
def test_sections_at_least_n_over_cap(counts, cap):
    n = sum(counts)
    assert sec.sections_for_counts(counts, cap) >= n / cap
    assert sec.sections_for_counts(counts, cap) >= sec.sections_for_counts([n], cap)


@settings(max_examples=300, deadline=None)
@given(counts=counts_strategy, cap=caps, data=st.data())
def test_splitting_a_track_never_needs_fewer_sections(counts, cap, data):
    j = data.draw(st.integers(min_value=0, max_value=len(counts) - 1))
    part = data.draw(st.integers(min_value=0, max_value=counts[j]))
    split = counts[:j] + [part, counts[j] - part] + counts[j + 1 :]
    assert sec.sections_for_counts(split, cap) >= sec.sections_for_counts(counts, cap)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(min_value=1, max_value=2000), cap=caps)
def test_more_default_tracks_never_need_fewer_sections(n, cap):
    one, two, three = (sec.sections_needed(n, cap, sec.DEFAULT_TRACK_SHARES[k]) for k in (1, 2, 3))
    assert one == math.ceil(n / cap)
    assert one <= two <= three


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=5000),
    weights=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=5),
)
def test_allocation_sums_to_n_and_stays_within_one(n, weights):
    shares = [w / sum(weights) for w in weights]
    shares[-1] = 1.0 - sum(shares[:-1])  # exact sum up to float noise
    if shares[-1] <= 0:
        return
    counts = sec.allocate(n, shares)
    assert sum(counts) == n
    assert all(abs(c - n * s) < 1 for c, s in zip(counts, shares, strict=True))


# --- C5's numbers --------------------------------------------------------------------------


def test_c5_numbers_match_an_independent_computation():
    # Recompute the mean extra sections of three tracks at cap 30 with numpy, without the module.
    import numpy as np

    n = np.arange(60, 601)
    low = np.floor(n * 0.25)
    mid = np.floor(n * 0.5)
    high = np.floor(n * 0.25)
    left = n - (low + mid + high)
    # Largest remainder: fractions are 0.25k mod 1 for the outer tracks and 0.5k mod 1 for the middle.
    frac_outer, frac_mid = n * 0.25 - low, n * 0.5 - mid
    counts = []
    for k, lo, mi, hi, lf, fo, fm in zip(n, low, mid, high, left, frac_outer, frac_mid, strict=True):
        order = sorted([(-fo, 0), (-fm, 1), (-fo, 2)])
        c = [lo, mi, hi]
        for _, j in order[: int(lf)]:
            c[j] += 1
        counts.append(c)
    counts = np.array(counts)
    extra = np.ceil(counts / 30).sum(axis=1) - np.ceil(n / 30)
    summary = sec.c5_numbers()[30]
    assert summary.mean_extra_sections[3] == pytest.approx(extra.mean(), rel=1e-12)
    assert summary.share_more_sections[3] == pytest.approx((extra > 0).mean(), rel=1e-12)
    assert summary.max_extra_sections[3] == int(extra.max())
    assert (summary.n_min, summary.n_max, summary.n_sizes) == (60, 600, 541)
    # one track is the fewest sections any arrangement can have, at every cap
    assert not any(s.one_track_ever_more for s in sec.c5_numbers().values())
    # a grade that fills classes exactly in every structure shows no extra section
    assert sec.c5_numbers(sizes=[120], caps=[30])[30].share_more_sections == {1: 0.0, 2: 0.0, 3: 0.0}


# --- staffing with the supports detracking reforms used ---------------------------------------


def test_staffing_with_support_by_hand():
    # 62 students, cap 30, load 5: tracked in two halves 31 + 31 -> 4 sections, 0.8 FTE;
    # detracked ceil(62/30) = 3 sections, 0.6 FTE; a double dose adds ceil(31/30) = 2 sections -> 1.0 FTE;
    # a common prep period frees one period of five: 0.6 * 5/4 = 0.75 FTE.
    none = sec.staffing_with_support(62, "none")
    assert (none["tracked_fte"], none["detracked_fte"]) == (pytest.approx(0.8), pytest.approx(0.6))
    assert none["extra_fte"] == pytest.approx(-0.2) and none["extra_share"] == pytest.approx(-0.25)
    assert sec.staffing_with_support(62, "double dose")["detracked_fte"] == pytest.approx(1.0)
    assert sec.staffing_with_support(62, "common prep period")["detracked_fte"] == pytest.approx(0.75)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=1, max_value=2000), cap=caps, load=st.integers(min_value=2, max_value=8))
def test_detracking_without_support_never_needs_more_staff_and_a_double_dose_always_does(n, cap, load):
    none = sec.staffing_with_support(n, "none", cap, load)
    double = sec.staffing_with_support(n, "double dose", cap, load)
    assert none["detracked_fte"] <= none["tracked_fte"]
    assert double["detracked_fte"] > none["detracked_fte"]
    # the second period costs at least what the split saved: ceil(n/c) + ceil(n_b/c) >= ceil(n_1/c) + ceil(n_2/c),
    # strictly once the grade fills more than one class (then ceil(n/c) > ceil(n/2c))
    assert double["detracked_fte"] >= double["tracked_fte"]
    if n > cap:
        assert double["detracked_fte"] > double["tracked_fte"]
    prep = sec.staffing_with_support(n, "common prep period", cap, load)
    assert prep["detracked_fte"] == pytest.approx(none["detracked_fte"] * load / (load - 1))


def test_staffing_bad_input_and_table():
    with pytest.raises(ValueError, match="support must be one of"):
        sec.staffing_with_support(100, "team teaching")
    with pytest.raises(ValueError, match="below_median"):
        sec.staffing_with_support(100, "double dose", below_median=1.0)
    with pytest.raises(ValueError, match="load of at least 2"):
        sec.staffing_with_support(100, "common prep period", load=1)
    table = sec.staffing_table("none", sizes=[60, 62])
    assert list(table["n"]) == [60, 62] and set(table["support"]) == {"none"}
    assert table.loc[1, "extra_fte"] == pytest.approx(sec.staffing_with_support(62, "none")["extra_fte"])
