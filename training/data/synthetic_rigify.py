"""Synthetic 3D poses: Blender's Rigify metarigs posed at random within plausible joint ranges.

Rigify (shipped inside the ``bpy`` wheel) has eight metarigs: ``human`` (body, fingers and face), ``basic_human``,
``basic_quadruped``, ``horse``, ``cat``, ``wolf``, ``bird`` and ``shark``. Each is loaded once with ``bpy`` for its
rest pose; the poses themselves are made in numpy (random local rotations per bone, then forward kinematics), which
matches Blender's own pose evaluation (checked in ``tests/training/test_synthetic.py``) and is orders of magnitude
faster than posing the armature in Blender.

Joints are the bone heads plus the bone tails that are not the head of a child bone. Points that are rigidly
fixed in the same bone frame and coincide at rest (a connected child's head and its parent's tail, a helper bone
that starts where its parent starts) are one joint. A joint is named after its bone; a tail joint adds ``.end``
before the side suffix; Rigify's infix sides are moved to the end (``ear.L.003`` becomes ``ear.003.L``,
``side_fin.L.001`` becomes ``side_fin.001.L``) so that :func:`lfm_engine.rig.detect_symmetry` pairs them.

Rig variants (one npz each): every metarig as it is, plus ``human_noface`` (body and fingers), ``cat_noface`` and
``wolf_noface`` (the Rigify face bones removed).

Output npz, in the format of the project's real mocap files: ``positions`` float32 (T, J, 3) in metres with Y up
(Blender's Z-up ``(x, y, z)`` becomes ``(x, z, -y)``, a proper rotation; the character faces +Z and its left side
is at +X), ``parents`` int32 (J,), ``joint_names`` (J,), ``fps`` 0.0 (static poses), ``source``, ``license``,
``category``, ``clip_starts`` [0], ``clip_names`` [variant], ``subjects`` [variant]; plus ``rest_positions``
float32 (J, 3) (the metarig's rest pose, same frame) and ``bone_names`` (J,) (the Blender bone each joint is the
head or tail of). The root bone stays at rest: a training pipeline adds its own global rotation and cameras.

    .venv/bin/python training/data/synthetic_rigify.py --out training/cache/synthetic --poses 20000 --seed 0
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

#: The Rigify metarigs (``bpy.ops.object.armature_<name>_metarig_add``).
METARIGS: tuple[str, ...] = ("human", "basic_human", "basic_quadruped", "horse", "cat", "wolf", "bird", "shark")

#: Category of each metarig.
CATEGORIES: dict[str, str] = {
    "human": "human",
    "basic_human": "human",
    "basic_quadruped": "quadruped",
    "horse": "quadruped",
    "cat": "quadruped",
    "wolf": "quadruped",
    "bird": "bird",
    "shark": "fish",
}

#: Rig variants written by the CLI: name -> (metarig, keep the face bones).
VARIANTS: dict[str, tuple[str, bool]] = {
    "human": ("human", True),
    "human_noface": ("human", False),
    "basic_human": ("basic_human", True),
    "basic_quadruped": ("basic_quadruped", True),
    "horse": ("horse", True),
    "cat": ("cat", True),
    "cat_noface": ("cat", False),
    "wolf": ("wolf", True),
    "wolf_noface": ("wolf", False),
    "bird": ("bird", True),
    "shark": ("shark", True),
}

LICENSE = "generated from Blender Rigify metarigs (GPL-2.0-or-later tool; the generated poses are our own data)"

#: Points closer than this at rest (metres) are one joint. The smallest bone of the metarigs is the bird's tongue
#: tip (2 mm); the cat's toes start 0.7 mm from the ends of their palm bones; points meant to coincide do so to 1e-6.
MERGE_TOL = 1e-3

#: Blender (Z up, -Y front) to the project's frame (Y up): ``(x, y, z) -> (x, z, -y)``, a proper rotation.
BLENDER_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

_CHUNK = 4096  # poses per forward-kinematics batch (bounds memory: ~B * 4096 * 12 doubles)


# ---------------------------------------------------------------------------------------------------------------
# Rest armatures (bpy)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RestArmature:
    """A metarig's rest pose, in Blender's armature space (Z up, the character faces -Y, metres).

    Attributes:
        metarig: the Rigify metarig name.
        bone_names: B Blender bone names, parents before children (depth first, Blender's child order).
        parents: (B,) int, the parent bone's index, -1 for the root.
        matrix_local: (B, 4, 4) float64, each bone's rest matrix (``Bone.matrix_local``): columns X, Y (along the
            bone, head to tail), Z, and the head position.
        lengths: (B,) float64, bone lengths (metres).
        in_face: (B,) bool, the bone is a Rigify face bone (``faces.super_face``) or below one.
        blender_version: the ``bpy`` version the armature was read with.
    """

    metarig: str
    bone_names: tuple[str, ...]
    parents: np.ndarray
    matrix_local: np.ndarray
    lengths: np.ndarray
    in_face: np.ndarray
    blender_version: str

    @property
    def heads(self) -> np.ndarray:
        """(B, 3) rest head positions."""
        return self.matrix_local[:, :3, 3]

    @property
    def tails(self) -> np.ndarray:
        """(B, 3) rest tail positions."""
        return self.heads + self.matrix_local[:, :3, 1] * self.lengths[:, None]

    def subset(self, keep: np.ndarray) -> RestArmature:
        """The armature restricted to the bones where ``keep`` (B,) is true; a kept bone's parent must be kept."""
        keep = np.asarray(keep, dtype=bool)
        new_index = np.cumsum(keep) - 1
        parents = self.parents[keep]
        if np.any(parents >= 0) and not np.all(keep[parents[parents >= 0]]):
            raise ValueError("subset: a kept bone's parent is dropped")
        return RestArmature(
            metarig=self.metarig,
            bone_names=tuple(n for n, k in zip(self.bone_names, keep, strict=True) if k),
            parents=np.where(parents >= 0, new_index[np.maximum(parents, 0)], -1),
            matrix_local=self.matrix_local[keep],
            lengths=self.lengths[keep],
            in_face=self.in_face[keep],
            blender_version=self.blender_version,
        )


