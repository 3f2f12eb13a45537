"""Reproducible, single-threaded set-up for notebooks, tests and scripts.

The course pins one thread: the test suite runs two notebooks at once on a 2-core machine, and a
fixed thread count keeps BLAS reductions, and so the compared outputs, reproducible. A workload
running alone gains 1.2x to 1.8x from a second thread (``benchmarks/threads.py``; README,
"Threads"). Seeds are set for Python, NumPy and PyTorch.
"""

from __future__ import annotations

import os
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
