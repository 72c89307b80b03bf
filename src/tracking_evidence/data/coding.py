"""Two independent codings of the evidence, their agreement, and how disagreements were resolved.

``data/coding/coder-a.csv`` and ``data/coding/coder-b.csv`` hold each coder's codes for every
row of ``data/evidence.csv`` (protocol: ``data/evidence-protocol.md``); ``data/coding/
resolutions.csv`` holds each disagreement that was resolved, with the resolved value and the
reason. :func:`agreement` gives Cohen's kappa per categorical field (statsmodels'
``cohens_kappa`` on the square table of the two codings) and, for ``study_id``, whether the two
coders grouped rows into the same studies (ids may be spelled differently). :func:`check_resolved`
raises :class:`DataError` where ``data/evidence.csv`` holds a code that is neither the coders'
common value nor the recorded resolution.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pandas as pd
from statsmodels.stats.inter_rater import cohens_kappa

from .datasets import DataError, data_dir

__all__ = ["KAPPA_FIELDS", "load_coding", "load_resolutions", "agreement", "disagreements", "check_resolved", "row_round"]

KAPPA_FIELDS = ("setting", "contrast", "construct", "subgroup", "direction", "sign_more_tracking", "higher_is_better")
#: Rows of the first round (E001-E156); later rows come from the documented second search.
FIRST_ROUND_LAST = 156
CHECKED_FIELDS = KAPPA_FIELDS + ("study_id", "direction_words")


def _read(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(path.name, f"file not found at {path}")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "id" not in frame.columns:
        raise DataError(path.name, "no 'id' column")
    if frame["id"].duplicated().any():
        raise DataError(path.name, f"id {frame['id'][frame['id'].duplicated()].iloc[0]} appears twice")
    return frame.set_index("id")


def load_coding(coder: str, folder: Path | None = None) -> pd.DataFrame:
    """One coder's codes (``coder`` is ``"a"`` or ``"b"``), indexed by row id, as text."""
    if coder not in ("a", "b"):
        raise ValueError(f"coder must be 'a' or 'b', got {coder!r}")
    frame = _read((folder or data_dir()) / "coding" / f"coder-{coder}.csv")
    missing = [f for f in CHECKED_FIELDS if f not in frame.columns]
    if missing:
        raise DataError(f"coder-{coder}.csv", f"missing column(s) {missing}")
    return frame


def load_resolutions(folder: Path | None = None) -> pd.DataFrame:
    path = (folder or data_dir()) / "coding" / "resolutions.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    expected = ["id", "field", "coder_a", "coder_b", "resolved", "reason"]
    if list(frame.columns) != expected:
        raise DataError("resolutions.csv", f"header {list(frame.columns)} is not {expected}")
    empty = frame[frame["reason"].str.strip() == ""]
    if len(empty):
        raise DataError("resolutions.csv", f"resolution of {empty.iloc[0]['id']} {empty.iloc[0]['field']} has no reason")
    return frame


def _same_rows(a: pd.DataFrame, b: pd.DataFrame) -> None:
    if list(a.index) != list(b.index):
        only = sorted(set(a.index) ^ set(b.index))
        raise DataError("coding", f"the two codings cover different rows: {only[:5]}")


def _study_pairs(ids: pd.Series) -> set[tuple[str, str]]:
    """Pairs of rows the coder put in the same study (spelling of ids does not matter)."""
    groups = ids.groupby(ids).groups.values()
    return {tuple(sorted(pair)) for members in groups for pair in combinations(members, 2)}


def row_round(ids) -> pd.Series:
    """'first round' or 'second search' for each row id."""
    ids = pd.Index(ids)
    return pd.Series(["first round" if int(i[1:]) <= FIRST_ROUND_LAST else "second search" for i in ids], index=ids)


def agreement(folder: Path | None = None, rows: str | None = None) -> pd.DataFrame:
    """Per field: rows, share of agreement, Cohen's kappa (categorical fields) and disagreements.

    ``rows``: None for every row, or ``"first round"`` / ``"second search"`` for one round's rows.
    For ``study_id``: the share of row pairs put in the same study by either coder that both put
    together (kappa does not apply: ids are names, not categories).
    """
    a, b = load_coding("a", folder), load_coding("b", folder)
    _same_rows(a, b)
    if rows is not None:
        keep = row_round(a.index) == rows
        if not keep.any():
            raise ValueError(f"no rows of the {rows!r}")
        a, b = a[keep.to_numpy()], b[keep.to_numpy()]
    out = []
    for field in KAPPA_FIELDS:
        x, y = a[field], b[field]
        levels = sorted(set(x) | set(y))
        table = pd.crosstab(pd.Categorical(x, levels), pd.Categorical(y, levels), dropna=False).to_numpy()
        kappa = cohens_kappa(table).kappa if len(levels) > 1 else 1.0
        out.append({"field": field, "rows": len(x), "agreement": float((x == y).mean()), "kappa": float(kappa),
                    "disagreements": int((x != y).sum())})
    pa, pb = _study_pairs(a["study_id"]), _study_pairs(b["study_id"])
    union = pa | pb
    out.append({"field": "study_id", "rows": len(a), "agreement": len(pa & pb) / len(union) if union else 1.0,
                "kappa": float("nan"), "disagreements": len(union - (pa & pb))})
    return pd.DataFrame(out)


def disagreements(folder: Path | None = None) -> pd.DataFrame:
    """Every (row, field) where the coders differ, joined with its recorded resolution."""
    a, b = load_coding("a", folder), load_coding("b", folder)
    _same_rows(a, b)
    rows = [{"id": i, "field": f, "coder_a": a.loc[i, f], "coder_b": b.loc[i, f]}
            for f in KAPPA_FIELDS for i in a.index if a.loc[i, f] != b.loc[i, f]]
    frame = pd.DataFrame(rows, columns=["id", "field", "coder_a", "coder_b"])
    res = load_resolutions(folder)
    return frame.merge(res[["id", "field", "resolved", "reason"]], on=["id", "field"], how="left")


def _text(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_resolved(evidence: pd.DataFrame, folder: Path | None = None) -> None:
    """Raise :class:`DataError` unless every code in ``evidence`` is the coders' common value, the
    recorded resolution, or (for ``study_id`` and ``direction_words``) coder A's where nothing is
    recorded (coder B's ids and word spans differ in spelling, not in meaning: their grouping is
    checked by :func:`agreement`)."""
    a, b = load_coding("a", folder), load_coding("b", folder)
    _same_rows(a, b)
    if list(evidence["id"]) != list(a.index):
        raise DataError("evidence.csv", "rows differ from the codings' rows (order or ids)")
    res = load_resolutions(folder).set_index(["id", "field"])["resolved"]
    for row in evidence.itertuples(index=False):
        for field in CHECKED_FIELDS:
            value = _text(getattr(row, field))
            if (row.id, field) in res.index:
                expected = res[(row.id, field)]
            elif field in KAPPA_FIELDS:
                if a.loc[row.id, field] != b.loc[row.id, field]:
                    raise DataError("resolutions.csv", f"{row.id} {field}: the coders differ "
                                                       f"({a.loc[row.id, field]!r} vs {b.loc[row.id, field]!r}) "
                                                       "and no resolution is recorded")
                expected = a.loc[row.id, field]
            else:
                expected = a.loc[row.id, field]
            if value != expected:
                raise DataError("evidence.csv", f"{row.id} {field} is {value!r}; the codings give {expected!r}")
