"""Standard skeleton layouts: names, counts, links, left/right pairs, and cross-checks against mediapipe."""

import json
import re
import subprocess
import sys
from collections import deque
from importlib import resources

import numpy as np
import pytest

from lfm_engine.errors import RigError
from lfm_engine.layouts import (
    CMU31_JOINTS,
    CMU31_PARENTS,
    FACE68_BRIDGES,
    FACE68_CONTOURS,
    FACE68_MIRROR,
    H36M17_JOINTS,
    H36M17_PARENTS,
    OPENPOSE_BODY25B_JOINTS,
    OPENPOSE_BODY25B_PAIRS,
    available_rigs,
    get_rig,
)
from lfm_engine.rig import Rig

# name: (joints, category, left/right pairs, has parents (tree), connected components or None: not checked)
EXPECTED = {
    "coco17": (17, "human", 8, False, 1),
    "coco_wholebody133": (133, "human", 8 + 3 + 21 + 29, False, 1),
    "openpose_body25": (25, "human", 11, True, 1),
    "openpose_body25b": (25, "human", 11, False, 1),
    "openpose_coco18": (18, "human", 8, True, 1),
    "openpose_hand21": (21, "hand", 0, True, 1),
    "openpose_face70": (70, "face", 29 + 1, False, 1),
    "openpose_body25_hands_face": (137, "human", 11 + 21 + 30, False, 1),
    "mediapipe_pose33": (33, "human", 16, False, 3),
    "mediapipe_hand21": (21, "hand", 0, False, 1),
    "mediapipe_facemesh468": (468, "face", 220, False, None),
    "mediapipe_facemesh478": (478, "face", 225, False, None),
    "mediapipe_body_hands75": (75, "human", 16 + 21, False, 3),
    "mediapipe_holistic543": (543, "human", 16 + 21 + 220, False, None),
    "mediapipe_holistic553": (553, "human", 16 + 21 + 225, False, None),
    "h36m17": (17, "human", 6, True, 1),
    "cmu31": (31, "human", 12, True, 1),
}
ALL = sorted(EXPECTED)

# The 68-point face joints (iBUG order) of the rigs that hold one: (rig, index of point 0).
FACE68_IN = {"coco_wholebody133": 23, "openpose_face70": 0, "openpose_body25_hands_face": 67}
FACE68_MIDLINE = {8, 27, 28, 29, 30, 33, 51, 57, 62, 66}


def _edge_set(rig: Rig) -> set[frozenset]:
    return {frozenset(e) for e in rig.edges}


def _named_edges(rig: Rig) -> set[frozenset]:
    return {frozenset((rig.joint_names[a], rig.joint_names[b])) for a, b in rig.edges}


def _has_edge(rig: Rig, a: str, b: str) -> bool:
    return frozenset((a, b)) in _named_edges(rig)


def _components(rig: Rig) -> int:
    nbrs = [[] for _ in range(rig.num_joints)]
    for a, b in rig.edges:
        nbrs[a].append(b)
        nbrs[b].append(a)
    seen, count = set(), 0
    for start in range(rig.num_joints):
        if start in seen:
            continue
        count += 1
        seen.add(start)
        queue = deque([start])
        while queue:
            for w in nbrs[queue.popleft()]:
                if w not in seen:
                    seen.add(w)
                    queue.append(w)
    return count


_CMU_UNSIDED = {"root", "lowerback", "upperback", "thorax", "lowerneck", "upperneck", "head"}


def _side(rig: Rig, name: str) -> str | None:
    """The side a joint's name puts it on, by each format's own spelling, or None."""
    if rig.name == "cmu31":
        return None if name in _CMU_UNSIDED else {"l": "left", "r": "right"}[name[0]]
    if re.search(r"(^|_)left(_|$)", name):
        return "left"
    if re.search(r"(^|_)right(_|$)", name):
        return "right"
    if re.match(r"L[A-Z]", name):  # OpenPose: LShoulder, LHand_Wrist, LPupil
        return "left"
    if re.match(r"R[A-Z]", name):
        return "right"
    return None


# ---------------------------------------------------------------------------- every layout
def test_registered_layouts():
    assert set(available_rigs()) == set(EXPECTED)
    assert len(available_rigs()) == len(set(available_rigs()))


