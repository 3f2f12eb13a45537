"""The student edition: stubs instead of solutions, nothing of a solution in any student file, and it runs."""

import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from lstm_course.book import build_book
from lstm_course.exercises import CHECK_CALL
from lstm_course.student_edition import (
    EXPECTED_ERROR,
    SOLUTION_END,
    SOLUTION_START,
    stub_solutions,
    student_notebook,
    write_student_edition,
)

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
MIN_LINE_LENGTH = 8


def test_stub_keeps_indentation_and_everything_outside_the_block():
    source = "def f(x):\n    '''Doc.'''\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n\nprint(f)"
    assert stub_solutions(source) == ("def f(x):\n    '''Doc.'''\n    # YOUR CODE HERE\n"
                                      "    raise NotImplementedError()\n\nprint(f)")
    with pytest.raises(ValueError, match="without"):
        stub_solutions("### BEGIN SOLUTION\nx = 1")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_student_notebook_has_stubs_and_no_solution_cells(path):
    instructor = nbformat.read(path, as_version=4)
    student = student_notebook(instructor)
    text = "\n".join(cell.source for cell in student.cells)
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert not any(SOLUTION_START.match(cell.source) or SOLUTION_END.match(cell.source) for cell in student.cells)
    stubs = [cell for cell in student.cells if "raise NotImplementedError()" in cell.source]
    assert len(stubs) == sum("### BEGIN SOLUTION" in cell.source for cell in instructor.cells)
    assert all(EXPECTED_ERROR in cell.metadata["tags"] and not cell.outputs for cell in stubs)
    kept = [cell.source for cell in student.cells if cell not in stubs]
    assert all(source in [cell.source for cell in instructor.cells] for source in kept)  # the rest unchanged


def test_it_never_deletes_a_folder_it_did_not_write(tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("months of work")
    with pytest.raises(FileExistsError, match="not an earlier student edition"):
        write_student_edition(precious, ROOT, build=False)
    assert (precious / "chapter1.tex").read_text() == "months of work"
    edition = tmp_path / "edition"
    write_student_edition(edition, ROOT, build=False)
    (edition / "chapters" / "stale.ipynb").write_text("{}")
    write_student_edition(edition, ROOT, build=False)  # a second run replaces the first whole
    assert not (edition / "chapters" / "stale.ipynb").exists()
    assert len(list((edition / "chapters").glob("*.ipynb"))) == len(CHAPTERS)


def split_instructor_notebook(notebook) -> tuple[list[str], list[str]]:
    """(solution lines, public text) of an instructor notebook, found independently of the student edition.

    Solution: the lines between the solution markers, and every cell between solution-start and
    solution-end other than an implement exercise's stub cell. Public: everything else, outputs included.
    """
    solution, public, inside_dropdown = [], [], False
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and "{solution-start}" in cell.source:
            inside_dropdown = True
            continue
        if cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            inside_dropdown = False
            continue
        lines = cell.source.split("\n")
        if "### BEGIN SOLUTION" in cell.source:
            begin = next(i for i, line in enumerate(lines) if line.strip() == "### BEGIN SOLUTION")
            end = next(i for i, line in enumerate(lines) if line.strip() == "### END SOLUTION")
            solution += lines[begin + 1 : end]
            public += lines[:begin] + lines[end + 1 :]
        elif inside_dropdown or "instructor-only" in cell.metadata.get("tags", []):
            solution += lines
        else:
            public += lines
            public += [nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))] if cell.cell_type == "code" else []
    return [line.strip() for line in solution if line.strip()], public


def secret_lines() -> dict[str, set[str]]:
    """Per chapter, the solution lines that appear nowhere in the public part of any instructor notebook."""
    split = {path.stem: split_instructor_notebook(nbformat.read(path, as_version=4)) for path in CHAPTERS}
    public = "\n".join(line for _, public_lines in split.values() for line in public_lines)
    # The package and the benchmarks are public code every student has (the student edition copies the
    # benchmarks, which chapters 6 and 7 run): a solution line that repeats one of their lines is no secret.
    public += "\n".join(path.read_text() for folder in ("lstm_course", "benchmarks")
                        for path in (ROOT / folder).glob("*.py"))
    return {chapter: {line for line in solution if len(line) >= MIN_LINE_LENGTH and line not in public}
            for chapter, (solution, _) in split.items()}


def readable_text(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None
    if path.suffix in (".html", ".htm", ".js"):
        text = html.unescape(re.sub(r"<[^>]+>", "", text))  # highlighted code is split by <span> tags
    return text


def leaked_lines(folder: Path, secrets: set[str]) -> dict[str, list[str]]:
    leaks = {}
    for path in folder.rglob("*"):
        text = readable_text(path) if path.is_file() else None
        if text is None:
            continue
        if path.suffix == ".ipynb":  # JSON-escaped sources: compare the cells' text
            notebook = nbformat.reads(text, as_version=4)
            text = nbformat.writes(notebook) + "\n".join(cell.source for cell in notebook.cells)
        found = [line for line in secrets if line in text]
        if found:
            leaks[str(path.relative_to(folder))] = found
    return leaks


@pytest.fixture(scope="module")
def student_edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    summary = write_student_edition(out, ROOT, build=True)
    return out, summary


def test_no_solution_line_reaches_any_student_file(student_edition):
    out, summary = student_edition
    assert summary["notebooks"] == len(CHAPTERS)
    html_pages = list(Path(summary["html"]).rglob("*.html"))
    assert len(html_pages) >= len(CHAPTERS)
    assert (Path(summary["html"]) / "searchindex.js").exists()
    secrets = set().union(*secret_lines().values())
    assert len(secrets) > 100  # the search below is not vacuous
    files = [path for path in out.rglob("*") if path.is_file()]
    assert any(path.suffix == ".ipynb" and "_sources" in path.parts for path in files)  # downloadable notebooks
    assert leaked_lines(out, secrets) == {}
    for path in files:
        text = readable_text(path) or ""
        assert "BEGIN SOLUTION" not in text and "solution-start" not in text, path


def test_the_leak_search_finds_solutions_in_the_instructor_book(tmp_path):
    """Control: the same search over the instructor's book finds the solution lines."""
    for name in ("_config.yml", "_toc.yml", "intro.md", "bibliography.md", "references.bib"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    for folder in ("chapters", "course", "results"):
        for path in (ROOT / folder).glob("*"):
            if path.is_file():
                (tmp_path / folder).mkdir(exist_ok=True)
                (tmp_path / folder / path.name).write_bytes(path.read_bytes())
    shutil.copytree(ROOT / "_static_offline", tmp_path / "_static_offline")  # MathJax, from `make mathjax`
    shutil.copytree(ROOT / "_ext", tmp_path / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    html_dir = build_book(tmp_path)
    secrets = secret_lines()
    leaks = leaked_lines(html_dir, set().union(*secrets.values()))
    leaked = set().union(*map(set, leaks.values()))
    for chapter, lines in secrets.items():
        assert lines & leaked, f"{chapter}: no solution line found in the instructor's HTML"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_student_notebook_executes_top_to_bottom(path, student_edition):
    out, _ = student_edition
    notebook = nbformat.read(out / "chapters" / path.name, as_version=4)
    NotebookClient(notebook, timeout=1200, kernel_name="python3",
                   resources={"metadata": {"path": str(out / "chapters")}}).execute()  # only tagged cells may raise
    for cell in notebook.cells:
        if cell.cell_type == "code" and CHECK_CALL.search(cell.source):
            printed = "".join(output.get("text", "") for output in cell.outputs)
            assert "not implemented yet" in printed, (cell.source, printed)
