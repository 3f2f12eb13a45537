"""``lab``: JupyterLab on the chapters, the way the notebooks expect (one thread per kernel)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _lab(args: argparse.Namespace) -> None:
    from lstm_course.plumbing.lab import start

    start(args.folder, port=args.port, open_browser=not args.no_browser, token=args.token)


def register(commands) -> None:
    """Add this group's commands to ``commands`` (the parser's subparsers)."""

    lab = commands.add_parser("lab", help="open the chapters in JupyterLab, one thread per kernel (make lab)")
    lab.add_argument("--folder", type=Path, default=Path("chapters"), help="the notebooks' folder (default chapters)")
    lab.add_argument("--port", type=int, default=8888, help="the server's port (default 8888)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser (print the address only)")
    lab.add_argument("--token", help="the server's token (default: a random one, printed in the address)")
    lab.set_defaults(run=_lab)
