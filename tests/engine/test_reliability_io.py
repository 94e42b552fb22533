"""Property-based reliability suite of every keypoint importer (``lfm_engine.io``).

Every reader gets truncated and corrupted files, documents with the wrong types, NaN and inf, huge coordinates,
empty inputs, frames with different joint counts and duplicate joint names. Each case must end in a valid
:class:`Keypoints2D` or an :class:`~lfm_engine.errors.InputError` naming the file (tests/engine/reliability.py).
Cases per suite: ``pytest tests/engine/test_reliability_io.py --hypothesis-show-statistics``.
"""

from __future__ import annotations

import json
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reliability import RELIABILITY, assert_keypoints_valid, outcome

from lfm_engine.errors import InputError
from lfm_engine.io import Keypoints2D, read_keypoints, write_keypoints_csv, write_keypoints_npz

h5py = pytest.importorskip("h5py")

# ---------------------------------------------------------------------- values
#: Numbers as files hold them: ordinary, missing, infinite, huge, tiny, negative.
SANE = st.floats(0, 2000, allow_nan=False)
NUMBERS = st.one_of(
    SANE,
    SANE,
    SANE,
    st.floats(-2000, 2000, allow_nan=False),
    st.sampled_from([0.0, -0.0, 1.0, float("nan"), float("inf"), -float("inf"), 1e300, -1e300, 3e38, 1e-300]),
    st.integers(-(2**63), 2**63 - 1),
)
#: JSON values of the wrong kind where numbers or lists are expected.
JUNK = st.one_of(
    st.none(), st.booleans(), st.text(max_size=5), st.just([]), st.just({}), st.lists(st.integers(), max_size=3)
)
MAYBE_NUMBER = st.one_of(NUMBERS.filter(lambda v: not isinstance(v, float) or np.isfinite(v)), JUNK)


def _tmp() -> Path:
    return Path(tempfile.mkdtemp(prefix="lfm_rel_"))


def _check(path: Path, **kw) -> None:
    kp = outcome(read_keypoints, path, must_name=(path.name,), **kw)
    if kp is not None:
        assert_keypoints_valid(kp)


# ---------------------------------------------------------------------- valid seed files, one per format
def _pose(rng, J):
    return rng.uniform(50, 500, (J, 2))


