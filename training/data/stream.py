"""Training batches as a stream a ``DataLoader`` can run in worker processes (so a GPU is never starved).

A run draws ``world_size x micro_batches`` streams per step: stream ``s`` is the ``s``-th micro-batch of every
step, and its ``i``-th batch in a phase depends on ``(seed, s, phase, i)`` only. So rank ``r`` of ``W`` with ``M``
micro-batches reads streams ``r * M .. r * M + M - 1``, and one process with ``W * M`` micro-batches reads exactly
the same batches: the global batch, and with it the loss trajectory, does not depend on how the streams are spread
over processes (``tests/training/test_distributed.py``).

Each phase of the schedule has streams of its own, and the training loop reads from the current phase's, so
workers that run ahead of the optimiser never make a batch of the wrong phase. Inside a stream, ``DataLoader``
workers take turns, and a stream is the same with any number of workers and across a resume.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import torch

from .sampler import Augment, Batch, Sampler
from .sources import PoseSet


def batch_tensors(batch: Batch) -> tuple[torch.Tensor, ...]:
    """``(points, visible, adjacency, side, target)`` as CPU tensors."""
    return (torch.from_numpy(batch.points), torch.from_numpy(batch.visible), torch.from_numpy(batch.adjacency),
            torch.from_numpy(batch.side), torch.from_numpy(batch.target))  # fmt: skip


class BatchStream(torch.utils.data.IterableDataset):
    """Endless micro-batches of one stream of one phase of the schedule.

    Batch ``i`` of the stream is drawn from a generator seeded with ``(*seed, i)`` alone, so the stream is the
    same whatever the number of ``DataLoader`` workers (worker ``w`` of ``k`` makes batches ``w``, ``w + k``, ...,
    the order a ``DataLoader`` yields them in), and a resumed run continues it exactly from ``start``.

    Args:
        entries, augment: the phase's pose sets and variants (as :class:`Sampler` takes them).
        seed: ``(run seed, stream, phase)``.
        start: the index of the first batch (the batches the run has already used).
        tokens, max_samples: the micro-batch size (:func:`training.data.sampler.make_batch`).
    """

    def __init__(self, entries: list[tuple[PoseSet, float]], augment: Augment, seed: tuple[int, ...], start: int,
                 tokens: int, max_samples: int):  # fmt: skip
        super().__init__()
        self.entries, self.augment, self.seed = entries, augment, tuple(int(v) for v in seed)
        self.start, self.tokens, self.max_samples = start, tokens, max_samples

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        info = torch.utils.data.get_worker_info()
        workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
        sampler = Sampler(self.entries, tokens=self.tokens, augment=self.augment, max_samples=self.max_samples)
        for i in itertools.count(self.start + worker, workers):
            sampler.rng = np.random.default_rng([*self.seed, i])
            yield batch_tensors(sampler.batch())


def stream_loader(stream: BatchStream, workers: int, pin_memory: bool = False):
    """An iterator over ``stream`` in ``workers`` processes (0: in this process)."""
    if workers == 0:
        return iter(stream)
    loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=workers, pin_memory=pin_memory,
                                         prefetch_factor=4, persistent_workers=True)  # fmt: skip
    return iter(loader)
