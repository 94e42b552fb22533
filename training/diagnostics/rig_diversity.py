"""How fast does the lifter learn depth as the training rigs get more varied? (docs/MODEL.md, "Rig diversity")

Trains a small model briefly on one of several training mixes drawn with the real sampler, and reports PA-MPJPE
on clean views of the CMU 24-joint file through its own rig, next to the flat baseline.

    .venv/bin/python training/diagnostics/rig_diversity.py --mix one_rig --steps 300
    mixes: one_rig, one_rig_variants, mocap_layouts, humans (the training mix restricted to people)
    options: --full (the shipped size), --clip (gradient clipping at 1.0), --target image|camera
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import training.data.sampler as sampler_module  # noqa: E402
from lfm_engine.config import ModelConfig  # noqa: E402
from lfm_engine.geometry import n_mpjpe, pa_mpjpe  # noqa: E402
from lfm_engine.model import LFMModel  # noqa: E402
from training.data.sampler import Sampler, make_batch  # noqa: E402
from training.data.sources import load_sources, mocap_sets  # noqa: E402
from training.train import to_torch  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mix", choices=["one_rig", "one_rig_variants", "mocap_layouts", "humans"], default="one_rig")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--clip", action="store_true")
    ap.add_argument("--target", choices=["camera", "image"], default="camera")
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "data"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    sampler_module.TARGET = args.target
    cmu = mocap_sets(os.path.join(args.shared, "mocap", "cmu_convseq2seq_expmap.npz"))[0]
    humans = load_sources(args.shared, "/nonexistent", exclude=("hdm05_subset",))["human"]
    mocap = [p for p in humans if p.name.startswith("cmu")]
    mixed = Sampler.by_category({"human": humans}, seed=0, tokens=64 * 24)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    small = ModelConfig(d_model=64, n_layers=2, n_heads=4, mlp_ratio=2, fourier_features=32)
    model = LFMModel(ModelConfig() if args.full else small)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 1e-3, total_steps=args.steps, pct_start=0.05)
    val = [make_batch(cmu, np.random.default_rng(5), 2048, corrupt=False, rig_variants=False) for _ in range(3)]
    t0 = time.time()
    for _ in range(args.steps):
        if args.mix == "one_rig":
            batch = make_batch(cmu, rng, 64 * 24, corrupt=False, rig_variants=False)
        elif args.mix == "one_rig_variants":
            batch = make_batch(cmu, rng, 64 * 24, corrupt=False, rig_variants=True)
        elif args.mix == "mocap_layouts":
            batch = make_batch(mocap[rng.integers(len(mocap))], rng, 64 * 24, corrupt=False, rig_variants=False)
        else:
            batch = mixed.batch()
        points, visible, adj, side, target = to_torch(batch, "cpu")
        pred = model(points, visible, adj, side)
        loss = pa_mpjpe(pred, target).mean() + n_mpjpe(pred, target).mean()
        opt.zero_grad()
        loss.backward()
        if args.clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        err = np.mean([pa_mpjpe(model(*to_torch(b, "cpu")[:4]), to_torch(b, "cpu")[4]).mean().item() for b in val])
    flat = np.mean([pa_mpjpe(np.pad(b.points, ((0, 0), (0, 0), (0, 1))).astype(np.float64),
                             b.target.astype(np.float64)).mean() for b in val])  # fmt: skip
    print(f"{args.mix}: PA-MPJPE {err:.4f}, flat {flat:.4f} ({100 * (err / flat - 1):+.0f}%), "
          f"{args.steps} steps in {time.time() - t0:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
