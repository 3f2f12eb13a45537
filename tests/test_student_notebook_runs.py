"""Which cells a student run may skip (``tests/student_notebook_runs.py``), on notebooks made up for the purpose."""

import nbformat
from student_notebook_runs import LONG_RUNNING, names, skipped_cells


def notebook(*cells):
    """Code cells from ``(source, tags)`` pairs."""
    made = nbformat.v4.new_notebook()
    for source, tags in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = list(tags)
        made.cells.append(cell)
    return made


def test_names_defined_and_read():
    defined, read = names("import numpy as np\nfrom pathlib import Path\nresults['a'] = f(x)\nmodel.w = 1\n"
                          "def g(y):\n    return y + z\n%matplotlib inline\n")
    assert {"np", "Path", "results", "model", "g"} <= defined
    assert {"f", "x", "z", "y"} <= read


def test_a_long_running_cell_and_what_reads_it_are_skipped_and_nothing_else():
    cells = [("import json", []), ("model = train()", [LONG_RUNNING]), ("print(model)", []),
             ("loss = json.loads('1')", []), ("plot(loss)", []), ("def answer():\n    raise NotImplementedError()",
                                                                 ["raises-exception"]),
             ("check_answer(answer)", [])]
    student = notebook(*cells)
    assert skipped_cells(student, notebook(*cells)) == {1, 2}


def test_only_the_instructors_long_running_cells_are_skipped():
    student = notebook(("model = train()", [LONG_RUNNING]), ("print(model)", []))
    instructor = notebook(("model = train(steps=5)", [LONG_RUNNING]), ("print(model)", []))
    assert skipped_cells(student, instructor) == set()  # the student's copy differs: run it


def test_nothing_is_skipped_when_a_changed_cell_needs_a_skipped_one():
    cells = [("model = train()", [LONG_RUNNING]), ("check_sampling(sample, model)", [])]
    assert skipped_cells(notebook(*cells), notebook(*cells)) == set()
