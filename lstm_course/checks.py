"""Checks for the implement-this exercises.

Each ``check_*`` function calls the reader's function on several random inputs, compares the
result with the package's reference implementation, prints a clear pass or exactly what is wrong
(shape, which entries, by how much), and returns a :class:`CheckResult` whose ``score`` a grader
can add up. A function that still raises ``NotImplementedError`` is reported as not implemented
yet, never as a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lstm_course import (
    adding_problem,
    batching,
    clipping,
    conversions,
    exercise_inputs,
    gradcheck,
    numpy_lstm,
    numpy_rnn,
    optim,
    sampling,
)
from lstm_course.activations import sigmoid


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one exercise check: ``score`` out of ``max_score`` and the message printed."""

    exercise: str
    passed: bool
    score: float
    max_score: float
    message: str

    def __repr__(self) -> str:
        return f"{self.exercise}: score {self.score:g}/{self.max_score:g}"


Trial = exercise_inputs.Trial


def describe_difference(name: str, expected, actual, atol: float, rtol: float) -> str | None:
    """``None`` if ``actual`` matches ``expected``, else one sentence saying how it differs."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return f"{name}: expected a dict with keys {sorted(expected)}, got {type(actual).__name__}"
        if set(actual) != set(expected):
            return f"{name}: expected keys {sorted(expected)}, got {sorted(actual)}"
        for key in expected:
            problem = describe_difference(f"{name}[{key!r}]", expected[key], actual[key], atol, rtol)
            if problem:
                return problem
        return None
    if isinstance(expected, tuple):
        if not isinstance(actual, tuple | list) or len(actual) != len(expected):
            return f"{name}: expected a tuple of {len(expected)} values, got {_describe_type(actual)}"
        for position, (want, got) in enumerate(zip(expected, actual, strict=True)):
            problem = describe_difference(f"{name}[{position}]", want, got, atol, rtol)
            if problem:
                return problem
        return None
    expected = np.asarray(expected)
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{name}: expected numbers of shape {expected.shape}, got {_describe_type(actual)}"
    if actual.shape != expected.shape:
        return f"{name}: expected shape {expected.shape}, got {actual.shape}"
    if not np.all(np.isfinite(actual)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(actual))[0])
        return f"{name}: non-finite value {actual[index]} at index {index}"
    wrong = ~np.isclose(actual, expected, atol=atol, rtol=rtol)
    if not wrong.any():
        return None
    difference = np.abs(actual - expected)
    worst = np.unravel_index(np.argmax(difference), difference.shape)
    worst_text = f" at index {tuple(int(i) for i in worst)}" if expected.ndim else ""
    return (
        f"{name}: {int(wrong.sum())} of {wrong.size} entries differ; the largest difference is "
        f"{difference[worst]:.4g}{worst_text} (expected {expected[worst]:.6g}, got {actual[worst]:.6g})"
    )


def _describe_type(value) -> str:
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__} of shape {shape}" if shape is not None else type(value).__name__


def run_check(
    exercise: str,
    candidate: Callable,
    reference: Callable,
    trials: Sequence[Trial],
    atol: float = 1e-8,
    rtol: float = 1e-6,
    points: float = 1.0,
    verbose: bool = True,
) -> CheckResult:
    """Compare ``candidate`` with ``reference`` on every trial; full ``points`` only if all agree.

    Each call gets its own copy of the arguments (:func:`exercise_inputs.materialise`), so a candidate
    that modifies its inputs cannot change what the reference sees.
    """
    message = None
    for number, trial in enumerate(trials, start=1):
        expected = reference(**exercise_inputs.materialise(trial.kwargs))
        try:
            actual = candidate(**exercise_inputs.materialise(trial.kwargs))
        except NotImplementedError:
            message = f"{exercise}: not implemented yet (the function still raises NotImplementedError)"
            break
        except Exception as error:  # the reader's code may fail in any way; report it, don't crash
            message = f"{exercise}: test {number} ({trial.description}) raised {type(error).__name__}: {error}"
            break
        problem = describe_difference("result", expected, actual, atol, rtol)
        if problem:
            message = f"{exercise}: test {number} ({trial.description}) failed: {problem}"
            break
    passed = message is None
    if passed:
        message = f"{exercise}: passed all {len(trials)} tests"
    result = CheckResult(exercise, passed, points if passed else 0.0, points, message)
    if verbose:
        print(("PASS  " if passed else "FAIL  ") + message)
    return result


def gradients_of(forward: Callable, upstream: str) -> Callable:
    """A function of ``forward``'s arguments and ``upstream`` that returns central-difference gradients.

    For ``L = sum(upstream * forward(...))`` it returns ``{name: dL/d(name)}`` for every other argument,
    computed with :func:`lstm_course.gradcheck.numerical_gradient` (chapter 1), not with any answer.
    """

    def gradients(**kwargs):
        weights = kwargs.pop(upstream)
        arrays = {name: np.asarray(value, dtype=np.float64) for name, value in kwargs.items()}

        def loss(name):
            return lambda value: float(np.sum(weights * forward(**{**arrays, name: value})))

        return {name: gradcheck.numerical_gradient(loss(name), value.copy(), eps=1e-6)
                for name, value in arrays.items()}

    return gradients


def _check(exercise: str, candidate: Callable, reference: Callable, seed: int, verbose: bool, **tolerance):
    trials = exercise_inputs.draw(exercise, np.random.default_rng(seed))
    inputs = exercise_inputs.EXERCISES[exercise]
    tolerance = {"atol": inputs.atol, "rtol": inputs.rtol, **tolerance}
    return run_check(exercise, candidate, reference, trials, verbose=verbose, **tolerance)


NUMERICAL = {"atol": 1e-6, "rtol": 1e-5}
"""How closely an answer must match central differences (their own error is about 1e-9 here)."""


def check_rnn_step(rnn_step: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``rnn_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh) -> h_t`` against the reference."""
    return _check("rnn_step", rnn_step, numpy_rnn.rnn_step, seed, verbose)