def _seed(fmt: str, folder: Path) -> Path:
    """A small valid file (or folder) of format ``fmt`` in ``folder``."""
    rng = np.random.default_rng(0)
    T, J = 4, 5
    names = [f"j{k}" for k in range(J)]
    if fmt in ("npz", "csv"):
        pts = rng.uniform(0, 640, (T, J, 2))
        pts[1, 2] = np.nan
        kp = Keypoints2D(pts, None, names, [[0, 1], [1, 2], [2, 3], [3, 4]], image_size=(640, 480), fps=30.0)
        write = write_keypoints_npz if fmt == "npz" else write_keypoints_csv
        return write(kp, folder / f"clip.{fmt}")
    if fmt == "openpose":
        sub = folder / "clip_json"
        sub.mkdir()
        for t in range(T):
            people = [{"pose_keypoints_2d": np.c_[_pose(rng, 18), np.full(18, 0.9)].ravel().tolist()}]
            (sub / f"clip_{t:04d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
        return sub
    if fmt == "coco":
        doc = {
            "images": [{"id": t, "width": 640, "height": 480} for t in range(T)],
            "categories": [{"id": 1, "name": "thing", "keypoints": names, "skeleton": [[1, 2], [2, 3], [3, 4]]}],
            "annotations": [
                {
                    "id": t,
                    "image_id": t,
                    "category_id": 1,
                    "area": 100.0,
                    "keypoints": np.c_[_pose(rng, J), np.full(J, 2)].ravel().tolist(),
                }
                for t in range(T)
            ],
        }
        p = folder / "coco.json"
        p.write_text(json.dumps(doc))
        return p
    if fmt == "mmpose":
        doc = [
            {"frame_id": t, "instances": [{"keypoints": _pose(rng, 17).tolist(), "keypoint_scores": [0.9] * 17}]}
            for t in range(T)
        ]
        p = folder / "results.json"
        p.write_text(json.dumps(doc))
        return p
    if fmt == "dlc_csv":
        cols = [(b, c) for b in names for c in ("x", "y", "likelihood")]
        lines = [
            "scorer," + ",".join(["DLC"] * len(cols)),
            "bodyparts," + ",".join(b for b, _ in cols),
            "coords," + ",".join(c for _, c in cols),
        ]
        for t in range(T):
            vals = np.c_[_pose(rng, J), np.full(J, 0.9)].ravel()
            lines.append(f"{t}," + ",".join(repr(float(v)) for v in vals))
        p = folder / "videoDLC_resnet50.csv"
        p.write_text("\n".join(lines) + "\n")
        return p
    if fmt == "sleap":
        p = folder / "labels.analysis.h5"
        with h5py.File(p, "w") as f:
            f.create_dataset("tracks", data=rng.uniform(0, 500, (T, J, 2, 1)).T)
            f.create_dataset("point_scores", data=np.full((T, J, 1), 0.9).T)
            f.create_dataset("track_occupancy", data=np.ones((1, T), np.uint8).T)
            f.create_dataset("node_names", data=[n.encode() for n in names])
            f.create_dataset("edge_inds", data=[[0, 1], [1, 2]])
            f.create_dataset("track_names", data=[b"track_0"])
        return p
    if fmt == "dlc_h5":
        p = folder / "videoDLC_resnet50.h5"
        columns = [("DLC", b, c) for b in names for c in ("x", "y", "likelihood")]
        table = np.zeros(T, dtype=[("index", "<i8"), ("values_block_0", "<f8", (len(columns),))])
        table["index"] = np.arange(T)
        values = np.full((T, 3 * J), 0.9)
        values[:, 0::3], values[:, 1::3] = rng.uniform(0, 500, (T, J)), rng.uniform(0, 500, (T, J))
        table["values_block_0"] = values
        with h5py.File(p, "w") as f:
            g = f.create_group("df_with_missing")
            g.attrs["pandas_type"] = b"frame_table"
            g.attrs["table_type"] = b"appendable_frame"
            g.attrs["values_cols"] = np.bytes_(pickle.dumps(["values_block_0"], protocol=0))
            levels = ["scorer", "bodyparts", "coords"]
            g.attrs["info"] = np.bytes_(pickle.dumps({1: {"names": levels, "type": "MultiIndex"}, "index": {}}, 0))
            g.attrs["non_index_axes"] = np.bytes_(pickle.dumps([(1, columns)], protocol=0))
            ds = g.create_dataset("table", data=table)
            ds.attrs["CLASS"] = b"TABLE"
            ds.attrs["values_block_0_kind"] = np.bytes_(pickle.dumps(columns, protocol=0))
            ds.attrs["values_block_0_dtype"] = b"float64"
        return p
    raise AssertionError(fmt)


FORMATS = ("npz", "csv", "openpose", "coco", "mmpose", "dlc_csv", "dlc_h5", "sleap")


@pytest.mark.parametrize("fmt", FORMATS)
def test_seed_files_are_read(fmt):
    """The seeds the corruption suite starts from are valid files of their format."""
    path = _seed(fmt, _tmp())
    kp = read_keypoints(path)
    assert_keypoints_valid(kp)
    assert kp.num_frames == 4 and np.isfinite(kp.points).any()


# ---------------------------------------------------------------------- corrupted bytes
MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(["truncate", "flip", "delete", "insert", "zero"]),
        st.floats(0, 1),
        st.binary(min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=3,
)


def _mutate(data: bytes, mutations) -> bytes:
    for kind, where, junk in mutations:
        k = int(where * len(data))
        if kind == "truncate":
            data = data[:k]
        elif kind == "flip":
            data = data[:k] + bytes(b ^ 0xFF for b in data[k : k + len(junk)]) + data[k + len(junk) :]
        elif kind == "delete":
            data = data[:k] + data[k + len(junk) * 4 :]
        elif kind == "insert":
            data = data[:k] + junk + data[k:]
        else:
            data = data[:k] + bytes(len(junk)) + data[k + len(junk) :]
    return data


@pytest.mark.parametrize("fmt", FORMATS)
@RELIABILITY
@given(mutations=MUTATIONS, which=st.integers(0, 3))
def test_truncated_and_corrupt_files(fmt, mutations, which):
    path = _seed(fmt, _tmp())
    victim = sorted(path.iterdir())[which] if path.is_dir() else path
    victim.write_bytes(_mutate(victim.read_bytes(), mutations))
    _check(path)


# ---------------------------------------------------------------------- JSON documents with the wrong content
FLAT = st.lists(MAYBE_NUMBER, max_size=60)


def _triplets(n):
    return st.lists(st.tuples(NUMBERS, NUMBERS, NUMBERS), min_size=n, max_size=n).map(
        lambda t: [v for p in t for v in p]
    )


PERSON = st.fixed_dictionaries(
    {"pose_keypoints_2d": st.one_of(FLAT, _triplets(18), _triplets(25), _triplets(3), JUNK)},
    optional={
        "hand_left_keypoints_2d": st.one_of(FLAT, _triplets(21), JUNK),
        "face_keypoints_2d": st.one_of(FLAT, _triplets(70), JUNK),
    },
)
OPENPOSE_DOC = st.fixed_dictionaries({"people": st.one_of(st.lists(st.one_of(PERSON, JUNK), max_size=3), JUNK)})


def _json_safe(doc) -> str:
    return json.dumps(doc, allow_nan=True)


@RELIABILITY
@given(frames=st.lists(OPENPOSE_DOC, min_size=1, max_size=4), names=st.sampled_from(["numbered", "same", "none"]))
def test_openpose_documents(frames, names):
    folder = _tmp() / "op_json"
    folder.mkdir()
    for t, doc in enumerate(frames):
        name = {"numbered": f"f_{t:04d}.json", "same": f"cam{t}_0001.json", "none": f"{'abcd'[t]}.json"}[names]
        (folder / name).write_text(_json_safe(doc))
    _check(folder)
    if len(frames) == 1:
        _check(next(folder.iterdir()))


ANNOTATION = st.fixed_dictionaries(
    {"image_id": st.one_of(st.integers(-2, 4), JUNK), "keypoints": st.one_of(FLAT, _triplets(3), _triplets(4))},
    optional={
        "category_id": st.one_of(st.integers(0, 2), JUNK),
        "area": MAYBE_NUMBER,
        "bbox": st.one_of(st.lists(MAYBE_NUMBER, max_size=5), JUNK),
        "track_id": st.one_of(st.integers(0, 2), JUNK),
        "iscrowd": st.one_of(st.integers(0, 1), JUNK),
        "foot_kpts": st.one_of(FLAT, JUNK),
    },
)
CATEGORY = st.fixed_dictionaries(
    {"id": st.one_of(st.integers(0, 2), JUNK)},
    optional={
        "keypoints": st.one_of(
            st.lists(st.sampled_from(["a", "b", "c", "d", "", "a"]), max_size=5), st.just(["a", "b", "c", "d"]), JUNK
        ),
        "skeleton": st.one_of(st.lists(st.lists(st.integers(-1, 6), max_size=3), max_size=4), JUNK),
    },
)
COCO_DOC = st.fixed_dictionaries(
    {"annotations": st.one_of(st.lists(st.one_of(ANNOTATION, JUNK), max_size=4), JUNK)},
    optional={
        "images": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {"id": st.one_of(st.integers(-2, 4), JUNK)},
                    optional={"width": MAYBE_NUMBER, "height": MAYBE_NUMBER},
                ),
                max_size=4,
            ),
            JUNK,
        ),
        "categories": st.one_of(st.lists(st.one_of(CATEGORY, JUNK), max_size=2), JUNK),
    },
)


