"""The held-out category protocol: a model trained without the horse, cat and wolf metarigs, tested on them.

Fresh random poses of each held-out quadruped (drawn with bpy, a seed no training cache uses) are seen through the
evaluation's pinhole cameras (``training/evaluate.py``) and lifted by each weights file given, next to the flat
baseline (z = 0) on the same frames. PA-MPJPE and N-MPJPE in mm, clean and with 5 px noise + 20 % occlusion.

    echo '{"exclude": ["hdm05_subset", "rigify_horse", "rigify_cat", "rigify_cat_noface", "rigify_wolf",
           "rigify_wolf_noface"]}' > heldout.json
    .venv/bin/python training/train.py --out runs/heldout_quadrupeds --config heldout.json --steps 1500 \
        --minutes 32 --threads 2
    .venv/bin/python training/train.py --out runs/heldout_quadrupeds --export runs/heldout_quadrupeds.safetensors
    .venv/bin/python training/diagnostics/held_out_category.py runs/heldout_quadrupeds.safetensors \
        lfm_engine/weights/lfm_v1.safetensors

Needs bpy (the Rigify metarigs).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from lfm_engine import Lifter, Rig  # noqa: E402
from training.data import synthetic_rigify  # noqa: E402
from training.data.sources import PoseSet  # noqa: E402
from training.evaluate import evaluate_set  # noqa: E402

HELD_OUT = ("horse", "cat_noface", "wolf_noface")
CONDITIONS = ("clean", "5px + occl 20%")


def held_out_sets(poses: int, seed: int) -> list[PoseSet]:
    sets = []
    for variant in HELD_OUT:
        d = synthetic_rigify.generate(variant.replace("_noface", ""), poses, seed, face="noface" not in variant)
        rig = Rig.from_parents([str(n) for n in d["joint_names"]], [int(p) for p in d["parents"]],
                               name=f"rigify_{variant}", category="quadruped")  # fmt: skip
        sets.append(PoseSet(f"rigify_{variant}", "quadruped", np.asarray(d["positions"], np.float32), rig))
    return sets


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", nargs="+", help="weights files to compare")
    ap.add_argument("--poses", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=99)
    args = ap.parse_args(argv)
    sets = held_out_sets(args.poses, args.seed)
    lifters = {os.path.basename(w): Lifter.from_pretrained(w, precision="fp32") for w in args.weights}
    print(f"{'set':>20} {'condition':>15} " + " ".join(f"{k[:22]:>22}" for k in lifters) + f" {'flat':>12}")
    for pset in sets:
        rows = {k: evaluate_set(lf, pset, pset.rig, np.random.default_rng(5), args.poses) for k, lf in lifters.items()}
        for cond in CONDITIONS:
            cells = [
                f"{r[cond]['focal']['pa_mpjpe']:>8.1f} /{r[cond]['focal']['n_mpjpe']:>6.1f}" for r in rows.values()
            ]
            flat = next(iter(rows.values()))[cond]["flat"]
            print(f"{pset.name:>20} {cond:>15} " + " ".join(f"{c:>22}" for c in cells)
                  + f" {flat['pa_mpjpe']:>5.1f} /{flat['n_mpjpe']:>5.1f}")  # fmt: skip
    print("cells: PA-MPJPE / N-MPJPE in mm, lifted with the true focal length")


if __name__ == "__main__":
    main()
