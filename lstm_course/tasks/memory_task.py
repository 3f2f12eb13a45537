"""Chapter 5's write/hold/read cell, learned from data: recall a value written many steps earlier.

Each sequence has ``num_steps`` steps of three inputs, as chapter 5's hand-built cell reads them::

    x_t = [value v_t, write flag w_t, read flag r_t]

The value is noise, uniform in ``[-1, 1]``, at every step. At one step near the start the write flag
is 1; at the last step the read flag is 1, and the target is the value seen at the write. Between the
two lie ``min_delay`` to ``max_delay`` steps of noise the model must ignore (by default
``max_delay = num_steps - 1``: the write may fall at the first step). A model that remembers
nothing does best by predicting 0, a mean squared error of 1/3 (:data:`CHANCE_MSE`).

The model is a recurrent layer and a linear readout of its last hidden state, ``y = W_out h_T + b_out``,
trained with Adam on fresh batches, the mean squared error at the read step. The recurrent layer is
either the LSTM of the reader's own ``lstm_forward`` and ``lstm_backward`` (chapter 6's exercises,
passed in) or chapter 1's plain RNN (:mod:`lstm_course.scratch.plain_rnn`), on the same batches, with the
same hidden size, learning rate and number of steps. The RNN starts from PyTorch's initialisation
(``rnn_init="default"``) or from one made for long memory: an orthogonal ``W_hh``
(``"orthogonal"``, Saxe et al. 2014) or the identity (``"identity"``, Le et al. 2015), with zero
biases. ``tools/memory_task_runs.py`` sweeps learning rates, initialisations, seeds and delays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lstm_course.scratch import numpy_lstm, plain_rnn
from lstm_course.scratch.optim import Adam
from lstm_course.tasks.adding_problem import forget_bias_for_span

VALUE, WRITE, READ = 0, 1, 2
"""The three input channels, as in chapter 5's hand-built cell."""

CHANCE_MSE = 1 / 3
"""The error of predicting 0, the best a model without memory can do: the variance of ``U(-1, 1)``."""


def batch(batch_size: int, num_steps: int, min_delay: int, rng: np.random.Generator, max_delay: int | None = None):
    """Inputs ``(T, B, 3)``, targets ``(B, 1)`` and each sequence's write step ``(B,)``.

    The read is at the last step and the write uniformly ``min_delay`` to ``max_delay`` steps before
    it (default ``num_steps - 1``: the write falls in the first ``num_steps - min_delay`` steps).
    """
    max_delay = num_steps - 1 if max_delay is None else max_delay
    if not 1 <= min_delay <= max_delay <= num_steps - 1:
        raise ValueError(f"delays: expected 1 <= min_delay <= max_delay <= num_steps - 1, got {min_delay}, "
                         f"{max_delay} with num_steps={num_steps}")
    inputs = np.zeros((num_steps, batch_size, 3))
    inputs[:, :, VALUE] = rng.uniform(-1, 1, size=(num_steps, batch_size))
    write_steps = rng.integers(num_steps - 1 - max_delay, num_steps - min_delay, size=batch_size)
    inputs[write_steps, np.arange(batch_size), WRITE] = 1
    inputs[-1, :, READ] = 1
    targets = inputs[write_steps, np.arange(batch_size), VALUE][:, None]
    return inputs, targets, write_steps


@dataclass
class Run:
    """One training run: the final parameters and the test error every ``eval_every`` steps."""

    kind: str
    params: dict
    steps: list[int] = field(default_factory=list)
    test_mse: list[float] = field(default_factory=list)


RNN_INITS = ("default", "orthogonal", "identity")
"""The plain RNN's initialisations: PyTorch's; an orthogonal ``W_hh`` and zero biases; the identity and zero biases."""


def init_model(kind: str, hidden_size: int, seed: int, forget_bias: float = 1.0,
               rnn_init: str = "default") -> dict[str, np.ndarray]:
    """PyTorch's initialisation for the recurrent layer (LSTM: plus ``forget_bias``), and a readout ``(1, H)``.

    For the RNN, ``rnn_init="orthogonal"`` or ``"identity"`` then replaces ``W_hh`` (a random orthogonal
    matrix, or the identity) and sets both biases to zero; ``W_ih`` and the readout stay as PyTorch's.
    """
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(hidden_size)
    if kind == "lstm":
        params = numpy_lstm.init_params(3, hidden_size, rng, forget_bias=forget_bias)
    elif kind == "rnn":
        shapes = dict(W_ih=(hidden_size, 3), W_hh=(hidden_size, hidden_size), b_ih=(hidden_size,),
                      b_hh=(hidden_size,))
        params = {name: rng.uniform(-bound, bound, size=shape) for name, shape in shapes.items()}
        if rnn_init not in RNN_INITS:
            raise ValueError(f"rnn_init: expected one of {RNN_INITS}, got {rnn_init!r}")
        if rnn_init != "default":
            if rnn_init == "orthogonal":
                q, r = np.linalg.qr(np.random.default_rng([seed, 3]).normal(size=(hidden_size, hidden_size)))
                params["W_hh"] = q * np.sign(np.diag(r))  # uniformly distributed over orthogonal matrices
            else:
                params["W_hh"] = np.eye(hidden_size)
            params["b_ih"], params["b_hh"] = np.zeros(hidden_size), np.zeros(hidden_size)
    else:
        raise ValueError(f"kind: expected 'lstm' or 'rnn', got {kind!r}")
    params["W_out"] = rng.uniform(-bound, bound, size=(1, hidden_size))
    params["b_out"] = np.zeros(1)
    return params


