"""The scenes of the retarget tests (also rendered for docs/RETARGET.md by ``bench/bench_retarget.py``).

* :func:`lift_mocap`: a real human mocap clip (CMU subject 131, ``../shared/data/mocap``) seen by a pinhole camera,
  its 2D projection lifted with the shipped weights and written into Blender as the add-on does;
* :func:`lift_dog`: a generated trotting dog (17 AP-10K-style joints), projected and lifted the same way;
* :func:`add_metarig`: a Rigify metarig; :func:`add_mixamo_rig`: a small armature with Mixamo bone names.
"""

from __future__ import annotations

import json
from pathlib import Path

import bpy
import numpy as np

from tests.conftest import SHARED_DATA

MOCAP = SHARED_DATA / "mocap" / "cmu_131_bvh11.npz"
FOCAL, IMAGE = 1500.0, (1920, 1080)


def _lift(tmp: Path, name: str, points2d: np.ndarray, names, parents, category: str, fps: float, height: float):
    """Write the 2D clip (our NPZ) and its rig (JSON), lift it with the shipped weights, build it in Blender.

    Returns ``(armature object, ClipResult)``."""
    from blender_addon import blender_io
    from lfm_engine import Rig
    from lfm_engine.io import Keypoints2D
    from lfm_engine.io.native import write_keypoints_npz
    from lfm_engine.pipeline import LiftSettings, run

    rig = Rig.from_parents(list(names), list(parents), name=name, category=category)
    rig_file = tmp / f"{name}_rig.json"
    rig_file.write_text(json.dumps(rig.to_dict()))
    kp = Keypoints2D(points=points2d.astype(np.float32), confidence=np.ones(points2d.shape[:2], np.float32),
                     joint_names=tuple(names), edges=np.asarray(rig.edges), image_size=IMAGE, fps=fps)  # fmt: skip
    clip = write_keypoints_npz(kp, tmp / f"{name}.npz")
    # The per-frame lift, which the retarget tests' thresholds and docs/RETARGET.md's figures were measured on (with
    # the clip solver all but one pass: the head of test_head_compares_the_skull_base... then strays 7.6 cm from
    # the lifted head at the clip's last frames, against 3 cm allowed).
    result = run(clip, LiftSettings(rig=str(rig_file), focal_length=FOCAL, height=height, solve_clip=False))
    blender_io.write_clip(bpy.context, result, set_scene=True)
    return bpy.data.objects[result.name], result


def _project(cam: np.ndarray) -> np.ndarray:
    """Camera-frame points (x right, y down, z away, metres) to pixels."""
    return cam[..., :2] / cam[..., 2:3] * FOCAL + np.array(IMAGE) / 2.0


def lift_mocap(tmp: Path, frames: int = 90, start: int = 0):
    """CMU 131 (22 joints, 30 fps; Y up, metres) seen 4 m in front of the camera, from the front-left."""
    d = np.load(MOCAP)
    pos = np.asarray(d["positions"][start : start + frames], dtype=np.float64)  # (T, J, 3) Y up
    pos = pos - np.array([pos[0, 0, 0], 0.0, pos[0, 0, 2]])
    a = np.radians(30.0)  # turn the subject about the vertical
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    pos = pos @ rot.T
    cam = np.stack([pos[..., 0], 0.9 - pos[..., 1], 4.0 + pos[..., 2]], -1)
    return _lift(tmp, "mocap", _project(cam), [str(n) for n in d["joint_names"]], [int(p) for p in d["parents"]],
                 "human", float(d["fps"]), 1.75)  # fmt: skip


DOG_JOINTS = ("nose", "left_eye", "right_eye", "neck", "root_of_tail", "left_shoulder", "left_elbow",
              "left_front_paw", "right_shoulder", "right_elbow", "right_front_paw", "left_hip", "left_knee",
              "left_back_paw", "right_hip", "right_knee", "right_back_paw")  # fmt: skip
DOG_PARENTS = (3, 0, 0, 4, -1, 3, 5, 6, 3, 8, 9, 4, 11, 12, 4, 14, 15)


