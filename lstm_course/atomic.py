"""Writing a file so that an interrupt never leaves it half-written: temporary file, fsync, rename.

Checkpoints (:mod:`lstm_course.checkpoint`) and ``grades.csv`` (:mod:`lstm_course.grading`) are
things a user cannot afford to lose, so both are written through :func:`atomic_write`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_write(path, mode: str = "wb", **open_arguments) -> Iterator:
    """Yield a file opened on a temporary name beside ``path``; on success, flush, fsync and rename it to ``path``.

    On any exception (Ctrl-C included) the temporary file is removed and ``path`` keeps its old content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, mode, **open_arguments) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
