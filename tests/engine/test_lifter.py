"""Lifter.lift: the API's promises (reprojection, shapes, masking, backends, errors)."""

import numpy as np
import pytest
from helpers import stick_figure_names, stick_figure_parents, stick_figure_poses

from lfm_engine import InputError, Lifter, Rig, RigError
from lfm_engine.weights import load_weights


@pytest.fixture(scope="module")
def rig():
    return Rig.from_parents(stick_figure_names(), stick_figure_parents(), name="stick")


@pytest.fixture(scope="module")
def lifters(weights_file):
    w = load_weights(weights_file)
    return {"torch": Lifter(w, backend="torch", device="cpu", precision="fp32"), "numpy": Lifter(w, backend="numpy")}


@pytest.fixture
def clip(rng):
    """(T, J, 2) pixel coordinates of a stick figure seen by a pinhole camera, some joints missing."""
    pts3d = stick_figure_poses(rng, 40) + np.array([0.0, 0.0, 4.0])
    f, c = 1000.0, np.array([640.0, 360.0])
    pts = pts3d[..., :2] / pts3d[..., 2:] * f + c
    pts[5, 3] = np.nan
    pts[7, [1, 2, 9]] = np.nan
    return pts


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_weak_perspective_output_is_the_centred_input_plus_depth(lifters, clip, rig, backend):
    out = lifters[backend].lift(clip, edges=rig)
    assert out.shape == (*clip.shape[:2], 3) and out.dtype == np.float32
    assert np.isfinite(out).all()  # missing joints are predicted too
    vis = np.isfinite(clip).all(-1)
    centre = np.nanmean(np.where(vis[..., None], clip, np.nan), axis=1, keepdims=True)
    np.testing.assert_allclose(out[..., :2][vis], (clip - centre)[vis], atol=1e-3)
    z = np.where(vis, out[..., 2], np.nan)
    np.testing.assert_allclose(np.nanmean(z, axis=1), 0.0, atol=1e-3)
    assert np.nanstd(z) > 1e-3  # depth is not flat


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_pinhole_output_reprojects_onto_the_input(lifters, clip, rig, backend):
    f, c = 1000.0, (640.0, 360.0)
    out = lifters[backend].lift(clip, edges=rig, focal_length=f, principal_point=c)
    vis = np.isfinite(clip).all(-1)
    proj = out[..., :2] / out[..., 2:] * f + np.array(c)
    np.testing.assert_allclose(proj[vis], clip[vis], atol=1e-2)
    mean_depth = np.nanmean(np.where(vis, out[..., 2], np.nan), axis=1)
    np.testing.assert_allclose(mean_depth, f, rtol=1e-5)


def test_backends_agree(lifters, clip, rig):
    a = lifters["torch"].lift(clip, edges=rig)
    b = lifters["numpy"].lift(clip, edges=rig)
    # Compare in normalised units: the clip spans about 300 px.
    assert np.abs(a - b).max() / 300 < 1e-4
    ca = lifters["torch"].predict_canonical(*_norm(clip), rig.adjacency())
    cb = lifters["numpy"].predict_canonical(*_norm(clip), rig.adjacency())
    assert np.abs(ca - cb).max() < 1e-4


def _norm(clip):
    from lfm_engine.preprocess import normalize

    vis = np.isfinite(clip).all(-1)
    n = normalize(clip, vis)
    return n.points, vis


def test_chunking_does_not_change_the_result(weights_file, clip, rig):
    w = load_weights(weights_file)
    whole = Lifter(w, backend="torch", device="cpu", precision="fp32").lift(clip, edges=rig)
    chunked = Lifter(w, backend="torch", device="cpu", precision="fp32", chunk_size=7).lift(clip, edges=rig)
    np.testing.assert_allclose(whole, chunked, atol=3e-3)  # 1e-5 of the clip size


def test_permuting_joints_permutes_the_output(lifters, clip, rig, rng):
    perm = rng.permutation(clip.shape[1])
    inv = np.argsort(perm)
    edges = np.array([(inv[a], inv[b]) for a, b in rig.edges])
    out = lifters["torch"].lift(clip, edges=rig)
    out_p = lifters["torch"].lift(clip[:, perm], edges=rig.subset(perm.tolist()))  # the same rig, reordered
    np.testing.assert_allclose(out_p, out[:, perm], atol=3e-3)  # 1e-5 of the clip size
    # plain edges carry no left/right sides: equivariant too, but a different input than the rig with sides
    out = lifters["torch"].lift(clip, edges=np.array(rig.edges))
    out_p = lifters["torch"].lift(clip[:, perm], edges=edges)
    np.testing.assert_allclose(out_p, out[:, perm], atol=3e-3)


