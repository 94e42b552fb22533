"""OpenPose JSON output: a folder with one ``*.json`` per frame (``--write_json``), or one such file.

Each file holds ``{"people": [{"pose_keypoints_2d": [x, y, c, ...], "hand_left_keypoints_2d": [...],
"hand_right_keypoints_2d": [...], "face_keypoints_2d": [...]}, ...]}``. Frames are sorted by the last number in
the file name (``cam01.0042.json``, ``video_000000000042_keypoints.json``). The body model comes from the number
of body values: 75 = BODY_25 or BODY_25B (told apart by the points' geometry, :func:`guess_body25_layout`, or named
with ``layout=``), 54 = COCO 18 (other counts get generic names and no edges). Hands (21 points each) and face
(70 points) are appended, as body, left hand, right hand, face, when any person in any frame has them. OpenPose
writes ``0, 0, 0`` for a joint it did not find, and sometimes a point with one coordinate exactly 0 and a nonzero
confidence (a point it could not place): a point with ``x == 0`` or ``y == 0`` becomes NaN with confidence 0.

When a frame holds several people one person is followed (:func:`lfm_engine.io.tracking.follow_track`), using
the body joints to match.

OpenPose itself records no image size. Files written by other tools in its format may: ControlNet's pose JSON
carries ``canvas_width`` and ``canvas_height`` (:data:`CANVAS_KEYS`), which become the image size, and its
coordinates are normalised to [0, 1]; when a canvas is given and every point lies in [0, 1] the points are scaled
to the canvas's pixels.
"""

from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError
from .base import Keypoints2D, check_file, float_array, frame_id_array, generic_names, load_json, trailing_number
from .tracking import DEFAULT_GATE, follow_track

#: (JSON key, number of points, first index of that part in ``openpose_body25_hands_face``).
PARTS = (
    ("hand_left_keypoints_2d", 21, 25),
    ("hand_right_keypoints_2d", 21, 46),
    ("face_keypoints_2d", 70, 67),
)
#: Body models by their point count (25 points: BODY_25 unless the geometry says BODY_25B).
BODY_MODELS = {25: "openpose_body25", 18: "openpose_coco18"}
#: The values of ``read_openpose(layout=...)``: the body model's layout name (:func:`lfm_engine.get_rig`).
LAYOUTS = {"body25": "openpose_body25", "body25b": "openpose_body25b", "coco18": "openpose_coco18"}
#: Body points per layout of :data:`LAYOUTS`.
LAYOUT_POINTS = {"openpose_body25": 25, "openpose_body25b": 25, "openpose_coco18": 18}
#: The image size keys some tools write beside ``people`` (ControlNet's pose JSON): (width key, height key).
CANVAS_KEYS = ("canvas_width", "canvas_height")
#: :func:`guess_body25_layout` says BODY_25B only when BODY_25's midpoints are off by this many times more than
#: BODY_25B's eyes are from its nose.
BODY25B_MARGIN = 3.0


def openpose_files(folder: Path) -> list[Path]:
    """The ``*.json`` files of ``folder`` sorted by frame number; raises :class:`InputError` when there are none
    or two files share a frame number."""
    files = [p for p in folder.iterdir() if p.suffix.lower() == ".json" and p.is_file()]
    if not files:
        raise InputError(f"{folder}: the folder has no OpenPose .json files")
    numbers = [trailing_number(p.stem) for p in files]
    if any(n is None for n in numbers):
        return sorted(files, key=lambda p: p.name)
    order = sorted(range(len(files)), key=lambda i: (numbers[i], files[i].name))
    for a, b in itertools.pairwise(order):
        if numbers[a] == numbers[b]:
            raise InputError(
                f"{folder}: {files[a].name} and {files[b].name} have the same frame number {numbers[a]}; "
                "put each camera's files in their own folder"
            )
    return [files[i] for i in order]


