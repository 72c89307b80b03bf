"""Every figure's numbers as a CSV file a reader can download, checked against what the figure draws.

A chapter draws a figure from a table, then calls :func:`export` with the figure, that table and
the figure's name (its ``fig-...`` label). :func:`export` first checks that every number the figure
draws in data coordinates (points, line vertices, bar lengths, interval ends, shaded regions,
reference lines) is a number of the table, so the CSV cannot drift from the picture; then it writes
``<name>.csv``. The page links the file under the caption with ``{download}``.

Positions that are layout, not data (a forest plot's row numbers, the index of a specification in
a specification curve, the slots of a categorical bar chart), are declared with ``layout``: those
coordinates are left out of the check. Text, tick labels, images and colour bars are not checked.

Where the CSV goes: ``$TRACKING_FIGURE_DATA`` when set; else ``_build/figure-data/`` of the book
this runs in (found from the working directory by its ``_config.yml`` and ``_toc.yml``); else, in a
chapter notebook run outside the repository, ``figure-data/`` in the working directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["attach", "drawn_values", "check_covers", "export", "export_table", "output_directory", "DOWNLOAD_DIR",
           "smallest_text"]

DOWNLOAD_DIR = "_build/figure-data"  # relative to the book's root; the pages' {download} links point here
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Tolerances of the check: the CSV is written at full precision (repr), so drawn and tabled numbers
# agree to rounding; 1e-9 relative allows a sum computed in another order (bar ends, x + width).
_RTOL, _ATOL = 1e-9, 1e-12


def output_directory() -> Path:
    """Where :func:`export` writes (see the module's docstring)."""
    if os.environ.get("TRACKING_FIGURE_DATA"):
        return Path(os.environ["TRACKING_FIGURE_DATA"])
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "_toc.yml").is_file():
            return folder / DOWNLOAD_DIR
    return here / "figure-data"


def _layout_for(layout, index: int) -> set[str]:
    spec = layout.get(index, ()) if isinstance(layout, dict) else layout
    spec = {spec} if isinstance(spec, str) else set(spec)
    unknown = spec - {"x", "y"}
    if unknown:
        raise ValueError(f"layout names axes 'x' or 'y', not {sorted(unknown)}")
    return spec


def _add(items: list, axes_index: int, coordinate: str, alternatives, layout: set[str]) -> None:
    """Record that axes ``axes_index`` draws, on ``coordinate``, one of ``alternatives`` (arrays)."""
    if coordinate in layout:
        return
    cleaned = []
    for values in alternatives:
        values = np.asarray(values, dtype=float).ravel()
        cleaned.append(values[np.isfinite(values)])
    if all(v.size for v in cleaned):
        items.append((axes_index, coordinate, cleaned))


def _points(transform, ax, xy) -> dict[str, np.ndarray]:
    """The data coordinates of ``xy`` under ``transform``: both for data, one for a blended
    transform (axhline, axvline, axhspan), none for axes or figure coordinates."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if transform == ax.transData:
        return {"x": xy[:, 0], "y": xy[:, 1]}
    if transform == ax.get_yaxis_transform():
        return {"y": xy[:, 1]}
    if transform == ax.get_xaxis_transform():
        return {"x": xy[:, 0]}
    return {}


def _collection_points(collection, ax) -> dict[str, np.ndarray]:
    from matplotlib.collections import PathCollection

    if isinstance(collection, PathCollection):  # scatter: the offsets are the data, the paths are markers
        if collection.get_offset_transform() != ax.transData:
            return {}
        return _points(ax.transData, ax, collection.get_offsets())
    vertices = [p.vertices for p in collection.get_paths() if len(p.vertices)]  # segments, polygons
    if not vertices:
        return {}
    return _points(collection.get_transform(), ax, np.vstack(vertices))


def _rectangle_items(artist, ax) -> dict[str, list]:
    """A bar is data by its ends or by its length (stacked bars: the segment's count, not its
    cumulative ends); either may be in the table. Spans (axhspan) are data by their ends only."""
    x0, y0, w, h = artist.get_x(), artist.get_y(), artist.get_width(), artist.get_height()
    ends = _points(artist.get_data_transform(), ax, [[x0, y0], [x0 + w, y0 + h]])
    if artist.get_data_transform() != ax.transData:
        return {k: [v] for k, v in ends.items()}
    return {"x": [ends["x"], [w]], "y": [ends["y"], [h]]}


def drawn_values(fig, layout=()) -> list[tuple[int, str, list[np.ndarray]]]:
    """What ``fig`` draws in data coordinates: a list of (axes index, 'x', 'y' or 'value', the
    alternatives), one per drawn element; the element is covered by a table holding every number
    of at least one alternative.

    ``layout``: coordinates that are positions, not data; ``"y"``, ``("x", "y")``, or a dict from
    axes index to such a spec for figures whose panels differ.
    """
    from matplotlib.collections import Collection, QuadMesh
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle
    from matplotlib.spines import Spine

    items: list = []
    for index, ax in enumerate(fig.axes):
        if hasattr(ax, "_colorbar"):
            continue  # a colour bar's ticks are a scale, its mesh a copy of the palette
        spec = _layout_for(layout, index)
        for artist in ax.get_children():
            if not artist.get_visible() or artist is ax.patch or isinstance(artist, Spine):
                continue
            points: dict = {}
            if isinstance(artist, Line2D):
                points = _points(artist.get_transform(), ax, np.column_stack(artist.get_data()))
            elif isinstance(artist, QuadMesh):
                _add(items, index, "value", [artist.get_array()], set())
                points = _points(artist.get_transform(), ax, artist.get_coordinates())
            elif isinstance(artist, Collection):
                points = _collection_points(artist, ax)
            elif isinstance(artist, Rectangle):
                for coordinate, alternatives in _rectangle_items(artist, ax).items():
                    _add(items, index, coordinate, alternatives, spec)
                continue
            elif isinstance(artist, Patch):
                path = artist.get_path().transformed(artist.get_patch_transform())
                points = _points(artist.get_data_transform(), ax, path.vertices)
            for coordinate, values in points.items():
                _add(items, index, coordinate, [values], spec)
    return items


def _numbers(data: pd.DataFrame) -> np.ndarray:
    numeric = data.select_dtypes(include=["number", "bool"]).to_numpy(dtype=float).ravel()
    return np.unique(numeric[np.isfinite(numeric)])


def _held(table: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which of ``values`` are within tolerance of a number of the sorted array ``table``."""
    position = np.clip(np.searchsorted(table, values), 1, len(table) - 1)
    nearest = np.minimum(np.abs(table[position] - values), np.abs(table[position - 1] - values))
    return nearest <= _ATOL + _RTOL * np.abs(values)


