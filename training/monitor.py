"""The depth monitor of a training run: is the model leaving the flat plateau? (every checkpoint, in the log)

On fixed clean batches of the held-out HDM05 actor (never trained on), on its own rig and as COCO-17, with the
training views (pinhole and orthographic): the model's PA-MPJPE and N-MPJPE relative to the flat lift's
(``pa_vs_flat`` -0.3 = 30 % below flat), and the depth-extent ratio (std over joints of the predicted camera depth
after matching centroid and scale, over the true one's; the flat lift has 0). For watching a run only: no
checkpoint is chosen by it.
"""

from __future__ import annotations

import numpy as np
import torch

from lfm_engine.geometry import depth_extent_ratio, n_mpjpe, pa_mpjpe
from training.data.mocap import standard_layouts
from training.data.sampler import NO_AUGMENT, Batch, make_batch
from training.data.sources import PoseSet, held_out_human
from training.data.stream import batch_tensors


def monitor_batches(shared: str, subject: str = "tr", frames: int = 256) -> dict[str, list[Batch]]:
    """``{set name: 2 fixed clean batches}`` of ``subject`` on HDM05's rig and as COCO-17."""
    _train, test = held_out_human(shared, subject)
    coco = PoseSet(f"{test.name}:coco17", "human", *standard_layouts(test.positions, test.rig)["coco17"])
    rng = np.random.default_rng(1234)
    return {
        s.name: [make_batch(s, rng, frames * s.rig.num_joints, corrupt=False, augment=NO_AUGMENT, max_samples=frames)
                 for _ in range(2)]
        for s in (test, coco)
    }  # fmt: skip


def depth_report(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Mean PA-MPJPE, N-MPJPE and depth-extent ratio of ``(B, J, 3)`` predictions (normalised units)."""
    return {
        "pa": pa_mpjpe(pred, target).mean().item(),
        "n": n_mpjpe(pred, target).mean().item(),
        "depth_ratio": float(depth_extent_ratio(pred, target)),
    }


@torch.no_grad()
def run_monitor(model: torch.nn.Module, batches: dict[str, list[Batch]], device: torch.device) -> dict[str, float]:
    """``{set/metric: value}`` for the log: ``pa_vs_flat``, ``n_vs_flat``, ``depth_ratio`` and ``pa`` per set."""
    model.eval()
    out = {}
    for name, bs in batches.items():
        rows, flats = [], []
        for b in bs:
            points, visible, adj, side, target = (t.to(device) for t in batch_tensors(b))
            rows.append(depth_report(model(points, visible, adj, side).float(), target))
            flats.append(depth_report(torch.nn.functional.pad(points, (0, 1)), target))
        m = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        f = {k: float(np.mean([r[k] for r in flats])) for k in ("pa", "n")}
        short = name.split("_", 1)[-1]
        out[f"{short}/pa_vs_flat"] = round(m["pa"] / f["pa"] - 1, 4)
        out[f"{short}/n_vs_flat"] = round(m["n"] / f["n"] - 1, 4)
        out[f"{short}/depth_ratio"] = round(m["depth_ratio"], 3)
        out[f"{short}/pa"] = round(m["pa"], 4)
    model.train()
    return out
