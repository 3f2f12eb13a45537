"""The autograder: run each submission in a sandbox, feed it secret inputs, score its outputs outside.

    python -m lstm_course grade SUBMISSION.ipynb... --out grades.csv [--chapter NAME] [--timeout SECONDS]
                                [--memory-mib N] [--force] [--unsandboxed]

For each submission, one after another:

1. read it: not JSON, or JSON that is not a valid notebook, gets its row with that reason;
2. its chapter: ``--chapter``, else the one the student edition wrote into its metadata. The exercises
   and the maximum score come from the course's catalogue for that chapter (one point per implement
   exercise), whatever the notebook contains;
3. draw every exercise's inputs (:mod:`lstm_course.exercise_inputs`) from a seed drawn now from the
   operating system's random source, and compute the expected outputs with the instructor's reference
   answers (:mod:`lstm_course.reference_answers`), here, in the grader's process;
4. run the notebook in the sandbox (:mod:`lstm_course.sandbox`, :mod:`lstm_course.submission_runner`):
   its code cells top to bottom, then its functions on the inputs; the outputs come back as data.
   Unless an exercise of the chapter works on tensors, PyTorch and SymPy are hidden from it: they
   would otherwise answer any backward-pass exercise;
5. check each output (numbers only, shape, finite, close to the expected) and score, here.

The submission's code only computes: it never sees the references, the comparison, the scores, the
grades file or any other submission, and whatever it prints or sends back cannot change a score.

``grades.csv`` has the columns ``submission``, one per implement exercise of the course, ``score``,
``max_score``, ``status`` (``ok``, or the reason it could not be graded) and ``feedback`` (what was
wrong, per exercise). An exercise of another chapter is empty. The file is rewritten atomically after
every submission, so an interrupt loses nothing already graded; a re-run skips submissions already in
it unless ``force``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import nbformat
import numpy as np

from lstm_course import exchange, exercise_inputs, reference_answers, sandbox
from lstm_course.atomic import atomic_write
from lstm_course.checks import describe_difference
from lstm_course.exercises import catalogue

COURSE_ROOT = Path(__file__).resolve().parents[1]
FIXED_COLUMNS = ("submission",)
TOTAL_COLUMNS = ("score", "max_score", "status", "feedback")
DEFAULT_TIMEOUT = 1800.0
SANDBOX_TASK = Path("/grader")
UNSANDBOXED_WARNING = (
    "grading WITHOUT a sandbox (--unsandboxed): each submission runs as you, with your files, your network and "
    "your processes in reach; it can read the references' notebooks, other submissions and the grades file, and "
    "change them. Only the secret inputs and the scoring outside it remain. Use it for your own notebooks, not "
    "for marks.")


class GradingError(ValueError):
    """Grading cannot start: a bad argument or a course without its instructor notebooks."""


@dataclass
class Grade:
    submission: str
    chapter: str = ""
    scores: dict[str, float] = field(default_factory=dict)
    max_score: float = 0.0
    status: str = "ok"
    feedback: dict[str, str] = field(default_factory=dict)
    cell_errors: list = field(default_factory=list)
    log_tail: str = ""

    @property
    def score(self) -> float:
        return sum(self.scores.values())

    def expect(self, exercises: list[str]) -> None:
        """Score 0 of one point each for ``exercises``, the chapter's implement exercises."""
        self.scores, self.max_score = dict.fromkeys(exercises, 0.0), float(len(exercises))

    def row(self) -> dict[str, str]:
        row = {"submission": self.submission, **{name: f"{value:g}" for name, value in self.scores.items()}}
        row.update(score=f"{self.score:g}", max_score=f"{self.max_score:g}", status=self.status,
                   feedback="; ".join(self.feedback.values())[:1000])
        return row


@cache
def implement_exercises(course_root: Path = COURSE_ROOT) -> dict[str, list[str]]:
    """Chapter -> the names of its implement exercises, in order (the catalogue: the maximum score)."""
    chapters = course_root / "chapters"
    if not chapters.is_dir():
        raise GradingError(f"{chapters}: not found; expected the course's folder with the instructor's chapters")
    exercises: dict[str, list[str]] = {}
    for exercise in catalogue(chapters):
        if exercise.kind == "implement" and exercise.check:
            exercises.setdefault(exercise.chapter, []).append(exercise.check)
    return exercises


