"""Helpers that every chapter notebook calls: set-up, and showing the package's own source."""

from __future__ import annotations

import inspect
import textwrap

import numpy as np

from lstm_course.plumbing.runtime import seed_everything, set_threads


def setup(seed: int = 0, num_threads: int = 1) -> np.random.Generator:
    """Single-threaded, seeded, compact printing; returns a NumPy ``Generator`` seeded with ``seed``."""
    import matplotlib

    set_threads(num_threads)
    np.set_printoptions(precision=4, suppress=True, linewidth=100)
    matplotlib.rcParams.update({"figure.dpi": 100, "figure.figsize": (7, 4), "axes.grid": True})
    return seed_everything(seed)


class SourceCode:
    """The source of a function or class, rendered as highlighted code in the book.

    Its plain-text form is the source itself, so nbval notices when the package changes and the
    notebook still shows an older version.
    """

    def __init__(self, source: str):
        self.source = source

    def __repr__(self) -> str:
        return self.source

    def _repr_markdown_(self) -> str:
        return f"```python\n{self.source}\n```"


def show_source(*objects) -> SourceCode:
    """The package's own source of each of ``objects``, one after another."""
    return SourceCode("\n\n".join(textwrap.dedent(inspect.getsource(obj)).rstrip() for obj in objects))


GLUED_SIGNIFICANT_DIGITS = 6
"""A glued float keeps this many significant digits: its last bits differ from one CPU to another."""


def glue(name: str, value, digits: int = GLUED_SIGNIFICANT_DIGITS) -> None:
    """Store ``value`` under ``name`` so the chapter's prose can cite it (``{glue:text}`name```).

    A float is rounded to ``digits`` significant digits first (default
    :data:`GLUED_SIGNIFICANT_DIGITS`): the stored value is a cell output that nbval compares, and
    the prose formats it to fewer digits anyway. A quantity that amplifies rounding differences,
    such as the gradient of an exploding RNN, needs fewer: its fifth digit differs between CPUs.

    Uses MyST-NB's ``glue`` when it is installed (it is, with the book's requirements); elsewhere,
    e.g. a notebook opened alone in Colab, it does nothing, and the printed cell output remains.
    """
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    if isinstance(value, np.generic):  # np.float64(...) would reach the page as its repr
        value = value.item()
    if isinstance(value, float):
        value = float(f"{value:.{digits}g}")
    myst_glue(name, value, display=False)


def error_bound(value: float, floor: float = 1e-12) -> str:
    """An error or difference for printing: ``'< 1e-12'`` below ``floor``, else three significant digits.

    Below ``floor`` the exact value is rounding noise that differs between CPUs (``4.16e-17`` on one,
    ``0.00e+00`` on another), and a compared notebook output must not show it.
    """
    return f"< {floor:.0e}" if abs(value) < floor else f"{value:.2e}"
