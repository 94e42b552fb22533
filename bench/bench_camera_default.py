"""The default focal length on the real clip: how far from the camera the person is put (docs/ADDON.md, camera).

The Pose2Sim clip (``../shared/data/footage/pose2sim_balancing``, 1080x1920 portrait, calibrated f = 1681 px) is
lifted with the shipped weights under four focal lengths: the calibrated one, the default (none given: 55 degrees
across the larger side), the old long lens (5 x the larger side) and 55 degrees across the width. Printed: the
pelvis depth along the camera's view axis (median over the frames), per frame and with the clip solver, and the
solved camera height.

Run: ``.venv/bin/python bench/bench_camera_default.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lfm_engine.pipeline import LiftSettings, run  # noqa: E402

CLIP = ROOT.parent / "shared" / "data" / "footage" / "pose2sim_balancing" / "cam01_openpose_json"
SIZE = (1080, 1920)
FOCALS = {
    "calibrated, 1681 px": {"focal_length": 1681.0},
    "default (none given: 55 deg across the larger side)": {},
    "old long lens, 5 x 1920 px": {"focal_length": 5 * 1920.0},
    "55 deg across the width": {"focal_length": 0.5 * SIZE[0] / np.tan(np.radians(27.5))},
}


def pelvis_depth(result) -> float:
    """Median depth of the pelvis along the camera's view axis, metres (Blender cameras look along their -Z)."""
    m = np.asarray(result.camera_matrix)
    view, eye = -m[:3, 2], m[:3, 3]
    eyes = result.camera_locations if result.camera_locations is not None else eye[None]
    pelvis = result.armature.joints[:, result.rig.index("pelvis")]  # (T, 3) world
    return float(np.median((pelvis - eyes) @ view))


def main() -> None:
    print(f"{'focal length':<52} {'f px':>7} {'per frame':>10} {'solver':>8} {'camera height':>14}")
    for label, focal in FOCALS.items():
        common = {"rig": "openpose_body25b", "image_size": SIZE, "fps": 60.0, **focal}
        per_frame = run(CLIP, LiftSettings(solve_clip=False, **common))
        solved = run(CLIP, LiftSettings(**common))
        print(f"{label:<52} {per_frame.camera.focal_length:>7.0f} {pelvis_depth(per_frame):>9.2f}m "
              f"{pelvis_depth(solved):>7.2f}m {solved.solution.camera_height:>13.2f}m")  # fmt: skip


if __name__ == "__main__":
    main()
