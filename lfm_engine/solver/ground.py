"""The ground plane under a clip, and the world frame standing on it.

Frames
------
The solver works in the **camera world** of :mod:`lfm_engine.armature`: Blender axes (Z up, metres) with the camera
at the origin looking along +Y. A plane there is ``n . X = c`` with ``n`` its unit normal pointing up (towards the
subject's head) and ``c`` its signed offset (negative: the camera is ``-c`` metres above the ground).

The **ground world** (what the armature is built in) has the plane as ``z = 0``, Z along ``n``, Y along the camera's
view direction laid flat on the ground, and its origin under the subject (the body centroid of a chosen frame). The
camera is then at height ``-c`` above the ground, pitched down by :func:`camera_tilt` and rolled by the normal's
sideways lean; :func:`ground_transform` is the rigid motion from the camera world to the ground world, and
:func:`camera_matrix` the Blender camera object's ``matrix_world`` there.

The plane
---------
:func:`fit_ground` fits the plane to the sole joints of the planted feet. One camera sees the contacts in a small
patch or along a line (a walk), which leaves the tilt about that line to the noise of the lifted depth, so the fit
also pulls the normal towards the body's mean up direction (:func:`body_up`: from the planted feet to the centre
of the body, which balance keeps above them):
the normal is the eigenvector of least ``n^T C n - PRIOR_SPREAD^2 (n . up)^2`` (``C`` the contacts' scatter
matrix), i.e. the contacts decide directions along which they spread more than :data:`PRIOR_SPREAD` subject heights
and the body decides the rest. Contacts far from the plane are down-weighted (Huber, two rounds). Without contacts
the plane has the body's up as normal and passes through the lowest sole points (:data:`LOW_QUANTILE`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .contacts import Foot

#: Spread of the contacts (subject heights) beyond which they, not the body's up direction, set the plane's tilt.
PRIOR_SPREAD = 0.3
#: Quantile of the sole heights taken as the ground when no foot is planted.
LOW_QUANTILE = 0.02
#: Huber threshold of the plane fit, subject heights.
HUBER = 0.01
#: Blender camera object rotation looking along +Y with +Z up (``rotation_euler = (pi / 2, 0, 0)``).
CAMERA_ROTATION = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return np.asarray(v, dtype=np.float64) / n if n > 1e-12 else np.array([0.0, 0.0, 1.0])


def body_up(points: np.ndarray, feet: Sequence[Foot], contacts: np.ndarray | None = None) -> np.ndarray:
    """``(3,)`` unit: the body's mean up direction in ``(T, J, 3)`` points.

    With ``contacts`` ``(T, F)`` (any True): the median over the frames with a planted foot of the direction from
    the planted sole joints' centroid to all joints' centroid; a body in balance keeps its centre of mass over its
    support. Otherwise the median direction from all foot joints' centroid to all joints' centroid; world +Z
    without feet.
    """
    p = np.asarray(points, dtype=np.float64)
    foot = sorted({j for f in feet for j in f.joints})
    if not foot:
        return np.array([0.0, 0.0, 1.0])
    c = None if contacts is None else np.asarray(contacts, dtype=bool)
    if c is not None and c.any():
        frames = np.flatnonzero(c.any(1))
        mask = np.zeros((len(frames), p.shape[1]))
        for k, f in enumerate(feet):
            mask[:, list(f.sole)] += c[frames, k][:, None]
        support = (mask[..., None] * p[frames]).sum(1) / mask.sum(1)[:, None]
        v = p[frames].mean(1) - support
    else:
        v = p.mean(1) - p[:, foot].mean(1)  # (T, 3)
    v = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
    return _unit(np.median(v, axis=0))


def sole_points(
    points: np.ndarray, feet: Sequence[Foot], contacts: np.ndarray | None, up: np.ndarray, size: float
) -> np.ndarray:
    """``(N, 3)`` the sole joints of the planted feet (every frame when ``contacts`` is None), each moved down by its
    sole height (along ``up``) onto the ground."""
    p = np.asarray(points, dtype=np.float64)
    out = []
    for f, foot in enumerate(feet):
        frames = np.arange(len(p)) if contacts is None else np.flatnonzero(np.asarray(contacts)[:, f])
        pts = p[frames][:, list(foot.sole)].reshape(-1, 3)
        out.append(pts - foot.sole_height * size * np.asarray(up))
    return np.concatenate(out, 0) if out else np.zeros((0, 3))


def fit_ground(
    points: np.ndarray,
    feet: Sequence[Foot],
    contacts: np.ndarray,
    up: np.ndarray,
    size: float,
) -> tuple[np.ndarray, float]:
    """The ground plane ``(normal, offset)`` (see the module docs).

    Args:
        points: ``(T, J, 3)`` camera-world metres. feet: :func:`lfm_engine.solver.contacts.find_feet`.
        contacts: ``(T, F)`` bool planted feet. up: ``(3,)`` unit prior normal (:func:`body_up`).
        size: the subject's height, metres.
    """
    up = _unit(up)
    P = sole_points(points, feet, contacts, up, size)
    if len(P) < 3:
        low = sole_points(points, feet, None, up, size) @ up
        if low.size == 0:
            low = np.asarray(points, dtype=np.float64).reshape(-1, 3) @ up
        return up, float(np.quantile(low, LOW_QUANTILE))
    w = np.ones(len(P))
    n, c = up, float(np.median(P @ up))
    prior = (PRIOR_SPREAD * size) ** 2
    for _ in range(3):
        centre = (w[:, None] * P).sum(0) / w.sum()
        X = P - centre
        C = (w[:, None, None] * (X[:, :, None] * X[:, None, :])).sum(0) / w.sum()  # (3, 3) scatter
        _, vecs = np.linalg.eigh(C - prior * np.outer(up, up))
        n = vecs[:, 0] if vecs[:, 0] @ up >= 0 else -vecs[:, 0]
        c = float(n @ centre)
        r = np.abs(P @ n - c) / (HUBER * size)
        w = np.where(r > 1.0, 1.0 / np.maximum(r, 1e-12), 1.0)
    return n, c


def ground_transform(normal: np.ndarray, offset: float, anchor: np.ndarray) -> np.ndarray:
    """``(4, 4)`` rigid motion from the camera world to the ground world (see the module docs): ``normal . X =
    offset`` becomes ``z = 0``, ``anchor`` ``(3,)`` (camera world) goes above the origin."""
    ez = _unit(normal)
    view = np.array([0.0, 1.0, 0.0])
    ey = view - (view @ ez) * ez
    ey = _unit(ey) if np.linalg.norm(ey) > 1e-6 else _unit(np.cross(ez, [1.0, 0.0, 0.0]))
    ex = np.cross(ey, ez)
    R = np.stack([ex, ey, ez])  # rows: the new axes in camera-world coordinates
    M = np.eye(4)
    M[:3, :3] = R
    a = R @ np.asarray(anchor, dtype=np.float64)
    M[:3, 3] = [-a[0], -a[1], -float(offset)]
    return M


def apply(M: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``(..., 3)`` points through the ``(4, 4)`` transform ``M``."""
    p = np.asarray(points, dtype=np.float64)
    return p @ M[:3, :3].T + M[:3, 3]


def camera_matrix(M: np.ndarray) -> np.ndarray:
    """``(4, 4)`` the Blender camera object's ``matrix_world`` in the world that ``M`` maps the camera world to."""
    C = np.eye(4)
    C[:3, :3] = M[:3, :3] @ CAMERA_ROTATION
    C[:3, 3] = M[:3, 3]
    return C


def camera_tilt(normal: np.ndarray) -> float:
    """Degrees the camera looks down from the horizontal, for the ground normal ``normal`` (camera world)."""
    n = _unit(normal)
    return float(np.degrees(np.arcsin(np.clip(-n[1], -1.0, 1.0))))


def camera_roll(normal: np.ndarray) -> float:
    """Degrees the camera is rolled about its view axis (positive: the image's right side is lower)."""
    n = _unit(normal)
    return float(np.degrees(np.arctan2(n[0], n[2])))
