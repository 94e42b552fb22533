"""Preprocessing: masking, normalisation into [-1, 1] keeping the aspect ratio, padding."""

import numpy as np
import pytest

from lfm_engine.errors import InputError
from lfm_engine.preprocess import as_points2d, normalize, pad_batch, visible_mask


def test_normalize_centres_on_visible_mean_and_keeps_aspect_ratio(rng):
    pts = rng.uniform(0, 1, (5, 10, 2)) * np.array([400.0, 100.0]) + 50
    pts[2, 3] = np.nan
    vis = visible_mask(pts)
    n = normalize(pts, vis)
    assert n.points.dtype == np.float32
    assert np.abs(n.points).max() == pytest.approx(1.0)
    np.testing.assert_allclose(n.points[vis].reshape(-1, 2).mean(0) * 0, 0)
    for t in range(5):
        np.testing.assert_allclose(n.points[t][vis[t]].mean(0), 0.0, atol=1e-6)
        np.testing.assert_allclose(np.abs(n.points[t][vis[t]]).max(), 1.0, rtol=1e-6)
    # one scale for both axes: undoing the normalisation gives the input back
    back = n.points * n.scale[:, None, None] + n.centre[:, None]
    np.testing.assert_allclose(back[vis], pts[vis], rtol=1e-5)
    assert n.points[2, 3].tolist() == [0.0, 0.0]


def test_visible_mask_combines_nan_mask_and_confidence():
    pts = np.zeros((2, 4, 2))
    pts[0, 0] = np.nan
    mask = np.array([[1, 1, 0, 1], [1, 1, 1, 1]], bool)
    conf = np.array([[0.9, 0.9, 0.9, 0.05], [0.9, np.nan, 0.0, 0.9]])
    vis = visible_mask(pts, mask, conf, threshold=0.1)
    assert vis.tolist() == [[False, True, False, False], [True, False, False, True]]


def test_bad_shapes():
    with pytest.raises(InputError, match=r"got \(3,\)"):
        as_points2d(np.zeros(3))
    with pytest.raises(InputError, match=r"confidence has shape \(2, 2\)"):
        visible_mask(np.zeros((3, 4, 2)), confidence=np.zeros((2, 2)))
    with pytest.raises(InputError, match=r"frame\(s\) 1 .*coincide|frame\(s\) 1 "):
        normalize(np.stack([np.arange(6.0).reshape(3, 2), np.ones((3, 2))]), np.ones((2, 3), bool))


def test_huge_coordinates_stay_finite():
    pts = np.array([[[1e300, -1e300], [-1e300, 1e300], [0.0, 0.0]]])
    n = normalize(as_points2d(pts), np.ones((1, 3), bool))
    assert np.isfinite(n.points).all() and np.abs(n.points).max() <= 1.0


def test_pad_batch():
    p, v, a = pad_batch(
        [np.ones((2, 2)), np.ones((4, 2))],
        [np.array([True, True]), np.array([True, False, True, True])],
        [np.ones((2, 2), bool), np.eye(4, dtype=bool)],
    )
    assert p.shape == (2, 4, 2) and v.shape == (2, 4) and a.shape == (2, 4, 4)
    assert v[0].tolist() == [True, True, False, False]
    assert not a[0, 2:].any() and not a[0, :, 2:].any()
