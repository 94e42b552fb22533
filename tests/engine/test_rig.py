"""Rig: construction, validation with clear messages, derived structure."""

import numpy as np
import pytest

from lfm_engine.rig import Rig, RigError, detect_symmetry, knn_edges

NAMES = ["pelvis", "spine", "head", "left_hip", "left_knee", "right_hip", "right_knee"]
PARENTS = [-1, 0, 1, 0, 3, 0, 5]


def test_from_parents():
    rig = Rig.from_parents(NAMES, PARENTS, name="legs", category="human")
    assert rig.num_joints == 7 and len(rig.edges) == 6
    assert rig.parents == tuple(PARENTS)
    assert rig.edges == ((0, 1), (1, 2), (0, 3), (3, 4), (0, 5), (5, 6))
    assert rig.symmetry == ((3, 5), (4, 6))
    assert rig.index("left_knee") == 4
    np.testing.assert_array_equal(rig.flip_permutation(), [0, 1, 2, 5, 6, 3, 4])


def test_from_edges_derives_parents_for_a_tree_rooted_at_the_pelvis():
    edges = [(1, 0), (2, 1), (4, 3), (0, 3), (5, 0), (6, 5)]  # any orientation and order
    rig = Rig.from_edges(NAMES, edges)
    assert rig.parents == tuple(PARENTS)
    assert all(rig.parents[c] == p for p, c in rig.edges)


def test_graph_with_cycle_has_no_parents_but_a_spanning_tree():
    rig = Rig.from_edges(["a", "b", "c", "d"], [(0, 1), (1, 2), (2, 0), (2, 3)])
    assert rig.parents is None
    parents = rig.tree_parents()
    assert sum(p == -1 for p in parents) == 1
    tree_edges = {(min(p, j), max(p, j)) for j, p in enumerate(parents) if p >= 0}
    assert tree_edges <= {(0, 1), (1, 2), (0, 2), (2, 3)} and len(tree_edges) == 3


def test_forest_gets_one_root_per_component():
    rig = Rig.from_edges(["a", "b", "c", "d"], [(0, 1), (2, 3)])
    assert rig.parents is not None and sum(p == -1 for p in rig.parents) == 2


def test_adjacency_is_symmetric_with_self_loops():
    adj = Rig.from_parents(NAMES, PARENTS).adjacency()
    assert adj.shape == (7, 7) and (adj == adj.T).all() and adj.diagonal().all()
    assert adj[3, 4] and adj[4, 3] and not adj[2, 4]


@pytest.mark.parametrize(
    "names,edges,message",
    [
        ([], [], "has no joints"),
        (["a"], [], "only one joint.*'a'"),
        (["a", "b", "a"], [], "duplicate joint name 'a' at indices 0 and 2"),
        (["a", ""], [], "joint 1 has an empty"),
        (["a", "b"], [(0, 2)], r"edge 0 \(0, 2\) refers to joint 2, but the rig has 2 joints"),
        (["a", "b"], [(-1, 0)], "refers to joint -1"),
        (["a", "b"], [(1, 1)], "self loop on joint 'b'"),
        (["a", "b", "c"], [(0, 1), (1, 2), (1, 0)], r"edge 2 \(1, 0\) duplicates edge 0"),
        (["a", "b"], [(0, 1, 2)], r"shape \(E, 2\)"),
        (["a", "b"], [(0.5, 1)], "not a pair of integer"),
        (["a", "b"], "xy", "pairs of joint indices"),
    ],
)
def test_bad_rigs_from_edges(names, edges, message):
    with pytest.raises(RigError, match=message):
        Rig.from_edges(names, edges)


@pytest.mark.parametrize(
    "parents,message",
    [
        ([-1, 0], None),
        ([-1], "only one joint"),
        ([1, 0], "no root"),
        ([-1, 2, 1], "cycle: 'b' -> 'c' -> 'b'"),
        ([-1, 1, 0], "'b' is its own parent"),
        ([-1, 5, 0], "has parent 5"),
        ([-1, 0], None),
        ([-1, 0, 0, 0], "4 parents given for 3 joints"),
    ],
)
def test_bad_parents(parents, message):
    names = ["a", "b", "c"][: max(len(parents), 1)] if len(parents) <= 3 else ["a", "b", "c"]
    if message is None:
        Rig.from_parents(names[: len(parents)], parents)
        return
    with pytest.raises(RigError, match=message):
        Rig.from_parents(names, parents)


def test_bad_symmetry():
    with pytest.raises(RigError, match="with itself"):
        Rig.from_edges(["a", "b"], [(0, 1)], symmetry=[(1, 1)])
    with pytest.raises(RigError, match="in left/right pairs 0 and 1"):
        Rig.from_edges(["a", "b", "c"], [(0, 1)], symmetry=[(0, 1), (1, 2)])


def test_unknown_joint_names_the_joint_and_suggests():
    rig = Rig.from_parents(NAMES, PARENTS, name="legs")
    with pytest.raises(RigError, match="unknown joint 'knee' in rig 'legs'; similar: left_knee, right_knee"):
        rig.index("knee")
    with pytest.raises(RigError, match="has no joint 9"):
        rig.index(9)


@pytest.mark.parametrize(
    "names,pairs",
    [
        (["left_hand", "right_hand", "head"], [(0, 1)]),
        (["RightArm", "LeftArm"], [(1, 0)]),
        (["hand.L", "hand.R", "foot_l", "foot_r"], [(0, 1), (2, 3)]),
        (["LShoulder", "RShoulder", "Neck"], [(0, 1)]),
        (["lhumerus", "rhumerus", "lowerback", "root"], [(0, 1)]),
        (["L_eye", "R_eye", "nose"], [(0, 1)]),
        (["lip", "rip"], [(0, 1)]),  # the price of accepting lhumerus/rhumerus; override with symmetry=
        (["hip", "spine"], []),
    ],
)
def test_detect_symmetry(names, pairs):
    assert detect_symmetry(names) == tuple(pairs)


def test_subset_keeps_edges_between_kept_joints():
    rig = Rig.from_parents(NAMES, PARENTS, name="legs")
    sub = rig.subset(["pelvis", "left_hip", "left_knee", "right_knee"])
    assert sub.joint_names == ("pelvis", "left_hip", "left_knee", "right_knee")
    assert {tuple(sorted(e)) for e in sub.edges} == {(0, 1), (1, 2)}
    assert sub.symmetry == ((2, 3),)


def test_dict_round_trip():
    rig = Rig.from_parents(NAMES, PARENTS, name="legs", category="human")
    back = Rig.from_dict(rig.to_dict())
    assert back.to_dict() == rig.to_dict()
    graph = Rig.from_edges(["a", "b", "c"], [(0, 1), (1, 2), (2, 0)], name="tri")
    assert Rig.from_dict(graph.to_dict()).edges == graph.edges


def test_knn_edges():
    pts = np.array([[0, 0], [1, 0], [10, 0], [11, 0], [np.nan, np.nan]], float)
    edges = knn_edges(pts, k=1)
    assert {tuple(e) for e in edges} == {(0, 1), (2, 3)}
    assert knn_edges(pts, k=10).max() < 4  # the NaN joint gets no edge
    assert knn_edges(np.full((3, 2), np.nan)).shape == (0, 2)
