"""Contiguous batches for truncated backpropagation through time (TBPTT).

The training text, as ids, is cut into ``batch_size`` equal streams laid side by side::

    stream 0: ids[0      : N]
    stream 1: ids[N      : 2N]        N = (len(ids) - 1) // batch_size
    ...

A batch is the next ``bptt`` steps of every stream, ``inputs`` ``(T, B)`` and ``targets`` the same
positions shifted by one. Because row ``b`` of batch ``k + 1`` continues exactly where row ``b`` of
batch ``k`` stopped, the LSTM's final state of one batch is the right initial state of the next:
the training loop carries it across batches, but *detaches* it (``state.detach()``), so gradients
flow back at most ``bptt`` steps while the forward pass remembers beyond that. The last batch of an
epoch may be shorter than ``bptt``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from lstm_course.plumbing.validation import (
    positive_int as positive_integer,  # the shared check; the name chapter 10 shows
)


def streams(ids: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """``inputs``, ``targets``: ``(N, batch_size)`` int64 arrays, time-major, column ``b`` = stream ``b``."""
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"ids: expected a 1-D integer array, got shape {ids.shape} and dtype {ids.dtype}")
    batch_size = positive_integer("batch_size", batch_size)
    length = (len(ids) - 1) // batch_size
    if length < 1:
        raise ValueError(f"ids: expected at least batch_size + 1 = {batch_size + 1} ids, got {len(ids)}")
    inputs = ids[: length * batch_size].reshape(batch_size, length).T
    targets = ids[1 : length * batch_size + 1].reshape(batch_size, length).T
    return np.ascontiguousarray(inputs, dtype=np.int64), np.ascontiguousarray(targets, dtype=np.int64)


def shard(array: np.ndarray, rank: int, world_size: int) -> np.ndarray:
    """Process ``rank``'s streams: ``(N, B * world_size)`` → ``(N, B)``, columns ``rank * B`` onwards."""
    if not isinstance(world_size, int) or world_size < 1 or not isinstance(rank, int) or not 0 <= rank < world_size:
        raise ValueError(f"rank, world_size: expected 0 <= rank < world_size, got {rank!r} and {world_size!r}")
    if array.ndim != 2 or array.shape[1] % world_size:
        raise ValueError(f"array: expected (N, B * world_size) with world_size = {world_size}, got shape {array.shape}")
    width = array.shape[1] // world_size
    return np.ascontiguousarray(array[:, rank * width : (rank + 1) * width])


def number_of_batches(num_ids: int, batch_size: int, bptt: int, world_size: int = 1) -> int:
    """How many batches :func:`tbptt_batches` yields per epoch."""
    return -(-((num_ids - 1) // (batch_size * world_size)) // bptt)


def tbptt_batches(ids: np.ndarray, batch_size: int, bptt: int, start: int = 0, rank: int = 0,
                  world_size: int = 1) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(inputs, targets)``, each a ``(T <= bptt, batch_size)`` int64 tensor, in stream order.

    ``start``: the index of the first batch (to resume an epoch part-way through). With
    ``world_size`` processes (:mod:`lstm_course.training.distributed`), the text is cut into
    ``batch_size * world_size`` streams and process ``rank`` gets streams ``rank * batch_size`` to
    ``(rank + 1) * batch_size - 1``: together the processes cover the text once per epoch.
    """
    bptt = positive_integer("bptt", bptt)
    inputs, targets = (shard(array, rank, world_size) for array in streams(ids, batch_size * world_size))
    for offset in range(start * bptt, len(inputs), bptt):
        yield torch.from_numpy(inputs[offset : offset + bptt]), torch.from_numpy(targets[offset : offset + bptt])
