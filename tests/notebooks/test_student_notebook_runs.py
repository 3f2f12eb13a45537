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


def test_unchanged_cells_that_no_kept_cell_needs_are_skipped():
    cells = [("import json", []), ("model = train()", [LONG_RUNNING]), ("print(model)", []),
             ("loss = json.loads('1')", []), ("plot(loss)", []), ("def answer():\n    raise NotImplementedError()",
                                                                 ["raises-exception"]),
             ("check_answer(answer)", [])]
    assert skipped_cells(notebook(*cells), notebook(*cells)) == {0, 1, 2, 3, 4}


def test_a_kept_cell_keeps_every_earlier_cell_that_defines_what_it_reads():
    cells = [("import numpy as np", []), ("x = np.ones(3)", []), ("y = x + 1", []), ("plot(y)", []),
             ("check_answer(answer, y)", [])]
    assert skipped_cells(notebook(*cells), notebook(*cells)) == {3}


def test_a_cell_the_students_copy_changes_is_kept():
    student = notebook(("model = train()", [LONG_RUNNING]), ("print(model)", []))
    instructor = notebook(("model = train(steps=5)", [LONG_RUNNING]), ("print(model)", []))
    assert skipped_cells(student, instructor) == {1}  # the student's copy differs: run it


def test_nothing_is_skipped_when_a_changed_cell_needs_a_long_running_one():
    cells = [("model = train()", [LONG_RUNNING]), ("check_sampling(sample, model)", []), ("plot(1)", [])]
    assert skipped_cells(notebook(*cells), notebook(*cells)) == set()


def test_a_cell_that_reads_a_file_and_a_long_running_result_is_skipped():
    cells = [("model = train()", [LONG_RUNNING]), ("x = np.load('../results/a.npy') + model", []),
             ("y = x", []), ("import numpy as np", []), ("z = np.load('../results/b.npy')", [])]
    assert skipped_cells(notebook(*cells), notebook(*cells)) == {0, 1, 2}


def test_cells_that_read_files_are_kept_unless_long_running():
    cells = [("import json\nfrom pathlib import Path", []),
             ("record = json.loads(Path('../results/r.json').read_text())", []),
             ("subprocess.run(['../benchmarks/b.py'])", [LONG_RUNNING]), ("rng = notebook.setup(seed=0)", []),
             ("plot(record)", [])]
    assert skipped_cells(notebook(*cells), notebook(*cells)) == {2, 4}
