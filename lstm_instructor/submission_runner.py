"""Runs inside the grader's sandbox: execute a submission, call its functions, send back the outputs.

    python -m grader_runner.submission_runner TASK_DIR RESULT_FD TIMED_FD          (in the sandbox)
    python -m lstm_instructor.submission_runner TASK_DIR RESULT_FD TIMED_FD --keep-user  (unsandboxed)

In the sandbox it runs from ``grader_runner``, a copy of this module and :mod:`exchange` alone
(:func:`lstm_instructor.sandbox.write_runner_package`): the instructor's package is not there.

``TASK_DIR`` (read-only) holds ``submission.ipynb``, ``inputs.json`` and ``inputs.npz``
(:mod:`lstm_instructor.exchange`). The runner

1. gives up root if it has it (the sandbox then counts its processes against user ``nobody``), unless
   ``--keep-user`` (the grader's ``--unsandboxed``, where the submission runs as the grader's user);
2. executes the notebook's code cells in order in one IPython shell, statement by statement (magics
   work; a statement that raises is noted and the next one runs, so that a failed ``import torch``,
   where the grader hides PyTorch, does not take the cell's other imports with it);
3. calls each exercise's function on each trial's inputs;
4. writes one frame (:func:`lstm_instructor.exchange.frame`) to file descriptor ``RESULT_FD``: a JSON line
   (per-cell errors, per-trial errors), then the outputs as ``.npz`` bytes;
5. the timed phase: reads frames of timed inputs from ``TIMED_FD`` (a manifest line and ``.npz``, as
   the task folder's), which the grader sends only now, one exercise at a time, with its clock
   running; answers each with a frame as in 4; ends when the grader closes the pipe.

Nothing here is trusted by the grader: the submission runs in this same process and may change any
of it. The grader checks what comes back, holds the timed phase's clock outside the sandbox and
computes the scores in its own process.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from pathlib import Path

NOBODY = 65534  # as sandbox.NOBODY (not imported: nothing but the standard library before giving up root)


def give_up_root() -> None:
    if os.getuid() == 0 or os.geteuid() == 0:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
        if os.getuid() == 0 or os.geteuid() == 0:
            raise SystemExit("refusing to run a submission as root")


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def run_cell(shell, source: str) -> BaseException | None:
    """Run one cell statement by statement; return its first error, or ``None``.

    A statement that raises does not stop the rest of the cell: where the grader hides PyTorch, a
    chapter's ``import torch`` fails, and the imports after it in the same cell must still happen.
    """
    try:
        tree = ast.parse(shell.transform_cell(source))  # magics become get_ipython() calls
    except BaseException:  # not Python: let IPython say why, as it would in Jupyter
        try:
            outcome = shell.run_cell(source, store_history=False)
            return outcome.error_in_exec or outcome.error_before_exec
        except BaseException as error:
            return error
    first_error = None
    for statement in tree.body:
        try:
            exec(compile(ast.Module(body=[statement], type_ignores=[]), "<cell>", "exec"), shell.user_ns)
        except BaseException as error:  # SystemExit and KeyboardInterrupt too: the next statement still runs
            first_error = first_error or error
    return first_error


def answer(trials_by_exercise, namespace) -> tuple[dict, dict]:
    """``(statuses, outputs)``: each exercise's function in ``namespace`` called on each of its trials.

    ``statuses[exercise]`` has one entry per trial (``{"ok": True}``, ``{"error": ...}`` or
    ``{"undefined": True}``); ``outputs`` holds the arrays, keyed ``EXERCISE/TRIAL[/PATH]``.
    """
    from lstm_course.exercises import exercise_inputs

    from . import exchange  # lstm_instructor's, or in the sandbox grader_runner's copy

    outputs, statuses = {}, {}
    for exercise, trials in trials_by_exercise.items():
        function = namespace.get(exercise)
        statuses[exercise] = []
        for number, trial in enumerate(trials):
            if not callable(function):
                statuses[exercise].append({"undefined": True})
                continue
            try:
                flat = exchange.flatten_output(  # through its forward pass, as Inputs.forward says
                    exercise_inputs.call(exercise, namespace, exercise_inputs.materialise(trial.kwargs)))
            except BaseException as error:
                statuses[exercise].append({"error": describe_error(error)})
                continue
            statuses[exercise].append({"ok": True})
            outputs.update({f"{exercise}/{number}" + (f"/{path}" if path else ""): array
                            for path, array in flat.items()})
    return statuses, outputs


def decode_message(payload: bytes):
    """The trials in one frame of inputs: a manifest line, then ``.npz`` bytes."""
    import io

    import numpy as np

    from . import exchange  # lstm_instructor's, or in the sandbox grader_runner's copy

    line, _, npz = payload.partition(b"\n")
    with np.load(io.BytesIO(npz), allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    return exchange.decode_inputs(json.loads(line), arrays)


def run(task_dir: Path, result_fd: int, timed_fd: int | None = None, keep_user: bool = False) -> None:
    if not keep_user:
        give_up_root()
    import nbformat
    import numpy as np

    from . import exchange  # lstm_instructor's, or in the sandbox grader_runner's copy  # noqa: F401 (imported before the notebook runs)

    result = os.fdopen(result_fd, "wb")
    notebook = nbformat.read(task_dir / "submission.ipynb", as_version=4)
    manifest = json.loads((task_dir / "inputs.json").read_text())
    with np.load(task_dir / "inputs.npz", allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    trials_by_exercise = exchange.decode_inputs(manifest, arrays)

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    cell_errors = []
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        error = run_cell(shell, cell.source)
        if error is not None:
            cell_errors.append([number, describe_error(error)])

    statuses, outputs = answer(trials_by_exercise, shell.user_ns)
    report = {"cells": len(code_cells), "cell_errors": cell_errors[:20], "exercises": statuses}
    result.write(exchange.frame(exchange.message(report, outputs)))
    result.flush()
    if timed_fd is None:
        return
    with os.fdopen(timed_fd, "rb") as timed:
        while (payload := exchange.read_frame(timed)) is not None:
            statuses, outputs = answer(decode_message(payload), shell.user_ns)
            result.write(exchange.frame(exchange.message({"exercises": statuses}, outputs)))
            result.flush()


if __name__ == "__main__":
    positional = [argument for argument in sys.argv[1:] if not argument.startswith("--")]
    run(Path(positional[0]), int(positional[1]), int(positional[2]) if len(positional) > 2 else None,
        keep_user="--keep-user" in sys.argv[1:])
    for stream in (sys.__stdout__, sys.__stderr__, sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(0)  # a submission's atexit hooks and threads do not get to run after the report
