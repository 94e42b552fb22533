"""Is there depth to learn in the random Rigify poses? (docs/MODEL.md, "What limits the held-out human")

Trains a model on the first 90 % of one cached synthetic pose set, through its own rig, and reports PA-MPJPE on
clean views of the last 10 % next to the flat baseline, at four points of the run (normalised units).

    .venv/bin/python training/diagnostics/synthetic_depth.py --set rigify_basic_quadruped --model mlp
    models: mlp (SimpleBaseline, fixed joint order), lfm (the shipped architecture and size)

128 poses a step, AdamW with OneCycle lr 1e-3, gradient clipping 1.0, loss PA + N-MPJPE, half the batches
corrupted as in training, one CPU thread. Needs the cache of ``make data``.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from lfm_engine.config import ModelConfig  # noqa: E402
from lfm_engine.model import LFMModel  # noqa: E402
from training.data.sampler import CORRUPTED_BATCHES, make_batch  # noqa: E402
from training.data.sources import PoseSet, synthetic_sets  # noqa: E402
from training.diagnostics.short_run import train_briefly  # noqa: E402
from training.evaluate import SimpleBaseline  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="rigify_basic_quadruped", help="a cached pose set, e.g. rigify_wolf_noface")
    ap.add_argument("--model", choices=["mlp", "lfm"], default="mlp")
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--cache", default=os.path.join(ROOT, "training", "cache", "synthetic"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    found = [p for p in synthetic_sets(args.cache) if p.name == args.set]
    if not found:
        sys.exit(f"{args.set}: not in {args.cache} (run `make data`)")
    pset = found[0]
    cut = int(0.9 * len(pset.positions))
    train = PoseSet(pset.name, pset.category, pset.positions[:cut], pset.rig)
    test = PoseSet(pset.name, pset.category, pset.positions[cut:], pset.rig)
    J = pset.rig.num_joints
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    if args.model == "mlp":
        net = SimpleBaseline(J).net
        forward = lambda points, visible, adjacency, side: net(points, visible)  # noqa: E731
    else:
        net = forward = LFMModel(ModelConfig())
    val = [make_batch(test, np.random.default_rng(5), 256 * J, corrupt=False, rig_variants=False) for _ in range(2)]

    def next_batch():
        return make_batch(train, rng, 128 * J, corrupt=rng.random() < CORRUPTED_BATCHES, rig_variants=False)

    train_briefly(net, forward, next_batch, val, args.steps, f"{args.model} on {args.set}")


if __name__ == "__main__":
    main()
