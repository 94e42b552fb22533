"""Alignment of point sets: similarity Procrustes (3D-3D) and orthographic alignment (3D-2D, the paper's OnP).

Convention (everywhere in ``lfm_engine``): points are row vectors stored ``(..., N, 3)``, transforms act on column
vectors, ``y = s R x + t``, so a batch is transformed as ``s * x @ R.swapaxes(-1, -2) + t``. Rotations are proper
(``det R = +1``): reflections are never returned. Units are those of the inputs.

Every function accepts numpy arrays or torch tensors (not mixed) and returns the same kind, batched over any
leading dimensions. Torch results carry gradients through the points but not through the estimated transform
(the transform is an optimum, so for a squared error its gradient contribution vanishes: envelope theorem).
"""

from __future__ import annotations

import numpy as np

EPS = 1e-12


def _xp(x):
    """numpy or torch, whichever ``x`` belongs to (torch is never imported here)."""
    if type(x).__module__.startswith("torch"):
        import torch

        return torch
    return np


def _weights(points, weights):
    """Weights ``(..., N)`` as the points' dtype; all ones when None."""
    xp = _xp(points)
    if weights is None:
        return xp.ones_like(points[..., 0])
    if xp is np:
        return np.asarray(weights, dtype=points.dtype) * np.ones_like(points[..., 0])
    return weights.to(points.dtype) * xp.ones_like(points[..., 0])


def _wmean(x, w):
    """Weighted mean over the points axis: ``x (..., N, D)``, ``w (..., N)`` -> ``(..., 1, D)``."""
    xp = _xp(x)
    wsum = xp.clip(w.sum(-1), EPS, None)[..., None, None]  # (..., 1, 1)
    return (x * w[..., None]).sum(-2)[..., None, :] / wsum


def _no_grad(x):
    return x.detach() if hasattr(x, "detach") else x


def similarity_procrustes(source, target, weights=None, *, scale: bool = True):
    """The similarity transform that best maps ``source`` onto ``target``.

    Minimises ``sum_i w_i |s R x_i + t - y_i|^2`` over proper rotations R (``det R = +1``), s >= 0 and t
    (Umeyama 1991, with the reflection case handled by flipping the smallest singular direction).

    Args:
        source: ``(..., N, 3)`` points x.
        target: ``(..., N, 3)`` points y, same units as the translation returned.
        weights: optional ``(..., N)`` non-negative weights (0 = ignore the point, e.g. a masked joint).
        scale: estimate s; with False, s = 1 (rigid alignment).

    Returns:
        ``(s, R, t)`` with shapes ``(...,)``, ``(..., 3, 3)`` and ``(..., 3)``. With fewer than 3 non-collinear
        weighted points the rotation about the degenerate axes is arbitrary but proper; the aligned points are
        still optimal. Computed without gradient.
    """
    xp = _xp(source)
    x, y = _no_grad(source), _no_grad(target)
    w = _no_grad(_weights(x, weights))
    mu_x, mu_y = _wmean(x, w), _wmean(y, w)  # (..., 1, 3)
    xc, yc = x - mu_x, y - mu_y
    cov = yc.swapaxes(-1, -2) @ (xc * w[..., None])  # (..., 3, 3) = sum_i w_i y_i x_i^T
    u, sv, vh = xp.linalg.svd(cov)
    d = xp.sign(xp.linalg.det(u @ vh))  # (...,) -1 where the best orthogonal map is a reflection
    d = xp.where(d == 0, xp.ones_like(d), d)
    flip = xp.ones_like(sv)
    flip[..., 2] = d
    rot = (u * flip[..., None, :]) @ vh  # U diag(1, 1, d) V^T
    if scale:
        var_x = (w * (xc**2).sum(-1)).sum(-1)  # (...,)
        s = (sv * flip).sum(-1) / xp.clip(var_x, EPS, None)
    else:
        s = xp.ones_like(sv[..., 0])
    t = mu_y[..., 0, :] - s[..., None] * (mu_x @ rot.swapaxes(-1, -2))[..., 0, :]
    return s, rot, t