def dog_motion(frames: int = 60, fps: float = 30.0) -> np.ndarray:
    """``(T, 17, 3)`` a dog trotting in place (world: Z up, facing -Y, metres; shoulder height 0.5 m)."""
    t = np.arange(frames) / fps
    phase = 2 * np.pi * 2.0 * t  # 2 strides a second
    out = np.zeros((frames, len(DOG_JOINTS), 3))
    j = {n: k for k, n in enumerate(DOG_JOINTS)}
    bob = 0.015 * np.cos(2 * phase)
    out[:, j["root_of_tail"]] = np.stack([0 * t, 0.35 + 0 * t, 0.52 + bob], -1)
    out[:, j["neck"]] = np.stack([0 * t, -0.3 + 0 * t, 0.62 + bob], -1)
    out[:, j["nose"]] = out[:, j["neck"]] + [0.0, -0.22, 0.05]
    out[:, j["left_eye"]] = out[:, j["neck"]] + [0.04, -0.14, 0.1]
    out[:, j["right_eye"]] = out[:, j["neck"]] + [-0.04, -0.14, 0.1]
    for side, x in (("left", 0.1), ("right", -0.1)):
        for top, mid, end, y, swing, knee_dir in (("shoulder", "elbow", "front_paw", -0.25, 0.0, -1.0),
                                                   ("hip", "knee", "back_paw", 0.3, np.pi, 1.0)):  # fmt: skip
            ph = phase + swing + (0.0 if side == "left" else np.pi)
            hip = np.stack([x + 0 * t, y + 0 * t, 0.5 + bob], -1)
            angle = 0.35 * np.sin(ph)  # leg swing about X
            lift = 0.08 * np.clip(np.cos(ph), 0, None)  # paw lifted in the swing phase
            paw = hip + np.stack([0 * t, 0.45 * np.sin(angle), -0.48 + lift - bob], -1)
            knee = (hip + paw) / 2 + np.stack([0 * t, 0.06 * knee_dir + 0 * t, 0 * t], -1)
            out[:, j[f"{side}_{top}"]], out[:, j[f"{side}_{mid}"]], out[:, j[f"{side}_{end}"]] = hip, knee, paw
    return out


def lift_dog(tmp: Path, frames: int = 60):
    """The trotting dog seen from its left side, 3 m away."""
    w = dog_motion(frames)  # world Z up, facing -Y
    a = np.radians(-70.0)  # turn it about Z so that the camera (looking along +Y) sees its left side
    rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    w = w @ rot.T
    cam = np.stack([w[..., 0], 0.3 - w[..., 2], 3.0 + w[..., 1]], -1)
    return _lift(tmp, "dog", _project(cam), DOG_JOINTS, DOG_PARENTS, "quadruped", 30.0, 0.7)


def add_metarig(kind: str = "human"):
    """A Rigify metarig (``human``, ``basic_human``, ``wolf``, ``horse``, ...) at the origin; the new object."""
    import addon_utils

    addon_utils.enable("rigify", default_set=True)  # factory settings disable add-ons: enable every time
    getattr(bpy.ops.object, f"armature_{kind}_metarig_add")()
    return bpy.context.object


MIXAMO = (  # name, parent, head (x, y, z) in metres, T-pose, facing -Y
    ("Hips", None, (0, 0, 1.0)), ("Spine", "Hips", (0, 0, 1.1)), ("Spine1", "Spine", (0, 0, 1.22)),
    ("Spine2", "Spine1", (0, 0, 1.35)), ("Neck", "Spine2", (0, 0, 1.5)), ("Head", "Neck", (0, 0, 1.6)),
    ("HeadTop_End", "Head", (0, 0, 1.8)),
    ("LeftShoulder", "Spine2", (0.05, 0, 1.45)), ("LeftArm", "LeftShoulder", (0.18, 0, 1.45)),
    ("LeftForeArm", "LeftArm", (0.45, 0, 1.45)), ("LeftHand", "LeftForeArm", (0.7, 0, 1.45)),
    ("LeftUpLeg", "Hips", (0.1, 0, 0.95)), ("LeftLeg", "LeftUpLeg", (0.1, 0, 0.52)),
    ("LeftFoot", "LeftLeg", (0.1, 0.02, 0.1)), ("LeftToeBase", "LeftFoot", (0.1, -0.1, 0.02)),
    ("LeftToe_End", "LeftToeBase", (0.1, -0.18, 0.02)),
)  # fmt: skip


def add_mixamo_rig(name: str = "Mixamo"):
    """A Mixamo-named armature (``mixamorig:`` prefix, T-pose, both sides); the new object."""
    data = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, data)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    rows = list(MIXAMO)
    for n, p, h in MIXAMO:
        if n.startswith("Left"):
            rows.append((n.replace("Left", "Right"), p and p.replace("Left", "Right"), (-h[0], h[1], h[2])))
    heads = {n: np.array(h, dtype=float) for n, _, h in rows}
    kids = {}
    for n, p, _ in rows:
        if p:
            kids.setdefault(p, n)
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        for n, p, _ in rows:
            bone = data.edit_bones.new(f"mixamorig:{n}")
            bone.head = heads[n]
            tail = heads[kids[n]] if n in kids else heads[n] + (heads[n] - heads[p]) * 0.5
            if n.endswith("Hips"):
                tail = heads["Spine"]
            bone.tail = tail
        for n, p, _ in rows:
            if p:
                data.edit_bones[f"mixamorig:{n}"].parent = data.edit_bones[f"mixamorig:{p}"]
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
    return obj
