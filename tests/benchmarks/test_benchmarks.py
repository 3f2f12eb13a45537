"""The benchmark command runs from a clean clone, and its memory measurement measures memory.

Timings are not asserted here (they belong to the benchmarks, not the test suite); the quick run
only proves that every benchmark and the table and JSON behind the scaling chapter work.
"""

import collections
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_benchmark_timing():
    spec = importlib.util.spec_from_file_location("benchmark_timing", BENCHMARKS / "timing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MEASURE_IN_A_FRESH_PROCESS = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import timing
kept = []
def allocate_and_free():
    block = np.ones(64 * 2**20, dtype=np.uint8)  # written to, so resident
    kept.append(int(block[-1]))
print(json.dumps([timing.peak_step_mib(allocate_and_free), timing.peak_step_mib(lambda: None)]))
"""


def test_peak_step_memory_sees_a_step_that_allocates_64_mib():
    """Measured in a fresh process with large blocks mmapped, as ``run_all.py`` measures.

    In a long-lived test worker the allocator may hand the step memory that an earlier test freed
    and that is still resident, and the step then adds nothing (a CI run measured 0.0 MiB).
    """
    completed = subprocess.run([sys.executable, "-c", MEASURE_IN_A_FRESH_PROCESS, str(BENCHMARKS)],
                               capture_output=True, text=True, timeout=120,
                               env={**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"})
    assert completed.returncode == 0, completed.stderr
    allocating, idle = json.loads(completed.stdout)
    assert 60 < allocating < 80
    assert idle < 4


def test_run_all_quick_writes_every_ratio_and_memory(tmp_path):
    out = tmp_path / "benchmarks.json"
    completed = subprocess.run([sys.executable, str(BENCHMARKS / "run_all.py"), "--quick", "--no-compiled",
                                "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "NumPy LSTM fwd+bwd" in completed.stdout and "ours, hand-written backward step" in completed.stdout
    record = json.loads(out.read_text())
    assert record["command"].endswith("--quick") and record["machine"]["threads"] == 1
    results = record["results"]
    assert set(results) == {"numpy_lstm_vs_torch", "torch_lstm_vs_nn_lstm", "language_model_throughput"}
    for result in results.values():
        assert result["speed_ratio"] > 0
        assert set(result["peak_step_mib"]) == set(result["variants"])
    assert set(results["torch_lstm_vs_nn_lstm"]["variants"]) == {
        "nn.LSTM", "ours, hand-written backward", "ours, autograd backward"}
    assert record["targets"] == {"numpy_lstm_vs_torch": "time/floor <= 1.3", "torch_lstm_vs_nn_lstm": "ratio >= 0.8"}
    assert "time/floor" in record["table"][1] and "floor ms" in record["table"][1]
    for name in ("numpy_lstm_vs_torch", "torch_lstm_vs_nn_lstm"):
        check_floor_columns(name, results[name])


def check_floor_columns(name, result):
    """Each timed variant has its floor, time / floor and share above the floor, consistent with its time."""
    times = result.get("median_ms") or {variant: result[f"{variant}_ms"] for variant in result["variants"]}
    for column in ("floor_ms", "time_over_floor", "share_above_floor"):
        assert set(result[column]) == set(result["variants"]), (name, column)
    for variant, floor in result["floor_ms"].items():
        ratio = result["time_over_floor"][variant]
        assert floor > 0 and ratio == pytest.approx(times[variant] / floor, rel=0.05), (name, variant)
        assert result["share_above_floor"][variant] == pytest.approx(1 - 1 / ratio, abs=2e-3), (name, variant)


def test_an_unknown_variant_is_a_clear_error():
    completed = subprocess.run([sys.executable, str(BENCHMARKS / "torch_lstm_vs_nn_lstm.py"), "--memory-of", "cudnn",
                                "--steps", "2", "--hidden", "4", "--input", "2", "--batch", "1"],
                               capture_output=True, text=True, cwd=BENCHMARKS)
    assert completed.returncode == 1
    assert "--memory-of: expected one of 'nn.LSTM', 'ours, hand-written backward'" in completed.stderr
    assert "got 'cudnn'" in completed.stderr


def load_floors():
    spec = importlib.util.spec_from_file_location("benchmark_floors", BENCHMARKS / "floors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def matrix_products(step) -> collections.Counter:
    """The matrix products one call of ``step`` runs, by PyTorch's profiler: (operation, operand shapes) -> count."""
    step()  # the first call may differ (gradients allocated)
    with torch.profiler.profile(record_shapes=True) as profile:
        step()
    return collections.Counter((event.name, str(event.input_shapes[:3])) for event in profile.events()
                               if event.name in ("aten::mm", "aten::addmm", "aten::bmm"))


def test_the_pytorch_floors_run_exactly_the_products_of_our_lstm():
    """The floor is the implementation's own matrix products: same operations, shapes and count."""
    from lstm_course.models.torch_lstm import LSTM
    from lstm_course.training.timing import training_step

    floors = load_floors()
    steps, batch, input_size, hidden_size = 5, 3, 2, 4
    x = torch.randn(steps, batch, input_size)
    for by_autograd in (False, True):
        model = LSTM(input_size, hidden_size, hand_written_backward=not by_autograd)
        ours = matrix_products(training_step(model, x))
        floor = matrix_products(floors.torch_products(steps, batch, input_size, hidden_size, by_autograd=by_autograd))
        assert sum(ours.values()) > 2 * steps and floor == ours, ("autograd" if by_autograd else "hand-written")