@RELIABILITY
@given(doc=COCO_DOC)
def test_coco_documents(doc):
    path = _tmp() / "coco.json"
    path.write_text(_json_safe(doc))
    _check(path)


INSTANCE = st.fixed_dictionaries(
    {"keypoints": st.one_of(st.lists(st.lists(MAYBE_NUMBER, max_size=3), max_size=18), FLAT, JUNK)},
    optional={
        "keypoint_scores": st.one_of(st.lists(MAYBE_NUMBER, max_size=18), JUNK),
        "bbox": st.one_of(st.lists(MAYBE_NUMBER, max_size=4), JUNK),
        "track_id": st.one_of(st.integers(0, 2), JUNK),
        "frame_id": st.one_of(st.integers(0, 3), JUNK),
    },
)
MMPOSE_DOC = st.one_of(
    st.lists(
        st.fixed_dictionaries(
            {
                "frame_id": st.one_of(st.integers(0, 3), JUNK),
                "instances": st.one_of(st.lists(st.one_of(INSTANCE, JUNK), max_size=3), JUNK),
            }
        ),
        max_size=4,
    ),
    st.lists(st.lists(st.one_of(INSTANCE, JUNK), max_size=3), max_size=3),
    st.lists(INSTANCE, max_size=4),
    st.fixed_dictionaries(
        {
            "instance_info": st.one_of(
                st.lists(
                    st.fixed_dictionaries({"frame_id": st.integers(0, 3), "instances": st.lists(INSTANCE, max_size=2)}),
                    max_size=3,
                ),
                JUNK,
            )
        },
        optional={
            "meta_info": st.one_of(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "keypoint_id2name": st.one_of(
                            st.dictionaries(st.sampled_from(["0", "1", "2", "x"]), st.text(max_size=3)), JUNK
                        ),
                        "skeleton_links": st.one_of(st.lists(st.lists(st.integers(-1, 20), max_size=3)), JUNK),
                    },
                ),
                JUNK,
            )
        },
    ),
)


