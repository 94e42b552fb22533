"""Keypoint importers: OpenPose, COCO / WholeBody, DeepLabCut, SLEAP, MMPose and our NPZ / CSV.

Each reader runs on small files written here (the same layouts the tools write), and on the real files in
../shared/data when that folder is present. Missing points must be NaN with confidence 0, never zeros.
"""

import json
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lfm_engine import Rig, get_rig
from lfm_engine.errors import InputError
from lfm_engine.io import (
    Keypoints2D,
    available_formats,
    detect_format,
    read_coco,
    read_csv,
    read_dlc_csv,
    read_dlc_h5,
    read_keypoints,
    read_mmpose,
    read_npz,
    read_openpose,
    read_sleap,
    write_keypoints_csv,
    write_keypoints_npz,
)
from tests.conftest import SHARED_DATA

h5py = pytest.importorskip("h5py")

OPENPOSE_CLIP = SHARED_DATA / "footage" / "pose2sim_balancing" / "cam01_openpose_json"
DLC = SHARED_DATA / "dlc"


# ============================================================================ fixture writers
def _body25(centre, scale=100.0, rng=None) -> np.ndarray:
    """A BODY_25-like pose (25, 3): joints spread around ``centre`` with confidence 0.8."""
    rng = rng or np.random.default_rng(0)
    offsets = np.random.default_rng(42).uniform(-1, 1, (25, 2)) * scale
    xy = np.asarray(centre, float) + offsets + rng.normal(0, 1, (25, 2))
    return np.concatenate([xy, np.full((25, 1), 0.8)], axis=1)


def _write_openpose(folder, frames, names=None, extra=None):
    """One OpenPose JSON per frame; ``frames[t]`` is a list of (J, 3) arrays (x, y, c) for the people."""
    folder.mkdir(parents=True, exist_ok=True)
    for t, people in enumerate(frames):
        doc = {"version": 1.3, "people": []}
        for k, pose in enumerate(people):
            person = {
                "person_id": [-1],
                "pose_keypoints_2d": np.asarray(pose).reshape(-1).tolist(),
                "face_keypoints_2d": [],
                "hand_left_keypoints_2d": [],
                "hand_right_keypoints_2d": [],
            }
            person.update((extra or {}).get((t, k), {}))
            doc["people"].append(person)
        name = names[t] if names else f"clip_{t:012d}_keypoints.json"
        (folder / name).write_text(json.dumps(doc))
    return folder


def _write_pandas_table(path, columns, level_names, index, values):
    """A DataFrame as pandas' ``to_hdf(format="table")`` writes it (DeepLabCut's ``df_with_missing``)."""
    index = np.asarray(index)
    dtype = [("index", index.dtype), ("values_block_0", "<f8", (len(columns),))]
    table = np.zeros(len(index), dtype=dtype)
    table["index"] = index
    table["values_block_0"] = values
    with h5py.File(path, "w") as f:
        g = f.create_group("df_with_missing")
        g.attrs["pandas_type"] = b"frame_table"
        g.attrs["pandas_version"] = b"0.15.2"
        g.attrs["table_type"] = b"appendable_frame"
        g.attrs["values_cols"] = np.bytes_(pickle.dumps(["values_block_0"], protocol=0))
        g.attrs["info"] = np.bytes_(pickle.dumps({1: {"names": level_names, "type": "MultiIndex"}, "index": {}}, 0))
        g.attrs["non_index_axes"] = np.bytes_(pickle.dumps([(1, columns)], protocol=0))
        ds = g.create_dataset("table", data=table)
        ds.attrs["CLASS"] = b"TABLE"
        ds.attrs["values_block_0_kind"] = np.bytes_(pickle.dumps(columns, protocol=0))
        ds.attrs["values_block_0_dtype"] = b"float64"
    return path


def _write_multiindex(g, key, labels, names):
    g.attrs[f"{key}_variety"] = b"multi"
    g.attrs[f"{key}_nlevels"] = len(names)
    for i, name in enumerate(names):
        level_values = list(dict.fromkeys(lab[i] for lab in labels))
        lev = g.create_dataset(f"{key}_level{i}", data=np.array([v.encode() for v in level_values]))
        lev.attrs["name"] = name.encode() if name else b"N."
        lev.attrs["kind"] = b"string"
        g.create_dataset(f"{key}_label{i}", data=np.array([level_values.index(lab[i]) for lab in labels], np.int8))


def _write_pandas_fixed(path, key, columns, level_names, index_rows, values):
    """A DataFrame as pandas' ``to_hdf(format="fixed")`` writes it, with a MultiIndex of image paths as rows."""
    with h5py.File(path, "w") as f:
        g = f.create_group(key)
        g.attrs.update({"pandas_type": b"frame", "pandas_version": b"0.15.2", "ndim": 2, "nblocks": 1})
        _write_multiindex(g, "axis0", columns, level_names)
        _write_multiindex(g, "axis1", index_rows, [None] * len(index_rows[0]))
        _write_multiindex(g, "block0_items", columns, level_names)
        g.create_dataset("block0_values", data=values).attrs["transposed"] = 1
    return path


def _dlc_csv(path, columns, index_rows, values):
    """A DeepLabCut CSV: one header row per column level, then one row per frame (index cells first)."""
    n_index = len(index_rows[0]) if isinstance(index_rows[0], tuple) else 1
    lines = []
    names = (
        ["scorer", "individuals", "bodyparts", "coords"] if len(columns[0]) == 4 else ["scorer", "bodyparts", "coords"]
    )
    for level, name in enumerate(names):
        lines.append(",".join([name] + [""] * (n_index - 1) + [c[level] for c in columns]))
    for idx, row in zip(index_rows, values, strict=True):
        cells = list(idx) if n_index > 1 else [str(idx)]
        lines.append(",".join(cells + ["" if np.isnan(v) else repr(float(v)) for v in row]))
    path.write_text("\n".join(lines) + "\n")
    return path


# ============================================================================ Keypoints2D
def test_keypoints2d_validates_and_masks():
    pts = np.zeros((3, 2, 2))
    pts[1, 0] = np.nan
    pts[2, 1, 0] = np.nan  # half-missing counts as missing
    kp = Keypoints2D(pts, None, ("a", "b"), [[0, 1]], image_size=(640, 480), fps=30, source="x.npz")
    assert kp.points.dtype == np.float32 and kp.confidence.dtype == np.float32
    assert kp.mask.tolist() == [[True, True], [False, True], [True, False]]
    assert np.isnan(kp.points[2, 1]).all()
    assert kp.confidence.tolist() == [[1, 1], [0, 1], [1, 0]]
    assert kp.edges.dtype == np.int64 and kp.edges.shape == (1, 2)
    assert kp.image_size == (640, 480) and kp.fps == 30.0 and len(kp) == 3
    with pytest.raises(ValueError):
        kp.points[0, 0, 0] = 1.0  # read-only
    rig = kp.rig()
    assert isinstance(rig, Rig) and rig.joint_names == ("a", "b")


