"""The inputs every implement exercise is tried on: drawn from a seed, made of data only.

The notebook's public check (:mod:`lstm_course.checks`) draws them from a public seed; the grader
(:mod:`lstm_course.grading`) draws them from a secret seed at grading time and hands them to the
sandboxed submission as an ``.npz`` file, so a submission cannot be written for known inputs.

An argument is a NumPy array, a plain ``int``/``float``/``None``, a :class:`Tensor` (an array the
function receives as a ``torch.Tensor``) or a :class:`Function` (a smooth function from
:data:`FUNCTIONS`, named, so that it can cross the sandbox as data).

    trials = exercise_inputs.draw("cell_update", np.random.default_rng(0))
    # [Trial("B=1, H=1", {"c_prev": array (1, 1), ...}), ...]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from lstm_course import adding_problem


@dataclass(frozen=True)
class Trial:
    """One test case: a description for messages and the keyword arguments to call with."""

    description: str
    kwargs: Mapping[str, object]


@dataclass(frozen=True)
class Tensor:
    """An argument the function receives as a ``torch.Tensor`` (float64 or int64, as the array)."""

    array: np.ndarray


@dataclass(frozen=True)
class Function:
    """An argument the function receives as the callable ``FUNCTIONS[name]``."""

    name: str


FUNCTIONS: dict[str, Callable[[np.ndarray], float]] = {
    "sum of cubes": lambda x: float(np.sum(x**3)),
    "sum of sin(x) * position": lambda x: float(np.sum(np.sin(x) * np.arange(1, x.size + 1).reshape(x.shape))),
    "log-sum-exp": lambda x: float(np.log(np.sum(np.exp(x)))),
}

SIZES = [(1, 1, 1), (3, 4, 5), (2, 7, 3), (8, 16, 32)]
"""Batch, input and hidden sizes every shape-generic exercise is tried on."""


def normal_trial(rng: np.random.Generator, description: str, **shapes) -> Trial:
    """A trial whose every argument is a standard-normal array of the given shape."""
    return Trial(description, {name: rng.normal(size=shape) for name, shape in shapes.items()})


def _rnn_step(rng):
    return [normal_trial(rng, f"B={B}, D={D}, H={H}", x_t=(B, D), h_prev=(B, H), W_ih=(H, D), W_hh=(H, H),
                         b_ih=(H,), b_hh=(H,)) for B, D, H in SIZES]


def _clip_grad_norm(rng):
    def grads(scale):
        return {"W_ih": scale * rng.normal(size=(4, 3)), "W_hh": scale * rng.normal(size=(4, 4)),
                "b": scale * rng.normal(size=4)}

    return [Trial("norm far above max_norm", dict(grads=grads(10.0), max_norm=1.0)),
            Trial("norm below max_norm: unchanged", dict(grads=grads(0.01), max_norm=1.0)),
            Trial("a single array", dict(grads={"W": rng.normal(size=(5, 5))}, max_norm=0.5))]


def _numerical_gradient(rng):
    shapes = [(5,), (3, 4), (2, 2, 2)]
    return [Trial(f"f(x) = {name}, x of shape {shape}", dict(f=Function(name), x=rng.normal(size=shape), eps=1e-5))
            for name, shape in zip(FUNCTIONS, shapes, strict=True)]


def _one_gate(letter):
    def trials(rng):
        return [normal_trial(rng, f"B={B}, D={D}, H={H}", x_t=(B, D), h_prev=(B, H), **{
            f"W_i{letter}": (H, D), f"W_h{letter}": (H, H), f"b_i{letter}": (H,), f"b_h{letter}": (H,)})
            for B, D, H in SIZES]
    return trials


def _cell_update_backward(rng):
    return [Trial(f"B={B}, H={H}", dict(d_c=rng.normal(size=(B, H)), c_prev=rng.normal(size=(B, H)),
                                        forget_gate=rng.uniform(size=(B, H)), input_gate=rng.uniform(size=(B, H)),
                                        candidate=rng.uniform(-1, 1, size=(B, H))))
            for B, _, H in SIZES]


def _hidden_state(rng):
    return [Trial(f"B={B}, H={H}", dict(output_gate=rng.uniform(size=(B, H)), cell_state=3 * rng.normal(size=(B, H))))
            for B, _, H in SIZES]


def _lstm_step(rng):
    return [normal_trial(rng, f"B={B}, D={D}, H={H}", x_t=(B, D), h_prev=(B, H), c_prev=(B, H),
                         W_ih=(4 * H, D), W_hh=(4 * H, H), b_ih=(4 * H,), b_hh=(4 * H,)) for B, D, H in SIZES]


def _adam_update(rng):
    trials = []
    for step in (1, 2, 10):
        trial = normal_trial(rng, f"step {step}", param=(3, 4), grad=(3, 4), m=(3, 4))
        trials.append(Trial(trial.description, dict(trial.kwargs, v=rng.uniform(size=(3, 4)), step=step, lr=0.01,
                                                    beta1=0.9, beta2=0.999, eps=1e-8)))
    return trials


def _keras_lstm_to_torch(rng):
    return [normal_trial(rng, f"D={D}, H={H}", kernel=(D, 4 * H), recurrent_kernel=(H, 4 * H), bias=(4 * H,))
            for _, D, H in SIZES]


def _adding_targets(rng):
    return [Trial(f"B={batch}, T={length}", {"inputs": adding_problem.generate(batch, length, rng)[0]})
            for batch, length in ((1, 20), (16, 50), (64, 100))]


def _gru_step(rng):
    return [normal_trial(rng, f"B={B}, D={D}, H={H}", x_t=(B, D), h_prev=(B, H), W_ih=(3 * H, D),
                         W_hh=(3 * H, H), b_ih=(3 * H,), b_hh=(3 * H,)) for B, D, H in SIZES]


def _streams(rng):
    return [Trial(f"{length} ids, batch_size={batch}", {"ids": rng.integers(0, 85, length), "batch_size": batch})
            for length, batch in ((11, 2), (101, 4), (1000, 7), (65, 64))]


def _next_character_distribution(rng):
    return [Trial(f"V={size}, temperature={temperature}, top_k={top_k}",
                  {"logits": Tensor(3 * rng.normal(size=size)), "temperature": temperature, "top_k": top_k})
            for size, temperature, top_k in ((5, 1.0, None), (85, 0.5, None), (85, 1.5, 10), (85, 0.8, 1))]


def _shard(rng):
    return [Trial(f"N={length}, B={width}, rank {rank} of {world}",
                  {"array": rng.integers(0, 85, (length, width * world)), "rank": rank, "world_size": world})
            for length, width, rank, world in ((5, 3, 0, 1), (7, 2, 1, 2), (4, 5, 2, 4), (6, 1, 3, 4))]


@dataclass(frozen=True)
class Inputs:
    """How to draw one exercise's trials, and how closely an answer must match (``np.isclose``)."""

    draw: Callable[[np.random.Generator], list[Trial]]
    atol: float = 1e-8
    rtol: float = 1e-6


