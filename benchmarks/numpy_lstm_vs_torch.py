"""The NumPy LSTM's forward+backward time as a ratio to ``torch.nn.LSTM``, measured in the same run.

    .venv/bin/python benchmarks/numpy_lstm_vs_torch.py [--steps 128 --batch 32 --input 64 --hidden 256]

Single thread, float32, one full forward and backward pass over the sequence (the gradient of
``sum(hs)``), repeated in interleaved order so that drifts in machine speed affect both alike.
The NumPy backward pass is chapter 6's exercise: this times the instructor's answer, read from the
instructor's chapter 6 (:mod:`lstm_course.reference_answers`); the student edition cannot run it.
Prints each one's median time and the speed ratio ``torch_time / numpy_time`` (1.0 = parity,
above 1 = NumPy faster). Target from the course issue: at least 0.75.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from lstm_course import reference_answers
from lstm_course.timing import training_step
from timing import interleaved_medians, report_step_memory, size_parser


CHAPTER_6 = Path(__file__).resolve().parents[1] / "chapters" / "06_lstm_from_scratch.ipynb"


def instructors_lstm_backward():
    """Chapter 6's reference ``lstm_backward(d_hs, x, h0, c0, W_ih, W_hh, b_ih, b_hh)``; exits if absent."""
    try:
        return reference_answers.load(CHAPTER_6)["lstm_backward"]
    except (ValueError, OSError) as error:
        sys.exit(f"error: this benchmark times the instructor's answer to chapter 6's lstm_backward exercise and "
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

    def numpy_step():  # its lstm_backward runs the forward pass itself, keeping what it needs
        lstm_backward(np.ones((T, B, H), dtype=np.float32), x, zeros, zeros, **params)

    workloads = {"numpy": numpy_step, "torch": training_step(reference, x_torch)}
    if args.memory_of:
        return report_step_memory(workloads, args.memory_of)
    medians = interleaved_medians(workloads, args.repetitions)
    numpy_ms, torch_ms = 1e3 * medians["numpy"], 1e3 * medians["torch"]
    print(f"machine: {platform.processor() or platform.machine()}, {args.threads} thread(s), float32, "
          f"T={T} B={B} D={D} H={H}")
    print(f"torch.nn.LSTM forward+backward: {torch_ms:8.1f} ms (median of {args.repetitions})")
    print(f"NumPy LSTM    forward+backward: {numpy_ms:8.1f} ms")
    print(f"speed ratio (nn.LSTM time / NumPy time): {torch_ms / numpy_ms:.2f}x   target >= 0.75x")
    print(json.dumps({"benchmark": "numpy_lstm_vs_torch", "numpy_ms": round(numpy_ms, 2),
                      "torch_ms": round(torch_ms, 2), "speed_ratio": round(torch_ms / numpy_ms, 3),
                      "variants": list(workloads)}))


if __name__ == "__main__":
    main()
