"""Numerical gradients by central differences, and the error measure used to compare them.

Every backward pass in the course is checked the same way: perturb one entry of one input by
``±eps``, evaluate the scalar loss twice, and compare ``(L(x+eps) - L(x-eps)) / (2 eps)`` with the
analytic gradient. In float64 with ``eps=1e-6`` the truncation error is ``O(eps**2)`` and the
rounding error ``O(1e-16 / eps)``, so a correct backward agrees to a relative error near 1e-9.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from lstm_course.plumbing.validation import as_float_array


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored exactly before returning, so
    ``f`` may read ``x`` through a closure. Returns an array shaped like ``x``. ``x`` must be float64:
    in float32 a difference quotient keeps only about three of its seven digits.
    """
    x = as_float_array("x", x, finite=True)
    if x.dtype != np.float64:
        raise ValueError(f"x: expected dtype float64 (central differences in {x.dtype} lose most digits; "
                         "differentiate x.astype(np.float64))")
    if not (isinstance(eps, float | int) and not isinstance(eps, bool) and 0 < eps < 1):
        raise ValueError(f"eps: expected a number in (0, 1), got {eps!r}")
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        loss_plus = float(f(x))
        x[index] = original - eps
        loss_minus = float(f(x))
        x[index] = original
        gradient[index] = (loss_plus - loss_minus) / (2 * eps)
    return gradient


def relative_error(expected: np.ndarray, actual: np.ndarray) -> float:
    """``||expected - actual|| / (||expected|| + ||actual||)``, or 0 when both are zero.

    Norm-based rather than entry-by-entry, so tiny entries with large relative noise do not
    dominate. 0 means identical, 1 means unrelated or opposite.
    """
    expected = np.asarray(expected, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    if expected.shape != actual.shape:
        raise ValueError(f"actual: expected shape {expected.shape}, got {actual.shape}")
    scale = np.linalg.norm(expected) + np.linalg.norm(actual)
    return 0.0 if scale == 0 else float(np.linalg.norm(expected - actual) / scale)


def gradient_errors(
    loss: Callable[[], float],
    inputs: Mapping[str, np.ndarray],
    analytic: Mapping[str, np.ndarray],
    eps: float = 1e-6,
) -> dict[str, float]:
    """Relative error between ``analytic[name]`` and the numerical gradient of ``loss`` for each input.

    ``loss`` takes no arguments and reads the arrays in ``inputs``, which are perturbed in place.
    """
    return {
        name: relative_error(numerical_gradient(lambda _: loss(), array, eps), analytic[name])
        for name, array in inputs.items()
    }
