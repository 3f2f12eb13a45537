"""Checks for the implement-this exercises.

Each ``check_*`` function calls the reader's function on several random inputs, compares the
result with the package's reference implementation, prints a clear pass or exactly what is wrong
(shape, which entries, by how much), and returns a :class:`CheckResult` whose ``score`` a grader
can add up. A function that still raises ``NotImplementedError`` is reported as not implemented
yet, never as a crash.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lstm_course import (
    adding_problem,
    batching,
    clipping,
    conversions,
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


@dataclass(frozen=True)
class Trial:
    """One test case: a description for the message and the keyword arguments to call with."""

    description: str
    kwargs: Mapping[str, object]


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

    Each call gets its own deep copy of the arguments, so a candidate that modifies its inputs
    cannot change what the reference sees.
    """
    message = None
    for number, trial in enumerate(trials, start=1):
        expected = reference(**copy.deepcopy(dict(trial.kwargs)))
        try:
            actual = candidate(**copy.deepcopy(dict(trial.kwargs)))
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


def random_trial(rng: np.random.Generator, description: str, **shapes) -> Trial:
    """A trial whose every argument is a standard-normal array of the given shape."""
    return Trial(description, {name: rng.normal(size=shape) for name, shape in shapes.items()})


def _rnn_step_trial(rng: np.random.Generator, batch_size: int, input_size: int, hidden_size: int) -> Trial:
    B, D, H = batch_size, input_size, hidden_size
    return random_trial(rng, f"B={B}, D={D}, H={H}", x_t=(B, D), h_prev=(B, H), W_ih=(H, D), W_hh=(H, H),
                        b_ih=(H,), b_hh=(H,))


SIZES = [(1, 1, 1), (3, 4, 5), (2, 7, 3), (8, 16, 32)]
"""Batch, input and hidden sizes every shape-generic check is tried on."""


def check_rnn_step(rnn_step: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``rnn_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh) -> h_t`` against the reference."""
    rng = np.random.default_rng(seed)
    trials = [_rnn_step_trial(rng, *sizes) for sizes in SIZES]
    return run_check("rnn_step", rnn_step, numpy_rnn.rnn_step, trials, verbose=verbose)


def check_clip_grad_norm(clip_grad_norm: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``clip_grad_norm(grads, max_norm) -> (clipped_grads, total_norm)`` against the reference."""
    rng = np.random.default_rng(seed)

    def grads(scale):
        return {"W_ih": scale * rng.normal(size=(4, 3)), "W_hh": scale * rng.normal(size=(4, 4)),
                "b": scale * rng.normal(size=4)}

    trials = [
        Trial("norm far above max_norm", dict(grads=grads(10.0), max_norm=1.0)),
        Trial("norm below max_norm: unchanged", dict(grads=grads(0.01), max_norm=1.0)),
        Trial("a single array", dict(grads={"W": rng.normal(size=(5, 5))}, max_norm=0.5)),
    ]
    return run_check("clip_grad_norm", clip_grad_norm, clipping.clip_grad_norm, trials, atol=1e-6, verbose=verbose)