def test_keypoints2d_confidence_is_zeroed_where_missing():
    pts = np.array([[[1.0, 2.0], [np.nan, np.nan]]])
    kp = Keypoints2D(pts, [[0.5, 0.9]], ("a", "b"))
    assert kp.confidence.tolist() == [[0.5, 0.0]]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"joint_names": ("a", "a")}, "duplicate joint name 'a'"),
        ({"joint_names": ("a",)}, "1 joint names for 2 joints"),
        ({"confidence": np.ones((3, 2))}, r"confidence has shape \(3, 2\)"),
        ({"confidence": np.full((2, 2), 1.5)}, r"must be in \[0, 1\]"),
        ({"edges": [[0, 2]]}, "not a pair of joint indices"),
        ({"edges": [[1, 1]]}, "to itself"),
        ({"points": np.zeros((2, 2, 3))}, r"shape \(T, J, 2\)"),
        ({"image_size": (0, 5)}, "image_size"),
        ({"fps": -1}, "fps must be positive"),
    ],
)
def test_keypoints2d_rejects_bad_input(kwargs, match):
    args = {"points": np.zeros((2, 2, 2)), "confidence": None, "joint_names": ("a", "b"), "source": "f.npz"}
    args.update(kwargs)
    with pytest.raises(InputError, match=match) as err:
        Keypoints2D(**args)
    assert "f.npz" in str(err.value)


def test_rig_uses_the_standard_layout_when_named():
    rig = get_rig("coco17")
    kp = Keypoints2D(np.zeros((1, 17, 2)), None, rig.joint_names, rig.edge_array(), rig_name="coco17")
    assert kp.rig() is rig


def test_available_formats():
    assert set(available_formats()) == {"openpose", "coco", "mmpose", "dlc_csv", "dlc_h5", "sleap", "npz", "csv"}


# ============================================================================ OpenPose
def test_openpose_follows_one_person_when_order_swaps(tmp_path):
    rng = np.random.default_rng(1)
    frames = []
    for t in range(8):
        a = _body25((300 + 5 * t, 400), scale=120, rng=rng)  # the larger person, moving right
        b = _body25((900, 420), scale=80, rng=rng)
        frames.append([a, b] if t % 2 == 0 else [b, a])
    # OpenPose writes 0, 0, 0 for joints it did not find
    frames[3][1][4] = 0.0
    frames[3][1][7] = 0.0
    folder = _write_openpose(tmp_path / "op", frames)
    kp = read_openpose(folder)
    assert kp.points.shape == (8, 25, 2) and kp.rig_name == "openpose_body25"
    assert kp.joint_names == get_rig("openpose_body25").joint_names
    centre_x = np.nanmean(kp.points[..., 0], axis=1)
    np.testing.assert_allclose(centre_x, 300 + 5 * np.arange(8) + np.mean(frames[0][0][:, 0] - 300), atol=5)
    assert np.isnan(kp.points[3, [4, 7]]).all() and kp.confidence[3, [4, 7]].tolist() == [0, 0]
    assert not (kp.points == 0).all(-1).any()
    assert kp.mask.sum() == 8 * 25 - 2
    assert kp.frame_ids.tolist() == list(range(8)) and kp.image_size is None and kp.fps is None
    # person=1 follows the other one from the first frame on
    other = read_openpose(folder, person=1, fps=25, image_size=(1280, 720))
    assert np.all(np.nanmean(other.points[..., 0], axis=1) > 800)
    assert other.fps == 25.0 and other.image_size == (1280, 720)


def test_openpose_gate_masks_frames_where_the_person_is_absent(tmp_path):
    a = [_body25((300 + 2 * t, 400), scale=120) for t in range(6)]
    b = [_body25((1000, 400), scale=120) for _ in range(6)]
    frames = [[a[0], b[0]], [a[1], b[1]], [b[2]], [b[3]], [a[4], b[4]], [b[5], a[5]]]
    kp = read_openpose(_write_openpose(tmp_path / "op", frames))
    assert not kp.mask[2:4].any() and (kp.confidence[2:4] == 0).all()  # not switched to the other person
    assert kp.mask[[0, 1, 4, 5]].all()
    assert np.nanmax(kp.points[..., 0]) < 600
    # without a gate the track jumps to whoever is there
    assert read_openpose(tmp_path / "op", gate=None).mask[2:4].all()


def test_openpose_joins_a_person_split_in_two(tmp_path):
    a = [_body25((300, 400), scale=120) for _ in range(3)]
    upper, lower = a[1].copy(), a[1].copy()
    upper[9:] = 0.0
    lower[:9] = 0.0
    kp = read_openpose(_write_openpose(tmp_path / "op", [[a[0]], [upper, lower], [a[2]]]))
    assert kp.mask.all()
    np.testing.assert_allclose(kp.points[1], a[1][:, :2], atol=1e-3)
    assert read_openpose(tmp_path / "op", merge_fragments=False).mask[1].sum() in (9, 16)


def test_openpose_sorts_by_frame_number_not_name(tmp_path):
    frames = [[_body25((100 + 50 * t, 300))] for t in range(11)]
    names = [f"shot_{t}.json" for t in range(11)]  # shot_10 sorts before shot_2 as text
    kp = read_openpose(_write_openpose(tmp_path / "op", frames, names=names))
    assert kp.frame_ids.tolist() == list(range(11))
    assert np.all(np.diff(np.nanmean(kp.points[..., 0], axis=1)) > 0)


def test_openpose_coco18_and_hands_and_face(tmp_path):
    coco = np.concatenate([np.random.default_rng(0).uniform(100, 300, (18, 2)), np.full((18, 1), 0.9)], 1)
    kp = read_openpose(_write_openpose(tmp_path / "c18", [[coco], [coco]]))
    assert kp.rig_name == "openpose_coco18" and kp.points.shape == (2, 18, 2)

    hand = np.concatenate([np.random.default_rng(1).uniform(100, 300, (21, 2)), np.full((21, 1), 0.7)], 1)
    face = np.concatenate([np.random.default_rng(2).uniform(100, 300, (70, 2)), np.full((70, 1), 0.6)], 1)
    parts = {
        "hand_left_keypoints_2d": hand.reshape(-1).tolist(),
        "hand_right_keypoints_2d": (hand + np.array([5, 5, 0])).reshape(-1).tolist(),
        "face_keypoints_2d": face.reshape(-1).tolist(),
    }
    body = _body25((200, 200))
    full = read_openpose(_write_openpose(tmp_path / "full", [[body], [body]], extra={(0, 0): parts}))
    ref = get_rig("openpose_body25_hands_face")
    assert full.rig_name == ref.name and full.joint_names == ref.joint_names and full.points.shape == (2, 137, 2)
    np.testing.assert_allclose(full.points[0, 25:46], hand[:, :2], atol=1e-4)  # left hand after the body
    np.testing.assert_allclose(full.points[0, 67:], face[:, :2], atol=1e-4)  # face last
    assert full.mask[1, 25:].sum() == 0  # frame 1 has no hands or face: missing, not zeros
    assert full.rig() is ref

    hands_only = {k: v for k, v in parts.items() if "hand" in k}
    coco_hands = read_openpose(_write_openpose(tmp_path / "ch", [[coco]], extra={(0, 0): hands_only}))
    assert coco_hands.points.shape == (1, 60, 2) and coco_hands.rig_name is None
    rig = coco_hands.rig()
    names = rig.joint_names
    links = {(names[a], names[b]) for a, b in rig.edges} | {(names[b], names[a]) for a, b in rig.edges}
    assert ("LWrist", "LHand_Wrist") in links and ("RHand_Wrist", "RHand_Thumb1") in links
    assert read_openpose(tmp_path / "full", hands=False, face=False).points.shape == (2, 25, 2)


