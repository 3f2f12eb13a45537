"""The experiments' commands, each writing a results file a chapter reads: ``adding`` (chapter 8),
``tagging`` (11), ``seq2seq`` (12), ``forecast`` (13), ``architectures`` (14)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from lstm_course.cli.common import CORPUS_HELP, corpus_splits, model_rates


def _adding(args: argparse.Namespace) -> dict:
    from lstm_course.experiments.adding_experiment import AddingConfig, train

    config = AddingConfig(length=args.length, model=args.model, hidden_size=args.hidden_size, num_layers=args.layers,
                          batch_size=args.batch_size, lr=args.lr, clip_norm=None if args.no_clip else args.clip_norm,
                          forget_bias=args.forget_bias, gru_update_bias=args.gru_update_bias,
                          max_sequences=args.max_sequences, max_minutes=args.minutes, seed=args.seed)
    result = train(config, progress=not args.quiet)
    import torch

    instruction_set = {"cpu_capability": torch.backends.cpu.get_cpu_capability()}  # PyTorch's kernels (AVX2, AVX512)
    return result.summary() | instruction_set | ({"curve": result.curve} if args.curve else {})


def _forecast(args: argparse.Namespace) -> dict:
    import dataclasses
    import platform

    import torch

    from lstm_course.experiments.forecast_comparison import PROTOCOLS, run_comparison

    changes = {name: tuple(value) if isinstance(value, list) else value
               for name, value in (("ar_orders", args.ar_orders), ("lstm_hidden_sizes", args.hidden_sizes),
                                   ("lstm_windows", args.windows), ("lstm_steps", args.steps)) if value is not None}
    protocol = dataclasses.replace(PROTOCOLS[args.series], **changes)
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    record = {"command": " ".join(["python -m lstm_course", *args.argv])}
    record |= run_comparison(args.series, seeds=tuple(args.seeds), protocol=protocol, log=log)
    record["machine"] = {"processor": platform.processor() or platform.machine(), "torch": torch.__version__,
                         "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                         "threads": torch.get_num_threads()}
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=1) + "\n")
    return record


def _tagging(args: argparse.Namespace) -> dict:
    import dataclasses
    import shlex

    from lstm_course.experiments import tagging_experiment
    from lstm_course.plumbing.atomic import atomic_write
    from lstm_course.plumbing.runtime import machine_description
    from lstm_course.tasks import tagging

    grid = [tagging_experiment.RunSettings(steps=args.steps, batch_size=args.batch_size, window=args.window, lr=lr,
                                           hidden_size=args.hidden_size, implementation=args.implementation,
                                           positions=args.positions) for lr in args.lr]
    rate_of_model = model_rates(args.model_lr, list(tagging_experiment.MODELS), args.lr, word="MODEL")
    if args.out is not None and args.out.exists() and not args.overwrite:
        raise ValueError(f"{args.out}: already exists; pass --overwrite to replace it")
    splits = corpus_splits(args.corpus)
    vocabulary, data = tagging.case_restoration_data(splits)
    test_categories = tagging.letter_categories(splits["test"])
    record = {"command": "python -m lstm_course " + shlex.join(args.argv), "machine": machine_description(),
              "baselines": tagging_experiment.baselines(splits["test"], splits["train"]), "runs": []}
    for settings in grid:
        for seed in args.seeds:
            for name in args.models:
                model_settings = dataclasses.replace(settings, lr=rate_of_model.get(name, settings.lr))
                run = tagging_experiment.run(name, seed, len(vocabulary), data, test_categories, model_settings,
                                             progress_bar=not args.quiet)
                record["runs"].append(run)
                print(f"{name}, seed {seed}, lr {model_settings.lr:g}: test error {run['test_error']:.4f} "
                      f"({run['train_seconds']} s training)", file=sys.stderr, flush=True)
                if args.out is not None:  # rewritten after every run: an interrupted grid keeps what finished
                    with atomic_write(args.out, "w") as file:
                        file.write(json.dumps(record, indent=1) + "\n")
    return record


def _seq2seq(args: argparse.Namespace) -> dict:
    import shlex

    from lstm_course.plumbing.atomic import atomic_write
    from lstm_course.plumbing.runtime import machine_description
    from lstm_course.plumbing.validation import positive_int, positive_number
    from lstm_course.training.seq2seq_training import Seq2SeqConfig, sweep

    positive_int("--seeds", args.seeds)
    positive_int("--test-strings", args.test_strings)
    positive_int("--wide-hidden-size", args.wide_hidden_size)
    for lr in args.learning_rates:
        positive_number("--learning-rates", lr)
    base = Seq2SeqConfig(hidden_size=args.hidden_size, max_length=args.max_length, steps=args.steps)
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    result = sweep(range(args.seeds), base, args.learning_rates, args.test_strings, log, progress_bar=not args.quiet,
                   rows=args.rows, wide_hidden_size=args.wide_hidden_size)
    result = {"command": "python -m lstm_course " + shlex.join(args.argv), "machine": machine_description(),
              **result}
    if args.out is not None:
        with atomic_write(args.out, "w") as file:
            file.write(json.dumps(result, indent=1) + "\n")
    return result


def _architectures(args: argparse.Namespace) -> dict:
    import dataclasses
    import shlex

    from lstm_course.experiments import architecture_comparison
    from lstm_course.plumbing.atomic import atomic_write
    from lstm_course.plumbing.runtime import machine_description
    from lstm_course.plumbing.validation import positive_int
    from lstm_course.training.lm_training import TrainConfig

    rate_of_model = model_rates(args.model_lr, args.architectures, args.lr)
    positive_int("--jobs", args.jobs)
    if args.out is not None and args.out.exists() and not args.overwrite:
        raise ValueError(f"{args.out}: already exists; pass --overwrite to replace it")
    budget = ({"max_steps": args.max_steps, "minutes": float("inf")} if args.max_steps is not None
              else {"minutes": args.minutes})
    train = dataclasses.asdict(TrainConfig(batch_size=args.batch_size, bptt=args.bptt, eval_every=args.eval_every,
                                           validation_chars=args.validation_chars, patience=1_000_000, **budget))
    base = {"kind": args.task, "train": train}
    if args.task == "lm":
        base |= {"splits": corpus_splits(args.corpus), "test_chars": args.test_chars}
    else:
        positive_int("--recall-steps", args.recall_steps)
        train["max_steps"], train["minutes"] = args.recall_steps, float("inf")
        base |= {"steps": args.recall_steps, "max_delay": args.max_delay, "delays": args.delays,
                 "context_size": positive_int("--window", args.window)}
        if args.test_window is not None:
            positive_int("--test-window", args.test_window)
            base["test_context_size"] = args.test_window
        if args.forget_bias is not None:
            base["forget_bias"] = args.forget_bias
    tasks = [base | {"architecture": name, "seed": seed, "lr": rate_of_model.get(name, lr)}
             for lr in args.lr for seed in args.seeds for name in args.architectures]
    record = {"command": "python -m lstm_course " + shlex.join(args.argv), "machine": machine_description(),
              "jobs": args.jobs, "runs": []}

    def done(result: dict) -> None:
        record["runs"].append(result)
        if not args.quiet:
            score = (f"test {result['test_bits']:.3f} bits/char" if args.task == "lm"
                     else f"recalled up to {result['longest_recalled']}")
            print(f"{result['architecture']}, seed {result['seed']}: {score} ({result['seconds']} s)", file=sys.stderr,
                  flush=True)
        if args.out is not None:  # rewritten after every run: an interrupted grid keeps what finished
            with atomic_write(args.out, "w") as file:
                file.write(json.dumps(record, indent=1) + "\n")

    architecture_comparison.run_all(tasks, args.jobs, done)
    return {"runs": len(record["runs"]), "out": None if args.out is None else str(args.out)}


def register(commands) -> None:
    """Add this group's commands to ``commands`` (the parser's subparsers)."""
    from lstm_course.models.variants import VARIANT_GATES
    from lstm_course.training.seq2seq_training import (
        DEFAULT_ROWS,
        LEARNING_RATES,
        LONGER_BUDGET,
        ROWS,
        TEST_STRINGS,
        WIDE_HIDDEN_SIZE,
        Seq2SeqConfig,
    )
    seq2seq_defaults = Seq2SeqConfig()

    adding = commands.add_parser("adding", help="train on the adding problem (Hochreiter & Schmidhuber 1997; "
                                 "chapter 8)")
    adding.add_argument("--length", type=int, default=100, help="minimal sequence length T (default 100)")
    adding.add_argument("--model", choices=["lstm", "gru", "rnn", "irnn", "irnn-tanh",
                                            *(f"lstm:{name}" for name in VARIANT_GATES)],
                        default="lstm", help="lstm (default), gru, rnn, irnn (Le et al. 2015's identity-initialised "
                                             "ReLU RNN), irnn-tanh (the same start with tanh), or a variant of "
                                             "chapter 9 (lstm:peephole, ...)")
    adding.add_argument("--layers", type=int, default=1, help="recurrent layers (default 1)")
    adding.add_argument("--seed", type=int, default=0)
    adding.add_argument("--hidden-size", type=int, default=64)
    adding.add_argument("--batch-size", type=int, default=32)
    adding.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    adding.add_argument("--forget-bias", type=float, default=5.0,
                        help="LSTM forget-gate bias (default 5: keeps half of a value over 110 steps)")
    adding.add_argument("--gru-update-bias", type=float, default=0.0, help="GRU update-gate bias (default 0)")
    adding.add_argument("--clip-norm", type=float, default=1.0, help="gradient-norm clipping threshold (default 1)")
    adding.add_argument("--no-clip", action="store_true", help="train without gradient clipping")
    adding.add_argument("--max-sequences", type=int, default=260_000,
                        help="training budget in sequences (default 260,000)")
    adding.add_argument("--minutes", type=float, default=math.inf,
                        help="training budget in minutes (default: none; with one, where a run stops depends on the "
                             "machine)")
    adding.add_argument("--curve", action="store_true", help="add the learning curve to the JSON line")
    adding.add_argument("--quiet", action="store_true", help="no progress bar")
    adding.set_defaults(run=_adding)


    forecast = commands.add_parser("forecast", help="tune and compare the baselines, AR(p), SARIMA and the LSTM "
                                   "walk-forward on a real series (chapter 13)")
    forecast.add_argument("--series", choices=["elnino", "sunspots"], default="elnino")
    forecast.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="LSTM seeds (default 0 1 2)")
    forecast.add_argument("--steps", type=int, help="LSTM training steps per fit (default 600)")
    forecast.add_argument("--hidden-sizes", type=int, nargs="+", help="LSTM hidden sizes tried (default 16 32 64)")
    forecast.add_argument("--windows", type=int, nargs="+", help="LSTM window lengths tried (default 12 24 48)")
    forecast.add_argument("--ar-orders", type=int, nargs="+", help="AR orders tried (default 1 2 3 6 9 12 13 24 36)")
    forecast.add_argument("--out", type=Path, help="also write the record, indented, to this JSON file")
    forecast.add_argument("--quiet", action="store_true", help="no progress lines")
    forecast.set_defaults(run=_forecast)

    from lstm_course.experiments.tagging_experiment import MODELS, RunSettings

    defaults = RunSettings()
    tag = commands.add_parser("tagging", help="restore the capitals of lower-cased Shakespeare: uni- vs bidirectional, "
                              "1 vs 2 layers, scored by right context (chapter 11)")
    tag.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS),
                     help="uni1, bi1 (one layer, one or two directions), uni2, bi2 (two layers); default all four")
    tag.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="default 0 1 2")
    tag.add_argument("--steps", type=int, default=defaults.steps, help=f"training steps (default {defaults.steps})")
    tag.add_argument("--batch-size", type=int, default=defaults.batch_size)
    tag.add_argument("--window", type=int, default=defaults.window, help="characters per training window")
    tag.add_argument("--lr", type=float, nargs="+", default=[defaults.lr],
                     help=f"Adam's peak learning rate; several: one grid per rate (default {defaults.lr})")
    tag.add_argument("--model-lr", nargs="+", default=[], metavar="MODEL=RATE",
                     help="a model's own rate instead of --lr, e.g. bi2=0.06 (the sweep's best for it)")
    tag.add_argument("--hidden-size", type=int, default=defaults.hidden_size)
    tag.add_argument("--implementation", choices=["torch", "ours"], default=defaults.implementation,
                     help="torch.nn.LSTM (default, faster here) or lstm_course.models.torch_lstm.LSTM")
    tag.add_argument("--positions", type=int, default=defaults.positions,
                     help=f"test letters scored for each amount of right context (default {defaults.positions:,})")
    tag.add_argument("--corpus", type=Path, help=CORPUS_HELP)
    tag.add_argument("--out", type=Path, help="also write the record to this JSON file, after every run")
    tag.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    tag.add_argument("--quiet", action="store_true", help="no progress bar")
    tag.set_defaults(run=_tagging)
    seq2seq = commands.add_parser("seq2seq", help="string reversal without and with attention, over seeds (chapter 12)")
    seq2seq.add_argument("--seeds", type=int, default=5, help="seeds 0 to N-1 for every model (default 5)")
    seq2seq.add_argument("--steps", type=int, default=seq2seq_defaults.steps,
                         help=f"training steps, {seq2seq_defaults.batch_size} strings each (default "
                              f"{seq2seq_defaults.steps})")
    seq2seq.add_argument("--hidden-size", type=int, default=seq2seq_defaults.hidden_size,
                         help=f"LSTM units of encoder and decoder (default {seq2seq_defaults.hidden_size})")
    seq2seq.add_argument("--max-length", type=int, default=seq2seq_defaults.max_length,
                         help=f"longest training string (default {seq2seq_defaults.max_length})")
    seq2seq.add_argument("--rows", nargs="+", choices=ROWS, default=list(DEFAULT_ROWS),
                         help="which models to train: plain (no attention), attention, and controls without "
                              "attention: matched (as many parameters as with attention), longer "
                              f"({LONGER_BUDGET}x the steps), wide (--wide-hidden-size units, its own learning-rate "
                              f"search) (default: {', '.join(DEFAULT_ROWS)})")
    seq2seq.add_argument("--wide-hidden-size", type=int, default=WIDE_HIDDEN_SIZE,
                         help=f"LSTM units of the row wide (default {WIDE_HIDDEN_SIZE})")
    seq2seq.add_argument("--learning-rates", type=float, nargs="+", default=list(LEARNING_RATES),
                         help="tried on seed 0 for each model that has its own search (without attention, with, "
                              "wide); each keeps its best, and where the best is the lowest or highest rate tried, "
                              "up to 3 more past that edge are tried (default "
                              f"{' '.join(map(str, LEARNING_RATES))})")
    seq2seq.add_argument("--test-strings", type=int, default=TEST_STRINGS,
                         help=f"test strings per length (default {TEST_STRINGS})")
    seq2seq.add_argument("--out", type=Path, help="also write the result, indented, to this file")
    seq2seq.add_argument("--quiet", action="store_true", help="no progress on standard error")
    seq2seq.set_defaults(run=_seq2seq)

    from lstm_course.models.language_model import ARCHITECTURES

    compare = commands.add_parser("architectures", help="the LSTM against a Transformer, minGRU and minLSTM of as "
                                  "many parameters: Shakespeare, or the recall task (chapter 14)")
    compare.add_argument("--task", choices=["lm", "recall"], default="lm",
                         help="lm: train on Shakespeare for --minutes, score the test split (default); recall: "
                              "train on recall episodes for --recall-steps, score each of --delays")
    compare.add_argument("--architectures", nargs="+", choices=list(ARCHITECTURES), default=list(ARCHITECTURES))
    compare.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], help="default 0 1 2")
    compare.add_argument("--lr", type=float, nargs="+", default=[3e-3],
                         help="Adam's peak learning rate; several: one grid per rate (default 0.003)")
    compare.add_argument("--model-lr", nargs="+", default=[], metavar="NAME=RATE",
                         help="an architecture's own rate instead of --lr, e.g. lstm=0.01")
    compare.add_argument("--minutes", type=float, default=3.0, help="time budget of every lm run (default 3)")
    compare.add_argument("--max-steps", type=int, help="a step budget instead (reproducible)")
    compare.add_argument("--batch-size", type=int, default=32)
    compare.add_argument("--bptt", type=int, default=100, help="truncated-BPTT length (default 100)")
    compare.add_argument("--eval-every", type=int, default=100, help="steps between validations (default 100)")
    compare.add_argument("--validation-chars", type=int, default=100_000, help="default 100,000")
    compare.add_argument("--test-chars", type=int, help="lm: score only the test split's first N characters "
                         "(default: all)")
    compare.add_argument("--recall-steps", type=int, default=600, help="recall: training steps (default 600)")
    compare.add_argument("--max-delay", type=int, default=200, help="recall: longest delay trained on (default 200)")
    compare.add_argument("--delays", type=int, nargs="+", default=[10, 50, 100, 200, 300, 500, 1000],
                         help="recall: delays tested (default 10 50 100 200 300 500 1000)")
    compare.add_argument("--window", type=int, default=128,
                         help="recall: the Transformer's window in training and test, in positions (default 128)")
    compare.add_argument("--test-window", type=int, metavar="N", help="recall: also score each Transformer with "
                         "its window opened to N positions (ALiBi has no position weights)")
    compare.add_argument("--forget-bias", type=float, help="recall: the LSTM's, minGRU's and minLSTM's forget bias "
                         "(default: the models' own, 1)")
    compare.add_argument("--jobs", type=int, default=1, help="runs at once, one thread each (default 1)")
    compare.add_argument("--corpus", type=Path, help=CORPUS_HELP)
    compare.add_argument("--out", type=Path, help="also write the record to this JSON file, after every run")
    compare.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    compare.add_argument("--quiet", action="store_true", help="no line per finished run")
    compare.set_defaults(run=_architectures)
