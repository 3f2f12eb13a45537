"""Argument checks shared by the public functions.

Every failure raises ``ValueError`` naming the argument, what was expected and what arrived, so
a reader sees ``W_hh: expected shape (H, H) = (4, 4), got (4, 3)`` instead of a broadcasting
error three calls deeper.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def as_float_array(name: str, value) -> np.ndarray:
    """Return ``value`` as a floating NumPy array, or raise ``ValueError`` naming ``name``."""
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name}: expected a NumPy array, got {type(value).__name__}")
    if not np.issubdtype(value.dtype, np.floating):
        raise ValueError(f"{name}: expected a floating dtype (float32 or float64), got {value.dtype}")
    return value


def expect_shape(name: str, array: np.ndarray, expected: Sequence[int], symbols: str) -> None:
    """Raise unless ``array.shape == expected``; ``symbols`` spells the shape, e.g. ``"(B, H)"``."""
    expected = tuple(int(size) for size in expected)
    if array.shape != expected:
        raise ValueError(f"{name}: expected shape {symbols} = {expected}, got {array.shape}")


def expect_ndim(name: str, array: np.ndarray, ndim: int, symbols: str) -> None:
    """Raise unless ``array`` has ``ndim`` dimensions; ``symbols`` spells the shape."""
    if array.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions {symbols}, got shape {array.shape}")


def common_dtype(arrays: Mapping[str, np.ndarray]) -> np.dtype:
    """The one floating dtype shared by all ``arrays``; mixing float32 and float64 is an error."""
    dtypes = {name: array.dtype for name, array in arrays.items() if array is not None}
    first_name, first_dtype = next(iter(dtypes.items()))
    for name, dtype in dtypes.items():
        if dtype != first_dtype:
            raise ValueError(
                f"{name}: expected dtype {first_dtype} like {first_name}, got {dtype} "
                "(convert all arrays to one dtype, e.g. with .astype(np.float64))"
            )
    return first_dtype
