"""A picture of the real clip from the side: per-frame lift against the clip solver (docs/images/real_clip_side.png).

The Pose2Sim clip (``../shared/data/footage/pose2sim_balancing``: a person balancing on the left leg, then stepping
down on the right; OpenPose BODY_25B, 100 frames at 60 fps) is lifted with the shipped weights and the clip's
camera, once with each frame placed on its own and once with the clip solver. Each row shows the armature's
joints in Blender's world (metres) over six frames: first as the footage camera sees it (front), then from the
side (depth along the camera's view against height), where per-frame depth errors show. The ground the solver
found is drawn, and the planted feet are marked.

Run: ``.venv/bin/python bench/render_real_clip.py [--out docs/images/real_clip_side.png]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lfm_engine.pipeline import LiftSettings, run  # noqa: E402

CLIP = ROOT.parent / "shared" / "data" / "footage" / "pose2sim_balancing" / "cam01_openpose_json"
FRAMES = (0, 20, 40, 60, 80, 99)
LEFT, RIGHT = "#1f77b4", "#d62728"


def lift(solve: bool):
    settings = LiftSettings(rig="openpose_body25b", focal_length=1681.0, image_size=(1080, 1920), fps=60.0,
                            solve_clip=solve)  # fmt: skip
    return run(CLIP, settings)


def view_axes(result) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sideways, forward (the camera's view along the ground) and up directions in the world (from the camera's
    matrix: Blender cameras look along their -Z)."""
    view = -np.asarray(result.camera_matrix)[:3, 2]
    world_up = np.array([0.0, 0.0, 1.0])
    flat = view - world_up * (view @ world_up)  # the view direction along the ground
    flat /= np.linalg.norm(flat)
    side = np.cross(flat, world_up)
    return side, flat, world_up


def draw(ax_front, ax_side, result, title: str) -> None:
    joints = result.armature.joints  # (T, J, 3) world, metres
    parents = result.armature.parents
    names = result.rig.joint_names
    side, flat, up = view_axes(result)
    centre = joints.reshape(-1, 3).mean(0)
    contacts = result.solution.contacts if result.solution is not None else None
    feet = result.solution.feet if result.solution is not None else ()
    shift = 1.0  # metres between the frames drawn side by side
    for n, t in enumerate(FRAMES):
        p = joints[t] - centre
        x_front, x_side, z = p @ side + n * shift, p @ flat + n * shift, p @ up
        for j, parent in enumerate(parents):
            if parent < 0:
                continue
            colour = LEFT if names[j].startswith(("L", "left")) or names[j].endswith(".L") else (
                RIGHT if names[j].startswith(("R", "right")) or names[j].endswith(".R") else "0.3")  # fmt: skip
            for ax, x in ((ax_front, x_front), (ax_side, x_side)):
                ax.plot([x[parent], x[j]], [z[parent], z[j]], color=colour, lw=1.6)
        for k, foot in enumerate(feet):
            if contacts[t, k]:
                sole = list(foot.sole)
                for ax, x in ((ax_front, x_front), (ax_side, x_side)):
                    ax.plot(x[sole], z[sole], "o", ms=4, mfc="none", mec="k")
        for ax in (ax_front, ax_side):
            ax.text(n * shift, 1.05, f"frame {t}", ha="center", fontsize=7)
    if result.solution is not None:
        ground = -centre @ up  # the solver's world stands on z = 0
        for ax in (ax_front, ax_side):
            ax.axhline(ground, color="0.6", lw=0.8, ls="--")
    ax_front.set_title(f"{title}: through the footage camera (front)", fontsize=9)
    ax_side.set_title(f"{title}: from the side (depth left to right)", fontsize=9)
    for ax in (ax_front, ax_side):
        ax.set_aspect("equal")
        ax.set_ylim(-1.1, 1.2)
        ax.set_xlim(-0.8, (len(FRAMES) - 1) * 1.0 + 0.8)
        ax.tick_params(labelsize=7)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "docs" / "images" / "real_clip_side.png"))
    args = ap.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_frame, solved = lift(False), lift(True)
    fig, axes = plt.subplots(4, 1, figsize=(10, 11))
    draw(axes[0], axes[1], per_frame, "per frame")
    draw(axes[2], axes[3], solved, "clip solver")
    fig.suptitle("Real clip (Pose2Sim, OpenPose BODY_25B, lfm_v2): left blue, right red, planted soles circled, "
                 "ground dashed", fontsize=9)  # fmt: skip
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