def read_openpose(
    path,
    *,
    person: int | None = None,
    gate: float | None = DEFAULT_GATE,
    merge_fragments: bool = True,
    hands: bool | None = None,
    face: bool | None = None,
    image_size: tuple[int, int] | None = None,
    fps: float | None = None,
    layout: str | None = None,
) -> Keypoints2D:
    """Read an OpenPose JSON folder (or one file) and follow one person.

    Args:
        path: a folder of per-frame ``*.json`` files, or one file.
        person: index in ``people`` of the person to follow in the first frame with people; None takes the most
            prominent (largest x most confident).
        gate: see :func:`~lfm_engine.io.tracking.follow_track`; None never refuses a match.
        merge_fragments: join a person that OpenPose split into two detections.
        hands, face: include the hand / face points; None includes them when the files have them.
        image_size: ``(width, height)``, which OpenPose does not record; None: the files' canvas size
            (:data:`CANVAS_KEYS`) when they give one.
        fps: frame rate, which OpenPose does not record.
        layout: the body model, ``"body25"``, ``"body25b"`` or ``"coco18"`` (:data:`LAYOUTS`; the layout names
            ``"openpose_body25"`` ... are accepted too); None: from the point count, and for 25 points from the
            geometry (:func:`guess_body25_layout`). A layout whose point count is not the files' is an error.

    Returns:
        :class:`Keypoints2D` with ``rig_name`` ``openpose_body25``, ``openpose_body25b``, ``openpose_coco18`` or
        ``openpose_body25_hands_face`` (other combinations of parts have no standard name), and ``frame_ids`` the
        numbers in the file names.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: OpenPose folder or file not found")
    files = openpose_files(p) if p.is_dir() else [check_file(p, "OpenPose JSON file")]
    docs = [load_json(f) for f in files]
    return parse_openpose(
        docs, files, source=str(p), person=person, gate=gate, merge_fragments=merge_fragments, hands=hands,
        face=face, image_size=image_size, fps=fps, layout=layout,
    )  # fmt: skip


def parse_openpose(
    docs: list,
    files: list[Path],
    *,
    source: str,
    person: int | None = None,
    gate: float | None = DEFAULT_GATE,
    merge_fragments: bool = True,
    hands: bool | None = None,
    face: bool | None = None,
    image_size: tuple[int, int] | None = None,
    fps: float | None = None,
    layout: str | None = None,
) -> Keypoints2D:
    """:func:`read_openpose` on already parsed JSON documents (one per file, in frame order)."""
    body = layout_name(layout, source)
    people = [_people(doc, f) for doc, f in zip(docs, files, strict=True)]
    n_body = _body_count(people, files, source)
    if body is not None and LAYOUT_POINTS[body] != n_body:
        raise InputError(f"{source}: layout {layout!r} has {LAYOUT_POINTS[body]} body points but the files have "
                         f"{n_body} per person")  # fmt: skip
    wanted = {"hand_left_keypoints_2d": hands, "hand_right_keypoints_2d": hands, "face_keypoints_2d": face}
    parts = [
        (key, n, first)
        for key, n, first in PARTS
        if wanted[key] or (wanted[key] is None and any(who.get(key) for frame in people for who in frame))
    ]
    canvas = _canvas(docs, files, source)
    frames, scores = [], []
    for frame, f in zip(people, files, strict=True):
        arr = np.full((len(frame), n_body + sum(n for _, n, _ in parts), 3), 0.0)
        for i, who in enumerate(frame):
            arr[i, :n_body] = _values(who.get("pose_keypoints_2d"), n_body, f, i, "pose_keypoints_2d")
            offset = n_body
            for key, n, _ in parts:
                arr[i, offset : offset + n] = _values(who.get(key), n, f, i, key)
                offset += n
        missing = ~(arr[..., 2] > 0) | (arr[..., 0] == 0) | (arr[..., 1] == 0)  # 0 on either axis: not found
        xy = np.where(missing[..., None], np.nan, arr[..., :2])
        frames.append(xy)
        scores.append(np.where(missing, 0.0, np.clip(arr[..., 2], 0.0, 1.0)))
    if canvas is not None and _normalised(frames):
        frames = [xy * np.asarray(canvas, dtype=np.float64) for xy in frames]
    track = follow_track(
        frames, scores, person=person, gate=gate, merge_fragments=merge_fragments, match_joints=np.arange(n_body),
        source=source, frame_labels=[f.name for f in files],
    )  # fmt: skip
    if body is None and n_body == 25:  # the model is the files', so every detection of every frame has a say
        body = guess_body25_layout(np.concatenate([xy[:, :25] for xy in frames]))
    try:
        names, edges, rig_name = openpose_layout(n_body, [key for key, _, _ in parts], body=body)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    numbers = [trailing_number(f.stem) for f in files]
    ids = None if any(n is None for n in numbers) or len(files) == 1 else frame_id_array(numbers)
    return Keypoints2D(
        track.points, track.confidence, names, edges, image_size=image_size or canvas, fps=fps, source=source,
        rig_name=rig_name, frame_ids=ids,
    )  # fmt: skip


def layout_name(layout: str | None, source: str = "") -> str | None:
    """The layout name (a key of :data:`LAYOUT_POINTS`) of a ``layout=`` argument, None for None.

    Accepts the keys and values of :data:`LAYOUTS`, in any case, with or without ``_``/``-`` (``"BODY_25B"``).
    """
    if layout is None:
        return None
    key = str(layout).strip().lower().replace("-", "").replace("_", "").replace(" ", "").removeprefix("openpose")
    key = {"coco": "coco18"}.get(key, key)
    if key not in LAYOUTS:
        where = f"{source}: " if source else ""
        raise InputError(f"{where}unknown OpenPose layout {layout!r}; use one of {', '.join(LAYOUTS)} (or None)")
    return LAYOUTS[key]


def guess_body25_layout(points: np.ndarray) -> str:
    """``"openpose_body25"`` or ``"openpose_body25b"`` for 25-point OpenPose bodies, from their geometry.

    The two models have 25 points in different orders. BODY_25 puts ``Neck`` (1) at the midpoint of the shoulders
    (2, 5) and ``MidHip`` (8) at the midpoint of the hips (9, 12); in BODY_25B, 1 and 2 are the eyes, next to the
    nose (0). Per body, with ``s`` the larger side of the bounding box of its points:

    * ``r25 = max(|P1 - (P2 + P5) / 2|, |P8 - (P9 + P12) / 2|) / s``: about 0 for BODY_25 (each term where its
      three points are present);
    * ``r25b = max(|P1 - P0|, |P2 - P0|) / s``: small for BODY_25B (eye to nose), about a head-to-shoulder
      distance for BODY_25 (neck or shoulder to nose).

    BODY_25B when the medians over the bodies that have those points satisfy ``r25 > BODY25B_MARGIN * r25b``;
    BODY_25 otherwise, and when no body has the points (undecidable).

    Args:
        points: ``(N, 25, 2)`` pixels, NaN where missing: the bodies of every detection (person and frame).
    """
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (25, 2):
        raise InputError(f"guess_body25_layout needs (N, 25, 2) points, got {p.shape}")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # bodies or relations with nothing present
        size = np.nanmax(np.nanmax(p, axis=1) - np.nanmin(p, axis=1), axis=-1)  # (N,)
        size = np.where(size > 0, size, np.nan)

        def dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.linalg.norm(a - b, axis=-1) / size

        r25 = np.fmax(dist(p[:, 1], (p[:, 2] + p[:, 5]) / 2), dist(p[:, 8], (p[:, 9] + p[:, 12]) / 2))
        r25b = np.fmax(dist(p[:, 1], p[:, 0]), dist(p[:, 2], p[:, 0]))
        m25, m25b = np.nanmedian(r25), np.nanmedian(r25b)
    if np.isfinite(m25) and np.isfinite(m25b) and m25 > BODY25B_MARGIN * m25b:
        return "openpose_body25b"
    return "openpose_body25"


def openpose_layout(
    n_body: int, parts: list[str], body: str | None = None
) -> tuple[tuple[str, ...], np.ndarray, str | None]:
    """Joint names, edges and standard layout name for a body of ``n_body`` points plus the JSON ``parts``
    (keys of :data:`PARTS`, in that order). ``body``: the body's layout name (default :data:`BODY_MODELS`). Hand and
    face names and links are those of ``openpose_body25_hands_face``, whatever the body model."""
    from ..layouts import get_rig

    if body is None and n_body not in BODY_MODELS:
        if parts:
            raise InputError(f"OpenPose hands or face with a {n_body}-point body model are not supported")
        return generic_names(n_body), np.zeros((0, 2), np.int64), None
    body_rig = get_rig(body or BODY_MODELS[n_body])
    if not parts:
        return body_rig.joint_names, body_rig.edge_array(), body_rig.name
    full = get_rig("openpose_body25_hands_face")
    if body_rig.name == "openpose_body25" and len(parts) == len(PARTS):
        return full.joint_names, full.edge_array(), full.name
    extra = [i for key, n, first in PARTS if key in parts for i in range(first, first + n)]
    names = (*body_rig.joint_names, *(full.joint_names[i] for i in extra))
    index = {n: i for i, n in enumerate(names)}
    full_names = full.joint_names
    links = [
        (index[full_names[a]], index[full_names[b]])
        for a, b in full.edges
        if max(a, b) >= 25 and full_names[a] in index and full_names[b] in index
    ]
    return names, np.asarray([*body_rig.edges, *links], dtype=np.int64), None


def _canvas(docs: list, files: list[Path], source: str) -> tuple[int, int] | None:
    """The canvas size ``(width, height)`` the files give (:data:`CANVAS_KEYS`), None when none does; an
    :class:`InputError` when one is not two positive integers or two files give different ones."""
    found, where = None, None
    for doc, f in zip(docs, files, strict=True):
        if not isinstance(doc, dict) or not any(k in doc for k in CANVAS_KEYS):
            continue
        values = [doc.get(k) for k in CANVAS_KEYS]
        ok = all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 1 and v == int(v)
                 for v in values)  # fmt: skip
        if not ok:
            raise InputError(f"{f}: {CANVAS_KEYS[0]} and {CANVAS_KEYS[1]} must be positive whole numbers of pixels, "
                             f"got {values[0]!r} and {values[1]!r}")  # fmt: skip
        size = (int(values[0]), int(values[1]))
        if found is not None and size != found:
            raise InputError(f"{source}: {f.name} has a {size[0]}x{size[1]} canvas but {where.name} has "
                             f"{found[0]}x{found[1]}; every frame must come from the same footage")  # fmt: skip
        found, where = size, f
    return found


def _normalised(frames: list[np.ndarray]) -> bool:
    """Whether every present point of every frame lies in [0, 1] (normalised coordinates)."""
    present = [xy[np.isfinite(xy).all(-1)] for xy in frames]
    pts = np.concatenate(present) if present else np.zeros((0, 2))
    return bool(len(pts)) and bool(((pts >= 0) & (pts <= 1)).all())


def _people(doc, f: Path) -> list[dict]:
    if not isinstance(doc, dict) or "people" not in doc:
        raise InputError(f"{f}: not an OpenPose JSON file (no 'people' list)")
    people = doc["people"]
    if not isinstance(people, list) or not all(isinstance(p, dict) for p in people):
        raise InputError(f"{f}: 'people' must be a list of objects")
    return people


def _body_count(people: list[list[dict]], files: list[Path], source: str) -> int:
    count, where = None, None
    for frame, f in zip(people, files, strict=True):
        for i, person in enumerate(frame):
            values = person.get("pose_keypoints_2d") or []
            if not isinstance(values, list) or len(values) % 3:
                n = len(values) if isinstance(values, list) else type(values).__name__
                raise InputError(f"{f}: person {i}: pose_keypoints_2d has {n} values, expected x, y, c per joint")
            if not values:
                continue
            if count is None:
                count, where = len(values) // 3, f
            elif len(values) // 3 != count:
                raise InputError(
                    f"{f}: person {i} has {len(values) // 3} body joints but {where.name} has {count}; every frame "
                    "must come from the same OpenPose model"
                )
    if count is None:
        raise InputError(f"{source}: no person in any of the {len(files)} OpenPose file(s) has body keypoints")
    return count


def _values(values, n: int, f: Path, i: int, key: str) -> np.ndarray:
    """``(n, 3)`` x, y, c of one part of one person; zeros (missing) when the part is absent or empty."""
    if not values:
        return np.zeros((n, 3))
    if not isinstance(values, list) or len(values) != 3 * n:
        got = len(values) if isinstance(values, list) else type(values).__name__
        raise InputError(f"{f}: person {i}: {key} has {got} values, expected {3 * n} (x, y, c for {n} points)")
    arr = float_array(values, f"{f}: person {i}", key)
    if arr.shape != (3 * n,):
        raise InputError(f"{f}: person {i}: {key} holds values that are not numbers (nested lists)")
    return arr.reshape(n, 3)
