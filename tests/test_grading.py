"""The autograder: full marks, zero, exactly one exercise lost, and a row with a reason for every bad file."""

import csv
import json
from pathlib import Path

import nbformat
import pytest

from lstm_course import grading
from lstm_course.__main__ import main
from lstm_course.student_edition import student_notebook

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "01_why_rnns_forget.ipynb"
EXERCISES = ["rnn_step", "numerical_gradient", "clip_grad_norm"]


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as file:
        return {Path(row["submission"]).name: row for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    instructor = nbformat.read(CHAPTER, as_version=4)
    nbformat.write(instructor, folder / "instructor.ipynb")
    nbformat.write(student_notebook(instructor), folder / "student.ipynb")
    wrong = nbformat.read(CHAPTER, as_version=4)
    cell = next(cell for cell in wrong.cells if "def clip_grad_norm" in cell.source)
    cell.source = cell.source.replace("### BEGIN SOLUTION", "### BEGIN SOLUTION\n    return grads, 0.0")
    nbformat.write(wrong, folder / "wrong_clipping.ipynb")
    (folder / "not_json.ipynb").write_text("{ this is not JSON")
    (folder / "not_a_notebook.ipynb").write_text(json.dumps({"name": "a JSON file"}))
    looping = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from lstm_course.checks import check_rnn_step"),
        nbformat.v4.new_code_cell("while True:\n    pass"),
        nbformat.v4.new_code_cell("check_rnn_step(rnn_step)")])
    nbformat.write(looping, folder / "infinite_loop.ipynb")
    dying = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
        nbformat.v4.new_code_cell("check_rnn_step(rnn_step)")])
    nbformat.write(dying, folder / "kernel_dies.ipynb")
    return folder


@pytest.fixture(scope="module")
def graded(submissions):
    out = submissions / "grades.csv"
    names = ["instructor", "student", "wrong_clipping", "not_json", "not_a_notebook", "infinite_loop", "kernel_dies"]
    paths = [str(submissions / f"{name}.ipynb") for name in names]
    assert main(["grade", *paths, "--out", str(out), "--timeout", "30"]) == 0
    return out, paths


def test_columns(graded):
    out, _ = graded
    with open(out, newline="") as file:
        header = next(csv.reader(file))
    assert header == ["submission", *grading.EXERCISES, "score", "max_score", "status"]
    assert set(EXERCISES) <= set(grading.EXERCISES)


def test_instructor_scores_full_marks_and_student_zero(graded):
    rows = read_csv(graded[0])
    instructor, student = rows["instructor.ipynb"], rows["student.ipynb"]
    assert instructor["status"] == student["status"] == "ok"
    assert [instructor[name] for name in EXERCISES] == ["1", "1", "1"]
    assert instructor["score"] == instructor["max_score"] == "3"
    assert [student[name] for name in EXERCISES] == ["0", "0", "0"] and student["score"] == "0"
    assert student["max_score"] == "3"
    assert instructor["forget_gate"] == ""  # an exercise of another chapter: empty, not zero


def test_a_wrong_answer_loses_exactly_that_exercise(graded):
    row = read_csv(graded[0])["wrong_clipping.ipynb"]
    assert row["status"] == "ok"
    assert (row["rnn_step"], row["numerical_gradient"], row["clip_grad_norm"]) == ("1", "1", "0")
    assert row["score"] == "2" and row["max_score"] == "3"


def test_bad_files_get_a_row_with_their_reason(graded):
    rows = read_csv(graded[0])
    assert rows["not_json.ipynb"]["status"].startswith("invalid notebook: not JSON")
    assert rows["not_a_notebook.ipynb"]["status"].startswith("invalid notebook")
    assert rows["infinite_loop.ipynb"]["status"] == "timeout after 30 s"
    assert rows["infinite_loop.ipynb"]["rnn_step"] == "0" and rows["infinite_loop.ipynb"]["score"] == "0"
    assert rows["kernel_dies.ipynb"]["status"] == "kernel died"
    assert len(rows) == 7


def test_rerun_skips_graded_submissions_unless_forced(graded, capsys, monkeypatch):
    out, paths = graded
    calls = []
    monkeypatch.setattr(grading, "grade_one", lambda path, timeout: calls.append(path) or grading.Grade(str(path)))
    assert main(["grade", paths[0], paths[1], "--out", str(out)]) == 0
    assert calls == [] and "already graded" in capsys.readouterr().err
    assert main(["grade", paths[3], "--out", str(out), "--force"]) == 0
    assert calls == [paths[3]]
    assert read_csv(out)["not_json.ipynb"]["status"] == "ok"  # the stand-in grader's row replaced the old one
    assert read_csv(out)["instructor.ipynb"]["score"] == "3"  # untouched


def test_an_interrupt_keeps_rows_already_written(tmp_path, monkeypatch):
    out = tmp_path / "grades.csv"

    def grade_one(path, timeout):
        if "second" in str(path):
            raise KeyboardInterrupt
        return grading.Grade(str(path), {"rnn_step": 1.0}, 1.0)

    monkeypatch.setattr(grading, "grade_one", grade_one)
    with pytest.raises(KeyboardInterrupt):
        grading.grade(["first.ipynb", "second.ipynb"], out)
    rows = read_csv(out)
    assert list(rows) == ["first.ipynb"] and rows["first.ipynb"]["score"] == "1"
    assert [path.name for path in tmp_path.iterdir()] == ["grades.csv"]  # no temporary file left behind
