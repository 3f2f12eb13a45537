"""Running the student edition's notebooks top to bottom, in two halves of about equal time.

The whole run takes about 15 minutes on one core (chapters 8 and 10 alone about 9). One test file
is one unit for pytest-xdist's ``--dist loadfile``, so a single file would put all of it on one
worker and make it the suite's critical path. ``test_student_notebooks_first_half.py`` and
``..._second_half.py`` each take one half of :func:`chapter_halves`, split by the times
``tools/execute_notebooks.py`` recorded, so the two workers share the load.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from lstm_course.exercises import CHECK_CALL

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def chapter_halves() -> tuple[list[Path], list[Path]]:
    """Every chapter in one of two lists whose recorded execution times are about equal (longest first, greedy)."""
    recorded = json.loads((ROOT / "tools" / "execution_times.json").read_text())
    seconds = {path: recorded.get(f"chapters/{path.name}", 60.0) for path in CHAPTERS}
    halves, totals = ([], []), [0.0, 0.0]
    for path in sorted(CHAPTERS, key=lambda path: -seconds[path]):
        lighter = totals.index(min(totals))
        halves[lighter].append(path)
        totals[lighter] += seconds[path]
    return tuple(sorted(half) for half in halves)


def run_student_notebook(path: Path, student_chapters: Path) -> None:
    """Execute the student copy of chapter ``path``; each public check must say "not implemented yet"."""
    notebook = nbformat.read(student_chapters / path.name, as_version=4)
    NotebookClient(notebook, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(student_chapters)}}).execute()  # only tagged cells may raise
    for cell in notebook.cells:
        if cell.cell_type == "code" and CHECK_CALL.search(cell.source):
            printed = "".join(output.get("text", "") for output in cell.outputs)
            assert "not implemented yet" in printed, (cell.source, printed)
