"""A standing person (A-pose, Blender world: Z up, metres, facing -Y, the subject's left at +X) seen through any
standard human layout: :func:`layout_points` gives each of the layout's joints its place, hands (21 points each)
and faces (iBUG 68 points, MediaPipe's face mesh and irises) included.

Independent of the engine's name handling (:mod:`lfm_engine.retarget.names`): the joints are read here with the
layouts' own conventions, so the retarget tests can check the engine's reading against it.
"""

from __future__ import annotations

import re

import numpy as np

from lfm_engine import get_rig

FORWARD = np.array([0.0, -1.0, 0.0])

#: Body points of the subject's left side (the right side mirrors x).
LEFT = {
    "hip": (0.09, 0.0, 0.95), "knee": (0.10, -0.01, 0.52), "ankle": (0.10, 0.03, 0.09), "heel": (0.10, 0.09, 0.03),
    "big_toe": (0.09, -0.14, 0.02), "small_toe": (0.14, -0.11, 0.02), "toe_tip": (0.10, -0.15, 0.02),
    "ball": (0.10, -0.09, 0.02), "shoulder": (0.18, 0.0, 1.45), "elbow": (0.26, 0.02, 1.18),
    "wrist": (0.32, -0.02, 0.93), "eye": (0.03, -0.08, 1.67), "eye_inner": (0.015, -0.085, 1.67),
    "eye_outer": (0.045, -0.075, 1.67), "ear": (0.075, 0.0, 1.65), "mouth": (0.025, -0.09, 1.60),
}  # fmt: skip
#: Midline points.
MIDDLE = {
    "pelvis": (0.0, 0.0, 0.98), "spine": (0.0, 0.01, 1.18), "thorax": (0.0, 0.0, 1.40), "neck": (0.0, 0.0, 1.46),
    "mid_neck": (0.0, 0.0, 1.52), "upper_neck": (0.0, 0.0, 1.57), "head": (0.0, -0.01, 1.64),
    "head_top": (0.0, 0.0, 1.75), "nose": (0.0, -0.10, 1.64), "neck_nose": (0.0, -0.03, 1.57),
}  # fmt: skip
FINGERS = ("thumb", "index", "middle", "ring", "pinky")


def _side_point(key: str, side: str) -> np.ndarray:
    p = np.array(LEFT[key], dtype=float)
    if side == "R":
        p[0] = -p[0]
    return p


def hand_point(side: str, finger: str | None, k: int) -> np.ndarray:
    """A hand joint: ``finger=None`` the hand's wrist; else segment ``k`` (1 the base: the thumb's CMC, the other
    fingers' MCP; 4 the tip). The arm hangs down and out, the palm faces the thigh, the thumb forward."""
    wrist = _side_point("wrist", side)
    along = wrist - _side_point("elbow", side)
    along /= np.linalg.norm(along)
    if finger is None:
        return wrist
    if finger == "thumb":
        steps = ((0.02, 0.02), (0.045, 0.04), (0.07, 0.05), (0.09, 0.055))
        a, f = steps[k - 1]
        return wrist + a * along + f * FORWARD
    base = {"index": (0.09, 0.025), "middle": (0.095, 0.008), "ring": (0.09, -0.01), "pinky": (0.08, -0.028)}[finger]
    reach = base[0] + (0.0, 0.04, 0.065, 0.085)[k - 1]
    return wrist + reach * along + base[1] * FORWARD


def face_point(index: int, count: int) -> np.ndarray:
    """Face point ``index`` of ``count``: spread over the front of the head (a deterministic spiral)."""
    centre = np.array(MIDDLE["head"]) + np.array([0.0, -0.02, 0.0])
    t = (index + 0.5) / count
    polar = np.arccos(1 - 2 * t)  # from the top of the head down
    azimuth = np.pi * (3 - np.sqrt(5)) * index
    x = np.sin(polar) * np.cos(azimuth)
    y = -abs(np.sin(polar) * np.sin(azimuth))  # the front half
    return centre + np.array([0.07 * x, 0.09 * y, 0.10 * np.cos(polar)])


# ---------------------------------------------------------------------- reading the layouts' joint names
CMU = {
    "root": ("", "pelvis"), "lowerback": ("", "spine"), "upperback": ("", "thorax"), "thorax": ("", "neck"),
    "lowerneck": ("", "mid_neck"), "upperneck": ("", "upper_neck"), "head": ("", "head"),
    "hipjoint": ("side", "hip"), "femur": ("side", "knee"), "tibia": ("side", "ankle"), "foot": ("side", "ball"),
    "toes": ("side", "toe_tip"), "clavicle": ("side", "shoulder"), "humerus": ("side", "elbow"),
    "radius": ("side", "wrist"), "wrist": ("side", "hand"), "hand": ("side", "knuckles"),
    "fingers": ("side", "fingers"), "thumb": ("side", "thumb"),
}  # fmt: skip
H36M = {"hip": "pelvis", "spine": "spine", "thorax": "thorax", "neck_nose": "neck_nose", "head": "head_top",
        "foot": "ankle"}  # fmt: skip
OPENPOSE = {"Nose": "nose", "Neck": "neck", "MidHip": "pelvis", "UpperNeck": "upper_neck", "HeadTop": "head_top"}
MP_HAND = {"cmc": 1, "mcp": 1, "ip": 3, "pip": 2, "dip": 3, "tip": 4}