@pytest.mark.parametrize("name", ALL)
def test_layout_builds_and_validates(name):
    rig = get_rig(name)
    n_joints, category, _, is_tree, _ = EXPECTED[name]
    assert isinstance(rig, Rig)
    assert rig.name == name
    assert rig.num_joints == n_joints
    assert rig.category == category
    assert len(set(rig.joint_names)) == n_joints
    assert all(re.fullmatch(r"[A-Za-z0-9_\-]+", n) for n in rig.joint_names)
    assert (rig.parents is not None) == is_tree
    assert len(rig.edges) >= n_joints - 1 or name.startswith(("mediapipe_facemesh", "mediapipe_holistic"))
    # A round trip through the validating constructors gives the same rig.
    again = Rig.from_dict(json.loads(json.dumps(rig.to_dict())))
    assert again.joint_names == rig.joint_names
    assert _edge_set(again) == _edge_set(rig)
    assert again.symmetry == rig.symmetry
    assert again.parents == rig.parents


@pytest.mark.parametrize("name", ALL)
def test_layout_is_cached(name):
    assert get_rig(name) is get_rig(name)


@pytest.mark.parametrize("name", [n for n in ALL if EXPECTED[n][4] is not None])
def test_connectivity(name):
    assert _components(get_rig(name)) == EXPECTED[name][4]


@pytest.mark.parametrize("name", ALL)
def test_left_right_pairs_complete_and_on_the_right_sides(name):
    rig = get_rig(name)
    assert len(rig.symmetry) == EXPECTED[name][2]
    paired = {j for pair in rig.symmetry for j in pair}
    for left, right in rig.symmetry:
        side_l, side_r = _side(rig, rig.joint_names[left]), _side(rig, rig.joint_names[right])
        assert (side_l, side_r) in {("left", "right"), (None, None)}, (
            rig.joint_names[left],
            rig.joint_names[right],
        )
    sided = [n for n in rig.joint_names if _side(rig, n)]
    missing = [n for n in sided if rig.index(n) not in paired]
    assert missing == []


@pytest.mark.parametrize("name", ALL)
def test_links_are_left_right_symmetric(name):
    """Mirroring the joints maps the set of links onto itself (checks the pairs against the links)."""
    rig = get_rig(name)
    flip = rig.flip_permutation()
    assert {frozenset((int(flip[a]), int(flip[b]))) for a, b in rig.edges} == _edge_set(rig)


@pytest.mark.parametrize("name", ALL)
def test_tree_parents_span_every_joint(name):
    rig = get_rig(name)
    parents = rig.tree_parents()
    assert len(parents) == rig.num_joints
    n_roots = sum(p == -1 for p in parents)
    assert n_roots == _components(rig)


# ---------------------------------------------------------------------------- registry API
@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("coco", "coco17"),
        ("COCO17", "coco17"),
        ("  Coco  ", "coco17"),
        ("coco_wholebody", "coco_wholebody133"),
        ("COCO-WholeBody", "coco_wholebody133"),
        ("body25", "openpose_body25"),
        ("BODY_25", "openpose_body25"),
        ("body-25", "openpose_body25"),
        ("body25b", "openpose_body25b"),
        ("BODY_25B", "openpose_body25b"),
        ("openpose_coco", "openpose_coco18"),
        ("openpose_hand", "openpose_hand21"),
        ("openpose_face", "openpose_face70"),
        ("openpose137", "openpose_body25_hands_face"),
        ("mediapipe_pose", "mediapipe_pose33"),
        ("BlazePose", "mediapipe_pose33"),
        ("mediapipe_hands", "mediapipe_hand21"),
        ("facemesh", "mediapipe_facemesh468"),
        ("facemesh_iris", "mediapipe_facemesh478"),
        ("h36m", "h36m17"),
        ("Human3.6M", "h36m17"),
        ("cmu", "cmu31"),
    ],
)
def test_aliases(alias, name):
    assert get_rig(alias) is get_rig(name)


def test_unknown_layout_is_a_rig_error_listing_the_names():
    with pytest.raises(RigError) as info:
        get_rig("coco19")
    message = str(info.value)
    assert "coco19" in message
    for name in available_rigs():
        assert name in message
    assert isinstance(info.value, ValueError)


def test_non_text_layout_name_is_a_rig_error():
    with pytest.raises(RigError, match="text"):
        get_rig(17)


