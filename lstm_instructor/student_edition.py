"""The student edition: the chapter notebooks and the book with every solution taken out.

Exercises are written once, in the instructor's notebooks (see README, "Writing exercises"):

* an implement exercise's answer sits in a code cell between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` (nbgrader's markers, so moving to nbgrader stays possible);
* every worked answer sits between a ``{solution-start}`` and a ``{solution-end}`` markdown cell
  (sphinx-exercise's gated directives, shown as a collapsed dropdown in the instructor's book);
* a cell tagged ``instructor-only`` is for the instructor alone;
* what else answers an exercise (``torch_lstm``'s hand-written backward, chapter 6's exercise in
  PyTorch form) lives in the instructor's package, ``lstm_instructor``, which the student edition
  does not ship: its copy of ``lstm_course`` is the library itself, file for file.

:func:`student_notebook` turns an instructor's notebook into a student's:

* each solution block becomes ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` at the same
  indentation, and the cell is tagged ``raises-exception`` and cleared of outputs;
* inside a solution dropdown, those stubbed cells stay (the reader fills them in) and every other
  cell goes, along with the two directive cells and every ``instructor-only`` cell;
* cells that call a ``check_*`` function lose their outputs (the instructor's say PASS); run by a
  student, they print "not implemented yet" until the stub is filled in;
* cells tagged ``uses-answer`` (they run the reader's answer, e.g. chapter 6's training with the
  reader's ``lstm_backward``) keep their outputs and are tagged ``raises-exception``: they fail until
  the exercise is done;
* the notebook's metadata names its chapter (``lstm_course.chapter``), which the grader checks against
  the chapter it decides (``--chapter``, or the file's name);
* the set-up cell installs the package from the student edition's repository, if one is named;
* everything else is unchanged, outputs included.

:func:`write_student_edition` writes the student notebooks, the package (which holds no answer: the
answers live in the instructor's solution cells only), the book's configuration, and builds the
student HTML book from them (``python -m lstm_instructor student-edition OUT_DIR [--repository URL]``).
``--repository`` names where the student edition will be published: its Colab and Binder buttons and
its set-up cells point there. Without it the student book has no launch buttons; it never points at
the instructor's repository. A re-run replaces exactly the files the previous run wrote (listed, with
their SHA-256, in ``.student-edition``) and refuses to touch anything else: a student's or an
instructor's own files in that folder (submissions, grades) are never deleted or overwritten.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import shutil
from pathlib import Path

import nbformat
import yaml

from lstm_course.plumbing.book import build_book
from lstm_instructor.catalogue import CHECK_CALL

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
SOLUTION_START = re.compile(r"^\s*`{3,}\s*\{solution-start\}")
SOLUTION_END = re.compile(r"^\s*`{3,}\s*\{solution-end\}")
INSTRUCTOR_ONLY = "instructor-only"
EXPECTED_ERROR = "raises-exception"
USES_ANSWER = "uses-answer"
SETUP_TAG = "course-setup"
BOOK_FILES = ("_config.yml", "_toc.yml", "intro.md", "bibliography.md", "references.bib", "LICENSE", "LICENSE-TEXT.md")
PACKAGE_FILES = ("pyproject.toml", "requirements.txt")
# What the notebooks and the book read: ../results, ../benchmarks, MathJax, the Sphinx extension; and
# the package itself, so that the published student edition installs with pip.
BOOK_FOLDERS = ("chapters", "course", "results", "benchmarks", "_static_offline", "_ext", "lstm_course")
INSTRUCTOR_PAGES = ("course/instructor_guide",)
"""Pages of the book left out of the student edition (and out of its table of contents)."""
MARKER = ".student-edition"
REPOSITORY_LINE = re.compile(r"^COURSE_REPOSITORY = .*?(?=  #|$)", re.MULTILINE)
README = """# LSTM from the ground up: student edition

The course's chapters as notebooks, with the exercises to do, and the course's package `lstm_course`.
One command (Python 3.11 or newer, `make`, and the package registry for the first run):

    make lab