#: A person facing the camera (pixels, y down; the subject's left on the image's right), by OpenPose joint name:
#: BODY_25's Neck and MidHip are the midpoints of the shoulders and hips, BODY_25B's UpperNeck is under the chin.
_PERSON = {
    "Nose": (500, 200), "LEye": (510, 190), "REye": (490, 190), "LEar": (522, 196), "REar": (478, 196),
    "HeadTop": (500, 150), "UpperNeck": (500, 235), "Neck": (500, 262), "LShoulder": (540, 262),
    "RShoulder": (460, 262), "LElbow": (555, 340), "RElbow": (445, 340), "LWrist": (560, 410), "RWrist": (440, 410),
    "MidHip": (500, 420), "LHip": (525, 420), "RHip": (475, 420), "LKnee": (527, 530), "RKnee": (473, 530),
    "LAnkle": (525, 640), "RAnkle": (475, 640), "LBigToe": (538, 662), "LSmallToe": (548, 657), "LHeel": (520, 650),
    "RBigToe": (462, 662), "RSmallToe": (452, 657), "RHeel": (480, 650),
}  # fmt: skip


def _person(layout: str, frames: int = 6, rng=None) -> list[np.ndarray]:
    """``frames`` (25, 3) poses of :data:`_PERSON` in the joint order of ``layout``, walking right, confidence 0.8."""
    rng = rng or np.random.default_rng(3)
    xy = np.array([_PERSON[n] for n in get_rig(layout).joint_names], float)
    step = np.array([4.0, 0.0])
    return [np.concatenate([xy + t * step + rng.normal(0, 1.5, xy.shape), np.full((25, 1), 0.8)], 1)
            for t in range(frames)]  # fmt: skip


def test_openpose_tells_body25_from_body25b_by_geometry(tmp_path):
    for layout in ("openpose_body25", "openpose_body25b"):
        folder = _write_openpose(tmp_path / layout, [[pose] for pose in _person(layout)])
        kp = read_openpose(folder)
        assert kp.rig_name == layout and kp.joint_names == get_rig(layout).joint_names
        assert kp.rig() is get_rig(layout)
    b = tmp_path / "openpose_body25b"
    assert read_openpose(b, layout="body25").rig_name == "openpose_body25"  # layout= overrides the guess
    assert read_openpose(b, layout="openpose_body25b").rig_name == "openpose_body25b"
    assert read_keypoints(b, layout="BODY_25B").rig_name == "openpose_body25b"
    # Occluded eyes in some frames and hips in others still leave enough to decide.
    frames = _person("openpose_body25b", 8)
    for pose in frames[::2]:
        pose[[1, 2]] = 0.0
    for pose in frames[1::2]:
        pose[[11, 12]] = 0.0
    assert read_openpose(_write_openpose(tmp_path / "occluded", [[p] for p in frames])).rig_name == "openpose_body25b"
    # Undecidable (no eyes, neck or hips anywhere): BODY_25.
    frames = _person("openpose_body25b")
    for pose in frames:
        pose[[0, 1, 2, 8, 9, 11, 12]] = 0.0
    assert read_openpose(_write_openpose(tmp_path / "none", [[p] for p in frames])).rig_name == "openpose_body25"
    # BODY_25B with hands: the body's names, then the hands linked to its wrists.
    hand = np.concatenate([np.random.default_rng(1).uniform(400, 600, (21, 2)), np.full((21, 1), 0.7)], 1)
    extra = {(0, 0): {"hand_left_keypoints_2d": hand.reshape(-1).tolist()}}
    kp = read_openpose(_write_openpose(tmp_path / "hands", [[p] for p in _person("openpose_body25b")], extra=extra))
    assert kp.rig_name is None and kp.joint_names[:25] == get_rig("openpose_body25b").joint_names
    names = kp.rig().joint_names
    assert {("LWrist", "LHand_Wrist"), ("UpperNeck", "HeadTop")} <= {(names[a], names[b]) for a, b in kp.edges} | {
        (names[b], names[a]) for a, b in kp.edges
    }
    with pytest.raises(InputError, match="layout 'coco18' has 18 body points but the files have 25"):
        read_openpose(b, layout="coco18")
    with pytest.raises(InputError, match="unknown OpenPose layout 'mpi'"):
        read_openpose(b, layout="mpi")


def test_openpose_a_zero_coordinate_is_missing(tmp_path):
    """OpenPose writes some points it could not place with x = 0 (or y = 0) and a nonzero confidence."""
    frames = [[p] for p in _person("openpose_body25b", 4)]
    frames[1][0][0, 0] = 0.0  # the nose at x = 0, confidence 0.8
    frames[2][0][9, 1] = 0.0  # the left wrist at y = 0
    frames[3][0][3] = 0.0  # 0, 0, 0: not found
    kp = read_openpose(_write_openpose(tmp_path / "op", frames))
    assert kp.mask.sum() == 4 * 25 - 3
    for t, j in ((1, 0), (2, 9), (3, 3)):
        assert np.isnan(kp.points[t, j]).all() and kp.confidence[t, j] == 0 and not kp.mask[t, j]
    assert (kp.points[kp.mask] != 0).all()


def test_openpose_single_file(tmp_path):
    folder = _write_openpose(tmp_path / "op", [[_body25((100, 100)), _body25((400, 100), scale=200)]])
    kp = read_keypoints(next(folder.iterdir()))
    assert kp.points.shape == (1, 25, 2)
    assert np.nanmean(kp.points[0, :, 0]) > 300  # the larger person


