"""How well the constant-length armature reprojects onto real keypoints (docs/ADDON.md, "From Python").

Lifts the real Pose2Sim clip (``../shared/data/footage/pose2sim_balancing``, 100 frames of OpenPose BODY_25B) with
the shipped weights and the camera of docs/ADDON.md's example, placed frame by frame (the clip solver off: what
this measures is the per-frame "ray" placement), then reports how many visible joint-frames the
armature puts on their camera ray (they reproject onto their keypoints) and, for those whose bone cannot reach the
ray at its median length, how far they land from their keypoints in pixels. Last, the shrink towards the camera (a
scale about the camera centre, which keeps the image) that each frame would need for every bone to reach its ray.

Run: ``.venv/bin/python bench/bench_ray_reach.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lfm_engine import armature as arm  # noqa: E402
from lfm_engine.pipeline import LiftSettings, run  # noqa: E402

CLIP = ROOT.parent / "shared" / "data" / "footage" / "pose2sim_balancing" / "cam01_openpose_json"
SETTINGS = LiftSettings(focal_length=1681, image_size=(1080, 1920), fps=60, solve_clip=False)  # frame by frame


def reach_scale(points, parents, lengths, rays, steps: int = 30) -> float:
    """The largest scale about the camera centre, at most 1, at which no bone of the ``(1, J, 3)`` frame misses its
    ray (bisection)."""
    lo, hi = 0.0, 1.0
    if not arm.constant_length_points(points, parents, lengths, rays=rays, return_status=True)[2].any():
        return 1.0
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        misses = arm.constant_length_points(points * mid, parents, lengths, rays=rays, return_status=True)[2]
        lo, hi = (lo, mid) if misses.any() else (mid, hi)
    return lo


def main() -> None:
    result = run(CLIP, SETTINGS)
    anim, visible = result.armature, result.visible
    uv = result.camera.project(arm.world_to_camera(anim.joints))  # (T, J, 2) the armature seen by the camera
    err = np.linalg.norm(uv - result.points2d, axis=-1)  # (T, J) pixels
    height = np.nanmedian(np.nanmax(result.points2d[..., 1], 1) - np.nanmin(result.points2d[..., 1], 1))
    missed = err[visible & anim.ray_misses]
    print(f"visible joint-frames {visible.sum()}: on their ray {anim.on_ray.sum()} (worst reprojection "
          f"{err[anim.on_ray].max():.1e} px), cannot reach it {anim.ray_misses.sum()}")  # fmt: skip
    if missed.size:
        print(f"those miss their keypoints by {np.median(missed):.1f} px (median), {np.percentile(missed, 90):.1f} "
              f"(90th percentile), {missed.max():.1f} (worst); the person is {height:.0f} px tall")  # fmt: skip
    # the frame-by-frame shrink that would let every bone reach its ray (re-placing from the same world points)
    rays = arm.camera_to_world(arm.camera_rays(result.points2d, result.camera.focal_length,
                                               result.camera.principal_point, visible))  # fmt: skip
    par = anim.parents
    lengths = np.where(par >= 0, anim.lengths, np.nan)
    scales = np.array([reach_scale(result.world[t : t + 1], par, lengths, rays[t : t + 1])
                       for t in range(len(result.world))])  # fmt: skip
    q = np.percentile(scales, [0, 50, 100])
    print(f"shrink towards the camera for every bone to reach its ray: {(scales < 1).sum()} of {len(scales)} frames "
          f"need one; scale worst {q[0]:.2f}, median {q[1]:.2f}, best {q[2]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
