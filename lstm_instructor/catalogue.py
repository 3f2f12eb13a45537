"""The course's exercises, read from the chapter notebooks: what an instructor picks from.

Every exercise is a ``{exercise}`` directive whose title ends with its kind in parentheses::

    ````{exercise} One step's Jacobian (implement)
    :label: ex-rnn-step-jacobian

* **warm-up**: a question, answered in a solution dropdown;
* **implement**: a function to write, answered between ``### BEGIN SOLUTION`` and ``### END SOLUTION``
  (the only copy of the answer, :mod:`lstm_instructor.reference_answers`), followed by a cell calling
  the public check ``check_NAME(NAME)`` from :mod:`lstm_course.exercises.checks`; the grader
  (:mod:`lstm_instructor.grading`) scores it on inputs of its own;
* **experiment**: change something, measure, explain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

KINDS = ("warm-up", "implement", "experiment")
DIRECTIVE = re.compile(r"^`{3,}\{exercise\}\s*(?P<heading>[^\n]*)\n:label:\s*(?P<label>\S+)", re.MULTILINE)
KIND = re.compile(r"\((?P<kind>[a-z-]+)\)\s*$")
CHECK_CALL = re.compile(r"\bcheck_(?P<name>\w+)\(")


@dataclass(frozen=True)
class Exercise:
    chapter: str  # notebook file name without .ipynb
    label: str
    title: str
    kind: str | None  # one of KINDS; None if the heading does not say
    check: str | None  # the exercise name its check cell checks (``check_NAME``), for implement exercises


def exercises_in_notebook(path) -> list[Exercise]:
    """The exercises of one chapter, in order, each with the check called before the next exercise."""
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    found: list[dict] = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for match in DIRECTIVE.finditer(cell.source):
                heading = match["heading"].strip()
                kind = KIND.search(heading)
                found.append({"chapter": path.stem, "label": match["label"],
                              "title": KIND.sub("", heading).strip(), "kind": kind["kind"] if kind else None,
                              "check": None})
        elif cell.cell_type == "code" and found and found[-1]["check"] is None:
            call = CHECK_CALL.search(cell.source)
            if call:
                found[-1]["check"] = call["name"]
    return [Exercise(**exercise) for exercise in found]


def catalogue(chapters_dir) -> list[Exercise]:
    """Every exercise of every chapter notebook in ``chapters_dir``, in course order."""
    return [exercise for path in sorted(Path(chapters_dir).glob("*.ipynb")) for exercise in exercises_in_notebook(path)]
