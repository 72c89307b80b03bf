"""Tests for tracking_evidence.gaps: standardized gaps, Oaxaca-Blinder, variance decomposition, power."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.meta_analysis import effectsize_smd

from tracking_evidence import data, gaps

# --------------------------------------------------------------------------------------------
# standardized_gap
# --------------------------------------------------------------------------------------------


def _two_groups(n_ref=400, n_foc=300, shift=0.5, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "y": np.concatenate([rng.normal(0, 1, n_ref), rng.normal(-shift, 1.3, n_foc)]),
            "g": ["ref"] * n_ref + ["foc"] * n_foc,
        }
    )


def test_gap_matches_hand_computation_and_statsmodels_smd():
    df = _two_groups()
    r = gaps.standardized_gap(df, "y", "g", focal="foc")
    ref, foc = df.loc[df.g == "ref", "y"], df.loc[df.g == "foc", "y"]
    # independent pieces: pandas moments, then statsmodels' bias-corrected SMD (Borenstein 2009)
    pooled = np.sqrt(((len(ref) - 1) * ref.var() + (len(foc) - 1) * foc.var()) / (len(df) - 2))
    assert r.gap == pytest.approx(ref.mean() - foc.mean(), rel=1e-12)
    assert r.d == pytest.approx((ref.mean() - foc.mean()) / pooled, rel=1e-12)
    assert r.delta == pytest.approx((ref.mean() - foc.mean()) / ref.std(), rel=1e-12)
    smd_bc, var_bc = effectsize_smd(ref.mean(), ref.std(), len(ref), foc.mean(), foc.std(), len(foc))
    correction = 1 - 3 / (4 * len(df) - 9)
    assert r.d == pytest.approx(smd_bc / correction, rel=1e-10)
    # statsmodels' variance uses the corrected d and n - 3.94; the large-sample SE agrees to 1%
    assert r.se_d == pytest.approx(np.sqrt(var_bc), rel=0.01)
    assert r.reference == "ref" and r.focal == "foc"
    assert r.ci_low < r.d < r.ci_high


def test_analytic_se_matches_monte_carlo_sd_of_d():
    # The SE formula is a claim about the sampling distribution of d: check it by simulation.
    rng = np.random.default_rng(7)
    n_r, n_f, true_d = 120, 80, 0.6
    draws = []
    for _ in range(3000):
        y_r, y_f = rng.normal(true_d, 1, n_r), rng.normal(0, 1, n_f)
        s = np.sqrt(((n_r - 1) * y_r.var(ddof=1) + (n_f - 1) * y_f.var(ddof=1)) / (n_r + n_f - 2))
        draws.append((y_r.mean() - y_f.mean()) / s)
    df = pd.DataFrame({"y": np.concatenate([y_r, y_f]), "g": [0] * n_r + [1] * n_f})
    r = gaps.standardized_gap(df, "y", "g", focal=1)
    analytic = np.sqrt((n_r + n_f) / (n_r * n_f) + true_d**2 / (2 * (n_r + n_f)))
    assert np.std(draws, ddof=1) == pytest.approx(analytic, rel=0.05)
    assert r.se_d == pytest.approx(np.sqrt((n_r + n_f) / (n_r * n_f) + r.d**2 / (2 * (n_r + n_f))), rel=1e-12)


def test_row_bootstrap_agrees_with_analytic_se_and_is_seeded():
    df = _two_groups(n_ref=300, n_foc=300, shift=0.4, seed=3)
    a = gaps.standardized_gap(df, "y", "g", focal="foc", n_boot=1500, seed=11)
    b = gaps.standardized_gap(df, "y", "g", focal="foc", n_boot=1500, seed=11)
    assert a.boot_ci_low == b.boot_ci_low and a.boot_ci_high == b.boot_ci_high
    assert a.boot_se == pytest.approx(a.se_d, rel=0.15)
    assert a.boot_ci_low < a.d < a.boot_ci_high


def test_cluster_bootstrap_is_wider_than_analytic_when_clusters_matter():
    # Simulated clustered data: a strong school effect correlated with group makes the
    # student-level SE too small; the cluster bootstrap must be wider.
    rng = np.random.default_rng(5)
    rows = []
    for school in range(40):
        share = rng.uniform(0.1, 0.9)
        effect = rng.normal(0, 1.0)
        n = 50
        g = rng.random(n) < share
        rows.append(pd.DataFrame({"s": school, "g": g.astype(int), "y": effect - 0.3 * g + rng.normal(0, 1, n)}))
    df = pd.concat(rows, ignore_index=True)
    r = gaps.standardized_gap(df, "y", "g", focal=1, n_boot=800, cluster="s", seed=2)
    assert r.boot_cluster == "s"
    assert r.boot_se > 1.3 * r.se_d


def test_default_focal_is_larger_level_and_sign_convention():
    df = pd.DataFrame({"y": [10.0, 11, 12, 5, 6, 7], "minority": [0, 0, 0, 1, 1, 1]})
    r = gaps.standardized_gap(df, "y", "minority")
    assert r.focal == 1 and r.reference == 0
    assert r.gap == pytest.approx(5.0)
    assert r.d == pytest.approx(5.0)  # both SDs are 1
    assert isinstance(r.focal, int)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"y": [1.0, 2, 3], "g": [0, 0, 0]}), "exactly two levels"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4], "g": [0, 1, 2, 2]}), "exactly two levels"),
        (pd.DataFrame({"y": [1.0, np.nan, 3, 4], "g": [0, 0, 1, 1]}), "missing values"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4], "g": [0, None, 1, 1]}), "missing values"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4], "g": [0, 1, 1, 1]}), "at least 2"),
        (pd.DataFrame({"y": [1.0, 1, 3, 4], "g": [0, 0, 1, 1]}), "constant"),
        (pd.DataFrame({"y": ["a", "b", "c", "d"], "g": [0, 0, 1, 1]}), "not numeric"),
        (pd.DataFrame({"x": [1.0, 2, 3, 4], "g": [0, 0, 1, 1]}), "missing column"),
    ],
)
def test_gap_bad_input(frame, message):
    with pytest.raises(ValueError, match=message):
        gaps.standardized_gap(frame, "y", "g")


def test_gap_bad_focal_and_level():
    df = _two_groups()
    with pytest.raises(ValueError, match="focal level"):
        gaps.standardized_gap(df, "y", "g", focal="other")
    with pytest.raises(ValueError, match="level"):
        gaps.standardized_gap(df, "y", "g", level=1.5)


def test_dropna_is_explicit_and_reported():
    df = _two_groups()
    df.loc[[0, 5, 450], "y"] = np.nan
    r = gaps.standardized_gap(df, "y", "g", focal="foc", dropna=True)
    assert r.n_excluded == 3
    assert "3 row(s) excluded" in r.excluded_reason
    assert r.n_focal + r.n_reference == len(df) - 3


def test_gaps_by_stratum_equal_separate_calls_and_report_exclusions():
    e = data.load_egsingle()
    table = gaps.standardized_gaps_by(e, "math", "black", "grade", min_per_group=10)
    one = gaps.standardized_gap(e[e.grade == 2], "math", "black")
    row = table.set_index("grade").loc[2]
    assert row["d"] == pytest.approx(one.d, rel=1e-12)
    assert row["ci_low"] == pytest.approx(one.ci_low, rel=1e-12)
    # grade 5 has 9 rows in the data: too few for min_per_group=10, and it is reported
    assert 5 not in set(table["grade"])
    assert [x["grade"] for x in table.attrs["excluded"]] == [5]


def test_hsb_ses_quartile_gap():
    r = gaps.hsb_ses_quartile_gap()
    hsb = data.load_hsb()
    q1, q3 = hsb["ses"].quantile([0.25, 0.75])
    top, bottom = hsb.loc[hsb.ses >= q3, "mathach"], hsb.loc[hsb.ses <= q1, "mathach"]
    assert r.n_reference == len(top) and r.n_focal == len(bottom)
    assert r.gap == pytest.approx(top.mean() - bottom.mean(), rel=1e-12)
    assert r.n_excluded == len(hsb) - len(top) - len(bottom)
    # school-cluster bootstrap interval: wider than the student-level analytic one
    assert r.boot_cluster == "school"
    assert r.boot_ci_high - r.boot_ci_low > r.ci_high - r.ci_low
    assert r.boot_ci_low < r.d < r.boot_ci_high
