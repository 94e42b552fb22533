"""MMPose predictions saved as JSON.

Layouts read:

* MMPose 1.x ``MMPoseInferencer(..., pred_out_dir=...)`` on a video: a list of frames
  ``[{"frame_id": 0, "instances": [{"keypoints": [[x, y], ...], "keypoint_scores": [...], "bbox": ...}, ...]}]``.
* ``demo/topdown_demo_with_mmdet.py --save-predictions``: ``{"meta_info": {...}, "instance_info": [frames as
  above]}``; ``meta_info`` gives the joint names (``keypoint_id2name``) and links (``skeleton_links``).
* A list of frames each a list of instances, and a list of instance dicts: grouped by ``frame_id`` /
  ``image_id`` when they carry one (as COCO result files do), else one instance per frame (so a single image's
  predictions, a list of people, should be wrapped in a list: ``[[person, person]]``).

An instance's ``keypoints`` is ``(K, 2)``, ``(K, 3)`` (x, y, score) or flat; scores come from ``keypoint_scores``,
else the third column, else 1, clipped to [0, 1]. MMPose gives a position for every joint; non-finite positions
(and (0, 0) with score 0) are missing. The rig: ``rig=``, else ``meta_info``, else from K: 17 ``coco17``,
133 ``coco_wholebody133``, 21 ``openpose_hand21`` (MMPose's hand order), other counts generic names and no edges.
With several instances in a frame one is followed (``track_id=`` when the instances carry MMPose's
``track_id``, else :func:`lfm_engine.io.tracking.follow_track`).
"""

from __future__ import annotations

import numpy as np

from ..errors import CONVERSION_ERRORS, InputError
from .base import (
    Keypoints2D,
    check_file,
    float_array,
    frame_id_array,
    generic_names,
    load_json,
    rig_names_edges,
    unique_edges,
)
from .tracking import DEFAULT_GATE, follow_track

#: Standard layouts by MMPose joint count.
RIGS_BY_COUNT = {17: "coco17", 133: "coco_wholebody133", 21: "openpose_hand21"}
_ID_KEYS = ("frame_id", "image_id", "frame_idx", "frame", "img_id")


def read_mmpose(
    path,
    *,
    rig=None,
    person: int | None = None,
    track_id: int | None = None,
    gate: float | None = DEFAULT_GATE,
    merge_fragments: bool = False,
    image_size: tuple[int, int] | None = None,
    fps: float | None = None,
) -> Keypoints2D:
    """Read MMPose prediction JSON (see the module docstring for the layouts) and follow one subject.

    Args:
        path: the ``.json`` file.
        rig: a layout name or :class:`~lfm_engine.Rig` giving names and edges (must have K joints).
        person: index of the instance to follow in the first frame with instances (default: the most prominent).
        track_id: follow the instances with this ``track_id`` instead of tracking.
        gate, merge_fragments: see :func:`~lfm_engine.io.tracking.follow_track`.
        image_size: ``(width, height)``, not in the file.
        fps: frame rate, not in the file.
    """
    p = check_file(path, "MMPose JSON file")
    return parse_mmpose(load_json(p), source=str(p), rig=rig, person=person, track_id=track_id, gate=gate,
                        merge_fragments=merge_fragments, image_size=image_size, fps=fps)  # fmt: skip


def parse_mmpose(
    doc,
    *,
    source: str,
    rig=None,
    person: int | None = None,
    track_id: int | None = None,
    gate: float | None = DEFAULT_GATE,
    merge_fragments: bool = False,
    image_size: tuple[int, int] | None = None,
    fps: float | None = None,
) -> Keypoints2D:
    """:func:`read_mmpose` on an already parsed JSON document."""
    frames, ids, meta = _frames(doc, source)
    if track_id is not None:
        frames = [[inst for inst in f if inst.get("track_id") == track_id] for f in frames]
        if not any(frames):
            raise InputError(f"{source}: no instance has track_id {track_id}")
    parsed = [[_instance(inst, source, t, i) for i, inst in enumerate(f)] for t, f in enumerate(frames)]
    K = next((len(xy) for f in parsed for xy, _ in f), None)
    if K is None:
        raise InputError(f"{source}: no frame has an instance with keypoints ({len(frames)} frames)")
    cands, scores = [], []
    for t, f in enumerate(parsed):
        for i, (xy, _) in enumerate(f):
            if len(xy) != K:
                raise InputError(f"{source}: frame {t}, instance {i} has {len(xy)} keypoints, but others have {K}")
        cands.append(np.stack([xy for xy, _ in f]) if f else np.zeros((0, K, 2)))
        scores.append(np.stack([s for _, s in f]) if f else np.zeros((0, K)))
    track = follow_track(cands, scores, person=person, gate=gate, merge_fragments=merge_fragments, source=source)
    names, edges, rig_name = _layout(rig, meta, K, source)
    unique_ids = ids is not None and len(set(ids)) == len(ids)
    return Keypoints2D(track.points, track.confidence, names, edges, image_size=image_size, fps=fps, source=source,
                       rig_name=rig_name, frame_ids=frame_id_array(ids) if unique_ids else None)  # fmt: skip


