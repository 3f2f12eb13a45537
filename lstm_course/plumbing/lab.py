"""The student's seat: JupyterLab on the chapters, run the way the notebooks expect.

``python -m lstm_course lab`` (what ``make lab`` runs, in the course and in the student edition)
replaces itself with a JupyterLab server on ``chapters/``, using this environment's Python as the
kernel, with one thread per kernel (``OMP_NUM_THREADS=1`` and friends, as the test suite runs the
notebooks) and a fixed hash seed. JupyterLab's calls home (announcements, update checks) are
turned off: the course runs offline once installed. JupyterLab prints the address to open; Ctrl-C
twice stops it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
OFFLINE_OPTIONS = ("--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")


def command(folder: Path, port: int = 8888, open_browser: bool = True, token: str | None = None) -> list[str]:
    """The ``jupyter lab`` command line for ``folder``."""
    arguments = [sys.executable, "-m", "jupyterlab", str(folder), f"--ServerApp.port={port}", *OFFLINE_OPTIONS]
    if not open_browser:
        arguments.append("--no-browser")
    if token is not None:
        arguments.append(f"--IdentityProvider.token={token}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        arguments.append("--allow-root")  # containers and CI run as root; JupyterLab refuses it otherwise
    return arguments


def environment() -> dict[str, str]:
    """This process's environment with one thread per kernel and a fixed hash seed."""
    return {**os.environ, **{name: "1" for name in THREAD_VARIABLES}, "PYTHONHASHSEED": "0"}


def start(folder: Path, port: int = 8888, open_browser: bool = True, token: str | None = None) -> None:
    """Replace this process with JupyterLab on ``folder`` (does not return)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (expected the course's chapters/)")
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"port: expected an integer from 1 to 65535, got {port!r}")
    if importlib.util.find_spec("jupyterlab") is None:
        raise RuntimeError("JupyterLab is not installed in this environment: run `make lab`, or "
                           "`pip install -r requirements.txt`, which installs it")
    print(f"JupyterLab on {folder}/ with {sys.executable} as the kernel, one thread per kernel. Open the "
          "address it prints below (with its token); stop it with Ctrl-C twice.", file=sys.stderr, flush=True)
    arguments = command(folder, port, open_browser, token)
    os.execve(arguments[0], arguments, environment())
