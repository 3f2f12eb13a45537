"""The language model's commands (chapter 10): ``train-lm``, ``evaluate``, ``sample``."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from pathlib import Path

from lstm_course.cli.common import CORPUS_HELP, Interrupted, corpus_splits

LM_LEARNING_RATE = 1e-2


TRAIN_LM_MODEL_DEFAULTS = {"hidden_size": 384, "num_layers": 1, "embedding_size": 64, "dropout": 0.0,
                           "implementation": "torch"}
"""train-lm's model, unless options say otherwise (the options default to None: given or not is known)."""


def _train_lm(args: argparse.Namespace) -> dict:
    from lstm_course.training.distributed import current_world
    from lstm_course.training.lm_training import TrainConfig, train

    splits = corpus_splits(args.corpus)
    world = current_world()  # several processes under torchrun
    config = TrainConfig(batch_size=args.batch_size, bptt=args.bptt, lr=args.lr, clip_norm=args.clip_norm,
                         minutes=args.minutes, max_steps=args.max_steps, eval_every=args.eval_every,
                         patience=args.patience, seed=args.seed, device=args.device,
                         threads=args.threads if args.threads is not None
                         else max(1, (os.cpu_count() or 1) // world.size))
    given = {name: getattr(args, name) for name in TRAIN_LM_MODEL_DEFAULTS if getattr(args, name) is not None}
    model_config = None if args.resume is not None else TRAIN_LM_MODEL_DEFAULTS | given
    if args.resume is not None:  # the checkpoint's model is resumed: a size given as well must agree with it
        from lstm_course.training.checkpoint import load

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
    import time

    from lstm_course.models import ngram
    from lstm_course.training.lm_training import load_model, nats_per_char

    model, vocabulary, saved = load_model(args.checkpoint)
    splits = corpus_splits(args.corpus)
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
    from lstm_course.training.lm_training import load_model
    from lstm_course.training.sampling import sample

    model, vocabulary, _ = load_model(args.checkpoint)
    text = sample(model, vocabulary, prompt=args.prompt.replace("\\n", "\n"), length=args.length,
                  temperature=args.temperature, top_k=args.top_k, seed=args.seed)
    print(text)
    return None


def register(commands) -> None:
    """Add this group's commands to ``commands`` (the parser's subparsers)."""
    train_lm = commands.add_parser("train-lm", help="train the character-level LSTM language model (chapter 10)")
    train_lm.add_argument("--minutes", type=float, default=10.0, help="time budget (default 10)")
    train_lm.add_argument("--max-steps", type=int, help="step budget instead (reproducible learning-rate schedule)")
    train_lm.add_argument("--out", type=Path, required=True, help="checkpoint file, written after every validation")
    train_lm.add_argument("--resume", type=Path, help="continue from this checkpoint (budget counts from its start)")
    train_lm.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    train_lm.add_argument("--seed", type=int, default=0)
    train_lm.add_argument("--corpus", type=Path, help=CORPUS_HELP)
    train_lm.add_argument("--hidden-size", type=int, help="LSTM units (default 384)")
    train_lm.add_argument("--layers", type=int, dest="num_layers", help="LSTM layers (default 1)")
    train_lm.add_argument("--embedding-size", type=int, help="default 64")
    train_lm.add_argument("--dropout", type=float, help="default 0")
    train_lm.add_argument("--implementation", choices=["torch", "ours"],
                          help="torch.nn.LSTM (default) or lstm_course.models.torch_lstm.LSTM")
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

    evaluate = commands.add_parser("evaluate", help="score a checkpoint and the n-gram baselines on a split "
                                   "(chapter 10)")
    evaluate.add_argument("checkpoint", type=Path)
    evaluate.add_argument("--split", choices=["train", "validation", "test"], default="test")
    evaluate.add_argument("--corpus", type=Path, help=CORPUS_HELP)
    evaluate.set_defaults(run=_evaluate)

    sample = commands.add_parser("sample", help="generate text from a checkpoint (chapter 10)")
    sample.add_argument("checkpoint", type=Path)
    sample.add_argument("--prompt", default="\\n", help="text to start from (\\n for a newline; default a newline)")
    sample.add_argument("--length", type=int, default=300, help="characters to generate")
    sample.add_argument("--temperature", type=float, default=0.8)
    sample.add_argument("--top-k", type=int, help="sample only among the k most likely characters")
    sample.add_argument("--seed", type=int, default=0)
    sample.set_defaults(run=_sample)
