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


def training_step(model, inputs) -> Callable[[], None]:
    """A function that runs one forward and backward pass of ``model`` (an LSTM) on ``inputs``.

    The backward pass is that of ``sum(output)``. When ``inputs`` is on a GPU the function waits
    for the GPU to finish, so that timing it measures the work and not only its launch.
    """
    def run() -> None:
        model.zero_grad()
        output, _ = model(inputs)
        output.sum().backward()
        if inputs.is_cuda:
            torch.cuda.synchronize(inputs.device)

    return run
