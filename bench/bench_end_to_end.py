"""End to end: a keypoint file -> a keyed armature in a saved .blend, for 1,800 frames (a minute at 30 fps).

The input is the demo's generated walking figure (COCO-17, pinhole camera, detector-like jitter, a short occlusion)
stretched to 1,800 frames and written as our NPZ keypoints. The script runs the batch script's own steps in this
process and times each: reading + lifting + fitting the armature (``pipeline.run``), writing it into Blender
(``blender_io.write_clip``) and saving the .blend (``batch.save_blend``). Detection is not included (see
bench/bench_detect.py). It then runs the batch script as a fresh process (``python blender_addon/batch.py``) and
times the whole command, start-up (importing bpy and torch) included.

Run: ``make bench`` or ``.venv/bin/python bench/bench_end_to_end.py [--frames N] [--backend numpy]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_S = 5.0  # issue 7: 1,800 frames, file -> saved .blend


def make_input(path: Path, frames: int, fps: float = 30.0) -> Path:
    from blender_addon import demo
    from blender_addon.engine import armature, io, lfm_engine

    world = demo.walking_figure(frames=frames, fps=fps)
    cam = armature.world_to_camera(world)  # (T, 17, 3)
    w, h = demo.DEMO_SIZE
    uv = cam[..., :2] / cam[..., 2:3] * demo.DEMO_FOCAL + np.array([w / 2, h / 2])
    uv += np.random.default_rng(0).normal(scale=0.5, size=uv.shape)
    rig = lfm_engine.get_rig("coco17")
    uv[40:46, rig.index("right_wrist")] = np.nan
    kp = io.Keypoints2D(uv, None, rig.joint_names, rig.edge_array(), image_size=demo.DEMO_SIZE, fps=fps,
                        source=str(path), rig_name="coco17")  # fmt: skip
    return io.write_keypoints_npz(kp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=1800)
    ap.add_argument("--backend", choices=("auto", "torch", "numpy"), default="auto",
                    help="numpy: the add-on's engine inside Blender, which has no torch")  # fmt: skip
    args = ap.parse_args()
    t_import = time.perf_counter()
    import bpy

    from blender_addon import batch, blender_io
    from blender_addon.engine import pipeline

    t_import = time.perf_counter() - t_import
    with tempfile.TemporaryDirectory() as tmp:
        src = make_input(Path(tmp) / "walk.npz", args.frames)
        out = Path(tmp) / "walk.blend"
        settings = pipeline.LiftSettings(focal_length=1400.0)
        t0 = time.perf_counter()
        lifter = pipeline.load_lifter(None, args.backend)
        t_load = time.perf_counter() - t0
        bpy.ops.wm.read_factory_settings(use_empty=True)
        times = {}
        t0 = time.perf_counter()
        result = pipeline.run(src, settings, lifter=lifter)
        times["read + lift + fit (pipeline.run)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        created = blender_io.write_clip(bpy.context, result)
        times["armature + keys (write_clip)"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        batch.save_blend(out)
        times["save .blend"] = time.perf_counter() - t0
        total = sum(times.values())
        arm = next(i for i in created if isinstance(i, bpy.types.Object) and i.type == "ARMATURE")
        print(f"{args.frames} frames, {result.rig.num_joints} joints -> {len(arm.data.bones)} bones, "
              f"{out.stat().st_size / 1e6:.1f} MB .blend; lifter: {lifter}")  # fmt: skip
        print(f"(not counted: importing bpy + the add-on {t_import:.2f} s, loading the weights {t_load:.2f} s)")
        for name, t in times.items():
            print(f"  {name:<36} {t:7.3f} s")
        print(f"  {'total, file -> saved .blend':<36} {total:7.3f} s   target < {TARGET_S:.0f} s: "
              f"{'met' if total < TARGET_S else 'MISSED'} ({TARGET_S / total:.1f}x margin)")  # fmt: skip

        cmd = [sys.executable, str(ROOT / "blender_addon" / "batch.py"), "--input", str(src), "--output",
               str(Path(tmp) / "cli.blend"), "--focal-length", "1400", "--backend", args.backend]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"batch failed:\n{proc.stderr}")
        print(f"  {'the batch command, fresh process':<36} {wall:7.3f} s   (python start, bpy and torch imports)")


if __name__ == "__main__":
    main()
