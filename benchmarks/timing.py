"""Shared by the benchmarks: the LSTM sizes they accept; interleaved timing comes from ``lstm_course.timing``."""

from __future__ import annotations

import argparse

from lstm_course.timing import interleaved_medians

__all__ = ["interleaved_medians", "size_parser"]


def size_parser(description: str) -> argparse.ArgumentParser:
    """Arguments every LSTM benchmark takes; defaults T=128, B=32, D=64, H=256, 7 repetitions."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--steps", type=int, default=128, help="sequence length T")
    parser.add_argument("--batch", type=int, default=32, help="batch size B")
    parser.add_argument("--input", type=int, default=64, help="input width D")
    parser.add_argument("--hidden", type=int, default=256, help="hidden size H")
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch and BLAS threads (default 1)")
    return parser