def check_clip_grad_norm(clip_grad_norm: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``clip_grad_norm(grads, max_norm) -> (clipped_grads, total_norm)`` against the reference."""
    return _check("clip_grad_norm", clip_grad_norm, clipping.clip_grad_norm, seed, verbose)


def check_numerical_gradient(numerical_gradient: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``numerical_gradient(f, x, eps) -> gradient`` against the reference on smooth functions."""
    return _check("numerical_gradient", numerical_gradient, gradcheck.numerical_gradient, seed, verbose)


def _one_gate_reference(activation, letter):
    def reference(x_t, h_prev, **weights):
        return numpy_lstm.gate(x_t, h_prev, activation=activation, W_x=weights[f"W_i{letter}"],
                               W_h=weights[f"W_h{letter}"], b_x=weights[f"b_i{letter}"], b_h=weights[f"b_h{letter}"])
    return reference


def check_forget_gate(forget_gate: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``forget_gate(x_t, h_prev, W_if, W_hf, b_if, b_hf) -> f_t`` ``(B, H)``."""
    return _check("forget_gate", forget_gate, _one_gate_reference(sigmoid, "f"), seed, verbose)


def check_candidate(candidate: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``candidate(x_t, h_prev, W_ig, W_hg, b_ig, b_hg) -> g_t`` ``(B, H)``."""
    return _check("candidate", candidate, _one_gate_reference(np.tanh, "g"), seed, verbose)


def check_cell_update_backward(cell_update_backward: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``cell_update_backward(d_c, c_prev, forget_gate, input_gate, candidate) -> dict`` of gradients.

    The expected gradients are central differences of ``numpy_lstm.cell_update``.
    """
    return _check("cell_update_backward", cell_update_backward, gradients_of(numpy_lstm.cell_update, "d_c"), seed,
                  verbose, **NUMERICAL)


def check_hidden_state(hidden_state: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``hidden_state(output_gate, cell_state) -> h_t`` ``(B, H)``."""
    return _check("hidden_state", hidden_state, numpy_lstm.hidden_state, seed, verbose)


def check_lstm_step(lstm_step: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``lstm_step(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh) -> (h_t, c_t)``, gates ``i, f, g, o``."""
    return _check("lstm_step", lstm_step, numpy_lstm.lstm_step, seed, verbose)


def check_adam_update(adam_update: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``adam_update(param, grad, m, v, step, lr, beta1, beta2, eps) -> (param, m, v)``."""
    return _check("adam_update", adam_update, optim.adam_update, seed, verbose)


def check_keras_lstm_to_torch(keras_lstm_to_torch: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``keras_lstm_to_torch(kernel, recurrent_kernel, bias) -> dict`` of ``nn.LSTM`` layer-0 weights."""
    return _check("keras_lstm_to_torch", keras_lstm_to_torch, conversions.keras_lstm_to_torch, seed, verbose)


def check_adding_targets(adding_targets: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``adding_targets(inputs (T, B, 2)) -> (B,)`` on freshly generated adding-problem batches."""
    return _check("adding_targets", adding_targets, adding_problem.targets_from_inputs, seed, verbose)


def gru_step_reference(x_t, h_prev, W_ih, W_hh, b_ih, b_hh) -> np.ndarray:
    """One GRU step computed by ``torch.nn.GRUCell`` in float64 with the given weights (gates ``r, z, n``)."""
    import torch

    cell = torch.nn.GRUCell(W_ih.shape[1], W_hh.shape[1], dtype=torch.float64)
    with torch.no_grad():
        for name, value in (("weight_ih", W_ih), ("weight_hh", W_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            getattr(cell, name).copy_(torch.from_numpy(np.asarray(value, dtype=np.float64)))
        return cell(torch.from_numpy(x_t), torch.from_numpy(h_prev)).numpy()


def check_gru_step(gru_step: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``gru_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh) -> h_t`` against ``torch.nn.GRUCell``."""
    return _check("gru_step", gru_step, gru_step_reference, seed, verbose)


def check_streams(streams: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``streams(ids (N,), batch_size) -> (inputs, targets)``, each ``(N // batch_size ..., batch_size)``."""
    return _check("streams", streams, batching.streams, seed, verbose)


def check_next_character_distribution(next_character_distribution: Callable, seed: int = 0,
                                      verbose: bool = True) -> CheckResult:
    """Check ``next_character_distribution(logits (V,), temperature, top_k) -> (V,)`` probabilities."""
    return _check("next_character_distribution", next_character_distribution, sampling.next_character_distribution,
                  seed, verbose)


def check_shard(shard: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``shard(array (N, B * world_size), rank, world_size) -> (N, B)`` against the reference."""
    return _check("shard", shard, batching.shard, seed, verbose)
