"""Property-based reliability suite of ``Lifter.lift`` (torch and numpy backends) and of the whole pipeline
(``lfm_engine.pipeline.run``: read, lift, world, smoothing, armature).

Inputs: NaN and inf, huge and tiny coordinates, empty arrays, 0, 1, 2 ... 2,000 joints, frames with every joint
missing or only one visible, bad masks, confidences and cameras, invalid edges. Each case must end in a result with
no NaN or inf, or an :class:`~lfm_engine.errors.LFMError` (tests/engine/reliability.py). Cases per suite:
``pytest tests/engine/test_reliability_lift.py --hypothesis-show-statistics``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reliability import RELIABILITY, assert_finite, hard_limit, outcome

from lfm_engine import InputError, Lifter, Rig
from lfm_engine.io import Keypoints2D, write_keypoints_npz
from lfm_engine.pipeline import LiftSettings, run

BACKENDS = ("torch", "numpy")


@pytest.fixture(scope="module")
def lifters(weights_file):
    pytest.importorskip("torch").set_num_threads(1)
    return {b: Lifter.from_pretrained(weights_file, backend=b) for b in BACKENDS}


# ---------------------------------------------------------------------- values
COORD = st.one_of(
    st.floats(-1000, 1000),
    st.floats(-1000, 1000),
    st.floats(-1000, 1000),
    st.just(float("nan")),
    st.sampled_from([float("inf"), -float("inf"), 1e300, -1e300, 1e30, 1e15, 1e-300, 0.0, 5e-324]),
)


def _points(T: int, J: int):
    return hnp.arrays(np.float64, (T, J, 2), elements=COORD)


def _edges(J: int):
    pairs = st.lists(st.tuples(st.integers(-2, J + 1), st.integers(-2, J + 1)), max_size=2 * J + 2)
    valid = st.lists(
        st.tuples(st.integers(0, max(J - 1, 0)), st.integers(0, max(J - 1, 0))).filter(lambda e: e[0] != e[1]),
        max_size=2 * J,
        unique_by=lambda e: (min(e), max(e)),
    )
    chain = st.just([(j, j + 1) for j in range(J - 1)])
    odd = st.one_of(pairs, pairs.map(np.array), st.just([[0.5, 1]]), st.just("0-1"))
    return st.one_of(chain, st.none(), valid, odd)


@st.composite
def lift_case(draw):
    """Points of a random clip (mostly ordinary values, a few odd ones), with odd edges, masks and cameras."""
    T = draw(st.sampled_from([3, 1, 4, 2, 0]))  # hypothesis favours the first values
    J = draw(st.sampled_from([5, 17, 3, 2, 1, 0]))
    points = np.random.default_rng(draw(st.integers(0, 1000))).uniform(-500, 500, (T, J, 2))
    if T and J:
        for _ in range(draw(st.integers(0, 4))):
            t, j, c = draw(st.integers(0, T - 1)), draw(st.integers(0, J - 1)), draw(st.integers(0, 1))
            points[t, j, c] = draw(COORD)
    kw = {"edges": draw(_edges(J))}
    if draw(st.integers(0, 2)) == 0:
        shape = draw(st.sampled_from([(T, J), (T, J), (J,), (T + 1, J)]))
        kw["mask"] = draw(hnp.arrays(np.bool_, shape))
    if draw(st.integers(0, 2)) == 0:
        kw["confidence"] = draw(hnp.arrays(np.float64, (T, J), elements=st.one_of(st.floats(0, 1), COORD)))
        kw["confidence_threshold"] = draw(st.floats(-1, 1))
    if draw(st.integers(0, 2)) == 0:
        kw["focal_length"] = draw(st.one_of(st.floats(1, 5000), st.floats(-10, 5000), COORD, st.just("1000")))
        kw["principal_point"] = draw(
            st.one_of(
                st.tuples(st.floats(-500, 500), st.floats(-500, 500)),
                st.none(),
                st.tuples(COORD, COORD),
                st.just((1.0, 2.0, 3.0)),
            )
        )
    return points, kw


@pytest.mark.parametrize("backend", BACKENDS)
@settings(RELIABILITY, max_examples=300)
@given(case=lift_case())
def test_lift_any_input(lifters, backend, case):
    points, kw = case
    out = outcome(lifters[backend].lift, points, **kw)
    if out is not None:
        assert out.shape == (*points.shape[:2], 3) and out.dtype == np.float32
        assert_finite("lift output", out)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(RELIABILITY, max_examples=60)
@given(
    exponent=st.integers(-300, 300),
    offset=st.sampled_from([0.0, 1e3, -1e6, 1e12]),
    focal=st.sampled_from([None, 1.0, 1500.0, 1e12]),
    seed=st.integers(0, 100),
)
def test_lift_huge_and_tiny_coordinates(lifters, backend, exponent, offset, focal, seed):
    """A valid pose at any scale and offset: a finite lift (at that scale) or a clear error, never inf or NaN."""
    points = np.random.default_rng(seed).uniform(-1, 1, (3, 6, 2)) * 10.0**exponent + offset
    kw = {} if focal is None else {"focal_length": focal, "principal_point": (offset, offset)}
    out = outcome(lifters[backend].lift, points, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)], **kw)
    if out is not None:
        assert_finite("lift output", out)


#: Python values as a caller may pass them: numbers, huge integers, None, text, booleans.
LEAVES = st.one_of(
    st.floats(-1000, 1000), st.integers(-5, 5), st.sampled_from([None, "1", "x", True, 10**30, 10**400, float("nan")])
)
#: Nested Python lists of any shape: ragged, too deep, empty, mixed with leaves.
NESTED = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4), max_leaves=40)
#: Mostly (T, J, 2)-like nested lists with one place made ragged or odd.
NEAR_POINTS = st.lists(st.lists(st.lists(st.floats(-500, 500), min_size=2, max_size=2), min_size=2, max_size=4),
                       min_size=1, max_size=3)  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@settings(RELIABILITY, max_examples=150)
@given(data=st.data(), points=st.one_of(NESTED, NEAR_POINTS), argument=st.sampled_from(["points2d", "confidence",
       "mask", "edges", "principal_point"]))  # fmt: skip
def test_lift_nested_python_lists(lifters, backend, data, points, argument):
    """Nested lists of any shape as the points or any other array argument (issue 17: ragged lists reached numpy
    before validation)."""
    if isinstance(points, list) and points and isinstance(points[0], list) and data.draw(st.booleans()):
        t = data.draw(st.integers(0, len(points) - 1))
        if not isinstance(points[t], list):  # a ragged mix such as [[], 0.0]: make row t a list first
            points[t] = [points[t]]
        points[t] = data.draw(st.one_of(NESTED, st.just(points[t][:-1]), st.just([*points[t], [1.0]])))
    pose = [[[1.0, 2.0], [3.0, 5.0], [4.0, 1.0]]] * 2
    kw = {"focal_length": 100.0} if argument == "principal_point" else {}
    args = (points,) if argument == "points2d" else (pose,)
    if argument != "points2d":
        kw[argument] = points
    out = outcome(lifters[backend].lift, *args, **kw)
    if out is not None:
        assert_finite("lift output", out)


@pytest.mark.parametrize("backend", BACKENDS)
def test_frames_with_no_or_one_visible_joint_are_named(lifters, backend):
    points = np.random.default_rng(0).uniform(0, 100, (5, 4, 2))
    points[1] = np.nan  # every joint missing
    points[3, 1:] = np.nan  # only one visible
    with pytest.raises(InputError, match=r"frame\(s\) 1, 3 \(2 of 5\)"):
        lifters[backend].lift(points)
    points[4] = points[4, 0]  # every joint at one place
    with pytest.raises(InputError, match=r"frame\(s\) 1, 3, 4"):
        lifters[backend].lift(points)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("J", [0, 1, 2, 2000])
def test_rigs_of_0_1_2_and_2000_joints(lifters, backend, J):
    rng = np.random.default_rng(J)
    points = rng.uniform(0, 1000, (2, J, 2))
    with hard_limit(60):
        if J < 2:
            with pytest.raises(InputError, match=r"empty: shape \(2, 0, 2\)|has 1 joint per frame"):
                lifters[backend].lift(points)
            return
        chain = Rig.from_edges([f"j{k}" for k in range(J)], [(k, k + 1) for k in range(J - 1)], root=0)
        for edges in (None, chain):
            out = lifters[backend].lift(points, edges=edges, focal_length=1000.0, principal_point=(500, 500))
            assert out.shape == (2, J, 3)
            assert_finite("lift output", out)


# ---------------------------------------------------------------------- the whole pipeline
@st.composite
def clip_case(draw):
    T = draw(st.integers(1, 12))
    J = draw(st.sampled_from([2, 3, 6]))
    seed = draw(st.integers(0, 1000))
    rng = np.random.default_rng(seed)
    scale = 10.0 ** draw(st.integers(-6, 12))
    points = rng.uniform(0, 1, (T, J, 2)) * scale
    for _ in range(draw(st.integers(0, 3))):  # damage: missing frames, one joint left, all at one place
        t = draw(st.integers(0, T - 1))
        kind = draw(st.sampled_from(["none", "one", "same", "joint"]))
        if kind == "none":
            points[t] = np.nan
        elif kind == "one":
            points[t, 1:] = np.nan
        elif kind == "same":
            points[t] = points[t, 0]
        else:
            points[:, draw(st.integers(0, J - 1))] = np.nan
    edges = draw(st.sampled_from(["chain", "star", "none", "cycle"]))
    pairs = {
        "chain": [(j, j + 1) for j in range(J - 1)],
        "star": [(0, j) for j in range(1, J)],
        "none": [],
        "cycle": [(j, (j + 1) % J) for j in range(J)] if J > 2 else [(0, 1)],
    }[edges]
    kp = Keypoints2D(points, None, [f"j{k}" for k in range(J)], pairs, fps=draw(st.sampled_from([None, 1.0, 240.0])))
    s = LiftSettings(
        smoothing=draw(st.sampled_from(["none", "one_euro", "savgol"])),
        smoothing_strength=draw(st.floats(0, 1)),
        height=draw(st.sampled_from([None, 1.75, 1e-6, 1e6])),
        focal_length=draw(st.sampled_from([None, 1.0, 1500.0])),
        frame_start=draw(st.integers(0, T)),
        frame_end=draw(st.sampled_from([None, -1, 0, T // 2, T + 5])),
        placement=draw(st.sampled_from(["ray", "direction"])),
        backend="numpy",
    )
    return kp, s


@settings(RELIABILITY, max_examples=120)
@given(case=clip_case())
def test_pipeline_any_clip(lifters, case):
    kp, s = case
    path = write_keypoints_npz(kp, Path(tempfile.mkdtemp(prefix="lfm_rel_")) / "clip.npz")
    result = outcome(run, path, s, lifter=lifters["numpy"], must_name=("clip",))
    if result is None:
        return
    T = result.num_frames
    assert result.world.shape == (T, kp.num_joints, 3)
    for name in ("world", "lifted"):
        assert_finite(name, getattr(result, name))
    a = result.armature
    for name in ("joints", "quaternions", "locations", "lengths", "rest_matrices", "origin"):
        assert_finite(f"armature.{name}", getattr(a, name))
    assert np.allclose(np.linalg.norm(a.quaternions, axis=-1), 1.0, atol=1e-4)
    assert np.isfinite(result.scale) and result.scale > 0
