"""The one result type of every keypoint reader, :class:`Keypoints2D`, and helpers the readers share.

Conventions of every reader: image coordinates in pixels, x to the right, y down; a joint that was not detected
or not labelled is NaN (both coordinates) with confidence 0, never 0 or a sentinel value; confidence is in [0, 1].
Every error is an :class:`~lfm_engine.errors.InputError` whose message names the file (and the frame, person or
joint when that helps) and says what is wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CONVERSION_ERRORS, InputError, RigError
from ..preprocess import MAX_COORDINATE
from ..rig import Rig
from ..safe_json import read_json_file

#: The range of the int64 frame ids.
INT64_RANGE = (-(2**63), 2**63 - 1)
#: Largest array a reader allocates (8 GiB), checked against what a file's headers claim before reading: far beyond
#: any keypoint clip (100,000 frames of 133 joints are 213 MB of float64).
MAX_ARRAY_BYTES = 1 << 33


def _no_edges() -> np.ndarray:
    return np.zeros((0, 2), dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Keypoints2D:
    """2D keypoints of one subject (a person, an animal, a hand, ...) over T frames, as read from a file.

    Arrays are validated, converted and made read-only when the object is made; copy them to edit.

    Attributes:
        points: ``(T, J, 2)`` float32 image coordinates in pixels (x right, y down); NaN where missing.
        confidence: ``(T, J)`` float32 in [0, 1]; 0 wherever ``points`` is NaN. ``None`` when made means 1 for every
            finite point.
        joint_names: J unique, non-empty names.
        edges: ``(E, 2)`` int64 pairs of joint indices (may be empty).
        image_size: ``(width, height)`` in pixels, or None when the file does not say.
        fps: frames per second, or None when the file does not say.
        source: the file or folder read.
        rig_name: the standard layout (:func:`lfm_engine.layouts.get_rig`) that the names and edges are, e.g.
            ``"coco17"``, or None.
        frame_ids: ``(T,)`` int64 frame numbers from the file (OpenPose file numbers, COCO image ids, DLC image
            numbers, ...), or None when the frames are simply ``0..T-1``.
    """

    points: np.ndarray
    confidence: np.ndarray | None
    joint_names: tuple[str, ...]
    edges: np.ndarray = field(default_factory=_no_edges)
    image_size: tuple[int, int] | None = None
    fps: float | None = None
    source: str = ""
    rig_name: str | None = None
    frame_ids: np.ndarray | None = None

    def __post_init__(self):
        src = self.source or "keypoints"
        pts = _points(self.points, src)
        T, J, _ = pts.shape
        names = _names(self.joint_names, J, src)
        conf = _confidence(self.confidence, pts, src)
        edges = _edges(self.edges, names, src)
        size = _image_size(self.image_size, src)
        fps = _fps(self.fps, src)
        ids = _frame_ids(self.frame_ids, T, src)
        for arr in (pts, conf, edges, ids):
            if arr is not None:
                arr.setflags(write=False)
        for name, value in (
            ("points", pts), ("confidence", conf), ("joint_names", names), ("edges", edges),
            ("image_size", size), ("fps", fps), ("source", str(self.source)), ("frame_ids", ids),
        ):  # fmt: skip
            object.__setattr__(self, name, value)
        if self.rig_name is not None and not isinstance(self.rig_name, str):
            raise InputError(f"{src}: rig_name must be text or None, got {type(self.rig_name).__name__}")

    # ------------------------------------------------------------------ queries
    @property
    def num_frames(self) -> int:
        return self.points.shape[0]

    @property
    def num_joints(self) -> int:
        return self.points.shape[1]

    def __len__(self) -> int:
        return self.points.shape[0]

    def __repr__(self) -> str:
        seen = float(self.mask.mean()) if self.points.size else 0.0
        rig = f", rig {self.rig_name!r}" if self.rig_name else ""
        return (
            f"Keypoints2D({self.num_frames} frames x {self.num_joints} joints, {len(self.edges)} edges{rig}, "
            f"{seen:.0%} of points present, source {self.source!r})"
        )

    @property
    def mask(self) -> np.ndarray:
        """``(T, J)`` bool: True where the point is present (finite)."""
        return np.isfinite(self.points).all(-1)

    def rig(self) -> Rig:
        """The skeleton: the standard layout ``rig_name`` when the names are its names (keeps its left/right pairs
        and category), else ``Rig.from_edges(joint_names, edges)``.

        Raises :class:`InputError` when no rig can be made (e.g. a single joint).
        """
        if self.rig_name is not None:
            from ..layouts import get_rig

            try:
                std = get_rig(self.rig_name)
            except RigError:
                std = None
            if std is not None and std.joint_names == self.joint_names:
                return std
        name = self.rig_name or (Path(self.source).stem if self.source else "keypoints") or "keypoints"
        try:
            return Rig.from_edges(self.joint_names, self.edges, name=name)
        except RigError as exc:
            raise InputError(f"{self.source or 'keypoints'}: cannot make a rig from these keypoints: {exc}") from None


# ---------------------------------------------------------------------- validation
def _points(points, src: str) -> np.ndarray:
    try:
        raw = np.asarray(points)
        wide = None if raw.dtype.kind == "c" else raw.astype(np.float64)
    except CONVERSION_ERRORS as exc:
        raise InputError(f"{src}: points must be a numeric (T, J, 2) array: {exc}") from None
    if wide is None:
        raise InputError(f"{src}: points must be real numbers, got complex values")
    if wide.ndim != 3 or wide.shape[-1] != 2:
        raise InputError(f"{src}: points must have shape (T, J, 2), got {wide.shape}")
    if wide.shape[0] == 0:
        raise InputError(f"{src}: no frames (points have shape {wide.shape})")
    if wide.shape[1] == 0:
        raise InputError(f"{src}: no joints (points have shape {wide.shape})")
    inf = np.isinf(wide)
    if inf.any():
        t, j, _ = np.argwhere(inf)[0]
        raise InputError(f"{src}: frame {t}, joint {j} is infinite; use NaN for missing points")
    huge = np.abs(np.nan_to_num(wide)) > MAX_COORDINATE
    if huge.any():
        t, j, _ = np.argwhere(huge)[0]
        raise InputError(f"{src}: frame {t}, joint {j} is at {tuple(wide[t, j].tolist())}, beyond the largest "
                         f"usable coordinate {MAX_COORDINATE:g}")  # fmt: skip
    arr = wide.astype(np.float32)
    arr[np.isnan(arr).any(-1)] = np.nan  # half-missing points are missing
    return arr


def _names(joint_names, J: int, src: str) -> tuple[str, ...]:
    if isinstance(joint_names, str):
        raise InputError(f"{src}: joint_names must be a sequence of names, not one string")
    names = tuple(str(n) if isinstance(n, np.str_) else n for n in joint_names)
    if len(names) != J:
        raise InputError(f"{src}: {len(names)} joint names for {J} joints")
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if not isinstance(n, str) or not n.strip():
            raise InputError(f"{src}: joint {i} has an empty or non-text name {n!r}")
        if n in seen:
            raise InputError(f"{src}: duplicate joint name {n!r} (joints {seen[n]} and {i})")
        seen[n] = i
    return names


def _confidence(confidence, pts: np.ndarray, src: str) -> np.ndarray:
    present = np.isfinite(pts).all(-1)
    if confidence is None:
        return present.astype(np.float32)
    try:
        conf = np.array(confidence, dtype=np.float32)
    except CONVERSION_ERRORS as exc:
        raise InputError(f"{src}: confidence must be a numeric (T, J) array: {exc}") from None
    if conf.shape != present.shape:
        raise InputError(f"{src}: confidence has shape {conf.shape} but points have {pts.shape[:2]} (T, J)")
    conf[~present] = 0.0
    bad = ~((conf >= 0) & (conf <= 1))  # NaN counts as bad
    if bad.any():
        t, j = np.argwhere(bad)[0]
        raise InputError(f"{src}: confidence of frame {t}, joint {j} is {conf[t, j]}; it must be in [0, 1]")
    return conf


def _edges(edges, names: tuple[str, ...], src: str) -> np.ndarray:
    try:
        arr = np.asarray(edges if edges is not None else [], dtype=np.float64)
    except CONVERSION_ERRORS as exc:
        raise InputError(f"{src}: edges must be (E, 2) pairs of joint indices: {exc}") from None
    if arr.size == 0:
        return _no_edges()
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise InputError(f"{src}: edges must have shape (E, 2), got {arr.shape}")
    J = len(names)
    ok = np.isfinite(arr).all(1) & (arr == np.round(arr)).all(1) & ((arr >= 0) & (arr < J)).all(1)
    if not ok.all():
        k = int(np.flatnonzero(~ok)[0])
        raise InputError(f"{src}: edge {k} {tuple(arr[k])} is not a pair of joint indices in 0..{J - 1}")
    out = arr.astype(np.int64)
    loops = np.flatnonzero(out[:, 0] == out[:, 1])
    if loops.size:
        raise InputError(f"{src}: edge {loops[0]} links joint {names[out[loops[0], 0]]!r} to itself")
    return out


def _image_size(size, src: str) -> tuple[int, int] | None:
    if size is None:
        return None
    try:
        w, h = (float(v) for v in size)
    except CONVERSION_ERRORS:
        raise InputError(f"{src}: image_size must be (width, height), got {size!r}") from None
    if not (w > 0 and h > 0 and np.isfinite(w) and np.isfinite(h)):
        raise InputError(f"{src}: image_size must be two positive numbers, got {size!r}")
    return round(w), round(h)


def _fps(fps, src: str) -> float | None:
    if fps is None:
        return None
    try:
        value = float(fps)
    except CONVERSION_ERRORS:
        raise InputError(f"{src}: fps must be a number, got {fps!r}") from None
    if not (value > 0 and np.isfinite(value)):
        raise InputError(f"{src}: fps must be positive, got {fps!r}")
    return value


def _frame_ids(ids, T: int, src: str) -> np.ndarray | None:
    if ids is None:
        return None
    try:
        arr = np.array(ids, dtype=np.int64).reshape(-1)
    except CONVERSION_ERRORS:
        raise InputError(f"{src}: frame_ids must be integers within the int64 range") from None
    if arr.shape != (T,):
        raise InputError(f"{src}: {arr.size} frame ids for {T} frames")
    return arr


# ---------------------------------------------------------------------- helpers for the readers
def check_file(path, what: str = "keypoint file") -> Path:
    """``path`` as a Path; raises :class:`InputError` when it does not exist or is a folder."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: {what} not found")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, expected a {what}")
    return p


