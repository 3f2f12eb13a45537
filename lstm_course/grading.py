"""The autograder: execute submitted notebooks, run the exercise checks, write ``grades.csv``.

    python -m lstm_course grade SUBMISSION.ipynb... --out grades.csv [--timeout SECONDS] [--force]

For each submission, one after another:

1. read it: not JSON, or JSON that is not a valid notebook, gets its row with that reason;
2. find its exercises: every ``check_NAME(...)`` call in a code cell, for a ``NAME`` that
   :mod:`lstm_course.checks` knows (:data:`EXERCISES`, in course order);
3. execute it top to bottom in its own kernel process, in a process group of its own that is killed
   after ``timeout`` seconds; cells that raise do not stop the run (a stub's
   ``NotImplementedError`` costs only that exercise);
4. in the same kernel, call ``checks.check_NAME(NAME)`` on the student's own function for every
   exercise found. The grader runs its own checks, so editing a notebook's check cell changes nothing.

``grades.csv`` has the columns ``submission``, one per exercise of the course, ``score``,
``max_score`` and ``status`` (``ok``, or the reason: ``timeout after N s``, ``invalid notebook: ...``,
``kernel died``, ...). A column is empty for an exercise the submission does not contain. The file is
rewritten atomically after every submission, so an interrupt loses nothing already graded, and a
re-run skips submissions already in it unless ``force``.
"""

from __future__ import annotations

import csv
import inspect
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from lstm_course import checks
from lstm_course.atomic import atomic_write
from lstm_course.exercises import CHECK_CALL

EXERCISES: dict[str, object] = dict(sorted(
    ((name.removeprefix("check_"), function) for name, function in vars(checks).items()
     if name.startswith("check_") and inspect.isfunction(function)),
    key=lambda item: item[1].__code__.co_firstlineno))
"""Exercise name -> its check. ``check_NAME`` checks the reader's function ``NAME``."""

FIXED_COLUMNS = ("submission",)
TOTAL_COLUMNS = ("score", "max_score", "status")
RESULT_MARKER = "LSTM_COURSE_GRADES "
DEFAULT_TIMEOUT = 1800.0


@dataclass
class Grade:
    submission: str
    scores: dict[str, float] = field(default_factory=dict)
    max_score: float = 0.0
    status: str = "ok"

    @property
    def score(self) -> float:
        return sum(self.scores.values())

    def row(self) -> dict[str, str]:
        row = {"submission": self.submission, **{name: f"{value:g}" for name, value in self.scores.items()}}
        row.update(score=f"{self.score:g}", max_score=f"{self.max_score:g}", status=self.status)
        return row


def columns() -> list[str]:
    return [*FIXED_COLUMNS, *EXERCISES, *TOTAL_COLUMNS]


def exercises_in(notebook) -> list[str]:
    """Names of the exercises whose checks a notebook calls, in course order."""
    called = set()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            called.update(match["name"] for match in CHECK_CALL.finditer(cell.source) if match["name"] in EXERCISES)
    return [name for name in EXERCISES if name in called]


def read_submission(path: Path):
    """The notebook at ``path``, or raise ``ValueError`` with the reason it cannot be graded."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError("missing file") from None
    except (UnicodeDecodeError, OSError) as error:
        raise ValueError(f"invalid notebook: unreadable ({type(error).__name__})") from None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"invalid notebook: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(content, dict) or "cells" not in content:
        raise ValueError("invalid notebook: JSON but not a notebook (no cells)")
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else type(error).__name__
        raise ValueError(f"invalid notebook: {reason}") from None
    return notebook


def grading_code(exercise_names: list[str]) -> str:
    """The cell the grader appends: run each check on the student's function, print the scores as JSON."""
    return f"""
import json as _grader_json
from lstm_course import checks as _grader_checks
_grader_scores = {{}}
for _grader_name in {exercise_names!r}:
    _grader_function = globals().get(_grader_name)
    if not callable(_grader_function):
        _grader_scores[_grader_name] = [0.0, 1.0, "function " + _grader_name + " is not defined"]
        continue
    _grader_result = getattr(_grader_checks, "check_" + _grader_name)(_grader_function, verbose=False)
    _grader_scores[_grader_name] = [_grader_result.score, _grader_result.max_score, _grader_result.message]
print({RESULT_MARKER!r} + _grader_json.dumps(_grader_scores))
"""


