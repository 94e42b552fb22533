"""Standard skeleton layouts, as data: joint names in each format's official order, links, left/right pairs.

``get_rig("coco17")`` gives a validated :class:`~lfm_engine.rig.Rig`; :func:`available_rigs` lists the names.
Rigs are built on first use and cached, so importing this module costs nothing (it never imports torch, bpy or
mediapipe; the FaceMesh edge lists come from ``facemesh.json``, written once by ``make_facemesh_json.py``).

Conventions:

* "left"/"right" are always the subject's left and right (COCO, OpenPose, MediaPipe and iBUG all label joints
  this way; on a person facing the camera the subject's left is on the image's right).
* Left/right pairs come from the joint names (:func:`lfm_engine.rig.detect_symmetry`) except where names carry
  no side: the 68-point iBUG face (pairs below, :data:`FACE68_MIRROR`) and the FaceMesh (pairs from the JSON).
* The 68-point iBUG face is numbered in the image's view, from the image's left: jaw points 0-7 and the
  first brow (17-21), first eye (36-41) and nostril 31 are on the subject's right; 9-16, 22-26, 42-47 and 35
  are on the subject's left.
* Formats whose links form a tree get ``parents``; formats with loops (COCO's torso, MediaPipe's palm, face
  contours) are graphs with ``parents=None``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from importlib import resources

from ..errors import RigError
from ..rig import Rig, detect_symmetry

__all__ = [
    "CMU31_JOINTS",
    "CMU31_PARENTS",
    "COCO17_JOINTS",
    "COCO17_SKELETON",
    "FACE68_BRIDGES",
    "FACE68_CONTOURS",
    "FACE68_MIRROR",
    "H36M17_JOINTS",
    "H36M17_PARENTS",
    "HAND21_EDGES",
    "MEDIAPIPE_HAND21_JOINTS",
    "MEDIAPIPE_POSE33_JOINTS",
    "OPENPOSE_BODY25B_JOINTS",
    "OPENPOSE_BODY25B_LINKS",
    "OPENPOSE_BODY25B_PAIRS",
    "OPENPOSE_BODY25_JOINTS",
    "OPENPOSE_BODY25_PAIRS",
    "OPENPOSE_COCO18_JOINTS",
    "OPENPOSE_COCO18_PAIRS",
    "available_rigs",
    "get_rig",
]


# ============================================================================ shared pieces
def _chain(first: int, last: int) -> list[tuple[int, int]]:
    return [(i, i + 1) for i in range(first, last)]


def _loop(first: int, last: int) -> list[tuple[int, int]]:
    return [*_chain(first, last), (last, first)]


def _shift(edges: Iterable[tuple[int, int]], offset: int) -> list[tuple[int, int]]:
    return [(a + offset, b + offset) for a, b in edges]


#: The 21-point hand tree shared by OpenPose, MediaPipe (less its palm links) and COCO-WholeBody: point 0 is
#: the wrist (hand root), then 4 points per finger from the knuckle to the tip: thumb 1-4, index 5-8,
#: middle 9-12, ring 13-16, little finger 17-20. Same as OpenPose's ``HAND_PAIRS_RENDER``.
HAND21_EDGES: tuple[tuple[int, int], ...] = tuple(
    pair for base in (1, 5, 9, 13, 17) for pair in [(0, base), *_chain(base, base + 3)]
)

#: Links of the 68-point iBUG (300-W / Multi-PIE) face: jaw 0-16, brows 17-21 and 22-26, nose bridge 27-30 and
#: nostrils 31-35 (open chains); eyes 36-41 and 42-47, outer lip 48-59 and inner lip 60-67 (closed loops).
#: Identical to OpenPose's ``FACE_PAIRS_RENDER`` (63 links).
FACE68_CONTOURS: tuple[tuple[int, int], ...] = tuple(
    [
        *_chain(0, 16),
        *_chain(17, 21),
        *_chain(22, 26),
        *_chain(27, 30),
        *_chain(31, 35),
        *_loop(36, 41),
        *_loop(42, 47),
        *_loop(48, 59),
        *_loop(60, 67),
    ]
)

#: Links of ours (not in any published format) joining the contours above into one connected, left/right
#: symmetric face: nose root to the inner brow ends and inner eye corners, nose tip to the nostrils' centre,
#: nostrils to the upper lip, outer to inner lip corners, chin to the lower lip.
FACE68_BRIDGES: tuple[tuple[int, int], ...] = (
    (27, 21), (27, 22), (27, 39), (27, 42), (30, 33), (33, 51), (48, 60), (54, 64), (8, 57),
)  # fmt: skip

#: ``(left, right)`` mirror pairs of the 68-point iBUG face, left = the subject's left (the image's right on a
#: face looking at the camera). The same pairs as MMPose's COCO-WholeBody ``swap`` entries.
FACE68_MIRROR: tuple[tuple[int, int], ...] = (
    *((16 - i, i) for i in range(8)),  # jaw
    (26, 17), (25, 18), (24, 19), (23, 20), (22, 21),  # brows
    (35, 31), (34, 32),  # nostrils
    (45, 36), (44, 37), (43, 38), (42, 39), (47, 40), (46, 41),  # eyes: outer corner, upper lid, inner, lower
    (54, 48), (53, 49), (52, 50), (55, 59), (56, 58),  # outer lip: corner, upper, lower
    (64, 60), (63, 61), (65, 67),  # inner lip: corner, upper, lower
)  # fmt: skip


def _with_pairs(names: Sequence[str], *explicit: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Left/right pairs detected from the names, plus explicit pairs for joints whose names carry no side."""
    pairs = list(detect_symmetry(names))
    for group in explicit:
        pairs.extend(group)
    return sorted(pairs)


