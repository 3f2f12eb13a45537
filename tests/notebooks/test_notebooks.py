"""Every committed notebook is a clean top-to-bottom run, and the table of contents lists them all.

nbval (run by the same pytest command) proves the outputs are current; this file proves they
were produced in order, with nothing skipped and no unexpected error.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

from lstm_course.plumbing.book import toc_files

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_FOLDERS = ("chapters", "course")
NOTEBOOKS = sorted(path for folder in NOTEBOOK_FOLDERS for path in (ROOT / folder).glob("*.ipynb"))
EXPECTED_ERROR_TAG = "raises-exception"


def code_cells(path):
    return [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in chapters/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_a_clean_top_to_bottom_run(path):
    cells = code_cells(path)
    counts = [cell["execution_count"] for cell in cells]
    assert None not in counts, f"{path.name}: {counts.count(None)} code cell(s) never executed"
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: cells not executed once each, in order: {counts}"
    for number, cell in enumerate(cells, start=1):
        expected_error = EXPECTED_ERROR_TAG in cell.get("metadata", {}).get("tags", [])
        errors = [output for output in cell["outputs"] if output["output_type"] == "error"]
        if not expected_error:
            assert not errors, f"{path.name}, code cell {number}: unexpected {errors[0]['ename']}"


def test_toc_and_chapters_folder_list_the_same_notebooks():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    listed = {Path(name).with_suffix("").as_posix() for name in toc_files([toc])
              if (ROOT / name).with_suffix(".ipynb").exists() or not (ROOT / name).with_suffix(".md").exists()}
    present = {path.relative_to(ROOT).with_suffix("").as_posix() for path in NOTEBOOKS}
    assert {name for name in listed if name.startswith(tuple(f"{folder}/" for folder in NOTEBOOK_FOLDERS))} == present


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_nbval_markers_are_ones_nbval_recognises(path):
    """nbval reads '# NBVAL_IGNORE_OUTPUT' only alone on its line; anything after it disables it silently."""
    for number, cell in enumerate(code_cells(path), start=1):
        for line in "".join(cell["source"]).splitlines():
            if "NBVAL_" in line:
                assert line.strip().split("#", 1)[-1].strip() in {
                    "NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT", "NBVAL_SKIP", "NBVAL_RAISES_EXCEPTION"
                }, f"{path.name}, code cell {number}: {line.strip()!r} is not a marker nbval recognises"


GLUE_REFERENCE = re.compile(r"\{glue:(?:text|)\}`([^`:]+)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_glued_name_the_prose_cites_is_glued(path):
    """A ``{glue:text}`name``` with no glued value fails the book build with a warning; say which here."""
    cells = json.loads(path.read_text())["cells"]
    cited = {name for cell in cells if cell["cell_type"] == "markdown"
             for name in GLUE_REFERENCE.findall("".join(cell["source"]))}
    glued = {output.get("metadata", {}).get("scrapbook", {}).get("name") for cell in cells
             for output in cell.get("outputs", [])}
    assert cited <= glued, f"{path.name}: cited but never glued: {sorted(cited - glued)}"


KERNEL_DEPENDENT = re.compile(r"cpu_capability.*(==|!=|\bif\b|assert)|(==|!=|\bif\b|assert).*cpu_capability")
HIDDEN_TAG = "remove-cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_check_depends_on_the_cpus_kernels(path):
    """One rule on any CPU (experiments.reproduction): no tolerance chosen because the instruction set matches."""
    for number, cell in enumerate(code_cells(path), start=1):
        for line in "".join(cell["source"]).splitlines():
            assert not KERNEL_DEPENDENT.search(line), f"{path.name}, code cell {number}: {line.strip()!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_live_against_file_checks_are_executed_but_hidden(path):
    """The reader sees the measurement; the check that keeps the book honest runs in a cell the book removes."""
    for number, cell in enumerate(code_cells(path), start=1):
        source, tags = "".join(cell["source"]), cell.get("metadata", {}).get("tags", [])
        if "assert_within_seeds(" in source:
            assert HIDDEN_TAG in tags, f"{path.name}, code cell {number}: a live-against-file check is {HIDDEN_TAG}"
        if HIDDEN_TAG in tags:
            assert not cell["outputs"], f"{path.name}, code cell {number}: a hidden cell must show nothing"


def test_the_kernel_rule_finds_the_old_chapter_11_check():
    old = 'same_kernels = torch.backends.cpu.get_cpu_capability() == recorded["cpu_capability"]'
    assert KERNEL_DEPENDENT.search(old)
    assert not KERNEL_DEPENDENT.search('print(f"{result[\'cpu_capability\']:<8}")')
