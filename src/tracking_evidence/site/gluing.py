"""Glue computed values into the book's prose.

myst-nb's ``glue`` stores a value's repr; numpy 2 scalars repr as ``np.float64(0.12)``, which
breaks ``{glue:text}`` formatting. Everything is turned into plain Python values first.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_python", "glue", "glue_all"]


def as_python(value):
    """Plain Python int/float/str/bool for numpy scalars; other objects unchanged."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    return value


def glue(name: str, value, display: bool = False):
    """Glue ``value`` (converted by :func:`as_python`) under ``name``; returns the converted value.

    Without myst-nb (a downloaded chapter notebook run with the book's wheel alone, whose prose
    already carries the values of the build) there is nothing to glue into: the value is only
    returned, and shown when ``display`` asks for it.
    """
    plain = as_python(value)
    try:
        from myst_nb import glue as myst_glue  # imported here: the package must not need myst-nb to compute
    except ImportError:
        if display:
            from IPython.display import display as show

            show(plain)
        return plain
    myst_glue(name, plain, display=display)
    return plain


def glue_all(values: dict, prefix: str = "") -> None:
    """Glue every item of ``values`` under ``prefix + key``."""
    for key, value in values.items():
        glue(f"{prefix}{key}", value)