def apply_similarity(s, rot, t, points):
    """``s R x + t`` for row-vector points ``(..., N, 3)``; s ``(...,)``, R ``(..., 3, 3)``, t ``(..., 3)``."""
    return s[..., None, None] * (points @ rot.swapaxes(-1, -2)) + t[..., None, :]


def procrustes_align(source, target, weights=None, *, scale: bool = True):
    """``source`` moved by the best similarity (or rigid) transform onto ``target``; ``(..., N, 3)``.

    Gradients flow through ``source`` (the transform itself is held fixed).
    """
    s, rot, t = similarity_procrustes(source, target, weights, scale=scale)
    return apply_similarity(s, rot, t, source)


def orthographic_alignment(shape, points2d, weights=None, *, iterations: int = 8):
    """Rotation, scale and 2D translation placing a 3D shape on 2D points under orthographic projection (OnP).

    Minimises ``sum_i w_i |s P R X_i + t - x_i|^2`` over proper rotations R, s and t, with
    ``P = [[1, 0, 0], [0, 1, 0]]``. The start is the affine fit ``A = argmin |A X - x|`` made orthonormal
    (exact for noise-free data of a non-planar shape); then each iteration completes the 2D points with the
    depths the current pose gives them and solves the 3D similarity Procrustes, which never increases the
    objective. Depth is then ``s * (R X)_z`` in the 2D points' unit. A shape with a handedness has one such R;
    the mirrored solution would need a reflection and is never returned.

    Args:
        shape: ``(..., N, 3)`` 3D points (any frame, e.g. the model's canonical shape).
        points2d: ``(..., N, 2)`` observed image points.
        weights: optional ``(..., N)`` (0 = ignore).
        iterations: alternation steps after the affine start.

    Returns:
        ``(s, R, t)``: ``(...,)``, ``(..., 3, 3)``, ``(..., 2)``. Computed without gradient.
    """
    xp = _xp(shape)
    X, x = _no_grad(shape), _no_grad(points2d)
    w = _no_grad(_weights(X, weights))
    mu_X, mu_x = _wmean(X, w), _wmean(x, w)
    Xc, xc = X - mu_X, x - mu_x
    wX = Xc * w[..., None]
    cov_xX = xc.swapaxes(-1, -2) @ wX  # (..., 2, 3)
    cov_XX = Xc.swapaxes(-1, -2) @ wX  # (..., 3, 3)
    ridge = 1e-6 * (cov_XX[..., 0, 0] + cov_XX[..., 1, 1] + cov_XX[..., 2, 2]) + EPS  # (...,)
    eye = xp.eye(3, dtype=X.dtype) if xp is np else xp.eye(3, dtype=X.dtype, device=X.device)
    affine = cov_xX @ xp.linalg.inv(cov_XX + ridge[..., None, None] * eye)  # (..., 2, 3) ~ s R[:2]
    u, sv, vh = xp.linalg.svd(affine, full_matrices=False)  # u (..., 2, 2), vh (..., 2, 3)
    r12 = u @ vh  # (..., 2, 3) orthonormal rows
    r1, r2 = r12[..., 0, :], r12[..., 1, :]
    r3 = xp.stack(
        [
            r1[..., 1] * r2[..., 2] - r1[..., 2] * r2[..., 1],
            r1[..., 2] * r2[..., 0] - r1[..., 0] * r2[..., 2],
            r1[..., 0] * r2[..., 1] - r1[..., 1] * r2[..., 0],
        ],
        -1,
    )
    rot = xp.concatenate([r12, r3[..., None, :]], -2)  # (..., 3, 3)
    s = sv.mean(-1)
    for _ in range(iterations):
        depth = s[..., None] * (Xc @ rot[..., 2, :, None])[..., 0]  # (..., N)
        target = xp.concatenate([xc, depth[..., None]], -1)  # (..., N, 3)
        s, rot, _t = similarity_procrustes(Xc, target, w)
    t = mu_x[..., 0, :] - s[..., None] * (mu_X @ rot[..., :2, :].swapaxes(-1, -2))[..., 0, :]
    return s, rot, t


