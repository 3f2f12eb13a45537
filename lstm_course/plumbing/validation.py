"""Argument checks shared by the public functions.

Every failure raises ``ValueError`` naming the argument, what was expected and what arrived, so
a reader sees ``W_hh: expected shape (H, H) = (4, 4), got (4, 3)`` instead of a broadcasting
error three calls deeper.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping, Sequence

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)
"""The dtypes the NumPy code accepts: float16 loses the digits a gradient check needs, and
``np.longdouble`` is a different type on every platform."""


def as_float_array(name: str, value, finite: bool = False) -> np.ndarray:
    """Return ``value`` as a floating NumPy array, or raise ``ValueError`` naming ``name``.

    ``finite``: refuse NaN and infinity too (a model's inputs and weights; not gradients, whose
    NaN is a result to report).
    """
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name}: expected a NumPy array, got {type(value).__name__}")
    if value.dtype not in FLOAT_DTYPES:
        raise ValueError(f"{name}: expected dtype float32 or float64, got {value.dtype}")
    if finite and not np.isfinite(value).all():
        raise ValueError(f"{name}: expected finite values, got NaN or infinity")
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


MAX_SEED = 2**63 - 1
"""The largest seed every generator of the course accepts (``torch.manual_seed`` takes a signed 64-bit one)."""


def positive_int(name: str, value, maximum: int | None = None) -> int:
    """``value`` if it is an integer from 1 (to ``maximum``); NumPy integers pass, ``bool`` does not."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1 \
            or (maximum is not None and value > maximum):
        bound = f" up to {maximum:,}" if maximum is not None else ""
        raise ValueError(f"{name}: expected a positive integer{bound}, got {value!r}")
    return int(value)


def seed_value(name: str, value) -> int:
    """A seed: an integer from 0 to :data:`MAX_SEED`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= value <= MAX_SEED:
        raise ValueError(f"{name}: expected an integer from 0 to 2**63 - 1, got {value!r}")
    return int(value)


def positive_number(name: str, value, infinity_allowed: bool = False) -> float:
    """``value`` if it is a number above 0, finite unless ``infinity_allowed`` (NaN never)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not value > 0 \
            or (value == float("inf") and not infinity_allowed):
        kind = "a positive number (inf for no limit)" if infinity_allowed else "a positive finite number"
        raise ValueError(f"{name}: expected {kind}, got {value!r}")
    return float(value)


def finite_number(name: str, value) -> float:
    """``value`` if it is a finite number (not NaN, not infinite)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not np.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    return float(value)


def same_shape(symbols: str):
    """Decorator: every argument is a float32/float64 array of one dtype and one 2-D shape ``symbols``.

    For the one-line equations (``c_t = f_t * c_{t-1} + i_t * g_t``), whose bodies stay the
    equation: without it, NumPy would broadcast a ``(1, H)`` gate against a ``(B, H)`` state
    without a word.
    """

    def decorate(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def checked(*args, **kwargs):
            arrays = {name: as_float_array(name, value, finite=True)
                      for name, value in signature.bind(*args, **kwargs).arguments.items()}
            first_name, first = next(iter(arrays.items()))
            expect_ndim(first_name, first, 2, symbols)
            for name, array in arrays.items():
                expect_shape(name, array, first.shape, symbols)
            common_dtype(arrays)
            return function(*args, **kwargs)

        return checked

    return decorate


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
