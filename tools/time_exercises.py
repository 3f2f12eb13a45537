"""Time every exercise of the chapters: the CPU seconds of its cells, for the instructor guide.

    .venv/bin/python tools/time_exercises.py [NOTEBOOK ...] [--rev HEAD]

Each chapter runs top to bottom in a fresh kernel, as ``tools/execute_notebooks.py`` runs it
(one thread, a fixed hash seed), but in memory: the notebook file is not rewritten. Before the first
code cell and after every one, a one-line cell prints the kernel's CPU time (its own and that of the
processes it waited for, from ``os.times``) and its wall clock, so each code cell gets its CPU
seconds and wall seconds. An exercise's cells are those from its ``{exercise}`` directive up to the
next directive or the ``## Summary`` heading: the solution cells (which run the experiments) and the
check cell. CPU time, unlike wall time, hardly depends on what else the machine is doing, so the
numbers stay those of one core even on a busy machine.

The result goes to ``tools/exercise_times.json`` (merged: chapters not run keep their earlier
entries); the instructor guide builds its table of exercise costs from it. ``--rev HEAD`` runs the
committed version of each notebook instead of the working tree's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from lstm_instructor.catalogue import DIRECTIVE  # noqa: E402  (the course's own reading of an exercise)

OUT_FILE = ROOT / "tools" / "exercise_times.json"
MARKER = "__exercise_timing__"
PROBE = f'print("{MARKER}", sum(__import__("os").times()[:4]), __import__("time").perf_counter())'


def read(path: Path, rev: str | None) -> nbformat.NotebookNode:
    if rev is None:
        return nbformat.read(path, as_version=4)
    text = subprocess.run(["git", "show", f"{rev}:{path.relative_to(ROOT).as_posix()}"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout
    return nbformat.reads(text, as_version=4)


def exercise_of_each_cell(notebook: nbformat.NotebookNode) -> list[str | None]:
    """The label of the exercise each cell belongs to, or None."""
    labels, current = [], None
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            found = list(DIRECTIVE.finditer(cell.source))
            if found:
                current = found[-1]["label"]
            elif any(line.startswith("## ") and "Exercises" not in line for line in cell.source.splitlines()):
                current = None  # the summary (or any later section) ends the last exercise
        labels.append(current)
    return labels


def time_cells(notebook: nbformat.NotebookNode, path: Path, timeout: int) -> list[tuple[float, float] | None]:
    """(CPU s, wall s) of every cell (None for markdown), from probes run between the code cells."""
    probed, owners = [], []
    probed.append(nbformat.v4.new_code_cell(PROBE))
    owners.append(None)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        probed.append(cell)
        owners.append(index)
        probed.append(nbformat.v4.new_code_cell(PROBE))
        owners.append(None)
    run = nbformat.v4.new_notebook(cells=probed, metadata=notebook.metadata)
    NotebookClient(run, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    readings = []
    for cell in run.cells:
        if cell.source == PROBE:
            text = "".join(output.get("text", "") for output in cell.outputs)
            _, cpu, wall = text.split()
            readings.append((float(cpu), float(wall)))
    times: list[tuple[float, float] | None] = [None] * len(notebook.cells)
    code_indices = [owner for owner in owners if owner is not None]
    for number, index in enumerate(code_indices):
        (cpu0, wall0), (cpu1, wall1) = readings[number], readings[number + 1]
        times[index] = (cpu1 - cpu0, wall1 - wall0)
    return times


def time_notebook(path: Path, rev: str | None, timeout: int) -> dict:
    notebook = read(path, rev)
    times = time_cells(notebook, path, timeout)
    exercises: dict[str, dict[str, float]] = {}
    for label, measured in zip(exercise_of_each_cell(notebook), times, strict=True):
        if label is None:
            continue
        entry = exercises.setdefault(label, {"cpu_s": 0.0, "wall_s": 0.0})
        if measured is not None:
            entry["cpu_s"] += measured[0]
            entry["wall_s"] += measured[1]
    measured_cells = [t for t in times if t is not None]
    return {
        "notebook_cpu_s": round(sum(t[0] for t in measured_cells), 1),
        "notebook_wall_s": round(sum(t[1] for t in measured_cells), 1),
        "exercises": {label: {key: round(value, 2) for key, value in entry.items()}
                      for label, entry in exercises.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapters/*.ipynb")
    parser.add_argument("--rev", help="run the notebooks as committed at this git revision (e.g. HEAD)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    args = parser.parse_args(argv)

    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    os.environ["PYTHONHASHSEED"] = "0"
    paths = [p.resolve() for p in args.notebooks] or sorted((ROOT / "chapters").glob("*.ipynb"))
    for path in paths:
        name = path.relative_to(ROOT).as_posix()
        print(f"timing {name} ...", end=" ", flush=True)
        start = time.perf_counter()
        result = time_notebook(path, args.rev, args.timeout)
        print(f"{time.perf_counter() - start:.0f} s wall, {result['notebook_cpu_s']:.0f} s CPU", flush=True)
        # Read the file only now, so that runs on other notebooks meanwhile are kept.
        record = json.loads(OUT_FILE.read_text()) if OUT_FILE.exists() else {}
        record.setdefault("chapters", {})[name] = result
        record["measured_on"] = f"{os.cpu_count()} CPU cores, {platform.machine()}, one thread per notebook"
        record["command"] = "python tools/time_exercises.py"
        record["chapters"] = dict(sorted(record["chapters"].items()))
        OUT_FILE.write_text(json.dumps(record, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