def _import_bpy():
    try:
        import bpy

        addon_utils = importlib.import_module("addon_utils")  # importable once bpy is
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("synthetic_rigify needs Blender's Python module: pip install bpy==5.0.1") from exc
    return bpy, addon_utils


def add_metarig_object(metarig: str):
    """A fresh empty Blender scene holding only the Rigify ``metarig``; returns its armature object (bpy)."""
    if metarig not in METARIGS:
        raise ValueError(f"unknown metarig {metarig!r}; choose from {', '.join(METARIGS)}")
    bpy, addon_utils = _import_bpy()
    with contextlib.redirect_stdout(io.StringIO()):  # Rigify prints "Reloading external rigs..."
        bpy.ops.wm.read_factory_settings(use_empty=True)
        addon_utils.enable("rigify", default_set=True)  # factory settings disable add-ons: enable every time
        getattr(bpy.ops.object, f"armature_{metarig}_metarig_add")()
    obj = bpy.context.active_object
    if obj is None or obj.type != "ARMATURE":  # pragma: no cover
        raise RuntimeError(f"adding the {metarig!r} metarig did not make an armature")
    return obj


@cache
def load_metarig(metarig: str) -> RestArmature:
    """The rest pose of a Rigify metarig (read once per process with ``bpy``)."""
    bpy, _ = _import_bpy()
    obj = add_metarig_object(metarig)
    if not np.allclose(np.array(obj.matrix_world), np.eye(4)):  # pragma: no cover
        raise RuntimeError(f"metarig {metarig!r}: object transform is not the identity")
    bones = obj.data.bones
    order: list = []
    stack = [b for b in reversed(bones) if b.parent is None]
    while stack:  # depth first, children in Blender's order
        bone = stack.pop()
        order.append(bone)
        stack.extend(reversed(bone.children))
    index = {b.name: i for i, b in enumerate(order)}
    face = np.zeros(len(order), dtype=bool)
    for i, bone in enumerate(order):
        is_face_root = getattr(obj.pose.bones[bone.name], "rigify_type", "") == "faces.super_face"
        face[i] = is_face_root or (bone.parent is not None and face[index[bone.parent.name]])
    for bone in order:  # rotations only: these flags must be Blender's defaults for the numpy FK to hold
        if not bone.use_inherit_rotation or bone.inherit_scale != "FULL":  # pragma: no cover
            raise RuntimeError(f"metarig {metarig!r}: bone {bone.name!r} does not inherit rotation and scale")
    matrix = np.array([np.array(b.matrix_local, dtype=np.float64) for b in order])
    # Blender keeps these in float32 and some are off orthonormal by 5e-5, which would let bone lengths drift by
    # a few micrometres over poses: use the nearest rotations (polar decomposition).
    u, _, vt = np.linalg.svd(matrix[:, :3, :3])
    matrix[:, :3, :3] = u @ vt
    return RestArmature(
        metarig=metarig,
        bone_names=tuple(b.name for b in order),
        parents=np.array([index[b.parent.name] if b.parent else -1 for b in order], dtype=np.int64),
        matrix_local=matrix,
        lengths=np.array([b.length for b in order], dtype=np.float64),
        in_face=face,
        blender_version=bpy.app.version_string,
    )


