"""Data-parallel training with PyTorch's DistributedDataParallel, under ``torchrun`` or as one plain process.

    torchrun --nproc_per_node 2 training/train.py --out runs/x ...     # 2 processes (gloo on CPU, NCCL on GPUs)
    python training/train.py --out runs/x ...                          # 1 process, no process group

Each rank reads its own data streams (:mod:`training.data.stream`), DDP all-reduces (averages) the gradients, and
rank 0 alone writes logs, checkpoints and weights. Checkpoints hold no rank-specific state, so a run resumes under
any world size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run: ``rank`` of ``world``, ``local_rank`` on its machine."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init(device_arg: str = "auto") -> tuple[Ranks, torch.device]:
    """Join the process group when launched by ``torchrun`` (``WORLD_SIZE`` > 1); pick the device.

    ``device_arg``: ``"auto"`` (CUDA when available, one GPU per local rank), ``"cpu"``, ``"cuda"``, ...
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available() if device_arg == "auto" else device_arg.startswith("cuda")
    ranks = Ranks()
    if world > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
        ranks = Ranks(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    if cuda:
        torch.cuda.set_device(ranks.local_rank)
        return ranks, torch.device("cuda", ranks.local_rank)
    return ranks, torch.device("cpu" if device_arg == "auto" else device_arg)


def wrap(model: torch.nn.Module, ranks: Ranks, device: torch.device) -> torch.nn.Module:
    """``model`` in DistributedDataParallel when there is more than one rank, else itself."""
    if ranks.world == 1:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def total(value: float, ranks: Ranks, device: torch.device) -> float:
    """The sum of ``value`` over the ranks."""
    if ranks.world == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item())


def agree(flag: bool, ranks: Ranks, device: torch.device) -> bool:
    """Rank 0's ``flag`` on every rank (so all ranks stop at the same step)."""
    if ranks.world == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.broadcast(t, 0)
    return bool(t.item())


def barrier(ranks: Ranks) -> None:
    if ranks.world > 1:
        dist.barrier()


def finish(ranks: Ranks) -> None:
    if ranks.world > 1:
        dist.destroy_process_group()
