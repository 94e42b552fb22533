"""COCO keypoint annotations (``person_keypoints_*.json``), COCO-WholeBody and PoseTrack-style files.

A file is ``{"images": [...], "annotations": [...], "categories": [...]}``. The category (the first one with
``keypoints``, or ``category_id=``) gives the joint names and its ``skeleton``, whose joint numbers are 1-based.
Each annotation's ``keypoints`` is ``[x, y, v] * K``: ``v = 0`` means not labelled (missing: NaN, confidence 0),
``v = 1`` labelled but hidden and ``v = 2`` visible both give confidence 1 (a value in (0, 1), as in result files,
is kept as the confidence). COCO-WholeBody annotations add ``foot_kpts`` (6), ``face_kpts`` (68),
``lefthand_kpts`` (21) and ``righthand_kpts`` (21) to the 17 body points: 133 joints, the ``coco_wholebody133``
layout.

Frames are the images sorted by ``id`` (T = number of images; an image without the chosen person is a missing
frame). One person per image: the annotations with ``track_id=`` when given; else, when annotations carry
``track_id`` (PoseTrack), the track with the most annotations; else the largest person (``area``, else the
bounding box) of each image. ``iscrowd`` annotations are skipped.
"""

from __future__ import annotations

import numpy as np

from ..errors import CONVERSION_ERRORS, InputError
from ..preprocess import MAX_COORDINATE
from .base import (
    Keypoints2D,
    check_file,
    float_array,
    frame_id_array,
    generic_names,
    json_number,
    load_json,
    standard_layout,
    unique_edges,
)

#: COCO-WholeBody's parts, in the order of the 133-point layout: (annotation key, number of points).
WHOLEBODY_PARTS = (
    ("keypoints", 17),
    ("foot_kpts", 6),
    ("face_kpts", 68),
    ("lefthand_kpts", 21),
    ("righthand_kpts", 21),
)


def read_coco(
    path,
    *,
    track_id: int | None = None,
    category_id: int | None = None,
    image_size: tuple[int, int] | None = None,
    fps: float | None = None,
) -> Keypoints2D:
    """Read a COCO / COCO-WholeBody keypoint JSON file (see the module docstring for how the person is chosen).

    Args:
        path: the ``.json`` file.
        track_id: follow the annotations with this ``track_id``.
        category_id: the category to read (default: the first with keypoints).
        image_size: ``(width, height)``; default: the images' size when they all share one.
        fps: frame rate (COCO does not record one).
    """
    p = check_file(path, "COCO JSON file")
    return parse_coco(load_json(p), source=str(p), track_id=track_id, category_id=category_id,
                      image_size=image_size, fps=fps)  # fmt: skip


def parse_coco(
    doc,
    *,
    source: str,
    track_id: int | None = None,
    category_id: int | None = None,
    image_size: tuple[int, int] | None = None,
    fps: float | None = None,
) -> Keypoints2D:
    """:func:`read_coco` on an already parsed JSON document."""
    if not isinstance(doc, dict) or not isinstance(doc.get("annotations"), list):
        raise InputError(f"{source}: not a COCO keypoint file (no 'annotations' list)")
    anns = [a for a in doc["annotations"] if isinstance(a, dict) and "keypoints" in a and not a.get("iscrowd")]
    for a in anns:
        for key in ("image_id", "track_id"):
            if not _is_id(a.get(key)):
                raise InputError(f"{source}: annotation {a.get('id')!r}: {key} {a.get(key)!r} is not a number or text")
    category = _category(doc, category_id, source)
    if category is not None:
        anns = [a for a in anns if a.get("category_id", category.get("id")) == category.get("id")]
    if not anns:
        raise InputError(f"{source}: no (non-crowd) annotation has keypoints")
    wholebody = all(all(key in a for key, _ in WHOLEBODY_PARTS) for a in anns)
    names, edges, rig_name = _layout(category, anns, wholebody, source)
    K = len(names)
    image_ids, images = _images(doc, anns, source)
    chosen = _choose(anns, track_id, source)
    pts = np.full((len(image_ids), K, 2), np.nan)
    conf = np.zeros((len(image_ids), K))
    row = {iid: t for t, iid in enumerate(image_ids)}
    for iid, ann in chosen.items():
        t = row[iid]
        xyv = _keypoints(ann, wholebody, K, source)
        present = xyv[:, 2] > 0
        pts[t, present] = xyv[present, :2]
        conf[t, present] = np.clip(xyv[present, 2], 0.0, 1.0)
    if image_size is None:
        sizes = {(_size(images[i].get("width")), _size(images[i].get("height"))) for i in image_ids if i in images}
        if len(sizes) == 1 and None not in next(iter(sizes)):
            image_size = next(iter(sizes))
    ids = frame_id_array(image_ids)  # None for text ids and ids beyond int64
    return Keypoints2D(pts, conf, names, edges, image_size=image_size, fps=fps, source=source, rig_name=rig_name,
                       frame_ids=ids)  # fmt: skip


def _is_id(value) -> bool:
    """Image and track ids are numbers or text (or absent)."""
    return value is None or (isinstance(value, int | float | str) and not isinstance(value, bool))


def _size(value) -> float | None:
    """An image's ``width`` or ``height`` when it is a usable number (positive, at most ``MAX_COORDINATE``), else None
    (ignored, like an absent one)."""
    number = json_number(value)
    return number if number is not None and 0 < number <= MAX_COORDINATE else None


