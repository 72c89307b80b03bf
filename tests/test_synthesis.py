"""The evidence weighed per question: SEs from published uncertainty, eligibility by codes only,
three-level pooling, and no code path that reads a row's words."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tracking_evidence.data import evidence
from tracking_evidence.analyses import synthesis

from .conftest import DATA, ROOT


def test_derive_se_from_each_kind_of_published_uncertainty():
    assert synthesis.derive_se(0.2, se=0.05) == (0.05, "published")
    se, how = synthesis.derive_se(0.283, ci_low=0.087, ci_high=0.479, ci_level=0.95)
    assert how == "from CI" and se == pytest.approx((0.479 - 0.087) / (2 * stats.norm.ppf(0.975)))
    se90, _ = synthesis.derive_se(0.1, ci_low=0.0, ci_high=0.2, ci_level=0.90)
    assert se90 == pytest.approx(0.2 / (2 * stats.norm.ppf(0.95)))
    se_p, how = synthesis.derive_se(0.3, p=0.03)
    assert how == "from p" and 0.3 / se_p == pytest.approx(stats.norm.isf(0.015))
    se_none, how = synthesis.derive_se(0.3)
    assert np.isnan(se_none) and how == "none"


@pytest.mark.parametrize("kwargs, message", [
    (dict(se=-0.1), "must be positive"),
    (dict(ci_low=0.1), "needs both bounds"),
    (dict(ci_low=0.1, ci_high=0.3), "needs its level"),
    (dict(ci_low=0.3, ci_high=0.1, ci_level=0.95), "is empty"),
    (dict(p=1.0), "must lie in"),
])
def test_derive_se_refuses_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthesis.derive_se(0.2, **kwargs)


def test_derive_se_refuses_a_p_value_for_a_zero_estimate():
    with pytest.raises(ValueError, match="zero estimate"):
        synthesis.derive_se(0.0, p=0.5)


def test_effects_are_the_estimate_times_the_coded_sign_in_sd_units():
    frame = synthesis.book_evidence().set_index("id")
    rui = frame.loc["E036"]  # detracked minus tracked, coded sign -1
    assert rui["yi"] == pytest.approx(-0.283)
    duflo = frame.loc["E079"]  # SD x 100 on the page
    assert duflo["yi"] == pytest.approx(0.139) and duflo["se_used"] == pytest.approx(0.078)
    assert not frame.loc["E040", "smd"]  # percent change


def test_eligibility_uses_codes_and_keeps_what_it_leaves_out():
    rows, shown = synthesis.eligible(synthesis.book_evidence(), synthesis.QUESTIONS["detrack_low"],
                                     "detracking reform")
    assert set(rows["contrast"]) <= {"detracking reform"}
    assert (rows["subgroup"] == "low").all()
    assert set(shown["excluded_because"]) and (shown["excluded_because"] != "").all()
    syn, _ = synthesis.eligible(synthesis.book_evidence(), synthesis.QUESTIONS["detrack_low"], "detracking reform",
                                evidence_base="syntheses")
    assert list(syn["id"]) == ["E036"]  # the random-effects estimate; the fixed-effects one is an alternative


def test_detracking_questions_read_course_tracking_reversed():
    """'Mixed instead of separate classes' is course tracking with the sign turned: the same rows, the
    estimate mirrored, never pooled with detracking reforms."""
    forward = synthesis.weigh("mean", "course tracking")
    mirror = synthesis.weigh("detrack_mean", "course tracking")
    assert list(forward.rows["id"]) == list(mirror.rows["id"])
    assert mirror.estimate == pytest.approx(-forward.estimate)
    reform = synthesis.weigh("detrack_mean", "detracking reform")
    assert not set(reform.rows["id"]) & set(mirror.rows["id"])


def test_one_study_or_one_synthesis_decides_by_its_own_interval():
    s = synthesis.weigh("detrack_low", "detracking reform", evidence_base="syntheses")
    assert s.status == "single synthesis" and s.decides
    assert (s.ci_low, s.ci_high) == pytest.approx((0.087, 0.479), abs=1e-9)
    primary = synthesis.weigh("detrack_low", "detracking reform", evidence_base="primary studies")
    assert primary.status == "single study" and primary.decides
    stricter = synthesis.weigh("detrack_low", "detracking reform", evidence_base="primary studies", min_studies=2)
    assert not stricter.decides


def test_cr2_only_with_enough_studies():
    """Two studies are too few clusters for a robust variance: below ``cr2_min_studies`` the model's own
    SE is used and the inference says so; at or above it, CR2 with its Satterthwaite df."""
    s = synthesis.weigh("low", "within-class grouping", inference="CR2")
    assert s.n_studies == 2 and "fewer than the 6 CR2 needs" in s.inference and s.df == float("inf")
    forced = synthesis.weigh("low", "within-class grouping", inference="CR2", cr2_min_studies=2)
    assert forced.inference.startswith("CR2") and forced.df < 5
    assert (forced.ci_high - forced.ci_low) > (s.ci_high - s.ci_low)
    model = synthesis.weigh("low", "within-class grouping", inference="model")
    assert model.estimate == pytest.approx(s.estimate)
    with pytest.raises(ValueError, match="inference must be"):
        synthesis.weigh("mean", "course tracking", inference="bootstrap", evidence=evidence.load_evidence())
    with pytest.raises(ValueError, match="cr2_min_studies at least 2"):
        synthesis.weigh("mean", "course tracking", cr2_min_studies=1)


def test_overlapping_syntheses_are_never_pooled():
    s = synthesis.weigh("high", "acceleration", evidence_base="syntheses")
    assert s.status == "single synthesis" and s.n_studies == 1 and "never pooled" in s.inference
    assert s.shown["excluded_because"].str.contains("overlapping synthesis").any()


def test_weigh_table_never_runs_cr2_below_its_minimum():
    table = synthesis.weigh_table()
    cr2 = table[table["inference"].str.startswith("CR2")]
    assert (cr2["studies"] >= 6).all()
    few = table[(table["studies"] < 6) & (table["status"] == "pooled")]
    assert len(few) and few["inference"].str.contains("fewer than the 6 CR2 needs").all()
    assert (few["df"] == float("inf")).all()


def test_knapp_hartung_is_an_alternative_with_t_on_k_minus_1():
    s = synthesis.weigh("within", "within-class grouping", inference="Knapp-Hartung")
    assert s.status == "pooled" and s.df == s.n_studies - 1 and "t on studies - 1" in s.inference
    model = synthesis.weigh("within", "within-class grouping", inference="model")
    assert (s.ci_high - s.ci_low) > (model.ci_high - model.ci_low)


def test_a_contrast_outside_the_question_is_refused():
    with pytest.raises(ValueError, match="is not part of question"):
        synthesis.weigh("mean", "placement")


def _mislead(frame: pd.DataFrame) -> pd.DataFrame:
    """Every free-text field permuted across rows, and words that a keyword rule would seize on added
    to every quote (the coded fields, numbers, units and addresses are kept)."""
    rng = np.random.default_rng(7)
    out = frame.copy()
    for column in ("study", "outcome", "comparison", "group", "coding_notes", "rob_notes"):
        out[column] = rng.permutation(out[column].to_numpy())
    # the notes may quote a row's sample size from its page (the loader checks it), so they are kept and
    # misleading words added instead
    out["notes"] = out["notes"] + " Detracking helped; tracking harmed; significant; randomised."
    out["quote"] = out["quote"] + " Detracked classes were better; tracked classes harmed students; random; gifted."
    return out


RUN = """
import json, sys
from tracking_evidence.verdicts import all_rules, judge
from tracking_evidence.analyses import synthesis
table = synthesis.weigh_table()
verdicts = {c: [judge(c).verdict] + [p.verdict for p in judge(c).parts] for c in all_rules()}
print(json.dumps({"verdicts": verdicts, "table": table.round(10).astype(str).values.tolist()}))
"""


@pytest.mark.slow
def test_no_code_path_reads_a_rows_words(tmp_path):
    """The issue's test: change every text field of the evidence table and every verdict and pooled
    number stays the same; only the people's codes, the numbers and their units decide."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    frame = pd.read_csv(DATA / "evidence.csv", dtype=str, keep_default_na=False)
    _mislead(frame).to_csv(data / "evidence.csv", index=False)
    evidence.load_evidence(data)  # still a valid table
    results = []
    for folder in (DATA, data):
        env = {**os.environ, "TRACKING_EVIDENCE_DATA": str(folder), "TRACKING_EVIDENCE_CACHE": str(tmp_path / "mv")}
        run = subprocess.run([sys.executable, "-c", RUN], env=env, capture_output=True, text=True, cwd=ROOT,
                             timeout=600)
        assert run.returncode == 0, run.stderr[-2000:]
        results.append(json.loads(run.stdout.strip().splitlines()[-1]))
    assert results[0] == results[1]
