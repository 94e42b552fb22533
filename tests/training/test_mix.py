"""Proportion jitter (forward kinematics) and the two phases' training mixes."""

from __future__ import annotations

import numpy as np
import pytest

from lfm_engine import Rig
from training.data.mix import is_mocap, layout_of, mocap_entries, phase_entries
from training.data.proportions import jitter_proportions, segments, topological_order
from training.data.sources import PoseSet

# a small human tree: pelvis, spine chain, head, two arms off the chest, two legs off the pelvis
NAMES = ["pelvis", "spine", "chest", "neck", "head", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow",
         "r_wrist", "l_hip", "l_knee", "l_ankle", "r_hip", "r_knee", "r_ankle"]  # fmt: skip
PARENTS = [-1, 0, 1, 2, 3, 2, 5, 6, 2, 8, 9, 0, 11, 12, 0, 14, 15]
SYMMETRY = [(5, 8), (6, 9), (7, 10), (11, 14), (12, 15), (13, 16)]


def _rig() -> Rig:
    return Rig.from_parents(NAMES, PARENTS, name="toy_human", symmetry=SYMMETRY, category="human")


def _poses(n: int = 40) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 0.3, (n, len(NAMES), 3))


def test_topological_order_puts_parents_first():
    order = topological_order(np.array(PARENTS))
    where = {j: k for k, j in enumerate(order)}
    assert all(where[p] < where[j] for j, p in enumerate(PARENTS) if p >= 0)


def test_segments_are_unbranched_chains():
    seg = segments(np.array(PARENTS))
    assert seg[6] == seg[7] == seg[5]  # the left arm from the shoulder to the wrist
    assert seg[12] == seg[13] == seg[11]  # the left leg
    assert seg[3] == seg[4] != seg[5]  # neck and head; the chest branches
    assert seg[1] != seg[11]  # the pelvis branches


def test_jitter_keeps_bone_directions_and_scales_lengths_within_the_clip():
    rig, pos = _rig(), _poses()
    out = jitter_proportions(pos, rig, np.random.default_rng(1), clip=0.25)
    parents = np.array(PARENTS)
    child = np.flatnonzero(parents >= 0)
    before = pos[:, child] - pos[:, parents[child]]
    after = out[:, child] - out[:, parents[child]]
    ratio = np.linalg.norm(after, axis=-1) / np.linalg.norm(before, axis=-1)  # (N, bones)
    cos = (before * after).sum(-1) / np.linalg.norm(before, axis=-1) / np.linalg.norm(after, axis=-1)
    assert np.allclose(cos, 1.0, atol=1e-9)  # directions kept: the joint angles and the motion are the same
    assert ratio.min() >= np.exp(-0.25) - 1e-9 and ratio.max() <= np.exp(0.25) + 1e-9
    assert ratio.std() > 0.05  # it does change proportions
    assert np.allclose(out[:, 0], pos[:, 0])  # the root stays
    # the same bone differs between samples (per-sample builds), and left/right partners nearly agree
    assert ratio[:, 0].std() > 0.02
    k = {j: i for i, j in enumerate(child)}
    left_right = np.abs(np.log(ratio[:, k[6]] / ratio[:, k[9]]))
    assert np.median(left_right) < 0.05


def test_jitter_without_sigmas_is_the_identity_and_graph_rigs_are_untouched():
    rig, pos = _rig(), _poses(5)
    same = jitter_proportions(pos, rig, np.random.default_rng(2), segment_sigma=0, bone_sigma=0, asymmetry=0)
    assert np.allclose(same, pos)
    graph = Rig.from_edges(["a", "b", "c"], [(0, 1), (1, 2), (2, 0)], name="loop")
    x = pos[:, :3]
    assert graph.parents is None and jitter_proportions(x, graph, np.random.default_rng(3)) is x


def _sets() -> list[PoseSet]:
    rig = _rig()
    big, small = _poses(400), _poses(25)
    out = [PoseSet("mocap_big", "human", big, rig), PoseSet("mocap_small", "human", small, rig),
           PoseSet("mocap_big:coco17", "human", big, rig), PoseSet("mocap_small:coco17", "human", small, rig),
           PoseSet("rigify_basic_human", "human", big, rig), PoseSet("rigify_horse", "quadruped", big, rig),
           PoseSet("rigify_cat", "quadruped", small, rig), PoseSet("hands", "hand", big, rig)]  # fmt: skip
    return out


def test_layouts_are_recognised():
    sets = _sets()
    assert [layout_of(s) for s in sets[:4]] == [None, None, "coco17", "coco17"]
    assert [is_mocap(s) for s in sets] == [True] * 4 + [False] * 4


def test_phase1_is_mocap_weighted_by_the_square_root_of_frames():
    entries = dict((s.name, w) for s, w in phase_entries(_sets(), 1))
    assert set(entries) == {"mocap_big", "mocap_small", "mocap_big:coco17", "mocap_small:coco17"}
    assert sum(entries.values()) == pytest.approx(1.0)
    big = entries["mocap_big"] + entries["mocap_big:coco17"]
    small = entries["mocap_small"] + entries["mocap_small:coco17"]
    assert big / small == pytest.approx(np.sqrt(400 / 25))
    assert entries["mocap_big"] / big == pytest.approx(0.75)  # layouts a minority


def test_phase2_keeps_people_at_least_half_and_weights_sets_by_size():
    entries = dict((s.name, w) for s, w in phase_entries(_sets(), 2))
    assert sum(entries.values()) == pytest.approx(1.0)
    people = sum(w for n, w in entries.items() if n.startswith(("mocap", "rigify_basic_human")))
    assert people >= 0.5
    assert entries["rigify_horse"] / entries["rigify_cat"] == pytest.approx(400 / 25)
    assert all(w > 0 for w in entries.values())


def test_no_mocap_is_an_error():
    with pytest.raises(ValueError, match="no mocap"):
        mocap_entries(_sets()[4:], 0.75)
