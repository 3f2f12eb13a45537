"""Reproducible, single-threaded set-up for notebooks, tests and scripts.

The course pins one thread: the test suite runs two notebooks at once on a 2-core machine, and a
fixed thread count keeps BLAS reductions, and so the compared outputs, reproducible. A workload
running alone gains 1.2x to 1.8x from a second thread (``benchmarks/threads.py``; README,
"Threads"). Seeds are set for Python, NumPy and PyTorch.
"""

from __future__ import annotations

import os
import platform
import random

import numpy as np
from threadpoolctl import threadpool_limits

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def set_threads(num_threads: int = 1) -> None:
    """Limit NumPy's BLAS and PyTorch to ``num_threads`` threads in this process and its children."""
    import torch

    for variable in _THREAD_VARIABLES:
        os.environ[variable] = str(num_threads)
    threadpool_limits(num_threads)
    torch.set_num_threads(num_threads)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's, NumPy's and PyTorch's global generators; return a fresh NumPy ``Generator``."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


DEVICE_CHOICES = "'auto', 'cpu', 'cuda' or 'cuda:N'"


def check_device_name(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` is one of :data:`DEVICE_CHOICES` (does not look for a GPU)."""
    kind, _, index = str(name).partition(":")
    if not (name in ("auto", "cpu", "cuda") or (kind == "cuda" and index.isdigit())):
        raise ValueError(f"device: expected {DEVICE_CHOICES}, got {name!r}")


def resolve_device(name: str = "auto"):
    """The ``torch.device`` for ``name``: ``'auto'`` is the first CUDA GPU if PyTorch sees one, else the CPU.

    Asking for a GPU that is not there is an error that says so, not a crash deep inside PyTorch.
    """
    import torch

    check_device_name(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r}: PyTorch sees no CUDA GPU on this machine "
                             f"(torch {torch.__version__}); use 'cpu' or 'auto'")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r}: this machine has {torch.cuda.device_count()} CUDA GPU(s), "
                             f"numbered from 0")
    return device


INSTRUCTION_SET_BELOW = {
    "AVX512": ({"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OPENBLAS_CORETYPE": "Haswell"},
               "AVX2"),
    "AVX2": ({"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "AVX", "OPENBLAS_CORETYPE": "Sandybridge"},
             "DEFAULT"),
}
"""PyTorch's native kernels (``torch.backends.cpu.get_cpu_capability()``) -> (the environment that switches
PyTorch, MKL and OpenBLAS one instruction set down, what PyTorch then reports). Set it before they load."""

FOREIGN_ARITHMETIC = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "OPENBLAS_CORETYPE": "Nehalem",
                      "ONEDNN_MAX_CPU_ISA": "SSE41"}
"""The environment that gives PyTorch, MKL, OpenBLAS and oneDNN another CPU's last-bit arithmetic: PyTorch's
generic kernels, MKL's compatible code path, OpenBLAS's SSE4.2 kernels, oneDNN held to SSE4.1 (the settings of
``shared/tools/foreign-arithmetic``, but for OpenBLAS: that tool's ``Prescott`` kernels crash NumPy 2.5's
OpenBLAS on a ``(32, 1024) x (1024, 256)`` float32 product, measured with Python 3.13; ``Nehalem``'s run there
and change NumPy's last bits too). One instruction set down is not enough: on some CPUs it leaves ``nn.LSTM``
and PyTorch's matrix products bit-identical. Set it before they load; it runs about 3 times slower."""


def processor_name() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo) and architecture, e.g. ``'AMD EPYC (x86_64)'``."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or "unknown CPU"
    return f"{model} ({platform.machine()})"


def machine_description() -> dict:
    """What a results file records of the machine that wrote it: processor, CPU count, Python, PyTorch."""
    import torch

    return {"processor": processor_name(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__}