EXERCISES: dict[str, Inputs] = {
    "rnn_step": Inputs(_rnn_step),
    "numerical_gradient": Inputs(_numerical_gradient, atol=1e-7, rtol=1e-5),
    "clip_grad_norm": Inputs(_clip_grad_norm, atol=1e-6),
    "forget_gate": Inputs(_one_gate("f")),
    "candidate": Inputs(_one_gate("g")),
    "cell_update_backward": Inputs(_cell_update_backward),
    "hidden_state": Inputs(_hidden_state),
    "lstm_step": Inputs(_lstm_step),
    "adam_update": Inputs(_adam_update),
    "keras_lstm_to_torch": Inputs(_keras_lstm_to_torch),
    "adding_targets": Inputs(_adding_targets, atol=1e-6),
    "gru_step": Inputs(_gru_step),
    "streams": Inputs(_streams, atol=0, rtol=0),
    "next_character_distribution": Inputs(_next_character_distribution, atol=1e-10),
    "shard": Inputs(_shard, atol=0, rtol=0),
}
"""Exercise name (the function the student writes) -> its inputs and tolerance."""


def draw(exercise: str, rng: np.random.Generator) -> list[Trial]:
    """The trials of ``exercise`` drawn from ``rng``."""
    if exercise not in EXERCISES:
        raise KeyError(f"unknown exercise {exercise!r}; expected one of {sorted(EXERCISES)}")
    return EXERCISES[exercise].draw(rng)


def materialise(kwargs: Mapping[str, object]) -> dict[str, object]:
    """The arguments as the function receives them: tensors as ``torch.Tensor``, functions as callables.

    Every call gets fresh copies, so a function that changes its inputs cannot change another call's.
    """
    arguments = {}
    for name, value in kwargs.items():
        if isinstance(value, Tensor):
            import torch

            arguments[name] = torch.from_numpy(np.array(value.array))
        elif isinstance(value, Function):
            arguments[name] = FUNCTIONS[value.name]
        elif isinstance(value, Mapping):
            arguments[name] = {key: np.array(item) for key, item in value.items()}
        elif isinstance(value, np.ndarray):
            arguments[name] = np.array(value)
        else:
            arguments[name] = value
    return arguments
