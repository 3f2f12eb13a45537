"""Search train-lm's learning rate for the 10-minute model and record every run.

    .venv/bin/python tools/lm_lr_search.py --lr 1e-2 2e-2 3e-2 5e-2 --seed 0     # about 16 minutes a run

Each run is ``python -m lstm_course train-lm --max-steps 5400 --threads 1 --lr LR --seed S`` (5,400 steps
is what the 10-minute, 2-thread reference run gets through on the course's 2-core machine; a step budget
makes the learning-rate schedule the same on every machine), followed by ``evaluate --split validation``.
Every other option is train-lm's default. The runs are appended to ``results/lm_lr_search.json`` one by
one (a run already in the file with the same learning rate and seed is skipped), so an interrupted
search keeps what finished. Chapter 10 reads the file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from lstm_course.plumbing.atomic import atomic_write
from lstm_course.plumbing.runtime import machine_description

ROOT = Path(__file__).resolve().parents[1]
STEPS = 5400


def command_output(arguments: list[str]) -> dict:
    command = [sys.executable, "-m", "lstm_course", *arguments]
    print("$ python", " ".join(command[1:]), file=sys.stderr, flush=True)
    completed = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if completed.returncode != 0:
        sys.exit(f"{' '.join(arguments)} failed with exit status {completed.returncode}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, nargs="+", required=True)
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "lm_lr_search.json")
    args = parser.parse_args()
    record = json.loads(args.out.read_text()) if args.out.exists() else {"runs": []}
    for seed in args.seed:
        for lr in args.lr:
            if any(run["lr"] == lr and run["seed"] == seed and run["steps"] == args.steps for run in record["runs"]):
                continue
            with tempfile.TemporaryDirectory() as scratch:
                checkpoint = str(Path(scratch) / "model.pt")
                train = ["train-lm", "--max-steps", str(args.steps), "--threads", "1", "--lr", f"{lr:g}",
                         "--seed", str(seed), "--out", checkpoint, "--quiet"]
                summary = command_output(train)
                validation = command_output(["evaluate", checkpoint, "--split", "validation"])
            run = {
                "lr": lr, "seed": seed, "steps": args.steps,
                "command": "python -m lstm_course " + " ".join(train).replace(checkpoint, "CKPT"),
                "best_validation_bits_per_char": summary["best_validation_bits_per_char"],
                "validation_bits_per_char": validation["validation_bits_per_char"],
                "validation_ngram_bits_per_char": validation["ngram_bits_per_char"],
                "seconds": summary["seconds"],
                "machine": machine_description(),
            }
            # Read the file again before adding this run: another search may have added runs meanwhile.
            record = json.loads(args.out.read_text()) if args.out.exists() else {"runs": []}
            record["runs"] = sorted([*record["runs"], run], key=lambda row: (row["steps"], row["seed"], row["lr"]))
            with atomic_write(args.out, "w") as file:
                file.write(json.dumps(record, indent=2) + "\n")
            print(f"lr {lr:g} seed {seed}: validation {validation['validation_bits_per_char']:.4f} bits/char",
                  file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
