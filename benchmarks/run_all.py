"""Run every benchmark, print one table of ratios measured in this run, and write them as JSON.

    .venv/bin/python benchmarks/run_all.py [--threads 1] [--out results/benchmarks.json]

Each benchmark runs in its own process (so its peak memory is its own; ``ru_maxrss`` of that
process, PyTorch's import included), times its variants interleaved and reports medians and the
speed ratio against its baseline, ``torch.nn.LSTM``, timed in the same process:

* ``numpy_lstm_vs_torch``: the NumPy LSTM's forward+backward (target at least 0.75x);
* ``torch_lstm_vs_nn_lstm``: our PyTorch LSTM's training step, hand-written backward and autograd
  (target at least 0.7x);
* ``language_model_throughput``: characters per second of a language-model training step with each.

The JSON (machine, thread count, every benchmark's own JSON line and peak memory) is what the
scaling chapter reads.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("numpy_lstm_vs_torch", "torch_lstm_vs_nn_lstm", "language_model_throughput")
TARGETS = {"numpy_lstm_vs_torch": 0.75, "torch_lstm_vs_nn_lstm": 0.7}


def run(name: str, threads: int) -> dict:
    """Run ``benchmarks/NAME.py`` in a child process; its JSON line plus its peak memory in MiB."""
    arguments = ["--threads", str(threads)]
    environment = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                       MKL_NUM_THREADS=str(threads))
    print(f"running {name} ...", file=sys.stderr, flush=True)
    process = subprocess.Popen([sys.executable, str(HERE / f"{name}.py"), *arguments], cwd=HERE,
                               stdout=subprocess.PIPE, text=True, env=environment)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{name} failed with exit status {os.waitstatus_to_exitcode(status)}")
    result = json.loads(output.strip().splitlines()[-1])
    result["peak_memory_mib"] = round(usage.ru_maxrss / 1024, 1)  # Linux reports KiB
    result["report"] = output.strip().splitlines()[:-1]
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads per benchmark (default 1)")
    parser.add_argument("--out", type=Path, default=HERE.parent / "results" / "benchmarks.json")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = {name: run(name, args.threads) for name in BENCHMARKS}
    machine = {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
               "threads": args.threads, "python": platform.python_version(), "torch": torch.__version__,
               "device": "cpu"}
    numpy_result, torch_result, lm_result = (results[name] for name in BENCHMARKS)
    rows = [
        ("NumPy LSTM fwd+bwd", "nn.LSTM", numpy_result["speed_ratio"], TARGETS["numpy_lstm_vs_torch"],
         numpy_result["peak_memory_mib"]),
        ("our LSTM step, hand-written bwd", "nn.LSTM", torch_result["speed_ratio"], TARGETS["torch_lstm_vs_nn_lstm"],
         torch_result["peak_memory_mib"]),
        ("our LSTM step, autograd bwd", "nn.LSTM", torch_result["speed_ratio_autograd"], None,
         torch_result["peak_memory_mib"]),
        ("LM training chars/s, ours", "nn.LSTM", lm_result["speed_ratio"], None, lm_result["peak_memory_mib"]),
    ]
    print(f"machine: {machine['processor']}, {machine['cpus']} CPUs, {args.threads} thread(s), "
          f"torch {machine['torch']}")
    print(f"{'benchmark':<34} {'baseline':<9} {'ratio':>6} {'target':>7} {'peak MiB':>9}")
    for name, baseline, ratio, target, memory in rows:
        target_text = f">={target:.2f}" if target else ""
        print(f"{name:<34} {baseline:<9} {ratio:5.2f}x {target_text:>7} {memory:9.0f}")
    speeds = lm_result["characters_per_second"]
    print(f"language model: nn.LSTM {speeds['torch']:,} chars/s, ours {speeds['ours']:,} chars/s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {"command": "python benchmarks/run_all.py --threads " + str(args.threads), "machine": machine,
              "seconds": round(time.perf_counter() - start, 1), "results": results}
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