def _frames(doc, source: str) -> tuple[list[list[dict]], list[int] | None, dict | None]:
    """Instances of each frame, the frame ids (when every frame has an int one) and ``meta_info``."""
    meta = None
    if isinstance(doc, dict):
        meta = doc.get("meta_info") if isinstance(doc.get("meta_info"), dict) else None
        if "instance_info" in doc:
            doc = doc["instance_info"]
        elif "predictions" in doc:
            doc = doc["predictions"]
        else:
            raise InputError(f"{source}: not MMPose predictions (keys {sorted(doc)[:8]})")
    if not isinstance(doc, list) or not doc:
        raise InputError(f"{source}: MMPose predictions must be a non-empty list of frames or instances")
    if all(isinstance(e, list) for e in doc):
        return [_dicts(e, source) for e in doc], None, meta
    items = _dicts(doc, source)
    if all("instances" in e for e in items):
        frames = [_dicts(e["instances"], source) for e in items]
        ids = [e.get("frame_id") for e in items]
        return frames, (ids if all(isinstance(i, int) for i in ids) else None), meta
    if all("keypoints" in e for e in items):
        key = next((k for k in _ID_KEYS if all(isinstance(e.get(k), int) for e in items)), None)
        if key is None:
            return [[e] for e in items], None, meta
        ids = sorted({e[key] for e in items})
        row = {i: t for t, i in enumerate(ids)}
        frames: list[list[dict]] = [[] for _ in ids]
        for e in items:
            frames[row[e[key]]].append(e)
        return frames, ids, meta
    raise InputError(
        f"{source}: not MMPose predictions: expected frames with 'instances' or instances with 'keypoints'"
    )


def _dicts(items, source: str) -> list[dict]:
    if not isinstance(items, list) or not all(isinstance(e, dict) for e in items):
        raise InputError(f"{source}: MMPose instances must be JSON objects in a list")
    return items


def _instance(inst: dict, source: str, t: int, i: int) -> tuple[np.ndarray, np.ndarray]:
    """``(K, 2)`` positions (NaN where missing) and ``(K,)`` scores of one instance."""
    where = f"{source}: frame {t}, instance {i}"
    kp = float_array(inst.get("keypoints"), where, "keypoints")
    sc = None if inst.get("keypoint_scores") is None else float_array(inst["keypoint_scores"], where, "keypoint_scores")
    while kp.ndim > 2 and kp.shape[0] == 1:
        kp = kp[0]
    if sc is not None:
        sc = sc.reshape(-1)
    if kp.ndim == 1:
        if sc is not None and kp.size == 2 * sc.size:
            kp = kp.reshape(-1, 2)
        elif kp.size % 3 == 0 and kp.size:
            kp = kp.reshape(-1, 3)
        else:
            raise InputError(f"{where}: {kp.size} keypoint values are neither x, y nor x, y, score per joint")
    if kp.ndim != 2 or kp.shape[1] not in (2, 3) or kp.shape[0] == 0:
        raise InputError(f"{where}: keypoints have shape {kp.shape}; expected (K, 2) or (K, 3)")
    K = kp.shape[0]
    if sc is None:
        sc = kp[:, 2] if kp.shape[1] == 3 else np.ones(K)
    if sc.size != K:
        raise InputError(f"{where}: {sc.size} keypoint_scores for {K} keypoints")
    xy = kp[:, :2].copy()
    sc = np.where(np.isfinite(sc), np.clip(sc, 0.0, 1.0), 0.0)
    missing = ~np.isfinite(xy).all(1) | ((xy == 0).all(1) & (sc <= 0))
    xy[missing] = np.nan
    sc[missing] = 0.0
    return xy, sc


def _layout(rig, meta: dict | None, K: int, source: str):
    from ..layouts import get_rig

    if rig is not None:
        return rig_names_edges(rig, K, source)
    if meta and isinstance(meta.get("keypoint_id2name"), dict):
        id2name = meta["keypoint_id2name"]
        try:
            names = tuple(str(id2name[k]) for k in sorted(id2name, key=int))
        except CONVERSION_ERRORS:
            names = ()
        if len(names) == K:
            std = RIGS_BY_COUNT.get(K)
            if std is not None and get_rig(std).joint_names == names:
                r = get_rig(std)
                return r.joint_names, r.edge_array(), r.name
            links = meta.get("skeleton_links") or []
            try:
                edges = np.asarray(links, dtype=np.int64).reshape(-1, 2)
            except CONVERSION_ERRORS:  # links that are not index pairs (or beyond int64) are dropped
                edges = np.zeros((0, 2), np.int64)
            return names, unique_edges(edges, K), None
    std = RIGS_BY_COUNT.get(K)
    if std is not None:
        r = get_rig(std)
        return r.joint_names, r.edge_array(), r.name
    return generic_names(K), np.zeros((0, 2), np.int64), None