# ============================================================================ registry
_BUILDERS: dict[str, Callable[[], Rig]] = {}
_ALIASES: dict[str, str] = {}


def _layout(name: str, *aliases: str):
    """Register a cached builder of the layout ``name`` (lower case), reachable also by ``aliases``."""

    def register(build: Callable[[], Rig]) -> Callable[[], Rig]:
        cached = cache(build)
        _BUILDERS[name] = cached
        for alias in aliases:
            _ALIASES[alias] = name
        return cached

    return register


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def available_rigs() -> tuple[str, ...]:
    """Names of the registered layouts, in registration order."""
    return tuple(_BUILDERS)


def get_rig(name: str) -> Rig:
    """The standard layout ``name`` (case-insensitive; a few aliases such as ``"coco"``, ``"body25"``,
    ``"h36m"``, ``"mediapipe_pose"`` are accepted).

    Raises:
        RigError: ``name`` is not a registered layout; the message lists the available ones.
    """
    if not isinstance(name, str):
        raise RigError(f"a layout name must be text, got {type(name).__name__}")
    key = _key(name)
    key = _ALIASES.get(key, key)
    try:
        build = _BUILDERS[key]
    except KeyError:
        aliases = ", ".join(f"{a} ({t})" for a, t in sorted(_ALIASES.items()))
        raise RigError(
            f"unknown skeleton layout {name!r}; available: {', '.join(_BUILDERS)}; aliases: {aliases}"
        ) from None
    return build()


# ============================================================================ COCO
COCO17_JOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip

#: The ``skeleton`` of the COCO person category (``person_keypoints_*.json``), converted from 1-based to
#: 0-based indices.
COCO17_SKELETON: tuple[tuple[int, int], ...] = tuple(
    (a - 1, b - 1)
    for a, b in (
        (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9),
        (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7),
    )
)  # fmt: skip


@_layout("coco17", "coco", "coco_17", "coco_body")
def _coco17() -> Rig:
    """COCO keypoints (Lin et al. 2014): 17 joints and the 19 links of the dataset's person ``skeleton``.

    A graph, not a tree: the torso (shoulders-hips) and the head (nose-eyes-ears-shoulders) form loops.
    """
    return Rig.from_edges(COCO17_JOINTS, COCO17_SKELETON, name="coco17", category="human")


