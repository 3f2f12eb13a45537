"""The options every sweep tool of ``tools/`` shares: which sweep, which file, how many runs at once, which rows."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def sweep_parser(description: str, sweeps, default: str, only_help: str) -> argparse.ArgumentParser:
    """A parser with ``--sweep`` (one of ``sweeps``), ``--out``, ``--jobs`` and ``--only LABEL`` (repeatable)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--sweep", choices=sorted(sweeps), default=default, help=f"which runs (default {default})")
    parser.add_argument("--out", type=Path, help="the file to write (default: the sweep's file in results/)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="runs at once (default: one per CPU)")
    parser.add_argument("--only", action="append", metavar="LABEL", help=only_help)
    return parser


def parse_sweep_arguments(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse, refusing a ``--jobs`` below 1 with the parser's one-line error."""
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error(f"--jobs: expected a positive integer, got {args.jobs}")
    return args
