"""The armature's skeleton for the standard layouts: an anatomical hierarchy rooted at the pelvis, virtual joints
where a layout lacks a pelvis or a neck, and bones named for the body segment they span.

A layout's links are what its detector draws, not a skeleton: COCO and MediaPipe link the shoulders to the hips and
have no pelvis, MediaPipe's body is not linked to its head, and a breadth-first tree over those links roots the
armature at a hip or a shoulder and hangs one side from the other (BODY_25B rooted at ``LHip``, with ``RShoulder``
under ``RHip`` and ``RHip`` under ``LHip``). :func:`anatomy` gives instead, for each standard layout of people
(and the two hand layouts):

* **Joints**: the layout's, in its order, then **virtual joints** for what it lacks: ``pelvis``, the midpoint of
  the two hips (COCO-17, COCO-WholeBody, BODY_25B, OpenPose COCO-18, MediaPipe), and ``neck``, the midpoint of
  the two shoulders (COCO-17, COCO-WholeBody, BODY_25B, MediaPipe). Their 2D points, 3D points and visibility come
  from the two joints (:meth:`Anatomy.extend`, :meth:`Anatomy.extend_visible`); from then on they are joints like
  any other (the lift's pipeline appends them right after the lift).
* **Hierarchy**: one root, the pelvis (``MidHip``, Human3.6M's ``hip``, CMU's ``root`` or the virtual one); the
  hips hang from it, the spine goes up to the neck, the shoulders and the head hang from the neck; each arm and
  leg is a chain; the eyes, ears (and mouth) hang from the nose (the head point); a hand hangs from its wrist, each
  finger from the hand; face points hang from the nose as the layout links them (points without a link straight
  from the nose). Left never hangs from right, nor right from left.
* **Bone names**: a bone is named for the segment it spans, Rigify's words with ``.L`` / ``.R`` for the side:
  ``pelvis`` (the root bone, at the pelvis, pointing up), ``hip.L`` (pelvis to hip), ``thigh.L``, ``shin.L``,
  ``foot.L`` (ankle to the toe), ``foot_outer.L`` (ankle to the small toe), ``heel.L``; ``spine`` (pelvis to neck;
  with a spine joint: ``spine`` and ``chest``), ``neck``, ``head`` (to the nose or head top), ``nose`` (BODY_25B:
  upper neck to nose), ``eye.L``, ``eye_inner.L``, ``eye_outer.L``, ``ear.L``, ``mouth.L``; ``shoulder.L`` (neck to
  shoulder), ``upper_arm.L``, ``forearm.L``; ``hand_root.L`` (the body's wrist to a hand part's own wrist),
  ``hand_index.L``, ``hand_pinky.L``, ``hand_thumb.L`` (MediaPipe Pose's hand points), and the fingers
  ``thumb.00.L`` .. ``thumb.03.L``, ``index.00.L`` .. ``pinky.03.L`` (``.00`` from the wrist to the finger's first
  joint, then one per segment to the tip). Face points keep their joint's name (``face_12``, ``Face30``).
  The hand layouts alone: root bone ``wrist``, fingers without a side.

Each bone ends at one joint (its tail; the root bone's head), so the joint names are kept beside the bone names:
the Blender writer stores them on each bone, and the retarget reads the joints by them.

Any other rig (a custom rig, a face layout, a rig file) gets its own tree (:meth:`Rig.tree_parents`), no virtual
joint, and bones named after their joints.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import cache

import numpy as np

from .layouts import available_rigs, get_rig
from .rig import Rig, neighbours

__all__ = ["Anatomy", "anatomy", "standard_anatomies"]

#: Rows of a layout's anatomy: (joint, parent joint or None for the root, bone name).
Rows = list[tuple[str, str | None, str]]


@dataclass(frozen=True, eq=False)
class Anatomy:
    """The armature's skeleton of a rig (see the module docs).

    Attributes:
        rig: the armature's joints (the layout's first, then the virtual ones) with the hierarchy as ``parents``
            (its ``tree_parents()``); name, category and left/right pairs of the layout. Any other rig: itself.
        bone_names: one per joint of ``rig``: the bone that ends at it.
        virtual: for each virtual joint (``rig`` joints from :attr:`num_source_joints` on), the two source joints it
            is the midpoint of.
        num_source_joints: the joints of the source rig.
    """

    rig: Rig
    bone_names: tuple[str, ...]
    virtual: tuple[tuple[int, int], ...] = ()
    num_source_joints: int = 0

    @property
    def head_joint_names(self) -> tuple[str, ...]:
        """The joint at each bone's head: its parent joint's name (a root bone's own)."""
        names, par = self.rig.joint_names, self.rig.tree_parents()
        return tuple(names[p] if p >= 0 else names[j] for j, p in enumerate(par))

    def extend(self, values: np.ndarray) -> np.ndarray:
        """``(..., J, d)`` per-joint values of the source rig -> ``(..., J + K, d)``: the virtual joints' the
        midpoints (NaN where either joint is NaN)."""
        v = np.asarray(values)
        if not self.virtual:
            return v
        mids = np.stack([(v[..., a, :] + v[..., b, :]) / 2 for a, b in self.virtual], axis=-2)
        return np.concatenate([v, mids.astype(v.dtype, copy=False)], axis=-2)

    def extend_visible(self, visible: np.ndarray) -> np.ndarray:
        """``(..., J)`` bool -> ``(..., J + K)``: a virtual joint is visible where both its joints are."""
        v = np.asarray(visible, dtype=bool)
        if not self.virtual:
            return v
        mids = np.stack([v[..., a] & v[..., b] for a, b in self.virtual], axis=-1)
        return np.concatenate([v, mids], axis=-1)

    def extend_confidence(self, confidence: np.ndarray) -> np.ndarray:
        """``(..., J)`` scores -> ``(..., J + K)``: a virtual joint scores the lower of its two joints'."""
        c = np.asarray(confidence)
        if not self.virtual:
            return c
        mids = np.stack([np.minimum(c[..., a], c[..., b]) for a, b in self.virtual], axis=-1)
        return np.concatenate([c, mids.astype(c.dtype, copy=False)], axis=-1)


# ---------------------------------------------------------------------- the layouts' anatomies
_SIDES = (("L", 0), ("R", 1))


def _sided(rows, tokens: tuple[str, str]) -> Rows:
    """``rows`` of ``(joint, parent, bone stem)`` with ``{s}`` standing for the side's token, for both sides."""
    out = []
    for suffix, k in _SIDES:
        for joint, parent, stem in rows:
            out.append((joint.format(s=tokens[k]), parent.format(s=tokens[k]), f"{stem}.{suffix}"))
    return out


def _limbs(hip_parent: str, shoulder_parent: str, form) -> list[tuple[str, str, str]]:
    """Arms and legs; ``form(word)`` spells a joint of the side ``{s}`` in the layout's style."""
    return [
        (form("shoulder"), shoulder_parent, "shoulder"), (form("elbow"), form("shoulder"), "upper_arm"),
        (form("wrist"), form("elbow"), "forearm"), (form("hip"), hip_parent, "hip"),
        (form("knee"), form("hip"), "thigh"), (form("ankle"), form("knee"), "shin"),
    ]  # fmt: skip


def _fingers(root: str, spell) -> list[tuple[str, str, str]]:
    """Five fingers hanging from ``root``; ``spell(finger, k)`` names the finger's joint ``k`` (1 the base)."""
    rows = []
    for finger in ("thumb", "index", "middle", "ring", "pinky"):
        parent = root
        for k in range(1, 5):
            joint = spell(finger, k)
            rows.append((joint, parent, f"{finger}.{k - 1:02d}"))
            parent = joint
    return rows


def _coco17() -> tuple[dict, Rows]:
    def form(w):
        return "{s}_" + w

    rows = [("pelvis", None, "pelvis"), ("neck", "pelvis", "spine"), ("nose", "neck", "head")]
    rows += _sided([(form("eye"), "nose", "eye"), (form("ear"), "nose", "ear"), *_limbs("pelvis", "neck", form)],
                   ("left", "right"))  # fmt: skip
    return {"pelvis": ("left_hip", "right_hip"), "neck": ("left_shoulder", "right_shoulder")}, rows


def _coco_wholebody133() -> tuple[dict, Rows]:
    virtual, rows = _coco17()
    words = {"thumb": "thumb", "index": "forefinger", "middle": "middle_finger", "ring": "ring_finger",
             "pinky": "pinky_finger"}  # fmt: skip
    feet = [("{s}_big_toe", "{s}_ankle", "foot"), ("{s}_small_toe", "{s}_ankle", "foot_outer"),
            ("{s}_heel", "{s}_ankle", "heel"), ("{s}_hand_root", "{s}_wrist", "hand_root")]  # fmt: skip
    hand = _fingers("{s}_hand_root", lambda f, k: f"{{s}}_{words[f]}{k}")
    return virtual, rows + _sided(feet + hand, ("left", "right"))


def _openpose_limbs(hip_parent: str, shoulder_parent: str, head: str) -> Rows:
    def form(w):
        return "{s}" + w.capitalize()

    rows = [(form("eye"), head, "eye"), (form("ear"), head, "ear"), *_limbs(hip_parent, shoulder_parent, form)]
    return _sided(rows, ("L", "R"))


_OPENPOSE_FEET = [("{s}BigToe", "{s}Ankle", "foot"), ("{s}SmallToe", "{s}Ankle", "foot_outer"),
                  ("{s}Heel", "{s}Ankle", "heel")]  # fmt: skip


def _openpose_body25() -> tuple[dict, Rows]:
    rows = [("MidHip", None, "pelvis"), ("Neck", "MidHip", "spine"), ("Nose", "Neck", "head")]
    return {}, rows + _openpose_limbs("MidHip", "Neck", "Nose") + _sided(_OPENPOSE_FEET, ("L", "R"))


def _openpose_body25b() -> tuple[dict, Rows]:
    rows = [("pelvis", None, "pelvis"), ("neck", "pelvis", "spine"), ("UpperNeck", "neck", "neck"),
            ("HeadTop", "UpperNeck", "head"), ("Nose", "UpperNeck", "nose")]  # fmt: skip
    rows += _openpose_limbs("pelvis", "neck", "Nose") + _sided(_OPENPOSE_FEET, ("L", "R"))
    return {"pelvis": ("LHip", "RHip"), "neck": ("LShoulder", "RShoulder")}, rows


def _openpose_coco18() -> tuple[dict, Rows]:
    rows = [("pelvis", None, "pelvis"), ("Neck", "pelvis", "spine"), ("Nose", "Neck", "head")]
    return {"pelvis": ("LHip", "RHip")}, rows + _openpose_limbs("pelvis", "Neck", "Nose")


def _openpose_body25_hands_face() -> tuple[dict, Rows]:
    virtual, rows = _openpose_body25()
    hand = [("{s}Hand_Wrist", "{s}Wrist", "hand_root"),
            *_fingers("{s}Hand_Wrist", lambda f, k: f"{{s}}Hand_{f.capitalize()}{k}")]  # fmt: skip
    return virtual, rows + _sided(hand, ("L", "R"))


def _mediapipe_pose33() -> tuple[dict, Rows]:
    def form(w):
        return "{s}_" + w

    rows = [("pelvis", None, "pelvis"), ("neck", "pelvis", "spine"), ("nose", "neck", "head")]
    sided = [(form("eye_inner"), "nose", "eye_inner"), (form("eye"), "nose", "eye"),
             (form("eye_outer"), "nose", "eye_outer"), (form("ear"), "nose", "ear"), ("mouth_{s}", "nose", "mouth"),
             *_limbs("pelvis", "neck", form), (form("pinky"), form("wrist"), "hand_pinky"),
             (form("index"), form("wrist"), "hand_index"), (form("thumb"), form("wrist"), "hand_thumb"),
             (form("heel"), form("ankle"), "heel"), (form("foot_index"), form("ankle"), "foot")]  # fmt: skip
    virtual = {"pelvis": ("left_hip", "right_hip"), "neck": ("left_shoulder", "right_shoulder")}
    return virtual, rows + _sided(sided, ("left", "right"))


_MP_FINGER = {"thumb": ("thumb", ("cmc", "mcp", "ip", "tip")), "index": ("index_finger", ("mcp", "pip", "dip", "tip")),
              "middle": ("middle_finger", ("mcp", "pip", "dip", "tip")),
              "ring": ("ring_finger", ("mcp", "pip", "dip", "tip")),
              "pinky": ("pinky", ("mcp", "pip", "dip", "tip"))}  # fmt: skip


def _mediapipe_body_hands75() -> tuple[dict, Rows]:
    virtual, rows = _mediapipe_pose33()

    def spell(finger, k):
        word, segments = _MP_FINGER[finger]
        return f"{{s}}_hand_{word}_{segments[k - 1]}"

    hand = [("{s}_hand_wrist", "{s}_wrist", "hand_root"), *_fingers("{s}_hand_wrist", spell)]
    return virtual, rows + _sided(hand, ("left", "right"))


def _h36m17() -> tuple[dict, Rows]:
    rows = [("hip", None, "pelvis"), ("spine", "hip", "spine"), ("thorax", "spine", "chest"),
            ("neck_nose", "thorax", "neck"), ("head", "neck_nose", "head")]  # fmt: skip
    limbs = [(f"{{s}}_{w}", p, stem) for w, p, stem in (
        ("shoulder", "thorax", "shoulder"), ("elbow", "{s}_shoulder", "upper_arm"), ("wrist", "{s}_elbow", "forearm"),
        ("hip", "hip", "hip"), ("knee", "{s}_hip", "thigh"), ("foot", "{s}_knee", "shin"))]  # fmt: skip
    return {}, rows + _sided(limbs, ("left", "right"))


def _cmu31() -> tuple[dict, Rows]:
    """CMU's joints are its ASF bones' end points: ``lfemur`` the knee, ``lhumerus`` the elbow."""
    rows = [("root", None, "pelvis"), ("lowerback", "root", "spine"), ("upperback", "lowerback", "spine.001"),
            ("thorax", "upperback", "chest"), ("lowerneck", "thorax", "neck"), ("upperneck", "lowerneck", "neck.001"),
            ("head", "upperneck", "head")]  # fmt: skip
    sided = [("{s}hipjoint", "root", "hip"), ("{s}femur", "{s}hipjoint", "thigh"), ("{s}tibia", "{s}femur", "shin"),
             ("{s}foot", "{s}tibia", "foot"), ("{s}toes", "{s}foot", "toe"), ("{s}clavicle", "thorax", "shoulder"),
             ("{s}humerus", "{s}clavicle", "upper_arm"), ("{s}radius", "{s}humerus", "forearm"),
             ("{s}wrist", "{s}radius", "wrist"), ("{s}hand", "{s}wrist", "hand"), ("{s}fingers", "{s}hand", "fingers"),
             ("{s}thumb", "{s}wrist", "thumb")]  # fmt: skip
    return {}, rows + _sided(sided, ("l", "r"))


def _openpose_hand21() -> tuple[dict, Rows]:
    return {}, [("Wrist", None, "wrist"), *_fingers("Wrist", lambda f, k: f"{f.capitalize()}{k}")]


def _mediapipe_hand21() -> tuple[dict, Rows]:
    return {}, [("wrist", None, "wrist"),
                *_fingers("wrist", lambda f, k: f"{_MP_FINGER[f][0]}_{_MP_FINGER[f][1][k - 1]}")]  # fmt: skip


#: Layout -> (virtual joints {name: (joint, joint)}, rows), and where the joints no link reaches hang (None: roots).
_SPECS = {
    "coco17": (_coco17, None),
    "coco_wholebody133": (_coco_wholebody133, "nose"),
    "openpose_body25": (_openpose_body25, None),
    "openpose_body25b": (_openpose_body25b, None),
    "openpose_coco18": (_openpose_coco18, None),
    "openpose_body25_hands_face": (_openpose_body25_hands_face, "Nose"),
    "mediapipe_pose33": (_mediapipe_pose33, None),
    "mediapipe_body_hands75": (_mediapipe_body_hands75, None),
    "mediapipe_holistic543": (_mediapipe_body_hands75, "nose"),
    "mediapipe_holistic553": (_mediapipe_body_hands75, "nose"),
    "h36m17": (_h36m17, None),
    "cmu31": (_cmu31, None),
    "openpose_hand21": (_openpose_hand21, None),
    "mediapipe_hand21": (_mediapipe_hand21, None),
}


def standard_anatomies() -> tuple[str, ...]:
    """The layouts with an anatomy of their own (every standard layout of people, and the hands)."""
    return tuple(n for n in available_rigs() if n in _SPECS)


@cache
def _layout_anatomy(name: str) -> Anatomy:
    rig = get_rig(name)
    build, attach = _SPECS[name]
    virtual, rows = build()
    names = (*rig.joint_names, *virtual)
    index = {n: k for k, n in enumerate(names)}
    parents = [-2] * len(names)
    bones = list(names)
    for joint, parent, bone in rows:
        parents[index[joint]] = -1 if parent is None else index[parent]
        bones[index[joint]] = bone
    # the joints no row names (faces): breadth first along the layout's links from the joints placed
    nbrs = neighbours(len(names), rig.edges)
    queue = deque(k for k, p in enumerate(parents) if p != -2)
    while queue:
        v = queue.popleft()
        for w in nbrs[v]:
            if parents[w] == -2:
                parents[w] = v
                queue.append(w)
    fallback = -1 if attach is None else index[attach]
    parents = [fallback if p == -2 else p for p in parents]
    pairs = tuple((index[a], index[b]) for a, b in virtual.values())
    out = Rig.from_parents(names, parents, name=rig.name, symmetry=rig.symmetry, category=rig.category)
    return Anatomy(out, tuple(bones), pairs, rig.num_joints)


def anatomy(rig: Rig) -> Anatomy:
    """The armature's skeleton of ``rig``: the layout's anatomy (see the module docs) when ``rig`` is a standard
    layout with an anatomy (same name and joints), else the rig itself with its own tree and joint names."""
    if rig.name in _SPECS and rig.joint_names == get_rig(rig.name).joint_names:
        return _layout_anatomy(rig.name)
    return Anatomy(rig, tuple(rig.joint_names), (), rig.num_joints)