_WB_FEET = ("left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel")
_WB_FINGERS = ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger")


def _wholebody_hand(side: str) -> list[str]:
    return [f"{side}_hand_root"] + [f"{side}_{finger}{k}" for finger in _WB_FINGERS for k in range(1, 5)]


@_layout("coco_wholebody133", "coco_wholebody", "wholebody", "coco133", "coco_wholebody_133")
def _coco_wholebody133() -> Rig:
    """COCO-WholeBody (Jin et al., ECCV 2020): 133 keypoints, names and order of MMPose's ``coco_wholebody``.

    0-16 COCO body, 17-22 feet, 23-90 face (``face-0``..``face-67``, iBUG 68-point order), 91-111 left hand,
    112-132 right hand (each: ``*_hand_root``, then thumb, forefinger, middle, ring and pinky finger 1-4).

    Links: the COCO skeleton; ankle to big toe, small toe and heel (as MMPose); body wrist to hand root, then
    the 21-point hand tree (MMPose instead links the fingers to the body wrist and leaves the hand root
    unlinked); the iBUG face contours plus :data:`FACE68_BRIDGES`, and nose to ``face-30`` (the nose tip), so
    the whole graph is connected. Left/right pairs: body 8, feet 3, hands 21 (from the names), face 29.
    """
    face = [f"face-{i}" for i in range(68)]
    names = [*COCO17_JOINTS, *_WB_FEET, *face, *_wholebody_hand("left"), *_wholebody_hand("right")]
    ix = {n: i for i, n in enumerate(names)}
    face0, lhand0, rhand0 = ix["face-0"], ix["left_hand_root"], ix["right_hand_root"]
    feet = [(ix[f"{s}_ankle"], ix[f"{s}_{p}"]) for s in ("left", "right") for p in ("big_toe", "small_toe", "heel")]
    edges = [
        *COCO17_SKELETON,
        *feet,
        (ix["left_wrist"], lhand0),
        (ix["right_wrist"], rhand0),
        *_shift(HAND21_EDGES, lhand0),
        *_shift(HAND21_EDGES, rhand0),
        *_shift(FACE68_CONTOURS + FACE68_BRIDGES, face0),
        (ix["nose"], face0 + 30),
    ]
    symmetry = _with_pairs(names, _shift(FACE68_MIRROR, face0))
    return Rig.from_edges(names, edges, name="coco_wholebody133", symmetry=symmetry, category="human")


# ============================================================================ OpenPose
OPENPOSE_BODY25_JOINTS: tuple[str, ...] = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "MidHip",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
    "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
)  # fmt: skip

#: OpenPose ``POSE_BODY_25_PAIRS_RENDER`` (poseParametersRender.hpp): 24 links, a tree.
OPENPOSE_BODY25_PAIRS: tuple[tuple[int, int], ...] = (
    (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11), (8, 12), (12, 13),
    (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18), (14, 19), (19, 20), (14, 21), (11, 22), (22, 23),
    (11, 24),
)  # fmt: skip

#: OpenPose's experimental BODY_25B (``POSE_BODY_25B_BODY_PARTS``, openpose_train's experimental models; Pose2Sim's
#: default OpenPose model): COCO's 17 joints in COCO's order, then ``UpperNeck`` and ``HeadTop`` (MPII's), then the
#: six foot points of BODY_25. No ``Neck`` or ``MidHip``.
OPENPOSE_BODY25B_JOINTS: tuple[str, ...] = (
    "Nose", "LEye", "REye", "LEar", "REar", "LShoulder", "RShoulder", "LElbow", "RElbow", "LWrist", "RWrist",
    "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle", "UpperNeck", "HeadTop",
    "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
)  # fmt: skip