creates the environment `.venv` (PyTorch CPU-only, NumPy, matplotlib, JupyterLab and the course's
package, from `requirements.txt`), fetches the Shakespeare corpus (chapters 10, 11, 14 and 15) and
the forecasting chapter's series (chapter 13) into `~/.cache/lstm_course`, and opens JupyterLab on
`chapters/`, one thread per kernel, as the notebooks expect. Open the address it prints; Ctrl-C
twice stops it. Run it again any time: the set-up is kept.

Each chapter's implement exercises have a cell that checks your answer (`check_...`). Cells that use
an answer (for example, training with your own backward pass) work once the exercise is done.
"""


MAKEFILE = """# make lab: set up .venv (once), fetch the corpus (once), open the chapters in JupyterLab.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: lab
lab: $(STAMP)
\t$(VENV)/bin/python -m lstm_course fetch-corpus
\t$(VENV)/bin/python -m lstm_course fetch-series
\t$(VENV)/bin/python -m lstm_course lab

$(STAMP): requirements.txt pyproject.toml
\ttest -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
\t$(VENV)/bin/python -m pip install --quiet -r requirements.txt
\t$(VENV)/bin/python -m pip install --quiet --no-deps --editable .
\ttouch $(STAMP)
"""
"""The student edition's one command, ``make lab`` (the course's own Makefile has the same target)."""


def has_solution_block(source: str) -> bool:
    return BEGIN_SOLUTION in source


def replace_regions(source: str, begin: str, end: str, replacement: tuple[str, ...] = ()) -> str:
    """``source`` with every region from a ``begin`` line to an ``end`` line (markers included) replaced by
    the ``replacement`` lines, indented like the ``begin`` marker. Raises ``ValueError`` for unpaired markers."""
    lines, output, inside = source.split("\n"), [], False
    for number, line in enumerate(lines, start=1):
        if line.strip() == begin:
            if inside:
                raise ValueError(f"line {number}: {begin} inside another such block")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            output.extend(indent + replaced for replaced in replacement)
        elif line.strip() == end:
            if not inside:
                raise ValueError(f"line {number}: {end} without {begin}")
            inside = False
        elif not inside:
            output.append(line)
    if inside:
        raise ValueError(f"{begin} without {end}")
    return "\n".join(output)


def stub_solutions(source: str) -> str:
    """Replace every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block by the stub, keeping indentation."""
    return replace_regions(source, BEGIN_SOLUTION, END_SOLUTION, STUB)


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _clear_outputs(cell) -> None:
    cell["outputs"] = []
    cell["execution_count"] = None


def student_notebook(notebook, chapter: str | None = None, repository: str | None = None):
    """A student's copy of an instructor's notebook (``nbformat.NotebookNode``); the input is not modified.

    ``chapter`` (the notebook's file name without ``.ipynb``) goes into its metadata for the grader;
    ``repository`` into its set-up cell (none: the cell does not install from anywhere).
    """
    notebook = copy.deepcopy(notebook)
    if chapter is not None:
        notebook.metadata["lstm_course"] = {"chapter": chapter}
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
        elif cell.cell_type == "code" and USES_ANSWER in _tags(cell):
            cell.metadata["tags"] = sorted(set(_tags(cell)) | {EXPECTED_ERROR})
        if cell.cell_type == "code" and SETUP_TAG in _tags(cell):
            cell.source = REPOSITORY_LINE.sub(f"COURSE_REPOSITORY = {repository or ''!r}", cell.source, count=1)
        cells.append(cell)
    if inside_solution:
        raise ValueError("solution-start without solution-end")
    notebook.cells = cells
    return notebook


def write_student_notebooks(source_root: Path, out_dir: Path, repository: str | None = None) -> list[Path]:
    """Copy the book's files into ``out_dir`` with every chapter notebook replaced by its student copy."""
    source_root, out_dir = Path(source_root), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (*BOOK_FILES, *PACKAGE_FILES):
        shutil.copy2(source_root / name, out_dir / name)
    (out_dir / "README.md").write_text(README)
    (out_dir / "Makefile").write_text(MAKEFILE)
    _student_config(out_dir / "_config.yml", repository)
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
                student = student_notebook(nbformat.read(path, as_version=4), chapter=path.stem, repository=repository)
                nbformat.write(student, target)
                written.append(target)
            else:
                shutil.copy2(path, target)
    return written


def _student_config(path: Path, repository: str | None) -> None:
    config = yaml.safe_load(path.read_text())
    config["title"] = f"{config.get('title', 'LSTM from the ground up')} (student edition)"
    # The launch buttons open the student edition's own repository, or do not appear: never the instructor's.
    config.setdefault("repository", {})["url"] = repository or ""
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


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file() or path.is_symlink()}


