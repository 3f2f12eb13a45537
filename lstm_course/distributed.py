"""Data-parallel training across processes with ``torch.distributed``, as launched by ``torchrun``.

    torchrun --standalone --nproc_per_node=2 -m lstm_course train-lm --minutes 1 --out CKPT

``torchrun`` starts one process per worker and tells each its ``RANK`` and the ``WORLD_SIZE`` in
environment variables. Each process then:

* joins the process group, with the ``gloo`` backend on CPUs and ``nccl`` on GPUs;
* builds the same model from the same seed, wrapped in ``DistributedDataParallel``, which averages
  the gradients of all processes after every backward pass, so every copy takes the same step;
* trains on its own shard of the text: the text is cut into ``batch_size × world_size`` streams and
  process ``r`` takes streams ``r·B … (r+1)·B − 1``, so the effective batch is ``world_size`` times
  larger, and one step covers ``world_size`` times more text;
* agrees with the others on when to stop (:func:`agree_max`), since a process that stopped alone
  would leave the others waiting for its gradients forever.

Only process 0 (``World.is_main``) writes checkpoints, logs and prints the result. Without
``torchrun`` the world is one process and none of this does anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def backend(self) -> str:
        return "nccl" if torch.cuda.is_available() else "gloo"


def current_world() -> World:
    """The world ``torchrun`` describes in the environment; a single process otherwise."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    return World(int(os.environ.get("RANK", "0")), size, int(os.environ.get("LOCAL_RANK", "0")))


def join(world: World) -> bool:
    """Join the process group if there is more than one process; return whether this call joined it."""
    if world.size == 1 or dist.is_initialized():
        return False
    dist.init_process_group(world.backend)
    return True


def leave(joined: bool) -> None:
    if joined and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: torch.nn.Module, world: World) -> torch.nn.Module:
    """``DistributedDataParallel(model)`` in a world of several processes, else ``model`` itself."""
    if world.size == 1:
        return model
    return torch.nn.parallel.DistributedDataParallel(model)


def agree_max(value: float, world: World) -> float:
    """The largest ``value`` over all processes (every process must call this at the same point)."""
    if world.size == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return float(tensor.item())


def from_main(value: float, world: World) -> float:
    """Process 0's ``value``, on every process."""
    if world.size == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64)
    dist.broadcast(tensor, src=0)
    return float(tensor.item())