def test_openpose_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_openpose(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty.*no OpenPose \.json files"):
        read_keypoints(tmp_path / "empty")
    bad = _write_openpose(tmp_path / "bad", [[_body25((1, 1))], [_body25((1, 1))]])
    (bad / "clip_000000000001_keypoints.json").write_text('{"people": [')
    with pytest.raises(InputError, match=r"clip_000000000001_keypoints\.json: not valid JSON"):
        read_openpose(bad)
    odd = _write_openpose(tmp_path / "odd", [[_body25((1, 1))[:, :2]]])  # 50 values: no confidences
    with pytest.raises(InputError, match=r"_keypoints\.json: person 0: .*50 values"):
        read_openpose(odd)
    coco = np.ones((18, 3))
    mixed = _write_openpose(tmp_path / "mixed", [[_body25((1, 1))], [coco]])
    with pytest.raises(InputError, match=r"clip_000000000001_keypoints\.json: person 0 has 18 body joints"):
        read_openpose(mixed)
    hands = _write_openpose(
        tmp_path / "hands", [[_body25((1, 1))]], extra={(0, 0): {"hand_left_keypoints_2d": [1.0] * 60}}
    )
    with pytest.raises(InputError, match="hand_left_keypoints_2d has 60 values, expected 63"):
        read_openpose(hands)
    twice = _write_openpose(tmp_path / "twice", [[_body25((1, 1))]] * 2, names=["cam1_0.json", "cam2_0.json"])
    with pytest.raises(InputError, match="same frame number 0"):
        read_openpose(twice)
    nobody = _write_openpose(tmp_path / "nobody", [[], []])
    with pytest.raises(InputError, match="no person"):
        read_openpose(nobody)
    with pytest.raises(InputError, match=r"person=5, but frame 0 .* has 1"):
        read_openpose(_write_openpose(tmp_path / "one", [[_body25((1, 1))]]), person=5)


# ============================================================================ COCO
def _coco_doc():
    names = ["head", "neck", "left_hand", "right_hand"]
    return {
        "images": [
            {"id": 7, "file_name": "b.jpg", "width": 640, "height": 480},
            {"id": 3, "file_name": "a.jpg", "width": 640, "height": 480},
            {"id": 9, "file_name": "c.jpg", "width": 640, "height": 480},
        ],
        "categories": [{"id": 1, "name": "person", "keypoints": names, "skeleton": [[1, 2], [2, 3], [2, 4]]}],
        "annotations": [
            {"id": 1, "image_id": 3, "category_id": 1, "area": 900.0,
             "keypoints": [10, 10, 2, 10, 20, 2, 0, 0, 0, 20, 30, 1], "num_keypoints": 3},
            {"id": 2, "image_id": 3, "category_id": 1, "area": 100.0,
             "keypoints": [500, 10, 2, 500, 20, 2, 490, 30, 2, 510, 30, 2], "num_keypoints": 4},
            {"id": 3, "image_id": 7, "category_id": 1, "area": 50.0,
             "keypoints": [600, 10, 2, 600, 20, 2, 590, 30, 2, 610, 30, 2], "num_keypoints": 4},
            {"id": 4, "image_id": 7, "category_id": 1, "iscrowd": 1, "area": 5000.0,
             "keypoints": [0] * 12, "num_keypoints": 0},
        ],
    }  # fmt: skip


def test_coco_keypoints_with_one_based_skeleton(tmp_path):
    path = tmp_path / "person_keypoints.json"
    path.write_text(json.dumps(_coco_doc()))
    kp = read_keypoints(path)
    assert kp.joint_names == ("head", "neck", "left_hand", "right_hand")
    assert kp.edges.tolist() == [[0, 1], [1, 2], [1, 3]]  # 1-based in the file
    assert kp.frame_ids.tolist() == [3, 7, 9]  # images sorted by id
    assert kp.image_size == (640, 480) and kp.rig_name is None
    np.testing.assert_allclose(kp.points[0, [0, 1, 3]], [[10, 10], [10, 20], [20, 30]])  # largest person
    assert np.isnan(kp.points[0, 2]).all() and kp.confidence[0].tolist() == [1, 1, 0, 1]  # v=0 missing, v=1 kept
    assert kp.points[1, 0].tolist() == [600, 10]  # crowd annotation skipped
    assert not kp.mask[2].any()  # image 9 has nobody
    assert kp.rig().parents is not None


def test_coco17_and_track_ids(tmp_path):
    rig = get_rig("coco17")

    def ann(image_id, tid):
        xyv = np.column_stack([np.full(17, 100.0 * tid + image_id), np.arange(17.0), np.full(17, 2)])
        return {"image_id": image_id, "category_id": 1, "track_id": tid, "bbox": [0, 0, 10 * (tid + 1), 10],
                "keypoints": xyv.ravel().tolist()}  # fmt: skip

    doc = {
        "images": [{"id": i} for i in range(3)],
        "categories": [
            {"id": 1, "keypoints": list(rig.joint_names), "skeleton": [[a + 1, b + 1] for a, b in rig.edges]}
        ],
        "annotations": [ann(i, tid) for i in range(3) for tid in (0, 1) if not (tid == 0 and i == 2)],
    }
    path = tmp_path / "posetrack.json"
    path.write_text(json.dumps(doc))
    kp = read_coco(path)
    assert kp.rig_name == "coco17" and kp.rig() is rig
    assert kp.points[:, 0, 0].tolist() == [100, 101, 102]  # track 1: the one with the most annotations
    kp0 = read_keypoints(path, track_id=0)
    assert kp0.points[:2, 0, 0].tolist() == [0, 1] and not kp0.mask[2].any()
    with pytest.raises(InputError, match=r"posetrack\.json: no annotation has track_id 5"):
        read_coco(path, track_id=5)


def test_coco_wholebody_133(tmp_path):
    parts = {"keypoints": 17, "foot_kpts": 6, "face_kpts": 68, "lefthand_kpts": 21, "righthand_kpts": 21}
    ann = {"id": 1, "image_id": 1, "category_id": 1, "area": 10.0}
    offset = 0
    for key, n in parts.items():
        xyv = np.column_stack([offset + np.arange(n, dtype=float), np.full(n, 5.0), np.full(n, 2.0)])
        ann[key] = xyv.ravel().tolist()
        offset += n
    ann["face_kpts"][2::3] = [0.0] * 68  # face not annotated
    doc = {"images": [{"id": 1, "width": 100, "height": 80}], "annotations": [ann],
           "categories": [{"id": 1, "keypoints": list(get_rig("coco17").joint_names), "skeleton": []}]}  # fmt: skip
    path = tmp_path / "coco_wholebody_val.json"
    path.write_text(json.dumps(doc))
    kp = read_keypoints(path)
    ref = get_rig("coco_wholebody133")
    assert kp.rig_name == "coco_wholebody133" and kp.joint_names == ref.joint_names and kp.points.shape == (1, 133, 2)
    x = kp.points[0, :, 0]
    assert x[17] == 17 and x[91] == 91 and x[112] == 112  # feet, left hand, right hand in layout order
    assert kp.joint_names[91] == "left_hand_root" and kp.joint_names[17] == "left_big_toe"
    assert np.isnan(kp.points[0, 23:91]).all() and kp.mask.sum() == 133 - 68


def test_coco_errors(tmp_path):
    doc = _coco_doc()
    doc["categories"][0]["skeleton"] = [[0, 1]]  # 0-based by mistake
    path = tmp_path / "zero_based.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"zero_based\.json: skeleton link 0 \[0, 1\].*from 1"):
        read_coco(path)
    doc = _coco_doc()
    doc["annotations"][0]["keypoints"] = [1, 2, 2] * 3
    path = tmp_path / "short.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(
        InputError, match=r"short\.json: annotation 1 \(image 3\): 'keypoints' has 9 values, expected 12"
    ):
        read_coco(path)