def execute_and_check(path: Path, working_dir: Path) -> dict:
    """Run in a child process: execute the notebook, append the grading cell, return its scores (JSON)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    notebook = read_submission(path)
    names = exercises_in(notebook)
    notebook.cells.append(nbformat.v4.new_code_cell(grading_code(names)))
    client = NotebookClient(notebook, timeout=None, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(working_dir)}})
    try:
        client.execute()
    except DeadKernelError:
        return {"status": "kernel died"}
    for output in notebook.cells[-1].outputs:
        text = output.get("text", "")
        if output.get("output_type") == "stream" and RESULT_MARKER in text:
            scores = json.loads(text.split(RESULT_MARKER, 1)[1].splitlines()[0])
            return {"status": "ok", "scores": scores}
    errors = [f"{output.get('ename')}: {output.get('evalue')}" for output in notebook.cells[-1].outputs
              if output.get("output_type") == "error"]
    return {"status": "grading failed: " + (errors[0][:160] if errors else "no scores printed")}


def grade_one(path, timeout: float = DEFAULT_TIMEOUT, working_dir=None) -> Grade:
    """Grade one submission in a separate process group, killed after ``timeout`` seconds."""
    path = Path(path)
    grade = Grade(str(path))
    try:
        notebook = read_submission(path)
    except ValueError as error:
        grade.status = str(error)
        return grade
    names = exercises_in(notebook)
    grade.max_score = float(len(names))  # one point each, unless the checks report otherwise (below)
    if working_dir is None:
        course_chapters = Path(__file__).resolve().parents[1] / "chapters"
        working_dir = course_chapters if course_chapters.is_dir() else path.resolve().parent
    with tempfile.TemporaryDirectory() as scratch:
        result_file = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "lstm_course.grading", str(path.resolve()), str(working_dir), str(result_file)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)  # its own process group, kernel included
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            grade.status = f"timeout after {timeout:g} s"
            grade.scores = dict.fromkeys(names, 0.0)
            return grade
        finally:
            _kill_group(process)
        if process.returncode != 0 or not result_file.exists():
            last = (stderr or "").strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
            grade.status = f"grader error: {last[0][:160]}"
            grade.scores = dict.fromkeys(names, 0.0)
            return grade
        result = json.loads(result_file.read_text())
    grade.status = result["status"]
    scores = result.get("scores", {})
    grade.scores = {name: float(scores[name][0]) if name in scores else 0.0 for name in names}
    grade.max_score = sum(float(scores[name][1]) if name in scores else 1.0 for name in names)
    return grade


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def read_grades(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as file:
        return {row["submission"]: row for row in csv.DictReader(file) if row.get("submission")}


def write_grades(rows: dict[str, dict[str, str]], path: Path) -> None:
    """Rewrite ``grades.csv`` atomically (temporary file, then rename)."""
    with atomic_write(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=columns(), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows.values())


def grade(submissions, out, timeout: float = DEFAULT_TIMEOUT, force: bool = False, log=None) -> dict[str, dict]:
    """Grade every submission not yet in ``out`` (all of them with ``force``); return all rows."""
    out = Path(out)
    rows = read_grades(out)
    for number, submission in enumerate(map(str, submissions), start=1):
        if submission in rows and not force:
            if log:
                log(f"[{number}/{len(submissions)}] {submission}: already graded, skipped (--force regrades)")
            continue
        result = grade_one(submission, timeout)
        rows[submission] = result.row()
        write_grades(rows, out)
        if log:
            log(f"[{number}/{len(submissions)}] {submission}: {result.score:g}/{result.max_score:g} ({result.status})")
    return rows


def _child(argv: list[str]) -> int:
    path, working_dir, result_file = map(Path, argv)
    try:
        result = execute_and_check(path, working_dir)
    except ValueError as error:
        result = {"status": str(error)}
    result_file.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
