"""Section arithmetic: how many classes (and teachers) a grade needs with 1, 2 or 3 tracks.

Claim C5 (attributed by Source C to critics of detracking) says that detracking "would require
additional resources, such as hiring more teachers". The first-order cost of a tracking
structure is arithmetic: a grade of :math:`n` students split into tracks of :math:`n_1, \\dots,
n_k` students, each taught in classes of at most :math:`c` students, needs

.. math::

    S(n_1, \\dots, n_k; c) = \\sum_{j=1}^{k} \\left\\lceil n_j / c \\right\\rceil

sections, because each track is rounded up separately. With one track (no tracking)
:math:`S = \\lceil n / c \\rceil`, the fewest sections any arrangement can have, since
:math:`\\sum_j \\lceil n_j/c \\rceil \\ge \\lceil \\sum_j n_j / c \\rceil = \\lceil n/c \\rceil`.
Splitting a track into two never lowers :math:`S` (the ceiling is subadditive), so a finer
tracking structure never needs fewer sections than the coarser one it refines. A teacher who
teaches :math:`L` sections of the subject covers :math:`S / L` full-time equivalents; whole
teachers are :math:`\\lceil S / L \\rceil`.

Students are assigned to tracks by the largest-remainder (Hamilton) method: each track gets the
integer part of :math:`n \\cdot s_j` and the leftover students go, one each, to the tracks with
the largest fractional parts (ties to the earlier track), so the counts always sum to :math:`n`.

The defaults below are **assumptions**, stated here and in the chapter, not findings: a class
cap of 30, a teaching load of 5 sections of the subject per teacher, grade sizes from 60 to 600
students, and track shares of (0.5, 0.5) for two tracks and (0.25, 0.5, 0.25) for three.

Bad input (non-integer or non-positive ``n``, ``cap`` or ``load``; shares that are not positive
or do not sum to 1; negative counts) raises :class:`ValueError` naming the problem.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


__all__ = [
    "DEFAULT_CAP",
    "DEFAULT_LOAD",
    "DEFAULT_GRADE_SIZES",
    "DEFAULT_TRACK_SHARES",
    "allocate",
    "sections_for_counts",
    "sections_needed",
    "teachers_needed",
    "sections_table",
    "SectionSummary",
    "summarise_sections",
    "SENSITIVITY_CAPS",
    "c5_numbers",
    "SUPPORTS",
    "staffing_with_support",
    "staffing_table",
]

DEFAULT_CAP = 30  # assumption: class-size cap
DEFAULT_LOAD = 5  # assumption: sections of the subject one full-time teacher teaches
DEFAULT_GRADE_SIZES = tuple(range(60, 601))  # assumption: students in one grade of one school
DEFAULT_TRACK_SHARES: dict[int, tuple[float, ...]] = {  # assumption: share of the grade in each track
    1: (1.0,),
    2: (0.5, 0.5),
    3: (0.25, 0.5, 0.25),
}


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def _check_shares(shares: Sequence[float]) -> tuple[float, ...]:
    shares = tuple(float(s) for s in shares)
    if not shares:
        raise ValueError("track shares are empty: give at least one share")
    if any(not math.isfinite(s) or s <= 0 for s in shares):
        raise ValueError(f"track shares must be positive and finite, got {shares}")
    if not math.isclose(sum(shares), 1.0, abs_tol=1e-9):
        raise ValueError(f"track shares must sum to 1, they sum to {sum(shares)!r}: {shares}")
    return shares


def allocate(n: int, shares: Sequence[float]) -> tuple[int, ...]:
    """Split ``n`` students into tracks with the given shares (largest-remainder method).

    Each count is within one student of ``n * share`` and the counts sum to ``n``.
    """
    n = _positive_int(n, "n")
    shares = _check_shares(shares)
    exact = [n * s for s in shares]
    counts = [math.floor(x) for x in exact]
    leftover = n - sum(counts)
    order = sorted(range(len(shares)), key=lambda j: (-(exact[j] - counts[j]), j))
    for j in order[:leftover]:
        counts[j] += 1
    return tuple(counts)


def sections_for_counts(counts: Iterable[int], cap: int) -> int:
    """Sections needed when each track (``counts``) is taught in classes of at most ``cap``.

    An empty track needs no section. Formula: ``sum(ceil(n_j / cap))``.
    """
    cap = _positive_int(cap, "cap")
    counts = list(counts)
    if not counts:
        raise ValueError("counts are empty: give the number of students in each track")
    total = 0
    for count in counts:
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise ValueError(f"each track count must be a non-negative integer, got {count!r}")
        total += -(-int(count) // cap)
    return total


def sections_needed(n: int, cap: int = DEFAULT_CAP, shares: Sequence[float] = (1.0,)) -> int:
    """Sections a grade of ``n`` students needs with tracks of the given ``shares`` and cap."""
    return sections_for_counts(allocate(n, shares), cap)


def teachers_needed(sections: int, load: int = DEFAULT_LOAD) -> int:
    """Whole teachers needed to teach ``sections`` when each teaches ``load`` sections: ceil(S / L)."""
    load = _positive_int(load, "load")
    if isinstance(sections, bool) or not isinstance(sections, (int, np.integer)) or sections < 0:
        raise ValueError(f"sections must be a non-negative integer, got {sections!r}")
    return -(-int(sections) // load)


def sections_table(
    sizes: Iterable[int] = DEFAULT_GRADE_SIZES,
    cap: int = DEFAULT_CAP,
    track_shares: dict[int, Sequence[float]] | None = None,
    load: int = DEFAULT_LOAD,
) -> pd.DataFrame:
    """One row per grade size and tracking structure.

    Columns: ``n``, ``tracks``, ``sections``, ``extra_sections`` (over one track), ``fte``
    (sections / load), ``teachers`` (ceil), ``extra_teachers`` (over one track), ``mean_class``
    (n / sections).
    """
    cap = _positive_int(cap, "cap")
    load = _positive_int(load, "load")
    track_shares = DEFAULT_TRACK_SHARES if track_shares is None else track_shares
    if 1 not in track_shares:
        raise ValueError("track_shares needs a one-track entry (key 1) as the reference")
    sizes = list(sizes)
    if not sizes:
        raise ValueError("sizes are empty: give at least one grade size")
    rows = []
    for n in sizes:
        base = sections_needed(n, cap, track_shares[1])
        base_teachers = teachers_needed(base, load)
        for tracks, shares in sorted(track_shares.items()):
            if len(_check_shares(shares)) != tracks:
                raise ValueError(f"track_shares[{tracks}] has {len(shares)} shares, expected {tracks}")
            s = sections_needed(n, cap, shares)
            t = teachers_needed(s, load)
            rows.append(
                {
                    "n": int(n),
                    "tracks": int(tracks),
                    "sections": s,
                    "extra_sections": s - base,
                    "fte": s / load,
                    "teachers": t,
                    "extra_teachers": t - base_teachers,
                    "mean_class": n / s,
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SectionSummary:
    """What the table says about the cost of tracks, per tracking structure (key = tracks)."""

    cap: int
    load: int
    n_min: int
    n_max: int
    n_sizes: int
    mean_extra_sections: dict[int, float]
    max_extra_sections: dict[int, int]
    share_more_sections: dict[int, float]  # share of grade sizes where the structure needs more than one track
    mean_extra_fte: dict[int, float]
    share_more_teachers: dict[int, float]
    mean_class: dict[int, float]  # mean over grade sizes of n / sections
    one_track_ever_more: bool  # does one track ever need more sections than a tracked structure?


def summarise_sections(table: pd.DataFrame, cap: int, load: int) -> SectionSummary:
    """Summarise :func:`sections_table` over its grade sizes."""
    needed = {"n", "tracks", "sections", "extra_sections", "fte", "teachers", "extra_teachers", "mean_class"}
    missing = needed - set(table.columns)
    if missing:
        raise ValueError(f"sections table lacks column(s) {sorted(missing)}")
    if table.empty:
        raise ValueError("sections table is empty")
    by = table.groupby("tracks")
    return SectionSummary(
        cap=int(cap),
        load=int(load),
        n_min=int(table["n"].min()),
        n_max=int(table["n"].max()),
        n_sizes=int(table["n"].nunique()),
        mean_extra_sections={int(k): float(g["extra_sections"].mean()) for k, g in by},
        max_extra_sections={int(k): int(g["extra_sections"].max()) for k, g in by},
        share_more_sections={int(k): float((g["extra_sections"] > 0).mean()) for k, g in by},
        mean_extra_fte={int(k): float((g["extra_sections"] / load).mean()) for k, g in by},
        share_more_teachers={int(k): float((g["extra_teachers"] > 0).mean()) for k, g in by},
        mean_class={int(k): float(g["mean_class"].mean()) for k, g in by},
        one_track_ever_more=bool((table["extra_sections"] < 0).any()),
    )


SENSITIVITY_CAPS = (25, 30, 35)  # assumption: caps over which the verdict must hold


def c5_numbers(
    sizes: Iterable[int] = DEFAULT_GRADE_SIZES,
    caps: Iterable[int] = SENSITIVITY_CAPS,
    load: int = DEFAULT_LOAD,
    track_shares: dict[int, Sequence[float]] | None = None,
) -> dict[int, SectionSummary]:
    """:class:`SectionSummary` of :func:`sections_table` for each class cap in ``caps``."""
    caps = list(caps)
    if not caps:
        raise ValueError("caps are empty: give at least one class-size cap")
    sizes = list(sizes)
    return {
        int(cap): summarise_sections(sections_table(sizes, cap, track_shares, load), cap, load) for cap in caps
    }




# ----------------------------------------------------------------------------------------------
# The staffing detracking reforms actually used
# ----------------------------------------------------------------------------------------------

#: Supports that evaluated detracking reforms added, as published (data/evidence.csv):
#: - "double dose" (Chicago, 2003; E146): students below the national median took two periods of
#:   algebra a day instead of one;
#: - "common prep period" (Sequoia Union's Algebra I Initiative, 2019; E147): the teachers of the
#:   detracked classes got an additional common preparation period (read as one period out of
#:   their ``load`` teaching periods, an assumption stated here);
#: - "none": detracked classes at the same cap, no support.
SUPPORTS = ("none", "double dose", "common prep period")


def staffing_with_support(n: int, support: str, cap: int = DEFAULT_CAP, load: int = DEFAULT_LOAD,
                          tracked_shares: Sequence[float] = (0.5, 0.5), below_median: float = 0.5) -> dict:
    r"""Teacher FTE of one subject in a grade of ``n`` students: tracked (``tracked_shares``) versus
    detracked with ``support`` (see :data:`SUPPORTS`).

    Detracked sections are :math:`\lceil n / c \rceil`; a double dose adds the sections that the
    ``below_median`` share of students needs for its second period,
    :math:`\lceil n_{below} / c \rceil`; a common prep period releases each detracked-class teacher
    from one of ``load`` periods, so the detracked FTE is divided by :math:`(L-1)/L`.
    """
    if support not in SUPPORTS:
        raise ValueError(f"support must be one of {SUPPORTS}, got {support!r}")
    if not 0 < below_median < 1:
        raise ValueError(f"below_median must lie in (0, 1), got {below_median}")
    tracked = sections_needed(n, cap, tracked_shares) / load
    sections = sections_needed(n, cap)
    if support == "double dose":
        below = allocate(n, (below_median, 1 - below_median))[0]  # largest remainder, as for tracks
        sections += sections_needed(max(1, below), cap)
    fte = sections / load
    if support == "common prep period":
        if load < 2:
            raise ValueError("a common prep period needs a load of at least 2 periods")
        fte = fte * load / (load - 1)
    return {"n": int(n), "support": support, "tracked_fte": tracked, "detracked_fte": fte,
            "extra_fte": fte - tracked, "extra_share": (fte - tracked) / tracked}


def staffing_table(support: str, sizes: Iterable[int] = DEFAULT_GRADE_SIZES, cap: int = DEFAULT_CAP,
                   load: int = DEFAULT_LOAD) -> pd.DataFrame:
    """:func:`staffing_with_support` for every grade size."""
    return pd.DataFrame([staffing_with_support(int(n), support, cap, load) for n in sizes])