#: OpenPose ``POSE_BODY_25B_PAIRS_RENDER_GPU`` (poseParametersRender.hpp): 24 links. The face (nose, eyes, ears) is
#: not linked to the body, and the shoulders, UpperNeck and hips form a loop.
OPENPOSE_BODY25B_PAIRS: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 7), (6, 8), (7, 9), (8, 10), (5, 11), (6, 12), (11, 13), (12, 14),
    (13, 15), (14, 16), (15, 19), (19, 20), (15, 21), (16, 22), (22, 23), (16, 24), (5, 17), (6, 17), (17, 18),
    (11, 12),
)  # fmt: skip

#: The links of the ``openpose_body25b`` layout: the rendered pairs plus ``UpperNeck``-``Nose`` (ours, not
#: OpenPose's; Pose2Sim's tree also hangs the nose off the neck, through ``HeadTop``), which joins the face to the
#: body.
OPENPOSE_BODY25B_LINKS: tuple[tuple[int, int], ...] = (*OPENPOSE_BODY25B_PAIRS, (17, 0))

OPENPOSE_COCO18_JOINTS: tuple[str, ...] = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
)  # fmt: skip

#: OpenPose ``POSE_COCO_PAIRS_RENDER``: 17 links, a tree. (The network's part-affinity pairs,
#: ``POSE_COCO_PAIRS``, add shoulder-ear links 2-16 and 5-17 that are not drawn; they are left out.)
OPENPOSE_COCO18_PAIRS: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)  # fmt: skip

_OPENPOSE_HAND21 = (
    "Wrist",
    *(f"{f}{k}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky") for k in range(1, 5)),
)
_OPENPOSE_FACE70 = (*(f"Face{i}" for i in range(68)), "RPupil", "LPupil")
#: Pupils (68 right, 69 left) linked to both corners of their eye, which puts each between them.
_PUPIL_LINKS = ((36, 68), (39, 68), (42, 69), (45, 69))


@_layout("openpose_body25", "body25", "body_25", "openpose", "openpose_body_25")
def _openpose_body25() -> Rig:
    """OpenPose BODY_25 (Cao et al., TPAMI 2019): 25 joints (``POSE_BODY_25_BODY_PARTS``) and the 24 rendered
    pairs; a tree rooted at ``MidHip``. 11 left/right pairs."""
    return Rig.from_edges(
        OPENPOSE_BODY25_JOINTS, OPENPOSE_BODY25_PAIRS, name="openpose_body25", category="human", root="MidHip"
    )


@_layout("openpose_body25b", "body25b", "body_25b", "openpose_body_25b")
def _openpose_body25b() -> Rig:
    """OpenPose's experimental BODY_25B (Hidalgo et al., ICCV 2019; the default of Pose2Sim): 25 joints
    (:data:`OPENPOSE_BODY25B_JOINTS`) and :data:`OPENPOSE_BODY25B_LINKS` (the 24 rendered pairs and
    ``UpperNeck``-``Nose``). A graph, not a tree: shoulders, UpperNeck and hips form a loop. 11 left/right
    pairs. Same point count as BODY_25 but another order: :func:`lfm_engine.io.read_openpose` tells them apart by
    the points' geometry."""
    return Rig.from_edges(OPENPOSE_BODY25B_JOINTS, OPENPOSE_BODY25B_LINKS, name="openpose_body25b", category="human")


@_layout("openpose_coco18", "coco18", "openpose_coco", "openpose_coco_18")
def _openpose_coco18() -> Rig:
    """OpenPose's COCO model: 18 joints (``POSE_COCO_BODY_PARTS``; COCO's 17 re-ordered plus ``Neck``, the
    shoulders' midpoint) and the 17 rendered pairs; a tree rooted at ``Neck``."""
    return Rig.from_edges(
        OPENPOSE_COCO18_JOINTS, OPENPOSE_COCO18_PAIRS, name="openpose_coco18", category="human", root="Neck"
    )


