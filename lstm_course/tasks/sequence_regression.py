"""A toy sequence-regression task from a popular Keras tutorial: predict the next value of an arithmetic sequence.

Four training windows of five values each, ``[0.1 ... 0.5] -> 0.6`` up to ``[0.4 ... 0.8] -> 0.9``,
then a prediction after ``[0.5 ... 0.9]`` (where continuing the pattern gives 1.0, a target
larger than any seen in training). The model is an LSTM followed by a linear readout of its last
hidden state, trained on the mean squared error with Adam. Chapter 6 trains it in NumPy with the
reader's own ``lstm_backward`` (its exercise), passed as ``backward``; without one, the LSTM's
gradients come from autograd (:mod:`lstm_course.scratch.autograd_gradients`). The PyTorch chapter reproduces
the same task with ``torch.nn``.

``backward(d_hs, x, h0, c0, W_ih, W_hh, b_ih, b_hh) -> dict`` returns the gradients of
``sum(d_hs * hs)`` keyed ``x, h0, c0, W_ih, W_hh, b_ih, b_hh``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lstm_course.scratch import numpy_lstm
from lstm_course.scratch.autograd_gradients import lstm_backward_by_autograd
from lstm_course.scratch.optim import Adam

WINDOW = 5


def training_windows(dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """The four training windows, time-major ``(T=5, B=4, D=1)``, and their targets ``(4, 1)``."""
    starts = np.array([0.1, 0.2, 0.3, 0.4])
    steps = np.arange(WINDOW) / 10
    inputs = (starts[None, :] + steps[:, None])[..., None]
    targets = (starts + WINDOW / 10)[:, None]
    return np.round(inputs, 10).astype(dtype), np.round(targets, 10).astype(dtype)


def query_window(dtype=np.float64) -> np.ndarray:
    """The sequence to predict after, ``[0.5, 0.6, 0.7, 0.8, 0.9]``, shaped ``(5, 1, 1)``."""
    return np.round(0.5 + np.arange(WINDOW) / 10, 10).reshape(WINDOW, 1, 1).astype(dtype)


def predict(params: dict, inputs: np.ndarray):
    """Readout of the LSTM's last hidden state: ``(B, 1)`` predictions and the LSTM cache."""
    batch_size, hidden_size = inputs.shape[1], params["W_hh"].shape[1]
    zeros = np.zeros((batch_size, hidden_size), dtype=inputs.dtype)
    lstm_params = {name: params[name] for name in ("W_ih", "W_hh", "b_ih", "b_hh")}
    hs, (h_T, _), cache = numpy_lstm.lstm_forward(inputs, zeros, zeros, **lstm_params)
    return h_T @ params["W_out"].T + params["b_out"], cache


def loss_and_gradients(params: dict, inputs: np.ndarray, targets: np.ndarray, backward: Callable | None = None):
    """Mean squared error and its gradient with respect to every parameter (the LSTM's from ``backward``)."""
    predictions, cache = predict(params, inputs)
    errors = predictions - targets
    loss = float(np.mean(errors**2))
    d_predictions = 2 * errors / errors.size
    h_T = cache["hs"][-1]
    d_hs = np.zeros_like(cache["hs"])
    d_hs[-1] = d_predictions @ params["W_out"]  # the loss reads only the last hidden state
    lstm_params = {name: params[name] for name in ("W_ih", "W_hh", "b_ih", "b_hh")}
    grads = (backward or lstm_backward_by_autograd)(d_hs, inputs, cache["h0"], cache["c0"], **lstm_params)
    grads = {name: grads[name] for name in lstm_params}
    grads["W_out"] = d_predictions.T @ h_T
    grads["b_out"] = d_predictions.sum(axis=0)
    return loss, grads


def init_model(hidden_size: int, seed: int) -> dict[str, np.ndarray]:
    """LSTM (PyTorch's initialisation, forget-gate bias 1) plus a linear readout ``(1, H)``."""
    rng = np.random.default_rng(seed)
    params = numpy_lstm.init_params(1, hidden_size, rng, forget_bias=1.0)
    bound = 1.0 / np.sqrt(hidden_size)
    params["W_out"] = rng.uniform(-bound, bound, size=(1, hidden_size))
    params["b_out"] = np.zeros(1)
    return params


@dataclass
class TrainingRun:
    params: dict
    losses: list[float]
    prediction: float


def train(hidden_size: int = 16, epochs: int = 300, lr: float = 0.01, seed: int = 0,
          backward: Callable | None = None) -> TrainingRun:
    """Full-batch Adam on the four windows; returns the parameters, loss per epoch and the prediction."""
    inputs, targets = training_windows()
    params = init_model(hidden_size, seed)
    optimiser = Adam(params, lr=lr)
    losses = []
    for _ in range(epochs):
        loss, grads = loss_and_gradients(params, inputs, targets, backward)
        losses.append(loss)
        optimiser.step(grads)
    prediction, _ = predict(params, query_window())
    return TrainingRun(params, losses, float(prediction[0, 0]))
