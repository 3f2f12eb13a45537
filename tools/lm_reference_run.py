"""Run the language model's 10-minute reference training with the CLI and record what it printed.

    .venv/bin/python tools/lm_reference_run.py            # about 12 minutes on a 2-core CPU

Runs, one after another, exactly the commands that chapter 10 prints beside their numbers::

    python -m lstm_course train-lm --minutes 10 --out CKPT --seed 0
    python -m lstm_course evaluate CKPT --split test
    python -m lstm_course evaluate CKPT --split validation
    python -m lstm_course sample CKPT --prompt ... --length 400 --temperature T --seed 0

and writes their JSON lines and samples, with the machine they ran on, to
``results/lm_reference_run.json``, which the chapter reads. ``--checkpoint`` and ``--train-json``
reuse a finished ``train-lm`` run (its checkpoint and its JSON line) instead of training again.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from lstm_course.plumbing.runtime import machine_description

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["train-lm", "--minutes", "10", "--out", "CKPT", "--seed", "0"]
EVALUATE = ["evaluate", "CKPT", "--split", "test"]
EVALUATE_VALIDATION = ["evaluate", "CKPT", "--split", "validation"]
PROMPT = "MACBETH.\n"
TEMPERATURES = (0.5, 0.8, 1.0)


def run(arguments: list[str], checkpoint: Path) -> str:
    command = [sys.executable, "-m", "lstm_course", *[str(checkpoint) if a == "CKPT" else a for a in arguments]]
    print("$ python", " ".join(command[1:]), file=sys.stderr, flush=True)
    completed = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if completed.returncode != 0:
        sys.exit(f"{' '.join(arguments)} failed with exit status {completed.returncode}")
    return completed.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "lm_reference_run.json")
    parser.add_argument("--checkpoint", type=Path, help="a checkpoint of an earlier run of the train command")
    parser.add_argument("--train-json", type=Path, help="the JSON line that run printed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        checkpoint = args.checkpoint or Path(scratch) / "shakespeare.pt"
        if args.checkpoint is None:
            train_output = run(TRAIN, checkpoint)
        else:
            train_output = args.train_json.read_text()
        evaluate_output = run(EVALUATE, checkpoint)
        validation_output = run(EVALUATE_VALIDATION, checkpoint)
        samples = {}
        for temperature in TEMPERATURES:
            arguments = ["sample", "CKPT", "--prompt", PROMPT.replace("\n", "\\n"), "--length", "400",
                         "--temperature", str(temperature), "--seed", "0"]
            samples[str(temperature)] = {"command": "python -m lstm_course " + shlex.join(arguments),
                                         "text": run(arguments, checkpoint).rstrip("\n")}
    record = {
        "train_command": "python -m lstm_course " + " ".join(TRAIN),
        "train": json.loads(train_output.strip().splitlines()[-1]),
        "evaluate_command": "python -m lstm_course " + " ".join(EVALUATE),
        "evaluate": json.loads(evaluate_output.strip().splitlines()[-1]),
        "evaluate_validation_command": "python -m lstm_course " + " ".join(EVALUATE_VALIDATION),
        "evaluate_validation": json.loads(validation_output.strip().splitlines()[-1]),
        "samples": samples,
        "machine": machine_description(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
