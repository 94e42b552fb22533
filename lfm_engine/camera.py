"""From the model's canonical shape to the camera frame of the footage.

Camera frame (OpenCV): x right, y down, z away from the camera, in the unit of the input 2D points.

Two ways to get the depth of each joint (``ModelConfig.camera_alignment``, chosen by measured N-MPJPE, see
docs/MODEL.md):

- ``"onp"`` (the paper): rotate and scale the canonical shape onto the 2D points with
  :func:`geometry.orthographic_alignment`; depth is the aligned shape's z.
- ``"direct"``: the model predicts camera-frame depth itself (trained with a camera-frame loss); only a scale is
  fitted to the 2D.

Either way the visible joints keep their observed x, y exactly, so the output agrees with the footage; missing
joints take x, y from the aligned prediction.
"""

from __future__ import annotations

import numpy as np

from .geometry import orthographic_alignment


def depth_from_canonical(
    shape: np.ndarray, points: np.ndarray, visible: np.ndarray, alignment: str = "onp"
) -> tuple[np.ndarray, np.ndarray]:
    """Per-joint depth and model-predicted 2D for normalised inputs.

    Args:
        shape: ``(T, J, 3)`` canonical prediction (normalised units).
        points: ``(T, J, 2)`` normalised 2D input (centred on the visible joints).
        visible: ``(T, J)`` bool.
        alignment: ``"onp"`` or ``"direct"``.

    Returns:
        ``depth (T, J)`` centred on the visible joints' mean, and ``xy (T, J, 2)``: the prediction's own 2D,
        in the frame of ``points`` (used for missing joints).
    """
    w = visible.astype(np.float64)
    shape64 = shape.astype(np.float64)
    if alignment == "onp":
        s, rot, t = orthographic_alignment(shape64, points.astype(np.float64), w)
        cam = s[:, None, None] * (shape64 @ rot.swapaxes(-1, -2))  # (T, J, 3)
        xy = cam[..., :2] + t[:, None, :]
    elif alignment == "direct":
        wsum = w.sum(-1, keepdims=True)  # (T, 1)
        mu = (shape64 * w[..., None]).sum(1, keepdims=True) / wsum[..., None]  # (T, 1, 3)
        c = shape64 - mu
        num = (w * (c[..., :2] * points).sum(-1)).sum(-1)
        den = np.maximum((w * (c[..., :2] ** 2).sum(-1)).sum(-1), 1e-12)
        cam = (num / den)[:, None, None] * c  # (T, J, 3)
        xy = cam[..., :2]
    else:
        raise ValueError(f"unknown camera alignment {alignment!r}")
    z = cam[..., 2]
    depth = z - (z * w).sum(-1, keepdims=True) / w.sum(-1, keepdims=True)
    return depth, xy


def place_in_camera(
    points: np.ndarray,
    visible: np.ndarray,
    depth: np.ndarray,
    predicted_xy: np.ndarray,
    focal_length: float | None = None,
    principal_point: tuple[float, float] | None = None,
) -> np.ndarray:
    """Assemble camera-frame 3D points in the input's unit.

    Args:
        points: ``(T, J, 2)`` input 2D (input units; anything at masked joints).
        visible: ``(T, J)`` bool.
        depth: ``(T, J)`` relative depth in input units, centred on the visible joints.
        predicted_xy: ``(T, J, 2)`` the prediction's 2D in input units (used where not visible).
        focal_length, principal_point: the pinhole camera, or None for weak perspective.

    Returns:
        ``(T, J, 3)``. Weak perspective: x, y are the 2D centred on the visible joints' mean, z = depth.
        Pinhole: z = f + depth (mean visible depth f) and x, y = (u - c) z / f, so every visible joint projects
        exactly onto its 2D point.
    """
    uv = np.where(visible[..., None], points, predicted_xy)  # (T, J, 2)
    if focal_length is None:
        w = visible[..., None]
        centre = (np.where(w, points, 0.0)).sum(1, keepdims=True) / w.sum(1, keepdims=True)
        return np.concatenate([uv - centre, depth[..., None]], -1)
    f = float(focal_length)
    z = f + depth
    xy = (uv - np.asarray(principal_point, dtype=np.float64)) * (z / f)[..., None]
    return np.concatenate([xy, z[..., None]], -1)
