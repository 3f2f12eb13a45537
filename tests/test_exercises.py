"""Every chapter ends with the three kinds of exercise, and every implement exercise is graded by a check."""

from collections import Counter
from pathlib import Path

import pytest

from lstm_course import grading
from lstm_course.exercises import KINDS, catalogue, exercises_in_notebook

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_each_chapter_has_every_kind_of_exercise(path):
    exercises = exercises_in_notebook(path)
    assert all(exercise.kind in KINDS for exercise in exercises), [e.title for e in exercises if e.kind not in KINDS]
    assert set(KINDS) <= {exercise.kind for exercise in exercises}


def test_implement_exercises_and_checks_correspond_one_to_one():
    exercises = catalogue(ROOT / "chapters")
    implement = [exercise for exercise in exercises if exercise.kind == "implement"]
    assert all(exercise.check in grading.EXERCISES for exercise in implement), implement
    assert Counter(exercise.check for exercise in implement) == Counter(list(grading.EXERCISES))
    assert len({exercise.label for exercise in exercises}) == len(exercises)  # labels are unique
