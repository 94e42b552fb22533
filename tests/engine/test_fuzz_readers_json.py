"""Fuzzing the JSON readers (OpenPose, COCO, MMPose) with files of their format.

Each case is a valid document of random size (people, frames, joints, hands and face, tracks, WholeBody parts,
the three MMPose layouts), then up to four changes anywhere in it (tests/engine/fuzzing.py: values of the wrong
type, huge integers, nesting around the depth limit, deletions, truncated and extended lists ...), sometimes a
damaged text (truncated, a pathologically deep prefix). Each must end in a valid result or an ``LFMError`` naming
the file, and leave the files unchanged. Read through :func:`read_keypoints` (format detection) or the format's
own reader. Cases and outcomes: ``pytest tests/engine/test_fuzz_readers_json.py --hypothesis-show-statistics``.
"""

from __future__ import annotations

import json

import numpy as np
from fuzzing import check_read, mutate, workdir
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability import RELIABILITY

from lfm_engine.io import read_coco, read_keypoints, read_mmpose, read_openpose

#: How the text of a document is damaged after the changes to its content (most are left alone).
TEXT_DAMAGE = st.sampled_from(["none"] * 6 + ["truncate", "deep_prefix", "deep_value", "long_digits", "bom"])


def _write(data, path, doc) -> None:
    text = json.dumps(doc, allow_nan=True)
    damage = data.draw(TEXT_DAMAGE, label="text damage")
    if damage == "truncate":
        text = text[: data.draw(st.integers(0, max(len(text) - 1, 0)), label="keep")]
    elif damage == "deep_prefix":
        depth = data.draw(st.sampled_from([99, 100, 101, 5_000, 100_000]), label="depth")
        text = "[" * depth + text + "]" * depth
    elif damage == "deep_value":  # a deep value where a number belongs, inside strings or not
        depth = data.draw(st.sampled_from([50, 101, 20_000]), label="depth")
        inside = data.draw(st.booleans(), label="in a string")
        deep = ('"' + "[" * depth + '"') if inside else "[" * depth + "]" * depth
        text = text.replace("0.5", deep, 1) if "0.5" in text else deep
    elif damage == "long_digits":  # more digits than Python parses (4,300), or many but fewer
        text = text.replace("1", "1" * data.draw(st.sampled_from([400, 4301, 10_000]), label="digits"), 1)
    elif damage == "bom":
        text = "\ufeff" + text
    path.write_text(text, encoding="utf-8")


def _xyc(rng, n):
    xyc = np.c_[rng.uniform(0, 1000, (n, 2)), rng.choice([0.0, 0.5, 0.9], n)]
    return xyc.round(1).ravel().tolist()


