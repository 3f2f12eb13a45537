"""Running the student edition's notebooks, in two halves of about equal time.

What a student's copy changes is small: stubs instead of solutions, checks without their outputs,
solution cells removed. Everything else is the instructor's cell, which nbval runs already. So the
student run executes only what can behave differently in the student's copy (:func:`kept_cells`):
every cell whose source the copy changes (or that is not the instructor's), every check, every cell
tagged ``raises-exception``, the set-up cells, every cell that reads a file (the copy's files must be
where its cells look for them), except the instructor's ``long-running`` ones (a training run or a
timing), and, transitively, every earlier cell that defines a name one of those reads (found by
reading each cell's names with ``ast``). An unchanged cell that none of them needs computes what
nbval's run computed, and is skipped; so is every cell that needs a long-running one, unless the
student's copy changes it (then nothing is skipped). What the run still proves: the kept cells run in order, the
copy's files are where its cells look for them, no kept cell needs a removed one (it would raise
``NameError``), and every public check says "not implemented yet".

One test file is one unit for pytest-xdist's ``--dist loadfile``, so
``test_student_notebooks_first_half.py`` and ``..._second_half.py`` each take one half of
:func:`chapter_halves`, split by the times ``tools/execute_notebooks.py`` recorded.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient

from lstm_instructor.catalogue import CHECK_CALL

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
LONG_RUNNING = "long-running"
"""The tag of an instructor's cell that a student run skips unless a kept cell needs it (module docstring)."""
READS_A_FILE = re.compile(r"\.\./|read_text\(|open\(|np\.load\(|torch\.load\(")
"""A cell that mentions a path above the chapter or reads a file: kept, unless it is long-running."""
SET_UP = "course-setup"


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


def kept_cells(student, instructor) -> set[int]:
    """Indices of the student's code cells a run executes (see the module's docstring).

    A long-running instructor cell, and every cell that reads what one defined (through the last
    cell to define each name it reads), are *tainted*: skipped, even if they read a file. If a cell
    the student's copy changes is tainted, every cell is kept.
    """
    instructor_sources = {cell.source for cell in instructor.cells if cell.cell_type == "code"}
    long_running = {cell.source for cell in instructor.cells
                    if cell.cell_type == "code" and LONG_RUNNING in cell.metadata.get("tags", [])}
    code = [(index, cell, *names(cell.source)) for index, cell in enumerate(student.cells) if cell.cell_type == "code"]
    kept, tainted, defined_by = set(), set(), {}
    for index, cell, defined, read in code:
        tags = cell.metadata.get("tags", [])
        changed = cell.source not in instructor_sources or CHECK_CALL.search(cell.source) or "raises-exception" in tags
        if cell.source in long_running or any(defined_by.get(name) in tainted for name in read):
            if changed:
                return {index for index, *_ in code}
            tainted.add(index)
        elif changed or READS_A_FILE.search(cell.source) or SET_UP in tags or "notebook.setup(" in cell.source:
            kept.add(index)
        defined_by.update(dict.fromkeys(defined, index))
    needed = set()  # names read by a kept cell further down
    for index, _, defined, read in reversed(code):
        if index in kept or (defined & needed and index not in tainted):
            kept.add(index)
            needed |= read
    return kept


def skipped_cells(student, instructor) -> set[int]:
    """Indices of the student's code cells a run skips: every code cell not in :func:`kept_cells`."""
    kept = kept_cells(student, instructor)
    return {index for index, cell in enumerate(student.cells) if cell.cell_type == "code" and index not in kept}


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
