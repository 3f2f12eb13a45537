"""What the command groups share: running a command, the interrupt that saved its work, a corpus's splits,
per-model rates."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CORPUS_HELP = "a UTF-8 text file to use instead of Shakespeare (split 90/5/5 by position)"
"""The help of every command's ``--corpus``."""


class Interrupted(Exception):
    """A command stopped by Ctrl-C after saving what it had: its message says what was kept; exit status 130."""


class DescribedCommands:
    """The parser's subparsers, each command's ``help`` also its description (shown by ``COMMAND --help``)."""

    def __init__(self, subparsers):
        self.subparsers = subparsers

    def add_parser(self, name: str, **options) -> argparse.ArgumentParser:
        options.setdefault("description", options.get("help"))
        return self.subparsers.add_parser(name, **options)


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: the command line's), run the command, print its result as one JSON line.

    Exit status 0; 2 with a one-line ``error: ...`` for a bad argument or file; 130 when interrupted.
    Used by ``python -m lstm_course`` and ``python -m lstm_instructor`` alike.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv  # what a results file records as its command
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


def corpus_splits(corpus_path: Path | None) -> dict[str, str]:
    """The Shakespeare split, or a reader's own UTF-8 file split 90/5/5 by position."""
    from lstm_course.tasks import corpus

    if corpus_path is None:
        return corpus.split_works(corpus.load_shakespeare())
    return corpus.split_text(corpus.load_text(corpus_path))


def model_rates(items: list[str], names: list[str], rates: list[float], word: str = "NAME") -> dict[str, float]:
    """``--model-lr NAME=RATE ...`` as a dict (``word``: what the help calls NAME); one-line errors for a bad item or
    a second ``--lr``."""
    rate_of = {}
    for item in items:
        name, _, rate = item.partition("=")
        try:
            rate_of[name] = float(rate)
        except ValueError:
            rate_of[name] = None
        if name not in names or rate_of[name] is None:
            raise ValueError(f"--model-lr: expected {word}=RATE with {word} one of {tuple(names)}, got {item!r}")
    if rate_of and len(rates) > 1:
        raise ValueError("--model-lr: give one --lr with it (the rate of the other models), not several")
    return rate_of
