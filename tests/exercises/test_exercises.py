"""Every chapter ends with the three kinds of exercise, and every implement exercise is graded by a check."""

from collections import Counter
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lstm_course.exercises import checks, exercise_inputs
from lstm_instructor import reference_answers
from lstm_instructor.catalogue import CHECK_CALL, KINDS, catalogue, exercises_in_notebook

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_each_chapter_has_every_kind_of_exercise(path):
    exercises = exercises_in_notebook(path)
    assert all(exercise.kind in KINDS for exercise in exercises), [e.title for e in exercises if e.kind not in KINDS]
    assert set(KINDS) <= {exercise.kind for exercise in exercises}


def test_implement_exercises_checks_and_inputs_correspond_one_to_one():
    exercises = catalogue(ROOT / "chapters")
    implement = [exercise.check for exercise in exercises if exercise.kind == "implement"]
    public_checks = [name.removeprefix("check_") for name in vars(checks) if name.startswith("check_")]
    assert Counter(implement) == Counter(public_checks) == Counter(list(exercise_inputs.EXERCISES))
    assert len({exercise.label for exercise in exercises}) == len(exercises)  # labels are unique


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_reference_answers_pass_the_public_checks(path):
    """Each solution cell runs on its own (the grader runs it so) and passes the chapter's public check."""
    references = reference_answers.load(path)
    for name, reference in references.items():
        companions = [references[companion] for companion in exercise_inputs.companions(name)]
        assert getattr(checks, f"check_{name}")(reference, *companions, verbose=False).passed, name


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_every_committed_check_cell_says_pass(path):
    """The instructor's notebook shows its reference answers passing their checks."""
    notebook = nbformat.read(path, as_version=4)
    check_cells = [cell for cell in notebook.cells if cell.cell_type == "code" and CHECK_CALL.search(cell.source)]
    assert len(check_cells) == sum(exercise.kind == "implement" for exercise in exercises_in_notebook(path))
    for cell in check_cells:
        printed = "".join(output.get("text", "") for output in cell.outputs)
        assert printed.startswith("PASS"), (cell.source, printed)


@pytest.mark.parametrize("name", sorted(exercise_inputs.EXERCISES))
def test_the_grader_draws_trials_for_every_exercise(name):
    """What the grader grades with: a non-empty list of trials from any seed (a draw that forgot its ``return``
    gave ``None``, and every submission of that exercise would have been graded on nothing)."""
    for seed in (0, 12345):
        trials = exercise_inputs.draw(name, np.random.default_rng(seed))
        assert isinstance(trials, list) and trials, trials
        assert all(isinstance(trial, exercise_inputs.Trial) for trial in trials)


@pytest.mark.parametrize("name", sorted(exercise_inputs.EXERCISES))
def test_each_reference_answer_passes_the_graders_trials(name):
    references = {key: function for path in CHAPTERS for key, function in reference_answers.load(path).items()}
    inputs = exercise_inputs.EXERCISES[name]
    for trial in exercise_inputs.draw(name, np.random.default_rng(7)):  # called as the grader calls it
        first = exercise_inputs.call(name, references, exercise_inputs.materialise(trial.kwargs))
        again = exercise_inputs.call(name, references, exercise_inputs.materialise(trial.kwargs))
        assert checks.describe_difference(name, first, again, inputs.atol, inputs.rtol) is None
