"""Preparing 2D keypoints for the model, as in the paper.

Joints that are missing (NaN, masked out, or below a confidence threshold) are masked. Each frame is centred on the
mean of its visible joints and scaled by one factor for both axes (aspect ratio kept) so that the visible joints
lie in [-1, 1]. Batches of rigs with different joint counts are padded with masked joints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import CONVERSION_ERRORS, InputError

#: Largest accepted coordinate magnitude: far beyond any image, and small enough that lifting, scaling and squaring
#: it stays finite in float32.
MAX_COORDINATE = 1e15


@dataclass(frozen=True)
class Normalized:
    """Normalised keypoints and how to undo the normalisation: ``p = points * scale + centre``.

    Attributes:
        points: ``(T, J, 2)`` float32 in [-1, 1]; 0 at masked joints.
        visible: ``(T, J)`` bool.
        centre: ``(T, 2)`` float64, the visible joints' mean, in input units.
        scale: ``(T,)`` float64, input units per normalised unit.
    """

    points: np.ndarray
    visible: np.ndarray
    centre: np.ndarray
    scale: np.ndarray


def as_points2d(points2d, name: str = "points2d") -> np.ndarray:
    """``points2d`` as a float64 ``(T, J, 2)`` array (a ``(J, 2)`` input becomes one frame).

    Raises :class:`InputError` for other shapes, non-numeric data, or infinite values (NaN means missing).
    """
    return parse_points2d(points2d, name)[0]


def parse_points2d(points2d, name: str = "points2d") -> tuple[np.ndarray, bool]:
    """:func:`as_points2d` of ``points2d``, and whether it was a single ``(J, 2)`` pose.

    Any nesting of Python lists that numpy cannot make a numeric array of (ragged lists, text, integers beyond the
    float range, more than 32 levels) is an :class:`InputError`, raised before anything else looks at the input.
    """
    try:
        raw = np.asarray(points2d)
        arr = None if raw.dtype.kind == "c" else raw.astype(np.float64)
    except CONVERSION_ERRORS as exc:
        raise InputError(f"{name} must be a numeric array of shape (T, J, 2) or (J, 2): {exc}") from None
    if arr is None:
        raise InputError(f"{name} must be real numbers, got complex values")
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[-1] != 2:
        shape = arr.shape[1:] if single else arr.shape
        raise InputError(f"{name} must have shape (T, J, 2) or (J, 2), got {shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InputError(f"{name} is empty: shape {arr.shape}")
    inf = np.isinf(arr)
    if inf.any():
        t, j, _ = np.argwhere(inf)[0]
        raise InputError(f"{name}: frame {t}, joint {j} is infinite ({int(inf.any(-1).sum())} such points); use NaN "
                         "for missing joints")  # fmt: skip
    return arr, single


def check_magnitude(points: np.ndarray, name: str = "points2d") -> None:
    """Raise :class:`InputError` naming the first frame and joint of ``points`` ``(T, J, 2)`` beyond
    :data:`MAX_COORDINATE` (a lift of such points would overflow float32)."""
    huge = np.abs(np.nan_to_num(points)) > MAX_COORDINATE
    if huge.any():
        t, j, _ = np.argwhere(huge)[0]
        raise InputError(f"{name}: frame {t}, joint {j} is at {tuple(points[t, j].tolist())}, beyond the largest "
                         f"usable coordinate {MAX_COORDINATE:g}")  # fmt: skip


def visible_mask(points: np.ndarray, mask=None, confidence=None, threshold: float = 0.0) -> np.ndarray:
    """``(T, J)`` bool: finite points, where ``mask`` is True and ``confidence`` exceeds ``threshold``.

    Args:
        points: ``(T, J, 2)``.
        mask: optional ``(T, J)`` or ``(J,)`` bool, True = visible.
        confidence: optional ``(T, J)`` scores; a joint is kept when its score is > ``threshold``
            (with the default threshold 0, zero-confidence detections, as OpenPose writes them, are missing).
    """
    T, J, _ = points.shape
    vis = np.isfinite(points).all(-1)
    if confidence is not None:
        try:
            threshold = float(threshold)
        except CONVERSION_ERRORS:
            raise InputError(f"confidence_threshold must be a number, got {threshold!r}") from None
    for name, value in (("mask", mask), ("confidence", confidence)):
        if value is None:
            continue
        try:
            arr = np.asarray(value, dtype=np.float64)
        except CONVERSION_ERRORS as exc:
            raise InputError(f"{name} must be a numeric or bool array of shape (T, J): {exc}") from None
        if arr.ndim == 1:
            arr = np.broadcast_to(arr, (T, arr.shape[0]))
        if arr.shape != (T, J):
            raise InputError(f"{name} has shape {np.shape(value)}, but points2d has {T} frames of {J} joints")
        if name == "mask":
            vis &= arr != 0
        else:
            vis &= np.nan_to_num(arr, nan=-np.inf) > threshold
    return vis


def normalize(points: np.ndarray, visible: np.ndarray) -> Normalized:
    """Centre each frame on its visible joints' mean and scale them into [-1, 1], keeping the aspect ratio.

    Raises :class:`InputError` naming the frames with fewer than two visible joints, or whose visible joints all
    coincide (nothing to lift there).
    """
    vis = visible.astype(bool)
    count = vis.sum(-1)  # (T,)
    safe = np.where(vis[..., None], points, 0.0)
    centre = safe.sum(1) / np.maximum(count, 1)[:, None]  # (T, 2)
    centred = np.where(vis[..., None], points - centre[:, None], 0.0)  # (T, J, 2)
    scale = np.abs(centred).max(axis=(1, 2))  # (T,)
    # Distinct joints are told by the points themselves, not by the scale: the mean of joints that all coincide can
    # round off their position, which would make a zero-size pose look like one of size 1e-16.
    lowest = np.where(vis[..., None], points, np.inf).min(1)
    highest = np.where(vis[..., None], points, -np.inf).max(1)
    distinct = ((highest - lowest) > 0).any(-1)  # (T,); False where fewer than one joint is visible
    bad = np.flatnonzero((count < 2) | ~distinct | ~(scale > 0))
    if bad.size:
        frames = ", ".join(str(b) for b in bad[:10]) + (", ..." if bad.size > 10 else "")
        raise InputError(
            f"frame(s) {frames} ({bad.size} of {len(count)}) have fewer than two distinct visible joints, so "
            "there is nothing to lift; drop or interpolate those frames first"
        )
    norm = (centred / scale[:, None, None]).astype(np.float32)
    return Normalized(norm, vis, centre, scale)


def pad_batch(
    points: Sequence[np.ndarray], visible: Sequence[np.ndarray], adjacency: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack samples of different joint counts, padding with masked joints that have no edges.

    Args:
        points: B arrays ``(J_b, 2)`` (or ``(J_b, 3)`` targets: any trailing size, padded with 0).
        visible: B bool arrays ``(J_b,)``.
        adjacency: B bool arrays ``(J_b, J_b)``.

    Returns:
        ``(B, J, C)`` points, ``(B, J)`` visible, ``(B, J, J)`` adjacency with ``J = max J_b``.
    """
    B = len(points)
    J = max(p.shape[0] for p in points)
    C = points[0].shape[-1]
    out_p = np.zeros((B, J, C), dtype=np.float32)
    out_v = np.zeros((B, J), dtype=bool)
    out_a = np.zeros((B, J, J), dtype=bool)
    for b, (p, v, a) in enumerate(zip(points, visible, adjacency, strict=True)):
        n = p.shape[0]
        out_p[b, :n] = p
        out_v[b, :n] = v
        out_a[b, :n, :n] = a
    return out_p, out_v, out_a