# ============================================================================ DeepLabCut
def test_dlc_single_animal_csv_with_config_above(tmp_path):
    project = tmp_path / "project"
    folder = project / "labeled-data" / "video1"
    folder.mkdir(parents=True)
    (project / "config.yaml").write_text(
        "Task: test\nbodyparts:\n- nose\n- ear\n- tail\nskeleton:\n- - nose\n  - ear\n- - ear\n  - tail\n"
        "- - ear\n  - paw\nskeleton_color: black\n"
    )
    cols = [("me", bp, c) for bp in ("nose", "ear", "tail") for c in ("x", "y")]
    values = np.arange(18, dtype=float).reshape(3, 6)
    values[1, 2:4] = np.nan  # ear not labelled in frame 1
    rows = [("labeled-data", "video1", f"img{i:03d}.png") for i in (4, 8, 15)]
    kp = read_keypoints(_dlc_csv(folder / "CollectedData_me.csv", cols, rows, values))
    assert kp.joint_names == ("nose", "ear", "tail")
    assert kp.edges.tolist() == [[0, 1], [1, 2]]  # 'paw' is not a body part: skipped
    assert kp.frame_ids.tolist() == [4, 8, 15]
    assert np.isnan(kp.points[1, 1]).all() and kp.confidence.tolist() == [[1, 1, 1], [1, 0, 1], [1, 1, 1]]
    np.testing.assert_array_equal(kp.points[2], values[2].reshape(3, 2))
    assert read_dlc_csv(folder / "CollectedData_me.csv", config=False).edges.shape == (0, 2)


