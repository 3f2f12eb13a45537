"""Command-line entry point: ``python -m lstm_course COMMAND ...``.

One module per command group, registered here (:data:`GROUPS`): ``experiments`` (``adding``,
``forecast``, ``tagging``, ``seq2seq``, ``architectures``: chapters 8 and 11 to 14), ``data``
(``fetch-corpus``, ``fetch-series``: the set-up), ``language_model`` (``train-lm``, ``evaluate``,
``sample``: chapter 10) and ``lab`` (JupyterLab on the chapters); ``common`` holds what they share.
The instructor's commands (``grade``, ``student-edition``) are ``python -m lstm_instructor``'s.

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
    python -m lstm_course architectures --seeds 0 1 2 --lr 0.03 --minutes 3 --jobs 2 --out results/architectures_lm.json
    python -m lstm_course lab

Each command shows a progress bar on standard error and ends with one JSON line on standard
output, so its result can be piped or parsed.
"""

from __future__ import annotations

import argparse
import sys

from lstm_course.cli import data, experiments, lab, language_model
from lstm_course.cli.common import DescribedCommands, run_command

GROUPS = (experiments, data, language_model, lab)
"""Every command group, in the order ``--help`` lists them; each has ``register(commands)``."""


DESCRIPTION = "The course's commands: experiments that write results/, data set-up, the language model, the lab."
INSTRUCTORS = ("grade", "student-edition")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lstm_course", description=DESCRIPTION,
                                     epilog="The instructor's commands (grade, student-edition): python -m "
                                            "lstm_instructor --help")
    commands = DescribedCommands(parser.add_subparsers(dest="command", required=True))
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in INSTRUCTORS:
        print(f"error: {argv[0]} is an instructor's command: python -m lstm_instructor {argv[0]} ...", file=sys.stderr)
        return 2
    return run_command(build_parser(), argv)
