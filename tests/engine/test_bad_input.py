"""The bad inputs of issue 17 that ended in an exception other than the project's own (``LFMError``), one test
per cause: ragged nested lists given to ``Lifter.lift``, pathologically deep JSON, integers beyond int64 or the
float range, truncated CSV rows, HDF5 datasets of the wrong kind, array headers that lie about their size, and
frames whose joints all coincide. docs/RELIABILITY.md lists them; tests/engine/test_fuzz_readers.py fuzzes each
reader with files of its format.
"""

from __future__ import annotations

import io
import json
import pickle
import tracemalloc
import zipfile

import numpy as np
import pytest

from lfm_engine import InputError, LFMError, Lifter
from lfm_engine.errors import RigError, WeightsError
from lfm_engine.io import read_coco, read_keypoints, read_mmpose, read_npz, read_openpose, read_sleap
from lfm_engine.io.dlc import read_dlc_csv, read_dlc_h5, read_skeleton

h5py = pytest.importorskip("h5py")

BACKENDS = ("torch", "numpy")


@pytest.fixture(scope="module")
def lifters(weights_file):
    pytest.importorskip("torch").set_num_threads(1)
    return {b: Lifter.from_pretrained(weights_file, backend=b) for b in BACKENDS}


# ---------------------------------------------------------------------- ragged nested lists to Lifter.lift
RAGGED = [
    [[[1, 2], [3, 4]], [[1, 2]]],  # frames of different joint counts
    [[1, 2], [3]],  # a (J, 2) pose with a short point
    [[[1, 2], [3, 4]], [[1, 2], [3]]],  # ragged at the innermost level
    [[[1, 2], [3, 4]], [1, 2]],  # a frame that is a point
    json.loads("[" * 40 + "1" + "]" * 40),  # deeper than numpy's 32 dimensions
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("points", RAGGED, ids=range(len(RAGGED)))
def test_ragged_lists_are_refused_before_numpy(lifters, backend, points):
    with pytest.raises(InputError, match=r"points2d must be a numeric array"):
        lifters[backend].lift(points)


@pytest.mark.parametrize("backend", BACKENDS)
def test_other_lift_arguments_that_numpy_cannot_convert(lifters, backend):
    pose = [[1.0, 2.0], [3.0, 4.0], [5.0, 1.0]]
    lift = lifters[backend].lift
    cases = [
        ({"confidence": [1, 1, 1], "confidence_threshold": [[1], [1, 2]]}, r"confidence_threshold must be a number"),
        ({"confidence": [1, 1, 1], "confidence_threshold": "a"}, r"confidence_threshold must be a number"),
        ({"confidence": [10**400, 1, 1]}, r"confidence must be a numeric"),
        ({"mask": [10**400, 1, 1]}, r"mask must be a numeric"),
        ({"focal_length": 10**400, "principal_point": (0, 0)}, r"focal_length must be a number"),
        ({"focal_length": 10, "principal_point": (10**400, 1)}, r"principal_point must be two numbers"),
        ({"progress": 5}, r"progress must be callable"),
    ]
    for kw, message in cases:
        with pytest.raises(InputError, match=message):
            lift(pose, **kw)
    with pytest.raises(InputError, match=r"points2d must be a numeric array"):
        lift([[10**400, 2], [3, 4]])
    with pytest.raises(RigError, match=r"edge"):
        lift(pose, edges=[[0, 10**400]])


# ---------------------------------------------------------------------- pathologically deep JSON
DEEP = {"arrays": "[" * 100_000 + "]" * 100_000, "objects": '{"a":' * 50_000 + "1" + "}" * 50_000}


def _deep_files(tmp_path, kind):
    text = DEEP[kind]
    single = tmp_path / f"deep_{kind}.json"
    single.write_text(text)
    folder = tmp_path / f"deep_{kind}_json"
    folder.mkdir()
    (folder / "f_0000.json").write_text(json.dumps({"people": []}))
    (folder / "f_0001.json").write_text(text)
    return single, folder


@pytest.mark.parametrize("kind", DEEP)
def test_deep_json_in_every_json_reader(tmp_path, kind):
    single, folder = _deep_files(tmp_path, kind)
    readers = [
        lambda: read_keypoints(single),
        lambda: read_keypoints(single, format="openpose"),
        lambda: read_keypoints(single, format="coco"),
        lambda: read_keypoints(single, format="mmpose"),
        lambda: read_openpose(single),
        lambda: read_openpose(folder),
        lambda: read_coco(single),
        lambda: read_mmpose(single),
    ]
    for read in readers:
        with pytest.raises(InputError, match=r"nested deeper than \d+ levels") as info:
            read()
        assert single.name in str(info.value) or "f_0001.json" in str(info.value)


@pytest.mark.parametrize("kind", DEEP)
def test_deep_json_in_the_other_json_files(tmp_path, kind):
    from lfm_engine.config import ModelConfig
    from lfm_engine.pipeline import read_rig_file
    from lfm_engine.retarget.mapping import Mapping, MappingError
    from lfm_engine.weights import read_safetensors

    path = tmp_path / "deep.json"
    path.write_text(DEEP[kind])
    with pytest.raises(RigError, match=r"deep\.json.*nested deeper"):
        read_rig_file(path)
    with pytest.raises(MappingError, match=r"deep\.json.*nested deeper"):
        Mapping.load(path)
    with pytest.raises(WeightsError, match=r"nested deeper"):
        ModelConfig.from_json(DEEP[kind], "w.safetensors")
    header = DEEP[kind].encode()
    weights = tmp_path / "deep.safetensors"
    weights.write_bytes(len(header).to_bytes(8, "little") + header)
    with pytest.raises(WeightsError, match=r"deep\.safetensors.*nested deeper"):
        read_safetensors(weights)


def test_deep_yaml_config_of_deeplabcut(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("skeleton: " + "[" * 20_000 + "]" * 20_000 + "\n")
    with pytest.raises(InputError, match=r"config\.yaml.*nested too deeply"):
        read_skeleton(cfg)


def test_integers_of_more_digits_than_python_parses(tmp_path):
    """Python refuses to parse integers of more than 4,300 digits with a ValueError, not a JSONDecodeError."""
    path = tmp_path / "long.json"
    path.write_text(json.dumps({"people": [{"pose_keypoints_2d": [1, 2, 3]}]}).replace("1", "1" * 5000, 1))
    with pytest.raises(InputError, match=r"long\.json: not valid JSON"):
        read_keypoints(path)


# ---------------------------------------------------------------------- integers beyond int64 or float range
def _coco(tmp_path, name, image_id=1, keypoints=(1, 2, 2, 3, 4, 2), height=480, extra=None, twice=False):
    ann = {"id": 1, "image_id": image_id, "category_id": 1, "keypoints": list(keypoints), **(extra or {})}
    doc = {
        "images": [{"id": image_id, "width": 640, "height": height}],
        "categories": [{"id": 1, "keypoints": ["a", "b"], "skeleton": [[1, 2]]}],
        "annotations": [ann, {**ann, "id": 2}] if twice else [ann],
    }
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def test_coco_numbers_beyond_int64_and_float(tmp_path):
    kp = read_keypoints(_coco(tmp_path, "id.json", image_id=10**30))
    assert kp.num_frames == 1 and kp.frame_ids is None  # an id numpy cannot hold orders frames, as text ids do
    kp = read_keypoints(_coco(tmp_path, "height.json", height=10**400))
    assert kp.image_size is None  # an unusable size is ignored, as one of the wrong type
    with pytest.raises(InputError, match=r"kp\.json: annotation 1.*not numbers"):
        read_keypoints(_coco(tmp_path, "kp.json", keypoints=(10**400, 2, 2, 3, 4, 2)))
    with pytest.raises(InputError, match=r"kp2\.json: annotation 1.*not numbers"):
        read_keypoints(_coco(tmp_path, "kp2.json", keypoints=(10**400, 2, 2, 3, 4, 2), twice=True))
    for name, extra in (("area.json", {"area": 10**400}), ("bbox.json", {"bbox": [0, 0, 10**400, 1]})):
        assert read_keypoints(_coco(tmp_path, name, extra=extra, twice=True)).num_frames == 1
    doc = json.loads(_coco(tmp_path, "skel.json").read_text())
    doc["categories"][0]["skeleton"] = [[1, 10**30]]
    (tmp_path / "skel.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"skel\.json: the category's 'skeleton'"):
        read_keypoints(tmp_path / "skel.json")


def test_openpose_numbers_beyond_int64_and_float(tmp_path):
    person = {"pose_keypoints_2d": [10, 20, 0.9] * 18}
    folder = tmp_path / "op"
    folder.mkdir()
    for n in ("x_1000000000000000000000001_keypoints.json", "x_1000000000000000000000002_keypoints.json"):
        (folder / n).write_text(json.dumps({"people": [person]}))
    kp = read_keypoints(folder)
    assert kp.num_frames == 2 and kp.frame_ids is None
    path = tmp_path / "op_0001.json"
    path.write_text(json.dumps({"people": [{"pose_keypoints_2d": [10**400, 20, 0.9] * 18}]}))
    with pytest.raises(InputError, match=r"op_0001\.json: person 0: pose_keypoints_2d holds values that are not"):
        read_keypoints(path)


def test_mmpose_numbers_beyond_int64_and_float(tmp_path):
    def write(name, doc):
        (tmp_path / name).write_text(json.dumps(doc))
        return tmp_path / name

    inst = {"keypoints": [[1, 2]] * 17, "keypoint_scores": [0.9] * 17}
    kp = read_keypoints(write("id.json", [{"frame_id": 10**30, "instances": [inst]}]))
    assert kp.frame_ids is None
    kp = read_keypoints(write("flat.json", [{"image_id": 10**30, "keypoints": [1, 2, 0.5] * 17}]))
    assert kp.frame_ids is None
    for name, bad in (
        ("kp.json", {"keypoints": [[10**400, 2]] * 17}),
        ("sc.json", {"keypoint_scores": [10**400] * 17}),
    ):
        with pytest.raises(InputError, match=name.replace(".", r"\.") + r": frame 0, instance 0: .*not numbers"):
            read_keypoints(write(name, [{"frame_id": 1, "instances": [{**inst, **bad}]}]))
    meta = {"keypoint_id2name": {str(k): f"p{k}" for k in range(17)}, "skeleton_links": [[0, 10**30]]}
    kp = read_keypoints(
        write("links.json", {"meta_info": meta, "instance_info": [{"frame_id": 0, "instances": [inst]}]})
    )
    assert len(kp.edges) == 0  # unusable links are dropped, as links to unknown joints are


def test_dlc_frame_numbers_beyond_int64(tmp_path):
    lines = ["scorer,DLC,DLC,DLC", "bodyparts,a,a,a", "coords,x,y,likelihood"]
    lines += [f"{'9' * 400},1,2,0.9", f"{'9' * 399},3,4,0.9"]
    path = tmp_path / "videoDLC.csv"
    path.write_text("\n".join(lines) + "\n")
    kp = read_dlc_csv(path, config=False)
    assert kp.num_frames == 2 and kp.frame_ids is None


# ---------------------------------------------------------------------- truncated CSV rows
@pytest.mark.parametrize("row", ["0", "0,1", "labeled-data"])
def test_dlc_csv_row_of_only_its_index_cell(tmp_path, row):
    lines = ["scorer,DLC,DLC,DLC", "bodyparts,a,a,a", "coords,x,y,likelihood", row, "1,1,2,0.9"]
    path = tmp_path / "videoDLC.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"videoDLC\.csv: line 4 has \d cells?, expected 4"):
        read_dlc_csv(path, config=False)


# ---------------------------------------------------------------------- HDF5 datasets of the wrong kind
def _sleap(path, **datasets):
    with h5py.File(path, "w") as f:
        for key, value in {"tracks": np.zeros((1, 2, 2, 3)), "node_names": [b"a", b"b"], **datasets}.items():
            if isinstance(value, str) and value == "group":
                f.create_group(key)
            elif value is not None:
                f.create_dataset(key, data=value)
    return path


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("tracks", np.array([[b"a"]]), r"'tracks' holds text, expected numbers"),
        ("tracks", "group", r"'tracks' is a group, expected a dataset"),
        ("node_names", "group", r"'node_names' is a group, expected a dataset"),
        ("node_names", np.zeros((2, 2)), r"'node_names' holds numbers, expected text"),
        ("track_occupancy", np.array([b"x"]), r"'track_occupancy' holds text"),
        ("point_scores", "group", r"'point_scores' is a group"),
        ("edge_inds", np.array([[b"a", b"b"]]), r"'edge_inds' holds text"),
        ("track_names", "group", r"'track_names' is a group"),
        ("edge_names", np.zeros((1, 2)), r"'edge_names' holds numbers"),
    ],
)
def test_sleap_datasets_of_the_wrong_kind(tmp_path, key, value, message):
    path = _sleap(tmp_path / "labels.analysis.h5", **{key: value})
    with pytest.raises(InputError, match=r"labels\.analysis\.h5: " + message):
        read_sleap(path)


def test_sleap_dataset_with_a_compound_type(tmp_path):
    rec = np.zeros(3, dtype=[("a", "<f8"), ("b", "<i4")])
    with pytest.raises(InputError, match=r"'tracks' holds records"):
        read_sleap(_sleap(tmp_path / "c.h5", tracks=rec))


def _dlc_h5(path, table=None, group_kind=None):
    columns = [("DLC", "a", c) for c in ("x", "y", "likelihood")]
    if table is None:
        table = np.zeros(2, dtype=[("index", "<i8"), ("values_block_0", "<f8", (3,))])
    with h5py.File(path, "w") as f:
        g = (
            f.create_dataset("df_with_missing", data=[1.0])
            if group_kind == "dataset"
            else f.create_group("df_with_missing")
        )
        g.attrs["pandas_type"] = b"frame_table"
        g.attrs["values_cols"] = np.bytes_(pickle.dumps(["values_block_0"], protocol=0))
        if group_kind != "dataset":
            ds = (
                f["df_with_missing"].create_group("table")
                if group_kind == "table_group"
                else g.create_dataset("table", data=table)
            )
            ds.attrs["values_block_0_kind"] = np.bytes_(pickle.dumps(columns, protocol=0))
            ds.attrs["values_block_0_dtype"] = b"float64"
    return path


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"group_kind": "dataset"}, r"no pandas DataFrame in this HDF5 file"),  # a DataFrame is a group
        ({"group_kind": "table_group"}, r"'df_with_missing/table' is a group, expected a dataset"),
        ({"table": np.zeros((2, 3))}, r"'df_with_missing/table' holds numbers, expected records"),
        ({"table": np.array([b"a", b"b"])}, r"'df_with_missing/table' holds text"),
    ],
)
def test_dlc_h5_datasets_of_the_wrong_kind(tmp_path, kw, message):
    path = _dlc_h5(tmp_path / "videoDLC.h5", **kw)
    with pytest.raises(InputError, match=r"videoDLC\.h5: " + message):
        read_dlc_h5(path, config=False)


