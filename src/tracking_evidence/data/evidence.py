"""The published evidence: ``data/evidence.csv``, loaded and validated.

One row per reported number: which study reported it, what it measures, the design, the exact
sentence that contains it (``quote``) and the address of the page where that sentence was read.
:func:`load_evidence` checks, on top of the column types that :func:`tracking_evidence.data.read_dataset`
enforces (header in the fixed order, no missing required cell, the closed lists of ``design``
and of every coded field):

- ids are ``E`` + three or more digits and unique;
- every ``citation`` is a key of ``book/references.bib``;
- the estimate's digits appear in its quote (:func:`number_in_quote`: ``0.117`` matches ``.117``,
  ``0.117`` or ``0,117`` is *not* accepted; a negative estimate matches ``-.063``, ``−0.063``,
  ``– 0.063`` or an unsigned ``0.063`` next to a word of direction such as "lower");
- ``se`` is positive; ``ci_low <= estimate <= ci_high`` where the bounds are given, a bound never
  comes without the other, and an interval comes with its level; every published uncertainty
  figure (``se``, ``ci_low``, ``ci_high``, ``p``) appears in the quote too;
- ``se_derived`` says how the SE the book uses is obtained, consistently with what is published;
- the codes agree with each other: a row compares tracking intensities (``contrast``) exactly when
  it has a direction other than "not a comparison of tracking intensity", a ``sign_more_tracking``
  and ``direction_words``; the direction words occur in the quote;
- ``address`` starts with ``http``.

The codes (``study_id``, ``setting``, ``contrast``, ``construct``, ``subgroup``, ``direction``,
``direction_words``, ``sign_more_tracking``) are people's readings under
``data/evidence-protocol.md``; nothing here or elsewhere in the package derives them from text.

Any failure raises :class:`~tracking_evidence.data.DataError` naming ``evidence.csv``, the line
(header = line 1) and the problem. Nothing is dropped. The file is hand-curated, so it has no
checksum (``checksum=False``): it is validated by content.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pandas as pd

from ..stats.conversions import DERIVATIONS, P_BOUNDS, derive, parse_inputs
from .datasets import Column, DataError, Dataset, book_path, data_dir, read_dataset

__all__ = [
    "DESIGNS",
    "SETTINGS",
    "CONTRASTS",
    "CONSTRUCTS",
    "SUBGROUPS",
    "DIRECTIONS",
    "ROLES",
    "RISKS",
    "CODED",
    "NOT_TRACKING",
    "NOT_A_COMPARISON",
    "COLUMNS",
    "EVIDENCE",
    "bib_keys",
    "default_bib",
    "number_in_quote",
    "numbers_in_text",
    "load_evidence",
]

DESIGNS = ("RCT", "quasi-experimental", "descriptive", "meta-analysis", "review")
SETTINGS = ("K-12", "higher education", "other")
NOT_TRACKING = "not a tracking-intensity comparison"
CONTRASTS = ("system tracking", "course tracking", "placement", "within-class grouping", "acceleration", "enrichment",
             "detracking reform", NOT_TRACKING)
CONSTRUCTS = ("mean achievement", "subgroup achievement", "gap", "dispersion", "gradient", "inequality, pooled",
              "attainment",
              "socio-emotional", "cost or staffing", "views or practice", "context")
SUBGROUPS = ("all", "low", "middle", "high", "named group")
NOT_A_COMPARISON = "not a comparison of tracking intensity"
DIRECTIONS = ("favours more tracking", "favours less tracking", "no clear difference", NOT_A_COMPARISON)
ROLES = ("primary", "alternative specification", "range end", "context")
RISKS = ("low", "some concerns", "high", "not assessed")
SE_DERIVED = DERIVATIONS
#: The fields a coder decides (data/evidence-protocol.md); both coders code these.
CODED = ("study_id", "setting", "contrast", "construct", "subgroup", "direction", "direction_words",
         "sign_more_tracking", "higher_is_better")
#: Constructs that measure inequality: the question reads the inequality measure itself (higher is worse).
INEQUALITY = ("gap", "dispersion", "gradient", "inequality, pooled")

EVIDENCE = Dataset(
    "evidence.csv",
    (
        Column("id", "text", description="row id: E001, E002, ..."),
        Column("study_id", "text", description="one id per study (coded): first author + year"),
        Column("citation", "text", description="key of book/references.bib"),
        Column("study", "text", description="short label, e.g. 'Terrin & Triventi 2023'"),
        Column("year", "int", 1900, 2100, nullable=True,
               description="publication year of the cited version (blank where no page read showed it)"),
        Column("country", "text", description="where the data come from ('international' for syntheses)"),
        Column("setting", "category", levels=SETTINGS, description="where the tracking happens (coded)"),
        Column("design", "category", levels=DESIGNS, description="design of the study that produced the number"),
        Column("contrast", "category", levels=CONTRASTS, description="what is compared (coded, closed list)"),
        Column("construct", "category", levels=CONSTRUCTS, description="what is measured (coded, closed list)"),
        Column("subgroup", "category", levels=SUBGROUPS, description="whose outcome (coded, closed list)"),
        Column("group", "text", description="the group in the source's words"),
        Column("direction", "category", levels=DIRECTIONS, description="which way the row points (coded)"),
        Column("direction_words", "text", nullable=True, description="the quote's words that decide the direction"),
        Column("sign_more_tracking", "int", -1, 1, nullable=True,
               description="1 if the estimate is more minus less tracked, -1 if the reverse (coded)"),
        Column("higher_is_better", "category", levels=("true", "false"), nullable=True,
               description="whether a higher value of the outcome as published is better (coded; false for dropout, "
                           "failure, a gap, a dispersion, a gradient); required for a tracking-intensity comparison"),
        Column("estimate_role", "category", levels=ROLES, description="primary, alternative specification, range end"),
        Column("outcome", "text", description="what was measured, in the source's words"),
        Column("comparison", "text", description="what is compared with what, in the source's words"),
        Column("unit", "text", description="unit of the estimate as published"),
        Column("estimate", "float", description="the number as reported"),
        Column("se", "float", nullable=True, description="standard error, as published"),
        Column("ci_low", "float", nullable=True, description="lower confidence bound, as published"),
        Column("ci_high", "float", nullable=True, description="upper confidence bound, as published"),
        Column("ci_level", "float", 0.5, 0.9999, nullable=True, description="level of the interval (0.95)"),
        Column("p", "float", 0, 1, nullable=True, description="exact p-value, as published"),
        Column("t_stat", "float", nullable=True, description="t or z statistic of the estimate, as published"),
        Column("p_bound", "float", 0, 0.1, nullable=True,
               description="bound of a statement of significance ('p < .01', 'significant at the 5% level')"),
        Column("raw_inputs", "text", nullable=True,
               description="published inputs of a derived effect size: m1=..;sd1=..;n1=..;m2=..;sd2=..;n2=.. or "
                           "b=..;se_b=..;sd_y=.."),
        Column("n", "float", 0, None, nullable=True, description="sample size as published (see notes for the unit)"),
        Column("se_derived", "category", levels=SE_DERIVED, nullable=True,
               description="how the SE the book uses is derived (tracking_evidence.stats.conversions); blank when "
                           "an SE is published or no uncertainty is"),
        Column("risk_of_bias", "category", levels=RISKS, description="coded risk of bias"),
        Column("rob_notes", "text", description="why that risk of bias"),
        Column("quote", "text", description="the exact sentence(s) that contain the number and its uncertainty"),
        Column("address", "text", description="URL of the page where the sentence was read"),
        Column("search_record", "text", nullable=True,
               description="record_id of data/search/screening.csv that gave the row (blank for rows of the first search)"),
        Column("notes", "text", nullable=True, description="caveats"),
        Column("coding_notes", "text", nullable=True, description="what a second reader needs about the codes"),
    ),
    "Published figures on tracking, grouping, acceleration and detracking",
    "hand-curated; each row's quote read with the search tools at its address; coded under data/evidence-protocol.md",
    checksum=False,
)

COLUMNS = tuple(column.name for column in EVIDENCE.columns)

_ID = re.compile(r"^E\d{3,}$")
#: A web address, or a file of the stored public repositories whose repository the search tools do not name
#: (``store:`` + the id ``read_file`` returns), for a copy read there.
_ADDRESS = re.compile(r"^(https?://\S+|store:\d+)$")
_BIB_KEY = re.compile(r"@\s*[A-Za-z]+\s*[{(]\s*([^,\s{}()]+)\s*,")

# A number in running text: an optional sign (hyphen-minus, true minus, en/em dash) only when it
# is not glued to a preceding word, digit or point (so "3–12" is the range 3 to 12, not 3 and -12),
# then digits with optional thousands commas and decimals, or a leading-point decimal (".117").
_NUMBER = re.compile(
    r"(?P<sign>(?<![\w.])[-\u2212\u2013\u2014]\s?)?"
    r"(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?![\d])"
)
# Words that give an unsigned number a negative direction ("0.063 lower", "a decline of 4 points").
_NEGATIVE_WORDS = re.compile(
    r"\b(lower|less|fewer|smaller|decrease[sd]?|decreasing|decline[sd]?|declining|drop(?:ped|s)?|fell|fall(?:s|ing)?"
    r"|negative(?:ly)?|reduc(?:e[sd]?|ing|tion)|below|loss|losses|lost|worse|behind|down|harm(?:ed|s)?)\b",
    re.IGNORECASE,
)
_DIRECTION_WINDOW = 80  # characters either side of the number in which a direction word counts


def default_bib() -> Path:
    """``book/references.bib`` of this repository (or the copy the book's wheel carries)."""
    return book_path("book/references.bib", "references.bib")


def bib_keys(bib: Path | None = None) -> set[str]:
    """The entry keys of a BibTeX file (``@article{key, ...``)."""
    bib = bib or default_bib()
    if not bib.exists():
        raise DataError(bib.name, f"bibliography not found at {bib}")
    return set(_BIB_KEY.findall(bib.read_text(encoding="utf-8")))


#: Small whole numbers a source may write as words ("two periods of algebra a day"). Only these
#: exact words count, never fractions or phrases ("about half", "one-tenth"), which stay out.
_NUMBER_WORDS = {w: float(i) for i, w in enumerate(
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"))}
_WORD = re.compile(r"(?<![\w-])(" + "|".join(_NUMBER_WORDS) + r")(?![\w-])", re.IGNORECASE)


def numbers_in_text(text: str) -> list[tuple[float, bool, int, int]]:
    """Every number in ``text`` as ``(value, signed_negative, start, end)``.

    Small whole numbers written as words (``two``, ``Twelve``; not ``one-tenth``) count too.
    ``value`` is the absolute value; ``signed_negative`` is True when a minus sign (``-``, ``−``,
    ``–``, ``—``) stands directly before it and is not glued to a preceding word or digit.
    """
    found = []
    for match in _NUMBER.finditer(text):
        value = float(match["num"].replace(",", ""))
        found.append((value, match["sign"] is not None, match.start(), match.end()))
    for match in _WORD.finditer(text):
        found.append((_NUMBER_WORDS[match[1].lower()], False, match.start(), match.end()))
    return sorted(found, key=lambda item: item[2])


def _same(value: float, estimate: float) -> bool:
    # Both come from decimal text; equal decimal strings parse to the same float. The tiny
    # relative tolerance only absorbs float noise, never a rounding ("0.12" never matches 0.117).
    return math.isclose(value, estimate, rel_tol=1e-12, abs_tol=0.0)


def number_in_quote(estimate: float, quote: str) -> bool:
    """True when ``estimate`` is written in ``quote``.

    A non-negative estimate must appear as an unsigned number (``.117``, ``0.117``, ``7,185``,
    ``28``); a number written with a minus sign does not match it. A negative estimate matches a
    signed number of the same absolute value (``-.063``, ``−0.063``, ``– .063``) or an unsigned one
    with a word of negative direction ("lower", "decline", "fewer", ...) within
    80 characters of it.
    """
    if not math.isfinite(estimate):
        return False
    target = abs(estimate)
    for value, negative, start, end in numbers_in_text(quote):
        if not _same(value, target):
            continue
        if estimate > 0 or estimate == 0:
            if not negative or estimate == 0:
                return True
            continue
        if negative:
            return True
        window = quote[max(0, start - _DIRECTION_WINDOW) : end + _DIRECTION_WINDOW]
        if _NEGATIVE_WORDS.search(window):
            return True
    return False


def _check_header(path: Path) -> None:
    if not path.exists():
        raise DataError(EVIDENCE.file, f"file not found at {path}")
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), None)
    if header is None:
        raise DataError(EVIDENCE.file, "file is empty")
    if tuple(header) != COLUMNS:
        raise DataError(EVIDENCE.file, f"header {header} is not the fixed column order {list(COLUMNS)}", row=1)


def load_evidence(folder: Path | None = None, bib: Path | None = None) -> pd.DataFrame:
    """Load and validate ``evidence.csv`` from ``folder`` (default ``data/``) against ``bib``.

    ``bib`` defaults to the repository's ``book/references.bib``. Returns the table with the
    columns in :data:`COLUMNS`; raises :class:`DataError` naming the line and the problem.
    """
    folder = folder or data_dir()
    _check_header(folder / EVIDENCE.file)
    frame = read_dataset(EVIDENCE, folder)
    keys = bib_keys(bib)
    seen: dict[str, int] = {}
    for line, row in enumerate(frame.itertuples(index=False), start=2):
        _check_row(row, line, keys, seen)
    _check_one_direction(frame)
    return frame


def _fail(problem: str, line: int, column: str | None = None) -> DataError:
    return DataError(EVIDENCE.file, problem, row=line, column=column)


def _given(value) -> bool:
    return value is not None and not pd.isna(value)


def _check_row(row, line: int, keys: set[str], seen: dict[str, int]) -> None:
    if not _ID.match(row.id):
        raise _fail(f"id '{row.id}' is not E followed by three or more digits", line, "id")
    if row.id in seen:
        raise _fail(f"id '{row.id}' already used on line {seen[row.id]}", line, "id")
    seen[row.id] = line
    if row.citation not in keys:
        raise _fail(f"citation '{row.citation}' is not a key of book/references.bib", line, "citation")
    derived_from_inputs = _given(row.raw_inputs)
    if not derived_from_inputs and not number_in_quote(row.estimate, row.quote):
        raise _fail(f"estimate {row.estimate!r} ({row.id}) does not appear in its quote", line, "estimate")
    if not _ADDRESS.match(row.address):
        raise _fail(f"address '{row.address}' is neither a web address (http...) nor a stored file of the search tools "
                    f"(store:<id>) ({row.id})", line, "address")
    if _given(row.n) and not (number_in_quote(row.n, row.quote) or number_in_quote(row.n, str(row.notes or ""))):
        raise _fail(f"n {row.n!r} ({row.id}) appears in neither its quote nor its notes: a sample size goes in only "
                    "where the quote prints it or the notes quote it from the page at the address", line, "n")
    _check_uncertainty(row, line)
    _check_codes(row, line)


#: Words that state significance, one of which a row with a significance bound must quote.
_SIGNIFICANCE = re.compile(r"signific|p\s*[<≤]|\*", re.IGNORECASE)


def _check_uncertainty(row, line: int) -> None:
    if _given(row.se) and row.se <= 0:
        raise _fail(f"se {row.se} is not positive ({row.id})", line, "se")
    has_low, has_high = _given(row.ci_low), _given(row.ci_high)
    if has_low != has_high:
        raise _fail(f"only one confidence bound is given ({row.id}); give both or neither", line, "ci_low")
    if has_low and not row.ci_low <= row.estimate <= row.ci_high:
        raise _fail(f"estimate {row.estimate} lies outside its interval [{row.ci_low}, {row.ci_high}] ({row.id})",
                    line, "estimate")
    if has_low != _given(row.ci_level):
        raise _fail(f"an interval needs its level and a level needs an interval ({row.id})", line, "ci_level")
    for column in ("se", "ci_low", "ci_high", "p", "t_stat"):
        value = getattr(row, column)
        if _given(value) and not number_in_quote(abs(value) if column == "t_stat" else value, row.quote):
            raise _fail(f"{column} {value!r} ({row.id}) does not appear in its quote: uncertainty goes in only as "
                        "published", line, column)
    if _given(row.p_bound):
        if row.p_bound not in P_BOUNDS:
            raise _fail(f"p_bound {row.p_bound!r} ({row.id}) is not one of {P_BOUNDS}", line, "p_bound")
        if not _SIGNIFICANCE.search(row.quote):
            raise _fail(f"p_bound is set but the quote states no significance ({row.id})", line, "p_bound")
    derived = row.se_derived if _given(row.se_derived) else None
    _check_raw_inputs(row, line, derived)
    try:
        result = derive(row.estimate, se=row.se, ci_low=row.ci_low, ci_high=row.ci_high, ci_level=row.ci_level,
                        p=row.p, t_stat=row.t_stat, p_bound=row.p_bound, raw_inputs=row.raw_inputs,
                        se_derived=derived)
    except ValueError as problem:
        raise _fail(f"the uncertainty of {row.id} cannot be recomputed from its own fields: {problem}", line,
                    "se_derived") from None
    expected = None if result.how in ("published", "none") else result.how
    if derived != expected:
        raise _fail(f"se_derived is {derived!r} but the published uncertainty makes it {expected!r} ({row.id})",
                    line, "se_derived")


def _check_raw_inputs(row, line: int, derived: str | None) -> None:
    if not _given(row.raw_inputs):
        return
    try:
        values = parse_inputs(row.raw_inputs, derived)
    except ValueError as problem:
        raise _fail(f"raw_inputs of {row.id}: {problem}", line, "raw_inputs") from None
    for name, value in values.items():
        if not number_in_quote(value, row.quote):
            raise _fail(f"raw input {name}={value!r} ({row.id}) does not appear in its quote", line, "raw_inputs")
    recomputed = derive(row.estimate, raw_inputs=row.raw_inputs, se_derived=derived).estimate
    if abs(recomputed - row.estimate) > 5e-5:
        raise _fail(f"estimate {row.estimate!r} ({row.id}) is not the {derived} recomputed from raw_inputs "
                    f"({recomputed:.4f})", line, "estimate")


def _check_codes(row, line: int) -> None:
    comparison = row.contrast != NOT_TRACKING
    if comparison != (row.direction != NOT_A_COMPARISON):
        raise _fail(f"contrast '{row.contrast}' and direction '{row.direction}' disagree about whether the row "
                    f"compares tracking intensities ({row.id})", line, "direction")
    if comparison != _given(row.sign_more_tracking):
        raise _fail(f"sign_more_tracking must be 1 or -1 exactly when the row compares tracking intensities "
                    f"({row.id})", line, "sign_more_tracking")
    if _given(row.sign_more_tracking) and row.sign_more_tracking == 0:
        raise _fail(f"sign_more_tracking is 0 ({row.id}); it is 1 or -1", line, "sign_more_tracking")
    if comparison and not _given(row.higher_is_better):
        raise _fail(f"higher_is_better is missing for {row.id}, which compares tracking intensities: say whether a "
                    f"higher '{row.outcome}' is better (true) or worse (false)", line, "higher_is_better")
    if _given(row.higher_is_better) and row.construct in INEQUALITY and row.higher_is_better == "true":
        raise _fail(f"{row.id} measures inequality ({row.construct}), where a higher value is worse: higher_is_better "
                    "must be false", line, "higher_is_better")
    words = row.direction_words if _given(row.direction_words) else ""
    if comparison and not words:
        raise _fail(f"direction '{row.direction}' needs the words that decide it ({row.id})", line,
                    "direction_words")
    if words and words not in row.quote:
        raise _fail(f"direction_words '{words}' do not occur in the quote ({row.id})", line, "direction_words")
    if row.estimate_role == "context" and comparison:
        raise _fail(f"a context row is not a tracking-intensity comparison ({row.id})", line, "estimate_role")


#: What makes "one effect" of a study for the one-direction rule (protocol, section 7).
EFFECT_KEY = ("study_id", "contrast", "comparison", "construct", "subgroup", "group", "outcome")


def _check_one_direction(frame: pd.DataFrame) -> None:
    """One study, one outcome, one subgroup: one direction among its primary rows (protocol, section 7;
    an alternative specification, such as the same effect with controls, may cross a significance
    line its primary estimate does not)."""
    rows = frame[(frame["direction"] != NOT_A_COMPARISON) & (frame["estimate_role"] == "primary")]
    for key, group in rows.groupby(list(EFFECT_KEY), sort=False, dropna=False):
        directions = sorted(set(group["direction"]))
        if len(directions) > 1:
            ids = ", ".join(group["id"])
            line = int(group.index[0]) + 2
            effect = dict(zip(EFFECT_KEY, key))
            raise _fail(f"{effect['study_id']} is coded in {len(directions)} directions ({' / '.join(directions)}) for "
                        f"one outcome and subgroup ({effect['contrast']}; {effect['construct']}, {effect['subgroup']}: "
                        f"'{effect['outcome']}'): rows {ids}", line, "direction")