def test_dlc_multi_animal_csv_and_h5_agree(tmp_path):
    inds = {"mouse1": ("snout", "tail"), "mouse2": ("snout", "tail"), "single": ("food",)}
    cols = [("DLC_scorer", i, bp, c) for i, bps in inds.items() for bp in bps for c in ("x", "y", "likelihood")]
    rng = np.random.default_rng(3)
    values = rng.uniform(0, 1, (5, len(cols))) * np.tile([640, 480, 1], len(cols) // 3)
    values[2, 3:6] = np.nan  # mouse1's tail lost in frame 2
    csv_path = _dlc_csv(tmp_path / "videoDLC_scorer_el.csv", cols, list(range(5)), values)
    h5_path = _write_pandas_table(tmp_path / "videoDLC_scorer_el.h5", cols,
                                  ["scorer", "individuals", "bodyparts", "coords"], np.arange(5), values)  # fmt: skip
    for path in (csv_path, h5_path):
        kp = read_keypoints(path)
        assert kp.joint_names == ("snout", "tail") and kp.points.shape == (5, 2, 2)
        np.testing.assert_allclose(kp.points[0, 1], values[0, 3:5], rtol=1e-6)
        np.testing.assert_allclose(kp.confidence[0], values[0, [2, 5]], rtol=1e-6)
        assert np.isnan(kp.points[2, 1]).all() and kp.confidence[2, 1] == 0
        assert kp.frame_ids.tolist() == list(range(5))
        m2 = read_keypoints(path, individual="mouse2")
        np.testing.assert_allclose(m2.points[:, 0], values[:, 6:8], rtol=1e-6)
        assert read_keypoints(path, individual=2).joint_names == ("food",)
        with pytest.raises(InputError, match=r"no individual 'rat'.*mouse1"):
            read_keypoints(path, individual="rat")
    assert detect_format(csv_path) == "dlc_csv" and detect_format(h5_path) == "dlc_h5"


def test_dlc_fixed_format_h5_with_image_path_rows(tmp_path):
    cols = [("John", bp, c) for bp in ("nose", "ear") for c in ("x", "y")]
    rows = [("labeled-data", "vid", f"img{i:03d}.png") for i in (3, 7, 12)]
    values = np.arange(12, dtype=float).reshape(3, 4)
    values[1, 2:] = np.nan
    path = _write_pandas_fixed(tmp_path / "CollectedData_John.h5", "keypoints", cols, ["scorer", "bodyparts", "coords"],
                               rows, values)  # fmt: skip
    kp = read_dlc_h5(path, config=False)
    assert kp.joint_names == ("nose", "ear") and kp.frame_ids.tolist() == [3, 7, 12]
    np.testing.assert_array_equal(kp.points[2], [[8, 9], [10, 11]])
    assert np.isnan(kp.points[1, 1]).all()


def test_dlc_h5_refuses_pickles_that_load_code(tmp_path):
    cols = [("s", "nose", "x"), ("s", "nose", "y")]
    path = _write_pandas_table(
        tmp_path / "evil.h5", cols, ["scorer", "bodyparts", "coords"], np.arange(2), np.ones((2, 2))
    )
    with h5py.File(path, "a") as f:
        f["df_with_missing/table"].attrs["values_block_0_kind"] = np.bytes_(b"cos\nsystem\n(S'echo hi'\ntR.")
    with pytest.raises(InputError, match=r"evil\.h5: cannot read the pandas attribute .*refusing to load os\.system"):
        read_dlc_h5(path)


def test_dlc_errors(tmp_path):
    cols = [("me", "nose", "x"), ("me", "nose", "y")]
    path = _dlc_csv(tmp_path / "bad.csv", cols, [0, 1], np.ones((2, 2)))
    path.write_text(path.read_text().replace("1.0,1.0\n", "1.0,abc\n", 1))
    with pytest.raises(InputError, match=r"bad\.csv: line 4, column 3 \(nose/y\): 'abc' is not a number"):
        read_keypoints(path)
    path = _dlc_csv(tmp_path / "nox.csv", [("me", "nose", "y"), ("me", "nose", "likelihood")], [0], np.ones((1, 2)))
    with pytest.raises(InputError, match=r"nox\.csv: body part 'nose' has no 'x' column"):
        read_keypoints(path)
    dup = _dlc_csv(tmp_path / "dup.csv", cols + cols, [0], np.ones((1, 4)))
    with pytest.raises(InputError, match=r"dup\.csv: body part 'nose' has two 'x' columns"):
        read_keypoints(dup)
    with pytest.raises(InputError, match=r"single-animal"):
        read_dlc_csv(_dlc_csv(tmp_path / "one.csv", cols, [0], np.ones((1, 2))), individual="mouse")


# ============================================================================ SLEAP
def _write_sleap(path, locations, scores, occupancy, node_names, edge_inds, track_names, transpose=True):
    """An analysis file as ``sleap.info.write_tracking_h5`` writes it: numpy arrays transposed for MATLAB (lists,
    such as ``node_names`` and ``edge_inds``, as they are)."""
    data = {
        "track_names": [n.encode() for n in track_names],
        "node_names": [n.encode() for n in node_names],
        "edge_names": [(node_names[a].encode(), node_names[b].encode()) for a, b in edge_inds],
        "edge_inds": edge_inds,
        "tracks": locations,  # (frames, nodes, 2, tracks)
        "track_occupancy": occupancy,  # (tracks, frames)
        "point_scores": scores,  # (frames, nodes, tracks)
        "instance_scores": scores.mean(axis=1),
        "labels_path": "labels.slp",
        "video_path": "video.mp4",
        "video_ind": 0,
        "provenance": "{}",
    }
    with h5py.File(path, "w") as f:
        for key, val in data.items():
            if isinstance(val, np.ndarray):
                f.create_dataset(key, data=val.T if transpose else val, compression="gzip")
            else:
                f.create_dataset(key, data=val)
    return path


def _sleap_data(rng):
    T, J, K = 6, 3, 2
    loc = rng.uniform(0, 500, (T, J, 2, K))
    scores = rng.uniform(0.2, 1.0, (T, J, K))
    occ = np.ones((K, T), dtype=np.uint8)
    occ[0, 4:] = 0  # track 0 ends at frame 4
    loc[4:, :, :, 0] = np.nan
    scores[4:, :, 0] = np.nan
    loc[1, 2, :, 1] = np.nan  # one node lost
    scores[1, 2, 1] = np.nan
    return loc, scores, occ


@pytest.mark.parametrize("transpose", [True, False])
def test_sleap_analysis_h5(tmp_path, transpose):
    loc, scores, occ = _sleap_data(np.random.default_rng(4))
    path = _write_sleap(tmp_path / "labels.v001.analysis.h5", loc, scores, occ, ["head", "thorax", "abdomen"],
                        [(0, 1), (1, 2)], ["track_0", "track_1"], transpose=transpose)  # fmt: skip
    with h5py.File(path) as f:
        assert f["tracks"].shape == ((2, 2, 3, 6) if transpose else (6, 3, 2, 2))
    kp = read_keypoints(path)
    assert detect_format(path) == "sleap"
    assert kp.joint_names == ("head", "thorax", "abdomen") and kp.edges.tolist() == [[0, 1], [1, 2]]
    np.testing.assert_allclose(kp.points, loc[..., 1], rtol=1e-6)  # track 1: in the most frames
    np.testing.assert_allclose(kp.confidence[0], scores[0, :, 1], rtol=1e-6)
    assert np.isnan(kp.points[1, 2]).all() and kp.confidence[1, 2] == 0
    t0 = read_sleap(path, track="track_0")
    assert t0.mask[:4].all() and not t0.mask[4:].any()
    np.testing.assert_allclose(t0.points[:4], loc[:4, :, :, 0], rtol=1e-6)
    with pytest.raises(InputError, match=r"analysis\.h5: no track named 'fly'"):
        read_sleap(path, track="fly")
    with pytest.raises(InputError, match=r"track=7, but the file has 2"):
        read_sleap(path, track=7)


def test_sleap_user_labels_without_scores_get_confidence_one(tmp_path):
    loc, scores, occ = _sleap_data(np.random.default_rng(5))
    path = _write_sleap(tmp_path / "user.h5", loc, np.full_like(scores, np.nan), occ, ["a", "b", "c"], [(0, 1)],
                        ["t0", "t1"])  # fmt: skip
    kp = read_sleap(path, track=1)
    assert (kp.confidence[kp.mask] == 1).all() and (kp.confidence[~kp.mask] == 0).all()


# ============================================================================ MMPose
def _instance(centre, K=17, scale=50.0, score=0.9):
    xy = np.asarray(centre) + np.random.default_rng(7).uniform(-1, 1, (K, 2)) * scale
    return {"keypoints": xy.tolist(), "keypoint_scores": [score] * K, "bbox": [[0, 0, 1, 1]], "bbox_score": 0.99}


def test_mmpose_inferencer_predictions_track_one_person(tmp_path):
    frames = []
    for t in range(5):
        a, b = _instance((200 + 3 * t, 300), scale=80), _instance((600, 300), scale=40, score=0.95)
        frames.append({"frame_id": t, "instances": [a, b] if t % 2 else [b, a]})
    frames[2]["instances"][0]["keypoint_scores"][3] = 1.02  # scores slightly above 1 happen
    path = tmp_path / "results_clip.json"
    path.write_text(json.dumps(frames))
    kp = read_keypoints(path)
    assert detect_format(path) == "mmpose"
    assert kp.rig_name == "coco17" and kp.points.shape == (5, 17, 2)
    assert np.all(np.nanmean(kp.points[..., 0], axis=1) < 400)
    assert kp.confidence.max() <= 1.0 and kp.frame_ids.tolist() == list(range(5))
    assert np.all(np.nanmean(read_mmpose(path, person=0).points[..., 0], axis=1) > 400)  # frame 0 lists b first


def test_mmpose_meta_info_hand_and_rig_argument(tmp_path):
    names = {str(i): f"p{i}" for i in range(5)}
    doc = {
        "meta_info": {"dataset_name": "custom", "keypoint_id2name": names, "skeleton_links": [[0, 1], [1, 2], [2, 1]]},
        "instance_info": [{"frame_id": 1, "instances": [_instance((50, 50), K=5)]},
                          {"frame_id": 2, "instances": []}],
    }  # fmt: skip
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(doc))
    kp = read_keypoints(path)
    assert kp.joint_names == ("p0", "p1", "p2", "p3", "p4") and kp.edges.tolist() == [[0, 1], [1, 2]]
    assert kp.frame_ids.tolist() == [1, 2] and not kp.mask[1].any()

    hand = tmp_path / "hand.json"
    hand.write_text(json.dumps([[_instance((9, 9), K=21)], [_instance((9, 9), K=21)]]))
    assert read_keypoints(hand).rig_name == "openpose_hand21"
    assert read_keypoints(hand, rig="mediapipe_hand21").joint_names == get_rig("mediapipe_hand21").joint_names
    with pytest.raises(InputError, match=r"hand\.json: rig 'coco17' has 17 joints but the file has 21"):
        read_keypoints(hand, rig="coco17")


