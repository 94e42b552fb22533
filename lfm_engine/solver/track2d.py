"""The 2D part of the clip solve: each keypoint's image track, smoothed against the detector's noise.

The clip solver (:mod:`lfm_engine.solver.clip`) keeps every joint on a camera ray through a 2D track; this module
makes those tracks. Each joint's ``u`` and ``v`` pixel series is the minimiser of::

    sum_t  w_t rho((x_t - u_t) / sigma_px)                      the detection, weighted by its confidence
  + sum_t  ((x_{t-1} - 2 x_t + x_{t+1}) fps^2 / sigma_acc)^2    acceleration, px/s^2
  + sum_t  p_t ((x_{t+1} - x_t) fps / sigma_pin)^2              a planted foot's joint does not move, px/s

with ``rho`` Huber's loss (quadratic within :data:`HUBER` sigmas; a few reweighted solves), so single-frame detector
jumps are discounted. Frames where a joint is not seen use ``prior`` (the projection of the lifted joint, or of the
solver's first pass) with the small weight ``(sigma_px / sigma_prior)^2``, so gaps are bridged smoothly and a joint
never seen still has a track. Each series is an independent pentadiagonal system; all ``2 J`` of them are solved
at once by :func:`lfm_engine.solver.banded.solve_pentadiagonal`.

The detector's noise ``sigma_px`` can be measured from the detections themselves (:func:`detector_noise`): the
robust spread of their second differences, which white noise inflates by ``sqrt(6)`` and smooth motion hardly at
all at video rates.
"""

from __future__ import annotations

import numpy as np

from . import banded

#: Huber threshold, in ``sigma_px``: residuals beyond it weigh linearly, not quadratically.
HUBER = 3.0
#: Reweighted solves of the Huber loss.
IRLS_ROUNDS = 3
#: Detector noise assumed bounds, pixels (:func:`detector_noise` is clipped to them).
NOISE_RANGE_PX = (0.5, 8.0)


def detector_noise(points2d: np.ndarray, visible: np.ndarray) -> float:
    """The detector's per-coordinate noise in pixels, from ``(T, J, 2)`` detections and their ``(T, J)`` visibility:
    ``1.4826 * median(|second difference|) / sqrt(6)`` over the joints seen in three frames in a row, clipped to
    :data:`NOISE_RANGE_PX` (the upper bound when fewer than 3 frames)."""
    p = np.asarray(points2d, dtype=np.float64)
    vis = np.asarray(visible, dtype=bool) & np.isfinite(p).all(-1)
    if len(p) < 3:
        return NOISE_RANGE_PX[1]
    ok = vis[2:] & vis[1:-1] & vis[:-2]
    if not ok.any():
        return NOISE_RANGE_PX[1]
    d2 = (p[2:] - 2 * p[1:-1] + p[:-2])[ok]  # (N, 2)
    sigma = 1.4826 * float(np.median(np.abs(d2))) / np.sqrt(6.0)
    return float(np.clip(sigma, *NOISE_RANGE_PX))


def smooth_tracks(
    points2d: np.ndarray,
    weights: np.ndarray,
    prior: np.ndarray,
    fps: float,
    *,
    sigma_px: float,
    sigma_acc: float | np.ndarray,
    sigma_prior: float,
    pins: np.ndarray | None = None,
    sigma_pin: float = 1.0,
) -> np.ndarray:
    """The smoothed 2D tracks (see the module docs).

    Args:
        points2d: ``(T, J, 2)`` detections, pixels (NaN where missing).
        weights: ``(T, J)`` detection weights in 0..1 (0: not seen; then ``prior`` is used).
        prior: ``(T, J, 2)`` finite pixels used where ``weights`` is 0, with weight ``(sigma_px / sigma_prior)^2``.
        fps: frames per second.
        sigma_px: detector noise, pixels. sigma_acc: acceleration scale, px/s^2 (a scalar or ``(J,)``).
        sigma_prior: the prior's uncertainty, pixels.
        pins: ``(T - 1, J)`` bool: joint ``j`` should not move from frame ``t`` to ``t + 1`` (planted feet).
        sigma_pin: speed allowed to pinned joints, px/s.

    Returns:
        ``(T, J, 2)`` float64 pixels.
    """
    u = np.asarray(points2d, dtype=np.float64)
    T, J = u.shape[:2]
    w = np.where(np.isfinite(u).all(-1), np.clip(np.asarray(weights, dtype=np.float64), 0.0, 1.0), 0.0)  # (T, J)
    seen = w > 0
    target = np.where(seen[..., None], u, np.asarray(prior, dtype=np.float64))  # (T, J, 2)
    base = np.where(seen, w, (sigma_px / sigma_prior) ** 2) / sigma_px**2  # (T, J) data weight, 1/px^2
    # The fixed (non-data) part of the pentadiagonal normal matrix, per joint: (J, T), (J, T-1), (J, T-2).
    d0 = np.zeros((J, T))
    d1 = np.zeros((J, max(T - 1, 0)))
    d2 = np.zeros((J, max(T - 2, 0)))
    if T >= 3:
        k2 = (fps**2 / np.broadcast_to(np.asarray(sigma_acc, dtype=np.float64), (J,))) ** 2  # (J,)
        c = k2[:, None] * np.ones((J, T - 2))
        for a, ca in enumerate((1.0, -2.0, 1.0)):
            d0[:, a : T - 2 + a] += c * ca * ca
        d1[:, : T - 2] += c * (1.0 * -2.0)  # (t-1, t) of each acceleration term at t
        d1[:, 1 : T - 1] += c * (-2.0 * 1.0)  # (t, t+1)
        d2 += c * 1.0
    if pins is not None and T >= 2:
        kp = (fps / sigma_pin) ** 2 * np.asarray(pins, dtype=np.float64).T  # (J, T-1)
        d0[:, :-1] += kp
        d0[:, 1:] += kp
        d1 -= kp
    robust = np.ones((T, J))
    x = target.copy()
    for _ in range(IRLS_ROUNDS):
        a = (base * robust).T  # (J, T)
        rhs = a[:, None, :] * np.moveaxis(target, (0, 1, 2), (2, 0, 1))  # (J, 2, T)
        diag = np.broadcast_to((d0 + a)[:, None, :], rhs.shape)
        x = banded.solve_pentadiagonal(diag, d1[:, None, :], d2[:, None, :], rhs)  # (J, 2, T)
        x = np.moveaxis(x, (0, 1, 2), (1, 2, 0))  # (T, J, 2)
        r = np.linalg.norm(x - target, axis=-1) / sigma_px  # (T, J) in sigmas
        robust = np.where(seen & (r > HUBER), HUBER / np.maximum(r, 1e-12), 1.0)  # the prior is not reweighted
    return x
