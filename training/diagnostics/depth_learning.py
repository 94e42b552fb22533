"""Does a lifter learn depth? Flat baseline vs fixed-order MLP vs 3D-LFM (with and without joint identities).

Trains each model briefly on one real mocap file (random yaw over all angles, pitch +-0.5 rad, orthographic
projection) and reports PA-MPJPE on held-out frames (the last 10% of the file), in units of the 2D normalisation
(the visible joints' max abs coordinate after centring). Written to diagnose why the equivariant model is slow to
learn depth (docs/MODEL.md); it is not the training pipeline (issue 3).

    .venv/bin/python training/diagnostics/depth_learning.py \
        --data ../shared/data/mocap/cmu_convseq2seq_expmap.npz --steps 3000 --models flat mlp lfm lfm_identity
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch

from lfm_engine.config import ModelConfig
from lfm_engine.geometry import n_mpjpe, pa_mpjpe
from lfm_engine.model import LFMModel
from lfm_engine.rig import Rig, adjacency_from_edges


def rotations(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 3, 3)``: yaw uniform over the circle (about y), then pitch in +-0.5 rad (about x)."""
    yaw, pitch = rng.uniform(-np.pi, np.pi, n), rng.uniform(-0.5, 0.5, n)
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    z, o = np.zeros(n), np.ones(n)
    ry = np.stack([cy, z, sy, z, o, z, -sy, z, cy], -1).reshape(n, 3, 3)
    rx = np.stack([o, z, z, z, cp, -sp, z, sp, cp], -1).reshape(n, 3, 3)
    return rx @ ry


def sample(frames: np.ndarray, rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Normalised 2D ``(n, J, 2)`` and 3D ``(n, J, 3)`` (camera frame, y down) of random frames and views."""
    gt = frames[rng.integers(0, len(frames), n)]
    gt = gt - gt.mean(1, keepdims=True)
    gt = gt @ rotations(rng, n).swapaxes(-1, -2)
    gt = gt * np.array([1.0, -1.0, -1.0])  # y up -> y down (a 180 degree turn about x: still a rotation)
    scale = np.abs(gt[..., :2]).max(axis=(1, 2), keepdims=True)
    return torch.from_numpy((gt[..., :2] / scale).astype(np.float32)), torch.from_numpy((gt / scale).astype(np.float32))


class FixedOrderMLP(torch.nn.Module):
    """SimpleBaseline-like specialist: flattened 2D of a fixed joint order -> flattened 3D."""

    def __init__(self, num_joints: int, width: int = 512):
        super().__init__()
        self.J = num_joints
        self.net = torch.nn.Sequential(
            torch.nn.Linear(2 * num_joints, width), torch.nn.GELU(), torch.nn.Linear(width, width),
            torch.nn.GELU(), torch.nn.Linear(width, 3 * num_joints),
        )  # fmt: skip

    def forward(self, points, visible, adjacency, side=None):
        return self.net(points.reshape(len(points), -1)).reshape(len(points), self.J, 3)


def make_model(kind: str, num_joints: int, config: ModelConfig) -> torch.nn.Module:
    if kind == "mlp":
        return FixedOrderMLP(num_joints)
    if kind == "lfm_noside":
        return LFMModel(dataclasses.replace(config, side_embedding=False))
    model = LFMModel(config)
    if kind == "lfm_identity":  # control experiment only: breaks permutation equivariance on purpose
        emb = torch.nn.Parameter(torch.randn(num_joints, config.d_model) * 0.1)
        model.register_parameter("joint_identity", emb)
        model.tpe.register_forward_hook(lambda module, inputs, out: out + emb)
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="a mocap .npz from ../shared/data/mocap")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument(
        "--models",
        nargs="+",
        default=["flat", "mlp", "lfm_noside", "lfm", "lfm_identity"],
        help="lfm: the shipped model (side embedding); lfm_noside: without it; lfm_identity: control",
    )
    ap.add_argument("--loss", choices=["pa", "pa+n"], default="pa+n", help="pa+n (the training loss) or PA alone")
    ap.add_argument("--small", action="store_true", help="LFM with d=64, 2 layers (default: the shipped size)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = np.load(args.data, allow_pickle=True)
    frames, parents = data["positions"].astype(np.float64), data["parents"]
    split = int(len(frames) * 0.9)
    train, test = frames[:split], frames[split:]
    J = frames.shape[1]
    adjacency = torch.from_numpy(adjacency_from_edges([(p, j) for j, p in enumerate(parents) if p >= 0], J))
    config = (
        ModelConfig(d_model=64, n_layers=2, n_heads=4, mlp_ratio=2, fourier_features=32)
        if args.small
        else ModelConfig()
    )
    rig = Rig.from_parents(data["joint_names"].tolist(), parents.tolist())
    side = torch.from_numpy(rig.sides())  # the shipped model's left / centre / right attribute
    test_2d, test_3d = sample(test, np.random.default_rng(1), 1024)
    visible = torch.ones(1, J, dtype=torch.bool)
    print(f"{args.data}: {len(train)} train / {len(test)} test frames, {J} joints; {args.steps} steps x {args.batch}")
    for kind in args.models:
        if kind == "flat":
            flat = torch.cat([test_2d, torch.zeros_like(test_2d[..., :1])], -1)
            print(f"{kind:>13}: PA-MPJPE {pa_mpjpe(flat, test_3d).mean().item():.4f}")
            continue
        torch.manual_seed(0)
        rng = np.random.default_rng(0)
        model = make_model(kind, J, config)
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.steps, pct_start=0.05)
        t0 = time.time()
        curve = []
        for step in range(args.steps):
            model.train()
            p2, p3 = sample(train, rng, args.batch)
            pred = model(p2, visible.expand(args.batch, -1), adjacency, side)
            loss = pa_mpjpe(pred, p3).mean()
            if args.loss == "pa+n":
                loss = loss + n_mpjpe(pred, p3).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if (step + 1) % max(args.steps // 6, 1) == 0 or step + 1 == args.steps:
                model.eval()
                with torch.no_grad():
                    pred = model(test_2d, visible.expand(len(test_2d), -1), adjacency, side)
                    err = pa_mpjpe(pred, test_3d).mean()
                    mirrored = pred * torch.tensor([1.0, 1.0, -1.0])
                    either = torch.minimum(pa_mpjpe(pred, test_3d), pa_mpjpe(mirrored, test_3d)).mean()
                curve.append(f"{step + 1}:{err.item():.4f}")
        print(f"{'':>13}  up to a depth flip: {either.item():.4f}")
        print(f"{kind:>13}: PA-MPJPE {curve[-1].split(':')[1]} after {args.steps} steps ({time.time() - t0:.0f} s); "
              f"curve {' '.join(curve)}")  # fmt: skip


if __name__ == "__main__":
    main()
