"""Fuzzing the binary readers (SLEAP and DeepLabCut ``.h5``, the project's ``.npz``) with files of their format.

HDF5 cases are a valid file of random size, described as a model (dataset and group paths, their values and
attributes) that up to three changes edit before it is written: a dataset dropped, made a group, text where
numbers belong and numbers where names belong, records, another shape, an empty dataspace, variable-length
values, a dataset of 32 TB that was never written, a link to nothing or to another file; an attribute dropped or
replaced (pickles of the wrong thing, of deep nesting, of a refused class; numbers where text belongs ...).
NPZ cases are a valid file whose entries are edited: keys renamed or dropped, dtypes and shapes changed, headers
that claim another (or a 10^12 frame) shape, entries truncated or extended, zip directories that lie about sizes.
Each must end in a valid result or an ``LFMError`` naming the file, and leave the file unchanged.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest
from fuzzing import check_read, nested, workdir
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability import RELIABILITY

from lfm_engine.io import read_dlc_h5, read_keypoints, read_npz, read_sleap

h5py = pytest.importorskip("h5py")


def _deep_pickle(depth: int, label: bool = False) -> np.bytes_:
    """A pickle of ``depth`` nested lists around ``"x"`` (``[("a", <that>, "x")]`` with ``label``), written opcode
    by opcode: ``pickle.dumps`` itself would recurse too deeply."""
    x, a = b"X\x01\x00\x00\x00x", b"X\x01\x00\x00\x00a"
    deep = b"]" * depth + x + b"a" * depth  # EMPTY_LIST pushes, APPEND nests
    return np.bytes_(b"\x80\x02" + (b"]" + a + deep + x + b"\x87a" if label else deep) + b".")


class _Evil:
    def __reduce__(self):
        return (os.getcwd, ())


#: Attribute values put in place of any attribute.
ODD_ATTRS = st.sampled_from(
    [
        0, -1, 2**40, 1.5, np.array([1, 2]), np.array([b"frame", b"frame"]), b"", b"frame_table", b"\x80\x03junk",
        np.bytes_(pickle.dumps(5)), np.bytes_(pickle.dumps(["values_block_9"])), np.bytes_(pickle.dumps([1, 2])),
        _deep_pickle(5_000), _deep_pickle(5_000, label=True),
        np.bytes_(pickle.dumps({"x": 1})), np.bytes_(pickle.dumps(_Evil())), np.bytes_(pickle.dumps([[]] * 3)),
        np.bytes_(pickle.dumps(["values_block_0"])[:-3]), np.bytes_(pickle.dumps({1: {"names": 7}})),
        np.bytes_(pickle.dumps({1: {"names": [nested(300)]}})),
    ]
)  # fmt: skip
NODE_OPERATIONS = ("drop", "group", "text", "numbers", "records", "reshape", "empty", "vlen", "huge", "dangling",
                   "external", "values", "complex")  # fmt: skip


def _numbers(data, shape=None):
    shape = shape or data.draw(st.lists(st.integers(0, 4), max_size=4).map(tuple), label="shape")
    return np.full(shape, data.draw(st.sampled_from([0.0, 1.0, np.nan, np.inf, -1.0, 1e300, 3.0]), label="fill"))


def _edit_node(data, node: dict) -> dict | None:
    op = data.draw(st.sampled_from(NODE_OPERATIONS), label="node operation")
    value = node.get("value")
    if op == "drop":
        return None
    if op == "values" and isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size:
        value = value.copy()
        value.reshape(-1)[data.draw(st.integers(0, value.size - 1), label="at")] = data.draw(
            st.sampled_from([np.nan, np.inf, -np.inf, 1e300, -5.0, 1e16]), label="by"
        )
        return {**node, "value": value}
    if op == "reshape" and isinstance(value, np.ndarray):
        how = data.draw(st.sampled_from(["T", "flat", "axis", "scalar", "half"]), label="how")
        if how == "scalar":
            new = value.reshape(-1)[:1].reshape(()) if value.size else np.float64(1)
        elif how == "half":
            new = value[: len(value) // 2] if value.ndim else value
        else:
            new = {"T": value.T, "flat": value.reshape(-1), "axis": value[None]}[how]
        return {**node, "value": np.asarray(new)}
    spec = {
        "group": ("group",),
        "text": np.array([b"a", b"bb", b"1"]),
        "numbers": _numbers(data),
        "records": np.zeros(3, dtype=[("index", "<i8"), ("values_block_0", "<f8", (2,))]),
        "empty": ("empty",),
        "vlen": ("vlen",),
        "huge": ("huge",),
        "dangling": ("dangling",),
        "external": ("external",),
        "complex": np.ones(3, np.complex128),
    }.get(op)
    return {**node, "value": _numbers(data) if spec is None else spec}  # "reshape", "values" of a group ...


def mutate_h5(data, model: dict[str, dict], max_changes: int = 3) -> dict[str, dict]:
    """``model`` (path -> ``{"value": ..., "attrs": {...}}``) with up to ``max_changes`` drawn changes."""
    model = {k: {**v, "attrs": dict(v.get("attrs", {}))} for k, v in model.items()}
    for _ in range(data.draw(st.integers(0, max_changes), label="changes")):
        if not model:
            break
        key = data.draw(st.sampled_from(sorted(model)), label="node")
        attrs = model[key]["attrs"]
        if attrs and data.draw(st.booleans(), label="an attribute"):
            name = data.draw(st.sampled_from(sorted(attrs)), label="attribute")
            if data.draw(st.booleans(), label="drop it"):
                del attrs[name]
            else:
                attrs[name] = data.draw(ODD_ATTRS, label="attribute value")
            continue
        new = _edit_node(data, model[key])
        if new is None:
            del model[key]
        else:
            model[key] = new
    return model


def write_h5(path, model: dict[str, dict]) -> None:
    """Write the model (parents before children; a node whose parent is not a group is left out)."""
    with h5py.File(path, "w") as f:
        for key in sorted(model, key=lambda k: k.count("/")):
            parent = f.get(key.rpartition("/")[0] or "/")
            if not isinstance(parent, h5py.Group):
                continue
            name, value = key.rpartition("/")[2], model[key]["value"]
            if isinstance(value, tuple):
                kind = value[0]
                if kind == "group":
                    obj = parent.create_group(name)
                elif kind == "empty":
                    obj = parent.create_dataset(name, data=h5py.Empty("f8"))
                elif kind == "vlen":
                    obj = parent.create_dataset(name, (2,), dtype=h5py.vlen_dtype(np.int32))
                elif kind == "huge":  # 32 TB that were never written: a few kB in the file
                    obj = parent.create_dataset(name, shape=(10**6, 2, 2, 10**6), dtype="f8", chunks=(1, 2, 2, 1000))
                elif kind == "dangling":
                    parent[name] = h5py.SoftLink("/nowhere")
                    continue
                else:
                    parent[name] = h5py.ExternalLink("other_file.h5", "/tracks")
                    continue
            else:
                obj = parent.create_dataset(name, data=value)
            for attr, v in model[key].get("attrs", {}).items():
                obj.attrs[attr] = v


# ---------------------------------------------------------------------- SLEAP
@st.composite
def sleap_model(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    T, J, K = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    tracks = rng.uniform(0, 500, (T, J, 2, K)).round(2)
    tracks[rng.uniform(size=(T, J, 1, K)).repeat(2, 2) < 0.2] = np.nan
    sleap_order = draw(st.booleans())
    model = {
        "tracks": {"value": tracks.T if sleap_order else tracks},
        "node_names": {"value": np.array([f"node{j}".encode() for j in range(J)])},
        "track_names": {"value": np.array([f"track_{k}".encode() for k in range(K)])},
        "track_occupancy": {"value": np.ones((K, T), np.uint8).T},
        "point_scores": {"value": rng.uniform(0, 1, (K, J, T)).T if sleap_order else rng.uniform(0, 1, (T, J, K))},
    }
    if J > 1:
        edges = np.array([[j, j + 1] for j in range(J - 1)])
        if draw(st.booleans()):
            model["edge_inds"] = {"value": edges}
        else:
            model["edge_names"] = {"value": np.array([[f"node{a}".encode(), f"node{b}".encode()] for a, b in edges])}
    return model


@settings(RELIABILITY, max_examples=250)
@given(data=st.data(), model=sleap_model(), track=st.sampled_from([None, None, 0, 2, "track_1", "nobody"]))
def test_sleap_files(data, model, track):
    with workdir() as d:
        path = d / "labels.v001.analysis.h5"
        write_h5(path, mutate_h5(data, model))
        check_read(read_keypoints if track is None else read_sleap, path, **({} if track is None else {"track": track}))


# ---------------------------------------------------------------------- DeepLabCut .h5
@st.composite
def dlc_model(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    T, J = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    animals = draw(st.sampled_from([None, ["m1", "m2"]]))
    coords = ("x", "y", "likelihood")
    columns = [
        ("DLC", *((a,) if animals else ()), f"p{j}", c) for a in animals or [None] for j in range(J) for c in coords
    ]
    levels = ["scorer", *(["individuals"] if animals else []), "bodyparts", "coords"]
    values = rng.uniform(0, 500, (T, len(columns))).round(2)
    values[:, 2::3] = 0.9
    values[rng.uniform(size=values.shape) < 0.1] = np.nan
    if draw(st.booleans()):  # format="table", as DeepLabCut writes
        table = np.zeros(T, dtype=[("index", "<i8"), ("values_block_0", "<f8", (len(columns),))])
        table["index"], table["values_block_0"] = np.arange(T), values
        group_attrs = {
            "pandas_type": b"frame_table", "table_type": b"appendable_frame",
            "values_cols": np.bytes_(pickle.dumps(["values_block_0"], protocol=0)),
            "info": np.bytes_(pickle.dumps({1: {"names": levels, "type": "MultiIndex"}, "index": {}}, 0)),
        }  # fmt: skip
        table_attrs = {"CLASS": b"TABLE", "values_block_0_kind": np.bytes_(pickle.dumps(columns, protocol=0)),
                       "values_block_0_dtype": b"float64"}  # fmt: skip
        return {"df_with_missing": {"value": ("group",), "attrs": group_attrs},
                "df_with_missing/table": {"value": table, "attrs": table_attrs}}  # fmt: skip
    model = {"df_with_missing": {"value": ("group",), "attrs": {"pandas_type": b"frame", "nblocks": 1}}}
    g = model["df_with_missing"]["attrs"]
    for key, labels, names in (("axis0", columns, levels), ("block0_items", columns, levels)):
        g.update({f"{key}_variety": b"multi", f"{key}_nlevels": len(names)})
        for i, name in enumerate(names):
            level = list(dict.fromkeys(lab[i] for lab in labels))
            model[f"df_with_missing/{key}_level{i}"] = {"value": np.array([v.encode() for v in level]),
                                                        "attrs": {"name": name.encode()}}  # fmt: skip
            model[f"df_with_missing/{key}_label{i}"] = {"value": np.array([level.index(lab[i]) for lab in labels])}
    model["df_with_missing/axis1"] = {"value": np.arange(T)}
    model["df_with_missing/block0_values"] = {"value": values, "attrs": {"transposed": 1}}
    return model


@settings(RELIABILITY, max_examples=250)
@given(data=st.data(), model=dlc_model(), reader=st.sampled_from(["detect", "dlc", "key", "individual"]))
def test_dlc_h5_files(data, model, reader):
    kwargs = {"key": {"key": "df_with_missing"}, "individual": {"individual": "m2"}}.get(reader, {})
    with workdir() as d:
        path = d / "videoDLC_resnet50_shuffle1.h5"
        write_h5(path, mutate_h5(data, model))
        check_read(read_keypoints if reader == "detect" else read_dlc_h5, path, config=False, **kwargs)


# ---------------------------------------------------------------------- our NPZ
def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=True)
    return buf.getvalue()


NPZ_OPERATIONS = ("rename", "drop", "dtype", "shape", "lie", "truncate", "extend", "not_npy", "object", "extra")
ODD_ARRAYS = st.sampled_from(
    [np.array(["a", "b"]), np.ones(3, np.complex64), np.ones((2, 2), bool), np.zeros(2, dtype=[("a", "f8")]),
     np.float16([1, 2]), np.int8([1, -1]), np.array(5.0), np.zeros((0, 3, 2)), np.array([2**63 - 1], np.int64),
     np.full((1, 2, 2), np.nan), np.array(nested(20)), np.uint64([2**64 - 1])]
)  # fmt: skip


def _lie(data, raw: bytes) -> bytes:
    """The version 1.0 ``.npy`` bytes ``raw`` with its header's shape replaced by another (the data left as it was)."""
    size = int.from_bytes(raw[8:10], "little")
    header, body = raw[10 : 10 + size].decode("latin1"), raw[10 + size :]
    if not raw.startswith(b"\x93NUMPY") or "'shape': (" not in header:
        return raw  # an earlier mutation already made it something else (e.g. ``not_npy``)
    start = header.index("'shape': (") + len("'shape': (")
    end = header.index(")", start)
    claimed = ["1000000000000, 17, 2", "0, 0, 2", "2, 3, 2", "", "-1, 2, 2", "99999999999999999999", "2, 2, 2, 2, 2"]
    text = header[:start] + data.draw(st.sampled_from(claimed), label="claimed shape") + header[end:].rstrip()
    text += " " * (-(10 + len(text) + 1) % 64) + "\n"
    return raw[:8] + len(text).to_bytes(2, "little") + text.encode("latin1") + body


