"""Synthetic training data: Rigify metarigs posed at random (bpy) and procedural MediaPipe hands (numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from lfm_engine.layouts import HAND21_EDGES, get_rig
from lfm_engine.rig import Rig, detect_symmetry
from training.data import synthetic_hands as sh

MOCAP_KEYS = {
    "positions",
    "parents",
    "joint_names",
    "fps",
    "clip_starts",
    "clip_names",
    "subjects",
    "source",
    "license",
}


def bone_lengths(positions: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """(T, J-1) distances of each non-root joint to its parent."""
    child = np.flatnonzero(parents >= 0)
    return np.linalg.norm(positions[:, child] - positions[:, parents[child]], axis=-1)


# ---------------------------------------------------------------------------------------------------------------
# Rigify (bpy)
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sr():
    pytest.importorskip("bpy")
    from training.data import synthetic_rigify

    return synthetic_rigify


@pytest.mark.parametrize("metarig", ["basic_human", "wolf"])
def test_rigify_poses_are_valid_mocap_like_data(sr, metarig):
    data = sr.generate(metarig, 50, seed=0)
    assert set(data) >= MOCAP_KEYS
    pos, parents, names = data["positions"], data["parents"], [str(n) for n in data["joint_names"]]
    n_joints = len(names)
    assert pos.dtype == np.float32 and pos.shape == (50, n_joints, 3) and np.isfinite(pos).all()
    assert parents.shape == (n_joints,) and float(data["fps"]) == 0.0 and list(data["clip_starts"]) == [0]
    assert str(data["category"]) == sr.CATEGORIES[metarig]

    # A tree, parents before children, unique names (Rig validates both).
    assert parents[0] == -1 and np.sum(parents < 0) == 1
    assert all(0 <= parents[j] < j for j in range(1, n_joints))
    rig = Rig.from_parents(names, parents.tolist(), name=metarig)

    # Rotations only: every bone keeps its length; poses differ from each other and from the rest pose.
    lengths = bone_lengths(pos, parents)
    assert np.abs(lengths - lengths[0]).max() < 1e-5
    assert lengths.min() > 1e-3
    rest = data["rest_positions"]
    np.testing.assert_allclose(lengths[0], bone_lengths(rest[None], parents)[0], atol=1e-5)
    assert np.abs(pos - rest).max(axis=(1, 2)).min() > 0.01
    np.testing.assert_allclose(pos[:, 0], np.broadcast_to(rest[0], (50, 3)), atol=1e-6)  # root at rest

    # Left/right: every .L joint has its .R mirror, in the rest pose too (x -> -x in the Y-up frame).
    pairs = detect_symmetry(names)
    assert len(pairs) == sum(n.endswith(".L") for n in names) == sum(n.endswith(".R") for n in names) > 10
    assert rig.symmetry == pairs
    left, right = np.array(pairs).T
    np.testing.assert_allclose(rest[left] * [-1, 1, 1], rest[right], atol=1e-3)


def test_rigify_frame_is_y_up_metres_and_faces_plus_z(sr):
    data = sr.generate("basic_human", 5, seed=1)
    names = [str(n) for n in data["joint_names"]]
    rest = data["rest_positions"]
    head, toe, hand_l = rest[names.index("spine.006.end")], rest[names.index("toe.L")], rest[names.index("hand.L")]
    assert 1.6 < head[1] - toe[1] < 2.0  # a person standing along +Y, in metres
    assert hand_l[0] > 0.3  # the subject's left is at +X
    assert rest[names.index("toe.end.L"), 2] > rest[names.index("foot.L"), 2]  # toes point to +Z


def test_rigify_is_deterministic_per_seed(sr):
    a, b, c = (sr.generate("shark", 20, seed=s)["positions"] for s in (3, 3, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_numpy_forward_kinematics_matches_blender(sr):
    rng = np.random.default_rng(0)
    for metarig in ("basic_human", "wolf"):
        arm = sr.load_metarig(metarig)
        euler = sr.sample_euler(sr.pose_space(arm), 3, rng) + rng.normal(0.0, 0.3, (3, len(arm.bone_names), 3))
        heads, tails = sr.forward_kinematics(arm, euler)
        ref_heads, ref_tails = sr.blender_pose(metarig, euler, arm.bone_names)
        np.testing.assert_allclose(heads, ref_heads, atol=1e-5)
        np.testing.assert_allclose(tails, ref_tails, atol=1e-5)


def test_every_bone_of_every_metarig_has_a_range(sr):
    for metarig in sr.METARIGS:
        arm = sr.load_metarig(metarig)
        space = sr.pose_space(arm)
        assert space.unmatched == (), metarig
        assert np.all(space.lo <= 0) and np.all(space.hi >= 0)


def test_human_variants_with_and_without_face(sr):
    full = sr.generate("human", 4, seed=0)
    body = sr.generate("human_noface", 4, seed=0)
    assert sr.generate("human", 4, seed=0, face=False)["positions"].shape == body["positions"].shape
    full_names, body_names = set(full["joint_names"].tolist()), set(body["joint_names"].tolist())
    assert body_names < full_names
    assert len(full_names) - len(body_names) > 80  # the face
    assert {"f_index.03.end.L", "thumb.03.end.R", "spine.006.end"} <= body_names
    assert not any(n.startswith(("lid.", "brow.", "lip.", "nose", "ear.")) for n in body_names)
    assert str(body["clip_names"][0]) == "human_noface"


def test_joint_names_move_the_side_to_the_end(sr):
    assert sr.joint_name("ear.L.003") == "ear.003.L"
    assert sr.joint_name("side_fin.R.001") == "side_fin.001.R"
    assert sr.joint_name("hand.L", tail=True) == "hand.end.L"
    assert sr.joint_name("spine.006", tail=True) == "spine.006.end"
    assert detect_symmetry(["ear.003.L", "ear.003.R"]) == ((0, 1),)


def test_rigify_cli_writes_npz(sr, tmp_path):
    assert sr.main(["--out", str(tmp_path), "--poses", "3", "--rigs", "shark"]) == 0
    with np.load(tmp_path / "rigify_shark.npz") as data:
        assert data["positions"].shape[0] == 3 and str(data["category"]) == "fish"


# ---------------------------------------------------------------------------------------------------------------
# Hands (numpy)
# ---------------------------------------------------------------------------------------------------------------


def test_hands_layout_is_mediapipe_hand21():
    data = sh.generate(40, seed=0)
    assert set(data) >= MOCAP_KEYS
    assert tuple(data["joint_names"].tolist()) == get_rig("mediapipe_hand21").joint_names
    parents = data["parents"]
    assert parents[0] == -1 and {(int(parents[c]), c) for c in range(1, 21)} == set(HAND21_EDGES)
    pos = data["positions"]
    assert pos.dtype == np.float32 and pos.shape == (40, 21, 3) and np.isfinite(pos).all()
    assert str(data["category"]) == "hand" and list(data["clip_starts"]) == [0, 20]
    np.testing.assert_array_equal(data["is_left"], np.arange(40) >= 20)
    # Thumb on the +X side of right hands, -X of left hands; fingers along +Y; an adult hand's size.
    assert np.all(pos[:20, 1, 0] > 0) and np.all(pos[20:, 1, 0] < 0)
    assert np.all(pos[:, 9, 1] > 0.06)
    wrist_to_middle_tip = bone_lengths(pos, parents)[:, 8:12].sum(1)
    assert np.all((wrist_to_middle_tip > 0.15) & (wrist_to_middle_tip < 0.21))


def test_hand_proportions_vary_within_15_percent():
    pos = sh.generate(400, seed=1)["positions"]
    lengths = bone_lengths(pos, sh.PARENTS)
    ratio = lengths / np.median(lengths, axis=0)
    assert ratio.min() > 0.8 and ratio.max() < 1.25
    assert np.all(lengths.std(0) / lengths.mean(0) > 0.03)


def test_left_hands_are_mirror_images():
    params = sh.sample_params(30, np.random.default_rng(2))
    right, left = sh.pose_hands(params, left=False), sh.pose_hands(params, left=True)
    np.testing.assert_allclose(left, right * [-1.0, 1.0, 1.0])


def test_finger_angles_stay_within_their_ranges():
    data = sh.generate(2000, seed=3)
    pos = data["positions"].astype(np.float64)
    pos[data["is_left"], :, 0] *= -1.0  # as right hands: palm normal +Z, fingers +Y
    normal = np.array([0.0, 0.0, 1.0])
    eps = 0.5
    for f, base in enumerate((5, 9, 13, 17)):
        d = np.diff(pos[:, [base, base + 1, base + 2, base + 3]], axis=1)
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        in_plane = np.linalg.norm(d[:, 0] - (d[:, 0] @ normal)[:, None] * normal, axis=-1)
        mcp = np.degrees(np.arctan2(d[:, 0] @ normal, in_plane))  # flexion towards the palm, 0 when straight
        assert mcp.min() > -eps and mcp.max() < 90 + eps
        # The finger's hinge axis is within 15 degrees (its spread) of the one of its rest direction.
        hinge = np.cross([np.sin(sh._FINGER_ANGLE[f]), np.cos(sh._FINGER_ANGLE[f]), 0.0], normal)
        for k, (lo, hi) in enumerate(((0, 110), (0, 80)), start=1):  # PIP, DIP: signed, never backwards
            sin = np.cross(d[:, k - 1], d[:, k]) @ hinge
            signed = np.degrees(np.arctan2(sin, np.sum(d[:, k - 1] * d[:, k], -1)))
            assert signed.min() > lo - eps and signed.max() < hi + eps, (f, k, signed.min(), signed.max())
        open_ = mcp < 80  # spread, measured in the palm plane where the finger is not folded down onto it
        spread = np.degrees(np.arctan2(d[open_, 0, 0], d[open_, 0, 1])) - np.degrees(sh._FINGER_ANGLE[f])
        assert np.abs(spread).max() < 15 + eps
        assert mcp.max() > 80 and np.abs(spread).max() > 10  # the ranges are used, not only their middle

    # Thumb: MCP and IP bend within range and both the same way (it curls, it never zigzags).
    d = np.diff(pos[:, [1, 2, 3, 4]], axis=1)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    mcp = np.degrees(np.arccos(np.clip(np.sum(d[:, 0] * d[:, 1], -1), -1, 1)))
    ip = np.degrees(np.arccos(np.clip(np.sum(d[:, 1] * d[:, 2], -1), -1, 1)))
    assert mcp.max() < 60 + eps and ip.max() < 80 + eps
    both = (mcp > 5) & (ip > 5)
    assert np.all(np.sum(np.cross(d[both, 0], d[both, 1]) * np.cross(d[both, 1], d[both, 2]), -1) > 0)


def test_hands_cli_writes_npz(tmp_path):
    assert sh.main(["--out", str(tmp_path), "--poses", "6", "--seed", "1"]) == 0
    with np.load(tmp_path / "hands_mediapipe21.npz") as data:
        assert data["positions"].shape == (6, 21, 3) and str(data["category"]) == "hand"
