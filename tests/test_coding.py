"""Two codings of the evidence, their agreement, and the resolved codes in data/evidence.csv."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from tracking_evidence.data import coding, evidence
from tracking_evidence.data import DataError

from .conftest import DATA


def test_both_coders_coded_every_row_and_the_table_holds_the_resolutions():
    table = evidence.load_evidence()
    a, b = coding.load_coding("a"), coding.load_coding("b")
    assert list(a.index) == list(b.index) == list(table["id"])
    coding.check_resolved(table)


def test_agreement_is_reported_per_field_with_kappa():
    agree = coding.agreement().set_index("field")
    assert set(agree.index) == set(coding.KAPPA_FIELDS) | {"study_id"}
    assert agree.loc[list(coding.KAPPA_FIELDS), "kappa"].between(-1, 1).all()
    assert agree.loc["contrast", "kappa"] > 0.8


def test_every_disagreement_has_a_resolution_with_a_reason():
    d = coding.disagreements()
    assert d["resolved"].notna().all() and (d["reason"].str.len() > 10).all()


@pytest.fixture()
def data_folder(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    return folder


def test_a_code_that_is_neither_agreed_nor_resolved_is_caught(data_folder):
    path = data_folder / "evidence.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[frame["id"] == "E001", "contrast"] = "course tracking"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match="E001 contrast"):
        coding.check_resolved(evidence.load_evidence(data_folder), data_folder)


def test_an_unresolved_disagreement_is_caught(data_folder):
    b = pd.read_csv(data_folder / "coding" / "coder-b.csv", dtype=str, keep_default_na=False)
    b.loc[b["id"] == "E004", "setting"] = "other"
    b.to_csv(data_folder / "coding" / "coder-b.csv", index=False)
    with pytest.raises(DataError, match="no resolution is recorded"):
        coding.check_resolved(evidence.load_evidence(data_folder), data_folder)


def test_a_resolution_without_a_reason_is_refused(data_folder):
    path = data_folder / "coding" / "resolutions.csv"
    r = pd.read_csv(path, dtype=str, keep_default_na=False)
    r.loc[0, "reason"] = ""
    r.to_csv(path, index=False)
    with pytest.raises(DataError, match="has no reason"):
        coding.load_resolutions(data_folder)


def test_kappa_matches_statsmodels_on_a_known_table():
    from statsmodels.stats.inter_rater import cohens_kappa

    # two coders, ten items: 8 agreements
    table = [[4, 1], [1, 4]]
    assert cohens_kappa(table).kappa == pytest.approx(0.6)
