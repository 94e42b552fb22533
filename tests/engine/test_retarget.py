"""The retarget engine: assignment solver, names, mapping proposal, presets and the motion transfer (no bpy)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from helpers import random_rotations

from lfm_engine.errors import InputError
from lfm_engine.retarget import (
    Mapping,
    MappingError,
    Pair,
    TargetSkeleton,
    apply_preset,
    assign_with_threshold,
    available_presets,
    linear_sum_assignment,
    load_preset,
    propose_mapping,
    retarget,
    retarget_errors,
)
from lfm_engine.retarget.names import mirror_name, point_of_bone, point_of_joint, split_side
from lfm_engine.retarget.transfer import matrix_to_quaternion, min_rotation


# ---------------------------------------------------------------------- assignment
@pytest.mark.parametrize("seed", range(40))
def test_assignment_matches_scipy(seed):
    scipy_opt = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 15, size=2)
    cost = rng.integers(0, 4, size=(n, m)).astype(float) if seed % 2 else rng.normal(size=(n, m)) * 10
    for maximize in (False, True):
        rows, cols = linear_sum_assignment(cost, maximize=maximize)
        ref_rows, ref_cols = scipy_opt.linear_sum_assignment(cost, maximize=maximize)
        assert len(rows) == min(n, m) and len(set(cols.tolist())) == len(cols)
        assert np.all(np.diff(rows) > 0)
        assert cost[rows, cols].sum() == pytest.approx(cost[ref_rows, ref_cols].sum(), abs=1e-9)


def test_assignment_refuses_bad_input():
    with pytest.raises(InputError, match="2-D"):
        linear_sum_assignment(np.zeros(3))
    with pytest.raises(InputError, match="NaN or infinite"):
        linear_sum_assignment(np.array([[0.0, np.inf]]))
    rows, cols = linear_sum_assignment(np.zeros((0, 4)))
    assert rows.size == cols.size == 0


def _brute_force(cost, max_cost):
    """The best score of any partial matching (pairs at most max_cost; each unmatched side costs max_cost / 2)."""
    n, m = cost.shape
    best = max_cost / 2 * (n + m)
    for k in range(1, min(n, m) + 1):
        for rows in itertools.combinations(range(n), k):
            for cols in itertools.permutations(range(m), k):
                c = cost[list(rows), list(cols)]
                if np.all(c <= max_cost):
                    best = min(best, c.sum() + max_cost / 2 * (n + m - 2 * k))
    return best


@pytest.mark.parametrize("seed", range(25))
def test_threshold_assignment_is_optimal_with_unmatched(seed):
    rng = np.random.default_rng(100 + seed)
    n, m = rng.integers(1, 5, size=2)
    cost = rng.uniform(0, 3, size=(n, m))
    cost[rng.random((n, m)) < 0.2] = np.inf  # forbidden pairs
    rows, cols = assign_with_threshold(cost, 1.5)
    assert np.all(cost[rows, cols] <= 1.5)
    score = cost[rows, cols].sum() + 0.75 * (n + m - 2 * len(rows))
    assert score == pytest.approx(_brute_force(cost, 1.5))


def test_threshold_leaves_everything_unmatched_when_too_dear():
    rows, cols = assign_with_threshold(np.full((3, 4), 5.0), 1.0)
    assert rows.size == 0 and cols.size == 0


# ---------------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("name", "joint", "bone"),
    [
        ("mixamorig:LeftUpLeg", ("hip", "L"), ("hip", "L")),
        ("mixamorig:RightForeArm", ("elbow", "R"), ("elbow", "R")),
        ("mixamorig:LeftArm", ("", "L"), ("shoulder", "L")),
        ("mixamorig:LeftShoulder", ("shoulder", "L"), ("clavicle", "L")),
        ("upper_arm.R", ("shoulder", "R"), ("shoulder", "R")),
        ("DEF-thigh.L", ("hip", "L"), ("hip", "L")),
        ("shin.L", ("knee", "L"), ("knee", "L")),
        ("front_thigh.L", ("hip", "L"), ("shoulder", "L")),
        ("r_toe.L", ("toe", "L"), ("toe", "L")),
        ("lShin", ("knee", "L"), ("knee", "L")),
        ("left_front_paw", ("toe", "L"), ("", "L")),
        ("right_back_paw", ("toe", "R"), ("", "R")),
        ("l_ankle", ("ankle", "L"), ("ankle", "L")),
        ("Head_End", ("head_top", ""), ("head", "")),
        ("ear.L.004", ("ear", "L"), ("ear", "L")),
        ("Bone.001", ("", ""), ("", "")),
    ],
)
def test_names(name, joint, bone):
    assert point_of_joint(name) == joint
    assert point_of_bone(name) == bone


@pytest.mark.parametrize(
    ("name", "joint"),
    [
        ("left_hand_thumb_tip", ("thumb", "L")),  # not a toe's tip
        ("right_hand_pinky_dip", ("pinky", "R")),  # not the hand
        ("left_hand_wrist", ("hand_root", "L")),  # a hand part's wrist: not the body's
        ("left_hand_root", ("hand_root", "L")),
        ("LHand_Index3", ("index", "L")),
        ("left_forefinger2", ("index", "L")),
        ("right_middle_finger1", ("middle", "R")),
        ("Ring4", ("ring", "")),
        ("left_index", ("hand_point", "L")),  # MediaPipe Pose's rough hand points
        ("left_foot_index", ("toe", "L")),
        ("face_12", ("face", "")),
        ("Face30", ("face", "")),
        ("right_iris_center", ("face", "R")),
        ("LPupil", ("face", "L")),
        ("MidHip", ("pelvis", "")),
        ("hip", ("pelvis", "")),
        ("right_foot", ("ankle", "R")),  # Human3.6M's foot is the ankle
        ("lhumerus", ("elbow", "L")),  # CMU: the bones' end points
        ("rtibia", ("ankle", "R")),
        ("ltoes", ("toe", "L")),
        ("spine_middle", ("spine", "")),
    ],
)
def test_joint_names_of_hands_faces_and_mocap(name, joint):
    assert point_of_joint(name) == joint


@pytest.mark.parametrize(
    ("name", "bone"),
    [
        ("f_index.02.L", ("index", "L")),
        ("thumb.01.R", ("thumb", "R")),
        ("palm.03.L", ("palm", "L")),
        ("mixamorig:LeftHandPinky2", ("pinky", "L")),
        ("ORG-f_ring.01.R", ("ring", "R")),
        ("lip.T.L", ("face", "L")),
        ("jaw", ("face", "")),
        ("hand.L", ("wrist", "L")),
        ("toe.L", ("toe", "L")),
    ],
)
def test_bone_names_of_hands_and_faces(name, bone):
    assert point_of_bone(name) == bone


def test_regions_keep_fingers_and_faces_off_the_body():
    from lfm_engine.retarget.names import region

    assert {region(p) for p in ("thumb", "index", "pinky", "palm", "hand_point")} == {"hand"}
    assert region("face") == "face"
    assert {region(p) for p in ("wrist", "toe", "hand_root", "", "nose")} == {"body"}


def test_sides_and_mirror():
    assert split_side("LeftHandIndex1")[0] == "L"
    assert split_side("spine.003") == ("", ("spine",))
    assert mirror_name("upper_arm.L") == "upper_arm.R"
    assert mirror_name("mixamorig:LeftArm") == "mixamorig:RightArm"
    assert mirror_name("l_knee") == "r_knee"
    assert mirror_name("spine") == "spine"


# ---------------------------------------------------------------------- a synthetic person and rig
#: joint, parent, A-pose position (Z up, metres, facing -Y)
PERSON = (
    ("pelvis", None, (0, 0, 1.0)), ("spine", "pelvis", (0, 0.02, 1.25)), ("neck", "spine", (0, 0, 1.5)),
    ("head", "neck", (0, 0, 1.62)), ("head_top", "head", (0, 0, 1.82)),
    ("left_shoulder", "spine", (0.18, 0, 1.45)), ("left_elbow", "left_shoulder", (0.26, 0.02, 1.18)),
    ("left_wrist", "left_elbow", (0.32, -0.02, 0.93)),
    ("left_hip", "pelvis", (0.1, 0, 0.95)), ("left_knee", "left_hip", (0.1, -0.02, 0.52)),
    ("left_ankle", "left_knee", (0.1, 0.02, 0.09)), ("left_toe", "left_ankle", (0.1, -0.12, 0.02)),
)  # fmt: skip
#: bone, joint at its head, tail joint (None: a short bone along the parent's direction)
BONES = (
    ("hips", "pelvis", "spine"), ("spine", "spine", "neck"), ("neck", "neck", "head"), ("head", "head", "head_top"),
    ("upper_arm.L", "left_shoulder", "left_elbow"), ("forearm.L", "left_elbow", "left_wrist"),
    ("hand.L", "left_wrist", None), ("thigh.L", "left_hip", "left_knee"), ("shin.L", "left_knee", "left_ankle"),
    ("foot.L", "left_ankle", "left_toe"), ("toe.L", "left_toe", None),
)  # fmt: skip
BONE_PARENT = {"spine": "hips", "neck": "spine", "head": "neck", "upper_arm.L": "spine", "forearm.L": "upper_arm.L",
               "hand.L": "forearm.L", "thigh.L": "hips", "shin.L": "thigh.L", "foot.L": "shin.L",
               "toe.L": "foot.L"}  # fmt: skip


def person(mirror: bool = True):
    """Joint names, parents and A-pose positions ``(J, 3)`` of the synthetic person (both sides)."""
    rows = list(PERSON)
    if mirror:
        rows += [(n.replace("left", "right"), p.replace("left", "right"), (-x, y, z))
                 for n, p, (x, y, z) in PERSON if n.startswith("left")]  # fmt: skip
    names = [r[0] for r in rows]
    parents = [names.index(p) if p else -1 for _, p, _ in rows]
    return names, parents, np.array([r[2] for r in rows], dtype=float)


def _mirror_bone(name: str) -> str:
    return name[:-2] + ".R" if name.endswith(".L") else name


def make_rig(positions: dict, rng=None, tpose: bool = False, name: str = "rig") -> TargetSkeleton:
    """A target armature on the person: bones from :data:`BONES` (both sides), random rolls when ``rng`` is given,
    arms raised to a T-pose (same lengths) when ``tpose``."""
    pos = {k: np.asarray(v, dtype=float) for k, v in positions.items()}
    if tpose:
        for side, sx in (("left", 1), ("right", -1)):
            sh = pos[f"{side}_shoulder"]
            up = np.linalg.norm(pos[f"{side}_elbow"] - sh)
            lo = np.linalg.norm(pos[f"{side}_wrist"] - pos[f"{side}_elbow"])
            pos[f"{side}_elbow"] = sh + np.array([sx * up, 0, 0])
            pos[f"{side}_wrist"] = pos[f"{side}_elbow"] + np.array([sx * lo, 0, 0])
    rows = list(BONES) + [(_mirror_bone(b), h.replace("left", "right"), t and t.replace("left", "right"))
                          for b, h, t in BONES if b.endswith(".L")]  # fmt: skip
    parent_of = dict(BONE_PARENT) | {_mirror_bone(k): _mirror_bone(v) for k, v in BONE_PARENT.items()}
    names = [b for b, _, _ in rows]
    mats, lengths = [], []
    for b, h, t in rows:
        head = pos[h]
        if t is None:
            up = pos[next(r for r in rows if r[0] == parent_of[b])[1]]
            tail = head + 0.08 * (head - up) / np.linalg.norm(head - up)
        else:
            tail = pos[t]
        y = (tail - head) / np.linalg.norm(tail - head)
        helper = np.array([0, 0, 1.0]) if abs(y[2]) < 0.9 else np.array([1.0, 0, 0])
        x = np.cross(y, helper)
        x /= np.linalg.norm(x)
        z = np.cross(x, y)
        if rng is not None:  # roll
            a = rng.uniform(-np.pi, np.pi)
            x, z = np.cos(a) * x + np.sin(a) * z, -np.sin(a) * x + np.cos(a) * z
        m = np.eye(4)
        m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, head
        mats.append(m)
        lengths.append(np.linalg.norm(tail - head))
    parents = np.array([names.index(parent_of[b]) if b in parent_of else -1 for b in names])
    return TargetSkeleton(tuple(names), parents, np.array(mats), np.array(lengths), name=name)


def motion(frames: int = 30, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """``(names, (T, J, 3))``: the person moved by random smooth joint rotations and a root walk (lengths kept)."""
    rng = np.random.default_rng(seed)
    names, parents, rest = person()
    J = len(names)
    axes = rng.normal(size=(J, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    t = np.linspace(0, 1, frames)
    out = np.empty((frames, J, 3))
    for f in range(frames):
        glob = [None] * J
        for j in range(J):
            a = 0.6 * np.sin(2 * np.pi * (t[f] + j / J))
            k = np.array([[0, -axes[j, 2], axes[j, 1]], [axes[j, 2], 0, -axes[j, 0]], [-axes[j, 1], axes[j, 0], 0]])
            local = np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k
            p = parents[j]
            if p < 0:
                glob[j] = local
                out[f, j] = rest[j] + [0.3 * t[f], -0.5 * t[f], 0.05 * np.sin(6 * t[f])]
            else:
                glob[j] = glob[p] @ local
                out[f, j] = out[f, p] + glob[p] @ (rest[j] - rest[p])
    return names, out


def identity_mapping(names) -> Mapping:
    heads = {h.replace("left", "L").replace("right", "R"): b for b, h, _ in BONES}
    pairs = []
    for n in names:
        key = n.replace("left", "L").replace("right", "R")
        bone = heads.get(key) or heads.get(key.replace("R_", "L_"))
        if n == "head_top":
            pairs.append(Pair(n, "head", "tail"))
        elif bone is not None:
            pairs.append(Pair(n, _mirror_bone(bone) if key.startswith("R_") else bone))
    return Mapping(tuple(pairs))


def test_proposal_finds_the_bones_by_name_and_place_despite_a_t_pose():
    names, _, rest = person()
    rig = make_rig(dict(zip(names, rest, strict=True)), tpose=True)
    _, pts = motion()
    mapping = propose_mapping(names, pts, rig)
    got = {p.joint: (p.bone, p.end) for p in mapping.pairs}
    expected = {p.joint: (p.bone, p.end) for p in identity_mapping(names).pairs}
    assert got == expected


def test_unrecognisable_target_is_refused_with_its_name():
    names, _, _ = person()
    _, pts = motion()
    heads = np.array([[k * 0.3, 2.0, 0.05] for k in range(5)])  # a flat chain lying on the floor
    mats = np.tile(np.eye(4), (5, 1, 1))
    mats[:, :3, 3] = heads
    mats[:, :3, :3] = [[[0, 1, 0], [1, 0, 0], [0, 0, -1]]]  # bones along +X
    chain = TargetSkeleton(tuple(f"Bone.{k:03d}" for k in range(5)), np.arange(-1, 4), mats, np.full(5, 0.3),
                           name="Snake")  # fmt: skip
    with pytest.raises(MappingError, match=r"Snake.*no bones recognisable"):
        propose_mapping(names, pts, chain)


# ---------------------------------------------------------------------- transfer
def test_retarget_reproduces_motion_on_a_rig_with_another_rest_pose_and_rolls():
    names, _, rest = person()
    rig = make_rig(dict(zip(names, rest, strict=True)), rng=np.random.default_rng(3), tpose=True)
    _, pts = motion(seed=1)
    mapping = identity_mapping(names)
    result = retarget(pts, names, rig, mapping, ik=())
    assert result.scale == pytest.approx(1.0)
    err = retarget_errors(result)
    assert err["position"].max() < 1e-6  # same proportions: every mapped bone end lands on its joint
    assert err["direction"].max() < 1e-3
    q = result.quaternions
    assert np.allclose(np.linalg.norm(q, axis=-1), 1.0)
    assert np.all((q[1:] * q[:-1]).sum(-1) >= 0)  # continuous signs for interpolation


def test_root_motion_scales_with_leg_length_and_ik_reaches_hands_and_feet():
    names, _, rest = person()
    pos = dict(zip(names, rest, strict=True))
    big = {k: v * 1.3 for k, v in pos.items()}  # a taller character: root motion scaled by 1.3
    for side in ("left", "right"):  # ... with longer arms
        big[f"{side}_wrist"] = big[f"{side}_elbow"] + 1.25 * (big[f"{side}_wrist"] - big[f"{side}_elbow"])
    rig = make_rig(big, rng=np.random.default_rng(4))
    _, pts = motion(seed=2)
    mapping = identity_mapping(names)
    plain = retarget(pts, names, rig, mapping, ik=())
    assert plain.scale == pytest.approx(1.3)
    k = [i for i, p in enumerate(mapping.pairs) if p.joint.endswith("wrist")]
    assert retarget_errors(plain)["position"][:, k].max() > 0.01  # longer forearms overshoot without IK
    solved = retarget(pts, names, rig, mapping, ik=("wrist", "ankle"))
    assert len(solved.ik_chains) == 4
    assert retarget_errors(solved)["position"][:, k].max() < 1e-6
    with pytest.raises(InputError, match="unknown IK effector"):
        retarget(pts, names, rig, mapping, ik=("elbow",))


@pytest.mark.parametrize("limit", [3.0, 10.0])
def test_limited_ik_keeps_limb_directions_within_the_limit_and_goes_toward_the_goal(limit):
    names, _, rest = person()
    pos = dict(zip(names, rest, strict=True))
    for side in ("left", "right"):  # longer forearms and shins than the lifted person's
        for top, end in (("elbow", "wrist"), ("knee", "ankle")):
            pos[f"{side}_{end}"] = pos[f"{side}_{top}"] + 1.3 * (pos[f"{side}_{end}"] - pos[f"{side}_{top}"])
    rig = make_rig(pos, rng=np.random.default_rng(5))
    _, pts = motion(seed=4)
    mapping = identity_mapping(names)
    plain = retarget_errors(retarget(pts, names, rig, mapping, ik=()))
    full = retarget_errors(retarget(pts, names, rig, mapping))
    limited_result = retarget(pts, names, rig, mapping, ik_max_angle=limit)
    limited = retarget_errors(limited_result)
    ends = [i for i, p in enumerate(mapping.pairs) if p.joint.endswith(("wrist", "ankle"))]
    # the segments the IK turns: shoulder-elbow, elbow-wrist, hip-knee, knee-ankle
    ik_bones = {b for chain in limited_result.ik_chains for b in chain[:2]}
    ik_heads = {k for k, b in enumerate(limited_result.bones) if b in ik_bones}
    segs = [s for s, (a, k) in enumerate(limited["segments"]) if a in ik_heads]
    assert len(segs) == 8
    assert full["direction"][:, segs].max() > limit  # the full solution turns them further
    assert limited["direction"][:, segs].max() < limit + 1e-6
    assert plain["direction"][:, segs].max() < 1e-3
    worst_plain = plain["position"][:, ends].max(0)
    worst_limited = limited["position"][:, ends].max(0)
    assert np.all(worst_limited < worst_plain)  # closer than without IK, not as close as full IK
    assert np.all(worst_limited >= full["position"][:, ends].max(0) - 1e-9)


def test_retarget_refuses_bad_points_and_mappings():
    names, _, rest = person()
    rig = make_rig(dict(zip(names, rest, strict=True)))
    _, pts = motion()
    mapping = identity_mapping(names)
    bad = pts.copy()
    bad[4, 2] = np.nan
    with pytest.raises(InputError, match=r"frame 4, joint 'neck'"):
        retarget(bad, names, rig, mapping)
    with pytest.raises(MappingError, match="no joint 'elbow_x'"):
        retarget(pts, names, rig, Mapping((Pair("elbow_x", "hips"),)))
    with pytest.raises(MappingError, match="has no bone 'arm'"):
        retarget(pts, names, rig, Mapping((Pair("pelvis", "arm"),)))
    with pytest.raises(MappingError, match="mapped twice"):
        retarget(pts, names, rig, Mapping((Pair("pelvis", "hips"), Pair("spine", "hips"))))
    with pytest.raises(MappingError, match="empty"):
        retarget(pts, names, rig, Mapping(()))


def test_rotation_helpers():
    rng = np.random.default_rng(0)
    r = random_rotations(rng, 50)
    from lfm_engine.armature import quaternion_to_matrix

    assert np.allclose(quaternion_to_matrix(matrix_to_quaternion(r)), r, atol=1e-9)
    a, b = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    b[0] = -a[0]  # opposite
    m = min_rotation(a, b)
    turned = np.einsum("tij,tj->ti", m, a)
    assert np.allclose(turned / np.linalg.norm(turned, axis=1, keepdims=True),
                       b / np.linalg.norm(b, axis=1, keepdims=True), atol=1e-9)  # fmt: skip
    assert np.allclose(np.linalg.det(m), 1.0)


# ---------------------------------------------------------------------- presets
def test_shipped_presets_load_and_apply_by_canonical_names(tmp_path):
    assert {"rigify_human", "rigify_basic_human", "mixamo"} <= set(available_presets())
    preset = load_preset("rigify_basic_human")
    assert preset.metarig == "basic_human"
    names, _, rest = person()
    rig = make_rig(dict(zip(names, rest, strict=True)))
    renamed = Mapping(tuple(Pair(p.joint, {"upper_arm.L": "upper_arm.L", "thigh.R": "thigh.R"}.get(p.bone, "zz"))
                            for p in preset.pairs))  # fmt: skip
    got = apply_preset(renamed, ["LeftShoulder", "RightHip", "Nose"], rig)
    assert {(p.joint, p.bone) for p in got.pairs} == {("LeftShoulder", "upper_arm.L"), ("RightHip", "thigh.R")}
    path = got.save(tmp_path / "mine.json")
    assert Mapping.load(path).pairs == got.pairs


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such mapping preset"),
        ("{not json", "cannot read the mapping preset"),
        (json.dumps({"pairs": []}), "not a retarget mapping"),
        (json.dumps({"format": "lift_to_3d.retarget_mapping", "pairs": [{"joint": "a"}]}), "pair 0 needs"),
        (json.dumps({"format": "lift_to_3d.retarget_mapping", "pairs": [{"joint": "a", "bone": "b", "end": "x"}]}),
         "end must be"),
    ],
)  # fmt: skip
def test_bad_preset_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "preset.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(MappingError, match=message) as info:
        load_preset(path)
    assert "preset.json" in str(info.value)
    with pytest.raises(MappingError, match="unknown mapping preset 'nope'"):
        load_preset("nope")


def test_untangle_uncrosses_a_chain_and_leaves_a_consistent_mapping_alone():
    """A near-tie can map Chest -> Spine2 and Chest2 -> Spine1 (crossing the chains); untangle swaps them back."""
    from lfm_engine.retarget.mapping import untangle

    mats = np.tile(np.eye(4), (4, 1, 1))
    mats[:, :3, 3] = [[0, 0, 1.0 + 0.1 * k] for k in range(4)]
    spine = TargetSkeleton(("Hips", "Spine", "Spine1", "Spine2"), np.arange(-1, 3), mats, np.full(4, 0.1))
    ends = [(b, "head") for b in range(4)]
    joint_parents = [-1, 0, 1, 2]  # Root, Back, Chest, Chest2
    rows = np.arange(4)
    crossed = np.array([0, 1, 3, 2])
    np.testing.assert_array_equal(untangle(rows, crossed, joint_parents, ends, spine), [0, 1, 2, 3])
    np.testing.assert_array_equal(untangle(rows, np.arange(4), joint_parents, ends, spine), [0, 1, 2, 3])
    reversed_ = np.array([3, 2, 1, 0])
    np.testing.assert_array_equal(untangle(rows, reversed_, joint_parents, ends, spine), [0, 1, 2, 3])
    # joints on different branches are never swapped
    np.testing.assert_array_equal(untangle(rows, crossed, [-1, 0, 0, 0], ends, spine), crossed)
    # a bone's head is above its tail: a fingertip mapped to the last bone's head and its parent joint to the tail
    tipped = [*ends, (3, "tail")]
    np.testing.assert_array_equal(untangle(rows, np.array([0, 1, 4, 3]), joint_parents, tipped, spine), [0, 1, 3, 4])


def test_propose_mapping_refuses_parents_of_another_length():
    names, _, rest = person()
    rig = make_rig(dict(zip(names, rest, strict=True)))
    _, pts = motion()
    with pytest.raises(InputError, match=rf"joint_parents has 2 entries for {len(names)} joints"):
        propose_mapping(names, pts, rig, joint_parents=[-1, 0])
