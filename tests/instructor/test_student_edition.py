"""The student edition: stubs instead of solutions, nothing of a solution in any student file, and it runs."""

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from lstm_course.plumbing.book import build_book
from lstm_instructor.student_edition import (
    EXPECTED_ERROR,
    MARKER,
    SOLUTION_END,
    SOLUTION_START,
    _student_config,
    stub_solutions,
    student_notebook,
    write_student_edition,
)

ROOT = Path(__file__).resolve().parents[2]
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


def test_the_student_edition_ships_the_library_itself_and_no_instructor_package(tmp_path):
    """Its ``lstm_course`` is the library, file for file; ``lstm_instructor`` is not there, and without it the
    LSTM trains with the autograd loop (the hand-written backward is chapter 6's exercise)."""
    write_student_edition(tmp_path / "edition", ROOT, build=False)
    edition = tmp_path / "edition"
    assert not (edition / "lstm_instructor").exists()
    assert not [path for path in edition.rglob("*") if "lstm_instructor" in path.name]
    library = {path.relative_to(ROOT): path.read_bytes() for path in (ROOT / "lstm_course").rglob("*.py")}
    assert len(library) > 60
    assert {path.relative_to(edition): path.read_bytes() for path in (edition / "lstm_course").rglob("*.py")} == library
    assert not [path for path in library if "INSTRUCTOR ONLY" in (ROOT / path).read_text()]
    # A student's environment: lstm_instructor is not installed (here the editable install would find it).
    script = ("import sys; sys.modules['lstm_instructor'] = None; sys.path.insert(0, sys.argv[1]); import torch; "
              "from lstm_course.models import torch_lstm as t; "
              "assert t.__file__.startswith(sys.argv[1]) and t.HandWrittenBackward is None; "
              "m = t.LSTM(3, 4, num_layers=2); m(torch.randn(5, 2, 3))[0].sum().backward(); "
              "print(m.hand_written_backward)")
    completed = subprocess.run([sys.executable, "-c", script, str(edition)], capture_output=True,
                               text=True, cwd=tmp_path)
    assert completed.returncode == 0 and completed.stdout.strip() == "False", completed.stderr


def test_it_never_deletes_a_folder_it_did_not_write(tmp_path):
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("months of work")
    with pytest.raises(FileExistsError, match="not an earlier student edition"):
        write_student_edition(precious, ROOT, build=False)
    assert (precious / "chapter1.tex").read_text() == "months of work"


def test_a_rerun_replaces_its_own_files_and_keeps_everyone_elses(tmp_path):
    edition = tmp_path / "edition"
    write_student_edition(edition, ROOT, build=False)
    (edition / "submissions").mkdir()
    (edition / "submissions" / "ada.ipynb").write_text("{}")
    (edition / "grades.csv").write_text("submission,score,max_score,status\n")
    (edition / "chapters" / "my_notes.ipynb").write_text("{}")
    written_before = json.loads((edition / MARKER).read_text())["files"]
    (edition / "chapters" / "01_why_rnns_forget.ipynb").unlink()  # gone: the next run writes it again
    write_student_edition(edition, ROOT, build=False)
    assert (edition / "submissions" / "ada.ipynb").read_text() == "{}"
    assert (edition / "grades.csv").exists() and (edition / "chapters" / "my_notes.ipynb").exists()
    assert json.loads((edition / MARKER).read_text())["files"] == written_before
    # A file it wrote but someone changed since: it refuses, and deletes nothing.
    (edition / "chapters" / "02_forget_gate.ipynb").write_text('{"cells": []}')
    with pytest.raises(FileExistsError, match="changed since"):
        write_student_edition(edition, ROOT, build=False)
    assert (edition / "chapters" / "02_forget_gate.ipynb").read_text() == '{"cells": []}'
    assert (edition / "chapters" / "03_input_gate_and_candidate.ipynb").exists()


def test_the_repository_decides_the_launch_buttons_and_the_set_up_cell(tmp_path):
    config = tmp_path / "_config.yml"
    for repository, expected in ((None, ""), ("https://github.com/example/student", "https://github.com/example/student")):
        config.write_text("title: T\nrepository:\n  url: https://github.com/instructor/with-solutions\n")
        _student_config(config, repository)
        assert yaml.safe_load(config.read_text())["repository"]["url"] == expected
    instructor = nbformat.read(CHAPTERS[0], as_version=4)
    setup = student_notebook(instructor, repository="https://github.com/example/student").cells[1].source
    assert "COURSE_REPOSITORY = 'https://github.com/example/student'  #" in setup
    assert "COURSE_REPOSITORY = ''  #" in student_notebook(instructor).cells[1].source
    with pytest.raises(ValueError, match="expected the https:// address"):
        write_student_edition(tmp_path / "edition", ROOT, build=False, repository="github.com/x")


