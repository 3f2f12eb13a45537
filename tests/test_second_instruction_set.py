"""The fast chapters' compared outputs hold under a second instruction set.

Compared outputs must not depend on the last bits of a floating-point sum, and those differ between
instruction sets: AVX-512 and AVX2 kernels sum a matrix product in different orders. This test
re-runs chapters 1 to 7 under nbval with PyTorch's, MKL's and OpenBLAS's kernels switched one
instruction set down from what this CPU uses (AVX-512 to AVX2; AVX2 to AVX), after checking that
the switch takes effect. The whole suite runs the same notebooks with the native kernels, so a
change that prints rounding noise fails on any machine.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
FAST_CHAPTERS = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "chapters").glob("0[1-7]_*.ipynb"))
# PyTorch's native capability -> (the environment that selects the next set down, what PyTorch then reports)
SWITCH_DOWN = {
    "AVX512": ({"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OPENBLAS_CORETYPE": "Haswell"},
               "AVX2"),
    "AVX2": ({"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "AVX", "OPENBLAS_CORETYPE": "Sandybridge"},
             "DEFAULT"),
}
REPORT = ("import json, torch, numpy, threadpoolctl\n"
          "info = threadpoolctl.threadpool_info()\n"
          "openblas = [p.get('architecture') for p in info if p['internal_api'] == 'openblas']\n"
          "print(json.dumps({'torch': torch.backends.cpu.get_cpu_capability(), 'openblas': openblas}))")


def second_instruction_set() -> dict[str, str]:
    native = torch.backends.cpu.get_cpu_capability()
    assert native in SWITCH_DOWN, f"no second instruction set chosen for PyTorch's {native!r} kernels"
    return SWITCH_DOWN[native]


def test_the_switch_takes_effect():
    environment, expected = second_instruction_set()
    completed = subprocess.run([sys.executable, "-c", REPORT], env=os.environ | environment, capture_output=True,
                               text=True, check=True)
    kernels = json.loads(completed.stdout)
    assert kernels["torch"] == expected
    assert kernels["openblas"] == [environment["OPENBLAS_CORETYPE"]], kernels


def test_fast_chapters_pass_nbval_under_the_second_instruction_set():
    environment, _ = second_instruction_set()
    assert len(FAST_CHAPTERS) == 7
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q", "--nbval",
         "--nbval-current-env", "--nbval-sanitize-with", "tests/sanitize.cfg", *FAST_CHAPTERS],
        cwd=ROOT, env=os.environ | environment, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-6000:]
