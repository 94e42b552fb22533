"""How good a clip's motion is: foot slide, floor contact, jerk, reprojection and bone-length errors.

Used by the tests and the benchmarks to compare the clip solver's output with the per-frame armature; all lengths
in metres, times in seconds, points ``(T, J, 3)`` in a world with a known ground plane ``normal . X = offset``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .contacts import Foot, _runs


def jerk(points: np.ndarray, fps: float) -> np.ndarray:
    """``(3,)`` mean absolute jerk per axis, m/s^3: ``|X_{t+2} - 3 X_{t+1} + 3 X_t - X_{t-1}| fps^3`` over every
    joint and frame (zeros for fewer than 4 frames)."""
    p = np.asarray(points, dtype=np.float64)
    if len(p) < 4:
        return np.zeros(3)
    j3 = p[3:] - 3 * p[2:-1] + 3 * p[1:-2] - p[:-3]
    return np.abs(j3).reshape(-1, 3).mean(0) * fps**3


def foot_slide(points: np.ndarray, feet: Sequence[Foot], contacts: np.ndarray, fps: float) -> dict[str, float]:
    """How much planted feet move: over the runs of ``contacts`` ``(T, F)``, the centroid of each foot's sole joints'

    * ``travel``: path length summed over all runs and feet, metres;
    * ``speed``: that over the time in contact, m/s;
    * ``wander``: the largest distance from a run's mean position, metres;
    * ``jump``: the largest move in one frame, metres.
    """
    p = np.asarray(points, dtype=np.float64)
    travel = wander = jump = 0.0
    frames = 0
    for f, foot in enumerate(feet):
        centre = p[:, list(foot.sole)].mean(1)  # (T, 3)
        for a, b, on in _runs(np.asarray(contacts)[:, f]):
            if not on or b - a < 2:
                continue
            run = centre[a:b]
            steps = np.linalg.norm(np.diff(run, axis=0), axis=-1)
            travel += float(steps.sum())
            jump = max(jump, float(steps.max()))
            wander = max(wander, float(np.linalg.norm(run - run.mean(0), axis=-1).max()))
            frames += b - a - 1
    return {"travel": travel, "speed": travel * fps / frames if frames else 0.0, "wander": wander, "jump": jump}


def sole_heights(
    points: np.ndarray, feet: Sequence[Foot], normal: np.ndarray, offset: float, size: float = 1.75
) -> np.ndarray:
    """``(T, F)`` each foot's lowest sole joint above the plane, its sole height (times ``size``) subtracted."""
    p = np.asarray(points, dtype=np.float64)
    n = np.asarray(normal, dtype=np.float64)
    return np.stack([(p[:, list(f.sole)] @ n - offset).min(1) - f.sole_height * size for f in feet], 1)


def floor_contact(
    points: np.ndarray, feet: Sequence[Foot], contacts: np.ndarray, normal: np.ndarray, offset: float,
    size: float = 1.75,
) -> dict[str, float]:  # fmt: skip
    """How the subject stands on the plane: on the frames of ``contacts``, the planted feet's highest ``float``
    above it and deepest ``sink`` under it (metres, both >= 0); over every frame, the deepest joint ``under`` it."""
    h = sole_heights(points, feet, normal, offset, size)
    c = np.asarray(contacts, dtype=bool)
    on = h[c]
    under = float(-min(0.0, (np.asarray(points, dtype=np.float64) @ np.asarray(normal) - offset).min()))
    return {"float": float(max(0.0, on.max())) if on.size else 0.0,
            "sink": float(max(0.0, -on.min())) if on.size else 0.0, "under": under}  # fmt: skip


def fit_plane(points: np.ndarray) -> tuple[np.ndarray, float]:
    """The least-squares plane ``(normal, offset)`` through ``(N, 3)`` points, normal with a positive Z."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    centre = p.mean(0)
    n = np.linalg.svd(p - centre)[2][-1]
    n = n if n[2] >= 0 else -n
    return n, float(n @ centre)


def reprojection(
    points: np.ndarray, points2d: np.ndarray, visible: np.ndarray, focal_length: float, principal_point
) -> np.ndarray:
    """``(N,)`` pixel distances of the visible joints between the camera-world ``points`` (camera at the origin
    looking along +Y, Z up) projected and ``points2d``."""
    p = np.asarray(points, dtype=np.float64)
    uv = np.stack([p[..., 0] / p[..., 1] * focal_length + principal_point[0],
                   principal_point[1] - p[..., 2] / p[..., 1] * focal_length], -1)  # fmt: skip
    err = np.linalg.norm(uv - np.asarray(points2d, dtype=np.float64), axis=-1)
    return err[np.asarray(visible, dtype=bool)]


def bone_lengths(points: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """``(T, B)`` the length of every bone (joint and its tree parent) in every frame."""
    p = np.asarray(points, dtype=np.float64)
    par = np.asarray(parents)
    child = np.flatnonzero(par >= 0)
    return np.linalg.norm(p[:, child] - p[:, par[child]], axis=-1)


def bone_length_error(points: np.ndarray, parents: Sequence[int], truth: np.ndarray | None = None) -> float:
    """Mean absolute bone-length error, metres: from ``truth`` ``(B,)`` (the true lengths) when given, else from each
    bone's own median (its variation over the clip)."""
    lengths = bone_lengths(points, parents)
    ref = np.median(lengths, 0) if truth is None else np.asarray(truth, dtype=np.float64)
    return float(np.abs(lengths - ref).mean())