def centred_scale_align(source, target, weights=None):
    """``source`` translated and scaled (no rotation) onto ``target``: centroids matched, least-squares scale.

    This is the alignment of N-MPJPE: it keeps orientation and depth as predicted. ``(..., N, D)``.
    """
    xp = _xp(source)
    w = _weights(source, weights)
    w_ = _no_grad(w)
    sc = source - _wmean(source, w_)
    tc = target - _wmean(target, w_)
    num = (w_ * (_no_grad(sc) * tc).sum(-1)).sum(-1)
    den = xp.clip((w_ * (_no_grad(sc) ** 2).sum(-1)).sum(-1), EPS, None)
    return (num / den)[..., None, None] * sc + _wmean(target, w_)


def _mean_error(pred, gt, weights):
    """Weighted mean Euclidean distance over points: ``(..., N, D)`` -> ``(...,)``."""
    xp = _xp(pred)
    w = _weights(pred, weights)
    dist = xp.sqrt(((pred - gt) ** 2).sum(-1) + EPS)  # (..., N)
    return (w * dist).sum(-1) / xp.clip(w.sum(-1), EPS, None)


def mpjpe(pred, gt, weights=None):
    """Mean per-joint position error, no alignment: ``(..., N, 3)`` -> ``(...,)`` in the inputs' unit."""
    return _mean_error(pred, gt, weights)


def pa_mpjpe(pred, gt, weights=None):
    """MPJPE after similarity Procrustes alignment of ``pred`` onto ``gt`` (no reflection): ``(...,)``.

    Also the paper's Procrustean training loss: with torch tensors, gradients flow to ``pred``.
    """
    return _mean_error(procrustes_align(pred, gt, weights), gt, weights)


def n_mpjpe(pred, gt, weights=None):
    """MPJPE after matching centroid and scale only (camera frame: orientation and depth as predicted)."""
    return _mean_error(centred_scale_align(pred, gt, weights), gt, weights)


def _mean_squared_error(pred, gt, weights):
    """Weighted mean squared distance over points: ``(..., N, D)`` -> ``(...,)``."""
    xp = _xp(pred)
    w = _weights(pred, weights)
    return (w * ((pred - gt) ** 2).sum(-1)).sum(-1) / xp.clip(w.sum(-1), EPS, None)


def pa_squared_error(pred, gt, weights=None):
    """Mean squared per-joint error after similarity Procrustes alignment of ``pred`` onto ``gt``: ``(...,)``,
    in the inputs' unit squared.

    The training loss (the paper's Procrustean MSE). The alignment ``(s, R, t)`` minimises exactly this sum, so
    holding it fixed (detached) gives the exact gradient of the aligned error with respect to ``pred`` (envelope
    theorem): the gradient has no component along the 7 similarity directions of ``pred`` (translation,
    rotation, scale), in which the aligned error is constant. :func:`pa_mpjpe` (a mean of plain distances) is not
    what the alignment minimises, so its detached gradient is not exact and does leak into those directions.
    """
    return _mean_squared_error(procrustes_align(pred, gt, weights), gt, weights)


def n_squared_error(pred, gt, weights=None):
    """Mean squared per-joint error after matching centroid and scale only (the camera-frame term): ``(...,)``.

    Centroid and least-squares scale are the optimum of this very sum, so the gradient is exact and has no
    component along the translation or the scale of ``pred``; rotation and depth are scored as predicted.
    """
    return _mean_squared_error(centred_scale_align(pred, gt, weights), gt, weights)


def depth_extent_ratio(pred, gt):
    """How much depth a camera-frame prediction has, relative to the truth: the mean over samples of the spread
    (RMS about the mean) of z over the points of ``pred`` after matching centroid and scale to ``gt``
    (:func:`centred_scale_align`), over the same mean for ``gt``. ``(..., N, 3)`` -> a scalar; 0 for a flat
    prediction, 1 for depth of the right extent."""
    xp = _xp(pred)

    def spread(points):
        z = points[..., 2]
        return xp.sqrt(((z - z.mean(-1)[..., None]) ** 2).mean(-1)).mean()

    return spread(centred_scale_align(pred, gt)) / xp.clip(spread(gt), EPS, None)
