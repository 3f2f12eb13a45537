"""The NumPy LSTM's forward+backward time as a ratio to ``torch.nn.LSTM``, measured in the same run.

    .venv/bin/python benchmarks/numpy_lstm_vs_torch.py [--steps 128 --batch 32 --input 64 --hidden 256]

Single thread, float32, one full forward and backward pass over the sequence (the gradient of
``sum(hs)``), repeated in interleaved order so that drifts in machine speed affect both alike.
Prints each one's median time and the speed ratio ``torch_time / numpy_time`` (1.0 = parity,
above 1 = NumPy faster). Target from the course issue: at least 0.75.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from lstm_course import numpy_lstm


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--input", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--repetitions", type=int, default=7)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    threadpool_limits(1)

    T, B, D, H = args.steps, args.batch, args.input, args.hidden
    torch.manual_seed(0)
    reference = torch.nn.LSTM(D, H)
    params = {name: getattr(reference, torch_name).detach().numpy().copy() for name, torch_name in
              dict(W_ih="weight_ih_l0", W_hh="weight_hh_l0", b_ih="bias_ih_l0", b_hh="bias_hh_l0").items()}
    x = np.random.default_rng(0).normal(size=(T, B, D)).astype(np.float32)
    zeros = np.zeros((B, H), dtype=np.float32)
    x_torch = torch.from_numpy(x)

    def numpy_step():
        hs, _, cache = numpy_lstm.lstm_forward(x, zeros, zeros, **params)
        numpy_lstm.lstm_backward(np.ones_like(hs), cache)

    def torch_step():
        reference.zero_grad()
        output, _ = reference(x_torch)
        output.sum().backward()

    timings = {"numpy": [], "torch": []}
    for _ in range(2):  # warm-up
        numpy_step()
        torch_step()
    for _ in range(args.repetitions):
        for name, step in (("numpy", numpy_step), ("torch", torch_step)):
            start = time.perf_counter()
            step()
            timings[name].append(time.perf_counter() - start)

    numpy_ms, torch_ms = (1e3 * float(np.median(timings[name])) for name in ("numpy", "torch"))
    print(f"machine: {platform.processor() or platform.machine()}, 1 thread, float32, T={T} B={B} D={D} H={H}")
    print(f"torch.nn.LSTM forward+backward: {torch_ms:8.1f} ms (median of {args.repetitions})")
    print(f"NumPy LSTM    forward+backward: {numpy_ms:8.1f} ms")
    print(f"speed ratio (nn.LSTM time / NumPy time): {torch_ms / numpy_ms:.2f}x   target >= 0.75x")
    print(json.dumps({"benchmark": "numpy_lstm_vs_torch", "numpy_ms": round(numpy_ms, 2),
                      "torch_ms": round(torch_ms, 2), "speed_ratio": round(torch_ms / numpy_ms, 3)}))


if __name__ == "__main__":
    main()