def check_numerical_gradient(numerical_gradient: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``numerical_gradient(f, x, eps) -> gradient`` against the reference on smooth functions."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(3, 4))
    trials = [
        Trial("f(x) = sum(x**3), x of shape (5,)", dict(f=lambda x: np.sum(x**3), x=rng.normal(size=5), eps=1e-5)),
        Trial("f(x) = sum(sin(x) * W), x of shape (3, 4)",
              dict(f=lambda x: np.sum(np.sin(x) * weights), x=rng.normal(size=(3, 4)), eps=1e-5)),
        Trial("f(x) = log(sum(exp(x))), x of shape (2, 2, 2)",
              dict(f=lambda x: np.log(np.sum(np.exp(x))), x=rng.normal(size=(2, 2, 2)), eps=1e-5)),
    ]
    return run_check("numerical_gradient", numerical_gradient, gradcheck.numerical_gradient, trials,
                     atol=1e-7, rtol=1e-5, verbose=verbose)


def _one_gate_check(exercise, candidate, activation, prefix, seed, verbose):
    """Check a single gate ``fn(x_t, h_prev, W_x?, W_h?, b_x?, b_h?)`` named with the gate's letter."""
    rng = np.random.default_rng(seed)
    names = dict(W_x=f"W_i{prefix}", W_h=f"W_h{prefix}", b_x=f"b_i{prefix}", b_h=f"b_h{prefix}")
    trials = [random_trial(rng, f"B={B}, D={D}, H={H}", x_t=(B, D), h_prev=(B, H), **{
        names["W_x"]: (H, D), names["W_h"]: (H, H), names["b_x"]: (H,), names["b_h"]: (H,)}) for B, D, H in SIZES]

    def reference(x_t, h_prev, **weights):
        block = {ours: weights[theirs] for ours, theirs in names.items()}
        return numpy_lstm.gate(x_t, h_prev, activation=activation, **block)

    return run_check(exercise, candidate, reference, trials, verbose=verbose)


def check_forget_gate(forget_gate: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``forget_gate(x_t, h_prev, W_if, W_hf, b_if, b_hf) -> f_t`` ``(B, H)``."""
    return _one_gate_check("forget_gate", forget_gate, sigmoid, "f", seed, verbose)


def check_candidate(candidate: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``candidate(x_t, h_prev, W_ig, W_hg, b_ig, b_hg) -> g_t`` ``(B, H)``."""
    return _one_gate_check("candidate", candidate, np.tanh, "g", seed, verbose)


def check_cell_update(cell_update: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``cell_update(c_prev, forget_gate, input_gate, candidate) -> c_t`` ``(B, H)``."""
    rng = np.random.default_rng(seed)
    trials = []
    for B, _, H in SIZES:
        trial = random_trial(rng, f"B={B}, H={H}", c_prev=(B, H), candidate=(B, H))
        gates = dict(forget_gate=rng.uniform(size=(B, H)), input_gate=rng.uniform(size=(B, H)))
        trials.append(Trial(trial.description, {**trial.kwargs, **gates}))
    return run_check("cell_update", cell_update, numpy_lstm.cell_update, trials, verbose=verbose)


def check_hidden_state(hidden_state: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``hidden_state(output_gate, cell_state) -> h_t`` ``(B, H)``."""
    rng = np.random.default_rng(seed)
    trials = [Trial(f"B={B}, H={H}", dict(output_gate=rng.uniform(size=(B, H)), cell_state=3 * rng.normal(size=(B, H))))
              for B, _, H in SIZES]
    return run_check("hidden_state", hidden_state, numpy_lstm.hidden_state, trials, verbose=verbose)


def check_lstm_step(lstm_step: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``lstm_step(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh) -> (h_t, c_t)``, gates ``i, f, g, o``."""
    rng = np.random.default_rng(seed)
    trials = [random_trial(rng, f"B={B}, D={D}, H={H}", x_t=(B, D), h_prev=(B, H), c_prev=(B, H),
                           W_ih=(4 * H, D), W_hh=(4 * H, H), b_ih=(4 * H,), b_hh=(4 * H,)) for B, D, H in SIZES]
    return run_check("lstm_step", lstm_step, numpy_lstm.lstm_step, trials, verbose=verbose)


def check_adam_update(adam_update: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``adam_update(param, grad, m, v, step, lr, beta1, beta2, eps) -> (param, m, v)``."""
    rng = np.random.default_rng(seed)
    trials = []
    for step in (1, 2, 10):
        trial = random_trial(rng, f"step {step}", param=(3, 4), grad=(3, 4), m=(3, 4))
        kwargs = dict(trial.kwargs, v=rng.uniform(size=(3, 4)), step=step, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
        trials.append(Trial(trial.description, kwargs))
    return run_check("adam_update", adam_update, optim.adam_update, trials, verbose=verbose)


def check_keras_lstm_to_torch(keras_lstm_to_torch: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``keras_lstm_to_torch(kernel, recurrent_kernel, bias) -> dict`` of ``nn.LSTM`` layer-0 weights."""
    rng = np.random.default_rng(seed)
    trials = [random_trial(rng, f"D={D}, H={H}", kernel=(D, 4 * H), recurrent_kernel=(H, 4 * H), bias=(4 * H,))
              for _, D, H in SIZES]
    return run_check("keras_lstm_to_torch", keras_lstm_to_torch, conversions.keras_lstm_to_torch, trials,
                     verbose=verbose)


def check_adding_targets(adding_targets: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``adding_targets(inputs (T, B, 2)) -> (B,)`` on freshly generated adding-problem batches."""
    rng = np.random.default_rng(seed)
    trials = [Trial(f"B={batch}, T={length}", {"inputs": adding_problem.generate(batch, length, rng)[0]})
              for batch, length in ((1, 20), (16, 50), (64, 100))]
    return run_check("adding_targets", adding_targets, adding_problem.targets_from_inputs, trials, atol=1e-6,
                     verbose=verbose)


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
    rng = np.random.default_rng(seed)
    trials = [random_trial(rng, f"B={B}, D={D}, H={H}", x_t=(B, D), h_prev=(B, H), W_ih=(3 * H, D),
                           W_hh=(3 * H, H), b_ih=(3 * H,), b_hh=(3 * H,)) for B, D, H in SIZES]
    return run_check("gru_step", gru_step, gru_step_reference, trials, verbose=verbose)


def check_streams(streams: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``streams(ids (N,), batch_size) -> (inputs, targets)``, each ``(N // batch_size ..., batch_size)``."""
    rng = np.random.default_rng(seed)
    trials = [Trial(f"{length} ids, batch_size={batch}", {"ids": rng.integers(0, 85, length), "batch_size": batch})
              for length, batch in ((11, 2), (101, 4), (1000, 7), (65, 64))]
    return run_check("streams", streams, batching.streams, trials, atol=0, rtol=0, verbose=verbose)


def check_next_character_distribution(next_character_distribution: Callable, seed: int = 0,
                                      verbose: bool = True) -> CheckResult:
    """Check ``next_character_distribution(logits (V,), temperature, top_k) -> (V,)`` probabilities."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    trials = [Trial(f"V={size}, temperature={temperature}, top_k={top_k}",
                    {"logits": 3 * torch.randn(size, generator=generator, dtype=torch.float64),
                     "temperature": temperature, "top_k": top_k})
              for size, temperature, top_k in ((5, 1.0, None), (85, 0.5, None), (85, 1.5, 10), (85, 0.8, 1))]
    return run_check("next_character_distribution", next_character_distribution,
                     sampling.next_character_distribution, trials, atol=1e-10, verbose=verbose)


def check_shard(shard: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``shard(array (N, B * world_size), rank, world_size) -> (N, B)`` against the reference."""
    rng = np.random.default_rng(seed)
    trials = [Trial(f"N={length}, B={width}, rank {rank} of {world}",
                    {"array": rng.integers(0, 85, (length, width * world)), "rank": rank, "world_size": world})
              for length, width, rank, world in ((5, 3, 0, 1), (7, 2, 1, 2), (4, 5, 2, 4), (6, 1, 3, 4))]
    return run_check("shard", shard, batching.shard, trials, atol=0, rtol=0, verbose=verbose)