@RELIABILITY
@given(doc=MMPOSE_DOC)
def test_mmpose_documents(doc):
    path = _tmp() / "mmpose.json"
    path.write_text(_json_safe(doc))
    _check(path)


# ---------------------------------------------------------------------- valid documents with damaged fields
#: Values put in place of a field: the wrong type, missing, infinite, huge or negative.
SPECIAL = st.sampled_from(
    [float("nan"), float("inf"), -float("inf"), 1e300, -1e300, -1, 0, 1.5, "1", "", None, [], {}, [[1, 2]], True]
)
#: About one value in this many is damaged (0: none), drawn per case.
RATES = st.sampled_from([0, 10, 100, 1000])


def _damage(data, node, rate=None):
    """``node`` (parsed JSON) with about one value in ``rate`` (drawn from :data:`RATES`) replaced by
    :data:`SPECIAL` or dropped."""
    if rate is None:
        rate = data.draw(RATES, label="rate")
    if rate == 0:
        return node
    if data.draw(st.integers(0, rate), label="damage") == 0:
        return data.draw(SPECIAL, label="by")
    if isinstance(node, dict):
        return {k: _damage(data, v, rate) for k, v in node.items() if data.draw(st.integers(0, 4 * rate), label="keep")}
    if isinstance(node, list):
        return [_damage(data, v, rate) for v in node]
    return node


def _op_person(rng, J, hands):
    xyc = lambda n: np.c_[rng.uniform(0, 1000, (n, 2)), rng.uniform(0, 1, n)].ravel().round(2).tolist()  # noqa: E731
    person = {"person_id": [-1], "pose_keypoints_2d": xyc(J)}
    if hands:
        person.update(hand_left_keypoints_2d=xyc(21), hand_right_keypoints_2d=xyc(21), face_keypoints_2d=xyc(70))
    return person


@RELIABILITY
@given(
    data=st.data(),
    seed=st.integers(0, 2**16),
    T=st.integers(1, 4),
    people=st.integers(0, 3),
    joints=st.sampled_from([(18,), (25,), (25, 18), (2,), (25, 25, 24)]),
    hands=st.booleans(),
)
def test_openpose_damaged_documents(data, seed, T, people, joints, hands):
    """Frames of OpenPose people (joint counts may differ between frames), with damaged values."""
    rng = np.random.default_rng(seed)
    folder = _tmp() / "op_json"
    folder.mkdir()
    for t in range(T):
        doc = {"version": 1.3, "people": [_op_person(rng, joints[t % len(joints)], hands) for _ in range(people)]}
        (folder / f"clip_{t:012d}_keypoints.json").write_text(_json_safe(_damage(data, doc)))
    _check(folder)


@RELIABILITY
@given(
    data=st.data(),
    seed=st.integers(0, 2**16),
    T=st.integers(1, 4),
    J=st.sampled_from([1, 2, 4, 17]),
    wholebody=st.booleans(),
    tracks=st.booleans(),
)
def test_coco_damaged_documents(data, seed, T, J, wholebody, tracks):
    rng = np.random.default_rng(seed)
    names = [f"k{j}" for j in range(J)]
    kpts = lambda n: np.c_[rng.uniform(0, 600, (n, 2)), rng.integers(0, 3, n)].ravel().round(1).tolist()  # noqa: E731
    anns = []
    for t in range(T):
        for k in range(int(rng.integers(0, 3))):
            ann = {
                "id": len(anns),
                "image_id": t,
                "category_id": 1,
                "area": float(rng.uniform(10, 1000)),
                "bbox": [0, 0, 10, 10],
                "keypoints": kpts(J),
            }
            if wholebody:
                ann.update(foot_kpts=kpts(6), face_kpts=kpts(68), lefthand_kpts=kpts(21), righthand_kpts=kpts(21))
            if tracks:
                ann["track_id"] = k
            anns.append(ann)
    doc = {
        "images": [{"id": t, "width": 640, "height": 480} for t in range(T)],
        "categories": [{"id": 1, "name": "x", "keypoints": names, "skeleton": [[j, j + 1] for j in range(1, J)]}],
        "annotations": anns,
    }
    path = _tmp() / "coco.json"
    path.write_text(_json_safe(_damage(data, doc)))
    _check(path)