RECURRENT = ("W_ih", "W_hh", "b_ih", "b_hh")


def predict(kind: str, params: dict, inputs: np.ndarray, lstm_forward: Callable | None = None):
    """``(B, 1)`` predictions, every hidden state ``(T, B, H)``, and the forward pass's cache (LSTM) or None."""
    zeros = np.zeros((inputs.shape[1], params["W_hh"].shape[1]))
    weights = {name: params[name] for name in RECURRENT}
    if kind == "lstm":
        hs, cache = lstm_forward(inputs, zeros, zeros, **weights)
    else:
        hs, cache = plain_rnn.rnn_forward(inputs, zeros, **weights), None
    return hs[-1] @ params["W_out"].T + params["b_out"], hs, cache


def loss_and_gradients(kind: str, params: dict, inputs, targets, lstm_forward=None, lstm_backward=None):
    """Mean squared error at the read step and its gradient for every parameter."""
    predictions, hs, cache = predict(kind, params, inputs, lstm_forward)
    errors = predictions - targets
    d_predictions = 2 * errors / errors.size
    d_hs = np.zeros_like(hs)
    d_hs[-1] = d_predictions @ params["W_out"]  # the loss reads only the last hidden state
    if kind == "lstm":
        grads = lstm_backward(d_hs, cache)
    else:
        grads = plain_rnn.rnn_backward(d_hs, inputs, np.zeros_like(hs[0]), hs, params["W_ih"], params["W_hh"])
    grads = {name: grads[name] for name in RECURRENT}
    grads["W_out"] = d_predictions.T @ hs[-1]
    grads["b_out"] = d_predictions.sum(axis=0)
    return float(np.mean(errors**2)), grads


def train(kind: str, num_steps: int, min_delay: int, hidden_size: int = 16, steps: int = 400, batch_size: int = 32,
          lr: float = 0.01, seed: int = 0, eval_every: int = 50, forget_bias: float | None = None,
          lstm_forward: Callable | None = None, lstm_backward: Callable | None = None,
          rnn_init: str = "default", max_delay: int | None = None) -> Run:
    """Adam on fresh batches; the test error on 512 held-out sequences every ``eval_every`` steps.

    The batches and the test set come from ``seed`` alone, so an LSTM and an RNN trained with the same
    seed see the same data. ``lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh) -> (hs, cache)`` and
    ``lstm_backward(d_hs, cache) -> dict`` are needed for ``kind="lstm"``. The LSTM's forget-gate bias is
    ``forget_bias``, by default the course's rule (chapters 2 and 8): the bias that keeps half of a value
    over the sequence's length, :func:`lstm_course.tasks.adding_problem.forget_bias_for_span`. ``rnn_init`` is
    the RNN's initialisation (:data:`RNN_INITS`); ``max_delay`` bounds the delay (:func:`batch`).
    """
    if kind == "lstm" and (lstm_forward is None or lstm_backward is None):
        raise ValueError("kind='lstm' needs lstm_forward and lstm_backward (chapter 6's exercises)")
    forget_bias = forget_bias_for_span(num_steps) if forget_bias is None else forget_bias
    params = init_model(kind, hidden_size, seed, forget_bias, rnn_init)
    data = np.random.default_rng([seed, 1])
    test_inputs, test_targets, _ = batch(512, num_steps, min_delay, np.random.default_rng([seed, 2]), max_delay)
    optimiser = Adam(params, lr=lr)
    run = Run(kind, params)
    for step in range(steps + 1):
        if step % eval_every == 0:
            predictions, _, _ = predict(kind, params, test_inputs, lstm_forward)
            run.steps.append(step)
            run.test_mse.append(float(np.mean((predictions - test_targets) ** 2)))
        if step == steps:
            break
        inputs, targets, _ = batch(batch_size, num_steps, min_delay, data, max_delay)
        _, grads = loss_and_gradients(kind, params, inputs, targets, lstm_forward, lstm_backward)
        optimiser.step(grads)
    return run
