"""Test-wide set-up: one thread everywhere, including the notebook kernels nbval starts; and the browser.

The environment variables are set before NumPy or PyTorch load, and are inherited by every
kernel process, so notebooks run single-threaded under the test command as they do for readers.
``browser`` is Debian's headless Chromium driven by Playwright, shared by the book's browser test
(``test_browser.py``) and JupyterLab's (``test_lab.py``).
"""

import os
import shutil
from pathlib import Path

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM}: not found; `make test` installs Debian's chromium (apt-get)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def student_chapters(tmp_path_factory):
    """The student edition's chapters folder, notebooks and package only (no book), one per test file."""
    from lstm_instructor.student_edition import write_student_edition

    out = tmp_path_factory.mktemp("student")
    write_student_edition(out, build=False)
    return out / "chapters"
