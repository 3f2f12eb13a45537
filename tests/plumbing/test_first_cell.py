"""Every chapter opens with the same set-up cell, and that cell finds, installs or explains the package.

The cell's three ways are run for real, each in a Python that lacks the package: from inside the
course folder (found there), from elsewhere with no repository (a clear error), and with a
repository to install from (this clone, through ``git+file://``).
"""

import importlib.util
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_first_cell_tool():
    spec = importlib.util.spec_from_file_location("first_cell", ROOT / "tools" / "first_cell.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIRST_CELL = load_first_cell_tool()


@pytest.mark.parametrize("path", FIRST_CELL.chapter_notebooks(), ids=lambda p: p.name)
def test_every_chapter_opens_with_the_current_set_up_cell(path):
    notebook = nbformat.read(path, as_version=4)
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert FIRST_CELL.TAG in first_code.metadata.get("tags", []), f"{path.name}: run tools/first_cell.py"
    assert first_code.source == FIRST_CELL.source(), f"{path.name}: set-up cell is stale; run tools/first_cell.py"
    assert "hide-input" in first_code.metadata["tags"]


def test_the_required_modules_are_the_package_dependencies():
    assert FIRST_CELL.required_modules() == ["numpy", "torch", "matplotlib", "threadpoolctl", "tqdm"]


def run_cell(python, cwd, repository=""):
    cell = FIRST_CELL.TEMPLATE.format(repository=repository, required=FIRST_CELL.required_modules())
    return subprocess.run([*python, "-c", cell], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_installed_package_is_reported(tmp_path):
    completed = run_cell([sys.executable], tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "lstm_course: installed in this Python environment\n"


def test_inside_the_course_folder_the_package_is_found_and_missing_dependencies_are_named():
    # -S: no site-packages, so neither lstm_course nor numpy nor torch is importable.
    completed = run_cell([sys.executable, "-S"], ROOT / "chapters")
    assert f"using the course folder {ROOT}" in completed.stdout
    assert completed.returncode == 1
    last_line = completed.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ModuleNotFoundError: lstm_course needs numpy, torch, matplotlib, threadpoolctl, tqdm")
    assert "pip install numpy torch matplotlib threadpoolctl tqdm" in last_line


def test_elsewhere_without_a_repository_the_error_says_what_to_do(tmp_path):
    completed = run_cell([sys.executable, "-S"], tmp_path)
    assert completed.returncode == 1 and completed.stdout == ""
    last_line = completed.stderr.strip().splitlines()[-1]
    assert "needs the course's package lstm_course, which is neither installed" in last_line
    assert "pip install -r requirements.txt -e ." in last_line


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="needs this git clone")
def test_with_a_repository_the_package_is_installed_from_it(tmp_path):
    environment = tmp_path / "bare"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    completed = run_cell([str(python)], tmp_path, repository=f"file://{ROOT}")
    assert "installing it from file://" in completed.stdout and "lstm_course: installed\n" in completed.stdout
    assert "lstm_course needs numpy" in completed.stderr  # a bare environment: the dependencies are named
    check = subprocess.run([str(python), "-c", "import importlib.util as u; print(u.find_spec('lstm_course').origin)"],
                           cwd=tmp_path, capture_output=True, text=True)
    assert check.returncode == 0 and "site-packages" in check.stdout
