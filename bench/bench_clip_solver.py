"""The clip solver (lfm_engine.solver): its speed on a minute of 25 joints, and what it changes (docs/ADDON.md).

Default: a 1-minute clip at 30 fps of the procedural walker of ``tests/engine/walker.py`` (25 joints, OpenPose
BODY_25B) walking a 2 m circle 4-9 m from a camera 1.5 m up tilted 15 degrees down, with the detector's and the
lifter's errors imitated (2D noise, outliers, missed joints; per-frame depth noise with jumps); the solve is timed
(the numpy path, which the add-on runs inside Blender) and its result compared with the truth and with the
per-frame armature (the pipeline without the solver).

``--real``: the real Pose2Sim clip (``../shared/data/footage/pose2sim_balancing``, 100 frames at 60 fps, OpenPose
BODY_25B, a person balancing on one leg) lifted with the shipped weights, with the solver off (also with
Savitzky-Golay and One-Euro smoothing) and on: stance-foot travel on the planted frames, floor penetration, depth
jerk, pelvis height range and reprojection error.

Metrics (lfm_engine.solver.metrics): jerk is the mean absolute third difference times fps^3 over every joint and
frame, per camera-world axis (x right, y depth, z up of the camera); foot travel is the path length of a planted
foot's sole-joint centroid over its planted frames, "wander" its largest distance from its mean in one planted run,
"jump" its largest move in one frame; "float" / "sink" are the planted soles' highest / deepest distance above /
under the ground (the solver's plane; for the per-frame armature the least-squares plane through its own planted
soles), "under" the deepest joint under it in any frame.

Run: ``.venv/bin/python bench/bench_clip_solver.py [--frames 1800] [--repeat 3]`` or ``... --real``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "engine"))

from lfm_engine import armature as arm  # noqa: E402
from lfm_engine.solver import find_feet, solve_clip  # noqa: E402
from lfm_engine.solver import ground as gr  # noqa: E402
from lfm_engine.solver import metrics as M  # noqa: E402

CLIP = ROOT.parent / "shared" / "data" / "footage" / "pose2sim_balancing" / "cam01_openpose_json"


def _row(name: str, X: np.ndarray, feet, contacts, fps, plane, points2d, visible, focal, pp, extra="") -> str:
    slide = M.foot_slide(X, feet, contacts, fps)
    floor = M.floor_contact(X, feet, contacts, *plane)
    err = M.reprojection(X, points2d, visible, focal, pp)
    jx, jy, jz = M.jerk(X, fps)
    return (f"{name:<16} planted-foot travel {slide['travel']:5.2f} m, wander {slide['wander'] * 100:5.1f} cm, jump "
            f"{slide['jump'] * 100:5.1f} cm | float {floor['float'] * 100:4.1f} cm, sink "
            f"{floor['sink'] * 100:4.1f} cm, under {floor['under'] * 100:5.1f} cm | jerk x {jx:6.0f} depth {jy:6.0f} "
            f"z {jz:6.0f} m/s^3 | reprojection {np.median(err):4.1f} px median, {np.percentile(err, 90):5.1f} "
            f"p90{extra}")  # fmt: skip


def _own_plane(X, feet, contacts):
    return M.fit_plane(gr.sole_points(X, feet, contacts, np.array([0.0, 0.0, 1.0]), 1.75))


def synthetic(frames: int, repeat: int) -> None:
    import walker

    fm = walker.filmed(np.random.default_rng(0), frames, radius=2.0)
    rig = walker.RIG
    feet = find_feet(rig.joint_names)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sol = solve_clip(fm.lifted, fm.points2d, fm.visible, rig, focal_length=fm.focal, principal_point=fm.pp,
                         fps=fm.fps, height=1.70)  # fmt: skip
        times.append(time.perf_counter() - t0)
    T, J = fm.lifted.shape[:2]
    info = sol.info
    print(f"clip solver, {T} frames ({T / fm.fps:.0f} s at {fm.fps:.0f} fps) x {J} joints: {min(times):.2f} s best of "
          f"{repeat} ({', '.join(f'{t:.2f}' for t in times)}); LM iterations {info['first']['iterations']} + "
          f"{info['final']['iterations']}, factorisations {info['first']['factorisations']} + "
          f"{info['final']['factorisations']}")  # fmt: skip
    rays = arm.camera_to_world(arm.camera_rays(fm.points2d, fm.focal, fm.pp, fm.visible))
    per_frame = arm.build_armature(fm.lifted, rig, rays=rays).joints
    truth_plane = fm.plane
    args = (feet, fm.contacts, fm.fps)
    cam = (fm.clean2d, np.ones(fm.visible.shape, bool), fm.focal, fm.pp)
    for name, X, plane in (("truth", fm.truth, truth_plane), ("per-frame", per_frame, _own_plane(per_frame, feet,
                           fm.contacts)), ("clip solver", sol.joints_camera, sol.ground)):  # fmt: skip
        mpjpe = np.linalg.norm(X - fm.truth, axis=-1).mean() * 100
        bone = M.bone_length_error(X, rig.tree_parents(), M.bone_lengths(fm.truth, rig.tree_parents())[0]) * 1000
        print(_row(name, X, *args, plane, *cam, f" (from the exact 2D) | bone {bone:4.1f} mm, MPJPE {mpjpe:4.1f} cm"))
    acc = (sol.contacts == fm.contacts).mean() * 100
    print(f"contacts: {acc:.1f} % of foot-frames as the truth; camera {sol.camera_height:.2f} m up (truth "
          f"{fm.camera_height:.2f}), tilted {sol.camera_tilt:.1f} deg (truth {fm.tilt_deg:.1f})")  # fmt: skip


def real() -> None:
    from lfm_engine.pipeline import LiftSettings, run

    base = {"focal_length": 1681, "image_size": (1080, 1920), "fps": 60}
    t0 = time.perf_counter()
    on = run(CLIP, LiftSettings(**base))
    seconds = time.perf_counter() - t0
    sol = on.solution
    feet, fps = sol.feet, 60.0
    print(f"real clip: {on.num_frames} frames x {on.rig.num_joints} joints; lift + solve {seconds:.1f} s (solver "
          f"{sol.info['seconds']:.2f} s); detector noise {sol.sigma_px:.1f} px")  # fmt: skip
    for k, foot in enumerate(feet):
        print(f"  {foot.side:<5} planted: {''.join('X' if c else '.' for c in sol.contacts[:, k])}")
    print(f"  ground {sol.camera_height:.2f} m below the camera, which looks {sol.camera_tilt:.1f} deg down, rolled "
          f"{gr.camera_roll(sol.ground[0]):.1f} deg")  # fmt: skip
    cam = (on.points2d, on.visible, on.camera.focal_length, on.camera.principal_point)
    back = np.linalg.inv(sol.transform)
    after = gr.apply(back, on.armature.joints + sol.root_offsets[:, None, :])  # the armature in the camera world
    pelvis = [on.rig.joint_names.index(n) for n in ("LHip", "RHip")]
    rows = []
    for name, smoothing in (("per-frame", "none"), ("savgol", "savgol"), ("one_euro", "one_euro")):
        res = run(CLIP, LiftSettings(solve_clip=False, smoothing=smoothing, **base))
        X = res.armature.joints
        rows.append((name, X, _own_plane(X, feet, sol.contacts)))
    rows.append(("clip solver", after, sol.ground))
    for name, X, plane in rows:
        h = X[:, pelvis].mean(1) @ plane[0] - plane[1]
        print(_row(name, X, feet, sol.contacts, fps, plane, *cam, f" | pelvis height range {np.ptp(h) * 100:4.1f} cm"))
    err = sol.reprojection[np.isfinite(sol.reprojection)]
    print(f"  clip solver reprojection: p99 {np.percentile(err, 99):.0f} px, worst {err.max():.0f} px (detector "
          f"outliers the 2D tracks discount, e.g. a wrist jumping to the other arm)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", action="store_true", help="measure on the real Pose2Sim clip instead")
    ap.add_argument("--frames", type=int, default=1800, help="synthetic clip length (default 1800: 1 min at 30 fps)")
    ap.add_argument("--repeat", type=int, default=3, help="timed solves of the synthetic clip")
    args = ap.parse_args()
    if args.real:
        real()
    else:
        synthetic(args.frames, args.repeat)


if __name__ == "__main__":
    main()
