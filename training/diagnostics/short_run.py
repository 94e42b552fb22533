"""The short training run the learning diagnostics share (``cross_dataset.py``, ``synthetic_depth.py``).

AdamW with OneCycle lr 1e-3, loss PA + N-MPJPE, gradient clipping at 1.0; PA-MPJPE on fixed clean batches at four
points of the run, printed next to the flat baseline's (normalised units).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

from lfm_engine.geometry import n_mpjpe, pa_mpjpe
from training.data.sampler import Batch
from training.train import to_torch


def flat_error(val: list[Batch]) -> float:
    """Mean PA-MPJPE of the flat lift (x, y, 0) over ``val``."""
    return float(np.mean([pa_mpjpe(np.pad(b.points, ((0, 0), (0, 0), (0, 1))).astype(np.float64),
                                   b.target.astype(np.float64)).mean() for b in val]))  # fmt: skip


def val_error(net: torch.nn.Module, forward: Callable, val: list[Batch]) -> float:
    """Mean PA-MPJPE of ``forward(points, visible, adjacency, side)`` over ``val``, with ``net`` in eval mode."""
    net.eval()
    with torch.no_grad():
        err = np.mean([pa_mpjpe(forward(*to_torch(b, "cpu")[:4]), to_torch(b, "cpu")[4]).mean().item() for b in val])
    net.train()
    return float(err)


def train_briefly(net: torch.nn.Module, forward: Callable, next_batch: Callable[[], Batch], val: list[Batch],
                  steps: int, label: str) -> None:  # fmt: skip
    """Train ``net`` (called through ``forward``) for ``steps`` batches from ``next_batch()``, printing the error
    on ``val`` against the flat baseline's after each quarter of the run."""
    flat = flat_error(val)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-3, total_steps=steps, pct_start=0.05)
    t0 = time.time()
    for step in range(steps):
        points, visible, adj, side, target = to_torch(next_batch(), "cpu")
        pred = forward(points, visible, adj, side)
        loss = pa_mpjpe(pred, target).mean() + n_mpjpe(pred, target).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        if (step + 1) % max(steps // 4, 1) == 0:
            err = val_error(net, forward, val)
            print(f"{label}, step {step + 1}: PA-MPJPE {err:.4f}, flat {flat:.4f} ({100 * (err / flat - 1):+.0f}%), "
                  f"{time.time() - t0:.0f} s", flush=True)  # fmt: skip