def columns(course_root: Path = COURSE_ROOT) -> list[str]:
    names = [name for chapter in implement_exercises(course_root).values() for name in chapter]
    return [*FIXED_COLUMNS, *names, *TOTAL_COLUMNS]


@cache
def references(course_root: Path, chapter: str) -> dict:
    try:
        return reference_answers.load(course_root / "chapters" / f"{chapter}.ipynb")
    except (ValueError, OSError) as error:
        raise GradingError(f"the reference answers of {chapter}: {error}") from None


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
    except (RecursionError, MemoryError) as error:
        raise ValueError(f"invalid notebook: JSON too deeply nested or too large ({type(error).__name__})") from None
    if not isinstance(content, dict) or "cells" not in content:
        raise ValueError("invalid notebook: JSON but not a notebook (no cells)")
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else type(error).__name__
        raise ValueError(f"invalid notebook: {reason}") from None
    return notebook


def chapter_of(notebook, chapter: str | None, course_root: Path) -> str:
    """The chapter to grade ``notebook`` as: ``chapter`` if given, else the one in its metadata."""
    known = implement_exercises(course_root)
    if chapter is None:
        chapter = notebook.metadata.get("lstm_course", {}).get("chapter") if isinstance(
            notebook.metadata.get("lstm_course"), dict) else None
        if not isinstance(chapter, str):
            raise ValueError("no chapter in its metadata; grade it with --chapter NAME")
    if chapter not in known:
        raise ValueError(f"unknown chapter {str(chapter)[:60]!r}; expected one of {', '.join(known)}")
    return chapter


def expected_outputs(name: str, references: dict, trials) -> list[dict[str, np.ndarray]]:
    """The reference answer's outputs, called as the submission's are (:func:`exercise_inputs.call`)."""
    return [exchange.flatten_output(exercise_inputs.call(name, references, exercise_inputs.materialise(trial.kwargs)))
            for trial in trials]


def score_exercise(name: str, trials, expected, statuses, outputs) -> str | None:
    """``None`` if every trial's output matches, else what is wrong (one sentence)."""
    tolerance = exercise_inputs.EXERCISES[name]
    if not isinstance(statuses, list) or len(statuses) != len(trials):
        return f"{name}: no result"
    for number, (trial, want, status) in enumerate(zip(trials, expected, statuses, strict=True)):
        where = f"{name}: test {number + 1} ({trial.description})"
        if not isinstance(status, dict) or status.get("ok") is not True:
            if isinstance(status, dict) and status.get("undefined") is True:
                return f"{name}: not defined in the notebook"
            error = str(status.get("error", "no result"))[:200] if isinstance(status, dict) else "no result"
            if error.startswith("NotImplementedError"):
                return f"{name}: not implemented yet"
            return f"{where} raised {error}"
        prefix = f"{name}/{number}"
        got = {key[len(prefix):].lstrip("/"): array for key, array in outputs.items()
               if key == prefix or key.startswith(prefix + "/")}
        if set(got) != set(want):
            return f"{where}: returned {_describe_keys(got)}; expected {_describe_keys(want)}"
        for key, array in want.items():
            problem = describe_difference(f"result{'[' + key + ']' if key else ''}", array, got[key],
                                          tolerance.atol, tolerance.rtol)
            if problem:
                return f"{where} failed: {problem}"
    return None


def _describe_keys(flat: dict) -> str:
    if list(flat) == [""]:
        return "one array"
    return "parts " + ", ".join(sorted(flat))


def grade_one(path, chapter: str | None = None, course_root: Path = COURSE_ROOT,
              limits: sandbox.Limits | None = None, sandboxed: bool = True) -> Grade:
    """Grade one submission; never raises for anything the submission does.

    Raises :class:`GradingError` only for what the instructor must fix (the course's own notebooks).
    """
    try:
        return _grade_one(Path(path), chapter, course_root, limits or sandbox.Limits(), sandboxed)
    except GradingError:
        raise
    except Exception as error:  # whatever a hostile submission triggers: its row says so, the batch goes on
        grade = Grade(str(path), status=f"grader error: {type(error).__name__}: {str(error)[:120]}")
        grade.expect(implement_exercises(course_root).get(chapter or "", []))
        return grade


