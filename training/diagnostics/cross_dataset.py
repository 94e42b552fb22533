"""Is the held-out human limited by the model or by the data? (docs/MODEL.md, "What limits the held-out human")

Trains a model briefly on one training mix and reports PA-MPJPE on clean views of HDM05 actor "tr" (never in any
mix), next to the flat baseline on the same views, at four points of the run (normalised units, lower is better).

    .venv/bin/python training/diagnostics/cross_dataset.py --model lfm --data hdm05
    models: lfm (the shipped architecture and size), shipped (the shipped weights, not trained further),
            lfm_id (plus a learned embedding per joint index: not permutation-equivariant, only possible with one
            rig), mlp (SimpleBaseline, the specialist)
    data:   hdm05        the other four HDM05 actors through HDM05's own rig (the specialist's data)
            cmu_h36m     the four CMU files, all through the H36M-17 layout (one rig; evaluated as H36M-17)
            cmu_rigs     the four CMU files through their own rigs and the four standard layouts
            cmu_variants the same with the rig variants (joint subsets, extra points, mirroring, dropped sides)
            humans       every human pose set of the shipped mix (mocap through five rigs each, the Rigify
                         humans), with variants
            humans_rigs  the same without the rig variants
            all          the shipped training mix, every category (with the rig variants)
            all_rigs     the same without the rig variants

600 steps of about 3,500 joints (128 HDM05 frames), AdamW with OneCycle lr 1e-3, gradient clipping 1.0, loss
PA + N-MPJPE, half the batches corrupted as in training, one CPU thread: 1 to 5 minutes a run.
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

import training.data.sampler as sampler_module  # noqa: E402
from lfm_engine.config import ModelConfig  # noqa: E402
from lfm_engine.model import LFMModel  # noqa: E402
from training.data.mocap import standard_layouts  # noqa: E402
from training.data.sampler import CORRUPTED_BATCHES, Sampler, make_batch  # noqa: E402
from training.data.sources import PoseSet, load_sources  # noqa: E402
from training.diagnostics.short_run import flat_error, train_briefly, val_error  # noqa: E402
from training.evaluate import SimpleBaseline, held_out_human  # noqa: E402

DATA = ("hdm05", "cmu_h36m", "cmu_rigs", "cmu_variants", "humans", "humans_rigs", "all", "all_rigs")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=["lfm", "lfm_id", "mlp", "shipped"], default="lfm")
    ap.add_argument("--data", choices=DATA, default="hdm05")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=128, help="HDM05 frames per step (the same joints for the others)")
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "training", "cache", "synthetic"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    train_hdm, test_hdm = held_out_human(args.shared)
    J = train_hdm.rig.num_joints
    if args.model == "lfm_id" and args.data != "hdm05":
        ap.error("lfm_id needs one fixed rig: --data hdm05")
    torch.manual_seed(0)
    rng = np.random.default_rng(0)

    test = test_hdm
    if args.data == "cmu_h36m":
        test = PoseSet("hdm05_tr:h36m17", "human", *standard_layouts(test_hdm.positions, test_hdm.rig)["h36m17"])
    if args.model == "mlp":
        net = SimpleBaseline(test.rig.num_joints).net
        forward = lambda points, visible, adjacency, side: net(points, visible)  # noqa: E731
    elif args.model == "shipped":
        from lfm_engine.weights import load_weights

        weights = load_weights()
        net = forward = LFMModel(weights.config)
        net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.tensors.items()})
    else:
        net = LFMModel(ModelConfig())
        forward = net
        if args.model == "lfm_id":  # a learned vector per joint index, added to each token's encoding
            index = torch.nn.Embedding(J, net.config.d_model)
            torch.nn.init.normal_(index.weight, std=0.02)
            net.add_module("index", index)
            net.tpe.register_forward_hook(lambda module, inputs, out: out + index.weight)  # (B, J, D)
    val = [make_batch(test, np.random.default_rng(5), 256 * test.rig.num_joints, corrupt=False,
                      rig_variants=False) for _ in range(2)]  # fmt: skip
    if args.model == "shipped":
        err, flat = val_error(net, forward, val), flat_error(val)
        print(f"shipped weights: PA-MPJPE {err:.4f}, flat {flat:.4f} ({100 * (err / flat - 1):+.0f}%)")
        return

    if args.data == "hdm05":

        def next_batch():
            return make_batch(train_hdm, rng, args.batch * J, corrupt=rng.random() < CORRUPTED_BATCHES,
                              rig_variants=False)  # fmt: skip
    else:
        sources = load_sources(args.shared, args.cache, exclude=("hdm05_subset",))
        humans = sources["human"]
        if args.data == "cmu_h36m":
            humans = [p for p in humans if p.name.endswith(":h36m17")]
        elif args.data in ("cmu_rigs", "cmu_variants"):
            humans = [p for p in humans if p.name.startswith("cmu")]
        if args.data in ("cmu_h36m", "cmu_rigs", "humans_rigs", "all_rigs"):  # no rig variants
            make = sampler_module.make_batch
            sampler_module.make_batch = lambda *a, **k: make(*a, **{**k, "rig_variants": False})
        chosen = sources if args.data.startswith("all") else {"human": humans}
        next_batch = Sampler.by_category(chosen, seed=0, tokens=args.batch * J).batch
        print("training sets:", ", ".join(p.name for sets in chosen.values() for p in sets))
    train_briefly(net, forward, next_batch, val, args.steps, f"{args.model} on {args.data}")


if __name__ == "__main__":
    main()