@_layout("openpose_hand21", "openpose_hand")
def _openpose_hand21() -> Rig:
    """OpenPose hand keypoints (Simon et al., CVPR 2017): 0 wrist, 1-4 thumb, 5-8 index, 9-12 middle,
    13-16 ring, 17-20 little finger, each finger from its base to its tip; ``HAND_PAIRS_RENDER`` links, a tree
    rooted at the wrist. OpenPose gives the points numbers only; the names here are ours."""
    return Rig.from_edges(_OPENPOSE_HAND21, HAND21_EDGES, name="openpose_hand21", category="hand", root="Wrist")


@_layout("openpose_face70", "openpose_face")
def _openpose_face70() -> Rig:
    """OpenPose face keypoints: the 68 iBUG points (``Face0``..``Face67``) then ``RPupil`` (68) and
    ``LPupil`` (69). Links: ``FACE_PAIRS_RENDER`` (the iBUG contours), :data:`FACE68_BRIDGES` so the face is
    one connected graph, and each pupil to its eye's two corners (OpenPose does not link the pupils).
    30 left/right pairs."""
    edges = [*FACE68_CONTOURS, *FACE68_BRIDGES, *_PUPIL_LINKS]
    symmetry = _with_pairs(_OPENPOSE_FACE70, FACE68_MIRROR)
    return Rig.from_edges(_OPENPOSE_FACE70, edges, name="openpose_face70", symmetry=symmetry, category="face")


@_layout("openpose_body25_hands_face", "openpose137", "openpose_137", "body25_hands_face", "openpose_full")
def _openpose_body25_hands_face() -> Rig:
    """OpenPose's full output as one skeleton: BODY_25 (0-24), left hand (25-45), right hand (46-66), face
    (67-136), 137 joints. (OpenPose's JSON stores them as ``pose_keypoints_2d``, ``face_keypoints_2d``,
    ``hand_left_keypoints_2d``, ``hand_right_keypoints_2d``: concatenate them as body, left, right, face.)

    Hand joints are ``LHand_<name>``/``RHand_<name>`` (names of ``openpose_hand21``), face joints keep the
    ``openpose_face70`` names. Extra links: ``LWrist``-``LHand_Wrist``, ``RWrist``-``RHand_Wrist``, and
    ``Nose``-``Face30`` (the nose tip). 62 left/right pairs: body 11, hands 21, face 30.
    """
    names = [
        *OPENPOSE_BODY25_JOINTS,
        *(f"LHand_{n}" for n in _OPENPOSE_HAND21),
        *(f"RHand_{n}" for n in _OPENPOSE_HAND21),
        *_OPENPOSE_FACE70,
    ]
    lhand, rhand, face = 25, 46, 67
    body = {n: i for i, n in enumerate(OPENPOSE_BODY25_JOINTS)}
    edges = [
        *OPENPOSE_BODY25_PAIRS,
        (body["LWrist"], lhand),
        (body["RWrist"], rhand),
        *_shift(HAND21_EDGES, lhand),
        *_shift(HAND21_EDGES, rhand),
        (body["Nose"], face + 30),
        *_shift([*FACE68_CONTOURS, *FACE68_BRIDGES, *_PUPIL_LINKS], face),
    ]
    symmetry = _with_pairs(names, _shift(FACE68_MIRROR, face))
    return Rig.from_edges(names, edges, name="openpose_body25_hands_face", symmetry=symmetry, category="human")


# ============================================================================ MediaPipe
#: ``mediapipe.solutions.pose.PoseLandmark`` names, lower case, in index order.
MEDIAPIPE_POSE33_JOINTS: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
    "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip

#: ``mediapipe.solutions.pose_connections.POSE_CONNECTIONS`` (35 links), sorted.
_MEDIAPIPE_POSE_CONNECTIONS = (
    (0, 1), (0, 4), (1, 2), (2, 3), (3, 7), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13), (11, 23),
    (12, 14), (12, 24), (13, 15), (14, 16), (15, 17), (15, 19), (15, 21), (16, 18), (16, 20), (16, 22),
    (17, 19), (18, 20), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28), (27, 29), (27, 31), (28, 30),
    (28, 32), (29, 31), (30, 32),
)  # fmt: skip

