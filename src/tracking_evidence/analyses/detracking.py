"""The detracking evidence, mapped by its codes: what data/evidence.csv holds on detracking reforms,
which designs produced it and what carries its uncertainty.

Every grouping here uses the coded fields of ``data/evidence.csv`` (``contrast``, ``construct``,
``subgroup``, ``design``, ``estimate_role``), which people assigned under
``data/evidence-protocol.md``; nothing is read from a row's words. Numbers only: the verdicts on
A1, B4, B5, B7, C2 and C3 are in :mod:`tracking_evidence.verdicts.claims_detracking`.
"""

from __future__ import annotations

import pandas as pd

from . import synthesis

__all__ = ["DETRACKING", "detracking_rows", "design_table", "selection_ages", "map_table"]

DETRACKING = "detracking reform"


def detracking_rows(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows whose contrast is a detracking reform, with the effect columns of
    :func:`tracking_evidence.analyses.synthesis.with_effects` and the effect *of detracking* (``-yi``)."""
    frame = synthesis.book_evidence() if frame is None else synthesis.with_effects(frame)
    rows = frame[frame["contrast"] == DETRACKING].copy()
    rows["effect_of_detracking"] = -rows["yi"]
    return rows.reset_index(drop=True)


def design_table(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per detracking study: design, rows, rows carrying uncertainty, constructs measured."""
    rows = detracking_rows(frame)
    table = rows.groupby("study_id").agg(
        study=("study", "first"), design=("design", "first"), rows=("id", "size"),
        with_uncertainty=("has_uncertainty", "sum"),
        constructs=("construct", lambda c: ", ".join(sorted(set(c))))).reset_index()
    return table.sort_values(["design", "study"]).reset_index(drop=True)


def map_table(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Contrast x construct: rows, studies and rows with published uncertainty (the evidence map)."""
    return synthesis.evidence_map(frame)


def selection_ages(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Context rows giving an age of first selection into tracks (unit ``age``)."""
    frame = synthesis.book_evidence() if frame is None else frame
    rows = frame[(frame["construct"] == "context") & (frame["unit"] == "age")]
    return rows[["id", "study", "country", "estimate", "group"]].reset_index(drop=True)
