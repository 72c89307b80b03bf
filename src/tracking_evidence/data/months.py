"""The EEF's conversion of effect sizes into months of additional progress: ``data/eef-months-progress.csv``.

The Education Endowment Foundation's Teaching and Learning Toolkit translates an effect size into
"additional months' progress" with a published table; each row of the file is a row of that table
as printed on the page at :data:`ADDRESS` (the page's table lost its cell borders: "10.020.09Low
impact" is 1 month for effect sizes 0.02 to 0.09). :func:`load_months` checks that every row's
numbers are those printed, that the bands are ordered and do not overlap. Negative effect sizes
convert to the same number of months, negative (the page's note ii).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .datasets import Column, DataError, Dataset, read_dataset

__all__ = ["ADDRESS", "NOTE", "MONTHS", "load_months"]

ADDRESS = "https://educationendowmentfoundation.org.uk/evidence-summaries/about-the-toolkits/attainment/"
#: The page's own sentence on what the measure is (quoted as printed).
NOTE = ("The impact measure shows the number of additional months of progress made, on average, by children and young "
        "people who received the intervention, compared to similar children and young people who did not.")

MONTHS = Dataset(
    "eef-months-progress.csv",
    (
        Column("months", "int", 0, 12, description="additional months' progress"),
        Column("es_low", "float", -0.01, 1.0, description="lowest effect size of the band (2 decimals)"),
        Column("es_high", "float", 0.01, 1.0, description="highest effect size of the band (2 decimals)"),
        Column("impact", "text", description="the EEF's word for the band"),
        Column("row_as_printed", "text", description="the table row as the page printed it"),
    ),
    "EEF Toolkit: effect size to months of additional progress",
    ADDRESS,
    checksum=False,
)


def load_months(folder: Path | None = None) -> pd.DataFrame:
    table = read_dataset(MONTHS, folder)
    for line, row in enumerate(table.itertuples(index=False), start=2):
        printed = f"{row.es_low:.2f}{row.es_high:.2f}{row.impact}"
        if not row.row_as_printed.endswith(printed) or (row.months and not row.row_as_printed.startswith(str(row.months))):
            raise DataError(MONTHS.file, f"row {row.months} ({row.es_low}, {row.es_high}) is not the row printed: "
                                         f"'{row.row_as_printed}'", row=line)
    if not (table["es_low"].diff().dropna() > 0).all() or not (table["es_low"].iloc[1:].to_numpy()
                                                               > table["es_high"].iloc[:-1].to_numpy()).all():
        raise DataError(MONTHS.file, "bands are not ordered and disjoint")
    return table