#: ``mediapipe.solutions.hands.HandLandmark`` names, lower case, in index order.
MEDIAPIPE_HAND21_JOINTS: tuple[str, ...] = (
    "wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_finger_mcp", "index_finger_pip", "index_finger_dip", "index_finger_tip",
    "middle_finger_mcp", "middle_finger_pip", "middle_finger_dip", "middle_finger_tip",
    "ring_finger_mcp", "ring_finger_pip", "ring_finger_dip", "ring_finger_tip",
    "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)  # fmt: skip

#: ``mediapipe.solutions.hands_connections.HAND_CONNECTIONS``: the 21-point tree without the wrist to
#: middle and ring finger links, plus the palm's knuckle line 5-9-13-17.
_MEDIAPIPE_HAND_CONNECTIONS = (
    *(e for e in HAND21_EDGES if e not in ((0, 9), (0, 13))),
    (5, 9), (9, 13), (13, 17),
)  # fmt: skip


@_layout("mediapipe_pose33", "mediapipe_pose", "blazepose", "mediapipe_pose_33")
def _mediapipe_pose33() -> Rig:
    """MediaPipe Pose / BlazePose (Bazarevsky et al. 2020): the 33 ``PoseLandmark`` points and
    ``POSE_CONNECTIONS``. A graph with three parts, as MediaPipe draws it: the face (nose, eyes, ears), the
    mouth (its two corners) and the body, which is not linked to the head. 16 left/right pairs."""
    return Rig.from_edges(
        MEDIAPIPE_POSE33_JOINTS, _MEDIAPIPE_POSE_CONNECTIONS, name="mediapipe_pose33", category="human"
    )


@_layout("mediapipe_hand21", "mediapipe_hand", "mediapipe_hands")
def _mediapipe_hand21() -> Rig:
    """MediaPipe Hands (Zhang et al. 2020): the 21 ``HandLandmark`` points and ``HAND_CONNECTIONS``, palm
    links included, so a graph (the palm is a loop). The wrist is the root of :meth:`Rig.tree_parents`."""
    return Rig.from_edges(
        MEDIAPIPE_HAND21_JOINTS, _MEDIAPIPE_HAND_CONNECTIONS, name="mediapipe_hand21", category="hand"
    )


#: Names of the refined iris landmarks 468-477 (``refine_landmarks=True``): 468-472 are the subject's right
#: iris (centre, then its edge towards the image's right, top, image's left, bottom), 473-477 the left iris in
#: the same image directions. On a face looking at the camera the image's right is the right iris's inner
#: (nose) side and the left iris's outer side; the names say so, which lets the left/right pairs mirror.
#: (Directions as in mediapipe's ``tensors_to_face_landmarks_with_attention.pbtxt``, and checked by running
#: FaceMesh on a photo and on its mirror image: 469 and 476 swap places, as 471 and 474 do.)
_IRIS_NAMES = (
    "right_iris_center", "right_iris_inner", "right_iris_top", "right_iris_outer", "right_iris_bottom",
    "left_iris_center", "left_iris_outer", "left_iris_top", "left_iris_inner", "left_iris_bottom",
)  # fmt: skip


@cache
def _facemesh_data() -> dict:
    text = resources.files(__package__).joinpath("facemesh.json").read_text(encoding="utf-8")
    return json.loads(text)


def _facemesh(with_irises: bool) -> Rig:
    data = _facemesh_data()
    groups = ["lips", "left_eye", "left_eyebrow", "right_eye", "right_eyebrow", "face_oval", "nose"]
    if with_irises:
        groups += ["left_iris", "right_iris"]
    edges = sorted({tuple(sorted(e)) for g in groups for e in data["connections"][g]})
    names = [f"face_{i}" for i in range(data["num_landmarks"])]
    if with_irises:
        names += _IRIS_NAMES
    symmetry = _with_pairs(names, (tuple(p) for p in data["mirror_pairs"]))
    name = "mediapipe_facemesh478" if with_irises else "mediapipe_facemesh468"
    return Rig.from_edges(names, edges, name=name, symmetry=symmetry, category="face")


@_layout("mediapipe_facemesh468", "facemesh", "face_mesh", "mediapipe_facemesh", "mediapipe_face_mesh")
def _mediapipe_facemesh468() -> Rig:
    """MediaPipe FaceMesh (Kartynnik et al. 2019): 468 landmarks ``face_0``..``face_467``. Edges: the union of
    ``FACEMESH_CONTOURS`` (lips, eyes, eyebrows, face oval) and ``FACEMESH_NOSE``; most mesh points lie on no
    contour and have no edge. 220 left/right pairs (left = the side of ``FACEMESH_LEFT_EYE``), derived from
    the mesh's topology by ``make_facemesh_json.py``; the 28 midline points have none."""
    return _facemesh(with_irises=False)


@_layout("mediapipe_facemesh478", "facemesh_iris", "facemesh478", "mediapipe_facemesh_iris", "face_mesh_iris")
def _mediapipe_facemesh478() -> Rig:
    """MediaPipe FaceMesh with refined irises: the 468 mesh landmarks, then 10 iris landmarks (names in
    ``_IRIS_NAMES``), and ``FACEMESH_IRISES`` edges added (each iris's edge points form a loop; the centres
    have no edge). 225 left/right pairs."""
    return _facemesh(with_irises=True)


#: Index of each part's first joint in the MediaPipe whole-body layouts (``mediapipe_holistic543/553``): the body
#: (33 pose landmarks), the left hand, the right hand (21 each), then the face (468 or 478 landmarks).
HOLISTIC_PARTS: dict[str, tuple[int, int]] = {
    "body": (0, 33),
    "left_hand": (33, 54),
    "right_hand": (54, 75),
    "face": (75, None),  # to the end: 468 or 478 points
}

#: Face mesh landmark 1 is the tip of the nose, where the whole-body layouts attach the face to the pose's nose.
FACEMESH_NOSE_TIP = 1


def _holistic(with_irises: bool | None) -> Rig:
    """The whole-body layout; ``with_irises=None``: no face (body and hands)."""
    face = _facemesh(with_irises) if with_irises is not None else None
    hand = MEDIAPIPE_HAND21_JOINTS
    names = [
        *MEDIAPIPE_POSE33_JOINTS,
        *(f"left_hand_{n}" for n in hand),
        *(f"right_hand_{n}" for n in hand),
        *(face.joint_names if face is not None else ()),
    ]
    body = {n: i for i, n in enumerate(MEDIAPIPE_POSE33_JOINTS)}
    lhand, rhand, f0 = HOLISTIC_PARTS["left_hand"][0], HOLISTIC_PARTS["right_hand"][0], HOLISTIC_PARTS["face"][0]
    edges = [
        *_MEDIAPIPE_POSE_CONNECTIONS,
        (body["left_wrist"], lhand),
        (body["right_wrist"], rhand),
        *_shift(_MEDIAPIPE_HAND_CONNECTIONS, lhand),
        *_shift(_MEDIAPIPE_HAND_CONNECTIONS, rhand),
    ]
    symmetry = sorted(detect_symmetry(names[:f0]))
    if face is None:
        return Rig.from_edges(names, edges, name="mediapipe_body_hands75", symmetry=symmetry, category="human")
    edges += [(body["nose"], f0 + FACEMESH_NOSE_TIP), *_shift(face.edges, f0)]
    symmetry = sorted({*symmetry, *_shift(face.symmetry, f0)})
    name = "mediapipe_holistic553" if with_irises else "mediapipe_holistic543"
    return Rig.from_edges(names, edges, name=name, symmetry=symmetry, category="human")


@_layout("mediapipe_body_hands75", "mediapipe_body_hands", "holistic75")
def _mediapipe_body_hands75() -> Rig:
    """MediaPipe's body and both hands (the whole-body layouts without the face): the 33 pose landmarks, then
    ``left_hand_<name>`` and ``right_hand_<name>`` (21 each), 75 joints; the hands linked to the pose's wrists."""
    return _holistic(with_irises=None)


@_layout("mediapipe_holistic543", "mediapipe_holistic", "holistic", "mediapipe_wholebody")
def _mediapipe_holistic543() -> Rig:
    """MediaPipe Holistic's whole body as one skeleton (what :mod:`lfm_engine.detect` gives): the 33 pose
    landmarks, the left hand and the right hand (``left_hand_<name>``, ``right_hand_<name>``, names of
    ``mediapipe_hand21``) and the 468 face mesh landmarks (``face_<i>``); 543 joints, parts in the order and at
    the offsets of :data:`HOLISTIC_PARTS`. Links: each part's own, plus ``left_wrist``-``left_hand_wrist``,
    ``right_wrist``-``right_hand_wrist`` and ``nose``-``face_1`` (the nose tip)."""
    return _holistic(with_irises=False)


@_layout("mediapipe_holistic553", "holistic553", "mediapipe_holistic_iris", "mediapipe_wholebody553")
def _mediapipe_holistic553() -> Rig:
    """:func:`_mediapipe_holistic543` with the face's 10 refined iris landmarks (``mediapipe_facemesh478``):
    553 joints."""
    return _holistic(with_irises=True)


# ============================================================================ motion capture
H36M17_JOINTS: tuple[str, ...] = (
    "hip", "right_hip", "right_knee", "right_foot", "left_hip", "left_knee", "left_foot", "spine", "thorax",
    "neck_nose", "head", "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow",
    "right_wrist",
)  # fmt: skip
H36M17_PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)


