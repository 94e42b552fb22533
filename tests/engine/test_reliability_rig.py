"""Property-based reliability suite of rigs: ``Rig.from_edges``, ``Rig.from_parents``, ``Rig.from_dict``, rig
JSON files (``lfm_engine.pipeline.read_rig_file``) and ``get_rig``.

Duplicate and empty joint names, cyclic parents, self loops, out-of-range and non-integer edges, rigs of 0, 1, 2
and 2,000 joints. Each case must end in a valid :class:`Rig` or a :class:`~lfm_engine.errors.RigError` naming the
rig (tests/engine/reliability.py). Cases per suite: ``pytest tests/engine/test_reliability_rig.py
--hypothesis-show-statistics``.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability import RELIABILITY, hard_limit, outcome

from lfm_engine import Rig, RigError, get_rig
from lfm_engine.pipeline import read_rig_file

GOOD_NAMES = ["pelvis", "spine", "head", "left_hand", "right_hand", "x", "hand.L", "hand.R"]
NAMES = st.one_of(
    st.lists(st.sampled_from(GOOD_NAMES), max_size=8, unique=True),
    st.lists(st.sampled_from([*GOOD_NAMES, "", " ", "x"]), max_size=8),  # duplicate and empty names
)
INDEX = st.one_of(st.integers(-3, 10), st.sampled_from([0.5, float("nan"), float("inf"), 2**70]))
EDGES = st.one_of(
    st.none(),
    st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=10),
    st.lists(st.lists(INDEX, max_size=3), max_size=6),
    st.just("0-1"),
)
PARENTS = st.one_of(st.lists(st.integers(-2, 8), max_size=8), st.lists(INDEX, max_size=8), st.just("01"))


def assert_rig_valid(rig: Rig) -> None:
    """A rig keeps its promises: unique names, edges in range, a spanning forest, a symmetric adjacency."""
    J = rig.num_joints
    assert J >= 2 and len(set(rig.joint_names)) == J
    e = rig.edge_array()
    assert ((e >= 0) & (e < J)).all() and (e[:, 0] != e[:, 1]).all()
    parents = rig.tree_parents()
    assert len(parents) == J and all(-1 <= p < J and p != j for j, p in enumerate(parents))
    for j in range(J):  # every joint reaches a root
        seen, k = set(), j
        while k >= 0:
            assert k not in seen, "a cycle in tree_parents"
            seen.add(k)
            k = parents[k]
    adj = rig.adjacency()
    assert adj.shape == (J, J) and (adj == adj.T).all() and adj.diagonal().all()
    assert set(np.unique(rig.sides())) <= {-1, 0, 1}


def _name_or_error(rig) -> None:
    if rig is not None:
        assert_rig_valid(rig)


@settings(RELIABILITY, max_examples=300)
@given(names=NAMES, edges=EDGES, root=st.one_of(st.none(), st.integers(-1, 9), st.sampled_from(["head", "nope"])))
def test_from_edges(names, edges, root):
    _name_or_error(outcome(Rig.from_edges, names, edges, name="fuzz", root=root, must_name=("fuzz",)))


@settings(RELIABILITY, max_examples=300)
@given(data=st.data(), names=NAMES)
def test_from_parents(data, names):
    J = len(names)
    forest = st.tuples(*[st.integers(-1, j - 1) for j in range(J)]).map(list)  # always a forest
    one_off = forest.flatmap(lambda p: st.tuples(st.just(p), st.integers(0, max(J - 1, 0)), INDEX))
    parents = data.draw(st.one_of(forest, one_off.map(lambda c: [*c[0][: c[1]], c[2], *c[0][c[1] + 1 :]]), PARENTS))
    _name_or_error(outcome(Rig.from_parents, names, parents, name="fuzz", must_name=("fuzz",)))


DOC = st.fixed_dictionaries(
    {},
    optional={
        "joint_names": st.one_of(NAMES, st.text(max_size=3), st.integers(), st.lists(st.integers(), max_size=3)),
        "edges": EDGES,
        "parents": st.one_of(st.none(), PARENTS),
        "symmetry": st.one_of(st.none(), st.lists(st.lists(INDEX, max_size=3), max_size=3)),
        "category": st.one_of(st.text(max_size=4), st.integers()),
        "name": st.one_of(st.text(max_size=4), st.none()),
    },
)


@settings(RELIABILITY, max_examples=300)
@given(doc=st.one_of(DOC, st.lists(st.integers(), max_size=2), st.none()), raw=st.one_of(st.none(), st.binary()))
def test_rig_json_files(doc, raw):
    path = Path(tempfile.mkdtemp(prefix="lfm_rel_")) / "myrig.json"
    if raw is None:
        path.write_text(json.dumps(doc, allow_nan=True))
    else:
        path.write_bytes(raw)
    _name_or_error(outcome(read_rig_file, path, must_name=("myrig",)))


@settings(RELIABILITY, max_examples=100)
@given(name=st.one_of(st.text(max_size=12), st.sampled_from(["coco17", "COCO17", "coco17 ", "h36m17"])))
def test_get_rig_by_any_name(name):
    _name_or_error(outcome(get_rig, name, must_name=(repr(name), name)))


@pytest.mark.parametrize("J", [0, 1, 2, 2000])
def test_rigs_of_0_1_2_and_2000_joints(J):
    names = [f"j{k}" for k in range(J)]
    chain = [(k, k + 1) for k in range(J - 1)]
    if J < 2:
        for make in (lambda: Rig.from_edges(names, chain), lambda: Rig.from_parents(names, [-1] * J)):
            with pytest.raises(RigError, match=r"no joints|only one joint"):
                make()
        return
    start = time.perf_counter()
    with hard_limit(30):
        rigs = [Rig.from_edges(names, chain), Rig.from_parents(names, [-1, *range(J - 1)])]
        if J > 2:
            rigs.append(Rig.from_edges(names, [*chain, (J - 1, 0)]))  # one cycle: no parents, a spanning forest
        for rig in rigs:
            assert_rig_valid(rig)
    assert time.perf_counter() - start < 30
