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

Focal lengths come in pixels, millimetres (with a sensor width), as a field of view, or as a 35 mm-equivalent;
:func:`focal_length_px` converts them all to pixels, in Blender's camera convention (sensor fit Auto: the sensor
width and the field of view span the image's larger side).
"""

from __future__ import annotations

import math

import numpy as np

from .errors import InputError
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


# ---------------------------------------------------------------------- focal length units
#: Sensor width (mm) of the Blender camera the add-on makes, spanning the image's larger side (sensor fit Auto,
#: Blender's default): ``lens = focal_px * SENSOR_WIDTH_MM / max(width, height)``.
SENSOR_WIDTH_MM = 36.0
#: The diagonal of a 36 x 24 mm frame, on which 35 mm-equivalent focal lengths are defined.
FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)
#: Field of view (degrees, across the image's larger side) assumed when nothing gives the focal length: a phone's
#: main camera or a normal lens (``f = 0.96 x`` the larger side: a 34.6 mm lens on a 36 mm sensor).
DEFAULT_FIELD_OF_VIEW = 55.0
#: The units :func:`focal_length_px` converts from: pixels, millimetres on a sensor of the given width across the
#: image's larger side, the field of view in degrees across the larger side, and the 35 mm-equivalent focal length
#: (millimetres on a full-frame diagonal; what phones and EXIF report).
FOCAL_UNITS = ("px", "mm", "fov", "mm35")


def focal_length_px(
    value: float, unit: str, image_size: tuple[float, float], sensor_width: float = SENSOR_WIDTH_MM
) -> float:
    """A focal length given in ``unit`` (:data:`FOCAL_UNITS`) in pixels, for an image of ``image_size``
    ``(width, height)`` pixels.

    Blender's camera convention (sensor fit Auto): the sensor's width, and the field of view, span the image's
    larger side ``L = max(width, height)``:

    * ``"px"``: ``value`` itself;
    * ``"mm"``: ``value * L / sensor_width`` (the lens of a Blender camera with that sensor width);
    * ``"fov"``: ``(L / 2) / tan(value / 2)``, ``value`` in degrees (0 to 180, exclusive);
    * ``"mm35"``: ``value * D / FULL_FRAME_DIAGONAL_MM``, ``D`` the image diagonal in pixels.

    Raises:
        InputError: an unknown unit, a value or sensor width that is not a positive finite number, a field of view
            outside (0, 180) degrees, or an image size that is not two positive numbers.
    """
    if unit not in FOCAL_UNITS:
        raise InputError(f"unknown focal length unit {unit!r}; use one of {', '.join(FOCAL_UNITS)}")
    v = _positive(value, "focal length")
    w, h = (_positive(x, "image size") for x in _pair(image_size))
    side = max(w, h)
    if unit == "px":
        return v
    if unit == "mm":
        return v * side / _positive(sensor_width, "sensor width")
    if unit == "fov":
        if not v < 180.0:
            raise InputError(f"field of view must be between 0 and 180 degrees, got {value!r}")
        return side / 2.0 / math.tan(math.radians(v) / 2.0)
    return v * math.hypot(w, h) / FULL_FRAME_DIAGONAL_MM


def focal_length_in(
    focal_px: float, unit: str, image_size: tuple[float, float], sensor_width: float = SENSOR_WIDTH_MM
) -> float:
    """The inverse of :func:`focal_length_px`: a focal length of ``focal_px`` pixels in ``unit``."""
    f = _positive(focal_px, "focal length")
    if unit == "fov":
        w, h = (_positive(x, "image size") for x in _pair(image_size))
        return math.degrees(2.0 * math.atan(max(w, h) / 2.0 / f))
    return f / focal_length_px(1.0, unit, image_size, sensor_width)


def _pair(size) -> tuple[float, float]:
    try:
        w, h = size
    except (TypeError, ValueError):
        raise InputError(f"image size must be (width, height), got {size!r}") from None
    return w, h


def _positive(value, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{what} must be a positive number, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise InputError(f"{what} must be a positive number, got {value!r}")
    return v
