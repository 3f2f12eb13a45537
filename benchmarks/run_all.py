"""Run every benchmark, print one table of ratios measured in this run, and write them as JSON.

    .venv/bin/python benchmarks/run_all.py [--threads 1] [--no-compiled] [--out results/benchmarks.json]

Each benchmark runs in its own process, times its variants interleaved and reports medians and
the speed ratio against its baseline, ``torch.nn.LSTM``, timed in the same process:

* ``numpy_lstm_vs_torch``: the NumPy LSTM's forward+backward (target: at most 1.3x its floor);
* ``torch_lstm_vs_nn_lstm``: our PyTorch LSTM's training step with its hand-written backward
  (target at least 0.8x), with autograd, and with a ``torch.compile``'d cell (unless
  ``--no-compiled``; compiling adds about a minute);
* ``language_model_throughput``: characters per second of a language-model training step with each.

The first two also time each variant's matrix-product floor, its matrix products done alone in
its own library (``benchmarks/floors.py``): the table shows each variant's time, its floor,
time / floor and the share of its time above the floor beside its ratio to ``nn.LSTM``.

Then each variant's memory: one more process per variant measures the resident memory one step
adds at its peak (``benchmarks/timing.py``, ``peak_step_mib``), so that no variant's memory hides
another's. ``--quick`` runs tiny sizes with two repetitions, to check that everything runs.

The JSON (machine, thread count, every benchmark's own JSON line and its variants' memory) is
what the scaling chapter reads; it holds the printed table too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


from lstm_course.plumbing.runtime import machine_description

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("numpy_lstm_vs_torch", "torch_lstm_vs_nn_lstm", "language_model_throughput")
TARGETS = {"numpy_lstm_vs_torch": ("time/floor", "<=", 1.3), "torch_lstm_vs_nn_lstm": ("ratio", ">=", 0.8)}
"""The course issue's targets: the NumPy LSTM's time/floor at most 1.3, our hand-written step's ratio at least 0.8."""
QUICK = {"numpy_lstm_vs_torch": ["--steps", "8", "--hidden", "16", "--input", "8", "--batch", "4"],
         "torch_lstm_vs_nn_lstm": ["--steps", "8", "--hidden", "16", "--input", "8", "--batch", "4"],
         "language_model_throughput": ["--steps", "8", "--hidden", "16", "--batch", "4"]}


def run_json(name: str, arguments: list[str], threads: int, environment: dict | None = None) -> dict:
    """Run ``benchmarks/NAME.py ARGUMENTS`` in a child process and return its last line, which is JSON."""
    environment = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                       MKL_NUM_THREADS=str(threads), **(environment or {}))
    completed = subprocess.run([sys.executable, str(HERE / f"{name}.py"), "--threads", str(threads), *arguments],
                               cwd=HERE, stdout=subprocess.PIPE, text=True, env=environment)
    if completed.returncode != 0:
        sys.exit(f"{name} {' '.join(arguments)} failed with exit status {completed.returncode}")
    lines = completed.stdout.strip().splitlines()
    return json.loads(lines[-1]) | {"report": lines[:-1]}


def run(name: str, threads: int, arguments: list[str]) -> dict:
    """One benchmark's timing, then the peak step memory of each of its variants, each in a fresh process."""
    print(f"running {name} ...", file=sys.stderr, flush=True)
    result = run_json(name, arguments, threads)
    # A low mmap threshold makes the C allocator return freed blocks at once, so the peak is measured.
    small_blocks = {"MALLOC_MMAP_THRESHOLD_": "4096"}
    result["peak_step_mib"] = {
        variant: run_json(name, [*arguments, "--memory-of", variant], threads, small_blocks)["peak_step_mib"]
        for variant in result["variants"]}
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads per benchmark (default 1)")
    parser.add_argument("--no-compiled", action="store_true", help="skip the torch.compile variant")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 2 repetitions: checks that all runs")
    parser.add_argument("--out", type=Path, default=HERE.parent / "results" / "benchmarks.json")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    arguments = {name: (QUICK[name] + ["--repetitions", "2"] if args.quick else []) for name in BENCHMARKS}
    if not args.no_compiled:
        arguments["torch_lstm_vs_nn_lstm"].append("--compiled")
    results = {name: run(name, args.threads, arguments[name]) for name in BENCHMARKS}
    machine = machine_description() | {"threads": args.threads, "device": "cpu"}
    numpy_result, torch_result, lm_result = (results[name] for name in BENCHMARKS)
    # Rows: (name, ratio to nn.LSTM, target, the benchmark's result and the variant's name in it).
    rows = [("nn.LSTM fwd+bwd (NumPy run)", 1.0, None, numpy_result, "torch"),
            ("NumPy LSTM fwd+bwd", numpy_result["speed_ratio"], TARGETS["numpy_lstm_vs_torch"], numpy_result, "numpy")]
    for variant, ratio in torch_result["speed_ratios"].items():
        target = TARGETS["torch_lstm_vs_nn_lstm"] if variant == "ours, hand-written backward" else None
        rows.append((f"{variant} step", ratio, target, torch_result, variant))
    table = [f"machine: {machine['processor']}, {machine['cpus']} CPUs, {args.threads} thread(s), "
             f"torch {machine['torch']}" + (", QUICK sizes (not meaningful)" if args.quick else ""),
             f"{'benchmark (baseline nn.LSTM)':<36} {'ratio':>6} {'time ms':>8} {'floor ms':>9} {'time/floor':>10} "
             f"{'above':>6} {'target':>17} {'step MiB':>9} {'nn.LSTM MiB':>12}"]
    for name, ratio, target, result, variant in rows:
        target_text = "" if target is None else "{} {}{:.2f}".format(*target)
        time_ms = result["median_ms"][variant] if "median_ms" in result else result[f"{variant}_ms"]
        baseline = "torch" if variant in ("numpy", "torch") else "nn.LSTM"
        table.append(f"{name:<36} {ratio:5.2f}x {time_ms:8.1f} {result['floor_ms'][variant]:9.1f} "
                     f"{result['time_over_floor'][variant]:9.2f}x {result['share_above_floor'][variant]:6.0%} "
                     f"{target_text:>17} {result['peak_step_mib'][variant]:9.1f} "
                     f"{result['peak_step_mib'][baseline]:12.1f}")
    table.append(f"{'LM training chars/s, ours':<36} {lm_result['speed_ratio']:5.2f}x {'':>8} {'':>9} {'':>10} "
                 f"{'':>6} {'':>17} {lm_result['peak_step_mib']['ours']:9.1f} "
                 f"{lm_result['peak_step_mib']['torch']:12.1f}")
    speeds = lm_result["characters_per_second"]
    table.append(f"language model: nn.LSTM {speeds['torch']:,} chars/s, ours {speeds['ours']:,} chars/s")
    table.append("floor: the same matrix products alone, in its own library; above: the share of time spent elsewhere")
    print("\n".join(table))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/run_all.py --threads " + str(args.threads) + " --no-compiled" * args.no_compiled
    record = {"command": command + " --quick" * args.quick, "machine": machine,
              "seconds": round(time.perf_counter() - start, 1), "table": table, "results": results,
              "targets": {name: " ".join(map(str, target)) for name, target in TARGETS.items()}}
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
