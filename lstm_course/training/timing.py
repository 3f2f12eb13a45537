"""Timing that survives a noisy machine: workloads interleaved, medians reported.

Used by ``benchmarks/`` and by the scaling chapter, so both measure the same way and time the same step.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch


def interleaved_medians(workloads: dict[str, Callable[[], object]], repetitions: int, warmup: int = 2) -> dict:
    """Median seconds of each workload, run in turn ``repetitions`` times after ``warmup`` rounds.

    Interleaving means a drift in machine speed (another process, frequency scaling) affects every
    workload alike, so their ratio stays meaningful.
    """
    if not isinstance(repetitions, int) or repetitions < 1:
        raise ValueError(f"repetitions: expected a positive integer, got {repetitions!r}")
    for _ in range(warmup):
        for workload in workloads.values():
            workload()
    timings = {name: [] for name in workloads}
    for _ in range(repetitions):
        for name, workload in workloads.items():
            start = time.perf_counter()
            workload()
            timings[name].append(time.perf_counter() - start)
    return {name: float(np.median(times)) for name, times in timings.items()}


def forward_backward(model, inputs) -> Callable[[], None]:
    """A function running ``model`` (an LSTM) forward on ``inputs`` and backward from ``sum(output)``.

    It returns as soon as the work is queued: on a GPU that is before the work is done. This is the
    step :func:`lstm_course.training.cuda_graphs.capture` records; to time it, use :func:`training_step`.
    The gradients are set to ``None`` first, so each call's ``.grad`` tensors are freshly written.
    """
    def run() -> None:
        model.zero_grad()
        output, _ = model(inputs)
        output.sum().backward()

    return run


def training_step(model, inputs) -> Callable[[], None]:
    """:func:`forward_backward`, waiting for the GPU to finish when ``inputs`` is on one.

    Timing it measures the work, not only its launch.
    """
    return finished(forward_backward(model, inputs), inputs.device)


def finished(step: Callable[[], object], device) -> Callable[[], None]:
    """``step`` followed by waiting for ``device`` (a ``torch.device``) to finish all queued work (on a GPU)."""
    device = torch.device(device)

    def run() -> None:
        step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    return run