@RELIABILITY
@given(
    data=st.data(),
    seed=st.integers(0, 2**16),
    T=st.integers(1, 4),
    K=st.sampled_from([2, 17, 21, 5]),
    layout=st.sampled_from(["inferencer", "demo", "flat"]),
)
def test_mmpose_damaged_documents(data, seed, T, K, layout):
    rng = np.random.default_rng(seed)

    def instance(t):
        inst = {
            "keypoints": rng.uniform(0, 600, (K, 2)).round(1).tolist(),
            "keypoint_scores": rng.uniform(0, 1, K).round(2).tolist(),
            "bbox": [[0, 0, 5, 5]],
        }
        if layout == "flat":
            inst = {"image_id": t, "keypoints": np.c_[inst["keypoints"], inst["keypoint_scores"]].ravel().tolist()}
        return inst

    frames = [{"frame_id": t, "instances": [instance(t) for _ in range(int(rng.integers(0, 3)))]} for t in range(T)]
    if layout == "inferencer":
        doc = frames
    elif layout == "demo":
        meta = {"keypoint_id2name": {str(k): f"p{k}" for k in range(K)}, "skeleton_links": [[0, 1]]}
        doc = {"meta_info": meta, "instance_info": frames}
    else:
        doc = [i for f in frames for i in f["instances"]]
    path = _tmp() / "results.json"
    path.write_text(_json_safe(_damage(data, doc)))
    _check(path)


# ---------------------------------------------------------------------- our NPZ with any arrays
def _any_array(shape_st):
    dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.dtype("<U3"), np.complex64])
    return dtypes.flatmap(
        lambda d: hnp.arrays(
            d, shape_st, elements=None if d != np.float64 else NUMBERS.filter(lambda v: isinstance(v, float))
        )
    )


POINTS = st.one_of(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(0, 4), st.integers(0, 5), st.just(2)),
        elements=st.floats(allow_nan=True, allow_infinity=True),
    ),
    _any_array(hnp.array_shapes(min_dims=0, max_dims=4, max_side=4)),
)


@RELIABILITY
@given(
    points=POINTS,
    extra=st.dictionaries(
        st.sampled_from(["confidence", "joint_names", "edges", "image_size", "fps", "rig_name", "frame_ids"]),
        st.one_of(
            _any_array(hnp.array_shapes(min_dims=0, max_dims=3, max_side=5)),
            st.lists(st.sampled_from(["a", "b", "", "a", "coco17", "c"]), max_size=5).map(lambda v: np.array(v, str)),
        ),
    ),
)
def test_npz_arrays(points, extra):
    path = _tmp() / "clip.npz"
    np.savez(path, points=points, **extra)
    _check(path)