def _grade_one(path: Path, chapter: str | None, course_root: Path, limits: sandbox.Limits, sandboxed: bool) -> Grade:
    grade = Grade(str(path))
    grade.expect(implement_exercises(course_root).get(chapter or "", []))  # known before the file is read
    try:
        notebook = read_submission(path)
        grade.chapter = chapter_of(notebook, chapter, course_root)
    except ValueError as error:
        grade.status = str(error)
        return grade
    names = implement_exercises(course_root)[grade.chapter]
    grade.expect(names)
    rng = np.random.default_rng(secrets.randbits(128))
    trials = {name: exercise_inputs.draw(name, rng) for name in names}
    chapter_references = references(course_root, grade.chapter)
    expected = {name: expected_outputs(name, chapter_references, trials[name]) for name in names}

    needs_torch = any(exercise_inputs.EXERCISES[name].torch for name in names)
    run = _run_sandboxed(notebook, trials, course_root, limits, sandboxed, hide_differentiators=not needs_torch)
    grade.log_tail = run.log_tail.decode("utf-8", "replace")[-4000:]
    if run.stopped:
        grade.status = run.stopped
        return grade
    try:
        report, outputs = _read_result(run.result, limits)
    except ValueError as error:
        last_line = (grade.log_tail.strip().splitlines() or [f"exit status {run.returncode}"])[-1]
        grade.status = f"no result ({error}); last output: {last_line[:160]}"
        return grade
    grade.cell_errors = report.get("cell_errors", [])[:20] if isinstance(report.get("cell_errors"), list) else []
    statuses = report.get("exercises") if isinstance(report.get("exercises"), dict) else {}
    for name in names:
        problem = score_exercise(name, trials[name], expected[name], statuses.get(name), outputs)
        if problem is None:
            grade.scores[name] = 1.0
        else:
            grade.feedback[name] = problem
    return grade


def _run_sandboxed(notebook, trials, course_root: Path, limits: sandbox.Limits, sandboxed: bool,
                   hide_differentiators: bool) -> sandbox.Run:
    from lstm_course.corpus import cache_dir

    manifest, arrays = exchange.encode_inputs(trials)
    task_dir = Path(tempfile.mkdtemp(prefix="lstm-course-task-"))  # 0700: other users never see a submission
    try:
        nbformat.write(notebook, task_dir / "submission.ipynb")
        (task_dir / "inputs.json").write_text(json.dumps(manifest))
        np.savez(task_dir / "inputs.npz", **arrays)
        if sandboxed and os.geteuid() == 0:  # the runner reads them as nobody: group nogroup, nobody else
            for path in (task_dir, *task_dir.iterdir()):
                os.chown(path, 0, sandbox.NOBODY)
                path.chmod(0o750 if path.is_dir() else 0o640)
        corpus = cache_dir()
        env = sandbox.environment(corpus if corpus.is_dir() else None)
        runner = [sys.executable, "-m", "lstm_course.submission_runner"]
        if sandboxed:
            read_only = sandbox.read_only_paths(course_root, corpus)
            hidden = sandbox.differentiator_folders() if hide_differentiators else []

            def command(fd):
                return sandbox.bubblewrap_command(task_dir, SANDBOX_TASK, read_only, limits,
                                                  [*runner, str(SANDBOX_TASK), str(fd)], hidden)

            return sandbox.run(command, limits, env)
        home = task_dir / "home"
        home.mkdir()
        env["HOME"], env["TMPDIR"] = str(home), str(home)
        env["MPLCONFIGDIR"], env["XDG_CACHE_HOME"] = str(home / "matplotlib"), str(home / "cache")
        env["TORCHINDUCTOR_CACHE_DIR"] = str(home / "inductor")
        return sandbox.run(lambda fd: [*runner, str(task_dir), str(fd), "--keep-user"], limits, env, cwd=home)
    finally:
        shutil.rmtree(task_dir, ignore_errors=True)


