"""The student edition's notebooks run top to bottom with the exercises unanswered: the first half of the chapters.

See ``tests/student_notebook_runs.py`` for why the chapters are split across two files.
"""

import pytest
from student_notebook_runs import chapter_halves, run_student_notebook

from lstm_course.student_edition import write_student_edition


@pytest.fixture(scope="module")
def student_chapters(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    write_student_edition(out, build=False)
    return out / "chapters"


@pytest.mark.parametrize("path", chapter_halves()[0], ids=lambda path: path.stem)
def test_student_notebook_executes_top_to_bottom(path, student_chapters):
    run_student_notebook(path, student_chapters)
