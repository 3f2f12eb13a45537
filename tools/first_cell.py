"""Write the set-up cell that opens every chapter, so a notebook opened alone finds its package.

    .venv/bin/python tools/first_cell.py          (re-execute the notebooks afterwards: make execute)

A chapter notebook imports the course's package ``lstm_course``. Opened from a clone after
``make``, the package is installed; downloaded from the book, or opened in Colab or Binder, it may
not be. The first code cell of every chapter is therefore :data:`SOURCE`, the same everywhere,
written here and checked by ``tests/notebooks/test_notebooks.py``. It

* imports nothing from the course when the package is installed, and says so;
* otherwise looks for the course folder (a folder holding ``lstm_course/``) in the working
  directory and its parents, puts it on ``sys.path`` and says so;
* otherwise, if the book's ``_config.yml`` names the course's public repository
  (``repository.url``), installs the package from it with pip (``--no-deps``, so that a hosted
  notebook's own PyTorch is kept) and says so;
* otherwise stops with an error that says what to do, instead of a ``ModuleNotFoundError`` later;
* and finally names any of the package's dependencies that are missing, with the command to add them.

The cell is tagged ``hide-input``: the book shows its one line of output, and its code on a click.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
TAG = "course-setup"

TEMPLATE = '''# Set-up (the same in every chapter): find the course's package, or install it, and say which.
import importlib.util
import subprocess
import sys
from pathlib import Path

COURSE_REPOSITORY = {repository!r}  # the course's public repository (_config.yml: repository.url)
REQUIRED = {required!r}  # lstm_course's dependencies (pyproject.toml)


def course_folder():
    """The nearest folder, from here upwards, that holds the package's source, or None."""
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / "lstm_course" / "__init__.py").is_file():
            return folder
    return None


if importlib.util.find_spec("lstm_course") is not None:
    print("lstm_course: installed in this Python environment")
elif course_folder() is not None:
    sys.path.insert(0, str(course_folder()))
    print(f"lstm_course: not installed; using the course folder {{course_folder()}}")
elif COURSE_REPOSITORY:
    print(f"lstm_course: not installed; installing it from {{COURSE_REPOSITORY}} ...")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", f"git+{{COURSE_REPOSITORY}}"],
                   check=True)
    print("lstm_course: installed")
else:
    raise ModuleNotFoundError(
        "this notebook needs the course's package lstm_course, which is neither installed in this Python "
        f"({{sys.executable}}) nor in a folder above this notebook. Open the notebook from a copy of the course, "
        "or install the package: in the course folder, run  pip install -r requirements.txt -e .")
missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
if missing:
    raise ModuleNotFoundError(f"lstm_course needs {{', '.join(missing)}}, not installed in this Python "
                              f"({{sys.executable}}): run  pip install {{' '.join(missing)}}  (or, in the course "
                              "folder,  pip install -r requirements.txt)")'''


def repository_url(book_dir: Path = ROOT) -> str:
    """``repository.url`` of the book's ``_config.yml``; empty while the course has no public repository."""
    config = yaml.safe_load((book_dir / "_config.yml").read_text())
    return (config.get("repository") or {}).get("url", "") or ""


def required_modules(book_dir: Path = ROOT) -> list[str]:
    """The import names of the package's dependencies in ``pyproject.toml``."""
    import tomllib

    project = tomllib.loads((book_dir / "pyproject.toml").read_text())["project"]
    return [re.match(r"[A-Za-z0-9_.-]+", requirement).group() for requirement in project["dependencies"]]


def source(book_dir: Path = ROOT) -> str:
    """The set-up cell, filled in from ``_config.yml`` and ``pyproject.toml``."""
    return TEMPLATE.format(repository=repository_url(book_dir), required=required_modules(book_dir))


def chapter_notebooks(book_dir: Path = ROOT) -> list[Path]:
    return sorted((book_dir / "chapters").glob("[0-9][0-9]_*.ipynb"))


def setup_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The notebook's set-up cell (tagged ``course-setup``), or None."""
    return next((cell for cell in notebook.cells if TAG in cell.metadata.get("tags", [])), None)


def stamp(path: Path, text: str) -> bool:
    """Make ``text`` the first code cell of the notebook at ``path``; return whether the file changed."""
    notebook = nbformat.read(path, as_version=4)
    cell = setup_cell(notebook)
    if cell is None:
        cell = nbformat.v4.new_code_cell(text, metadata={"tags": [TAG, "hide-input"]})
        first_code = next(index for index, other in enumerate(notebook.cells) if other.cell_type == "code")
        notebook.cells.insert(first_code, cell)
    elif cell.source == text:
        return False
    cell.source = text
    nbformat.write(notebook, path)
    return True


def main() -> None:
    text = source()
    changed = [path for path in chapter_notebooks() if stamp(path, text)]
    for path in changed:
        print(f"updated {path.relative_to(ROOT)}; re-execute it (make execute)", file=sys.stderr)
    if not changed:
        print("every chapter's set-up cell is current", file=sys.stderr)


if __name__ == "__main__":
    main()
