"""The set-up accepts any build of the pinned PyTorch: PyPI's CUDA build, or PyTorch's own CPU-only one.

A Linux reader without a GPU installs ``torch==2.13.0+cpu`` from PyTorch's index first
(``make test TORCH_INDEX=https://download.pytorch.org/whl/cpu``, README "What PyTorch you download");
``pip install -r requirements.txt`` must then keep it rather than fetch the CUDA build from PyPI.
pip is asked here, offline, with each build faked as an installed distribution.
"""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TORCH_PIN = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("torch=="))


def test_requirements_and_the_package_pin_the_same_torch():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert [d for d in dependencies if d.startswith("torch")] == [TORCH_PIN]
    assert re.fullmatch(r"torch==\d+\.\d+\.\d+", TORCH_PIN)  # no local label: every build of it satisfies it


def pip_keeps(installed_version: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """pip's answer to the pin, with ``torch`` ``installed_version`` first on the path (nothing downloaded)."""
    metadata = tmp_path / f"torch-{installed_version}.dist-info"
    metadata.mkdir()
    (metadata / "METADATA").write_text(f"Metadata-Version: 2.1\nName: torch\nVersion: {installed_version}\n")
    (metadata / "RECORD").write_text("")
    return subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--no-deps", "--isolated",
                           TORCH_PIN], env=os.environ | {"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True)


@pytest.mark.parametrize("build", ["+cpu", "+cu130", ""])
def test_the_pin_keeps_a_cpu_or_cuda_build_already_installed(build, tmp_path):
    version = TORCH_PIN.removeprefix("torch==") + build
    completed = pip_keeps(version, tmp_path)
    assert completed.returncode == 0 and f"Requirement already satisfied: {TORCH_PIN}" in completed.stdout, (
        completed.stdout + completed.stderr)
    assert f"({version})" in completed.stdout


def test_another_release_does_not_satisfy_the_pin(tmp_path):
    assert pip_keeps("2.14.1+cpu", tmp_path).returncode != 0  # pip would have to download: refused offline


def make_dry_run(*arguments: str) -> str:
    """What ``make -n`` would run for a fresh environment (MAKEFLAGS of a calling ``make test`` left out)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("MAKE")}
    return subprocess.run(["make", "-n", "-W", "requirements.txt", "venv", *arguments], cwd=ROOT, env=environment,
                          capture_output=True, text=True, check=True).stdout


def test_the_makefile_installs_from_the_torch_index_it_is_given():
    dry_run = make_dry_run("TORCH_INDEX=https://example.org/whl/cpu")
    lines = dry_run.splitlines()
    first = next(i for i, line in enumerate(lines) if "--index-url https://example.org/whl/cpu" in line)
    assert f'"{TORCH_PIN}"' in lines[first]
    assert first < next(i for i, line in enumerate(lines) if "-r requirements.txt" in line)  # before the rest
    assert "--index-url" not in make_dry_run()