def check_covers(fig, data: pd.DataFrame, layout=(), name: str = "the figure") -> None:
    """Raise ``ValueError`` naming the numbers ``fig`` draws that ``data`` does not hold."""
    table = np.unique(np.append(_numbers(data), [0.0, 0.0]))  # zero: the baseline of bars and regions
    if table.size < 2:
        table = np.append(table, np.inf)
    missing = []
    for index, coordinate, alternatives in drawn_values(fig, layout):
        if any(_held(table, values).all() for values in alternatives):
            continue
        values = alternatives[0]
        missing.extend((index, coordinate, float(v)) for v in values[~_held(table, values)])
    missing = sorted(set(missing))
    if missing:
        shown = ", ".join(f"axes {i} {c}={v:.6g}" for i, c, v in missing[:8])
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        raise ValueError(f"{name} draws numbers its data table does not hold: {shown}{more}. Add the columns "
                         "the figure draws (intervals, reference lines), or declare layout coordinates.")


def _check_table(data: pd.DataFrame, name: str) -> None:
    if not isinstance(data, pd.DataFrame) or data.empty:
        raise ValueError(f"{name}: the figure's data must be a non-empty DataFrame")
    unnamed = [str(c) for c in data.columns if not isinstance(c, str) or not c.strip() or c.startswith("Unnamed")]
    if unnamed:
        raise ValueError(f"{name}: every column needs a name that says what it is; unnamed: {unnamed}")
    if data.columns.duplicated().any():
        raise ValueError(f"{name}: duplicated column names {sorted(set(data.columns[data.columns.duplicated()]))}")


def export_table(data: pd.DataFrame, name: str, suffix: str = "csv") -> Path:
    """Write ``data`` as ``<name>.<suffix>`` (csv or json, records) for download; returns the path."""
    if not _NAME.match(name):
        raise ValueError(f"file name {name!r}: lower-case letters, digits and hyphens only")
    _check_table(data, name)
    folder = output_directory()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.{suffix}"
    if suffix == "csv":
        data.to_csv(path, index=False)  # floats as their shortest round-trip repr
    elif suffix == "json":
        data.to_json(path, orient="records", indent=1, double_precision=15)
    else:
        raise ValueError(f"unknown format {suffix!r}: csv or json")
    return path


def export(fig, name: str, data: pd.DataFrame | None = None, layout=None) -> Path:
    """Check that ``data`` holds what ``fig`` draws (:func:`check_covers`), then write it as
    ``<name>.csv`` for the download link under the figure. Returns the path.

    Without ``data``, the table the book's plotting function kept on the figure (:func:`attach`)."""
    if data is None:
        kept = getattr(fig, "tracking_figure_data", None)
        if kept is None:
            raise ValueError(f"{name}: no data given and the figure keeps none; pass the table it was drawn from")
        data, kept_layout = kept
        layout = kept_layout if layout is None else layout
    layout = () if layout is None else layout
    _check_table(data, name)
    check_covers(fig, data, layout, name)
    path = export_table(data, name)
    _write_text_sizes(fig, name, path.parent)
    return path


def smallest_text(fig) -> float:
    """The smallest font size (points) of any visible, non-empty text of ``fig``: titles, labels, tick labels,
    legends and annotations."""
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return float(min(sizes)) if sizes else float("nan")


def _write_text_sizes(fig, name: str, folder: Path) -> None:
    """Beside the downloads, outside them: what the browser test needs to measure the figure's smallest text
    as a reader sees it (its size in points, the figure's dpi and width in pixels)."""
    import json

    sizes = folder.parent / "figure-text"
    sizes.mkdir(parents=True, exist_ok=True)
    record = {"smallest_text_pt": smallest_text(fig), "dpi": float(fig.dpi),
              "width_px": float(fig.get_figwidth() * fig.dpi)}
    (sizes / f"{name}.json").write_text(json.dumps(record), encoding="utf-8")


def attach(fig, data: pd.DataFrame, layout=()) -> None:
    """Keep on ``fig`` the table it was drawn from (and its layout coordinates), for :func:`export`
    to write without the chapter building it again. The book's plotting functions call this."""
    _check_table(data, "the figure's table")
    fig.tracking_figure_data = (data.reset_index(drop=True), layout)
