"""Chapters 1 to 7 under nbval with another CPU's arithmetic, in two halves of about equal time.

Why another arithmetic: ``tests/notebooks/test_foreign_arithmetic.py``. One test file is one unit for
pytest-xdist's ``--dist loadfile``, and the seven chapters take about three times as long as with the
native kernels, so ``test_foreign_arithmetic.py`` and ``test_foreign_arithmetic_second_half.py`` each
run one half of :func:`fast_chapter_halves`, split by recorded time as the student notebooks are.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from student_notebook_runs import ROOT, chapter_halves

from lstm_course.plumbing.runtime import FOREIGN_ARITHMETIC

FAST_CHAPTERS = sorted((ROOT / "chapters").glob("0[1-7]_*.ipynb"))


def fast_chapter_halves() -> tuple[list[Path], list[Path]]:
    return chapter_halves(FAST_CHAPTERS)


def assert_nbval_passes_under_foreign_arithmetic(chapters: list[Path]) -> None:
    """nbval on ``chapters`` in a process with :data:`lstm_course.plumbing.runtime.FOREIGN_ARITHMETIC` set."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q", "--nbval",
         "--nbval-current-env", "--nbval-sanitize-with", "tests/sanitize.cfg",
         *(str(path.relative_to(ROOT)) for path in chapters)],
        cwd=ROOT, env=os.environ | FOREIGN_ARITHMETIC, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-6000:]
