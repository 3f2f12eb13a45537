"""The autograder: run each submission in a sandbox, feed it secret inputs, score its outputs outside.

    python -m lstm_instructor grade SUBMISSION.ipynb... --out grades.csv [--chapter NAME] [--timeout SECONDS]
                                [--memory-mib N] [--time-multiple N] [--force] [--unsandboxed]

For each submission, one after another:

1. its chapter, decided by the grader: ``--chapter``, else the chapter its file's name or nearest
   folder names (``06_lstm_from_scratch.ipynb``, as the student edition names it, or
   ``06_lstm_from_scratch/alice.ipynb``); never the notebook's own claim, which must agree (a notebook
   whose metadata names another chapter is refused). The exercises and the maximum score come from
   the course's catalogue for that chapter (one point per implement exercise);
2. read it with care (:func:`read_submission_bytes`): a symbolic link, device, FIFO or folder is
   refused without being followed or waited on, as is a file over :data:`MAX_SUBMISSION_BYTES`, one of
   the instructor's notebooks, or a file already graded in this batch under another name (a link);
   not JSON, or JSON that is not a valid notebook, gets its row with that reason;
3. draw every exercise's inputs (:mod:`lstm_course.exercises.exercise_inputs`) from a seed drawn now from the
   operating system's random source, and compute the expected outputs with the instructor's reference
   answers (:mod:`lstm_instructor.reference_answers`), here, in the grader's process;
4. run the notebook in the sandbox (:mod:`lstm_instructor.sandbox`, :mod:`lstm_instructor.submission_runner`):
   its code cells top to bottom, then its functions on the inputs; the outputs come back as data.
   SymPy (and every other library that differentiates) is hidden from it, and PyTorch too unless an
   exercise of the chapter works on tensors: they would otherwise answer any backward-pass exercise;
   so are the package's own functions that answer an exercise of the chapter (:data:`WITHHELD`: the
   LSTM's step, its pieces and forward pass for chapter 6, the RNN's backward pass for chapters 1
   and 2), their code removed from the sandbox's copy (:func:`sandbox.without_functions`);
5. the timed phase, for the backward exercises that a numerical gradient would answer at the cost of a
   forward pass per parameter (:data:`exercise_inputs.TIMED`): once the runner has sent its outputs,
   send it each such exercise's timed trial, large, drawn from the secret seed and never written to
   the task folder, over a second pipe, and time its answer here, outside the sandbox
   (:class:`TimedPhase`). Past its limit, ``time_multiple`` (:data:`TIME_MULTIPLE`) times the
   reference answer's time on the same trial measured just before, plus :data:`TRANSFER_ALLOWANCE_S`,
   the run is stopped and that exercise fails (a later timed exercise gets a run of its own, within
   what is left of the submission's one ``--timeout``);
6. check each output (numbers only, shape, finite, close to the expected) and score, here.

The submission's code only computes: it never sees the references, the comparison, the scores, the
grades file or any other submission, and whatever it prints or sends back cannot change a score.

``grades.csv`` has the columns ``submission``, ``chapter`` (as graded), one per implement exercise of the
course, ``score``, ``max_score``, ``status`` (``ok``, or the reason it could not be graded) and
``feedback`` (what was wrong, per exercise). An exercise of another chapter is empty. Every text in it
that a submission controls (its file name, its exceptions, what it printed) is :func:`printable`, as
are the lines printed while grading; one submission's failure is its row, never the batch's. The file
is rewritten atomically after every submission, so an interrupt loses nothing already graded; a re-run
skips submissions already in it unless ``force``.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import secrets
import shutil
import stat
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import nbformat
import numpy as np

from lstm_course.exercises import exercise_inputs
from lstm_course.exercises.checks import describe_difference
from lstm_course.plumbing.atomic import atomic_write
from lstm_instructor import exchange, reference_answers, sandbox
from lstm_instructor.catalogue import catalogue

COURSE_ROOT = Path(__file__).resolve().parents[1]
FIXED_COLUMNS = ("submission", "chapter")
TOTAL_COLUMNS = ("score", "max_score", "status", "feedback")
DEFAULT_TIMEOUT = 1800.0
MAX_SUBMISSION_BYTES = 64 * sandbox.MIB
MAX_CELLS = 2000
"""A submission's most cells: the longest chapter has about 100; reading and validating 691,000 empty
cells (a student's attack, 61 MiB) took the grader's own process 30 s and 1.5 GB."""
"""A submission larger than this is refused unread (a notebook with its outputs is a few MiB)."""
SANDBOX_TASK = Path("/grader")
UNSANDBOXED_WARNING = (
    "grading WITHOUT a sandbox (--unsandboxed): each submission runs as you, with your files, your network and "
    "your processes in reach; it can read the references' notebooks, other submissions and the grades file, and "
    "change them. Only the secret inputs and the scoring outside it remain. Use it for your own notebooks, not "
    "for marks.")


def printable(text, limit: int = 1000) -> str:
    """``text`` made safe for a CSV cell and a terminal line, at most ``limit`` characters (then ``...``).

    Whatever a submission controls (its file name, its exceptions' messages, what it prints) goes
    through here: control characters (newlines, ANSI escapes), format characters (bidirectional
    overrides), lone surrogates and line separators become visible escapes (``\\x1b``, ``\\ud800``);
    a byte that was not UTF-8 in a file name (Python's ``surrogateescape``) shows as ``\\xNN``; a text
    that a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@`` first) gets a ``'`` first.
    """
    text = text if isinstance(text, str) else str(text)
    if text[:1] in ("=", "+", "-", "@"):  # a spreadsheet would run it as a formula
        text = "'" + text
    pieces, length, kept = [], 0, 0  # kept: how many pieces fit with room for "..."
    for character in text[: limit + 1]:
        if unicodedata.category(character) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            code = ord(character)
            if 0xDC80 <= code <= 0xDCFF:
                code -= 0xDC00  # a file name's undecodable byte
            character = f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
        pieces.append(character)
        length += len(character)
        if length <= limit - 3:
            kept = len(pieces)
        if length > limit:
            return "".join(pieces[:kept]) + "..."
    return "".join(pieces)


NO_CONTROL_GROUP = (
    "no control group can be created here (the grader needs root on Linux, with cgroup v2's memory and pids "
    "controllers or cgroup v1's), and grading for marks needs one: without it memory and processes are capped "
    "per process only, and a submission escapes them (shared memory, many processes). Run it as root, or pass "
    "--unsandboxed to grade anyway, giving up the sandbox too (not for marks)")


_LSTM_STEPS = {  # the step, and the pieces it is made of (chapters 2 to 5), which compose it in a line
    "scratch.numpy_lstm": ("lstm_step", "affine", "gate", "activate_gates", "activate_halved_gates", "cell_update",
                           "hidden_state", "_step_from_activations"),
    "scratch.plain_lstm": ("lstm_step", "lstm_gates", "gate"),
}
WITHHELD = {
    # the RNN's backward pass called once per unit gives the Jacobian's rows
    "rnn_step_jacobian": {"scratch.numpy_rnn": ("rnn_backward",), "scratch.plain_rnn": ("rnn_backward",)},
    # sigmoid(a) = (1 + tanh(a / 2)) / 2: an RNN step on halved weights is the gate, so its backward pass,
    # its gradients halved, is the gate's
    "forget_gate_backward": {"scratch.numpy_rnn": ("rnn_backward",), "scratch.plain_rnn": ("rnn_backward",)},
    # the package's step is the step, and its forward pass (or its step in a loop) the forward pass
    "lstm_step_forward": _LSTM_STEPS,
    "lstm_forward": {**_LSTM_STEPS, "scratch.numpy_lstm": (*_LSTM_STEPS["scratch.numpy_lstm"], "lstm_forward")},
}
"""Exercise -> module of the student's library (under ``lstm_course``) -> its public functions that
answer it, called directly or with trivial glue (a loop, a reshape, a constant factor); each is
withheld from the sandbox's copy of the library (it raises there) while a chapter with that exercise
is graded. Nothing the runner needs is among them: ``lstm_backward_fast`` takes the cache of
``numpy_lstm.lstm_forward``, which the grader computes outside the sandbox
(:func:`exercise_inputs.with_package_cache`). The checks' references are not in the sandbox at all
(:data:`sandbox.CHECKS_WHILE_GRADING`); tests/instructor/test_grading.py measures each entry."""


def withheld_for(exercises) -> dict[str, tuple[str, ...]]:
    """Module -> the names :data:`WITHHELD` for any of ``exercises``, each once, in order."""
    withheld: dict[str, tuple[str, ...]] = {}
    for exercise in exercises:
        for module, names in WITHHELD.get(exercise, {}).items():
            withheld[module] = tuple(dict.fromkeys((*withheld.get(module, ()), *names)))
    return withheld


TIME_MULTIPLE = 20.0
"""The timed test's limit, in multiples of the reference answer's time on the same trial and machine.

An honest answer in plain NumPy loops (one example at a time) takes 2 to 40 times the reference's
time, well within it with the allowance; a gradient by finite differences or the complex step takes
hundreds to hundreds of thousands of times more (the instructor guide's table)."""
TRANSFER_ALLOWANCE_S = 1.0
"""Seconds added to every timed test's limit: the inputs and outputs crossing the pipes (megabytes),
their decoding, and a loaded machine's scheduling."""
REFERENCE_RUNS = 5
"""How many times the reference answer runs on a timed trial: the limit uses the median."""


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
    timings: dict[str, tuple[float | None, float]] = field(default_factory=dict)
    """Timed exercise -> (seconds its answer took, or ``None`` if none came in time; the limit)."""

    @property
    def score(self) -> float:
        return sum(self.scores.values())

    def expect(self, exercises: list[str]) -> None:
        """Score 0 of one point each for ``exercises``, the chapter's implement exercises."""
        self.scores, self.max_score = dict.fromkeys(exercises, 0.0), float(len(exercises))

    def row(self) -> dict[str, str]:
        """The grades file's row: every text made :func:`printable`, whatever the submission put in it."""
        row = {"submission": printable(self.submission), "chapter": self.chapter,
               **{name: f"{value:g}" for name, value in self.scores.items()}}
        row.update(score=f"{self.score:g}", max_score=f"{self.max_score:g}", status=printable(self.status, 300),
                   feedback=printable("; ".join(self.feedback.values()), 1000))
        return row


@cache
def implement_exercises(course_root: Path = COURSE_ROOT) -> dict[str, list[str]]:
    """Chapter -> the names of its implement exercises, in order (the catalogue: the maximum score)."""
    chapters = course_root / "chapters"
    if not chapters.is_dir():
        raise GradingError(f"{chapters}: not found; expected the course's folder with the instructor's chapters")
    exercises: dict[str, list[str]] = {}
    try:
        found = list(catalogue(chapters))
    except (ValueError, OSError) as error:  # never a submission's fault: the instructor's notebooks
        raise GradingError(f"{chapters}: the catalogue of exercises is unreadable ({printable(error, 200)})") from None
    for exercise in found:
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


def read_submission_bytes(path: Path, limit: int = MAX_SUBMISSION_BYTES) -> tuple[bytes, tuple[int, int]]:
    """The bytes of the regular file ``path`` and its ``(device, inode)``; ``ValueError`` with the reason otherwise.

    Nothing that is not a regular file is followed or opened for what it points at: a symbolic link
    (checked with ``lstat``, then ``O_NOFOLLOW``), a device, a FIFO (opened ``O_NONBLOCK``, never
    waited on) or a folder is refused, as is a file over ``limit`` bytes (at most ``limit + 1`` are read).
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise ValueError("missing file") from None
    except OSError as error:
        raise ValueError(f"unreadable ({error.strerror or type(error).__name__})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"not a regular file but {_file_kind(info.st_mode)}; expected the notebook itself "
                         "(links, devices and pipes are not graded)")
    if info.st_size > limit:
        raise ValueError(f"{info.st_size} bytes; expected a notebook of at most {limit // sandbox.MIB} MiB")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags)
    except OSError as error:  # ELOOP: it became a link since the lstat
        raise ValueError(f"unreadable ({error.strerror or type(error).__name__}); expected a regular file") from None
    try:
        info = os.fstat(descriptor)  # the file actually opened, whatever happened to the name since
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"not a regular file but {_file_kind(info.st_mode)}; expected the notebook itself")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise ValueError(f"unreadable ({error.strerror or type(error).__name__})") from None
    finally:
        os.close(descriptor)
    if size > limit:
        raise ValueError(f"more than {limit // sandbox.MIB} MiB; expected a notebook of at most that")
    return b"".join(chunks), (info.st_dev, info.st_ino)


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


def owners(submissions) -> dict[tuple[int, int], str]:
    """``(device, inode)`` -> the one submission path that owns that file, for files reached by several paths.

    A file reached through a linked folder (``alice/link/`` -> ``bob/``) is the file of the first path
    that reaches it through no linked folder; where every path goes through one, of none (all are
    refused). Computed before any is graded, so a linked folder wins nothing by coming first. (Of
    two hard links, which only the owner of both could make, the first in the batch.)
    """
    paths: dict[tuple[int, int], list[str]] = {}
    for submission in submissions:
        try:
            info = os.stat(submission, follow_symlinks=False)
        except (OSError, ValueError):
            continue
        paths.setdefault((info.st_dev, info.st_ino), []).append(os.fspath(submission))
    found = {}
    for identity, reaching in paths.items():
        if len(set(reaching)) > 1:
            direct = [path for path in reaching if os.path.realpath(path) == os.path.abspath(path)]
            found[identity] = direct[0] if direct else ""
    return found


def instructor_files(course_root: Path) -> dict[tuple[int, int], str]:
    """``(device, inode)`` -> name of each instructor's notebook: a submission that is one of them is refused."""
    found = {}
    for folder in ("chapters", "course"):
        for path in sorted((course_root / folder).glob("*.ipynb")):
            try:
                info = path.stat()
            except OSError:
                continue
            found[(info.st_dev, info.st_ino)] = f"{folder}/{path.name}"
    return found


def read_submission(path: Path, limit: int = MAX_SUBMISSION_BYTES):
    """The notebook at ``path``, or raise ``ValueError`` with the reason it cannot be graded."""
    return parse_submission(read_submission_bytes(path, limit)[0])


def parse_submission(data: bytes):
    """The notebook in ``data``, or raise ``ValueError`` with the reason it cannot be graded."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"invalid notebook: not UTF-8 text (byte {error.start})") from None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"invalid notebook: not JSON ({error.msg} at line {error.lineno})") from None
    except (RecursionError, MemoryError) as error:
        raise ValueError(f"invalid notebook: JSON too deeply nested or too large ({type(error).__name__})") from None
    if not isinstance(content, dict) or "cells" not in content:
        raise ValueError("invalid notebook: JSON but not a notebook (no cells)")
    if isinstance(content["cells"], list) and len(content["cells"]) > MAX_CELLS:
        raise ValueError(f"invalid notebook: {len(content['cells']):,} cells; expected at most {MAX_CELLS:,}")
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else type(error).__name__
        raise ValueError(f"invalid notebook: {reason}") from None
    return notebook


def chapters_named(path: Path, course_root: Path = COURSE_ROOT) -> list[str]:
    """The chapters that ``path``'s name and its folders' names name, nearest first, each once.

    A name names a chapter if it is the chapter's (``06_lstm_from_scratch.ipynb``, as the student
    edition names it) or starts with it and a separator (``06_lstm_from_scratch-alice.ipynb``,
    ``06_lstm_from_scratch/alice.ipynb``).
    """
    known = implement_exercises(course_root)
    named = []
    for name in (Path(path).stem, *reversed(Path(path).parent.parts)):
        matches = [chapter for chapter in known
                   if name == chapter or (name.startswith(chapter) and not name[len(chapter)].isalnum())]
        if matches:
            named.append(max(matches, key=len))
    return list(dict.fromkeys(named))


def chapter_of_place(path: Path, course_root: Path = COURSE_ROOT) -> str | None:
    """The chapter that ``path``'s name, or else its nearest folder's, names (:func:`chapters_named`);
    ``None`` if none does; ``ValueError`` if its name and a folder name two."""
    named = chapters_named(path, course_root)
    if len(named) > 1:  # 06_lstm_from_scratch/02_forget_gate-eve.ipynb: a smaller chapter's marks
        raise ValueError(f"its name says chapter {named[0]}, but its folder says {named[1]}; expected one chapter "
                         "(rename it, or grade it with --chapter)")
    return named[0] if named else None


def decide_chapter(path: Path, chapter: str | None, course_root: Path) -> str:
    """The chapter the grader grades ``path`` as: ``--chapter``, else the one its name or folder names.

    Never the notebook's own claim (its metadata), which :func:`check_claim` only compares with it.
    """
    if chapter is None:
        place = chapter_of_place(path, course_root)  # refuses a name and a folder that disagree
    else:
        place = next(iter(chapters_named(path, course_root)), None)  # the nearest, compared with --chapter
    if chapter is not None and place is not None and place != chapter:
        raise ValueError(f"its name or folder says chapter {place}, but --chapter says {chapter}; expected one "
                         "chapter (grade it with its own --chapter)")
    if chapter is None and place is None:
        raise ValueError("cannot tell its chapter: expected a file or folder named after the chapter "
                         "(e.g. 06_lstm_from_scratch/alice.ipynb), or --chapter NAME")
    return chapter or place


def check_claim(notebook, chapter: str) -> None:
    """Refuse a notebook whose metadata claims another chapter than the one the grader decided."""
    metadata = notebook.metadata.get("lstm_course")
    claim = metadata.get("chapter") if isinstance(metadata, dict) else None
    if claim is not None and claim != chapter:
        raise ValueError(f"its metadata says chapter {str(claim)[:60]}, but it is graded as {chapter} (from "
                         "--chapter or its file's name); expected the same chapter: check which one it is")


def expected_outputs(name: str, references: dict, trials) -> list[dict[str, np.ndarray]]:
    """The reference answer's outputs, called as the submission's are (:func:`exercise_inputs.call`)."""
    return [exchange.flatten_output(exercise_inputs.call(name, references, exercise_inputs.materialise(trial.kwargs)))
            for trial in trials]


def secret_functions(trials, rng: np.random.Generator) -> list:
    """``trials`` with every function argument varied by a secret scale and shift of ``x``.

    A public function (``exercise_inputs.FUNCTIONS``) has its gradient tabulated in the public package
    (``exercise_inputs.GRADIENTS``, for the public check); the varied one has none, so a submission
    must differentiate it. The expected outputs come from the reference answer on the same function.
    """
    varied = []
    for trial in trials:
        kwargs, shape = dict(trial.kwargs), np.shape(trial.kwargs.get("x"))
        for name, value in kwargs.items():
            if isinstance(value, exercise_inputs.Function):
                kwargs[name] = exercise_inputs.Function(value.name, rng.uniform(0.5, 1.5, size=shape),
                                                        rng.normal(0.0, 0.5, size=shape))
        varied.append(exercise_inputs.Trial(trial.description, kwargs))
    return varied


def score_exercise(name: str, trials, expected, statuses, outputs, label: str = "test {number}") -> str | None:
    """``None`` if every trial's output matches, else what is wrong (one sentence, naming the trial by ``label``)."""
    tolerance = exercise_inputs.EXERCISES[name]
    if not isinstance(statuses, list) or len(statuses) != len(trials):
        return f"{name}: no result"
    for number, (trial, want, status) in enumerate(zip(trials, expected, statuses, strict=True)):
        where = f"{name}: {label.format(number=number + 1)} ({trial.description})"
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


@dataclass(eq=False)
class TimedTest:
    """One exercise's timed trial, the reference answer's outputs and time on it, the limit, and the answer."""

    name: str
    trial: exercise_inputs.Trial
    expected: dict[str, np.ndarray]
    reference_s: float
    multiple: float
    answer: bytes | None = None  # the runner's frame, unread
    seconds: float | None = None  # from sending the inputs to the answer's last byte, by the grader's clock
    overran: bool = False  # its run was stopped at its limit, before its answer was complete

    @property
    def limit_s(self) -> float:
        return self.multiple * self.reference_s + TRANSFER_ALLOWANCE_S

    def message(self) -> bytes:
        """The frame of inputs the runner gets: a manifest line and ``.npz`` bytes, as the task folder's."""
        manifest, arrays = exchange.encode_inputs({self.name: [self.trial]})
        return exchange.frame(exchange.message(manifest, arrays))


def timed_test(name: str, references: dict, rng: np.random.Generator, multiple: float = TIME_MULTIPLE) -> TimedTest:
    """``name``'s timed trial from ``rng``, with the reference's outputs and median time (:data:`REFERENCE_RUNS` runs).

    Timed on one thread, as the sandbox runs (``OMP_NUM_THREADS=1``): on a loaded machine, the grader's
    BLAS threads would make the reference's time, and so the limit, erratic.
    """
    from threadpoolctl import threadpool_limits

    trial = exercise_inputs.draw_timed(name, rng)
    times = []
    with threadpool_limits(1):
        for _ in range(REFERENCE_RUNS):
            started = time.perf_counter()
            expected = exchange.flatten_output(
                exercise_inputs.call(name, references, exercise_inputs.materialise(trial.kwargs)))
            times.append(time.perf_counter() - started)
    return TimedTest(name, trial, expected, float(np.median(times)), multiple)


class TimedPhase:
    """The grader's side of the timed phase: :func:`sandbox.run`'s conversation with the runner.

    When the runner's first frame (its report on the ordinary trials) is complete, it sends the first
    test's inputs and starts that test's clock; when the answer's frame is complete, it stops it and
    sends the next test's, and so on; then it is ``finished`` (the pipe is closed). ``deadline`` is
    the running test's: past it, the run is stopped, and :attr:`waiting` says which test overran.
    """

    def __init__(self, tests: list[TimedTest]):
        self.tests, self.finished, self.deadline = tests, not tests, None
        self.frames, self.offset, self.started = 0, 0, 0.0

    @property
    def waiting(self) -> TimedTest | None:
        """The test whose inputs were sent and whose answer is not complete, if any."""
        return self.tests[self.frames - 1] if 0 < self.frames <= len(self.tests) and not self.finished else None

    def heard(self, result, now: float) -> bytes:
        """What to send, given the ``result`` received so far (``now``: when its last chunk came)."""
        said = b""
        while not self.finished and (end := exchange.frame_end(result, self.offset)) is not None:
            if self.waiting is not None:
                self.waiting.seconds = now - self.started
                self.waiting.answer = bytes(result[self.offset + exchange.FRAME_HEADER:end])
            self.offset, self.frames = end, self.frames + 1
            if self.frames > len(self.tests):
                self.finished, self.deadline = True, None
            else:
                said += self.waiting.message()
                self.started, self.deadline = now, now + self.waiting.limit_s
        return said


def score_timed(test: TimedTest, limits: sandbox.Limits) -> str | None:
    """``None`` if ``test``'s answer came within its limit and matches, else what is wrong (one sentence)."""
    where = f"{test.name}: the timed test ({test.trial.description})"
    if test.answer is None and not test.overran:
        return f"{where} got no answer: the run ended first"
    if test.overran or test.seconds > test.limit_s:
        return (f"{where} took longer than {test.limit_s:.3g} s, {test.multiple:g} times the reference answer's "
                f"time on this machine ({test.reference_s * 1000:.2g} ms) and {TRANSFER_ALLOWANCE_S:g} s for the "
                "transfer: a gradient by finite differences or the complex step costs a forward pass per parameter")
    try:
        report, outputs = _read_result(test.answer, limits)
    except ValueError as error:
        return f"{where}: an unreadable answer ({error})"
    statuses = report.get("exercises") if isinstance(report.get("exercises"), dict) else {}
    return score_exercise(test.name, [test.trial], [test.expected], statuses.get(test.name), outputs,
                          label="the timed test")


def grade_one(path, chapter: str | None = None, course_root: Path = COURSE_ROOT,
              limits: sandbox.Limits | None = None, sandboxed: bool = True, seen: dict | None = None,
              time_multiple: float = TIME_MULTIPLE) -> Grade:
    """Grade one submission; never raises for anything the submission does.

    ``time_multiple``: the timed tests' limit, in multiples of the reference answer's time (:data:`TIME_MULTIPLE`).

    ``seen``: ``(device, inode)`` -> submission, of the files graded before it in the batch; a file
    that is one of them under another name (a hard link, or a path through a linked folder) is
    refused, as is one of the instructor's notebooks. Raises :class:`GradingError` only for what the
    instructor must fix (the course's own notebooks, a sandbox that cannot start).
    """
    try:
        return _grade_one(Path(path), chapter, course_root, limits or sandbox.Limits(), sandboxed,
                          {} if seen is None else seen, time_multiple)
    except (GradingError, sandbox.SandboxError):
        raise
    except Exception as error:  # whatever a hostile submission triggers: its row says so, the batch goes on
        grade = Grade(str(path), status=f"grader error: {type(error).__name__}: {str(error)[:120]}")
        grade.chapter = chapter or next(iter(chapters_named(Path(path), course_root)), "")
        grade.expect(implement_exercises(course_root).get(grade.chapter, []))
        return grade


def _grade_one(path: Path, chapter: str | None, course_root: Path, limits: sandbox.Limits, sandboxed: bool,
               seen: dict, time_multiple: float) -> Grade:
    grade = Grade(str(path))
    try:
        grade.chapter = decide_chapter(path, chapter, course_root)
    except GradingError:
        raise
    except ValueError as error:
        grade.status = str(error)
        return grade
    grade.expect(implement_exercises(course_root)[grade.chapter])  # known before the file is read
    try:
        data, identity = read_submission_bytes(path)
        if identity in instructor_files(course_root):
            raise ValueError(f"is the instructor's {instructor_files(course_root)[identity]} (a link to it); "
                             "expected the student's own file")
        if seen.setdefault(identity, str(path)) != str(path):
            owner = seen[identity] or "another submission in this batch, each through a link"
            raise ValueError(f"is the same file as {owner} (a link to it); expected a file of its own")
        notebook = parse_submission(data)
        check_claim(notebook, grade.chapter)
    except GradingError:
        raise
    except ValueError as error:
        grade.status = str(error)
        return grade
    names = implement_exercises(course_root)[grade.chapter]
    grade.expect(names)
    rng = np.random.default_rng(secrets.randbits(128))
    trials = {name: secret_functions(exercise_inputs.draw(name, rng), rng) for name in names}
    chapter_references = references(course_root, grade.chapter)
    expected = {name: expected_outputs(name, chapter_references, trials[name]) for name in names}

    timed = [timed_test(name, chapter_references, rng, time_multiple) for name in names
             if name in exercise_inputs.TIMED]

    needs_torch = any(exercise_inputs.EXERCISES[name].torch for name in names)

    def run_with(tests, run_limits):
        phase = TimedPhase(tests)
        return _run_sandboxed(notebook, trials, phase, course_root, run_limits, sandboxed,
                              hide_differentiators=not needs_torch), phase

    run, phase = run_with(timed, limits)
    spent = run.seconds  # every run of this submission counts against one --timeout
    grade.log_tail = run.log_tail.decode("utf-8", "replace")[-4000:]
    if run.stopped:
        grade.status = run.stopped
        return grade
    try:
        report, outputs = _read_result((exchange.frames(run.result) or [b""])[0], limits)
    except ValueError as error:
        last_line = (grade.log_tail.strip().splitlines() or [f"exit status {run.returncode}"])[-1]
        grade.status = f"no result ({error}); last output: {last_line[:160]}"
        return grade
    grade.cell_errors = report.get("cell_errors", [])[:20] if isinstance(report.get("cell_errors"), list) else []
    statuses = report.get("exercises") if isinstance(report.get("exercises"), dict) else {}
    for name in names:
        grade.feedback[name] = score_exercise(name, trials[name], expected[name], statuses.get(name), outputs)
    while run.overran and not run.stopped and phase.waiting is not None:
        phase.waiting.overran = True  # stopped at its limit: the timed tests after it get a run of their own
        later = phase.tests[phase.tests.index(phase.waiting) + 1:]
        pending = [test for test in later if grade.feedback[test.name] is None]
        if not pending:
            break
        if spent >= limits.timeout_s:  # its time is used up: the rest are not run, and fail as too slow
            for test in pending:
                test.overran = True
            break
        run, phase = run_with(pending, dataclasses.replace(limits, timeout_s=limits.timeout_s - spent))
        spent += run.seconds
    for test in timed:
        grade.timings[test.name] = (None if test.overran else test.seconds, test.limit_s)
        if grade.feedback[test.name] is None or test.overran:  # too slow is said even of a wrong answer
            problems = (grade.feedback[test.name], score_timed(test, limits))
            grade.feedback[test.name] = "; ".join(problem for problem in problems if problem) or None
    for name in names:
        if grade.feedback[name] is None:
            del grade.feedback[name]
            grade.scores[name] = 1.0
    return grade


def _run_sandboxed(notebook, trials, phase: TimedPhase, course_root: Path, limits: sandbox.Limits, sandboxed: bool,
                   hide_differentiators: bool) -> sandbox.Run:
    from lstm_course.tasks.corpus import cache_dir

    manifest, arrays = exchange.encode_inputs(trials)
    task_dir = Path(tempfile.mkdtemp(prefix="lstm-course-task-"))  # 0700: other users never see a submission
    try:
        nbformat.write(notebook, task_dir / "submission.ipynb")
        (task_dir / "inputs.json").write_text(json.dumps(manifest))
        np.savez(task_dir / "inputs.npz", **arrays)
        if sandboxed and os.geteuid() == 0:  # the runner reads them as nobody: group nogroup, nobody else
            for path in (task_dir, *task_dir.iterdir()):  # (the student package, written after, is public)
                os.chown(path, 0, sandbox.NOBODY)
                path.chmod(0o750 if path.is_dir() else 0o640)
        corpus = cache_dir()
        env = sandbox.environment(corpus if corpus.is_dir() else None)
        runner_package = sandbox.RUNNER_PACKAGE if sandboxed else "lstm_instructor"
        runner = [sys.executable, "-m", f"{runner_package}.submission_runner"]
        if sandboxed:
            package = sandbox.write_student_package(task_dir / "public", withheld_for(trials))
            read_only = sandbox.read_only_paths(course_root, corpus, package,
                                                sandbox.write_runner_package(task_dir / "public"))
            hidden = [*sandbox.unused_site_folders(),
                      *sandbox.differentiator_folders(keep_torch=not hide_differentiators)]

            def command(fd, talk):
                return sandbox.bubblewrap_command(task_dir, SANDBOX_TASK, read_only, limits,
                                                  [*runner, str(SANDBOX_TASK), str(fd), str(talk)], hidden)

            return sandbox.run(command, limits, env, require_group=True, conversation=phase)
        home = task_dir / "home"
        home.mkdir()
        env["HOME"], env["TMPDIR"] = str(home), str(home)
        env["MPLCONFIGDIR"], env["XDG_CACHE_HOME"] = str(home / "matplotlib"), str(home / "cache")
        env["TORCHINDUCTOR_CACHE_DIR"] = str(home / "inductor")
        return sandbox.run(lambda fd, talk: [*runner, str(task_dir), str(fd), str(talk), "--keep-user"], limits, env,
                           cwd=home, conversation=phase)
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


def read_grades(path: Path) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The rows of an earlier grades file, by submission, and its header (the instructor's own columns included)."""
    if not path.exists():
        return {}, []
    try:
        with open(path, newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            rows = {row["submission"]: row for row in reader if row.get("submission")}
            return rows, list(reader.fieldnames or [])
    except (csv.Error, UnicodeDecodeError, OSError) as error:
        raise GradingError(f"--out {path}: unreadable ({printable(error, 200)}); expected the grades file this "
                           "grader wrote (nothing was changed)") from None


def write_grades(rows: dict[str, dict[str, str]], path: Path, course_root: Path = COURSE_ROOT,
                 header: list[str] = ()) -> None:
    """Rewrite ``grades.csv`` atomically (temporary file, then rename).

    Columns the instructor added (in ``header``, the earlier file's) are kept, in their place, with
    their values; the grader's columns it lacked are appended.
    """
    ours = columns(course_root)
    fieldnames = [*header, *(name for name in ours if name not in header)]
    with atomic_write(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=fieldnames, extrasaction="ignore", restval="")
        writer.writeheader()
        writer.writerows(rows.values())


def merge_row(old: dict[str, str] | None, new: dict[str, str], course_root: Path = COURSE_ROOT) -> dict[str, str]:
    """``new`` over ``old``: every grader column from ``new`` (empty where it has none), the instructor's kept."""
    merged = dict(old or {})
    merged.update({name: new.get(name, "") for name in columns(course_root)})
    return merged


def check_out_path(out: Path) -> Path:
    """``out`` if it is a ``.csv`` that is a grades file or does not exist yet; else ``GradingError``."""
    out = Path(out)
    if out.is_symlink():  # replacing it atomically would replace the link, not what it points at
        raise GradingError(f"--out {out}: is a symbolic link; expected the grades file itself (give the path it "
                           f"points at, {printable(os.readlink(out), 200)}) (nothing was changed)")
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
          course_root: Path = COURSE_ROOT, time_multiple: float = TIME_MULTIPLE) -> dict[str, dict]:
    """Grade every submission not yet in ``out`` (all of them with ``force``); return all rows."""
    out = check_out_path(out)
    limits = sandbox.Limits(timeout_s=check_timeout(timeout))
    if not (isinstance(time_multiple, int | float) and math.isfinite(time_multiple) and time_multiple >= 1):
        raise GradingError(f"--time-multiple {time_multiple}: expected a number of at least 1 (the timed tests' "
                           f"limit in multiples of the reference answer's time; default {TIME_MULTIPLE:g})")
    if memory_mib is not None:
        if not (isinstance(memory_mib, int) and memory_mib >= 256):
            raise GradingError(f"--memory-mib {memory_mib}: expected a whole number of MiB, at least 256")
        limits = sandbox.Limits(timeout_s=limits.timeout_s, memory_bytes=memory_mib * sandbox.MIB)
    implement_exercises(course_root)  # read once, before any submission: its failure is nobody's row
    if chapter is not None and chapter not in implement_exercises(course_root):
        raise GradingError(f"--chapter {chapter}: expected one of {', '.join(implement_exercises(course_root))}")
    if sandboxed and sandbox.bubblewrap() is None:
        raise GradingError("bubblewrap (bwrap) is not installed, and grading for marks needs its sandbox: install it "
                           "(Debian/Ubuntu: apt install bubblewrap), or pass --unsandboxed to grade anyway without one")
    if not sandboxed and log:
        log("warning: " + UNSANDBOXED_WARNING)
    else:
        probe = sandbox.ControlGroup.create(f"lstm-course-probe-{os.getpid()}", limits)
        if probe is None:
            raise GradingError(NO_CONTROL_GROUP)
        probe.remove()
        if log and not sandbox.user_namespaces_can_be_disabled():
            log("note: this bubblewrap has no --disable-userns (it came in 0.8): submissions can create user "
                "namespaces inside the sandbox")
    (rows, header), seen = read_grades(out), owners(submissions)
    for number, submission in enumerate(submissions, start=1):
        name = printable(os.fspath(submission))  # its key in the grades file, as the file shows it
        if name in rows and not force:
            if log:
                log(f"[{number}/{len(submissions)}] {name}: already graded, skipped (--force regrades)")
            continue
        try:
            result = grade_one(submission, chapter, course_root, limits, sandboxed, seen=seen,
                               time_multiple=time_multiple)
            row = result.row()
            rows[name] = merge_row(rows.get(name), row, course_root)
            write_grades(rows, out, course_root, header)
        except (GradingError, sandbox.SandboxError, OSError) as error:  # the instructor's to fix: say where
            raise GradingError(f"stopped at submission {number} of {len(submissions)}, {name}: "
                               f"{printable(error, 600)} (the grades before it are in {out})") from None
        if log:
            log(f"[{number}/{len(submissions)}] {name}: {row['score']}/{row['max_score']} ({row['status']})")
    return rows
