"""Procrustes and OnP recover random ground truth; metrics behave as defined."""

import numpy as np
import pytest
import torch
from helpers import random_rotations

from lfm_engine.geometry import (
    apply_similarity,
    mpjpe,
    n_mpjpe,
    orthographic_alignment,
    pa_mpjpe,
    procrustes_align,
    similarity_procrustes,
)

DTYPES = [np.float32, np.float64]
TOL = {np.float32: 2e-4, np.float64: 1e-9}


def _transform(rng, batch):
    return random_rotations(rng, batch), rng.uniform(0.3, 3.0, batch), rng.normal(size=(batch, 3)) * 5


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_procrustes_recovers_similarity_many_points(rng, dtype, backend):
    R, s, t = _transform(rng, 16)
    X = rng.normal(size=(16, 30, 3))
    Y = apply_similarity(s, R, t, X)
    X, Y = X.astype(dtype), Y.astype(dtype)
    if backend == "torch":
        X, Y = torch.from_numpy(X), torch.from_numpy(Y)
    s2, R2, t2 = (np.asarray(a) for a in similarity_procrustes(X, Y))
    tol = TOL[dtype]
    assert s2.dtype == dtype and R2.dtype == dtype
    np.testing.assert_allclose(R2, R, atol=tol * 10)
    np.testing.assert_allclose(s2, s, rtol=tol * 10)
    np.testing.assert_allclose(t2, t, atol=tol * 100)
    np.testing.assert_allclose(np.linalg.det(R2), 1.0, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_procrustes_with_weights_ignores_zero_weight_outliers(rng, dtype):
    R, s, t = _transform(rng, 8)
    X = rng.normal(size=(8, 20, 3))
    Y = apply_similarity(s, R, t, X)
    w = np.ones((8, 20))
    w[:, :5] = 0.0
    Y[:, :5] += rng.normal(size=(8, 5, 3)) * 10  # corrupted points, weight 0
    w[:, 5:] = rng.uniform(0.2, 2.0, (8, 15))  # unequal weights on the good points: still exact
    s2, R2, t2 = similarity_procrustes(X.astype(dtype), Y.astype(dtype), w.astype(dtype))
    np.testing.assert_allclose(R2, R, atol=TOL[dtype] * 10)
    np.testing.assert_allclose(s2, s, rtol=TOL[dtype] * 10)
    np.testing.assert_allclose(t2, t, atol=TOL[dtype] * 100)


@pytest.mark.parametrize("n_points", [1, 2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
def test_procrustes_few_points(rng, n_points, dtype):
    R, s, t = _transform(rng, 10)
    X = rng.normal(size=(10, n_points, 3))
    Y = apply_similarity(s, R, t, X)
    s2, R2, t2 = similarity_procrustes(X.astype(dtype), Y.astype(dtype))
    # The aligned points always match; the rotation is proper; with 3 points it is fully determined.
    aligned = apply_similarity(s2, R2, t2, X.astype(dtype))
    np.testing.assert_allclose(aligned, Y, atol=TOL[dtype] * 100)
    np.testing.assert_allclose(np.linalg.det(R2), 1.0, atol=TOL[dtype] * 10)
    if n_points >= 2:
        np.testing.assert_allclose(s2, s, rtol=TOL[dtype] * 10)
    if n_points == 3:
        np.testing.assert_allclose(R2, R, atol=TOL[dtype] * 100)


def test_procrustes_refuses_reflections(rng):
    X = rng.normal(size=(50, 12, 3))
    mirrored = X * np.array([1.0, 1.0, -1.0])
    _, R, _ = similarity_procrustes(X, mirrored)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-9)
    # A reflection would align perfectly; a rotation cannot.
    assert np.all(pa_mpjpe(X, mirrored) > 0.05)


def test_rigid_alignment_keeps_scale(rng):
    R, _, t = _transform(rng, 4)
    X = rng.normal(size=(4, 10, 3))
    Y = apply_similarity(np.full(4, 2.0), R, t, X)
    s, R2, _ = similarity_procrustes(X, Y, scale=False)
    np.testing.assert_array_equal(s, 1.0)
    np.testing.assert_allclose(R2, R, atol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_orthographic_alignment_recovers_pose(rng, dtype, backend):
    R, s, t = _transform(rng, 32)
    X = rng.normal(size=(32, 15, 3))
    x2d = apply_similarity(s, R, t, X)[..., :2]
    X_, x_ = X.astype(dtype), x2d.astype(dtype)
    if backend == "torch":
        X_, x_ = torch.from_numpy(X_), torch.from_numpy(x_)
    s2, R2, t2 = (np.asarray(a) for a in orthographic_alignment(X_, x_))
    tol = 1e-3 if dtype == np.float32 else 1e-4
    np.testing.assert_allclose(R2, R, atol=tol)
    np.testing.assert_allclose(s2, s, rtol=tol)
    np.testing.assert_allclose(t2, t[:, :2], atol=tol * 10)
    np.testing.assert_allclose(np.linalg.det(R2), 1.0, atol=1e-4)


def test_orthographic_alignment_with_weights(rng):
    R, s, t = _transform(rng, 8)
    X = rng.normal(size=(8, 15, 3))
    x2d = apply_similarity(s, R, t, X)[..., :2]
    x2d[:, :4] += 50.0  # outliers with zero weight
    w = np.ones((8, 15))
    w[:, :4] = 0
    s2, R2, _ = orthographic_alignment(X, x2d, w)
    np.testing.assert_allclose(R2, R, atol=1e-4)
    np.testing.assert_allclose(s2, s, rtol=1e-4)


def test_orthographic_alignment_never_increases_error(rng):
    R, s, t = _transform(rng, 64)
    X = rng.normal(size=(64, 12, 3))
    x2d = apply_similarity(s, R, t, X)[..., :2] + rng.normal(size=(64, 12, 2)) * 0.3

    def residual(k):
        s2, R2, t2 = orthographic_alignment(X, x2d, iterations=k)
        return ((apply_similarity(s2, R2, np.zeros((64, 3)), X)[..., :2] + t2[:, None] - x2d) ** 2).sum((1, 2))

    r0, r4, r16 = residual(0), residual(4), residual(16)
    assert np.all(r4 <= r0 + 1e-9) and np.all(r16 <= r4 + 1e-9)
    assert r16.sum() < r0.sum()


def test_metrics(rng):
    R, s, t = _transform(rng, 6)
    gt = rng.normal(size=(6, 17, 3))
    moved = apply_similarity(s, R, t, gt)
    np.testing.assert_allclose(pa_mpjpe(moved, gt), 0.0, atol=1e-5)
    np.testing.assert_allclose(n_mpjpe(gt * 2.5 + 1.0, gt), 0.0, atol=1e-5)  # scale + shift only
    assert np.all(n_mpjpe(moved, gt) > 0.1)  # rotation is not forgiven
    np.testing.assert_allclose(mpjpe(gt + np.array([3.0, 4.0, 0.0]), gt), 5.0, rtol=1e-6)
    w = np.ones((6, 17))
    w[:, 0] = 0
    bad = gt.copy()
    bad[:, 0] += 100  # masked joint does not count
    np.testing.assert_allclose(mpjpe(bad, gt, w), 0.0, atol=1e-5)


def test_pa_mpjpe_is_a_differentiable_loss(rng):
    gt = torch.from_numpy(rng.normal(size=(4, 10, 3)))
    pred = (gt + 0.3 * torch.randn_like(gt)).requires_grad_(True)
    loss = pa_mpjpe(pred, gt).mean()
    loss.backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    aligned = procrustes_align(pred.detach(), gt)
    assert torch.all(mpjpe(aligned, gt) <= mpjpe(pred.detach(), gt) + 1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_depth_extent_ratio_measures_the_predicted_depth_extent(dtype):
    import torch

    from lfm_engine.geometry import depth_extent_ratio

    gt = np.random.default_rng(3).normal(size=(6, 20, 3)).astype(dtype)
    for xp_gt in (gt, torch.from_numpy(gt)):
        assert float(depth_extent_ratio(xp_gt, xp_gt)) == pytest.approx(1.0, rel=1e-5)
        flat = xp_gt * (xp_gt.new_tensor([1, 1, 0]) if hasattr(xp_gt, "new_tensor") else np.array([1, 1, 0], dtype))
        assert float(depth_extent_ratio(flat, xp_gt)) == pytest.approx(0.0, abs=1e-6)
        # a prediction with half the true depth, moved and scaled: the centroid and scale are matched first
        half = xp_gt * (xp_gt.new_tensor([1, 1, 0.5]) if hasattr(xp_gt, "new_tensor") else np.array([1, 1, 0.5], dtype))
        ratio = float(depth_extent_ratio(3 * half + 7, xp_gt))
        assert 0.4 < ratio < 0.6
