"""The documented search in numbers: the PRISMA 2020 flow and what each question found.

Numbers only, from the screening log (``data/search/screening.csv``, :mod:`tracking_evidence.data.screening`)
and the coded evidence table:

- :func:`flow`: records identified (per collection), duplicates removed, records screened and
  excluded at screening (by reason), reports sought and not retrieved, reports assessed and
  excluded at eligibility (by reason), reports and studies included, and the studies of the first
  round (PRISMA 2020's "studies included in the previous version of the review");
- :func:`per_question`: the same counts for each protocol question (Q1-Q8), with the studies in
  the table that answer the question and how many carry uncertainty.

A record searched for several questions counts once in :func:`flow` and once under each of its
questions in :func:`per_question`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..data.screening import QUESTIONS, REASONS, SCREENING_STAGE
from . import synthesis

__all__ = ["Flow", "flow", "per_question", "question_studies", "flow_table"]


@dataclass(frozen=True)
class Flow:
    """The PRISMA 2020 flow of one search (all questions, or one)."""

    identified: int
    by_collection: dict = field(default_factory=dict)
    duplicates: int = 0
    screened: int = 0
    excluded_screening: dict = field(default_factory=dict)
    sought: int = 0
    not_retrieved: int = 0
    assessed: int = 0
    excluded_eligibility: dict = field(default_factory=dict)
    included_reports: int = 0
    included_studies: int = 0
    new_studies_with_uncertainty: int = 0
    previous_studies: int = 0
    total_studies: int = 0
    total_studies_with_uncertainty: int = 0
    total_rows_with_uncertainty: int = 0

    def check(self) -> None:
        """The flow adds up: every record leaves at exactly one box."""
        assert self.screened == self.identified - self.duplicates
        assert self.sought == self.screened - sum(self.excluded_screening.values())
        assert self.assessed == self.sought - self.not_retrieved
        assert self.included_reports == self.assessed - sum(self.excluded_eligibility.values())


def _with_uncertainty(evidence: pd.DataFrame) -> pd.Series:
    return synthesis.with_effects(evidence)["has_uncertainty"]


def _flow(log: pd.DataFrame, evidence: pd.DataFrame) -> Flow:
    by_reason = log[log["decision"] == "excluded"]["reason"].value_counts()
    stage = {r: SCREENING_STAGE[r] for r in REASONS}
    screening_ex = {r: int(by_reason.get(r, 0)) for r in REASONS if stage[r] == "screening"}
    eligibility_ex = {r: int(by_reason.get(r, 0)) for r in REASONS if stage[r] == "eligibility"}
    duplicates = int((log["decision"] == "duplicate").sum())
    screened = len(log) - duplicates
    sought = screened - sum(screening_ex.values())
    not_retrieved = int(by_reason.get("full text not in the store", 0))
    included = log[log["decision"] == "included"]
    rows = [r for cell in included["rows"] for r in str(cell).split(";") if r]
    unc = _with_uncertainty(evidence)
    from_search = evidence[evidence["id"].isin(rows)]
    first_round = evidence[evidence["search_record"].isna() | (evidence["search_record"] == "")]
    f = Flow(identified=len(log), by_collection=log["collection"].value_counts().to_dict(), duplicates=duplicates,
             screened=screened, excluded_screening=screening_ex, sought=sought, not_retrieved=not_retrieved,
             assessed=sought - not_retrieved, excluded_eligibility=eligibility_ex, included_reports=len(included),
             included_studies=int(from_search["study_id"].nunique()),
             new_studies_with_uncertainty=int(from_search[unc.loc[from_search.index]]["study_id"].nunique()),
             previous_studies=int(first_round["study_id"].nunique()),
             total_studies=int(evidence["study_id"].nunique()),
             total_studies_with_uncertainty=int(evidence[unc]["study_id"].nunique()),
             total_rows_with_uncertainty=int(unc.sum()))
    f.check()
    return f


def flow(log: pd.DataFrame, evidence: pd.DataFrame) -> Flow:
    """The whole search's PRISMA 2020 flow."""
    return _flow(log, evidence)


def _for_question(log: pd.DataFrame, question: str) -> pd.DataFrame:
    return log[log["question"].str.split(";").map(lambda qs: question in [q.strip() for q in qs])]


def question_studies(evidence: pd.DataFrame, question: str, settings=("K-12",)) -> pd.DataFrame:
    """The rows of the table that answer a protocol question by their codes (any design, any unit,
    primary estimates), with ``has_uncertainty``."""
    frame = synthesis.with_effects(evidence)
    keys = [k for k, q in synthesis.PROTOCOL_QUESTION.items() if q == question]
    match = pd.Series(False, index=frame.index)
    for key in keys:
        q = synthesis.QUESTIONS[key]
        match |= (frame["contrast"].isin(q.contrasts) & frame["construct"].isin(q.constructs)
                  & frame["subgroup"].isin(q.subgroups) & frame["setting"].isin(settings))
    rows = frame[match & (frame["estimate_role"] == "primary")]
    return rows[["id", "study_id", "contrast", "construct", "subgroup", "design", "unit", "has_uncertainty",
                 "se_how"]].reset_index(drop=True)


def per_question(log: pd.DataFrame, evidence: pd.DataFrame) -> pd.DataFrame:
    """One row per protocol question: its search's flow and the studies that answer it."""
    out = []
    for q in QUESTIONS:
        part = _for_question(log, q)
        excluded = part[part["decision"] == "excluded"]["reason"].map(SCREENING_STAGE).value_counts()
        studies = question_studies(evidence, q)
        out.append({"question": q, "records identified": len(part),
                    "duplicates": int((part["decision"] == "duplicate").sum()),
                    "excluded at screening": int(excluded.get("screening", 0)),
                    "not retrieved": int(excluded.get("retrieval", 0)),
                    "excluded at eligibility": int(excluded.get("eligibility", 0)),
                    "reports included": int((part["decision"] == "included").sum()),
                    "studies in the table": int(studies["study_id"].nunique()),
                    "studies with uncertainty": int(studies[studies["has_uncertainty"]]["study_id"].nunique()),
                    "rows with uncertainty": int(studies["has_uncertainty"].sum())})
    return pd.DataFrame(out)


def flow_table(f: Flow) -> pd.DataFrame:
    """The flow as a table of boxes (stage, box, count), the data of the PRISMA diagram."""
    rows = [("identification", f"records identified: {c}", n) for c, n in sorted(f.by_collection.items())]
    rows += [("identification", "records identified", f.identified),
             ("identification", "duplicates removed", f.duplicates),
             ("screening", "records screened", f.screened)]
    rows += [("screening", f"excluded: {r}", n) for r, n in f.excluded_screening.items()]
    rows += [("retrieval", "reports sought", f.sought), ("retrieval", "reports not retrieved", f.not_retrieved),
             ("eligibility", "reports assessed", f.assessed)]
    rows += [("eligibility", f"excluded: {r}", n) for r, n in f.excluded_eligibility.items()]
    rows += [("included", "reports included", f.included_reports),
             ("included", "new studies included", f.included_studies),
             ("included", "new studies with uncertainty", f.new_studies_with_uncertainty),
             ("included", "studies of the first round", f.previous_studies),
             ("included", "studies in the table", f.total_studies),
             ("included", "studies with uncertainty in the table", f.total_studies_with_uncertainty),
             ("included", "rows with uncertainty in the table", f.total_rows_with_uncertainty)]
    return pd.DataFrame(rows, columns=["stage", "box", "count"])