def _read_result(data: bytes, limits: sandbox.Limits) -> tuple[dict, dict[str, np.ndarray]]:
    line, separator, npz = data.partition(b"\n")
    if not separator:
        raise ValueError("the run ended before sending its outputs")
    try:
        report = json.loads(line)
    except Exception:  # JSONDecodeError, UnicodeDecodeError, RecursionError on deep nesting, ...
        raise ValueError("an unreadable report") from None
    if not isinstance(report, dict):
        raise ValueError("an unreadable report")
    return report, exchange.read_npz(npz, limits.result_bytes)


def read_grades(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with open(path, newline="", encoding="utf-8") as file:
        return {row["submission"]: row for row in csv.DictReader(file) if row.get("submission")}


def write_grades(rows: dict[str, dict[str, str]], path: Path, course_root: Path = COURSE_ROOT) -> None:
    """Rewrite ``grades.csv`` atomically (temporary file, then rename)."""
    with atomic_write(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=columns(course_root), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows.values())


def check_out_path(out: Path) -> Path:
    """``out`` if it is a ``.csv`` that is a grades file or does not exist yet; else ``GradingError``."""
    out = Path(out)
    if out.suffix.lower() != ".csv":
        raise GradingError(f"--out {out}: expected a .csv file for the grades")
    if out.is_dir():
        raise GradingError(f"--out {out}: is a folder; expected a grades .csv file")
    if out.exists():
        try:
            with open(out, newline="", encoding="utf-8") as file:
                header = next(csv.reader(file), [])
        except (UnicodeDecodeError, OSError):
            header = []
        if not header or header[0] != "submission" or not {"score", "max_score", "status"} <= set(header):
            raise GradingError(f"--out {out}: exists and is not a grades file written by this grader; "
                               "expected a new path or an earlier grades.csv (nothing was changed)")
    return out


def check_timeout(timeout: float) -> float:
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        raise GradingError(f"--timeout {timeout}: expected a positive number of seconds")
    return float(timeout)


def grade(submissions, out, timeout: float = DEFAULT_TIMEOUT, force: bool = False, log=None,
          chapter: str | None = None, memory_mib: int | None = None, sandboxed: bool = True,
          course_root: Path = COURSE_ROOT) -> dict[str, dict]:
    """Grade every submission not yet in ``out`` (all of them with ``force``); return all rows."""
    out = check_out_path(out)
    limits = sandbox.Limits(timeout_s=check_timeout(timeout))
    if memory_mib is not None:
        if not (isinstance(memory_mib, int) and memory_mib >= 256):
            raise GradingError(f"--memory-mib {memory_mib}: expected a whole number of MiB, at least 256")
        limits = sandbox.Limits(timeout_s=limits.timeout_s, memory_bytes=memory_mib * sandbox.MIB)
    if chapter is not None and chapter not in implement_exercises(course_root):
        raise GradingError(f"--chapter {chapter}: expected one of {', '.join(implement_exercises(course_root))}")
    if sandboxed and sandbox.bubblewrap() is None:
        raise GradingError("bubblewrap (bwrap) is not installed, and grading for marks needs its sandbox: install it "
                           "(Debian/Ubuntu: apt install bubblewrap), or pass --unsandboxed to grade anyway without one")
    if not sandboxed and log:
        log("warning: " + UNSANDBOXED_WARNING)
    elif log:
        probe = sandbox.ControlGroup.create(f"lstm-course-probe-{os.getpid()}", limits)
        if probe is None:
            log("note: no control group can be created here, so memory and processes are capped per process, "
                "not for each submission as a whole (run the grader as root on Linux for that)")
        else:
            probe.remove()
    rows = read_grades(out)
    for number, submission in enumerate(map(str, submissions), start=1):
        if submission in rows and not force:
            if log:
                log(f"[{number}/{len(submissions)}] {submission}: already graded, skipped (--force regrades)")
            continue
        result = grade_one(submission, chapter, course_root, limits, sandboxed)
        rows[submission] = result.row()
        write_grades(rows, out, course_root)
        if log:
            log(f"[{number}/{len(submissions)}] {submission}: {result.score:g}/{result.max_score:g} ({result.status})")
    return rows