def test_mmpose_flat_coco_results_grouped_by_image(tmp_path):
    def result(image_id, x, score):
        kps = np.column_stack([np.full(17, x), np.arange(17.0), np.full(17, score)]).ravel().tolist()
        return {"image_id": image_id, "category_id": 1, "keypoints": kps, "score": score}

    path = tmp_path / "result_keypoints.json"
    path.write_text(json.dumps([result(5, 10, 0.9), result(4, 12, 0.9), result(5, 300, 0.5), result(6, 11, 0.8)]))
    kp = read_keypoints(path)
    assert kp.frame_ids.tolist() == [4, 5, 6]
    assert kp.points[:, 0, 0].tolist() == [12, 10, 11]


def test_mmpose_errors(tmp_path):
    path = tmp_path / "ragged.json"
    path.write_text(json.dumps([{"instances": [_instance((5, 5))]}, {"instances": [_instance((5, 5), K=16)]}]))
    with pytest.raises(InputError, match=r"ragged\.json: frame 1, instance 0 has 16 keypoints, but others have 17"):
        read_keypoints(path)
    path = tmp_path / "scores.json"
    path.write_text(json.dumps([{"keypoints": [[1, 2], [3, 4]], "keypoint_scores": [1.0]}]))
    with pytest.raises(InputError, match=r"scores\.json: frame 0, instance 0: 1 keypoint_scores for 2 keypoints"):
        read_keypoints(path)


# ============================================================================ our NPZ and CSV
def _sample():
    rng = np.random.default_rng(8)
    pts = rng.uniform(0, 1000, (4, 17, 2))
    pts[1, 3] = np.nan
    conf = rng.uniform(0.1, 1, (4, 17))
    rig = get_rig("coco17")
    return Keypoints2D(pts, conf, rig.joint_names, rig.edge_array(), image_size=(1920, 1080), fps=29.97,
                       source="sample", rig_name="coco17", frame_ids=[10, 11, 12, 14])  # fmt: skip


def _assert_same(a: Keypoints2D, b: Keypoints2D):
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_allclose(a.confidence, b.confidence, rtol=1e-6)
    assert a.joint_names == b.joint_names and a.edges.tolist() == b.edges.tolist()
    assert (a.image_size, a.fps, a.rig_name) == (b.image_size, b.fps, b.rig_name)
    assert a.frame_ids.tolist() == b.frame_ids.tolist()


def test_npz_and_csv_round_trip(tmp_path):
    kp = _sample()
    npz = write_keypoints_npz(kp, tmp_path / "clip")
    assert npz.name == "clip.npz" and detect_format(npz) == "npz"
    _assert_same(kp, read_keypoints(npz))
    csv_path = write_keypoints_csv(kp, tmp_path / "clip.csv")
    assert detect_format(csv_path) == "csv"
    back = read_keypoints(csv_path)
    _assert_same(kp, back)
    assert back.rig() is get_rig("coco17")


