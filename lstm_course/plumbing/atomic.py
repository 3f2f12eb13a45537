"""Writing a file so that an interrupt never leaves it half-written: temporary file, fsync, rename.

Checkpoints (:mod:`lstm_course.training.checkpoint`) and ``grades.csv`` (:mod:`lstm_instructor.grading`) are
things a user cannot afford to lose, so both are written through :func:`atomic_write`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _permissions(path: Path) -> int:
    """The mode ``path`` has now, or that a new file gets under the process's umask (0644 under 022)."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextmanager
def atomic_write(path, mode: str = "wb", **open_arguments) -> Iterator:
    """Yield a file opened on a temporary name beside ``path``; on success, flush, fsync and rename it to ``path``.

    On any exception (Ctrl-C included) the temporary file is removed and ``path`` keeps its old content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temporary, _permissions(path))  # mkstemp makes 0600; a user's file follows their umask
        with os.fdopen(descriptor, mode, **open_arguments) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:  # a full disk, say: name the file the user asked for
        Path(temporary).unlink(missing_ok=True)
        raise OSError(error.errno, f"{path}: not written ({error.strerror or error}); its previous "
                      "content, if any, is unchanged") from error
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
