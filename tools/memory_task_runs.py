"""Chapter 6's write/hold/read task over learning rates, initialisations, seeds and delays; records every run.

    .venv/bin/python tools/memory_task_runs.py --jobs 2                 # T = 20: about 10 minutes on 2 cores
    .venv/bin/python tools/memory_task_runs.py --jobs 2 --sweep delays  # T = 50 and 100: about 30 minutes

Each row is one call of :func:`lstm_course.tasks.memory_task.train` (Adam, batches of 32, ``H = 16``, 2,000
steps, the test error on 512 held-out sequences every 50 steps, so a row also gives the error after
any shorter budget: the learning rate has no schedule). The models (:data:`MODELS`): the LSTM with the
course's forget-gate bias rule and with PyTorch's default bias 0, and chapter 1's plain RNN at
PyTorch's initialisation, with an orthogonal ``W_hh`` and with the identity (zero biases for both).
The write falls in the first five steps and the read is at the last, so the delay is ``T - 5`` to
``T - 1`` steps. The LSTM runs ``numpy_lstm.lstm_forward`` and the instructor's ``lstm_backward_fast``
(chapter 6's solution cell), the same arithmetic as the chapter's loops, faster.

Every row runs in its own single-threaded process, ``--jobs`` at a time; the file (``results/``) is
rewritten after each, with the command and the machine. A re-run keeps the rows already recorded and
runs the missing ones (``--fresh``: all of them); ``--only LABEL`` re-runs one model's rows. Chapter 6
reads ``results/memory_task_runs.json`` and ``results/memory_task_delays.json`` and re-runs a row of
each live to check it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from sweep_options import parse_sweep_arguments, sweep_parser  # noqa: E402  (tools/ is the script's folder)

from lstm_course.plumbing.atomic import atomic_write  # noqa: E402
from lstm_course.plumbing.runtime import machine_description  # noqa: E402

MODELS = {  # label: keyword arguments of memory_task.train
    "LSTM, forget bias by the rule": dict(kind="lstm"),
    "LSTM, forget bias 0": dict(kind="lstm", forget_bias=0.0),
    "RNN, PyTorch's init": dict(kind="rnn", rnn_init="default"),
    "RNN, orthogonal W_hh": dict(kind="rnn", rnn_init="orthogonal"),
    "RNN, identity W_hh": dict(kind="rnn", rnn_init="identity"),
}
"""The models compared, each trained at every learning rate of its sweep."""
STEPS, EVAL_EVERY, SEEDS = 2000, 50, range(5)
DELAY_RATES = (0.0003, 0.001, 0.003, 0.01)
SWEEPS = {  # name: (models and their learning rates, sequence lengths, the file it writes)
    "grid": ({label: (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1) for label in MODELS}, (20,),
             ROOT / "results" / "memory_task_runs.json"),
    "delays": ({"LSTM, forget bias by the rule": DELAY_RATES, "RNN, orthogonal W_hh": (0.00003, 0.0001, *DELAY_RATES),
                "RNN, identity W_hh": (0.00003, 0.0001, *DELAY_RATES)}, (50, 100),
               ROOT / "results" / "memory_task_delays.json"),
}
"""The T = 20 grid of chapter 6 (every model, a learning-rate grid past the best of each), and longer delays (the
RNNs' grids extended down to 0.00003, past the identity start's best; the LSTM's best lies at its grid's edge)."""


def rows(sweep: str) -> list[dict]:
    models, lengths, _ = SWEEPS[sweep]
    return [dict(label=label, num_steps=length, min_delay=length - 5, lr=lr, seed=seed)
            for length in lengths for label, rates in models.items() for lr in rates for seed in SEEDS]


def key(row: dict) -> tuple:
    return row["label"], row["num_steps"], row["min_delay"], row["lr"], row["seed"]


def lstm_functions():
    """``numpy_lstm.lstm_forward`` as ``(hs, cache)``, and the instructor's ``lstm_backward_fast``."""
    from lstm_course.scratch import numpy_lstm
    from lstm_instructor import reference_answers

    backward = reference_answers.load(ROOT / "chapters" / "06_lstm_from_scratch.ipynb")["lstm_backward_fast"]

    def forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
        hs, _, cache = numpy_lstm.lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
        return hs, cache

    return forward, backward


def run(row: dict) -> dict:
    from lstm_course.tasks import memory_task

    options = dict(MODELS[row["label"]])
    if options["kind"] == "lstm":
        options["lstm_forward"], options["lstm_backward"] = lstm_functions()
    start = time.perf_counter()
    result = memory_task.train(num_steps=row["num_steps"], min_delay=row["min_delay"], steps=STEPS, lr=row["lr"],
                               seed=row["seed"], eval_every=EVAL_EVERY, **options)
    return dict(row, steps=result.steps, test_mse=[float(f"{error:.4g}") for error in result.test_mse],
                seconds=round(time.perf_counter() - start, 1))


def main() -> None:
    parser = sweep_parser(__doc__.splitlines()[0], SWEEPS, "grid",
                          "re-run this model's rows, keeping the file's other rows (repeatable)")
    parser.add_argument("--fresh", action="store_true", help="re-run every row (default: keep the rows recorded)")
    args = parse_sweep_arguments(parser)
    out = args.out or SWEEPS[args.sweep][2]
    todo = rows(args.sweep)
    if args.only and not set(args.only) <= set(MODELS):
        parser.error(f"--only: expected one of {sorted(MODELS)}, got {sorted(set(args.only) - set(MODELS))}")
    finished = {}
    if out.exists() and not args.fresh:  # keep every row already recorded that is not to be re-run
        for recorded in json.loads(out.read_text())["runs"]:
            if recorded["label"] not in (args.only or ()) and key(recorded) in {key(row) for row in todo}:
                finished[key(recorded)] = recorded
    command = "python tools/memory_task_runs.py --sweep " + args.sweep
    record = {"command": command, "machine": machine_description(), "steps": STEPS, "runs": []}
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run, row) for row in todo
                   if key(row) not in finished and (not args.only or row["label"] in args.only)]
        for done, future in enumerate(as_completed(futures), 1):
            result = future.result()
            finished[key(result)] = result
            record["runs"] = [finished[key(row)] for row in todo if key(row) in finished]  # in the sweep's order
            with atomic_write(out, "w") as file:
                file.write(json.dumps(record) + "\n")
            print(f"{done}/{len(futures)}: {result['label']}, T {result['num_steps']}, lr {result['lr']}, "
                  f"seed {result['seed']}: {result['test_mse'][-1]} ({result['seconds']} s)",
                  file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