def test_import_is_cheap():
    code = (
        "import sys, lfm_engine.layouts; "
        "heavy = {'torch', 'bpy', 'mediapipe', 'scipy'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------- COCO
def test_coco17_names_and_skeleton():
    rig = get_rig("coco17")
    assert rig.joint_names[:5] == ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
    assert rig.joint_names[-1] == "right_ankle"
    assert len(rig.edges) == 19
    assert _has_edge(rig, "left_shoulder", "left_elbow")
    assert _has_edge(rig, "left_hip", "right_hip")
    assert _has_edge(rig, "left_ankle", "left_knee")
    assert _has_edge(rig, "left_ear", "left_shoulder")
    assert not _has_edge(rig, "nose", "left_shoulder")
    assert _has_edge(rig, "right_ear", "right_shoulder")  # COCO's 1-based [5, 7]


def test_coco_wholebody_parts():
    rig = get_rig("coco_wholebody133")
    names = rig.joint_names
    assert names[:17] == get_rig("coco17").joint_names
    assert names[17:23] == (
        "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel",
    )  # fmt: skip
    assert names[23] == "face-0" and names[90] == "face-67"
    assert names[91:96] == ("left_hand_root", "left_thumb1", "left_thumb2", "left_thumb3", "left_thumb4")
    assert names[96] == "left_forefinger1" and names[100] == "left_middle_finger1"
    assert names[104] == "left_ring_finger1" and names[108] == "left_pinky_finger1"
    assert names[111] == "left_pinky_finger4"
    assert names[112] == "right_hand_root" and names[132] == "right_pinky_finger4"
    for a, b in [
        ("left_ankle", "left_big_toe"), ("left_ankle", "left_small_toe"), ("right_ankle", "right_heel"),
        ("left_wrist", "left_hand_root"), ("right_wrist", "right_hand_root"),
        ("left_hand_root", "left_thumb1"), ("left_hand_root", "left_pinky_finger1"),
        ("right_ring_finger3", "right_ring_finger4"),
        ("nose", "face-30"), ("face-0", "face-1"), ("face-41", "face-36"), ("face-67", "face-60"),
    ]:  # fmt: skip
        assert _has_edge(rig, a, b), (a, b)
    assert not _has_edge(rig, "face-16", "face-17")
    assert {frozenset(e) for e in get_rig("coco17").edges} <= _edge_set(rig)


# ---------------------------------------------------------------------------- the 68-point face
def test_face68_contours_match_openpose_face_pairs_render():
    # OpenPose's FACE_PAIRS_RENDER_GPU (include/openpose/face/faceParameters.hpp), as published.
    openpose = (
        "0,1 1,2 2,3 3,4 4,5 5,6 6,7 7,8 8,9 9,10 10,11 11,12 12,13 13,14 14,15 15,16 17,18 18,19 "
        "19,20 20,21 22,23 23,24 24,25 25,26 27,28 28,29 29,30 31,32 32,33 33,34 34,35 36,37 37,38 "
        "38,39 39,40 40,41 41,36 42,43 43,44 44,45 45,46 46,47 47,42 48,49 49,50 50,51 51,52 52,53 "
        "53,54 54,55 55,56 56,57 57,58 58,59 59,48 60,61 61,62 62,63 63,64 64,65 65,66 66,67 67,60"
    )
    pairs = tuple(tuple(int(v) for v in pair.split(",")) for pair in openpose.split())
    assert len(pairs) == 63
    assert pairs == FACE68_CONTOURS


def test_face68_mirror_pairs():
    paired = [j for pair in FACE68_MIRROR for j in pair]
    assert len(FACE68_MIRROR) == 29 and len(set(paired)) == 58
    assert set(range(68)) - set(paired) == FACE68_MIDLINE
    # Left (the subject's) is the image's right: the second half of the jaw, brow 22-26, eye 42-47.
    lefts = {left for left, _ in FACE68_MIRROR}
    assert set(range(9, 17)) <= lefts and set(range(22, 27)) <= lefts and set(range(42, 48)) <= lefts
    assert (16, 0) in FACE68_MIRROR and (45, 36) in FACE68_MIRROR and (54, 48) in FACE68_MIRROR
    mirror = dict(FACE68_MIRROR) | {r: l for l, r in FACE68_MIRROR}
    flip = [mirror.get(i, i) for i in range(68)]
    edges = {frozenset(e) for e in FACE68_CONTOURS + FACE68_BRIDGES}
    assert {frozenset((flip[a], flip[b])) for a, b in edges} == edges


@pytest.mark.parametrize(("name", "offset"), sorted(FACE68_IN.items()))
def test_face68_pairs_in_rigs(name, offset):
    rig = get_rig(name)
    for left, right in FACE68_MIRROR:
        assert (left + offset, right + offset) in rig.symmetry


# ---------------------------------------------------------------------------- OpenPose
def test_openpose_body25():
    rig = get_rig("openpose_body25")
    assert rig.joint_names[8] == "MidHip"
    assert rig.parents[8] == -1 and sum(p == -1 for p in rig.parents) == 1
    assert rig.joint_names[19:] == ("LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel")
    par = {rig.joint_names[c]: rig.joint_names[p] for c, p in enumerate(rig.parents) if p >= 0}
    assert par["Neck"] == "MidHip" and par["Nose"] == "Neck" and par["REar"] == "REye"
    assert par["LBigToe"] == "LAnkle" and par["LSmallToe"] == "LBigToe" and par["LHeel"] == "LAnkle"
    assert par["RWrist"] == "RElbow" and par["LKnee"] == "LHip" and par["LHip"] == "MidHip"
    assert len(rig.edges) == 24


def test_openpose_body25b():
    rig = get_rig("openpose_body25b")
    # POSE_BODY_25B_BODY_PARTS: COCO's 17 in COCO's order, UpperNeck, HeadTop, then BODY_25's feet.
    assert rig.joint_names[:17] == (
        "Nose", "LEye", "REye", "LEar", "REar", "LShoulder", "RShoulder", "LElbow", "RElbow", "LWrist", "RWrist",
        "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle",
    )  # fmt: skip
    coco = [n.replace("left_", "l").replace("right_", "r").replace("_", "") for n in get_rig("coco17").joint_names]
    assert [n.lower() for n in rig.joint_names[:17]] == coco
    assert rig.joint_names[17:19] == ("UpperNeck", "HeadTop")
    assert rig.joint_names[19:] == get_rig("openpose_body25").joint_names[19:]  # the same six foot points
    assert "MidHip" not in rig.joint_names and "Neck" not in rig.joint_names
    assert rig.joint_names == OPENPOSE_BODY25B_JOINTS
    # POSE_BODY_25B_PAIRS_RENDER_GPU, as published, plus our UpperNeck-Nose link.
    openpose = (
        "0,1 0,2 1,3 2,4 5,7 6,8 7,9 8,10 5,11 6,12 11,13 12,14 13,15 14,16 15,19 19,20 15,21 16,22 22,23 16,24 "
        "5,17 6,17 17,18 11,12"
    )
    pairs = tuple(tuple(int(v) for v in pair.split(",")) for pair in openpose.split())
    assert pairs == OPENPOSE_BODY25B_PAIRS and len(pairs) == 24
    assert _edge_set(rig) == {frozenset(e) for e in pairs} | {frozenset((17, 0))}
    for a, b in [("UpperNeck", "HeadTop"), ("UpperNeck", "LShoulder"), ("UpperNeck", "RShoulder"),
                 ("UpperNeck", "Nose"), ("LHip", "RHip"), ("LAnkle", "LBigToe"), ("LBigToe", "LSmallToe"),
                 ("RAnkle", "RHeel"), ("Nose", "LEye"), ("LEye", "LEar")]:  # fmt: skip
        assert _has_edge(rig, a, b), (a, b)
    assert not _has_edge(rig, "LShoulder", "RShoulder")  # BODY_25B draws the shoulders through UpperNeck
    pairs = {(rig.joint_names[a], rig.joint_names[b]) for a, b in rig.symmetry}
    assert ("LEye", "REye") in pairs and ("LHeel", "RHeel") in pairs and ("LShoulder", "RShoulder") in pairs
    # Pose2Sim's BODY_25B tree (skeletons.py): the legs hang off the hips, the arms off the shoulders, and the
    # head (HeadTop, Nose) off the UpperNeck ("Neck", id 17); each of its bones is a link or a path of two here.
    pose2sim = [(12, 14), (14, 16), (16, 22), (22, 23), (16, 24), (11, 13), (13, 15), (15, 19), (19, 20), (15, 21),
                (17, 18), (17, 6), (6, 8), (8, 10), (17, 5), (5, 7), (7, 9)]  # fmt: skip
    assert all(frozenset(e) in _edge_set(rig) for e in pose2sim)


def test_openpose_coco18():
    rig = get_rig("openpose_coco18")
    assert rig.joint_names == (
        "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
        "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
    )  # fmt: skip
    assert rig.parents[1] == -1 and len(rig.edges) == 17
    assert _has_edge(rig, "Neck", "RHip") and _has_edge(rig, "LEye", "LEar")


def test_openpose_hand21():
    rig = get_rig("openpose_hand21")
    assert rig.joint_names[0] == "Wrist" and rig.parents[0] == -1
    for base in (1, 5, 9, 13, 17):
        assert rig.parents[base] == 0
        assert rig.parents[base + 1 : base + 4] == (base, base + 1, base + 2)


def test_openpose_face70_pupils():
    rig = get_rig("openpose_face70")
    assert rig.joint_names[68:] == ("RPupil", "LPupil")
    assert (69, 68) in rig.symmetry
    assert _has_edge(rig, "RPupil", "Face36") and _has_edge(rig, "LPupil", "Face45")


def test_openpose_137():
    rig = get_rig("openpose_body25_hands_face")
    names = rig.joint_names
    assert names[:25] == get_rig("openpose_body25").joint_names
    assert names[25] == "LHand_Wrist" and names[46] == "RHand_Wrist" and names[67] == "Face0"
    assert names[-2:] == ("RPupil", "LPupil")
    assert _has_edge(rig, "LWrist", "LHand_Wrist") and _has_edge(rig, "RWrist", "RHand_Wrist")
    assert _has_edge(rig, "Nose", "Face30") and _has_edge(rig, "LHand_Thumb3", "LHand_Thumb4")
    pairs = {(names[a], names[b]) for a, b in rig.symmetry}
    assert ("LHand_Ring2", "RHand_Ring2") in pairs and ("LShoulder", "RShoulder") in pairs


# ---------------------------------------------------------------------------- motion capture
def test_h36m17():
    rig = get_rig("h36m17")
    assert rig.joint_names == H36M17_JOINTS
    assert rig.parents == H36M17_PARENTS == (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
    assert rig.joint_names[0] == "hip" and rig.joint_names[10] == "head"
    pairs = {(rig.joint_names[a], rig.joint_names[b]) for a, b in rig.symmetry}
    assert pairs == {(f"left_{j}", f"right_{j}") for j in ("hip", "knee", "foot", "shoulder", "elbow", "wrist")}


def test_cmu31():
    rig = get_rig("cmu31")
    assert rig.joint_names == CMU31_JOINTS and rig.parents == CMU31_PARENTS
    par = {rig.joint_names[c]: rig.joint_names[p] for c, p in enumerate(rig.parents) if p >= 0}
    assert rig.parents[0] == -1
    for child, parent in [
        ("lhipjoint", "root"), ("rhipjoint", "root"), ("lowerback", "root"), ("lfemur", "lhipjoint"),
        ("ltoes", "lfoot"), ("upperback", "lowerback"), ("thorax", "upperback"), ("lowerneck", "thorax"),
        ("head", "upperneck"), ("lclavicle", "thorax"), ("rclavicle", "thorax"), ("lhumerus", "lclavicle"),
        ("lwrist", "lradius"), ("lhand", "lwrist"), ("lfingers", "lhand"), ("lthumb", "lwrist"),
        ("rthumb", "rwrist"), ("rfingers", "rhand"),
    ]:  # fmt: skip
        assert par[child] == parent, child
    pairs = {(rig.joint_names[a], rig.joint_names[b]) for a, b in rig.symmetry}
    assert ("lthumb", "rthumb") in pairs and ("lhipjoint", "rhipjoint") in pairs


# ---------------------------------------------------------------------------- MediaPipe (no mediapipe needed)
def test_mediapipe_pose33():
    rig = get_rig("mediapipe_pose33")
    assert rig.joint_names[0] == "nose" and rig.joint_names[-1] == "right_foot_index"
    assert len(rig.edges) == 35
    assert _has_edge(rig, "left_wrist", "left_pinky") and _has_edge(rig, "left_pinky", "left_index")
    assert _has_edge(rig, "mouth_left", "mouth_right") and _has_edge(rig, "left_heel", "left_foot_index")


def test_mediapipe_hand21():
    rig = get_rig("mediapipe_hand21")
    assert rig.joint_names[0] == "wrist" and rig.joint_names[-1] == "pinky_tip"
    assert len(rig.edges) == 21
    assert _has_edge(rig, "index_finger_mcp", "middle_finger_mcp") and _has_edge(rig, "wrist", "pinky_mcp")
    assert not _has_edge(rig, "wrist", "middle_finger_mcp")
    assert rig.tree_parents()[0] == -1


def test_facemesh_json_provenance():
    data = json.loads(resources.files("lfm_engine.layouts").joinpath("facemesh.json").read_text("utf-8"))
    assert data["source"]["package"] == "mediapipe" and data["source"]["version"] == "0.10.21"
    assert "Apache-2.0" in data["source"]["license"]
    assert len(data["mirror_pairs"]) == 220 and len(data["midline"]) == 28
    assert {v for p in data["mirror_pairs"] for v in p} | set(data["midline"]) == set(range(468))


def test_facemesh_layouts():
    small, big = get_rig("mediapipe_facemesh468"), get_rig("mediapipe_facemesh478")
    assert small.joint_names[0] == "face_0" and small.joint_names[-1] == "face_467"
    assert big.joint_names[:468] == small.joint_names
    assert big.joint_names[468] == "right_iris_center" and big.joint_names[473] == "left_iris_center"
    assert len(small.edges) == 124 + 25 and len(big.edges) == 124 + 25 + 8
    assert _edge_set(small) < _edge_set(big)
    # Well-known mirror partners: eye outer corners 33/263, inner corners 133/362, mouth corners 61/291.
    for left, right in [(263, 33), (362, 133), (291, 61), (454, 234), (473, 468)]:
        assert (left, right) in big.symmetry
    names = big.joint_names
    pairs = {(names[a], names[b]) for a, b in big.symmetry if a >= 468}
    assert ("left_iris_inner", "right_iris_inner") in pairs  # 476 / 469: both on the nose side
    assert (476, 469) in big.symmetry and (474, 471) in big.symmetry
    midline = set(range(468)) - {j for pair in small.symmetry for j in pair}
    assert {0, 1, 4, 6, 10, 13, 14, 17, 152, 168} <= midline


# ---------------------------------------------------------------------------- cross-checks against mediapipe
@pytest.fixture(scope="module")
def mp_solutions():
    pytest.importorskip("mediapipe")
    from mediapipe.python import solutions

    return solutions


def _mp_edges(connections) -> set[frozenset]:
    return {frozenset(e) for e in connections}


def test_mediapipe_pose_matches_package(mp_solutions):
    rig = get_rig("mediapipe_pose33")
    assert rig.joint_names == tuple(lm.name.lower() for lm in mp_solutions.pose.PoseLandmark)
    assert [lm.value for lm in mp_solutions.pose.PoseLandmark] == list(range(33))
    assert _edge_set(rig) == _mp_edges(mp_solutions.pose_connections.POSE_CONNECTIONS)


def test_mediapipe_hand_matches_package(mp_solutions):
    rig = get_rig("mediapipe_hand21")
    assert rig.joint_names == tuple(lm.name.lower() for lm in mp_solutions.hands.HandLandmark)
    assert [lm.value for lm in mp_solutions.hands.HandLandmark] == list(range(21))
    assert _edge_set(rig) == _mp_edges(mp_solutions.hands_connections.HAND_CONNECTIONS)


def test_mediapipe_facemesh_matches_package(mp_solutions):
    fmc = mp_solutions.face_mesh_connections
    small, big = get_rig("mediapipe_facemesh468"), get_rig("mediapipe_facemesh478")
    assert _edge_set(small) == _mp_edges(fmc.FACEMESH_CONTOURS) | _mp_edges(fmc.FACEMESH_NOSE)
    assert _edge_set(big) == _edge_set(small) | _mp_edges(fmc.FACEMESH_IRISES)
    assert big.num_joints == mp_solutions.face_mesh.FACEMESH_NUM_LANDMARKS_WITH_IRISES


def test_facemesh_mirror_against_package(mp_solutions):
    """The mirror pairs swap mediapipe's left and right contours and keep almost every mesh edge."""
    fmc = mp_solutions.face_mesh_connections
    flip = get_rig("mediapipe_facemesh478").flip_permutation()

    def mirrored(edges):
        return {frozenset((int(flip[a]), int(flip[b]))) for a, b in edges}

    for left, right in [
        ("LEFT_EYE", "RIGHT_EYE"),
        ("LEFT_EYEBROW", "RIGHT_EYEBROW"),
        ("LEFT_IRIS", "RIGHT_IRIS"),
    ]:
        assert mirrored(getattr(fmc, "FACEMESH_" + left)) == _mp_edges(getattr(fmc, "FACEMESH_" + right))
    left_eye = {v for e in fmc.FACEMESH_LEFT_EYE for v in e}
    lefts = {left for left, _ in get_rig("mediapipe_facemesh468").symmetry}
    assert left_eye <= lefts
    tess = _mp_edges(fmc.FACEMESH_TESSELATION)
    kept = len(mirrored(fmc.FACEMESH_TESSELATION) & tess)
    assert kept >= len(tess) - 12
    assert np.array_equal(flip[flip], np.arange(478))
