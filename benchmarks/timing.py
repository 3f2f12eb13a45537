"""Shared by the benchmarks: their common arguments, the floor columns, and the peak memory of one step.

Interleaved timing comes from ``lstm_course.training.timing``. Every benchmark builds a dictionary of
workloads (name → a function running one step) and either times them all, interleaved with their
matrix-product floors (``floors.py``; :func:`floor_columns`), or, with ``--memory-of NAME``,
measures the memory of that one step (:func:`report_step_memory`); ``run_all.py`` does the latter
for each workload in a fresh process.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path

from lstm_course.training.timing import interleaved_medians

__all__ = ["benchmark_parser", "floor_columns", "interleaved_medians", "report_step_memory", "size_parser"]


def benchmark_parser(description: str) -> argparse.ArgumentParser:
    """Arguments every benchmark takes: ``--repetitions``, ``--threads`` and ``--memory-of``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch and BLAS threads (default 1)")
    parser.add_argument("--memory-of", metavar="NAME",
                        help="instead of timing, print the peak memory of one step of workload NAME, as JSON")
    return parser


def size_parser(description: str) -> argparse.ArgumentParser:
    """:func:`benchmark_parser` plus the LSTM's sizes; defaults T=128, B=32, D=64, H=256."""
    parser = benchmark_parser(description)
    parser.add_argument("--steps", type=int, default=128, help="sequence length T")
    parser.add_argument("--batch", type=int, default=32, help="batch size B")
    parser.add_argument("--input", type=int, default=64, help="input width D")
    parser.add_argument("--hidden", type=int, default=256, help="hidden size H")
    return parser


def floor_columns(times_ms: dict[str, float], floor_ms: dict[str, float]) -> dict[str, dict[str, float]]:
    """The JSON beside each variant's time: its floor, time / floor, and the share of its time above the floor.

    ``times_ms`` and ``floor_ms`` map each variant to its median time and to that of its floor (its
    matrix products alone, ``floors.py``), in milliseconds. The share above the floor is
    ``1 - floor / time``: the part of the time spent on anything but those products. It is negative
    where a variant beats its floor (``nn.LSTM``, whose oneDNN kernel runs its own products).
    """
    return {"floor_ms": {name: round(floor_ms[name], 3) for name in times_ms},
            "time_over_floor": {name: round(time / floor_ms[name], 3) for name, time in times_ms.items()},
            "share_above_floor": {name: round(1 - floor_ms[name] / time, 3) for name, time in times_ms.items()}}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} line")


def peak_step_mib(step, warmup: int = 2) -> float:
    """Resident memory one call of ``step`` adds at its peak, in MiB, above what the process held before it.

    Linux only: after ``warmup`` calls (gradients allocated, anything compiled), the high-water
    mark ``VmHWM`` is reset to the current resident size through ``/proc/self/clear_refs``, one
    call runs, and the mark is read back. Freed memory that the C allocator keeps would hide part
    of the peak, so ``run_all.py`` runs this with ``MALLOC_MMAP_THRESHOLD_`` low, which makes every
    large block go back to the system when it is freed.
    """
    for _ in range(warmup):
        step()
    gc.collect()
    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # 5: reset the peak resident size to the current one
    step()
    return (_status_kib("VmHWM") - before) / 1024


def report_step_memory(workloads: dict, name: str) -> None:
    """Print ``{"variant": name, "peak_step_mib": ...}`` for ``workloads[name]``; exit with a clear error if unknown."""
    if name not in workloads:
        sys.exit(f"--memory-of: expected one of {', '.join(map(repr, workloads))}, got {name!r}")
    print(json.dumps({"variant": name, "peak_step_mib": round(peak_step_mib(workloads[name]), 1)}))
