"""The student edition: the chapter notebooks and the book with every solution taken out.

Exercises are written once, in the instructor's notebooks (see README, "Writing exercises"):

* an implement exercise's answer sits in a code cell between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` (nbgrader's markers, so moving to nbgrader stays possible);
* every worked answer sits between a ``{solution-start}`` and a ``{solution-end}`` markdown cell
  (sphinx-exercise's gated directives, shown as a collapsed dropdown in the instructor's book);
* a cell tagged ``instructor-only`` is for the instructor alone.

:func:`student_notebook` turns an instructor's notebook into a student's:

* each solution block becomes ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` at the same
  indentation, and the cell is tagged ``raises-exception`` and cleared of outputs;
* inside a solution dropdown, those stubbed cells stay (the reader fills them in) and every other
  cell goes, along with the two directive cells and every ``instructor-only`` cell;
* cells that call a ``check_*`` function lose their outputs (the instructor's say PASS); run by a
  student, they print "not implemented yet" until the stub is filled in;
* everything else is unchanged, outputs included.

:func:`write_student_edition` writes the student notebooks with the book's configuration and builds
the student HTML book from them (``python -m lstm_course student-edition OUT_DIR``).
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import nbformat
import yaml

from lstm_course.book import build_book
from lstm_course.exercises import CHECK_CALL

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
SOLUTION_START = re.compile(r"^\s*`{3,}\s*\{solution-start\}")
SOLUTION_END = re.compile(r"^\s*`{3,}\s*\{solution-end\}")
INSTRUCTOR_ONLY = "instructor-only"
EXPECTED_ERROR = "raises-exception"
BOOK_FILES = ("_config.yml", "_toc.yml", "intro.md", "bibliography.md", "references.bib")
# What the notebooks and the book read: ../results, ../benchmarks, MathJax, the Sphinx extension.
BOOK_FOLDERS = ("chapters", "course", "results", "benchmarks", "_static_offline", "_ext")
INSTRUCTOR_PAGES = ("course/instructor_guide",)
MARKER = ".student-edition"
"""Pages of the book left out of the student edition (and out of its table of contents)."""


def has_solution_block(source: str) -> bool:
    return BEGIN_SOLUTION in source


def stub_solutions(source: str) -> str:
    """Replace every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block by the stub, keeping indentation."""
    lines, output, inside = source.split("\n"), [], False
    for number, line in enumerate(lines, start=1):
        if line.strip() == BEGIN_SOLUTION:
            if inside:
                raise ValueError(f"line {number}: {BEGIN_SOLUTION} inside another solution block")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            output.extend(indent + stub_line for stub_line in STUB)
        elif line.strip() == END_SOLUTION:
            if not inside:
                raise ValueError(f"line {number}: {END_SOLUTION} without {BEGIN_SOLUTION}")
            inside = False
        elif not inside:
            output.append(line)
    if inside:
        raise ValueError(f"{BEGIN_SOLUTION} without {END_SOLUTION}")
    return "\n".join(output)


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _clear_outputs(cell) -> None:
    cell["outputs"] = []
    cell["execution_count"] = None


def student_notebook(notebook):
    """A student's copy of an instructor's notebook (``nbformat.NotebookNode``); the input is not modified."""
    notebook = copy.deepcopy(notebook)
    cells, inside_solution = [], False
    for number, cell in enumerate(notebook.cells):
        source = cell.source
        if cell.cell_type == "markdown" and SOLUTION_START.match(source):
            if inside_solution:
                raise ValueError(f"cell {number}: solution-start inside another solution")
            inside_solution = True
            continue
        if cell.cell_type == "markdown" and SOLUTION_END.match(source):
            if not inside_solution:
                raise ValueError(f"cell {number}: solution-end without solution-start")
            inside_solution = False
            continue
        if INSTRUCTOR_ONLY in _tags(cell):
            continue
        if cell.cell_type == "code" and has_solution_block(source):
            cell.source = stub_solutions(source)
            _clear_outputs(cell)
            cell.metadata["tags"] = sorted(set(_tags(cell)) | {EXPECTED_ERROR})
        elif inside_solution:
            continue
        elif cell.cell_type == "code" and CHECK_CALL.search(source):
            _clear_outputs(cell)
        cells.append(cell)
    if inside_solution:
        raise ValueError("solution-start without solution-end")
    notebook.cells = cells
    return notebook


def write_student_notebooks(source_root: Path, out_dir: Path) -> list[Path]:
    """Copy the book's files into ``out_dir`` with every chapter notebook replaced by its student copy."""
    source_root, out_dir = Path(source_root), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in BOOK_FILES:
        shutil.copy2(source_root / name, out_dir / name)
    _student_config(out_dir / "_config.yml")
    _student_toc(out_dir / "_toc.yml")
    written = []
    for folder in BOOK_FOLDERS:
        if not (source_root / folder).is_dir():
            continue
        for path in sorted((source_root / folder).rglob("*")):
            parts = path.relative_to(source_root).parts
            if any(part.startswith(".") or part == "__pycache__" for part in parts) or not path.is_file():
                continue
            if path.relative_to(source_root).with_suffix("").as_posix() in INSTRUCTOR_PAGES:
                continue
            target = out_dir / path.relative_to(source_root)
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.suffix == ".ipynb":
                nbformat.write(student_notebook(nbformat.read(path, as_version=4)), target)
                written.append(target)
            else:
                shutil.copy2(path, target)
    return written


def _student_config(path: Path) -> None:
    config = yaml.safe_load(path.read_text())
    config["title"] = f"{config.get('title', 'LSTM from the ground up')} (student edition)"
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["hide_solutions"] = True  # belt and braces: the directives are already gone
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))


def _student_toc(path: Path) -> None:
    """Drop the instructor-only pages, and any part left without pages, from the table of contents."""

    def keep(entries):
        kept = []
        for entry in entries:
            if entry.get("file") in INSTRUCTOR_PAGES:
                continue
            entry = dict(entry)
            for key in ("parts", "chapters", "sections"):
                if key in entry:
                    entry[key] = keep(entry[key])
                    if not entry[key]:
                        del entry[key]
            if "file" in entry or any(key in entry for key in ("parts", "chapters", "sections")):
                kept.append(entry)
        return kept

    toc = yaml.safe_load(path.read_text())
    toc["parts"] = keep(toc.get("parts", []))
    path.write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True))


def write_student_edition(out_dir, source_root=None, build: bool = True) -> dict:
    """Student notebooks (and, with ``build``, the student HTML book) under ``out_dir``; returns a summary."""
    source_root = Path(source_root) if source_root else Path(__file__).resolve().parents[1]
    out_dir = Path(out_dir)
    inside = [source_root.resolve() / folder for folder in BOOK_FOLDERS]
    if out_dir.resolve() == source_root.resolve() or any(folder in out_dir.resolve().parents for folder in inside):
        raise ValueError(f"{out_dir}: expected a folder outside the course's own chapters")
    missing = [name for name in BOOK_FILES if not (source_root / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{source_root}: expected the course's book files, missing {missing}")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).exists():
            raise FileExistsError(f"{out_dir}: exists and is not an earlier student edition; expected an empty "
                                  "or new folder (nothing in it is deleted)")
        shutil.rmtree(out_dir)  # an earlier student edition: replace it whole, so no stale page survives
    notebooks = write_student_notebooks(source_root, out_dir)
    (out_dir / MARKER).write_text("Written by `python -m lstm_course student-edition`; rewritten by the next run.\n")
    summary = {"out_dir": str(out_dir), "notebooks": len(notebooks)}
    if build:
        summary["html"] = str(build_book(out_dir))
    return summary