# ---------------------------------------------------------------------- our CSV with any cells
CELL = st.one_of(
    st.sampled_from(["", "nan", "inf", "-inf", "1e400", "0", "-1", "2.5", "x", "1,2", '"']),
    st.integers(-3, 5).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@RELIABILITY
@given(
    header=st.permutations(["frame", "joint", "x", "y", "confidence"]).map(list),
    drop=st.sampled_from([None, "confidence", "x", "frame"]),
    rows=st.lists(
        st.tuples(
            st.one_of(st.integers(0, 3).map(str), CELL),
            st.sampled_from(["a", "b", "c", "", "a "]),
            CELL,
            CELL,
            st.one_of(st.floats(0, 1).map(repr), CELL),
        ),
        max_size=12,
    ),
    meta=st.lists(
        st.sampled_from(
            [
                "# fps: 30",
                "# fps: -2",
                "# fps: x",
                "# image_size: 640 480",
                "# image_size: 0 0",
                "# image_size: 1",
                "# rig: coco17",
                "# rig: nope",
                "# edges: 0-1",
                "# edges: 0-0 1-9",
                "# edges: a-b",
                "# edges:",
            ]
        ),
        max_size=3,
    ),
)
def test_csv_cells(header, drop, rows, meta):
    cols = [c for c in header if c != drop]
    order = {c: i for i, c in enumerate(["frame", "joint", "x", "y", "confidence"])}
    lines = [*meta, ",".join(cols)]
    lines += [",".join(r[order[c]] for c in cols) for r in rows]
    path = _tmp() / "clip.csv"
    path.write_text("\n".join(lines) + "\n")
    _check(path)


# ---------------------------------------------------------------------- DeepLabCut CSV and SLEAP with odd content
@RELIABILITY
@given(
    parts=st.lists(st.sampled_from(["nose", "tail", "", "nose"]), min_size=0, max_size=4),
    coords=st.lists(st.sampled_from(["x", "y", "likelihood", "z"]), min_size=0, max_size=6),
    rows=st.lists(st.lists(CELL, max_size=8), max_size=5),
    individuals=st.booleans(),
)
def test_dlc_csv_headers_and_cells(parts, coords, rows, individuals):
    n = max(len(parts), len(coords))
    lines = ["scorer," + ",".join(["DLC"] * n)]
    if individuals:
        lines.append("individuals," + ",".join(["mouse1"] * n))
    lines += ["bodyparts," + ",".join(parts), "coords," + ",".join(coords)]
    lines += [f"{t}," + ",".join(r) for t, r in enumerate(rows)]
    path = _tmp() / "videoDLC_x.csv"
    path.write_text("\n".join(lines) + "\n")
    _check(path, config=False)


@RELIABILITY
@given(
    tracks=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=5, min_side=0, max_side=4),
        elements=st.floats(allow_nan=True, allow_infinity=True),
    ),
    nodes=st.lists(st.sampled_from(["head", "tail", "", "head"]), max_size=4),
    scores=st.one_of(st.none(), hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4))),
    edges=st.one_of(
        st.none(), hnp.arrays(np.int64, st.tuples(st.integers(0, 3), st.integers(1, 3)), elements=st.integers(-2, 6))
    ),
)
def test_sleap_arrays(tracks, nodes, scores, edges):
    path = _tmp() / "labels.analysis.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("tracks", data=tracks)
        f.create_dataset("node_names", data=np.array([n.encode() for n in nodes], dtype="S8"))
        if scores is not None:
            f.create_dataset("point_scores", data=scores)
        if edges is not None:
            f.create_dataset("edge_inds", data=edges)
    _check(path)


# ---------------------------------------------------------------------- Keypoints2D itself (what readers build)
@RELIABILITY
@given(
    points=st.one_of(
        POINTS,
        st.lists(
            st.lists(st.lists(NUMBERS, min_size=2, max_size=2), min_size=1, max_size=4), min_size=1, max_size=3
        ),  # ragged: frames with different joint counts
    ),
    confidence=st.one_of(st.none(), _any_array(hnp.array_shapes(min_dims=0, max_dims=3, max_side=5))),
    names=st.one_of(
        st.lists(st.sampled_from(["a", "b", "c", "d", "e", "", " ", "a"]), max_size=5),
        st.text(max_size=3),
        st.lists(st.integers(), max_size=3),
    ),
    edges=st.one_of(st.none(), st.lists(st.lists(st.one_of(st.integers(-2, 6), st.floats()), max_size=3), max_size=4)),
    image_size=st.one_of(st.none(), st.lists(MAYBE_NUMBER, max_size=3), JUNK),
    fps=st.one_of(st.none(), MAYBE_NUMBER),
    frame_ids=st.one_of(st.none(), st.lists(MAYBE_NUMBER, max_size=4)),
)
def test_keypoints2d_fields(points, confidence, names, edges, image_size, fps, frame_ids):
    kp = outcome(
        Keypoints2D,
        points,
        confidence,
        names,
        edges,
        image_size=image_size,
        fps=fps,
        source="made.npz",
        frame_ids=frame_ids,
        must_name=("made.npz",),
    )
    if kp is not None:
        assert_keypoints_valid(kp)


def test_openpose_hands_with_an_unknown_body_name_the_folder():
    """Found by test_openpose_damaged_documents in a full run: this error did not name the file."""
    folder = _tmp() / "two_point_body"
    folder.mkdir()
    person = {"pose_keypoints_2d": [10, 20, 0.9, 30, 40, 0.9], "hand_left_keypoints_2d": [5, 6, 0.5] * 21}
    (folder / "f_0001.json").write_text(json.dumps({"people": [person]}))
    with pytest.raises(InputError, match=r"two_point_body: OpenPose hands or face with a 2-point body model"):
        read_keypoints(folder)