def blender_pose(metarig: str, euler: np.ndarray, bone_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Pose the metarig in Blender and read its evaluated bones (the reference for the numpy FK).

    Args:
        metarig: a Rigify metarig name.
        euler: (N, B, 3) radians, XYZ Euler rotations of the bones ``bone_names`` (``PoseBone.rotation_euler``).
        bone_names: B Blender bone names; other bones stay at rest.

    Returns:
        heads, tails: (N, B, 3) float64, ``PoseBone.head`` / ``.tail`` in armature space (Blender frame, metres).
    """
    bpy, _ = _import_bpy()
    obj = add_metarig_object(metarig)
    euler = np.asarray(euler, dtype=np.float64)
    heads = np.zeros(euler.shape)
    tails = np.zeros(euler.shape)
    pose_bones = [obj.pose.bones[n] for n in bone_names]
    for pb in pose_bones:
        pb.rotation_mode = "XYZ"
    for t in range(euler.shape[0]):
        for b, pb in enumerate(pose_bones):
            pb.rotation_euler = tuple(euler[t, b])
        bpy.context.view_layer.update()
        for b, pb in enumerate(pose_bones):
            heads[t, b] = pb.head
            tails[t, b] = pb.tail
    return heads, tails


# ---------------------------------------------------------------------------------------------------------------
# Joints
# ---------------------------------------------------------------------------------------------------------------

_INFIX_SIDE = re.compile(r"(.*?)\.([LR])((?:\.\d+)*)")


def joint_name(bone_name: str, tail: bool = False) -> str:
    """A joint's name: the bone's, side suffix moved to the end (``ear.L.003`` -> ``ear.003.L``); a tail joint
    adds ``.end`` before the side (``hand.L`` -> ``hand.end.L``, ``spine.006`` -> ``spine.006.end``)."""
    m = _INFIX_SIDE.fullmatch(bone_name)
    base, side = (m.group(1) + m.group(3), "." + m.group(2)) if m else (bone_name, "")
    return base + (".end" if tail else "") + side


@dataclass(frozen=True, eq=False)
class Skeleton:
    """Joints of a rest armature, parents before children.

    Attributes:
        joint_names: J unique names.
        parents: (J,) int32, the parent joint, -1 for the root.
        bone: (J,) int, the bone whose head (or tail, where ``is_tail``) the joint is.
        is_tail: (J,) bool.
    """

    joint_names: tuple[str, ...]
    parents: np.ndarray
    bone: np.ndarray
    is_tail: np.ndarray

    def positions(self, heads: np.ndarray, tails: np.ndarray) -> np.ndarray:
        """(..., J, 3) joint positions from bone heads and tails (..., B, 3)."""
        return np.where(self.is_tail[:, None], tails[..., self.bone, :], heads[..., self.bone, :])


def build_skeleton(arm: RestArmature, tol: float = MERGE_TOL) -> Skeleton:
    """The joint tree of an armature: bone heads and free tails, coincident points of one bone frame merged.

    A head is rigid in its parent bone's frame, so it is merged with the parent's head or an earlier sibling's
    head when they coincide at rest; a tail is rigid in its own bone's frame and is dropped when a child's head
    is on it. A head joint's parent is the nearer (at rest) of the parent bone's head and tail joints, a tail
    joint's parent is its bone's head joint: every link is rigid in one bone frame, so its length never changes.
    A tail with no child joint that coincides at rest with a joint of another frame (the faces' closed loops:
    eyelids, ears, brows meeting the nose) is dropped as a duplicate.
    """
    heads, tails, parents = arm.heads, arm.tails, arm.parents
    n_bones = len(arm.bone_names)
    if np.min(arm.lengths) <= 2 * tol:  # pragma: no cover
        raise ValueError(f"metarig {arm.metarig!r}: a bone is shorter than twice the merge tolerance {tol}")
    children: list[list[int]] = [[] for _ in range(n_bones)]
    for b, p in enumerate(parents):
        if p >= 0:
            children[p].append(b)

    bone_of: list[int] = []
    tail_of: list[bool] = []
    head_joint = np.full(n_bones, -1)
    tail_joint = np.full(n_bones, -1)
    for b in range(n_bones):  # heads (parents first)
        p = parents[b]
        same = None
        if p >= 0:
            if np.linalg.norm(heads[b] - heads[p]) < tol:
                same = p
            else:
                same = next((s for s in children[p] if s < b and np.linalg.norm(heads[b] - heads[s]) < tol), None)
        if same is not None:
            head_joint[b] = head_joint[same]
        else:
            head_joint[b] = len(bone_of)
            bone_of.append(b)
            tail_of.append(False)
    for b in range(n_bones):  # tails
        on_child = next((c for c in children[b] if np.linalg.norm(tails[b] - heads[c]) < tol), None)
        if on_child is not None:
            tail_joint[b] = head_joint[on_child]
        else:
            tail_joint[b] = len(bone_of)
            bone_of.append(b)
            tail_of.append(True)

    bone_arr, tail_arr = np.array(bone_of), np.array(tail_of)
    rest = np.where(tail_arr[:, None], tails[bone_arr], heads[bone_arr])
    n_joints = len(bone_arr)
    parent = np.full(n_joints, -1)
    for j in range(n_joints):
        b = bone_arr[j]
        if tail_arr[j]:
            parent[j] = head_joint[b]
        elif parents[b] >= 0:
            p = parents[b]
            options = [k for k in (head_joint[p], tail_joint[p]) if k != j]
            parent[j] = min(options, key=lambda k: np.linalg.norm(rest[k] - rest[j]))

    kids: list[list[int]] = [[] for _ in range(n_joints)]
    for j in range(n_joints):
        if parent[j] >= 0:
            kids[parent[j]].append(j)
    dropped = np.zeros(n_joints, dtype=bool)
    for j in range(n_joints):
        if tail_arr[j] and not kids[j]:
            dist = np.linalg.norm(rest - rest[j], axis=1)
            dist[j] = np.inf
            if np.any(dist[~dropped] < tol):
                dropped[j] = True
                kids[parent[j]].remove(j)
    n_joints = int(np.sum(~dropped))

    # Parents before children: depth first over the joint tree, children in bone order (a head before a tail).
    key = bone_arr * 2 + tail_arr
    order: list[int] = []
    stack = sorted((j for j in range(len(parent)) if parent[j] < 0), key=lambda j: -key[j])
    while stack:
        j = stack.pop()
        order.append(j)
        stack.extend(sorted(kids[j], key=lambda k: -key[k]))
    if len(order) != n_joints:  # pragma: no cover
        raise RuntimeError("joint parents do not form a tree")
    new = np.full(len(parent), -1, dtype=np.int64)
    new[order] = np.arange(n_joints)
    order_arr = np.array(order)
    names = [joint_name(arm.bone_names[bone_arr[j]], bool(tail_arr[j])) for j in order]
    for k, j in enumerate(order):  # a .L/.R joint on the mid-plane with no mirror (merged lip.T.L and lip.T.R)
        mirror = names[k][:-1] + {"L": "R", "R": "L"}.get(names[k][-1], "")
        on_mid_plane = names[k][-2:] in (".L", ".R") and abs(rest[j, 0]) < tol
        if on_mid_plane and mirror not in names and names[k][:-2] not in names:
            names[k] = names[k][:-2]
    if len(set(names)) != len(names):  # pragma: no cover
        raise RuntimeError(f"metarig {arm.metarig!r}: joint names are not unique")
    old_parent = parent[order_arr]
    return Skeleton(
        joint_names=tuple(names),
        parents=np.where(old_parent >= 0, new[np.maximum(old_parent, 0)], -1).astype(np.int32),
        bone=bone_arr[order_arr],
        is_tail=tail_arr[order_arr],
    )


# ---------------------------------------------------------------------------------------------------------------
# Joint ranges
# ---------------------------------------------------------------------------------------------------------------

#: One axis of a bone's local rotation: (low, high) degrees and how a positive angle is oriented: None (the raw
#: local axis; the range must then be symmetric), "bend" (increases the bend between the bone and its parent at
#: rest: flexion of a hinge), or a direction the bone's tail moves towards: "front", "back", "up", "down",
#: "lateral", "medial" (away from / towards the mid-plane; mirrored for .R bones), "x+" (Blender +X).
Axis = tuple[float, float, str | None]


@dataclass(frozen=True)
class Spec:
    """Ranges of a bone's XYZ Euler rotation in its local frame (Y along the bone), degrees."""

    x: Axis = (0.0, 0.0, None)
    y: Axis = (0.0, 0.0, None)
    z: Axis = (0.0, 0.0, None)


def S(x: tuple[float, ...] = (0, 0), y: tuple[float, ...] = (0, 0), z: tuple[float, ...] = (0, 0)) -> Spec:
    """``Spec`` from (lo, hi) or (lo, hi, orientation) tuples (a short constructor for the rule tables)."""

    def axis(a: tuple[float, ...]) -> Axis:
        return (float(a[0]), float(a[1]), a[2] if len(a) > 2 else None)  # type: ignore[return-value]

    return Spec(axis(x), axis(y), axis(z))


def ball(deg: float) -> Spec:
    """Symmetric +-deg about every local axis."""
    return S((-deg, deg), (-deg, deg), (-deg, deg))


REST = Spec()

# Rules are (regex on the Blender bone name, Spec); the first full match wins. Face rules apply to face bones.
_FACE_RULES: list[tuple[str, Spec]] = [
    (r"face", REST),
    (r"jaw", S(x=(0, 18, "down"), z=(-3, 3))),  # the mouth opens
    (r"chin(\.001)?", ball(3)),
    (r"tongue(\.00\d)?", S(x=(-15, 15), y=(-5, 5), z=(-15, 15))),
    (r"eye\.[LR]", S(x=(-20, 20), z=(-25, 25))),
    (r"lid\..*", ball(5)),
    (r"ear\..*", ball(6)),
    (r"lip\..*", ball(5)),
    (r".*", ball(2.5)),  # brows, forehead, temples, cheeks, nose, teeth: nearly rigid
]
_ANIMAL_FACE_RULES: list[tuple[str, Spec]] = [(r"ear\..*", ball(20)), *_FACE_RULES]

_HUMAN_RULES: list[tuple[str, Spec]] = [
    (r"spine", REST),  # root (hips)
    (r"pelvis\.[LR]|heel\.02\.[LR]", REST),
    (r"spine\.00[123]", S(x=(-10, 20, "front"), y=(-10, 10), z=(-8, 8))),
    (r"spine\.00[45]", S(x=(-20, 25, "front"), y=(-25, 25), z=(-15, 15))),  # neck
    (r"spine\.006", S(x=(-20, 20, "front"), y=(-30, 30), z=(-15, 15))),  # head
    (r"shoulder\.[LR]", S(x=(-8, 8), y=(-5, 5), z=(-10, 15, "up"))),
    (r"upper_arm\.[LR]", S(x=(-45, 100, "front"), y=(-60, 60), z=(-50, 110, "up"))),
    (r"forearm\.[LR]", S(x=(0, 145, "bend"), y=(-60, 60), z=(-5, 5))),
    (r"hand\.[LR]", S(x=(-60, 60), y=(-10, 10), z=(-25, 25))),
    (r"palm\.0\d\.[LR]", S(x=(-5, 5), y=(-3, 3), z=(-5, 5))),
    (r"thumb\.01\.[LR]", S(x=(-15, 45, "bend"), y=(-20, 20), z=(-25, 25))),
    (r"thumb\.02\.[LR]", S(x=(-10, 60, "bend"), y=(-5, 5), z=(-5, 5))),
    (r"thumb\.03\.[LR]", S(x=(-10, 80, "bend"), y=(-3, 3), z=(-3, 3))),
    (r"f_\w+\.01\.[LR]", S(x=(-10, 90, "bend"), y=(-5, 5), z=(-15, 15))),  # MCP: flexion and spread
    (r"f_\w+\.02\.[LR]", S(x=(0, 110, "bend"), y=(-3, 3), z=(-3, 3))),  # PIP
    (r"f_\w+\.03\.[LR]", S(x=(0, 80, "bend"), y=(-3, 3), z=(-3, 3))),  # DIP
    (r"breast\.[LR]", S(x=(-3, 3), z=(-3, 3))),
    (r"thigh\.[LR]", S(x=(-25, 120, "front"), y=(-35, 35), z=(-20, 45, "lateral"))),
    (r"shin\.[LR]", S(x=(0, 140, "bend"), y=(-10, 10))),
    (r"foot\.[LR]", S(x=(-45, 25, "up"), y=(-10, 10), z=(-15, 15))),
    (r"toe\.[LR]", S(x=(-30, 50, "up"))),
]

# basic_quadruped and wolf share their body bones.
_DOG_RULES: list[tuple[str, Spec]] = [
    (r"spine\.004", REST),  # root (hips)
    (r"pelvis\.[LR]|breast\.[LR]", REST),
    (r"spine(\.00[123])?", S(x=(-15, 15), y=(-8, 8), z=(-15, 15))),  # tail
    (r"spine\.00[5-8]", S(x=(-6, 6), y=(-5, 5), z=(-6, 6))),  # back
    (r"spine\.0(09|10)", S(x=(-30, 30), y=(-20, 20), z=(-25, 25))),  # neck
    (r"spine\.011", S(x=(-25, 25), y=(-20, 20), z=(-20, 20))),  # head
    (r"shoulder\.[LR]", S(x=(-15, 15), y=(-5, 5), z=(-5, 5))),
    (r"front_thigh\.[LR]", S(x=(-45, 50, "front"), y=(-10, 10), z=(-10, 20, "lateral"))),
    (r"front_shin\.[LR]", S(x=(-15, 100, "front"), y=(-5, 5), z=(-5, 5))),  # elbow flexion: paw forward
    (r"front_foot\.[LR]", S(x=(-20, 110, "back"), y=(-5, 5), z=(-8, 8))),  # carpus flexion: paw back
    (r"front_toe\.[LR]", S(x=(-40, 40), z=(-5, 5))),
    (r"thigh\.[LR]", S(x=(-40, 50, "front"), y=(-10, 10), z=(-10, 20, "lateral"))),
    (r"shin\.[LR]", S(x=(-20, 80, "back"), y=(-5, 5), z=(-5, 5))),  # stifle flexion: hock back
    (r"foot\.[LR]", S(x=(-20, 70, "front"), y=(-5, 5), z=(-8, 8))),  # hock flexion: paw forward
    (r"toe\.[LR]", S(x=(-40, 40), z=(-5, 5))),
    (r"[fr]_palm\.0\d\.[LR]", ball(4)),
    (r"[fr]_\w+\.01\.[LR]", S(x=(-20, 60, "down"), z=(-8, 8))),  # digits curl down
    (r"[fr]_\w+\.0[23]\.[LR]", S(x=(-10, 70, "down"), z=(-3, 3))),
]

_CAT_RULES: list[tuple[str, Spec]] = [
    (r"spine", REST),  # root (hips)
    (r"pelvis\.[LRC]|Breast\.C|belly\.C", REST),  # pelvis.L/R carry the hind legs: rigid with the hips
    (r"tail\.00[1-4]", S(x=(-25, 25), y=(-8, 8), z=(-25, 25))),
    (r"spine\.00[123]", S(x=(-6, 6), y=(-5, 5), z=(-6, 6))),  # back
    (r"spine\.00[45]", S(x=(-30, 30), y=(-20, 20), z=(-25, 25))),  # neck
    (r"spine\.006", S(x=(-25, 25), y=(-20, 20), z=(-20, 20))),  # head
    (r"shoulder\.[LR]", S(x=(-15, 15), y=(-5, 5), z=(-5, 5))),
    (r"upper_arm\.[LR]", S(x=(-45, 50, "front"), y=(-10, 10), z=(-10, 20, "lateral"))),
    (r"forearm\.[LR]", S(x=(-15, 100, "front"), y=(-5, 5), z=(-5, 5))),  # elbow
    (r"hand\.[LR]", S(x=(-20, 100, "back"), y=(-5, 5), z=(-8, 8))),  # carpus
    (r"f_toe\.[LR]|r_toe\.[LR]", S(x=(-40, 40), z=(-5, 5))),
    (r"thigh\.[LR]", S(x=(-40, 50, "front"), y=(-10, 10), z=(-10, 20, "lateral"))),
    (r"shin\.[LR]", S(x=(-20, 80, "back"), y=(-5, 5), z=(-5, 5))),  # stifle
    (r"foot\.[LR]", S(x=(-20, 70, "front"), y=(-5, 5), z=(-8, 8))),  # hock
    (r"[fr]_palm\.00\d\.[LR]", ball(4)),
    (r"[fr]_\w+\.001\.[LR]", S(x=(-20, 60, "down"), z=(-8, 8))),
    (r"[fr]_\w+\.002\.[LR]", S(x=(-10, 70, "down"), z=(-3, 3))),
]

_HORSE_RULES: list[tuple[str, Spec]] = [
    (r"spine\.00[12]", REST),  # root (hips) and the bone carrying pelvis.L/R, which carry the hind legs
    (r"pelvis\.[LR]|breast\.[LR]|chest|abdomen|hip", REST),
    (r"skull(\.[LR])?|eye\.[LR]|nose\.[LR]", REST),  # rigid with the head
    (r"tail\.00[1-5]", S(x=(-20, 20), y=(-8, 8), z=(-20, 20))),
    (r"spine\.00[3-6]", S(x=(-4, 4), y=(-3, 3), z=(-4, 4))),  # back
    (r"neck\.00[1-4]", S(x=(-12, 12), y=(-8, 8), z=(-12, 12))),
    (r"head", S(x=(-25, 25), y=(-15, 15), z=(-15, 15))),
    (r"ear\.[LR](\.001)?", ball(20)),
    (r"jaw", S(x=(0, 15, "down"), z=(-3, 3))),
    (r"jaw\.001", ball(3)),
    (r"mane_(base|top)\.0\d", ball(6)),
    (r"shoulder\.[LR]", S(x=(-10, 10), y=(-4, 4), z=(-4, 4))),
    (r"upper_arm\.[LR]", S(x=(-40, 50, "front"), y=(-8, 8), z=(-5, 15, "lateral"))),
    (r"forearm\.[LR]", S(x=(-10, 60, "front"), y=(-4, 4), z=(-4, 4))),  # elbow
    (r"forefoot\.[LR]", S(x=(-5, 120, "back"), y=(-4, 4), z=(-4, 4))),  # carpus ("knee")
    (r"f_toe\.[LR]|r_toe\.[LR]", S(x=(-20, 90, "back"), z=(-4, 4))),  # fetlock
    (r"f_hoof\.[LR]|r_hoof\.[LR]", S(x=(-10, 40, "back"), z=(-3, 3))),  # pastern / coffin
    (r"thigh\.[LR]", S(x=(-30, 40, "front"), y=(-8, 8), z=(-5, 15, "lateral"))),
    (r"lower_leg\.[LR]", S(x=(-15, 60, "back"), y=(-4, 4), z=(-4, 4))),  # stifle
    (r"hind_foot\.[LR]", S(x=(-10, 80, "front"), y=(-4, 4), z=(-4, 4))),  # hock
]

_BIRD_RULES: list[tuple[str, Spec]] = [
    (r"spine\.003", REST),  # root (hips)
    (r"pelvis\.[LR]|toes_parent\.[LR]|skull\.006\.[LR]|n_feather\.001\.[LR]", REST),
    (r"spine(\.00[12])?", S(x=(-15, 15), y=(-8, 8), z=(-15, 15))),  # tail
    (r"t_feather\.[LR]", ball(10)),
    (r"spine\.00[45]", ball(5)),
    (r"spine\.006", ball(10)),
    (r"neck\.00[12]", S(x=(-40, 40), y=(-30, 30), z=(-40, 40))),
    (r"head", S(x=(-30, 30), y=(-40, 40), z=(-30, 30))),
    (r"beak\.00[12]\.T|beak\.002\.B", ball(3)),
    (r"beak_001\.B", S(x=(0, 30, "down"), z=(-3, 3))),  # the beak opens
    (r"tongue\.00\d\.[LR]", ball(10)),
    (r"eye\.[LR]", ball(10)),
    (r"shoulder\.[LR]", ball(10)),
    (r"Wing\.[LR]", S(x=(-60, 60), y=(-40, 40), z=(-70, 70))),  # flapping
    (r"Wing\.00[12]\.[LR]", S(x=(-15, 15), y=(-10, 10), z=(-20, 100, "bend"))),  # folding in the wing plane
    (r"w_feather\.00\d\.[LR]", ball(10)),
    (r"thigh\.[LR]", S(x=(-30, 60, "front"), y=(-15, 15), z=(-10, 25, "lateral"))),
    (r"shin\.[LR]", S(x=(-20, 100, "bend"), y=(-5, 5), z=(-5, 5))),
    (r"foot\.[LR]", S(x=(-20, 90, "bend"), y=(-5, 5), z=(-5, 5))),
    (r"toe\.[LR]", S(x=(-30, 60, "bend"), z=(-8, 8))),
    (r"t_\w+\.001\.[LR]", S(x=(-20, 60, "bend"), z=(-10, 10))),
    (r"t_\w+\.00[23]\.[LR]", S(x=(0, 70, "bend"), z=(-3, 3))),
]

_SHARK_RULES: list[tuple[str, Spec]] = [
    (r"spine\.003", REST),  # root
    (r"shoulder\.[LR]|jaw\.master", REST),
    (r"spine(\.00[12])?", S(x=(-5, 5), y=(-3, 3), z=(-20, 20))),  # towards the tail
    (r"spine\.00[458]", S(x=(-3, 3), y=(-3, 3), z=(-8, 8))),  # towards the head
    (r"spine\.00[67]", S(x=(-3, 3), y=(-2, 2), z=(-5, 5))),  # head
    (r"back_fin\..*", S(x=(-5, 5), y=(-3, 3), z=(-25, 25))),  # caudal fin: side to side
    (r"mid_fin\..*|top_fin(\.001)?", ball(10)),
    (r"jaw", S(x=(0, 25, "down"), z=(-2, 2))),
    (r"jaw\.001|jaw\.00[23]\.[LR]", ball(5)),
    (r"eye\.[LR]", ball(5)),
    (r"side_fin\.[LR]", S(x=(-30, 30), y=(-20, 20), z=(-25, 25))),
    (r"side_fin\.[LR]\.001", ball(20)),
    (r"chest_fin\.Bot\.[LR]", ball(15)),
]

#: Coherent motions: (regex on bone names, Spec of the total angle, "even" or "wave"). One angle per axis and pose
#: is drawn from the Spec and shared by the matching bones: "even" splits it equally (a spine bending as a
#: whole), "wave" along a random sine over the chain (C and S shapes of tails and of a swimming fish).
_GROUPS: dict[str, list[tuple[str, Spec, str]]] = {
    "human": [(r"spine\.00[123]", S(x=(-15, 45, "front"), y=(-30, 30), z=(-25, 25)), "even")],
    "basic_quadruped": [
        (r"spine\.00[5-8]", S(x=(-25, 25, "up"), y=(-15, 15), z=(-35, 35, "x+")), "even"),
        (r"spine(\.00[123])?", S(x=(-40, 40, "up"), z=(-60, 60, "x+")), "wave"),
    ],
    "cat": [
        (r"spine\.00[123]", S(x=(-30, 30, "up"), y=(-15, 15), z=(-35, 35, "x+")), "even"),
        (r"tail\.00[1-4]", S(x=(-90, 90, "up"), z=(-90, 90, "x+")), "wave"),
    ],
    "horse": [
        (r"spine\.00[3-6]", S(x=(-10, 10, "up"), y=(-5, 5), z=(-15, 15, "x+")), "even"),
        (r"neck\.00[1-4]", S(x=(-50, 50, "up"), y=(-20, 20), z=(-60, 60, "x+")), "even"),
        (r"tail\.00[1-5]", S(x=(-150, 50, "up"), z=(-90, 90, "x+")), "wave"),
    ],
    "bird": [(r"spine(\.00[12])?", S(x=(-30, 30, "up"), z=(-30, 30, "x+")), "wave")],
    "shark": [(r"spine(\.00[12458])?", S(z=(-90, 90, "x+")), "wave")],
}
_GROUPS["basic_human"] = _GROUPS["human"]
_GROUPS["wolf"] = _GROUPS["basic_quadruped"]

_RULES: dict[str, tuple[list[tuple[str, Spec]], list[tuple[str, Spec]]]] = {
    "human": (_FACE_RULES, _HUMAN_RULES),
    "basic_human": (_FACE_RULES, _HUMAN_RULES),
    "basic_quadruped": (_ANIMAL_FACE_RULES, _DOG_RULES),
    "wolf": (_ANIMAL_FACE_RULES, _DOG_RULES),
    "cat": (_ANIMAL_FACE_RULES, _CAT_RULES),
    "horse": (_ANIMAL_FACE_RULES, _HORSE_RULES),
    "bird": (_ANIMAL_FACE_RULES, _BIRD_RULES),
    "shark": (_ANIMAL_FACE_RULES, _SHARK_RULES),
}

_DIRECTIONS = {
    "front": (0.0, -1.0, 0.0),
    "back": (0.0, 1.0, 0.0),
    "up": (0.0, 0.0, 1.0),
    "down": (0.0, 0.0, -1.0),
    "x+": (1.0, 0.0, 0.0),
}


def _bend_normal(arm: RestArmature, b: int) -> np.ndarray | None:
    """Normal of the rest bend between bone ``b`` and its parent (parent dir x bone dir), None when straight."""
    p = arm.parents[b]
    if p < 0:
        return None
    n = np.cross(arm.matrix_local[p, :3, 1], arm.matrix_local[b, :3, 1])
    return n if np.linalg.norm(n) > np.sin(np.radians(1.0)) else None


def _axis_sign(arm: RestArmature, b: int, axis: int, mode: str | None) -> float:
    """+1 or -1: the orientation of a positive rotation about local ``axis`` of bone ``b`` (see :data:`Axis`)."""
    if mode is None:
        return 1.0
    rot = arm.matrix_local[b, :3, :3]
    a, d = rot[:, axis], rot[:, 1]
    if mode == "bend":
        n, probe = _bend_normal(arm, b), b
        while n is None:  # straight at rest: the bend of the next bone of the chain (fingers curl as one)
            kids = [c for c in range(len(arm.parents)) if arm.parents[c] == probe]
            if not kids:
                return 1.0
            probe = kids[0]
            n = _bend_normal(arm, probe)
        return 1.0 if float(a @ n) >= 0 else -1.0
    if mode in ("lateral", "medial"):
        name = arm.bone_names[b]
        side = 1.0 if re.search(r"\.L(\.|$)", name) else -1.0 if re.search(r"\.R(\.|$)", name) else 0.0
        if side == 0.0:
            raise ValueError(f"bone {name!r}: 'lateral'/'medial' needs a .L or .R bone")
        ref = np.array([side if mode == "lateral" else -side, 0.0, 0.0])
    else:
        ref = np.array(_DIRECTIONS[mode])
    v = float(np.cross(a, d) @ ref)  # velocity of the tail under a positive rotation, along ref
    return 1.0 if v >= 0 else -1.0


def _spec_arrays(arm: RestArmature, spec: Spec, b: int) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) radians, (3,), signed for bone ``b``: a negative sign swaps and negates the range."""
    lo, hi = np.zeros(3), np.zeros(3)
    for k, (a_lo, a_hi, mode) in enumerate((spec.x, spec.y, spec.z)):
        if mode is None and a_lo != -a_hi:
            raise ValueError(f"bone {arm.bone_names[b]!r}: an asymmetric range needs an orientation")
        s = _axis_sign(arm, b, k, mode)
        lo[k], hi[k] = (a_lo, a_hi) if s > 0 else (-a_hi, -a_lo)
    return np.radians(lo), np.radians(hi)


@dataclass(frozen=True, eq=False)
class PoseSpace:
    """Sampling ranges of an armature's bones, in radians.

    Attributes:
        lo, hi: (B, 3) per-bone Euler XYZ ranges (already oriented for each bone).
        groups: coherent motions: (bone indices (G,), lo (G, 3), hi (G, 3), chain position (G,) in [0, 1], mode).
        unmatched: bones no rule matched (given a small default range).
    """

    lo: np.ndarray
    hi: np.ndarray
    groups: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str], ...]
    unmatched: tuple[str, ...]


def pose_space(arm: RestArmature) -> PoseSpace:
    """The per-bone rotation ranges of ``arm`` from the rule tables of its metarig."""
    face_rules, body_rules = _RULES[arm.metarig]
    n_bones = len(arm.bone_names)
    lo, hi = np.zeros((n_bones, 3)), np.zeros((n_bones, 3))
    unmatched: list[str] = []
    for b, name in enumerate(arm.bone_names):
        rules = face_rules if arm.in_face[b] else body_rules
        spec = next((s for pattern, s in rules if re.fullmatch(pattern, name)), None)
        if spec is None:
            unmatched.append(name)
            spec = ball(5)
        if arm.parents[b] < 0:
            spec = REST  # the root stays at rest
        lo[b], hi[b] = _spec_arrays(arm, spec, b)
    groups = []
    for pattern, spec, mode in _GROUPS.get(arm.metarig, []):
        idx = np.array([b for b, n in enumerate(arm.bone_names) if re.fullmatch(pattern, n) and not arm.in_face[b]])
        if idx.size == 0:
            continue
        g_lo, g_hi = (np.array(a) for a in zip(*(_spec_arrays(arm, spec, b) for b in idx), strict=True))
        heads = arm.heads[idx]
        centred = heads - heads.mean(0)
        axis = np.linalg.svd(centred, full_matrices=False)[2][0] if len(idx) > 1 else np.zeros(3)
        s = centred @ axis
        s = (s - s.min()) / max(float(np.ptp(s)), 1e-12)
        groups.append((idx, g_lo, g_hi, s, mode))
    return PoseSpace(lo=lo, hi=hi, groups=tuple(groups), unmatched=tuple(unmatched))


def sample_euler(space: PoseSpace, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, B, 3) random XYZ Euler angles (radians) within ``space``.

    Each pose has an overall intensity in [0.25, 1] scaling every angle, and each bone is nearly at rest (its
    angles scaled by at most 0.3) with probability 0.2; ranges contain 0, so scaled angles stay in range. Group
    angles (see ``_GROUPS``) are added on top.
    """
    n_bones = space.lo.shape[0]
    angles = space.lo + (space.hi - space.lo) * rng.random((n, n_bones, 3))
    intensity = rng.uniform(0.25, 1.0, (n, 1, 1))
    calm = np.where(rng.random((n, n_bones, 1)) < 0.2, rng.uniform(0.0, 0.3, (n, n_bones, 1)), 1.0)
    angles *= intensity * calm
    for idx, g_lo, g_hi, s, mode in space.groups:
        u = rng.random((n, 1, 3))
        total = (g_lo + (g_hi - g_lo) * u) * intensity  # (n, G, 3): one draw per axis, oriented per bone
        if mode == "wave":
            omega = rng.uniform(0.5 * np.pi, 2.0 * np.pi, (n, 1, 1))
            phase = rng.uniform(0.0, 2.0 * np.pi, (n, 1, 1))
            weight = np.sin(omega * s[None, :, None] + phase) / len(idx)
        else:
            weight = np.full((1, len(idx), 1), 1.0 / len(idx))
        angles[:, idx] += total * weight
    return angles


