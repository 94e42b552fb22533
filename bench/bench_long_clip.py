"""Long clips: peak memory and time to import, lift and key 100,000 frames (COCO-17), stage by stage.

Each stage runs in a fresh Python process and reports its resident memory: the baseline after its imports, its
peak (``VmHWM``) and the difference per frame, so that a stage whose memory grew faster than the clip would show.
The clip is the demo's walking figure (``blender_addon/demo.py``) made ``--frames`` long, projected through a
900 px camera, written as our NPZ and CSV.

Stages: ``read-npz`` and ``read-csv`` (``read_keypoints``), ``lift`` (``pipeline.run``: read, lift in chunks, world,
One-Euro smoothing, the clip solver unless ``--no-clip-solver``, armature; shipped weights), ``key`` (``lift`` plus
``blender_io.write_clip`` into bpy: an armature with one key per frame on every F-curve, then the .blend saved).

Run: ``.venv/bin/python bench/bench_long_clip.py [--frames 100000 10000] [--backend numpy|torch]
[--stages read-npz read-csv lift key] [--no-clip-solver]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("read-npz", "read-csv", "lift", "key")


def _rss_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, MB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_clip(frames: int, folder: Path) -> tuple[Path, Path]:
    """The demo walk, ``frames`` long, as NPZ and CSV in ``folder``."""
    import numpy as np

    from blender_addon import demo
    from lfm_engine import armature, get_rig, io

    world = demo.walking_figure(frames)
    cam = armature.world_to_camera(world)
    w, h = demo.DEMO_SIZE
    uv = cam[..., :2] / cam[..., 2:3] * demo.DEMO_FOCAL + np.array([w / 2, h / 2])
    uv += np.random.default_rng(0).normal(scale=0.5, size=uv.shape)
    rig = get_rig("coco17")
    uv[::50, rig.index("right_wrist")] = np.nan
    kp = io.Keypoints2D(uv, None, rig.joint_names, rig.edge_array(), image_size=demo.DEMO_SIZE, fps=demo.DEMO_FPS,
                        rig_name="coco17")  # fmt: skip
    return io.write_keypoints_npz(kp, folder / "long.npz"), io.write_keypoints_csv(kp, folder / "long.csv")


def run_stage(stage: str, npz: Path, csv: Path, backend: str, solve_clip: bool = True) -> dict:
    """One stage in this process; returns its figures."""
    import numpy as np  # noqa: F401 - imported before the baseline is taken

    from lfm_engine import pipeline
    from lfm_engine.io import read_keypoints

    if stage == "key":
        import bpy

        from blender_addon import blender_io

        bpy.ops.wm.read_factory_settings(use_empty=True)
    lifter = pipeline.load_lifter(None, backend) if stage in ("lift", "key") else None
    if lifter is not None and lifter.backend == "torch":
        import torch

        torch.set_num_threads(1)
    base = _rss_mb("VmRSS")
    t0 = time.perf_counter()
    if stage in ("read-npz", "read-csv"):
        kp = read_keypoints(npz if stage == "read-npz" else csv)
        frames = kp.num_frames
    else:
        settings = pipeline.LiftSettings(focal_length=900.0, smoothing="one_euro", backend=backend,
                                         solve_clip=solve_clip)  # fmt: skip
        result = pipeline.run(npz, settings, lifter=lifter)
        frames = result.num_frames
        if stage == "key":
            blender_io.write_clip(bpy.context, result)
            out = Path(tempfile.mkdtemp()) / "long.blend"
            bpy.ops.wm.save_as_mainfile(filepath=str(out), copy=True)
    seconds = time.perf_counter() - t0
    peak = _rss_mb("VmHWM")
    return {"stage": stage, "frames": frames, "seconds": seconds, "base_mb": base, "peak_mb": peak}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    ap.add_argument("--backend", choices=("numpy", "torch"), default="numpy")
    ap.add_argument("--no-clip-solver", dest="clip_solver", action="store_false", help="lift frame by frame")
    ap.add_argument("--stage", help=argparse.SUPPRESS)  # internal: run one stage and print JSON
    ap.add_argument("--npz", help=argparse.SUPPRESS)
    ap.add_argument("--csv", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.stage:
        print(json.dumps(run_stage(args.stage, Path(args.npz), Path(args.csv), args.backend, args.clip_solver)))
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    solver = "clip solver on" if args.clip_solver else "no clip solver"
    print(f"backend {args.backend}; {solver}; COCO-17 walk; figures per stage in a fresh process (Linux VmRSS / "
          "VmHWM)")  # fmt: skip
    print(f"{'stage':>9} {'frames':>8} {'seconds':>8} {'base MB':>8} {'peak MB':>8} {'extra MB':>9} {'KB/frame':>9}")
    for frames in args.frames:
        with tempfile.TemporaryDirectory() as tmp:
            npz, csv = make_clip(frames, Path(tmp))
            for stage in args.stages:
                cmd = [sys.executable, __file__, "--stage", stage, "--npz", str(npz), "--csv", str(csv),
                       "--backend", args.backend, *([] if args.clip_solver else ["--no-clip-solver"])]  # fmt: skip
                done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
                if done.returncode:
                    print(f"{stage:>9} {frames:>8} failed: {done.stderr.strip().splitlines()[-1:]}")
                    continue
                r = json.loads(done.stdout.strip().splitlines()[-1])
                extra = r["peak_mb"] - r["base_mb"]
                print(f"{stage:>9} {r['frames']:>8} {r['seconds']:>8.1f} {r['base_mb']:>8.0f} {r['peak_mb']:>8.0f} "
                      f"{extra:>9.0f} {1024 * extra / r['frames']:>9.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