def check_repository(repository: str | None) -> str | None:
    if repository is not None and not re.fullmatch(r"https://[^\s/]+/\S+", repository):
        raise ValueError(f"--repository {repository}: expected the https:// address of the student edition's "
                         "repository, e.g. https://github.com/OWNER/lstm-course-student")
    return repository


def _remove_previous_edition(out_dir: Path) -> None:
    """Delete the files the previous run wrote and nothing else; refuse if one of them was changed since."""
    try:
        written = json.loads((out_dir / MARKER).read_text())["files"]
    except (ValueError, KeyError, TypeError, OSError):
        raise FileExistsError(f"{out_dir / MARKER}: unreadable, so which files the last run wrote is unknown; "
                              "expected a new folder (nothing in it was deleted)") from None
    paths = {out_dir / name: digest for name, digest in written.items()}
    changed = [str(path.relative_to(out_dir)) for path, digest in paths.items()
               if path.is_file() and _sha256(path) != digest]
    if changed:
        raise FileExistsError(f"{out_dir}: {len(changed)} file(s) written by the last run were changed since "
                              f"(e.g. {changed[0]}); move them away and run again (nothing was deleted)")
    for path in paths:
        if path.is_file() or path.is_symlink():
            path.unlink()
    for folder in sorted({parent for path in paths for parent in path.parents if out_dir in parent.parents},
                         key=lambda folder: len(folder.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    (out_dir / MARKER).unlink()


def write_student_edition(out_dir, source_root=None, build: bool = True, repository: str | None = None) -> dict:
    """Student notebooks, package and (with ``build``) HTML book under ``out_dir``; returns a summary."""
    source_root = Path(source_root) if source_root else Path(__file__).resolve().parents[1]
    out_dir = Path(out_dir)
    repository = check_repository(repository)
    inside = [source_root.resolve() / folder for folder in BOOK_FOLDERS]
    if out_dir.resolve() == source_root.resolve() or any(folder in out_dir.resolve().parents for folder in inside):
        raise ValueError(f"{out_dir}: expected a folder outside the course's own chapters")
    missing = [name for name in (*BOOK_FILES, *PACKAGE_FILES) if not (source_root / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{source_root}: expected the course's book files, missing {missing}")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).exists():
            raise FileExistsError(f"{out_dir}: exists and is not an earlier student edition; expected an empty "
                                  "or new folder (nothing in it is deleted)")
        _remove_previous_edition(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    before = _files_under(out_dir)  # a student's or instructor's own files: kept, and never overwritten
    with_staging = out_dir / ".student-edition-staging"
    shutil.rmtree(with_staging, ignore_errors=True)
    notebooks = write_student_notebooks(source_root, with_staging, repository)
    clashes = [str(path.relative_to(with_staging)) for path in _files_under(with_staging)
               if out_dir / path.relative_to(with_staging) in before]
    if clashes:
        shutil.rmtree(with_staging)
        raise FileExistsError(f"{out_dir}: holds files of its own where the student edition goes (e.g. "
                              f"{clashes[0]}); move them away and run again (nothing was changed)")
    for path in sorted(_files_under(with_staging)):
        target = out_dir / path.relative_to(with_staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.replace(target)
    shutil.rmtree(with_staging)
    summary = {"out_dir": str(out_dir), "notebooks": len(notebooks), "repository": repository}
    if build:
        summary["html"] = str(build_book(out_dir))
    written = sorted(_files_under(out_dir) - before)
    manifest = {"note": "Written by `python -m lstm_instructor student-edition`; the next run replaces these files.",
                "files": {str(path.relative_to(out_dir)): _sha256(path) for path in written if path.is_file()}}
    (out_dir / MARKER).write_text(json.dumps(manifest, indent=1))
    return summary
