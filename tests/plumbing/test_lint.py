"""ruff over the package, tests, tools, benchmarks and the notebooks (settings in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_passes():
    ruff = Path(sys.executable).with_name("ruff")
    completed = subprocess.run([str(ruff), "check", "--no-cache", "--output-format", "concise", str(ROOT)],
                               capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr
