"""Joint and bone names: sides, common aliases, and the body point a name stands for.

A lifted rig names *points* (``left_shoulder``, ``LeftKnee``, ``l_ankle``); a target rig names *bones*
(``upper_arm.L``, ``mixamorig:LeftUpLeg``, ``DEF-thigh.R``). Both are reduced to a canonical point with a side so
that they can be compared:

* :func:`split_side` finds the side (``"L"``, ``"R"`` or ``""``) from the usual spellings (``left``/``right`` as a
  word or CamelCase part, ``L``/``R``/``l``/``r`` as a prefix or suffix joined by ``.``, ``_``, ``-`` or a space,
  ``lShin``-style lower-case prefixes) and returns the rest as lower-case words;
* :func:`point_of_joint` maps a joint name to the canonical point it marks (``"left_shoulder" -> ("shoulder",
  "L")``);
* :func:`point_of_bone` maps a bone name to the canonical point at the bone's **head** (``"upper_arm.L" ->
  ("shoulder", "L")``, ``"mixamorig:LeftUpLeg" -> ("hip", "L")``, ``"shin.R" -> ("knee", "R")``).

Aliases are data (:data:`JOINT_ALIASES`, :data:`BONE_HEAD_ALIASES`); names they do not know give ``""`` (no
evidence either way).

Hands and faces have points of their own, so that their many joints never pass for body points: a finger joint is
``"thumb"``, ``"index"``, ``"middle"``, ``"ring"``, ``"pinky"`` (or ``"finger"``) whatever its segment
(``left_hand_thumb_tip``, ``LHand_Index3``, ``left_forefinger2``, ``pinky_dip``; only a foot's ``foot_index`` is a
toe), a hand point named by its finger alone is ``"hand_point"`` (MediaPipe Pose's ``left_index``, ``left_thumb``,
CMU's ``lthumb``: rough points of the hand, which yield to a hand's own joints), the wrist of a hand part is
``"hand_root"`` (``left_hand_wrist``, ``LHand_Wrist``, ``left_hand_root``: the body's wrist is ``"wrist"``), and
face-mesh points, irises and pupils are ``"face"``. :func:`region` sorts points into the body, the hand and the
face; the mapping never pairs points of different regions.

Name evidence is only one half of the mapping: :mod:`.mapping` combines it with the rest-pose geometry, so that
e.g. a CMU ``LeftShoulder`` joint (a point at the shoulder) and a Mixamo ``LeftShoulder`` bone (the clavicle, whose
head is near the neck) are told apart by where they are.
"""

from __future__ import annotations

import re

#: Prefixes removed before anything else: namespaces (``mixamorig:``) are cut at the last ``:`` or ``|``.
STRIP_PREFIXES = ("def-", "org-", "mch-", "bip01 ", "bip001 ", "jnt_")

#: Words that are equivalent in any name (applied word by word after splitting).
WORD_ALIASES = {
    "lft": "left", "rgt": "right", "rt": "right", "lf": "left", "upleg": "thigh", "upperleg": "thigh",
    "lowerleg": "shin", "calf": "shin", "lowerarm": "forearm", "upperarm": "upper_arm", "uparm": "upper_arm",
    "fore": "front", "hind": "back", "rear": "back", "clav": "clavicle", "collar": "clavicle",
    "collarbone": "clavicle", "toebase": "toe", "ball": "toe", "hips": "pelvis", "hip": "hip", "root": "pelvis",
    "abdomen": "spine", "torso": "spine", "chest": "chest", "thorax": "chest", "upperchest": "chest",
    "headtop": "head_top", "lowerneck": "neck", "upperneck": "head", "tailbase": "tail", "f": "front", "b": "back",
    "forearm": "forearm", "forefoot": "forefoot", "hindfoot": "foot", "toes": "toe", "lowerback": "spine",
    "upperback": "spine", "little": "pinky", "fingers": "finger", "forefinger": "index", "pupil": "iris",
}  # fmt: skip

#: Words that a lower-case ``l`` or ``r`` may be glued to as the side (the CMU skeleton's ``lhumerus``, ``rtoes``).
GLUED_SIDE_WORDS = ("clavicle", "humerus", "radius", "wrist", "hand", "fingers", "thumb", "hipjoint", "femur",
                    "tibia", "foot", "toes", "shoulder", "elbow", "hip", "knee", "ankle", "heel", "toe", "eye",
                    "ear")  # fmt: skip
_GLUED = re.compile(rf"^([lr])({'|'.join(GLUED_SIDE_WORDS)})$")

#: Finger points (a joint anywhere along that finger); they match only each other (and ``"finger"``).
FINGER_POINTS = ("thumb", "index", "middle", "ring", "pinky", "finger")

#: Two words written apart that mean one (``Up Leg`` in ``LeftUpLeg``), merged before :data:`WORD_ALIASES`.
COMPOUNDS = {("up", "leg"), ("upper", "leg"), ("lower", "leg"), ("up", "arm"), ("upper", "arm"), ("lower", "arm"),
             ("fore", "arm"), ("fore", "foot"), ("hind", "foot"), ("toe", "base"), ("head", "top"), ("upper", "chest"),
             ("lower", "neck"), ("upper", "neck"), ("tail", "base")}  # fmt: skip

#: Joint (point) names: the canonical point for a set of words (first match wins; order matters).
JOINT_ALIASES: tuple[tuple[tuple[str, ...], str], ...] = (
    # a foot's "index" is its toe tip (MediaPipe's foot_index); hand parts and fingers before any body word
    # ("tip", "hand", "wrist"), so that left_hand_thumb_tip is a thumb and left_hand_wrist no body wrist
    (("foot", "index"), "toe"), (("hand", "wrist"), "hand_root"), (("hand", "pelvis"), "hand_root"),
    (("thumb",), "thumb"), (("pinky",), "pinky"), (("index", "finger"), "index"), (("middle", "finger"), "middle"),
    (("ring", "finger"), "ring"), (("hand", "index"), "index"), (("hand", "middle"), "middle"),
    (("hand", "ring"), "ring"), (("iris",), "face"), (("face",), "face"),
    # the CMU skeleton's joints are its bones' end points
    (("humerus",), "elbow"), (("radius",), "wrist"), (("femur",), "knee"), (("tibia",), "ankle"),
    (("hipjoint",), "hip"),
    (("paw",), "toe"), (("hoof",), "toe"), (("front", "knee"), "elbow"),
    (("front", "elbow"), "elbow"), (("back", "knee"), "knee"), (("front", "hip"), "shoulder"),
    (("front", "shoulder"), "shoulder"), (("back", "hip"), "hip"),
    (("head_top",), "head_top"), (("top",), "head_top"), (("head", "end"), "head_top"), (("end",), "end"),
    (("tip",), "end"),
    (("upper_arm",), "shoulder"), (("shoulder",), "shoulder"), (("elbow",), "elbow"), (("forearm",), "elbow"),
    (("wrist",), "wrist"), (("hand",), "wrist"), (("thigh",), "hip"), (("hip",), "hip"), (("knee",), "knee"),
    (("shin",), "knee"), (("ankle",), "ankle"), (("heel",), "heel"), (("foot",), "ankle"), (("toe",), "toe"),
    (("tail",), "tail"), (("pelvis",), "pelvis"), (("spine",), "spine"), (("chest",), "chest"),
    (("withers",), "chest"), (("neck",), "neck"), (("nose",), "nose"), (("eye",), "eye"), (("ear",), "ear"),
    (("mouth",), "mouth"), (("head",), "head"), (("clavicle",), "clavicle"),
    # finger words that are also body words elsewhere ("spine_middle"), only after every body word
    (("index",), "index"), (("middle",), "middle"), (("ring",), "ring"), (("finger",), "finger"),
)  # fmt: skip

#: Words of face bones (Rigify's face rig: ``lip.T.L``, ``jaw``, ``brow.B.R``...): their head is a ``"face"``
#: point, which only face points could match (and those are never mapped, see :mod:`.mapping`).
FACE_BONE_WORDS = ("face", "lip", "jaw", "chin", "brow", "lid", "cheek", "forehead", "temple", "teeth", "tongue",
                   "iris")  # fmt: skip

#: Bone names: the canonical point at the bone's head (first match wins).
BONE_HEAD_ALIASES: tuple[tuple[tuple[str, ...], str], ...] = (
    # fingers first: Mixamo's LeftHandThumb1 and Rigify's f_index.01.L ("f" reads "front"), thumb.01.L, palm.01.L
    (("thumb",), "thumb"), (("pinky",), "pinky"), (("palm",), "palm"), (("hand", "index"), "index"),
    (("hand", "middle"), "middle"), (("hand", "ring"), "ring"), (("front", "index"), "index"),
    (("front", "middle"), "middle"), (("front", "ring"), "ring"),
    *(((w,), "face") for w in FACE_BONE_WORDS),
    (("front", "thigh"), "shoulder"), (("front", "shin"), "elbow"), (("front", "foot"), "wrist"),
    (("front", "toe"), "toe"), (("f", "toe"), "toe"), (("r", "toe"), "toe"),
    (("upper_arm",), "shoulder"), (("arm",), "shoulder"), (("forearm",), "elbow"), (("hand",), "wrist"),
    (("thigh",), "hip"), (("shin",), "knee"), (("leg",), "knee"), (("forefoot",), "wrist"), (("foot",), "ankle"),
    (("toe",), "toe"), (("heel",), "heel"), (("head_top",), "head_top"), (("hip",), "hip"), (("knee",), "knee"),
    (("ankle",), "ankle"), (("elbow",), "elbow"), (("wrist",), "wrist"), (("shoulder",), "clavicle"),
    (("clavicle",), "clavicle"),
    (("pelvis",), "pelvis"), (("spine",), "spine"), (("chest",), "chest"), (("neck",), "neck"), (("head",), "head"),
    (("nose",), "nose"), (("eye",), "eye"), (("ear",), "ear"), (("tail",), "tail"),
    (("index",), "index"), (("middle",), "middle"), (("ring",), "ring"), (("finger",), "finger"),
)  # fmt: skip

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEP = re.compile(r"[\s._\-:|/]+")


def _strip(name: str) -> str:
    base = re.split(r"[:|]", name)[-1]
    low = base.lower()
    for prefix in STRIP_PREFIXES:
        if low.startswith(prefix) and len(low) > len(prefix):
            return base[len(prefix) :]
    return base


def split_side(name: str) -> tuple[str, tuple[str, ...]]:
    """The side of a joint or bone name and its other words.

    Returns:
        ``(side, words)``: side ``"L"``, ``"R"`` or ``""``; words lower-case, aliases applied
        (:data:`WORD_ALIASES`), numbers dropped (``spine.003 -> ("spine",)``).

    >>> split_side("mixamorig:LeftUpLeg")
    ('L', ('thigh',))
    >>> split_side("upper_arm.R")
    ('R', ('upper_arm',))
    """
    base = _strip(name)
    prefix_side = ""
    # lShin / rFoot (salsa BVH): a single lower-case l or r before a capital
    m = re.match(r"^([lr])(?=[A-Z])", base)
    if m:
        prefix_side, base = m.group(1).upper(), base[1:]
    raw = [w.lower() for w in _SEP.split(_CAMEL.sub(" ", base)) if w and not w.isdigit()]
    if len(raw) == 1 and not prefix_side:  # lhumerus, rtoes (CMU)
        glued = _GLUED.match(raw[0])
        if glued:
            prefix_side, raw = glued.group(1).upper(), [glued.group(2)]
    word_side = suffix_side = ""
    if len(raw) > 1 and raw[-1] in ("l", "r"):
        suffix_side = raw.pop().upper()
    elif len(raw) > 1 and raw[0] in ("l", "r"):
        prefix_side = prefix_side or raw.pop(0).upper()
    merged: list[str] = []
    for w in raw:
        w = re.sub(r"\d+$", "", w)
        if not w:
            continue
        if merged and (merged[-1], w) in COMPOUNDS:
            merged[-1] += w
        else:
            merged.append(w)
    words = []
    for w in merged:
        w = WORD_ALIASES.get(w, w)
        if w in ("left", "right"):
            word_side = word_side or w[0].upper()
        else:
            words.append(w)
    side = word_side or suffix_side or prefix_side
    return side, tuple(words)


def _lookup(words: tuple[str, ...], table) -> str:
    present = set(words)
    for need, point in table:
        if all(w in present for w in need):
            return point
    return ""


def point_of_joint(name: str) -> tuple[str, str]:
    """``(point, side)`` of a lifted joint name; point ``""`` when no alias matches. A hip without a side
    (``MidHip``, Human3.6M's ``hip``) is the pelvis."""
    side, words = split_side(name)
    point = _lookup(words, JOINT_ALIASES)
    if point == "hip" and not side:
        point = "pelvis"
    elif point in FINGER_POINTS and len(words) == 1 and not re.search(r"\d", name):
        point = "hand_point"  # a hand point with no finger segment (MediaPipe Pose's left_index, CMU's lthumb)
    return point, side


def point_of_bone(name: str) -> tuple[str, str]:
    """``(point at the bone's head, side)`` of a bone name; point ``""`` when no alias matches."""
    side, words = split_side(name)
    return _lookup(words, BONE_HEAD_ALIASES), side


def region(point: str) -> str:
    """``"hand"`` for finger points and palm bones, ``"face"`` for face points, ``"body"`` for every other point
    (an unknown one included)."""
    if point in FINGER_POINTS or point in ("palm", "hand_point"):
        return "hand"
    return "face" if point == "face" else "body"


def mirror_name(name: str) -> str:
    """The name of the other side's bone or joint (``upper_arm.L -> upper_arm.R``, ``LeftArm -> RightArm``); the
    name itself when it has no side."""
    swaps = [(r"Left", "Right"), (r"Right", "Left"), (r"left", "right"), (r"right", "left"), (r"LEFT", "RIGHT"),
             (r"RIGHT", "LEFT")]  # fmt: skip
    for a, b in swaps:
        if a in name:
            return name.replace(a, b, 1)
    m = re.search(r"([._\- ])([LRlr])$", name)
    if m:
        flip = {"L": "R", "R": "L", "l": "r", "r": "l"}[m.group(2)]
        return name[: m.start(2)] + flip
    m = re.match(r"^([LRlr])([._\- ])", name)
    if m:
        return {"L": "R", "R": "L", "l": "r", "r": "l"}[m.group(1)] + name[1:]
    return name


__all__ = ["FINGER_POINTS", "mirror_name", "point_of_bone", "point_of_joint", "region", "split_side"]