def classify(layout: str, joint: str) -> tuple[str, str, object]:
    """``(side "L"/"R"/"", kind "body"/"hand"/"face", detail)``: how this module reads a layout's joint name.
    Body: the key of :data:`LEFT` or :data:`MIDDLE`; hand: ``(finger or None, segment)``; face: its index."""
    if layout == "cmu31":
        side, name = ("", joint) if joint in CMU and CMU[joint][0] == "" else (joint[0].upper(), joint[1:])
        key = CMU[name][1]
        if key in ("hand", "knuckles", "fingers", "thumb"):
            return side, "hand", {"hand": (None, 0), "knuckles": ("middle", 1), "fingers": ("middle", 4),
                                  "thumb": ("thumb", 4)}[key]  # fmt: skip
        return side, "body", key
    m = re.fullmatch(r"(?:face[-_]?|Face)(\d+)", joint)
    if m:
        return "", "face", int(m.group(1))
    if "iris" in joint or "Pupil" in joint:
        side = "L" if joint.startswith(("left", "L")) else "R"
        return side, "face", joint
    if layout.startswith("openpose"):
        if joint in OPENPOSE:
            return "", "body", OPENPOSE[joint]
        side, rest = joint[0], joint[1:]
        m = re.fullmatch(r"Hand_(Wrist|Thumb|Index|Middle|Ring|Pinky)(\d?)", rest)
        if m:
            return side, "hand", (None, 0) if m.group(1) == "Wrist" else (m.group(1).lower(), int(m.group(2)))
        return side, "body", re.sub(r"(?<!^)([A-Z])", r"_\1", rest).lower()  # BigToe -> big_toe
    if layout in ("openpose_hand21", "mediapipe_hand21"):
        raise ValueError("hand layouts are not people")
    side = ""
    for word, s in (("left", "L"), ("right", "R")):
        if joint.startswith(f"{word}_") or joint.endswith(f"_{word}"):
            side, joint = s, joint.removeprefix(f"{word}_").removesuffix(f"_{word}")
    if layout == "h36m17":
        return side, "body", {"foot": "ankle"}.get(joint, joint) if side else H36M[joint]
    m = re.fullmatch(r"hand_(\w+?)(?:_finger)?_(cmc|mcp|ip|pip|dip|tip)", joint)  # MediaPipe hands
    if m:
        return side, "hand", (m.group(1), MP_HAND[m.group(2)])
    if joint in ("hand_wrist", "hand_root"):
        return side, "hand", (None, 0)
    m = re.fullmatch(r"(thumb|forefinger|middle_finger|ring_finger|pinky_finger)(\d)", joint)  # COCO-WholeBody
    if m:
        finger = {"forefinger": "index"}.get(m.group(1), m.group(1).split("_")[0])
        return side, "hand", (finger, int(m.group(2)))
    if layout.startswith("mediapipe") and joint in ("index", "pinky", "thumb"):  # the pose's hand points
        return side, "hand", {"index": ("index", 1), "pinky": ("pinky", 1), "thumb": ("thumb", 3)}[joint]
    return side, "body", {"foot_index": "toe_tip"}.get(joint, joint)


def layout_points(layout: str) -> np.ndarray:
    """``(J, 3)`` the standing person's joints in layout ``layout`` (a standard human layout)."""
    rig = get_rig(layout)
    faces = sum(1 for j in rig.joint_names if classify(layout, j)[1] == "face")
    out = []
    for joint in rig.joint_names:
        side, kind, detail = classify(layout, joint)
        if kind == "face":
            if isinstance(detail, int):
                out.append(face_point(detail, faces))
            else:  # an iris or pupil point: at its eye
                out.append(_side_point("eye", side) + np.array([0.0, -0.005, 0.0]))
        elif kind == "hand" and detail[0] is None and layout == "cmu31":  # CMU's wrist bone ends past the wrist
            along = _side_point("wrist", side) - _side_point("elbow", side)
            out.append(_side_point("wrist", side) + 0.02 * along / np.linalg.norm(along))
        elif kind == "hand":
            out.append(hand_point(side, *detail))
        elif side:
            out.append(_side_point(detail, side))
        else:
            out.append(np.array(MIDDLE[detail], dtype=float))
    return np.array(out)


#: The human layouts (every standard layout of people).
HUMAN_LAYOUTS = tuple(n for n in ("coco17", "coco_wholebody133", "openpose_body25", "openpose_body25b",
                                  "openpose_coco18", "openpose_body25_hands_face", "mediapipe_pose33",
                                  "mediapipe_body_hands75", "mediapipe_holistic543", "mediapipe_holistic553",
                                  "h36m17", "cmu31"))  # fmt: skip


def wrist_and_ankle(layout: str, side: str) -> tuple[str, str]:
    """The names of the body's wrist and ankle joints of ``side`` in ``layout``."""
    rig = get_rig(layout)
    found = {}
    for joint in rig.joint_names:
        s, kind, detail = classify(layout, joint)
        if s == side and kind == "body" and detail in ("wrist", "ankle"):
            found[detail] = joint
    return found["wrist"], found["ankle"]
