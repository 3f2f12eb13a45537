"""Train the adding problem over several seeds (and instruction sets), and record what each run printed.

    .venv/bin/python tools/adding_seed_runs.py --jobs 2                   # chapter 8: about 40 minutes on 2 cores
    .venv/bin/python tools/adding_seed_runs.py --jobs 2 --sweep ablation  # chapter 9: about 8 minutes
    .venv/bin/python tools/adding_seed_runs.py --jobs 1 --sweep chapter8-seeds  # chapter 8: about an hour
    .venv/bin/python tools/adding_seed_runs.py --jobs 1 --sweep chapter8-longer  # chapter 8: about 15 minutes
    .venv/bin/python tools/adding_seed_runs.py --jobs 1 --sweep chapter8-identity  # chapter 8: about 25 minutes

Runs ``python -m lstm_course adding --quiet --curve ...`` once per row of the sweep
(:data:`SWEEPS`), each in its own single-threaded process, ``--jobs`` at a time, and writes the
JSON lines, with the exact command, the instruction set the kernels used and the machine, to the
sweep's file in ``results/`` (rewritten after each run, so an interrupted sweep keeps what
finished; ``--only LABEL`` re-runs some rows and keeps the others). Chapter 8 reads
``results/adding_seed_runs.json`` and chapter 9 ``results/ablation_seed_runs.json``; each re-runs
one row live to check it.

The second instruction set is chosen through the libraries' own switches (``AVX2_ENVIRONMENT``):
PyTorch's kernels (``ATEN_CPU_CAPABILITY``), MKL's (``MKL_ENABLE_INSTRUCTIONS``) and NumPy's
OpenBLAS (``OPENBLAS_CORETYPE``). Each run reports ``torch.backends.cpu.get_cpu_capability()``,
so the file shows that the switch took effect.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from sweep_options import parse_sweep_arguments, sweep_parser  # noqa: E402  (tools/ is the script's folder)

from lstm_course.plumbing.atomic import atomic_write  # noqa: E402
from lstm_course.plumbing.runtime import INSTRUCTION_SET_BELOW, machine_description  # noqa: E402

AVX2_ENVIRONMENT = INSTRUCTION_SET_BELOW["AVX512"][0]  # the second instruction set of the sweep
SEEDS = range(5)
RUNS = (
    [("LSTM", ["--model", "lstm", "--seed", str(seed)], "native") for seed in SEEDS]
    + [("LSTM", ["--model", "lstm", "--seed", str(seed)], "avx2") for seed in SEEDS]
    + [("LSTM, no clipping", ["--model", "lstm", "--no-clip", "--seed", str(seed)], "native") for seed in (0, 1)]
    + [("GRU, update bias 5", ["--model", "gru", "--gru-update-bias", "5", "--seed", str(seed)], "native")
       for seed in (0, 1)]
    + [("GRU, update bias 0", ["--model", "gru", "--seed", "0"], "native"),
       ("RNN", ["--model", "rnn", "--seed", "0"], "native")]
)
"""Chapter 8: (label, the adding command's arguments beyond ``--length 100 --quiet --curve``, instruction set)."""
FRESH_SEEDS = range(10, 20)
MORE_SEEDS_RUNS = (  # chapter 8, issue 29: the recipe on seeds never used to choose it, and the bias ablation
    [("LSTM, fresh seed", ["--model", "lstm", "--seed", str(seed)], "native") for seed in FRESH_SEEDS]
    + [(f"IRNN, lr {lr}", ["--model", "irnn", "--lr", lr, "--seed", str(seed)], "native")
       for lr in ("1e-3", "1e-4") for seed in range(3)]
    + [("GRU, update bias 5", ["--model", "gru", "--gru-update-bias", "5", "--seed", str(seed)], "native")
       for seed in (2, 3, 4)]
    + [(f"LSTM, forget bias {bias}", ["--model", "lstm", "--forget-bias", str(bias), "--seed", str(seed)], "native")
       for bias in (1, 3) for seed in range(3)]
)
"""Chapter 8's second sweep: ten fresh seeds of the default recipe; Le et al. 2015's identity-initialised
ReLU RNN at two learning rates, three more seeds of the GRU at update bias 5, and forget biases 1 and 3
on three seeds each."""
LONGER_BUDGET_RUNS = [("LSTM, fresh seed, 400,000 sequences", ["--model", "lstm", "--seed", str(seed),
                                                                 "--max-sequences", "400000"], "native")
                      for seed in (11, 13)]
"""Chapter 8: the two fresh seeds that the recipe's 260,000 sequences left unsolved, with a larger budget."""
IDENTITY_START_RUNS = (  # chapter 8, issue 29: Le et al.'s start without its ReLU, and forget bias 3 on more seeds
    [(f"identity-start tanh RNN, lr {lr}", ["--model", "irnn-tanh", "--lr", lr, "--seed", str(seed)], "native")
     for lr in ("1e-3", "1e-4") for seed in range(3)]
    + [("LSTM, forget bias 3", ["--model", "lstm", "--forget-bias", "3", "--seed", str(seed)], "native")
       for seed in range(3, 8)]
)
"""Chapter 8's third sweep: the IRNN's identity start with tanh instead of ReLU (the IRNN's two rates,
three seeds each), and forget bias 3 on five more seeds, on one machine with the rows it extends."""
ABLATION = {  # chapter 9: every variant at T = 50 for 40,000 sequences, three seeds each
    "LSTM, forget bias 0 (PyTorch default)": ["--model", "lstm:standard", "--forget-bias", "0"],
    "LSTM, forget bias 1": ["--model", "lstm:standard", "--forget-bias", "1"],
    "LSTM, forget bias 3": ["--model", "lstm:standard", "--forget-bias", "3"],
    "no forget gate (f = 1)": ["--model", "lstm:no_forget_gate"],
    "coupled input-forget gate, bias 1": ["--model", "lstm:coupled", "--forget-bias", "1"],
    "peephole, bias 1": ["--model", "lstm:peephole", "--forget-bias", "1"],
    "no output gate, bias 1": ["--model", "lstm:no_output_gate", "--forget-bias", "1"],
    "GRU": ["--model", "gru"],
    "2-layer LSTM, forget bias 3": ["--model", "lstm", "--forget-bias", "3", "--layers", "2"],
    # issue 29: every variant again at chapter 8's rule for T = 50 (forget_bias_for_span(55) = 4.4, rounded)
    "LSTM, forget bias 4 (chapter 8's rule)": ["--model", "lstm:standard", "--forget-bias", "4"],
    "coupled input-forget gate, bias 4": ["--model", "lstm:coupled", "--forget-bias", "4"],
    "peephole, bias 4": ["--model", "lstm:peephole", "--forget-bias", "4"],
    "no output gate, bias 4": ["--model", "lstm:no_output_gate", "--forget-bias", "4"],
    "2-layer LSTM, forget bias 4": ["--model", "lstm", "--forget-bias", "4", "--layers", "2"],
}
ABLATION_RUNS = [(label, [*arguments, "--seed", str(seed)], "native")
                 for label, arguments in ABLATION.items() for seed in range(3)]
SWEEPS = {  # name: (the rows, the arguments every row shares, the file it writes)
    "chapter8": (RUNS, ["--length", "100"], ROOT / "results" / "adding_seed_runs.json"),
    "chapter8-seeds": (MORE_SEEDS_RUNS, ["--length", "100"], ROOT / "results" / "adding_more_seeds.json"),
    "chapter8-longer": (LONGER_BUDGET_RUNS, ["--length", "100"], ROOT / "results" / "adding_longer_budget.json"),
    "chapter8-identity": (IDENTITY_START_RUNS, ["--length", "100"], ROOT / "results" / "adding_identity_start.json"),
    "ablation": (ABLATION_RUNS, ["--length", "50", "--max-sequences", "40000"],
                 ROOT / "results" / "ablation_seed_runs.json"),
}


def command_of(shared: list[str], arguments: list[str]) -> list[str]:
    return ["adding", *shared, *arguments, "--quiet", "--curve"]


MACHINE = machine_description()


def run(shared: list[str], label: str, arguments: list[str], instruction_set: str) -> dict:
    command = command_of(shared, arguments)
    environment = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    environment |= AVX2_ENVIRONMENT if instruction_set == "avx2" else {}
    print(f"$ python -m lstm_course {shlex.join(command)}  ({instruction_set})", file=sys.stderr, flush=True)
    completed = subprocess.run([sys.executable, "-m", "lstm_course", *command], cwd=ROOT, env=environment,
                               stdout=subprocess.PIPE, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed with exit status {completed.returncode}")
    return {"label": label, "instruction_set": instruction_set, "machine": MACHINE,
            "command": "python -m lstm_course " + shlex.join(command),
            "environment": AVX2_ENVIRONMENT if instruction_set == "avx2" else {},
            "result": json.loads(completed.stdout.strip().splitlines()[-1])}


def main() -> None:
    parser = sweep_parser(__doc__.splitlines()[0], SWEEPS, "chapter8",
                          "run only the rows with this label, keeping the file's other rows (repeatable)")
    args = parse_sweep_arguments(parser)
    runs, shared, default_out = SWEEPS[args.sweep]
    args.out = args.out or default_out
    labels = {label for label, _, _ in runs}
    if args.only and not set(args.only) <= labels:
        parser.error(f"--only: expected one of {sorted(labels)}, got {sorted(set(args.only) - labels)}")
    finished = {}
    if args.only and args.out.exists():  # keep the rows of the other labels, each with the machine that ran it
        earlier = {(row["label"], row["command"], row["instruction_set"]): row
                   for row in json.loads(args.out.read_text())["runs"]}
        for index, (label, arguments, instruction_set) in enumerate(runs):
            key = (label, "python -m lstm_course " + shlex.join(command_of(shared, arguments)), instruction_set)
            if label not in args.only and key in earlier:
                finished[index] = earlier[key]
    record = {"runs": []}
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run, shared, *row): index for index, row in enumerate(runs)
                   if not args.only or row[0] in args.only}
        for future in as_completed(futures):
            finished[futures[future]] = future.result()
            record["runs"] = [finished[index] for index in sorted(finished)]  # in the sweep's order
            with atomic_write(args.out, "w") as file:
                file.write(json.dumps(record, indent=1) + "\n")
            print(f"{len(finished)}/{len(runs)} runs recorded in {args.out}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