@_layout("h36m17", "h36m", "human36m", "h36m_17", "human3.6m")
def _h36m17() -> Rig:
    """Human3.6M (Ionescu et al., TPAMI 2014), the 17 joints kept by VideoPose3D (Pavllo et al. 2019) and most
    lifting work, in VideoPose3D's order and hierarchy (``h36m_skeleton`` after ``remove_joints``): a tree
    rooted at the hip centre. 6 left/right pairs."""
    return Rig.from_parents(H36M17_JOINTS, H36M17_PARENTS, name="h36m17", category="human")


CMU31_JOINTS: tuple[str, ...] = (
    "root",
    "lhipjoint", "lfemur", "ltibia", "lfoot", "ltoes", "rhipjoint", "rfemur", "rtibia", "rfoot", "rtoes",
    "lowerback", "upperback", "thorax", "lowerneck", "upperneck", "head",
    "lclavicle", "lhumerus", "lradius", "lwrist", "lhand", "lfingers", "lthumb",
    "rclavicle", "rhumerus", "rradius", "rwrist", "rhand", "rfingers", "rthumb",
)  # fmt: skip
CMU31_PARENTS: tuple[int, ...] = (
    -1, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9,  # root; left leg; right leg
    0, 11, 12, 13, 14, 15,  # lowerback -> upperback -> thorax -> lowerneck -> upperneck -> head
    13, 17, 18, 19, 20, 21, 20,  # thorax -> lclavicle -> lhumerus -> lradius -> lwrist -> lhand -> lfingers,
    #                              and lwrist -> lthumb
    13, 24, 25, 26, 27, 28, 27,  # the same on the right
)  # fmt: skip


@_layout("cmu31", "cmu", "cmu_mocap", "cmu_31")
def _cmu31() -> Rig:
    """The CMU Graphics Lab Motion Capture database's ASF skeleton: its 31 bones as joints, in the ASF's
    ``:bonedata`` order, with the ``:hierarchy`` as parents (root -> hip joints and lower back; thorax ->
    neck and clavicles; wrist -> hand and thumb). 12 left/right pairs (every ``l*`` bone has an ``r*``
    twin)."""
    return Rig.from_parents(CMU31_JOINTS, CMU31_PARENTS, name="cmu31", category="human")