def test_h5_dataset_that_claims_more_than_the_file_holds(tmp_path):
    path = tmp_path / "huge.analysis.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("tracks", shape=(10**6, 2, 2, 10**6), dtype="f8", chunks=(1, 2, 2, 1000))  # never written
        f.create_dataset("node_names", data=[b"a", b"b"])
    assert path.stat().st_size < 100_000
    with pytest.raises(InputError, match=r"huge\.analysis\.h5: 'tracks' .*32(\.0)? TB"):
        read_sleap(path)


# ---------------------------------------------------------------------- array headers that lie
def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr)
    return buf.getvalue()


def test_npz_header_that_claims_124_tib(tmp_path):
    raw = _npy(np.zeros((1, 17, 2))).replace(b"(1, 17, 2)", b"(1000000000000, 17, 2)")
    path = tmp_path / "lie.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("points.npy", raw[:300])
    with pytest.raises(InputError, match=r"lie\.npz: 'points' claims shape \(1000000000000, 17, 2\).*holds"):
        read_npz(path)


def test_npz_members_that_are_not_arrays_or_lie_about_their_size(tmp_path):
    ok = _npy(np.zeros((2, 3, 2)))
    cases = {
        "raw.npz": {"points": b"not an array"},  # np.load gives such members as bytes
        "nomagic.npz": {"points.npy": b"\x00" * 200},
        "short.npz": {"points.npy": ok[:-8]},
        "long.npz": {"points.npy": ok + b"\x00" * 64},
    }
    for name, members in cases.items():
        path = tmp_path / name
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            for member, data in members.items():
                z.writestr(member, data)
        with pytest.raises(InputError, match=name.replace(".", r"\.") + r": "):
            read_npz(path)


