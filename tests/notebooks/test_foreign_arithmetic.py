"""The fast chapters' compared outputs hold under another CPU's arithmetic.

Compared outputs must not depend on the last bits of a floating-point sum, and those differ from one
CPU to another: not only between instruction sets (AVX-512 and AVX2 kernels sum a matrix product in
different orders) but between vendors and models with the same one, because MKL, oneDNN and OpenBLAS
choose their code paths by CPU model. Switching the instruction set alone leaves ``nn.LSTM`` and
PyTorch's matrix products bit-identical on some CPUs, so this test re-runs chapters 1 to 7 under nbval
with :data:`lstm_course.plumbing.runtime.FOREIGN_ARITHMETIC` (PyTorch's generic kernels, MKL's compatible path,
OpenBLAS's SSE4.2 kernels, oneDNN held to SSE4.1), after checking that it changes the last bits
of ``nn.LSTM``'s and NumPy's results here. The whole suite runs the same notebooks with the native
kernels, so a change that prints rounding noise fails on any machine. This file runs half of the
chapters, ``test_foreign_arithmetic_second_half.py`` the other (``foreign_arithmetic.py``).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch
from foreign_arithmetic import FAST_CHAPTERS, ROOT, assert_nbval_passes_under_foreign_arithmetic, fast_chapter_halves

from lstm_course.plumbing.runtime import FOREIGN_ARITHMETIC, INSTRUCTION_SET_BELOW

REPORT = ("import hashlib, json, numpy, threadpoolctl, torch\n"
          "info = threadpoolctl.threadpool_info()\n"
          "openblas = [p.get('architecture') for p in info if p['internal_api'] == 'openblas']\n"
          "torch.manual_seed(0)\n"
          "lstm, x = torch.nn.LSTM(64, 128), torch.randn(50, 8, 64)\n"
          "output = lstm(x)[0]\n"
          "output.sum().backward()\n"
          "a = numpy.random.default_rng(0).standard_normal((300, 300))\n"
          "digest = lambda *arrays: hashlib.sha256(b''.join(array.tobytes() for array in arrays)).hexdigest()\n"
          "print(json.dumps({'torch': torch.backends.cpu.get_cpu_capability(), 'openblas': openblas,\n"
          "                  'lstm': digest(output.detach().numpy(), lstm.weight_hh_l0.grad.numpy()),\n"
          "                  'numpy': digest(a @ a)}))")


def report(environment: dict[str, str]) -> dict:
    completed = subprocess.run([sys.executable, "-c", REPORT], env=os.environ | environment, capture_output=True,
                               text=True, check=True)
    return json.loads(completed.stdout)


def test_the_foreign_arithmetic_takes_effect_and_changes_the_last_bits():
    native, foreign = report({}), report(FOREIGN_ARITHMETIC)
    assert foreign["torch"] == "DEFAULT", foreign
    assert foreign["openblas"] == ["Nehalem"] != native["openblas"], (native, foreign)
    assert foreign["lstm"] != native["lstm"], "nn.LSTM's forward and backward are bit-identical: no second arithmetic"
    assert foreign["numpy"] != native["numpy"], "NumPy's matrix product is bit-identical: no second arithmetic"


def test_the_halves_hold_the_seven_fast_chapters():
    first, second = fast_chapter_halves()
    assert len(FAST_CHAPTERS) == 7 and sorted(first + second) == FAST_CHAPTERS


@pytest.mark.parametrize("path", fast_chapter_halves()[0], ids=lambda path: path.stem)
def test_fast_chapter_passes_nbval_under_foreign_arithmetic(path):
    assert_nbval_passes_under_foreign_arithmetic([path])


def second_instruction_set() -> dict[str, str]:
    native = torch.backends.cpu.get_cpu_capability()
    assert native in INSTRUCTION_SET_BELOW, f"no second instruction set chosen for PyTorch's {native!r} kernels"
    return INSTRUCTION_SET_BELOW[native]


def test_the_compiled_cell_stays_right_when_the_instruction_set_changes(tmp_path):
    """PyTorch's compile cache does not key kernels by instruction set; ours keeps one cache per set.

    Without that, the compiled cell run with AVX2 kernels after a run with AVX-512 ones reused the
    cached AVX-512 kernels and differed from nn.LSTM by 0.2. Both runs inherit a cache folder that a
    parent chose natively, as a child process of a course process would; each must choose its own.
    """
    environment, _ = second_instruction_set()
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q",
               "tests/models/test_torch_lstm.py::test_the_compiled_cell_matches_nn_lstm"]
    native_folder = str(tmp_path / "torchinductor_chosen_natively")
    inherited = {"TORCHINDUCTOR_CACHE_DIR": native_folder, "LSTM_COURSE_COMPILE_CACHE": native_folder}
    # The native run chooses its folder in the usual temporary folder, where the suite's own compiled-cell
    # test keeps its kernels (one compilation saved); the switched run chooses its own under tmp_path.
    for switch in ({}, environment | {"TMPDIR": str(tmp_path)}):
        completed = subprocess.run(command, cwd=ROOT, env=os.environ | inherited | switch, capture_output=True,
                                   text=True)
        assert completed.returncode == 0, (switch, completed.stdout[-3000:])
    native = torch.backends.cpu.get_cpu_capability().lower()
    assert any(Path(tempfile.gettempdir()).glob(f"torchinductor_*_{native}")), native
    caches = {path.name.rsplit("_", 1)[-1] for path in tmp_path.glob("torchinductor_*_*")}
    assert second_instruction_set()[1].lower() in caches and not Path(native_folder).exists(), caches
