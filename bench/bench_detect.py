"""MediaPipe detection speed on the CPU, and the whole footage -> keyed armature time, on the real Pose2Sim clip.

Prints frames per second of :func:`lfm_engine.detect.detect` for the whole body (Holistic: pose, hands, face) and
the body alone (Pose), and the time of each stage of ``cam01.mp4`` (100 frames, 1080x1920) -> armature with one key
per frame in Blender: detection, lift with the shipped weights (parts attached), and writing the armature, camera
and footage background with ``bpy``. First, what a frame range costs: the last 10 frames (90..99) decoded after
seeking to 90 against the whole clip decoded, and detected (Pose) alone (``--range-only`` stops there). Needs
``../shared/data`` and the ``detect`` extra; ``bpy`` for the last stage.

    .venv/bin/python bench/bench_detect.py [--threads 1] [--frames 100] [--range-only]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lfm_engine.detect import DetectSettings, _video_frames, detect, footage_info  # noqa: E402
from lfm_engine.pipeline import LiftSettings, run  # noqa: E402

VIDEO = ROOT.parent / "shared" / "data" / "footage" / "pose2sim_balancing" / "cam01.mp4"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the lift (default 1)")
    ap.add_argument("--frames", type=int, default=100, help="frames of the clip to use (default: all 100)")
    ap.add_argument("--range-only", action="store_true", help="only the frame-range figures")
    args = ap.parse_args()
    if not VIDEO.is_file():
        print(f"skipped: {VIDEO} is not present (../shared/data)")
        return 0
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; clip {VIDEO.name}")
    info = footage_info(VIDEO)
    t0 = time.perf_counter()
    n_all = sum(1 for _ in _video_frames(info, 0, None))
    t_all = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_seek = sum(1 for _ in _video_frames(info, 90, 99))
    t_seek = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_det = detect(VIDEO, DetectSettings(hands=False, face=False, frame_start=90, frame_end=99)).num_frames
    t_det = time.perf_counter() - t0
    print(f"frame range: decode all {n_all} frames {t_all:.2f} s; seek to 90 and decode {n_seek} frames {t_seek:.2f} s;"
          f" detect (Pose) those {n_det} frames alone {t_det:.2f} s")  # fmt: skip
    if args.range_only:
        return 0
    end = args.frames - 1
    rates = {}
    for label, settings in (
        ("whole body (Holistic)", DetectSettings(frame_end=end)),
        ("body only (Pose)", DetectSettings(hands=False, face=False, frame_end=end)),
    ):
        t0 = time.perf_counter()
        det = detect(VIDEO, settings)
        dt = time.perf_counter() - t0
        rates[label] = det.num_frames / dt
        parts = ("body",) if det.layout == "mediapipe_pose33" else ("body", "left_hand", "right_hand", "face")
        found = ", ".join(f"{p} {det.found(p).mean():.0%}" for p in parts)
        print(f"detect {label:22s}: {det.num_frames} frames in {dt:5.1f} s = {rates[label]:5.1f} frames/s ({found})")

    t0 = time.perf_counter()
    det = detect(VIDEO, DetectSettings(frame_end=end))
    t_detect = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = run(det.keypoints, LiftSettings(focal_length=1681.0))
    t_lift = time.perf_counter() - t0
    try:
        import bpy
    except ImportError:
        bpy = None
    t_write = float("nan")
    if bpy is not None:
        from blender_addon import blender_io, detection

        bpy.ops.wm.read_factory_settings(use_empty=True)
        t0 = time.perf_counter()
        created = blender_io.write_clip(bpy.context, result)
        detection.attach_footage(result, created, clip=bpy.data.movieclips.load(str(VIDEO)))
        t_write = time.perf_counter() - t0
    total = t_detect + t_lift + (0.0 if t_write != t_write else t_write)
    print(f"footage -> keyed armature ({result.num_frames} frames, {result.rig.name}, {result.rig.num_joints} joints):")
    print(f"  detect {t_detect:.1f} s, lift {t_lift:.2f} s, write into Blender {t_write:.2f} s, total {total:.1f} s")
    print(
        f"  detection share of the total: {t_detect / total:.0%}; {result.num_frames / total:.1f} frames/s end to end"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