def _list_of(doc: dict, key: str, source: str) -> list:
    """``doc[key]``, a list (empty when absent); raises :class:`InputError` when it is something else."""
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{source}: '{key}' must be a list, got {type(value).__name__}")
    return value


def _category(doc: dict, category_id, source: str) -> dict | None:
    cats = [c for c in _list_of(doc, "categories", source) if isinstance(c, dict)]
    if category_id is not None:
        for c in cats:
            if c.get("id") == category_id:
                return c
        raise InputError(f"{source}: no category with id {category_id}; ids: {[c.get('id') for c in cats]}")
    with_keypoints = [c for c in cats if c.get("keypoints")]
    return with_keypoints[0] if with_keypoints else None


def _layout(category, anns: list[dict], wholebody: bool, source: str):
    from ..layouts import get_rig

    if wholebody:
        rig = get_rig("coco_wholebody133")
        return rig.joint_names, rig.edge_array(), rig.name
    if category is None:
        if not isinstance(anns[0]["keypoints"], list):
            raise InputError(f"{source}: annotation {anns[0].get('id')!r}: 'keypoints' must be a list of x, y, v")
        n = len(anns[0]["keypoints"])
        if n == 51:
            rig = get_rig("coco17")
            return rig.joint_names, rig.edge_array(), rig.name
        return generic_names(n // 3), np.zeros((0, 2), np.int64), None
    if not isinstance(category["keypoints"], list):
        raise InputError(f"{source}: the category's 'keypoints' must be a list of joint names")
    names = tuple(str(n) for n in category["keypoints"])
    K = len(names)
    try:
        skeleton = np.asarray(category.get("skeleton") or [], dtype=np.int64).reshape(-1, 2)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{source}: the category's 'skeleton' must be a list of joint-number pairs") from None
    bad = np.flatnonzero(((skeleton < 1) | (skeleton > K)).any(1))
    if bad.size:
        raise InputError(
            f"{source}: skeleton link {bad[0]} {skeleton[bad[0]].tolist()} refers to a joint outside 1..{K} "
            "(COCO skeletons count joints from 1)"
        )
    edges = unique_edges(skeleton - 1, K)
    return names, edges, standard_layout(names, edges, ("coco17",))


def _images(doc: dict, anns: list[dict], source: str) -> tuple[list, dict]:
    images = {
        im.get("id"): im for im in _list_of(doc, "images", source) if isinstance(im, dict) and _is_id(im.get("id"))
    }
    ids = set(images) | {a.get("image_id") for a in anns}
    try:
        return sorted(ids), images
    except TypeError:  # mixed id types
        return sorted(ids, key=str), images


def _area(ann: dict) -> float:
    area = json_number(ann.get("area"))
    if area is not None and area > 0:
        return area
    bbox = ann.get("bbox")
    if isinstance(bbox, list) and len(bbox) == 4:
        w, h = json_number(bbox[2]), json_number(bbox[3])
        if w is not None and h is not None:
            return w * h
    try:
        kp = np.asarray(ann.get("keypoints") or [], dtype=np.float64)
    except CONVERSION_ERRORS:
        return 0.0
    if kp.size % 3 == 0 and kp.size:
        xyv = kp.reshape(-1, 3)
        xy = xyv[xyv[:, 2] > 0, :2]
        if len(xy) >= 2:
            return float(np.prod(xy.max(0) - xy.min(0)))
    return 0.0


def _choose(anns: list[dict], track_id, source: str) -> dict:
    """``{image_id: annotation}`` of the person followed."""
    tracks = [a.get("track_id") for a in anns]
    if track_id is None and any(t is not None for t in tracks):
        counts: dict = {}
        for t in tracks:
            if t is not None:
                counts[t] = counts.get(t, 0) + 1
        track_id = max(counts, key=lambda t: (counts[t], -t if isinstance(t, int) else 0))
    if track_id is not None:
        picked = [a for a in anns if a.get("track_id") == track_id]
        if not picked:
            known = sorted({t for t in tracks if t is not None}, key=str)
            raise InputError(f"{source}: no annotation has track_id {track_id}; track ids: {known[:20]}")
        out = {}
        for a in picked:
            if a.get("image_id") in out:
                raise InputError(f"{source}: image {a.get('image_id')} has two annotations with track_id {track_id}")
            out[a.get("image_id")] = a
        return out
    out = {}
    for a in anns:
        iid = a.get("image_id")
        if iid not in out or _area(a) > _area(out[iid]):
            out[iid] = a
    return out


def _keypoints(ann: dict, wholebody: bool, K: int, source: str) -> np.ndarray:
    parts = WHOLEBODY_PARTS if wholebody else (("keypoints", K),)
    blocks = []
    for key, n in parts:
        values = ann.get(key)
        if not isinstance(values, list) or len(values) != 3 * n:
            got = len(values) if isinstance(values, list) else type(values).__name__
            raise InputError(
                f"{source}: annotation {ann.get('id')} (image {ann.get('image_id')}): '{key}' has {got} values, "
                f"expected {3 * n} (x, y, v for {n} joints)"
            )
        arr = float_array(values, f"{source}: annotation {ann.get('id')}", f"'{key}'")
        if arr.shape != (3 * n,):
            raise InputError(f"{source}: annotation {ann.get('id')}: '{key}' holds values that are not numbers (lists)")
        blocks.append(arr.reshape(n, 3))
    xyv = np.concatenate(blocks)
    xyv[~np.isfinite(xyv).all(1), 2] = 0.0
    return xyv
