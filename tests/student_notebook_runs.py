"""Running the student edition's notebooks, in two halves of about equal time.

What a student's copy changes is small: stubs instead of solutions, checks without their outputs,
solution cells removed. Everything else is the instructor's cell, which nbval runs already. So the
student run executes every cell **except** the instructor's own cells tagged ``long-running`` (a
training run or a timing, most of a chapter's minutes) and the cells that read what those define
(found by reading each cell's names with ``ast``). If any cell the student's copy changes would
need a skipped cell, nothing is skipped. What the run still proves: the copy runs top to bottom,
its files are where its cells look for them, no kept cell needs a removed one (it would raise
``NameError``), and every public check says "not implemented yet".

One test file is one unit for pytest-xdist's ``--dist loadfile``, so
``test_student_notebooks_first_half.py`` and ``..._second_half.py`` each take one half of
:func:`chapter_halves`, split by the times ``tools/execute_notebooks.py`` recorded.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient

from lstm_course.exercises import CHECK_CALL

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
LONG_RUNNING = "long-running"
"""The tag of an instructor's cell that a student run may skip (see the module's docstring)."""


def chapter_halves(chapters: list[Path] = CHAPTERS) -> tuple[list[Path], list[Path]]:
    """``chapters`` in two lists whose recorded execution times are about equal (longest first, greedy)."""
    recorded = json.loads((ROOT / "tools" / "execution_times.json").read_text())
    seconds = {path: recorded.get(f"chapters/{path.name}", 60.0) for path in chapters}
    halves, totals = ([], []), [0.0, 0.0]
    for path in sorted(chapters, key=lambda path: -seconds[path]):
        lighter = totals.index(min(totals))
        halves[lighter].append(path)
        totals[lighter] += seconds[path]
    return tuple(sorted(half) for half in halves)


def names(source: str) -> tuple[set[str], set[str]]:
    """The names a cell defines (assigns, changes an item or attribute of, imports, ``def``, ``class``) and reads."""
    tree = ast.parse(TransformerManager().transform_cell(source))
    defined, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, ast.Store | ast.Del) else read).add(node.id)
        elif isinstance(node, ast.Subscript | ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
            base = node.value  # results["LSTM"] = ... or model.weight = ... changes results or model
            while isinstance(base, ast.Subscript | ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name):
                defined.add(base.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defined.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            defined.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return defined, read


def skipped_cells(student, instructor) -> set[int]:
    """Indices of the student's code cells a run may skip: long-running instructor cells and what reads them."""
    instructor_sources = {cell.source for cell in instructor.cells
                          if cell.cell_type == "code" and LONG_RUNNING in cell.metadata.get("tags", [])}
    skipped, defined_by = set(), {}
    for index, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        defined, read = names(cell.source)
        changed = CHECK_CALL.search(cell.source) or "raises-exception" in cell.metadata.get("tags", [])
        needs_skipped = any(defined_by.get(name) in skipped for name in read)
        if changed and needs_skipped:
            return set()  # a cell the student's copy changes needs a skipped one: run everything
        if cell.source in instructor_sources or needs_skipped:
            skipped.add(index)
        for name in defined:
            defined_by[name] = index
    return skipped


def run_student_notebook(path: Path, student_chapters: Path) -> None:
    """Run the student copy of ``path`` less :func:`skipped_cells`; every check must say "not implemented yet"."""
    notebook = nbformat.read(student_chapters / path.name, as_version=4)
    skipped = skipped_cells(notebook, nbformat.read(path, as_version=4))
    notebook.cells = [cell for index, cell in enumerate(notebook.cells) if index not in skipped]
    NotebookClient(notebook, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(student_chapters)}}).execute()  # only tagged cells may raise
    for cell in notebook.cells:
        if cell.cell_type == "code" and CHECK_CALL.search(cell.source):
            printed = "".join(output.get("text", "") for output in cell.outputs)
            assert "not implemented yet" in printed, (cell.source, printed)
