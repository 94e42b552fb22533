"""Retarget figures: how closely a target rig follows the lifted joints, and how fast mapping + transfer + bake run.

The scenes are the add-on tests' (``tests/addon/retarget_scenes.py``): a real CMU mocap clip (subject 131, 90
frames at 30 fps) projected by a pinhole camera and lifted with the shipped weights, onto the Rigify human and
basic_human metarigs and a Mixamo-named rig; a generated trotting dog, lifted the same way, onto the Rigify wolf and
horse; the rig Rigify generates from the human metarig (keyed on its FK controls, measured on its DEF- bones).
Errors are measured on what Blender evaluates from the baked keys, against the lifted joints mapped into the
target (``s * lifted + offset``, ``s`` from the leg lengths): positions in % of the target's height, directions of the
mapped limb segments (shoulder-elbow-wrist, hip-knee-ankle and the dog's legs) in degrees; max and median over
every frame.

Run: ``.venv/bin/python bench/bench_retarget.py [--render docs/images]`` (``--render`` also writes the pictures of
docs/RETARGET.md: source and target side by side).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "addon")]

LIMB_POINTS = {"shoulder", "elbow", "wrist", "hip", "knee", "ankle", "toe"}
END_POINTS = {"wrist": "hands", "ankle": "feet", "head": "head", "toe": "toes"}


def measure(scene_fn, metarig, ik, tmp, preset=None, ik_max_angle=None):
    """One row. ``metarig``: a Rigify metarig, ``mixamo``, or ``generated`` (the rig Rigify generates from the human
    metarig, measured on its DEF- bones); ``preset``: a mapping preset instead of the proposal."""
    import bpy
    import retarget_scenes as rs
    from test_addon_retarget import readback
    from test_addon_retarget_rigify import deform_positions, generated_rig

    from blender_addon import retarget
    from lfm_engine.retarget import apply_preset, load_preset, retarget_errors
    from lfm_engine.retarget.names import point_of_joint

    bpy.ops.wm.read_factory_settings(use_empty=True)
    source, _ = scene_fn(tmp)
    if metarig == "generated":
        target = generated_rig()
    else:
        target = rs.add_mixamo_rig() if metarig == "mixamo" else rs.add_metarig(metarig)
    t0 = time.perf_counter()
    mapping = None
    if preset:
        names = [b.name for b in source.pose.bones]
        mapping = apply_preset(load_preset(preset), names, retarget.read_target(target))
    mapping, result, _ = retarget.retarget_objects(bpy.context, source, target, mapping, ik=ik,
                                                   ik_max_angle=ik_max_angle)  # fmt: skip
    seconds = time.perf_counter() - t0
    frames = retarget.action_frames(source)
    pos = deform_positions(target, result, frames) if metarig == "generated" else readback(target, result, frames)
    err = retarget_errors(result, pos)
    kinds = [point_of_joint(p.joint)[0] for p in result.pairs]
    row = {}
    for kind, label in END_POINTS.items():
        cols = [k for k, c in enumerate(kinds) if c == kind]
        if cols:
            e = 100 * err["position"][:, cols]
            row[label] = (e.max(), np.median(e))
    limbs = [s for s, (a, k) in enumerate(err["segments"]) if kinds[a] in LIMB_POINTS and kinds[k] in LIMB_POINTS]
    d = err["direction"][:, limbs]
    row["limb dir"] = (d.max(), np.median(d))
    return row, len(mapping), len(source.pose.bones), result.num_frames, seconds


def render(path: Path, scene_fn, metarig, tmp, frames, labels):
    """Source (left, orange) and target (right, blue) side by side at ``frames``, seen from the front-left."""
    import bpy
    import retarget_scenes as rs
    from mathutils import Vector

    from blender_addon import blender_io, demo, retarget

    bpy.ops.wm.read_factory_settings(use_empty=True)
    source, _ = scene_fn(tmp)
    target = rs.add_metarig(metarig)
    _, result, _ = retarget.retarget_objects(bpy.context, source, target)
    scene = bpy.context.scene
    height = result.height
    ground = (np.median(result.goals[..., 2].min(axis=1)) - result.offset[2]) / result.scale  # lifted ground, world
    lift = ground - (result.scale * ground + result.offset[2])  # target ground onto it
    _, joints = retarget.read_source(source, retarget.action_frames(source))  # (T, J, 3) world
    src_x, src_y = float(np.median(joints[..., 0])), float(np.median(joints[..., 1]))
    s, off = result.scale, result.offset
    target.location = (src_x + 1.3 * height - (s * src_x + off[0]), src_y - (s * src_y + off[1]), lift)  # beside
    for obj, colour in ((source, (0.95, 0.55, 0.2, 1)), (target, (0.3, 0.6, 0.95, 1))):
        mesh = blender_io.add_bone_mesh(obj, width=0.12)
        mat = bpy.data.materials.new(obj.name)
        mat.diffuse_color = colour
        mesh.data.materials.append(mat)
    tile = (480, 400)
    demo._render_setup(scene, tile)
    scene.display.shading.color_type = "MATERIAL"
    frames_scene = retarget.action_frames(source)
    mid_z = float(np.median((joints[..., 2].max(1) + joints[..., 2].min(1)) / 2))
    centre = Vector((src_x + 0.65 * height, src_y, mid_z))
    cam = bpy.data.objects.new("BenchCamera", bpy.data.cameras.new("BenchCamera"))
    cam.data.lens = 35
    scene.collection.objects.link(cam)
    cam.location = centre + Vector((-0.8 * height, -2.4 * height, 0.3 * height))
    cam.rotation_euler = (centre - cam.location).to_track_quat("-Z", "Y").to_euler()
    tiles = []
    with tempfile.TemporaryDirectory() as t:
        for k in frames:
            tiles.append(demo._render(scene, cam, int(frames_scene[k]), Path(t) / f"{k}.png"))
    grid = np.concatenate(tiles, 1)
    text = [(f"frame {k}", i * tile[0] + 8, 18) for i, k in enumerate(frames)]
    text += [(labels, 8, tile[1] - 10)]
    demo._save_png(grid, path, text)
    print(f"wrote {path}")


def main(argv=None) -> int:
    import torch

    torch.set_num_threads(1)
    import retarget_scenes as rs

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--render", type=Path, help="also render the docs pictures into this folder")
    ap.add_argument("--rigs", nargs="+", help="only these targets (human, generated, basic_human, mixamo, wolf, horse)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print("| source | target | IK | joints mapped | hands % (max / median) | feet % | head % | toes or paws % | "
              "limb direction deg (max / median) | retarget + bake |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|---|---|")
        cases = [("mocap", rs.lift_mocap, "human", None), ("mocap", rs.lift_mocap, "human", "rigify_human"),
                 ("mocap", rs.lift_mocap, "generated", None), ("mocap", rs.lift_mocap, "basic_human", None),
                 ("mocap", rs.lift_mocap, "mixamo", None), ("dog", rs.lift_dog, "wolf", None),
                 ("dog", rs.lift_dog, "horse", None)]  # fmt: skip
        for name, fn, rig, preset in cases:
            if args.rigs and rig not in args.rigs:
                continue
            for ik_name, ik, limit in (("hands+feet", ("wrist", "ankle"), None), ("none", (), None),
                                       ("hands+feet, max 9.5 deg", ("wrist", "ankle"), 9.5)):  # fmt: skip
                row, mapped, joints, frames, secs = measure(fn, rig, ik, tmp, preset, limit)
                rig_name = f"{rig} ({preset})" if preset else ("Rigify generated (FK controls)" if rig == "generated"
                                                               else rig)  # fmt: skip

                def cell(key, row=row):
                    return f"{row[key][0]:.1f} / {row[key][1]:.1f}" if key in row else "-"

                cells = " | ".join(cell(k) for k in ("hands", "feet", "head", "toes", "limb dir"))
                timing = f"{secs:.2f} s ({frames} frames)"
                print(f"| {name} | {rig_name} | {ik_name} | {mapped} of {joints} | {cells} | {timing} |")
        if args.render:
            args.render.mkdir(parents=True, exist_ok=True)
            render(args.render / "retarget_human.png", rs.lift_mocap, "human", tmp, [0, 30, 60, 89],
                   "lifted CMU mocap (orange) -> Rigify human metarig (blue)")  # fmt: skip
            render(args.render / "retarget_wolf.png", rs.lift_dog, "wolf", tmp, [0, 8, 15, 22],
                   "lifted dog (orange) -> Rigify wolf metarig (blue)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
