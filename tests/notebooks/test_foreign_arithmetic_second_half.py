"""Chapters 1 to 7 pass nbval under another CPU's arithmetic: the second half of them.

Why another arithmetic: ``tests/notebooks/test_foreign_arithmetic.py``; why two files: ``tests/foreign_arithmetic.py``.
"""

import pytest
from foreign_arithmetic import assert_nbval_passes_under_foreign_arithmetic, fast_chapter_halves


@pytest.mark.parametrize("path", fast_chapter_halves()[1], ids=lambda path: path.stem)
def test_fast_chapter_passes_nbval_under_foreign_arithmetic(path):
    assert_nbval_passes_under_foreign_arithmetic([path])
