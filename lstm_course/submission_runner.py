"""Runs inside the grader's sandbox: execute a submission, call its functions, send back the outputs.

    python -m lstm_course.submission_runner TASK_DIR RESULT_FD [--keep-user]

``TASK_DIR`` (read-only) holds ``submission.ipynb``, ``inputs.json`` and ``inputs.npz``
(:mod:`lstm_course.exchange`). The runner

1. gives up root if it has it (the sandbox then counts its processes against user ``nobody``), unless
   ``--keep-user`` (the grader's ``--unsandboxed``, where the submission runs as the grader's user);
2. executes the notebook's code cells in order in one IPython shell, statement by statement (magics
   work; a statement that raises is noted and the next one runs, so that a failed ``import torch``,
   where the grader hides PyTorch, does not take the cell's other imports with it);
3. calls each exercise's function on each trial's inputs;
4. writes one JSON line (per-cell errors, per-trial errors) and then the outputs as ``.npz`` bytes to
   file descriptor ``RESULT_FD``.

Nothing here is trusted by the grader: the submission runs in this same process and may change any
of it. The grader checks what comes back and computes the scores in its own process.
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


def run(task_dir: Path, result_fd: int, keep_user: bool = False) -> None:
    if not keep_user:
        give_up_root()
    import nbformat
    import numpy as np

    from lstm_course import exchange, exercise_inputs

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

    outputs, statuses = {}, {}
    for exercise, trials in trials_by_exercise.items():
        function = shell.user_ns.get(exercise)
        statuses[exercise] = []
        for number, trial in enumerate(trials):
            if not callable(function):
                statuses[exercise].append({"undefined": True})
                continue
            try:
                flat = exchange.flatten_output(  # through its forward pass, as Inputs.forward says
                    exercise_inputs.call(exercise, shell.user_ns, exercise_inputs.materialise(trial.kwargs)))
            except BaseException as error:
                statuses[exercise].append({"error": describe_error(error)})
                continue
            statuses[exercise].append({"ok": True})
            outputs.update({f"{exercise}/{number}" + (f"/{path}" if path else ""): array
                            for path, array in flat.items()})
    report = {"cells": len(code_cells), "cell_errors": cell_errors[:20], "exercises": statuses}
    result.write(json.dumps(report).encode() + b"\n" + exchange.to_npz_bytes(outputs))
    result.flush()


if __name__ == "__main__":
    run(Path(sys.argv[1]), int(sys.argv[2]), keep_user="--keep-user" in sys.argv[3:])
    for stream in (sys.__stdout__, sys.__stderr__, sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    os._exit(0)  # a submission's atexit hooks and threads do not get to run after the report
