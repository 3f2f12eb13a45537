"""Test-wide set-up: one thread everywhere, including the notebook kernels nbval starts.

The environment variables are set before NumPy or PyTorch load, and are inherited by every
kernel process, so notebooks run single-threaded under the test command as they do for readers.
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