def test_npz_zip_entry_that_claims_more_than_deflate_can_give(tmp_path):
    """An entry whose header and zip directory agree on 2.7 GB, but whose compressed bytes are a few hundred: refused
    before anything is allocated (a zip bomb, or a lying directory)."""
    raw = _npy(np.zeros((1, 17, 2))).replace(b"(1, 17, 2)", b"(10000000, 17, 2)")
    raw = raw[:128] + bytes(1000)
    claimed = 128 + 10**7 * 17 * 2 * 8
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("points.npy", raw)
    data = path.read_bytes()
    size = len(raw).to_bytes(4, "little")
    assert data.count(size) == 2  # the local header and the central directory
    path.write_bytes(data.replace(size, claimed.to_bytes(4, "little")))
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"bomb\.npz: "):
            read_npz(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6, f"{peak / 1e6:.0f} MB allocated for a file of {len(data)} bytes"


# ---------------------------------------------------------------------- frames whose joints all coincide
@pytest.mark.parametrize("backend", BACKENDS)
def test_coincident_joints_are_refused_whatever_the_rounding(lifters, backend):
    rng = np.random.default_rng(0)
    for k in range(200):
        at = rng.uniform(-1e6, 1e6, 2) if k % 2 else rng.uniform(-1, 1, 2)
        points = rng.uniform(0, 100, (3, int(rng.integers(2, 20)), 2))
        points[1] = at  # every joint of frame 1 at one place
        with pytest.raises(InputError, match=r"frame\(s\) 1 \(1 of 3\)"):
            lifters[backend].lift(points)


def test_lfm_error_is_what_every_case_above_raises():
    assert issubclass(InputError, LFMError) and issubclass(RigError, LFMError)


# ---------------------------------------------------------------------- found by the fuzz suites (test_fuzz_readers_*)
def test_dlc_h5_pickle_attribute_that_is_a_number(tmp_path):
    """``bytes(n)`` of a number attribute where a pickle belongs allocated n bytes (1 TiB: MemoryError)."""
    path = _dlc_h5(tmp_path / "videoDLC.h5")
    with h5py.File(path, "a") as f:
        f["df_with_missing/table"].attrs["values_block_0_kind"] = 2**40
    with pytest.raises(InputError, match=r"videoDLC\.h5: the pandas attribute values_block_0_kind is a int"):
        read_dlc_h5(path, config=False)


def test_dlc_h5_labels_nested_too_deeply_to_print(tmp_path):
    """A column label holding 5,000 nested lists (a pickle is read without recursion, but printing it recurses)."""
    x, a = b"X\x01\x00\x00\x00x", b"X\x01\x00\x00\x00a"
    deep = b"]" * 5000 + x + b"a" * 5000
    path = _dlc_h5(tmp_path / "videoDLC.h5")
    with h5py.File(path, "a") as f:
        label = b"\x80\x02]" + (b"(" + a + deep + x + b"ta") * 3 + b"."  # 3 labels ("a", <deep>, "x")
        f["df_with_missing/table"].attrs["values_block_0_kind"] = np.void(label)
    with pytest.raises(InputError, match=r"videoDLC\.h5: the pandas values_block_0_kind holds a list"):
        read_dlc_h5(path, config=False)


def test_sleap_edge_names_of_the_wrong_shape(tmp_path):
    path = _sleap(tmp_path / "labels.analysis.h5", edge_names=np.array(b"a"))
    with pytest.raises(InputError, match=r"'edge_names' has shape \(\), expected \(edges, 2\)"):
        read_sleap(path)


def test_long_csv_edges_beyond_int64(tmp_path):
    path = tmp_path / "keypoints.csv"
    path.write_text(f"# edges: 0-{'9' * 30}\nframe,joint,x,y\n0,a,1,2\n0,b,3,4\n")
    with pytest.raises(InputError, match=r"keypoints\.csv: '# edges:' item"):
        read_keypoints(path)


def test_trailing_number_is_linear_in_the_text():
    """The old pattern ``(\\d+)(?!.*\\d)`` took time quadratic in the text: about a minute for this DeepLabCut image
    label of a million characters (a CSV cell holds up to 131,072, once per row)."""
    from reliability import hard_limit

    from lfm_engine.io.base import trailing_number

    with hard_limit(5):
        assert trailing_number("a1" * 500_000 + "b") == 1
    assert trailing_number("cam01.0042") == 42 and trailing_number("x") is None
    assert trailing_number("f" + "1" * 5000) is None  # more digits than Python converts
