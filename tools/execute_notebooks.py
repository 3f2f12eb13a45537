"""Re-execute the course notebooks in place, deterministically, and normalise their metadata.

    .venv/bin/python tools/execute_notebooks.py [NOTEBOOK ...]     (or: make execute)

Each notebook runs top to bottom in a fresh kernel from this environment, single-threaded
(OMP/BLAS and torch) and with a fixed hash seed; the notebooks seed their own generators.
Afterwards the notebook metadata is reduced to what does not depend on the machine (kernel name,
language), cell timing metadata is dropped, and cell ids are made sequential, so ``git diff``
shows only real changes. Each notebook's wall time is written to ``tools/execution_times.json``,
and the table of all of them to ``course/_execution_times.md``, which the book's page on running
the course includes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TIMES_FILE = ROOT / "tools" / "execution_times.json"
TIMES_TABLE = ROOT / "course" / "_execution_times.md"  # included by course/running_locally.md
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}


def normalise(notebook: nbformat.NotebookNode) -> None:
    """Keep only machine-independent metadata, and number cell ids in order."""
    notebook.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    for number, cell in enumerate(notebook.cells, start=1):
        cell.id = f"cell-{number:03d}"
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)


def describe_diagrams(notebook: nbformat.NotebookNode) -> None:
    """Give each diagram (a cell whose image has class ``diagram``) its alt text: the diagram's own description.

    A :class:`lstm_course.pictures.diagrams.Diagram`'s plain-text output is its alt text; the book reads alt
    text from the cell's ``mystnb.image.alt``, so it is copied there after every execution.
    """
    for cell in notebook.cells:
        image = cell.metadata.get("mystnb", {}).get("image", {})
        if cell.cell_type != "code" or "diagram" not in str(image.get("classes", "")).split():
            continue
        texts = [output["data"]["text/plain"] for output in cell.outputs
                 if "data" in output and "image/png" in output["data"]]
        if len(texts) != 1:
            raise RuntimeError(f"cell {cell.id}: a diagram cell must show exactly one image, found {len(texts)}")
        image["alt"] = texts[0]


def execute(path: Path, timeout: int) -> float:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    normalise(notebook)
    describe_diagrams(notebook)
    temporary = path.with_suffix(".ipynb.tmp")
    nbformat.write(notebook, temporary)
    temporary.replace(path)  # atomic: an interrupt never leaves a half-written notebook
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapters/*.ipynb and course/*.ipynb")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    args = parser.parse_args(argv)

    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    os.environ["PYTHONHASHSEED"] = "0"

    paths = [p.resolve() for p in args.notebooks] or sorted(
        path for folder in ("chapters", "course") for path in (ROOT / folder).glob("*.ipynb"))
    measured = {}
    for path in paths:
        print(f"executing {path.relative_to(ROOT)} ...", end=" ", flush=True)
        seconds = execute(path, args.timeout)
        print(f"{seconds:.1f} s")
        measured[path.relative_to(ROOT).as_posix()] = round(seconds, 1)
    # Read the file only now: another run of this command, on other notebooks, may have updated it meanwhile.
    times = (json.loads(TIMES_FILE.read_text()) if TIMES_FILE.exists() else {}) | measured
    TIMES_FILE.write_text(json.dumps(dict(sorted(times.items())), indent=2) + "\n")
    TIMES_TABLE.write_text(times_table(times))
    return 0


def times_table(times: dict[str, float]) -> str:
    """A Markdown table: each notebook's title, file and last execution time, one thread, this machine."""
    rows = ["| notebook | file | execution time |", "|---|---|---|"]
    for name, seconds in sorted(times.items()):
        path = ROOT / name
        if not path.exists():
            continue
        first = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
        title = first.lstrip("# ").strip()
        duration = f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
        rows.append(f"| {title} | `{name}` | {duration} |")
    total = sum(seconds for name, seconds in times.items() if (ROOT / name).exists())
    rows.append(f"| **all notebooks, one after another** | | **{total / 60:.0f} min** |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.exit(main())
