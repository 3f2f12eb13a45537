"""The course's Jupyter Book: its table of contents, and building it with warnings as errors.

Used by the student edition (:mod:`lstm_instructor.student_edition`) and by the tests that build the
book, check its table of contents, or open its pages in a browser.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml


def toc_files(entries: list[dict]) -> Iterator[str]:
    """Every ``file`` of ``_toc.yml`` entries, depth first, in reading order (without suffixes)."""
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        for key in ("parts", "chapters", "sections"):
            yield from toc_files(entry.get(key, []))


def toc_pages(book_dir: Path) -> list[str]:
    """The book's pages in reading order, as ``_toc.yml`` lists them, root first."""
    toc = yaml.safe_load((Path(book_dir) / "_toc.yml").read_text())
    return [toc["root"], *toc_files(toc.get("parts", []) + toc.get("chapters", []))]


def build_book(book_dir: Path, path_output: Path | None = None, timeout: float = 900,
               config: Path | None = None) -> Path:
    """``jupyter-book build BOOK_DIR -W --keep-going``; return the HTML folder. Raises, with the log's tail, on failure.

    ``path_output``: where ``_build`` goes (default: inside ``book_dir``); ``config``: a
    ``_config.yml`` to use instead of the book's own.
    """
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book) if jupyter_book.exists() else "jupyter-book", "build", str(book_dir), "-W",
               "--keep-going"]
    if path_output is not None:
        command += ["--path-output", str(path_output)]
    if config is not None:
        command += ["--config", str(config)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if completed.returncode != 0:
        raise RuntimeError(f"the book in {book_dir} did not build (exit {completed.returncode}):\n"
                           f"{completed.stdout[-3000:]}{completed.stderr[-3000:]}")
    return Path(path_output or book_dir) / "_build" / "html"