# ---------------------------------------------------------------------------------------------------------------
# Forward kinematics
# ---------------------------------------------------------------------------------------------------------------


def euler_xyz_matrix(euler: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices of XYZ Euler angles (..., 3) in radians, as Blender's ``'XYZ'`` mode:
    ``Rz @ Ry @ Rx`` (X applied first)."""
    euler = np.asarray(euler, dtype=np.float64)
    cx, cy, cz = np.cos(euler[..., 0]), np.cos(euler[..., 1]), np.cos(euler[..., 2])
    sx, sy, sz = np.sin(euler[..., 0]), np.sin(euler[..., 1]), np.sin(euler[..., 2])
    rows = [
        [cy * cz, sx * sy * cz - cx * sz, cx * sy * cz + sx * sz],
        [cy * sz, sx * sy * sz + cx * cz, cx * sy * sz - sx * cz],
        [-sy, sx * cy, cx * cy],
    ]
    return np.stack([np.stack(r, -1) for r in rows], -2)


def forward_kinematics(arm: RestArmature, euler: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posed bone heads and tails in armature space (Blender frame, metres), as Blender evaluates them.

    A bone's pose matrix is ``parent_pose @ (parent_rest^-1 @ rest) @ R(euler)`` (the root's ``rest @ R``).

    Args:
        arm: the rest armature.
        euler: (N, B, 3) radians, XYZ Euler rotation of each bone in its local frame.

    Returns:
        heads, tails: (N, B, 3) float64.
    """
    euler = np.asarray(euler, dtype=np.float64)
    local = euler_xyz_matrix(euler)
    rest = arm.matrix_local
    n, n_bones = euler.shape[:2]
    rot = np.empty((n, n_bones, 3, 3))
    heads = np.empty((n, n_bones, 3))
    for b in range(n_bones):
        p = arm.parents[b]
        if p < 0:
            rot[:, b] = rest[b, :3, :3] @ local[:, b]
            heads[:, b] = rest[b, :3, 3]
        else:
            offset = np.linalg.solve(rest[p], rest[b])
            rot[:, b] = rot[:, p] @ (offset[:3, :3] @ local[:, b])
            heads[:, b] = rot[:, p] @ offset[:3, 3] + heads[:, p]
    tails = heads + rot[..., :, 1] * arm.lengths[:, None]
    return heads, tails


# ---------------------------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------------------------


def _resolve(metarig: str, face: bool) -> tuple[str, bool, str]:
    """(metarig, face, variant name); ``metarig`` may also be a variant name such as ``"human_noface"``."""
    if metarig not in METARIGS:
        if metarig not in VARIANTS:
            raise ValueError(f"unknown metarig {metarig!r}; choose from {', '.join(VARIANTS)}")
        metarig, face = VARIANTS[metarig][0], VARIANTS[metarig][1] and face
    return metarig, face, metarig if face else f"{metarig}_noface"


def rest_armature(metarig: str, face: bool = True) -> RestArmature:
    """The metarig's rest armature, without its face bones when ``face`` is false."""
    metarig, face, _ = _resolve(metarig, face)
    arm = load_metarig(metarig)
    return arm if face else arm.subset(~arm.in_face)


def generate(metarig: str, n_poses: int, seed: int, *, face: bool = True) -> dict[str, np.ndarray]:
    """Random poses of one rig variant, as the arrays of an npz file (see the module docstring).

    Args:
        metarig: a metarig (:data:`METARIGS`) or a variant name (:data:`VARIANTS`, e.g. ``"human_noface"``).
        n_poses: number of poses T.
        seed: random seed; each variant draws from its own stream, so the result does not depend on which other
            variants are generated.
        face: keep the Rigify face bones (human, cat, wolf).

    Returns:
        ``positions`` float32 (T, J, 3) metres, Y up; ``parents`` int32 (J,); ``joint_names`` (J,); ``fps`` 0.0;
        ``source``, ``license``, ``category`` str; ``clip_starts`` [0]; ``clip_names`` / ``subjects`` [variant];
        ``rest_positions`` float32 (J, 3); ``bone_names`` (J,).
    """
    metarig, face, variant = _resolve(metarig, face)
    arm = rest_armature(metarig, face)
    skeleton = build_skeleton(arm)
    space = pose_space(arm)
    rng = np.random.default_rng([seed, zlib.crc32(variant.encode())])
    positions = np.empty((n_poses, len(skeleton.joint_names), 3), dtype=np.float32)
    for start in range(0, n_poses, _CHUNK):
        stop = min(start + _CHUNK, n_poses)
        heads, tails = forward_kinematics(arm, sample_euler(space, stop - start, rng))
        positions[start:stop] = skeleton.positions(heads, tails) @ BLENDER_TO_Y_UP.T
    rest = skeleton.positions(arm.heads, arm.tails) @ BLENDER_TO_Y_UP.T
    source = (
        f"Blender {arm.blender_version} Rigify metarig {metarig!r}"
        f"{'' if face else ' without its face bones'}: {n_poses} random poses (seed {seed}), "
        "training/data/synthetic_rigify.py"
    )
    return {
        "positions": positions,
        "parents": skeleton.parents.astype(np.int32),
        "joint_names": np.array(skeleton.joint_names),
        "fps": np.float64(0.0),
        "source": np.array(source),
        "license": np.array(LICENSE),
        "category": np.array(CATEGORIES[metarig]),
        "clip_starts": np.array([0], dtype=np.int64),
        "clip_names": np.array([variant]),
        "subjects": np.array([variant]),
        "rest_positions": rest.astype(np.float32),
        "bone_names": np.array([arm.bone_names[b] for b in skeleton.bone]),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder (one rigify_<variant>.npz each)")
    parser.add_argument("--poses", type=int, default=20000, help="poses per rig variant")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rigs", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), metavar="VARIANT")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    print(f"{'variant':16s} {'joints':>6s}  {'category':10s} {'seconds':>7s}  file")
    for variant in args.rigs:
        t0 = time.perf_counter()
        data = generate(variant, args.poses, args.seed)
        path = args.out / f"rigify_{variant}.npz"
        np.savez_compressed(path, **data)
        n_joints = data["positions"].shape[1]
        print(f"{variant:16s} {n_joints:6d}  {data['category']!s:10s} {time.perf_counter() - t0:7.1f}  {path}")
    print(f"total {time.perf_counter() - t_all:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
