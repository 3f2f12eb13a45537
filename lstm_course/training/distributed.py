"""Data-parallel training across processes with ``torch.distributed``, as launched by ``torchrun``.

    torchrun --standalone --nproc_per_node=2 -m lstm_course train-lm --minutes 1 --out CKPT

``torchrun`` starts one process per worker and tells each its ``RANK`` and the ``WORLD_SIZE`` in
environment variables. Each process then:

* joins the process group, with the ``gloo`` backend on CPUs and ``nccl`` on GPUs, where process
  ``r`` of a machine uses GPU ``LOCAL_RANK`` (one GPU per process);
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

from lstm_course.plumbing.runtime import resolve_device


@dataclass(frozen=True)
class World:
    """This process's place among the training processes, and the device it trains on."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def backend(self) -> str:
        return "nccl" if self.device.type == "cuda" else "gloo"


def current_world(device: str = "cpu") -> World:
    """The world ``torchrun`` describes in the environment; a single process otherwise.

    ``device`` (``'auto'``, ``'cpu'``, ``'cuda'`` or ``'cuda:N'``) is resolved by
    :func:`lstm_course.plumbing.runtime.resolve_device`; with several processes on GPUs, process ``r`` of a
    machine takes GPU ``LOCAL_RANK``, whatever index was asked for. More processes on a machine than
    it has GPUs is an error in every process, naming both numbers: two processes cannot share a GPU
    under ``nccl``, and a process that waited for a missing GPU's partner would wait forever.
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device)
    if resolved.type == "cuda" and size > 1:
        processes_here, gpus = int(os.environ.get("LOCAL_WORLD_SIZE", size)), torch.cuda.device_count()
        if processes_here > gpus:
            raise ValueError(f"device {device!r}: {processes_here} training processes on this machine but PyTorch sees "
                             f"{gpus} CUDA GPU(s), and each process needs its own; start at most {gpus} "
                             f"(torchrun --nproc_per_node={gpus}) or train on the CPU (--device cpu)")
        resolved = resolve_device(f"cuda:{local_rank}")
    return World(rank, size, local_rank, resolved)


def join(world: World) -> bool:
    """Join the process group if there is more than one process; return whether this call joined it."""
    if world.size == 1 or dist.is_initialized():
        return False
    if world.device.type == "cuda":
        torch.cuda.set_device(world.device)  # nccl's collectives run on this process's own GPU
    dist.init_process_group(world.backend)
    return True


def leave(joined: bool) -> None:
    if joined and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: torch.nn.Module, world: World) -> torch.nn.Module:
    """``DistributedDataParallel(model)`` in a world of several processes, else ``model`` itself."""
    if world.size == 1:
        return model
    if world.device.type == "cuda":
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=[world.device.index])
    return torch.nn.parallel.DistributedDataParallel(model)


def agree_max(value: float, world: World) -> float:
    """The largest ``value`` over all processes (every process must call this at the same point)."""
    if world.size == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=world.device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return float(tensor.item())


def from_main(value: float, world: World) -> float:
    """Process 0's ``value``, on every process."""
    if world.size == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=world.device)
    dist.broadcast(tensor, src=0)
    return float(tensor.item())
