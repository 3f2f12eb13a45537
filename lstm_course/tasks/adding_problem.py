"""The adding problem, as Hochreiter & Schmidhuber (1997, section 5.4, experiment 4) define it.

Each step of a sequence is a pair (value, marker). Values are uniform in [-1, 1]. Exactly two
pairs are marked with 1.0: one of the first ten pairs (its value is X1) and one of the first
T/2 - 1 pairs still unmarked (X2). The markers of the first and last pairs are -1 unless marked,
all others 0; if the very first pair is the marked one, X1 is set to zero. Lengths are drawn
uniformly from T to T + T/10. The target, seen only at the end, is 0.5 + (X1 + X2) / 4, and a
sequence counts as correct when the absolute error there is below 0.04. The minimal time lag
between the second mark and the end is about T/2.

This module is the task: its sequences (:func:`generate`), their targets, the tolerance and the
test set's size, and the forget-bias heuristic the course derives from its longest lag. Training a
model on it is :mod:`lstm_course.experiments.adding_experiment`.
"""

from __future__ import annotations

import math

import numpy as np

MAX_LENGTH = 100_000
"""The longest sequences the adding problem makes: a batch of 32 at 100,000 steps already holds 6.4
million inputs, and the activations of its backward pass several times that."""

TOLERANCE = 0.04
"""A sequence is processed correctly if the absolute error at its end is below this."""
TEST_SEQUENCES = 2560
"""Size of the paper's test set; ``experiments.adding_experiment.evaluate`` uses this many by default."""


def generate(num_sequences: int, length: int, rng: np.random.Generator):
    """A batch of adding-problem sequences.

    Returns ``(inputs, lengths, targets)``: ``inputs`` ``(T_max, B, 2)`` float32, time-major and
    zero-padded after each sequence's end; ``lengths`` ``(B,)`` int64 in ``[length, length + length // 10]``;
    ``targets`` ``(B,)`` float32 in ``[0, 1]``.
    """
    if length < 20:
        raise ValueError(f"length: expected at least 20 (the second mark needs T/2 - 1 > 10 positions), got {length}")
    if num_sequences < 1:
        raise ValueError(f"num_sequences: expected a positive integer, got {num_sequences}")
    lengths = rng.integers(length, length + length // 10 + 1, size=num_sequences)
    max_length = int(lengths.max())
    batch = np.arange(num_sequences)
    values = rng.uniform(-1.0, 1.0, size=(max_length, num_sequences))
    markers = np.zeros((max_length, num_sequences))
    markers[0] = -1.0
    markers[lengths - 1, batch] = -1.0

    first = rng.integers(0, 10, size=num_sequences)
    # The second mark: one of the first T/2 - 1 positions that are not the first mark.
    candidates = length // 2 - 1
    second = rng.integers(0, candidates, size=num_sequences)
    second = second + (second >= first)  # skip over the first mark
    markers[first, batch] = 1.0
    markers[second, batch] = 1.0
    x1 = np.where(first == 0, 0.0, values[first, batch])
    values[0] = np.where(first == 0, 0.0, values[0])
    x2 = values[second, batch]

    padding = np.arange(max_length)[:, None] >= lengths[None, :]
    values[padding] = 0.0
    markers[padding] = 0.0
    inputs = np.stack([values, markers], axis=2).astype(np.float32)
    targets = (0.5 + (x1 + x2) / 4.0).astype(np.float32)
    return inputs, lengths.astype(np.int64), targets




def forget_bias_for_span(span: int) -> float:
    """The forget-gate bias whose gate, ``sigmoid(bias)``, keeps half of a value over ``span`` steps.

    ``sigmoid(b) ** span = 1/2`` gives ``b = -log(2 ** (1 / span) - 1)``, close to ``log(span / log 2)``
    (chapter 2's half-life table read backwards). At the adding problem's longest lag, T + T/10 = 110
    steps for T = 100, this is 5.06.
    """
    if span < 1:
        raise ValueError(f"span: expected a positive number of steps, got {span}")
    return -math.log(2 ** (1 / span) - 1)






def targets_from_inputs(inputs: np.ndarray) -> np.ndarray:
    """The target of each sequence, read off its inputs ``(T, B, 2)``: ``0.5 + (sum of marked values) / 4``.

    A value is marked when its marker (second component) is exactly 1.0; padding and the -1
    markers at the ends do not count. Returns ``(B,)``.
    """
    marked = inputs[..., 1] == 1.0
    return (0.5 + np.where(marked, inputs[..., 0], 0.0).sum(axis=0) / 4).astype(inputs.dtype)






