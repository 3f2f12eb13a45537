"""Shared by the benchmarks: the LSTM sizes they accept, and interleaved timing with medians."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np


def size_parser(description: str) -> argparse.ArgumentParser:
    """Arguments every LSTM benchmark takes; defaults T=128, B=32, D=64, H=256, 7 repetitions."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--steps", type=int, default=128, help="sequence length T")
    parser.add_argument("--batch", type=int, default=32, help="batch size B")
    parser.add_argument("--input", type=int, default=64, help="input width D")
    parser.add_argument("--hidden", type=int, default=256, help="hidden size H")
    parser.add_argument("--repetitions", type=int, default=7)
    return parser


def interleaved_medians(workloads: dict[str, Callable[[], object]], repetitions: int, warmup: int = 2) -> dict:
    """Median seconds of each workload, run in turn ``repetitions`` times after ``warmup`` rounds.

    Interleaving means a drift in machine speed (another process, frequency scaling) affects every
    workload alike, so their ratio stays meaningful.
    """
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
