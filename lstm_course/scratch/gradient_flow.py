"""Measuring how much gradient reaches earlier steps: the vanishing and exploding gradient.

The measurement used in chapter 1 (for the RNN) and again in chapter 4 (for the LSTM): put a loss on the last
step ``T`` only, backpropagate, and record the norm of the gradient reaching the input at every
earlier step ``t``. Plotted against the lag ``T - t`` on a log axis, a vanishing gradient is a
straight line falling at a rate set by the recurrent weights.
"""

from __future__ import annotations

import numpy as np

from lstm_course.plumbing.validation import as_float_array
from lstm_course.scratch import numpy_lstm, numpy_rnn
from lstm_course.scratch.autograd_gradients import lstm_backward_by_autograd


def scale_to_spectral_radius(matrix: np.ndarray, spectral_radius: float) -> np.ndarray:
    """Return ``matrix`` rescaled so that its largest absolute eigenvalue is ``spectral_radius``."""
    matrix = as_float_array("matrix", matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix: expected a square matrix (H, H), got shape {matrix.shape}")
    if not spectral_radius > 0:
        raise ValueError(f"spectral_radius: expected a positive number, got {spectral_radius}")
    current = np.max(np.abs(np.linalg.eigvals(matrix)))
    return matrix * (spectral_radius / current)


def random_rnn_weights(input_size: int, hidden_size: int, spectral_radius: float, rng: np.random.Generator):
    """RNN parameters with ``W_hh`` scaled to ``spectral_radius``; float64, PyTorch layout.

    ``W_ih`` and ``W_hh`` start from ``N(0, 1/H)`` entries, biases are zero. Returns a dict keyed
    ``W_ih, W_hh, b_ih, b_hh``.
    """
    for name, size in (("input_size", input_size), ("hidden_size", hidden_size)):
        if int(size) != size or size < 1:
            raise ValueError(f"{name}: expected a positive integer, got {size!r}")
    scale = 1.0 / np.sqrt(hidden_size)
    W_hh = rng.normal(0.0, scale, size=(hidden_size, hidden_size))
    return dict(
        W_ih=rng.normal(0.0, scale, size=(hidden_size, input_size)),
        W_hh=scale_to_spectral_radius(W_hh, spectral_radius),
        b_ih=np.zeros(hidden_size),
        b_hh=np.zeros(hidden_size),
    )


def _loss_on_last_step(hs: np.ndarray) -> np.ndarray:
    """``d_hs`` for the loss ``L = sum(h_T)``: gradient 1 on every unit of the last step, 0 elsewhere."""
    d_hs = np.zeros_like(hs)
    d_hs[-1] = 1.0
    return d_hs


def _norms_by_lag(d_x: np.ndarray) -> np.ndarray:
    """Mean over the batch of ``||dL/dx_t||``, reordered so that entry ``k`` is lag ``k``."""
    return np.linalg.norm(d_x, axis=2).mean(axis=1)[::-1]


def rnn_gradient_norms_by_lag(params: dict, x: np.ndarray) -> np.ndarray:
    """Norm of ``dL/dx_t`` for a loss on the last step only, indexed by lag ``T - 1 - t``.

    Args:
        params: RNN parameters keyed ``W_ih, W_hh, b_ih, b_hh``.
        x: inputs, ``(T, B, D)``.

    Returns:
        ``(T,)`` array: entry ``k`` is the mean over the batch of ``||dL/dx_{T-1-k}||``, where the
        loss is ``L = sum(h_T)`` (every unit of the last state gets gradient 1). Entry 0 is the
        gradient at the step the loss sits on.
    """
    h0 = np.zeros((x.shape[1], params["W_hh"].shape[0]), dtype=x.dtype)
    hs, _, cache = numpy_rnn.rnn_forward(x, h0, **params)
    return _norms_by_lag(numpy_rnn.rnn_backward(_loss_on_last_step(hs), cache)["x"])


def lstm_gradient_norms_by_lag(params: dict, x: np.ndarray) -> np.ndarray:
    """The same measurement as :func:`rnn_gradient_norms_by_lag`, for an LSTM (zero initial states).

    ``params`` holds ``W_ih (4H, D), W_hh (4H, H), b_ih, b_hh (4H,)``; returns ``(T,)``.
    """
    zeros = np.zeros((x.shape[1], params["W_hh"].shape[1]), dtype=x.dtype)
    hs, _, _ = numpy_lstm.lstm_forward(x, zeros, zeros, **params)
    # By autograd: the hand-written LSTM backward pass is chapter 6's exercise.
    return _norms_by_lag(lstm_backward_by_autograd(_loss_on_last_step(hs), x, zeros, zeros, **params)["x"])


def per_step_factor(norms_by_lag: np.ndarray, start: int = 10, stop: int = 60) -> float:
    """Geometric-mean factor by which the gradient norm changes per step, between two lags.

    ``(norms_by_lag[stop] / norms_by_lag[start]) ** (1 / (stop - start))``: below 1 the gradient
    vanishes, above 1 it explodes. The first few lags are skipped, where the loss's own step
    dominates.
    """
    if not 0 <= start < stop < len(norms_by_lag):
        raise ValueError(f"start, stop: expected 0 <= start < stop < {len(norms_by_lag)}, got {start}, {stop}")
    return float((norms_by_lag[stop] / norms_by_lag[start]) ** (1.0 / (stop - start)))
