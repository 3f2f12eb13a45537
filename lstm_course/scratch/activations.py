"""Numerically stable activations shared by the RNN and LSTM code."""

from __future__ import annotations

import numpy as np


def sigmoid(a: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-a))``, finite and warning-free for any finite ``a``.

    Written as ``(1 + tanh(a / 2)) / 2``, which never evaluates ``exp`` of a large number: the plain
    ``1 / (1 + np.exp(-a))`` overflows (a warning, or an error under ``np.errstate``) once ``-a`` passes
    about 709 in float64, 88 in float32. Keeps the dtype of ``a``.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def tanh_derivative_from_output(tanh_output: np.ndarray) -> np.ndarray:
    """``d tanh(z) / dz`` written in terms of ``y = tanh(z)``: ``1 - y**2``."""
    return 1.0 - tanh_output * tanh_output