def _lie_in_directory(path, data) -> None:
    """Make the zip's central directory claim another uncompressed size for one entry."""
    raw = bytearray(path.read_bytes())
    entries = [i for i in range(len(raw) - 4) if raw[i : i + 4] == b"PK\x01\x02"]
    if entries:
        at = data.draw(st.sampled_from(entries), label="entry") + 24
        claimed = data.draw(st.sampled_from([0, 1, 2**31, 2**32 - 2, 10**9]), label="claimed size")
        raw[at : at + 4] = claimed.to_bytes(4, "little")
        path.write_bytes(bytes(raw))


@settings(RELIABILITY, max_examples=300)
@given(
    data=st.data(),
    seed=st.integers(0, 2**16),
    T=st.integers(1, 4),
    J=st.integers(1, 5),
    compression=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
    directory_lie=st.sampled_from([False] * 5 + [True]),
)
def test_npz_files(data, seed, T, J, compression, directory_lie):
    rng = np.random.default_rng(seed)
    arrays = {
        "points": rng.uniform(0, 640, (T, J, 2)), "confidence": rng.uniform(0, 1, (T, J)),
        "joint_names": np.array([f"j{j}" for j in range(J)]), "edges": np.array([[j, j + 1] for j in range(J - 1)]),
        "image_size": np.array([640, 480]), "fps": np.float64(30.0), "rig_name": np.array("x"),
        "frame_ids": np.arange(T) + 100,
    }  # fmt: skip
    for k in data.draw(st.lists(st.sampled_from(sorted(arrays)), max_size=3), label="left out"):
        arrays.pop(k, None)
    entries = {f"{k}.npy": _npy(v) for k, v in arrays.items()}
    for _ in range(data.draw(st.integers(0, 3), label="changes")):
        name = data.draw(st.sampled_from(sorted(entries) or ["points.npy"]), label="entry")
        op = data.draw(st.sampled_from(NPZ_OPERATIONS), label="operation")
        raw = entries.pop(name, _npy(np.zeros((1, 1, 2))))
        if op == "rename":
            name = data.draw(st.sampled_from(["pts.npy", "points", "points.npy.npy", "POINTS.npy", "dir/points.npy"]))
        elif op == "drop":
            continue
        elif op in ("dtype", "shape"):
            raw = _npy(data.draw(ODD_ARRAYS, label="array") if op == "dtype" else rng.uniform(0, 9, (2, 2, 2, 2)))
        elif op == "lie":
            raw = _lie(data, raw)
        elif op == "truncate":
            raw = raw[: data.draw(st.integers(0, len(raw)), label="keep")]
        elif op == "extend":
            raw = raw + bytes(data.draw(st.integers(1, 100), label="extra bytes"))
        elif op == "not_npy":
            raw = b"\x00" * 200
        elif op == "object":
            raw = _npy(np.array([{"a": 1}, None], dtype=object))
        else:
            entries[data.draw(st.sampled_from(["README.txt", "x.npy", "../up.npy"]), label="extra")] = raw
        entries[name] = raw
    with workdir() as d:
        path = d / "clip.npz"
        with zipfile.ZipFile(path, "w", compression=compression) as z:
            for name, raw in entries.items():
                z.writestr(name, raw)
        if directory_lie:
            _lie_in_directory(path, data)
        check_read(read_keypoints if data.draw(st.booleans(), label="detect") else read_npz, path)