def load_json(path: Path):
    """The parsed JSON of ``path``; raises :class:`InputError` naming the file and the place of a syntax error, or
    saying that the file is nested too deeply (:mod:`lfm_engine.safe_json`)."""
    return read_json_file(path, InputError)


def json_number(value) -> float | None:
    """``value`` as a float when it is a finite JSON number (an int or float, not a bool) within the float range,
    else None: for optional fields such as sizes and areas, where an unusable value counts as absent."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond 1.8e308
        return None
    return number if math.isfinite(number) else None


def float_array(values, where: str, what: str) -> np.ndarray:
    """``values`` (nested lists from a file) as a float64 array; raises :class:`InputError` ``"{where}: {what} holds
    values that are not numbers ..."`` when numpy cannot convert them (text, ragged lists, integers beyond the float
    range)."""
    try:
        return np.asarray(values, dtype=np.float64)
    except CONVERSION_ERRORS:
        raise InputError(f"{where}: {what} holds values that are not numbers (or lists of uneven length, or integers "
                         "beyond the float range)") from None  # fmt: skip


def frame_id_array(ids) -> np.ndarray | None:
    """``(T,)`` int64 frame ids when every one of ``ids`` is an integer (not a bool) within the int64 range, else None
    (frame numbers that numpy cannot hold: the frames keep their order, as with text ids, but get no numbers)."""
    out = []
    for i in ids:
        if isinstance(i, bool | np.bool_) or not isinstance(i, int | np.integer):
            return None
        if not INT64_RANGE[0] <= int(i) <= INT64_RANGE[1]:
            return None
        out.append(int(i))
    return np.asarray(out, dtype=np.int64)


def byte_size(n: int) -> str:
    """``n`` bytes in words: ``"172 B"``, ``"2.7 GB"``, ``"272.0 TB"``."""
    for power, unit in ((5, "PB"), (4, "TB"), (3, "GB"), (2, "MB"), (1, "kB")):
        if n >= 1000**power:
            return f"{n / 1000**power:,.1f} {unit}"
    return f"{n} B"


def trailing_number(text: str) -> int | None:
    """The last run of digits in ``text`` (e.g. ``"cam01.0042"`` -> 42), or None."""
    m = re.search(r"\d+", text[::-1])  # the first run of the reversed text: linear, whatever the text
    if m is None:
        return None
    try:
        return int(m.group()[::-1])
    except ValueError:  # more than 4,300 digits, which Python refuses to convert
        return None


def rig_names_edges(rig, num_joints: int, src: str) -> tuple[tuple[str, ...], np.ndarray, str | None]:
    """Names, edges and standard layout name of ``rig`` (a layout name or a :class:`Rig`), checked against the
    number of joints in the file."""
    from ..layouts import available_rigs, get_rig

    if isinstance(rig, str):
        try:
            r = get_rig(rig)
        except RigError as exc:
            raise InputError(f"{src}: {exc}") from None
    elif isinstance(rig, Rig):
        r = rig
    else:
        raise InputError(f"{src}: rig must be a layout name or a Rig, got {type(rig).__name__}")
    if r.num_joints != num_joints:
        raise InputError(f"{src}: rig {r.name!r} has {r.num_joints} joints but the file has {num_joints}")
    standard = r.name in available_rigs() and get_rig(r.name).joint_names == r.joint_names
    return r.joint_names, r.edge_array(), (r.name if standard else None)


def edges_from_name_pairs(pairs: Sequence[Sequence[str]], names: Sequence[str]) -> np.ndarray:
    """``(E, 2)`` edges from pairs of joint names; pairs naming an unknown joint, self loops and repeats are
    dropped."""
    index = {n: i for i, n in enumerate(names)}
    seen: set[tuple[int, int]] = set()
    out: list[tuple[int, int]] = []
    for pair in pairs:
        if len(pair) != 2:
            continue
        a, b = index.get(str(pair[0])), index.get(str(pair[1]))
        if a is None or b is None or a == b or (min(a, b), max(a, b)) in seen:
            continue
        seen.add((min(a, b), max(a, b)))
        out.append((a, b))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def generic_names(num_joints: int) -> tuple[str, ...]:
    """``("joint_0", "joint_1", ...)`` for files that give no names."""
    return tuple(f"joint_{i}" for i in range(num_joints))


def standard_layout(names: Sequence[str], edges: np.ndarray, candidates: Sequence[str]) -> str | None:
    """The first of the layouts ``candidates`` whose joint names are ``names`` and whose links are ``edges`` (as
    unordered pairs), or None."""
    from ..layouts import get_rig

    pairs = {(min(a, b), max(a, b)) for a, b in np.asarray(edges, dtype=np.int64).reshape(-1, 2).tolist()}
    for name in candidates:
        rig = get_rig(name)
        if rig.joint_names == tuple(names) and pairs == {(min(a, b), max(a, b)) for a, b in rig.edges}:
            return rig.name
    return None


def unique_edges(edges: np.ndarray, num_joints: int) -> np.ndarray:
    """``edges`` without links to joints outside ``0..num_joints-1``, self loops and repeats (in either
    direction), first occurrence kept."""
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    e = e[((e >= 0) & (e < num_joints)).all(1) & (e[:, 0] != e[:, 1])]
    if len(e) == 0:
        return e
    _, first = np.unique(np.sort(e, axis=1), axis=0, return_index=True)
    return e[np.sort(first)]
