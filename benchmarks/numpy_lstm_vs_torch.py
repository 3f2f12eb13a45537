"""The NumPy LSTM's forward+backward time, against its matrix-product floor and ``torch.nn.LSTM``, same run.

    .venv/bin/python benchmarks/numpy_lstm_vs_torch.py [--steps 128 --batch 32 --input 64 --hidden 256]

Single thread, float32, one full forward and backward pass over the sequence (the gradient of
``sum(hs)``), repeated in interleaved order so that drifts in machine speed affect all alike.
The NumPy LSTM is the package's fast ``numpy_lstm.lstm_forward`` and, on its cache, the instructor's
answer to chapter 6's ``lstm_backward_fast`` exercise, read from the instructor's chapter 6
(:mod:`lstm_instructor.reference_answers`); the student edition cannot run it. (Chapter 6's plain
``lstm_backward``, the loop over ``lstm_step_backward``, is the reference answer students meet first;
this benchmark times the fast one.)

Timed in the same interleaved rounds: each one's matrix-product floor (``floors.py``), its matrix
products done alone in its own library: NumPy's BLAS (OpenBLAS in the wheels from PyPI) for the NumPy
LSTM, PyTorch's (MKL in its x86 wheels) for ``nn.LSTM``, which itself runs oneDNN's LSTM kernel on a
CPU. Prints each one's median time, its floor, time / floor and the share of its time above the
floor, then the speed ratio ``torch_time / numpy_time`` (1.0 = parity, above 1 = NumPy faster) and
how fast each library ran the same products. The two libraries need not be equally fast, so no
NumPy code is sure to reach ``nn.LSTM``; the target, from the course issue, is on what the NumPy
code adds: its time at most 1.3x its own floor. The last line is JSON.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from floors import floor_gflop, numpy_products, torch_products
from lstm_course.scratch import numpy_lstm
from lstm_instructor import reference_answers
from lstm_course.training.timing import training_step
from timing import floor_columns, interleaved_medians, report_step_memory, size_parser


CHAPTER_6 = Path(__file__).resolve().parents[1] / "chapters" / "06_lstm_from_scratch.ipynb"
TARGET_TIME_OVER_FLOOR = 1.3
"""The course issue's target: the NumPy LSTM's time at most this multiple of its matrix-product floor."""


def instructors_lstm_backward():
    """Chapter 6's reference ``lstm_backward_fast(d_hs, cache)`` for ``numpy_lstm.lstm_forward``; exits if absent."""
    try:
        return reference_answers.load(CHAPTER_6)["lstm_backward_fast"]
    except (ValueError, OSError) as error:
        sys.exit(f"error: this benchmark times the instructor's answer to chapter 6's lstm_backward_fast exercise and "
                 f"needs the instructor's {CHAPTER_6.name} ({error})")


def main(argv=None):
    args = size_parser(__doc__.splitlines()[0]).parse_args(argv)
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)

    T, B, D, H = args.steps, args.batch, args.input, args.hidden
    torch.manual_seed(0)
    reference = torch.nn.LSTM(D, H)
    params = {name: getattr(reference, torch_name).detach().numpy().copy() for name, torch_name in
              dict(W_ih="weight_ih_l0", W_hh="weight_hh_l0", b_ih="bias_ih_l0", b_hh="bias_hh_l0").items()}
    x = np.random.default_rng(0).normal(size=(T, B, D)).astype(np.float32)
    zeros = np.zeros((B, H), dtype=np.float32)
    x_torch = torch.from_numpy(x)
    lstm_backward = instructors_lstm_backward()

    d_hs = np.broadcast_to(np.float32(1), (T, B, H))  # the gradient of sum(hs): one value, as autograd passes it

    def numpy_step():  # the package's fast forward pass, then the backward pass on its cache
        _, _, cache = numpy_lstm.lstm_forward(x, zeros, zeros, **params)
        lstm_backward(d_hs, cache)

    workloads = {"numpy": numpy_step, "torch": training_step(reference, x_torch)}
    if args.memory_of:
        return report_step_memory(workloads, args.memory_of)
    floors = {"numpy floor": numpy_products(T, B, D, H), "torch floor": torch_products(T, B, D, H, input_gradient=True)}
    seconds = interleaved_medians(workloads | floors, args.repetitions)
    times = {name: 1e3 * seconds[name] for name in workloads}
    floor_times = {name: 1e3 * seconds[f"{name} floor"] for name in workloads}
    columns = floor_columns(times, floor_times)
    numpy_ms, torch_ms = times["numpy"], times["torch"]
    gflop = floor_gflop(T, B, D, H, input_gradient=True)
    print(f"machine: {platform.processor() or platform.machine()}, {args.threads} thread(s), float32, "
          f"T={T} B={B} D={D} H={H}, median of {args.repetitions}")
    print(f"{'forward+backward':<30} {'time':>8} {'floor':>11} {'time/floor':>10} {'above floor':>11}")
    for name, label in (("torch", "torch.nn.LSTM"), ("numpy", "NumPy LSTM")):
        print(f"{label:<30} {times[name]:5.1f} ms {floor_times[name]:8.1f} ms {columns['time_over_floor'][name]:9.2f}x "
              f"{columns['share_above_floor'][name]:10.0%}")
    print(f"target: NumPy time/floor <= {TARGET_TIME_OVER_FLOOR:.2f}x "
          f"({'met' if columns['time_over_floor']['numpy'] <= TARGET_TIME_OVER_FLOOR else 'not met'})")
    print(f"speed ratio (nn.LSTM time / NumPy time): {torch_ms / numpy_ms:.2f}x")
    print(f"the same {gflop:.1f} GFLOP of products: NumPy {gflop / floor_times['numpy'] * 1e3:.0f} GFLOP/s, "
          f"PyTorch {gflop / floor_times['torch'] * 1e3:.0f} GFLOP/s (nn.LSTM itself runs oneDNN's own products)")
    print(json.dumps({"benchmark": "numpy_lstm_vs_torch", "numpy_ms": round(numpy_ms, 2),
                      "torch_ms": round(torch_ms, 2), "speed_ratio": round(torch_ms / numpy_ms, 3),
                      **columns, "target_time_over_floor": TARGET_TIME_OVER_FLOOR, "variants": list(workloads)}))


if __name__ == "__main__":
    main()
