"""Keyframe writing: the add-on's bulk path against per-frame ``keyframe_insert``, 1,800 frames, 30 to 150 bones.

Both paths key the same values on the same armature: a quaternion per bone per frame (4 F-curves a bone) plus the
root's location. The add-on's path is :func:`blender_addon.blender_io.write_keys` (``keyframe_points.add`` +
``foreach_set`` per F-curve); the other is what many Blender mocap add-ons do: for each frame, set every pose bone
and call ``keyframe_insert``. The script checks that both give the same keys, then prints the times and the ratio.

Run: ``make bench`` or ``.venv/bin/python bench/bench_keyframes.py [--frames N] [--bones 30 90 150]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bpy  # noqa: E402

from blender_addon import blender_io  # noqa: E402


def chain_armature(bones: int) -> bpy.types.Object:
    """An armature of ``bones`` bones in a chain, in a fresh empty file; returns the object, in object mode."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    data = bpy.data.armatures.new("Bench")
    obj = bpy.data.objects.new("Bench", data)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    parent = None
    for i in range(bones):
        b = data.edit_bones.new(f"bone{i:03d}")
        b.head = (0.0, 0.0, 0.1 * i)
        b.tail = (0.0, 0.0, 0.1 * (i + 1))
        b.parent = parent
        parent = b
    bpy.ops.object.mode_set(mode="OBJECT")
    for pb in obj.pose.bones:
        pb.rotation_mode = "QUATERNION"
    return obj


def motion(frames: int, bones: int) -> tuple[np.ndarray, np.ndarray]:
    """Random unit quaternions ``(T, B, 4)`` and a root track ``(T, 3)``."""
    rng = np.random.default_rng(0)
    q = rng.standard_normal((frames, bones, 4))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    return q.astype(np.float32), rng.standard_normal((frames, 3)).astype(np.float32)


def bulk(obj, frames: np.ndarray, quats: np.ndarray, root: np.ndarray) -> None:
    """The add-on's path (as in ``blender_io._armature``)."""
    action = blender_io._new_action("BulkAction", obj, [])
    for j, pb in enumerate(obj.pose.bones):
        path = pb.path_from_id("rotation_quaternion")
        for i in range(4):
            blender_io.write_keys(blender_io._fcurve(action, obj, path, i, pb.name), frames, quats[:, j, i])
    path = obj.pose.bones[0].path_from_id("location")
    for i in range(3):
        blender_io.write_keys(blender_io._fcurve(action, obj, path, i, obj.pose.bones[0].name), frames, root[:, i])


def per_frame(obj, frames: np.ndarray, quats: np.ndarray, root: np.ndarray) -> None:
    """Per-frame ``keyframe_insert`` (the usual path of other mocap add-ons; without a ``frame_set`` per frame)."""
    pose = list(obj.pose.bones)
    for t, frame in enumerate(frames.tolist()):
        for j, pb in enumerate(pose):
            pb.rotation_quaternion = quats[t, j].tolist()
            pb.keyframe_insert("rotation_quaternion", frame=frame)
        pose[0].location = root[t].tolist()
        pose[0].keyframe_insert("location", frame=frame)


def keys_of(obj) -> np.ndarray:
    """All key (frame, value) pairs of the object's action, sorted by data path and index: ``(curves, T, 2)``."""
    action = obj.animation_data.action
    if hasattr(action, "fcurves") and not hasattr(action, "fcurve_ensure_for_datablock"):
        curves = list(action.fcurves)  # Blender 4.2, 4.3
    else:
        slot = obj.animation_data.action_slot
        curves = list(action.layers[0].strips[0].channelbag(slot).fcurves)
    out = []
    for fc in sorted(curves, key=lambda c: (c.data_path, c.array_index)):
        co = np.empty(2 * len(fc.keyframe_points), dtype=np.float32)
        fc.keyframe_points.foreach_get("co", co)
        out.append(co.reshape(-1, 2))
    return np.stack(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=1800)
    ap.add_argument("--bones", type=int, nargs="+", default=[30, 90, 150])
    args = ap.parse_args()
    frames = np.arange(1, args.frames + 1, dtype=np.float64)
    print(f"Blender {bpy.app.version_string}, {args.frames} frames; keys = frames x (4 per bone + 3 root)")
    print(f"{'bones':>5} {'keys':>9} {'bulk s':>8} {'keyframe_insert s':>17} {'ratio':>7} {'same keys':>9}")
    for bones in args.bones:
        quats, root = motion(args.frames, bones)
        obj = chain_armature(bones)
        t0 = time.perf_counter()
        bulk(obj, frames, quats, root)
        t_bulk = time.perf_counter() - t0
        keys_bulk = keys_of(obj)
        obj = chain_armature(bones)
        t0 = time.perf_counter()
        per_frame(obj, frames, quats, root)
        t_insert = time.perf_counter() - t0
        same = keys_bulk.shape == keys_of(obj).shape and np.allclose(keys_bulk, keys_of(obj), atol=1e-6)
        n_keys = args.frames * (4 * bones + 3)
        print(f"{bones:>5} {n_keys:>9} {t_bulk:>8.3f} {t_insert:>17.2f} {t_insert / t_bulk:>7.0f} {same!s:>9}")


if __name__ == "__main__":
    main()