def split_instructor_notebook(notebook) -> tuple[list[str], list[str], list[str]]:
    """(answer lines, other solution lines, public text) of an instructor notebook, found independently of
    the student edition.

    Answers: the lines between the solution markers of the graded (implement) exercises. Other solution
    lines: every other line of a solution dropdown (warm-up and experiment answers) or of an
    instructor-only cell. Public: everything else, outputs included.
    """
    answers, solution, public, inside_dropdown = [], [], [], False
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
            answers += lines[begin + 1 : end]
            public += lines[:begin] + lines[end + 1 :]
        elif inside_dropdown or "instructor-only" in cell.metadata.get("tags", []):
            solution += lines
        else:
            public += lines
            public += [nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))] if cell.cell_type == "code" else []
    def stripped(lines):
        return [line.strip() for line in lines if line.strip()]

    return stripped(answers), stripped(solution), public


SYNTAX_ONLY = re.compile(r"^(return|else|try|finally|pass|break|continue)?[\s\[\]{}():,]*$")
"""Lines with nothing of an answer in them (``return {``, ``})``): they occur everywhere."""


def secret_lines() -> dict[str, set[str]]:
    """Per chapter, the lines no student file may contain.

    Every line of every graded answer (at least 8 characters and more than syntax), even where the same
    line also occurs in a public cell or in the package: an answer on the page is an answer given away.
    Of the other solution lines (worked answers to warm-ups and experiments), those that appear nowhere
    in the public part of any instructor notebook, the package or the benchmarks.
    """
    split = {path.stem: split_instructor_notebook(nbformat.read(path, as_version=4)) for path in CHAPTERS}
    public = "\n".join(line for _, _, public_lines in split.values() for line in public_lines)
    public += "\n".join(path.read_text() for folder in ("lstm_course", "benchmarks")
                        for path in (ROOT / folder).rglob("*.py"))
    return {chapter: {line for line in answers if len(line) >= MIN_LINE_LENGTH and not SYNTAX_ONLY.match(line)}
            | {line for line in solution if len(line) >= MIN_LINE_LENGTH and line not in public}
            for chapter, (answers, solution, _) in split.items()}


def instructor_only_lines() -> set[str]:
    """The lines of the instructor's package (the grader, torch_lstm's hand-written backward, ...) that occur
    nowhere in the student's library, the benchmarks or the notebooks' public cells; but the student-edition
    builder's, which writes the student's README and Makefile."""
    lines = {line.strip() for path in (ROOT / "lstm_instructor").rglob("*.py") if path.name != "student_edition.py"
             for line in path.read_text().splitlines()}
    public = [path.read_text() for folder in ("lstm_course", "benchmarks") for path in (ROOT / folder).rglob("*.py")]
    for path in CHAPTERS:
        public += split_instructor_notebook(nbformat.read(path, as_version=4))[2]
    public = "\n".join(public)
    return {line for line in lines
            if len(line) >= INSTRUCTOR_LINE_LENGTH and not SYNTAX_ONLY.match(line) and line not in public}


INSTRUCTOR_LINE_LENGTH = 20
"""The instructor package's lines searched for: shorter ones are generic code ("return merged" is in the
theme's bootstrap.js.map), which answers nothing."""


def test_every_answer_line_is_searched():
    """The search covers every graded answer's lines but pure syntax, public or not."""
    secrets = set().union(*secret_lines().values())
    for path in CHAPTERS:
        answers, _, _ = split_instructor_notebook(nbformat.read(path, as_version=4))
        assert {line for line in answers if len(line) >= MIN_LINE_LENGTH and not SYNTAX_ONLY.match(line)} <= secrets
    assert "return derivatives" in secrets  # short and generic-looking, still an answer's line


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


REPOSITORY = "https://github.com/example/lstm-course-student"


@pytest.fixture(scope="module")
def student_edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    summary = write_student_edition(out, ROOT, build=True, repository=REPOSITORY)
    return out, summary


def test_launch_buttons_open_the_student_repository(student_edition):
    _, summary = student_edition
    page = (Path(summary["html"]) / "chapters" / "02_forget_gate.html").read_text()
    assert "colab.research.google.com/github/example/lstm-course-student" in page
    assert "mybinder.org" in page


def test_no_solution_line_reaches_any_student_file(student_edition):
    out, summary = student_edition
    assert summary["notebooks"] == len(CHAPTERS)
    html_pages = list(Path(summary["html"]).rglob("*.html"))
    assert len(html_pages) >= len(CHAPTERS)
    assert (Path(summary["html"]) / "searchindex.js").exists()
    secrets = set().union(*secret_lines().values()) | instructor_only_lines()
    assert len(secrets) > 100 and len(instructor_only_lines()) > 30  # the search below is not vacuous
    files = [path for path in out.rglob("*") if path.is_file()]
    assert any(path.suffix == ".ipynb" and "_sources" in path.parts for path in files)  # downloadable notebooks
    assert leaked_lines(out, secrets) == {}
    assert (out / "lstm_course" / "__init__.py").exists()  # the package the student installs was searched too
    for path in files:
        if "lstm_course" in path.relative_to(out).parts[:1]:
            continue  # the package's own code names the markers (student_edition.py)
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