# ---------------------------------------------------------------------- OpenPose
@st.composite
def openpose_folder(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    T = draw(st.integers(1, 4))
    body = draw(st.sampled_from([25, 18, 25, 3]))
    parts = draw(st.sampled_from([(), (), ("hand_left_keypoints_2d", "hand_right_keypoints_2d", "face_keypoints_2d")]))
    counts = {"hand_left_keypoints_2d": 21, "hand_right_keypoints_2d": 21, "face_keypoints_2d": 70}
    docs = []
    for _ in range(T):
        people = []
        for _ in range(draw(st.integers(0, 3))):
            person = {"person_id": [-1], "pose_keypoints_2d": _xyc(rng, body)}
            person.update({key: _xyc(rng, counts[key]) for key in parts})
            people.append(person)
        docs.append({"version": 1.3, "people": people})
    names = draw(st.sampled_from(["numbered", "huge numbers", "no numbers", "same numbers"]))
    return docs, names


def _openpose_name(names: str, t: int) -> str:
    return {
        "numbered": f"clip_{t:012d}_keypoints.json",
        "huge numbers": f"clip_{10**24 + t}_keypoints.json",
        "no numbers": f"clip_{'abcd'[t]}_keypoints.json",
        "same numbers": f"cam{t}_0001.json",
    }[names]


@settings(RELIABILITY, max_examples=200)
@given(data=st.data(), case=openpose_folder(), reader=st.sampled_from(["detect", "openpose"]))
def test_openpose_folders(data, case, reader):
    docs, names = case
    with workdir() as d:
        folder = d / "clip_json"
        folder.mkdir()
        for t, doc in enumerate(docs):
            _write(data, folder / _openpose_name(names, t), mutate(data, doc, 3))
        check_read(read_keypoints if reader == "detect" else read_openpose, folder)


@settings(RELIABILITY, max_examples=100)
@given(data=st.data(), case=openpose_folder(), layout=st.sampled_from([None, None, "body25", "body25b", "coco18"]))
def test_openpose_single_files(data, case, layout):
    with workdir() as d:
        path = d / "frame_000000000007_keypoints.json"
        _write(data, path, mutate(data, case[0][0]))
        check_read(read_keypoints, path, **({"layout": layout} if layout else {}))


# ---------------------------------------------------------------------- COCO
WHOLEBODY = {"foot_kpts": 6, "face_kpts": 68, "lefthand_kpts": 21, "righthand_kpts": 21}


@st.composite
def coco_document(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    T = draw(st.integers(1, 4))
    wholebody, tracks = draw(st.booleans()), draw(st.booleans())
    J = 17 if wholebody else draw(st.sampled_from([17, 4, 2, 1]))
    names = [f"k{j}" for j in range(J)]
    anns = []
    for t in range(T):
        for k in range(draw(st.integers(0, 3))):
            ann = {"id": len(anns) + 1, "image_id": t + 1, "category_id": 1, "iscrowd": 0, "num_keypoints": J,
                   "area": round(float(rng.uniform(10, 1e4)), 1), "bbox": [0, 0, 10.5, 20.5],
                   "keypoints": _xyc(rng, J)}  # fmt: skip
            if wholebody:
                ann.update({key: _xyc(rng, n) for key, n in WHOLEBODY.items()})
            if tracks:
                ann["track_id"] = k
            anns.append(ann)
    skeleton = [[j, j + 1] for j in range(1, J)]
    return {
        "info": {"description": "fuzz"},
        "images": [{"id": t + 1, "file_name": f"{t:012d}.jpg", "width": 640, "height": 480} for t in range(T)],
        "categories": [
            {"id": 1, "name": "person", "supercategory": "person", "keypoints": names, "skeleton": skeleton}
        ],
        "annotations": anns,
    }


@settings(RELIABILITY, max_examples=300)
@given(data=st.data(), doc=coco_document(), reader=st.sampled_from(["detect", "coco", "coco_track", "coco_category"]))
def test_coco_files(data, doc, reader):
    kwargs = {"coco_track": {"track_id": 1}, "coco_category": {"category_id": 1}}.get(reader, {})
    with workdir() as d:
        path = d / "person_keypoints_val.json"
        _write(data, path, mutate(data, doc))
        check_read(read_keypoints if reader == "detect" else read_coco, path, **kwargs)


# ---------------------------------------------------------------------- MMPose
@st.composite
def mmpose_document(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    T, K = draw(st.integers(1, 4)), draw(st.sampled_from([17, 21, 5, 133]))
    layout = draw(st.sampled_from(["inferencer", "demo", "flat", "lists"]))
    track_ids = draw(st.booleans())

    def instance(t, i):
        inst = {"keypoints": rng.uniform(0, 600, (K, 2)).round(1).tolist(),
                "keypoint_scores": rng.uniform(0, 1, K).round(2).tolist(), "bbox": [[0.0, 0.0, 50.5, 80.5]],
                "bbox_score": 0.9}  # fmt: skip
        if track_ids:
            inst["track_id"] = i
        if layout == "flat":
            xys = np.c_[inst["keypoints"], inst["keypoint_scores"]].ravel().round(2).tolist()
            inst = {"image_id": t, "category_id": 1, "keypoints": xys, "score": 0.9}
        return inst

    frames = [[instance(t, i) for i in range(draw(st.integers(0, 3)))] for t in range(T)]
    if layout == "inferencer":
        return [{"frame_id": t, "instances": f} for t, f in enumerate(frames)]
    if layout == "demo":
        meta = {"dataset_name": "fuzz", "keypoint_id2name": {str(k): f"p{k}" for k in range(K)},
                "skeleton_links": [[k, k + 1] for k in range(K - 1)]}  # fmt: skip
        return {"meta_info": meta, "instance_info": [{"frame_id": t, "instances": f} for t, f in enumerate(frames)]}
    if layout == "flat":
        return [inst for f in frames for inst in f]
    return frames


@settings(RELIABILITY, max_examples=300)
@given(data=st.data(), doc=mmpose_document(), reader=st.sampled_from(["detect", "mmpose", "mmpose_track", "rig"]))
def test_mmpose_files(data, doc, reader):
    kwargs = {"mmpose_track": {"track_id": 0}, "rig": {"rig": "coco17"}}.get(reader, {})
    with workdir() as d:
        path = d / "results_video.json"
        _write(data, path, mutate(data, doc))
        check_read(read_keypoints if reader == "detect" else read_mmpose, path, **kwargs)