def test_single_frame_mask_confidence_and_knn(lifters, clip, rig):
    lifter = lifters["numpy"]
    frame = np.nan_to_num(clip[5], nan=100.0)
    assert lifter.lift(frame, edges=rig).shape == (clip.shape[1], 3)
    mask = np.ones(clip.shape[1], bool)
    mask[3] = False
    np.testing.assert_allclose(lifter.lift(frame, edges=rig, mask=mask), lifter.lift(clip[5], edges=rig), atol=1e-4)
    conf = np.where(mask, 0.9, 0.1)
    np.testing.assert_allclose(
        lifter.lift(frame, edges=rig, confidence=conf, confidence_threshold=0.5),
        lifter.lift(clip[5], edges=rig),
        atol=1e-4,
    )
    assert np.isfinite(lifter.lift(clip)).all()  # edges=None: k-nearest-neighbour graph


def test_progress_is_reported_per_chunk(weights_file, clip, rig):
    calls = []
    Lifter(load_weights(weights_file), backend="numpy", chunk_size=16).lift(
        clip, edges=rig, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(16, 40), (32, 40), (40, 40)]


def test_progress_can_cancel(weights_file, clip, rig):
    class Cancelled(Exception):
        pass

    def cancel(done, total):
        raise Cancelled

    with pytest.raises(Cancelled):
        Lifter(load_weights(weights_file), backend="numpy", chunk_size=8).lift(clip, edges=rig, progress=cancel)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(points2d=np.zeros((4, 5, 3))), r"shape \(T, J, 2\) or \(J, 2\)"),
        (dict(points2d=np.zeros((0, 5, 2))), "empty"),
        (dict(points2d=[["a", "b"]]), "numeric"),
        (dict(points2d=np.full((3, 1, 2), 1.0)), "at least 2 joints"),
        (
            dict(points2d=np.where(np.arange(13)[None, :, None] == 4, np.inf, 1.0) * np.ones((2, 13, 2))),
            "frame 0, joint 4 is infinite",
        ),
        (dict(mask=np.ones((3, 3), bool)), r"mask has shape \(3, 3\)"),
        (dict(focal_length=-5.0, principal_point=(0, 0)), "positive finite"),
        (dict(focal_length=500.0), "needs principal_point"),
        (dict(principal_point=(1, 2)), "without focal_length"),
        (dict(focal_length=500.0, principal_point=(1, np.nan)), "two finite numbers"),
    ],
)
def test_bad_input_raises_input_error(lifters, clip, kwargs, message):
    args = dict(points2d=clip) | kwargs
    with pytest.raises(InputError, match=message):
        lifters["numpy"].lift(**args)


def test_frames_without_enough_visible_joints_are_named(lifters, clip):
    bad = clip.copy()
    bad[3] = np.nan
    bad[11, 1:] = np.nan
    with pytest.raises(InputError, match=r"frame\(s\) 3, 11 \(2 of 40\)"):
        lifters["numpy"].lift(bad)


def test_bad_edges(lifters, clip, rig):
    with pytest.raises(RigError, match="refers to joint 99"):
        lifters["numpy"].lift(clip, edges=[(0, 99)])
    with pytest.raises(RigError, match="self loop"):
        lifters["numpy"].lift(clip, edges=[(2, 2)])
    with pytest.raises(InputError, match="rig 'other' has 3 joints"):
        lifters["numpy"].lift(clip, edges=Rig.from_edges(["a", "b", "c"], [(0, 1), (1, 2)], name="other"))


def test_unknown_backend_and_device(weights_file):
    from lfm_engine import LFMError

    w = load_weights(weights_file)
    with pytest.raises(LFMError, match="unknown backend"):
        Lifter(w, backend="jax")
    with pytest.raises(LFMError, match="needs the torch backend"):
        Lifter(w, backend="numpy", device="cuda")
    with pytest.raises(LFMError, match="unknown precision"):
        Lifter(w, precision="fp8")
    with pytest.raises(LFMError, match="'bf16' needs the torch backend"):
        Lifter(w, backend="numpy", precision="bf16")


def test_precision(weights_file, clip, rig):
    """bf16 autocast (matrix products in bf16, residual stream and head in fp32) stays close to fp32."""
    w = load_weights(weights_file)
    fp32 = Lifter(w, backend="torch", device="cpu", precision="fp32")
    bf16 = Lifter(w, backend="torch", device="cpu", precision="bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert Lifter(w, backend="torch", device="cpu").precision in ("fp32", "bf16")
    assert Lifter(w, backend="numpy").precision == "fp32"
    a, b = (lifter.predict_canonical(*_norm(clip), rig.adjacency()) for lifter in (fp32, bf16))
    assert b.dtype == np.float32 and np.isfinite(b).all()
    a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)  # shapes: the translation is free
    assert 0 < np.abs(a - b).max() < 0.05 * np.abs(a).max()  # bf16 really ran, and stays close (random weights)
