"""The student edition's notebooks run top to bottom with the exercises unanswered: the second half of the chapters.

Why the chapters are split across two files: ``tests/student_notebook_runs.py``; the fixture: ``conftest.py``.
"""

import pytest
from student_notebook_runs import chapter_halves, run_student_notebook


@pytest.mark.parametrize("path", chapter_halves()[1], ids=lambda path: path.stem)
def test_student_notebook_executes_top_to_bottom(path, student_chapters):
    run_student_notebook(path, student_chapters)
