"""A live re-run against its results file: the one rule every chapter follows.

A chapter that cites a results file re-runs one of its rows and checks the live result against the
file. On another CPU the same seed is not the same run: MKL, oneDNN and OpenBLAS choose their code
paths by CPU model and vendor, not only by instruction set, so an Intel and an AMD chip (or an ARM
laptop) round differently, and a few hundred training steps amplify the difference into another
trajectory. A live run is therefore compared with the spread of *every* recorded seed, never with
its own seed's value alone, and never with a tolerance chosen because the instruction set matches.

The allowed range is the recorded seeds' range widened on each side by its own width, or by
``margin`` where the chapter measured a wider one (under ``shared/tools/foreign-arithmetic``, say).
It needs at least :data:`MIN_SEEDS` seeds: with three, a fresh draw from the seeds' own
distribution falls outside about one time in eight (a normal distribution, simulated), so a
chapter whose live run is truly another draw records more seeds for its check (chapter 11 records
ten: about one time in five hundred).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MIN_SEEDS = 3
"""Fewer recorded seeds give no spread to speak of (one seed: a zero-width range, an equality check)."""


def seeds_range(recorded: Sequence[float], margin: float = 0.0) -> tuple[float, float]:
    """``(low, high)``: the recorded values' range widened on each side by its width, or by ``margin`` if larger."""
    values = np.asarray(recorded, dtype=float)
    if values.ndim != 1 or values.size < MIN_SEEDS or not np.isfinite(values).all():
        raise ValueError(f"recorded: expected a list of at least {MIN_SEEDS} finite numbers, one per seed, "
                         f"got {list(recorded)!r}")
    if not margin >= 0:
        raise ValueError(f"margin: expected a number >= 0, got {margin!r}")
    widening = max(float(np.ptp(values)), float(margin))
    return float(values.min()) - widening, float(values.max()) + widening


def assert_within_seeds(what: str, live: float, recorded: Sequence[float], margin: float = 0.0) -> None:
    """Raise ``AssertionError`` unless ``live`` lies in :func:`seeds_range` of ``recorded``.

    ``what`` names the quantity in the message, e.g. ``"uni1, seed 0: test error"``.
    """
    low, high = seeds_range(recorded, margin)
    if live is None or not low <= live <= high:
        raise AssertionError(f"{what}: {live} here, outside the recorded seeds' range {min(recorded):.6g} to "
                             f"{max(recorded):.6g} widened to {low:.6g} to {high:.6g}")
