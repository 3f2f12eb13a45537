"""The reference answers, read from where they are written: the solution cells of the instructor's notebooks.

The package holds no answer to a graded exercise; the instructor's chapter does, in the code cell
between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (the student edition replaces it by a stub).
:func:`load` runs a chapter's solution cells, in order, in a fresh namespace (with ``np`` imported, as
every chapter has it) and returns the functions the chapter's implement exercises ask for. Only the
grader and the tests call it, on the instructor's machine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import numpy as np

from lstm_instructor.catalogue import exercises_in_notebook
from lstm_instructor.student_edition import BEGIN_SOLUTION


def solution_sources(notebook_path: Path) -> list[str]:
    """The sources of the code cells of a notebook that hold a solution block, in order."""
    notebook = nbformat.read(notebook_path, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code" and BEGIN_SOLUTION in cell.source]


def load(notebook_path) -> dict[str, Callable]:
    """Exercise name -> the instructor's reference function, for every implement exercise of the chapter.

    Raises ``ValueError`` for a notebook without solutions (a student's copy) or a solution cell that
    fails or does not define its function.
    """
    notebook_path = Path(notebook_path)
    names = [exercise.check for exercise in exercises_in_notebook(notebook_path)
             if exercise.kind == "implement" and exercise.check]
    sources = solution_sources(notebook_path)
    if names and not sources:
        raise ValueError(f"{notebook_path.name}: no solution cells; expected the instructor's notebook")
    namespace: dict[str, object] = {"np": np, "__name__": f"reference_answers.{notebook_path.stem}"}
    for source in sources:
        try:
            exec(compile(source, f"<{notebook_path.name} solution>", "exec"), namespace)  # the instructor's code
        except Exception as error:
            raise ValueError(f"{notebook_path.name}: a solution cell raised {type(error).__name__}: {error}") from None
    missing = [name for name in names if not callable(namespace.get(name))]
    if missing:
        raise ValueError(f"{notebook_path.name}: the solution cells define no {', '.join(missing)}")
    return {name: namespace[name] for name in names}