def test_hand_written_csv(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(
        "# fps: 24\n# rig: coco17\nframe,joint,x,y\n"
        + "".join(
            f"{t},{name},{t + j},{j}\n"
            for t in range(2)
            for j, name in enumerate(get_rig("coco17").joint_names)
            if (t, j) not in ((1, 5), (1, 16))  # (1, 16): no line at all
        )
        + "1,left_shoulder,nan,\n"  # written as missing
    )
    kp = read_csv(path)
    assert kp.points.shape == (2, 17, 2) and kp.fps == 24 and kp.rig_name == "coco17"
    assert kp.edges.tolist() == get_rig("coco17").edge_array().tolist() and kp.frame_ids is None
    assert kp.mask.sum() == 34 - 2 and not kp.mask[1, [5, 16]].any() and (kp.confidence[1, [5, 16]] == 0).all()
    assert kp.points[1, 3].tolist() == [4, 3] and kp.confidence[0, 5] == 1


def test_npz_with_points_only(tmp_path):
    np.savez(tmp_path / "bare.npz", points=np.ones((2, 3, 2)))
    kp = read_npz(tmp_path / "bare.npz")
    assert kp.joint_names == ("joint_0", "joint_1", "joint_2") and kp.edges.shape == (0, 2)
    assert read_npz(tmp_path / "bare.npz", rig=Rig.from_edges(["a", "b", "c"], [(0, 1)])).joint_names == ("a", "b", "c")


def test_own_format_errors(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("frame,joint,x,y,confidence\n0,a,1,2,1\n0,b,1,2,1\n0,a,3,4,1\n")
    with pytest.raises(InputError, match=r"dup\.csv: frame 0, joint 'a' appears on more than one line \[2, 4\]"):
        read_keypoints(path)
    path = tmp_path / "frac.csv"
    path.write_text("frame,joint,x,y\n0.5,a,1,2\n")
    with pytest.raises(InputError, match=r"frac\.csv: line 2: frame '0.5' is not an integer"):
        read_keypoints(path)
    np.savez(tmp_path / "nopoints.npz", xy=np.ones((2, 3, 2)))
    with pytest.raises(InputError, match=r"nopoints\.npz: no 'points' array"):
        read_keypoints(tmp_path / "nopoints.npz")
    np.savez(tmp_path / "dupnames.npz", points=np.ones((1, 2, 2)), joint_names=np.array(["a", "a"]))
    with pytest.raises(InputError, match=r"dupnames\.npz: duplicate joint name 'a'"):
        read_keypoints(tmp_path / "dupnames.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match=r"junk\.npz: not a readable \.npz"):
        read_keypoints(tmp_path / "junk.npz")


# ============================================================================ dispatch errors
def test_dispatch_errors(tmp_path):
    with pytest.raises(InputError, match=r"missing\.json: file or folder not found"):
        read_keypoints(tmp_path / "missing.json")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match=r"notes\.txt: unknown keypoint file type '\.txt'"):
        read_keypoints(tmp_path / "notes.txt")
    (tmp_path / "other.json").write_text('{"foo": 1}')
    with pytest.raises(InputError, match=r"other\.json: unknown JSON keypoint layout \(top-level keys: foo\)"):
        read_keypoints(tmp_path / "other.json")
    (tmp_path / "broken.json").write_text('[{"keypoints": [1, 2,')
    with pytest.raises(InputError, match=r"broken\.json: not valid JSON .* line 1"):
        read_keypoints(tmp_path / "broken.json")
    (tmp_path / "table.csv").write_text("a,b,c\n1,2,3\n")
    with pytest.raises(InputError, match=r"table\.csv: unknown CSV layout"):
        read_keypoints(tmp_path / "table.csv")
    with h5py.File(tmp_path / "data.h5", "w") as f:
        f["x"] = np.ones(3)
    with pytest.raises(InputError, match=r"data\.h5: unknown HDF5 layout \(top-level entries: x\)"):
        read_keypoints(tmp_path / "data.h5")
    (tmp_path / "fake.h5").write_text("not hdf5")
    with pytest.raises(InputError, match=r"fake\.h5: not a readable HDF5 file"):
        read_keypoints(tmp_path / "fake.h5")
    np.savez(tmp_path / "ok.npz", points=np.ones((1, 2, 2)))
    with pytest.raises(InputError, match=r"ok\.npz: the npz reader takes no argument person"):
        read_keypoints(tmp_path / "ok.npz", person=1)
    with pytest.raises(InputError, match=r"unknown format 'bvh'"):
        read_keypoints(tmp_path / "ok.npz", format="bvh")


def test_importing_and_reading_needs_neither_pandas_nor_bpy(tmp_path):
    """In a fresh interpreter: this session may have imported bpy already (the add-on tests' conftest does)."""
    _write_pandas_table(tmp_path / "x.h5", [("s", "a", "x"), ("s", "a", "y")], ["scorer", "bodyparts", "coords"],
                        np.arange(2), np.ones((2, 2)))  # fmt: skip
    code = (
        "import sys; from lfm_engine.io import read_keypoints; read_keypoints(sys.argv[1]); "
        "heavy = {'bpy', 'pandas'} & set(sys.modules); assert not heavy, heavy"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.h5")], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert done.returncode == 0, done.stderr


# ============================================================================ real files (../shared/data)
needs_openpose_clip = pytest.mark.skipif(not OPENPOSE_CLIP.is_dir(), reason=f"shared data absent: {OPENPOSE_CLIP}")
needs_dlc = pytest.mark.skipif(not DLC.is_dir(), reason=f"shared data absent: {DLC}")


@needs_openpose_clip
def test_real_openpose_clip_follows_the_participant():
    start = time.perf_counter()
    kp = read_keypoints(OPENPOSE_CLIP)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"reading 100 OpenPose files took {elapsed:.2f} s"
    assert kp.points.shape == (100, 25, 2) and kp.rig_name == "openpose_body25b"  # Pose2Sim's default model
    assert kp.frame_ids.tolist() == list(range(100))
    assert (kp.mask.sum(1) >= 20).all()  # the participant is found in every frame (frame 37 is split in two)
    assert not (kp.points == 0).any() and (kp.confidence[~kp.mask] == 0).all()  # no zero coordinate left
    # Frames 4-8 and 15 have the nose at x = 0 with a confidence of about 0.65: missing.
    assert np.flatnonzero(~kp.mask[:20, 0]).tolist() == [4, 5, 6, 7, 8, 15]
    # BODY_25B: UpperNeck (17) lies between the shoulders (5, 6) and the nose (0), the eyes (1, 2) next to the nose.
    ok = kp.mask[:, [0, 5, 6, 17]].all(1)
    p = kp.points[ok].astype(np.float64)
    shoulders = (p[:, 5] + p[:, 6]) / 2
    along = ((p[:, 17] - shoulders) * (p[:, 0] - shoulders)).sum(-1) / ((p[:, 0] - shoulders) ** 2).sum(-1)
    assert 0.1 < np.median(along) < 0.9  # (its position along shoulders -> nose)
    p = kp.points.astype(np.float64)
    width = np.linalg.norm(p[:, 5] - p[:, 6], axis=-1)
    assert np.nanmedian(np.linalg.norm(p[:, 1] - p[:, 0], axis=-1) / width) < 0.3
    assert read_keypoints(OPENPOSE_CLIP, layout="body25").rig_name == "openpose_body25"
    # the track never jumps: the centroid of the joints seen in both frames moves little between frames
    both = kp.mask[1:] & kp.mask[:-1]
    for t in range(99):
        a, b = kp.points[t][both[t]].mean(0), kp.points[t + 1][both[t]].mean(0)
        assert np.linalg.norm(b - a) < 60, f"frame {t} -> {t + 1}: the centroid moved {np.linalg.norm(b - a):.0f} px"
    assert np.nanmean(kp.points[..., 0], axis=1).min() > 300  # the participant, not the person at x ~ 60
    other = read_keypoints(OPENPOSE_CLIP, person=1)
    assert np.nanmean(other.points[..., 0], axis=1).max() < 150


@needs_dlc
@pytest.mark.parametrize(
    ("project", "scorer", "frames", "parts"),
    [("openfield", "Pranav", 116, ("snout", "leftear", "rightear", "tailbase")),
     ("reaching", "Mackenzie", 55, ("Hand", "Finger1", "Tongue", "Joystick1", "Joystick2"))],
)  # fmt: skip
def test_real_dlc_csv_and_h5_agree(project, scorer, frames, parts):
    csv_kp = read_keypoints(DLC / project / f"CollectedData_{scorer}.csv")
    h5_kp = read_keypoints(DLC / project / f"CollectedData_{scorer}.h5")
    for kp in (csv_kp, h5_kp):
        assert kp.points.shape == (frames, len(parts), 2) and kp.joint_names == parts
    np.testing.assert_array_equal(csv_kp.points, h5_kp.points)
    np.testing.assert_array_equal(csv_kp.confidence, h5_kp.confidence)
    np.testing.assert_array_equal(csv_kp.edges, h5_kp.edges)
    np.testing.assert_array_equal(csv_kp.frame_ids, h5_kp.frame_ids)


@needs_dlc
def test_real_dlc_reaching_has_gaps_and_a_skeleton():
    kp = read_keypoints(DLC / "reaching" / "CollectedData_Mackenzie.h5")
    tongue = kp.joint_names.index("Tongue")
    assert not kp.mask[0, tongue] and kp.mask[1, tongue]  # img005 has no tongue label, img020 has one
    assert 0 < (~kp.mask).sum() < kp.mask.size and (kp.confidence[~kp.mask] == 0).all()
    assert kp.confidence[kp.mask].min() == 1.0  # labelled data: no likelihood
    assert {tuple(kp.joint_names[i] for i in e) for e in kp.edges} == {("Hand", "Finger1"), ("Joystick1", "Joystick2")}
    assert kp.frame_ids[:3].tolist() == [5, 20, 23]
    openfield = read_keypoints(DLC / "openfield" / "CollectedData_Pranav.csv")
    assert openfield.edges.shape == (0, 2) and openfield.mask.all()  # empty skeleton, every point labelled


def test_track_that_starts_on_a_single_joint_still_follows_its_subject(tmp_path):
    bodies = [_body25((300, 300), scale=100) for _ in range(4)]
    first = np.zeros((25, 3))
    first[1] = bodies[0][1]  # only the neck is seen at first
    frames = [[first]] + [[b] for b in bodies[1:]]
    kp = read_openpose(_write_openpose(tmp_path / "op", frames))
    assert kp.mask[0].sum() == 1 and kp.mask[1:].all()
