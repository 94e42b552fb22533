"""lfm_engine.armature: Blender's world frame, constant-length bones, rotations that reproduce the directions,
the forward-kinematics round trip, and the temporal filters."""

from __future__ import annotations

import numpy as np
import pytest

from lfm_engine import InputError, Rig, get_rig
from lfm_engine import armature as arm


def _noisy_clip(rig: Rig, rng, frames: int = 40, noise: float = 0.05) -> np.ndarray:
    """``(T, J, 3)`` a random pose per rig, moved smoothly over time, with bone lengths that vary by ``noise``."""
    J = rig.num_joints
    base = rng.normal(size=(J, 3))
    t = np.linspace(0, 2 * np.pi, frames)[:, None, None]
    wobble = 0.3 * np.sin(t + rng.uniform(0, 6, size=(1, J, 3)))
    return base + wobble + noise * rng.normal(size=(frames, J, 3))


RIGS = ["openpose_body25", "coco17", "mediapipe_hand21", "h36m17"]


# ---------------------------------------------------------------------- world frame
def test_camera_to_world_is_a_proper_rotation():
    R = arm.CAMERA_TO_WORLD
    assert np.allclose(R @ R.T, np.eye(3)) and np.isclose(np.linalg.det(R), 1.0)
    assert np.allclose(arm.camera_to_world([0, 0, 1]), [0, 1, 0])  # away from the camera = world +Y
    assert np.allclose(arm.camera_to_world([0, 1, 0]), [0, 0, -1])  # image down = world -Z
    assert np.allclose(arm.camera_to_world([1, 0, 0]), [1, 0, 0])
    p = np.random.default_rng(0).normal(size=(5, 4, 3))
    assert np.allclose(arm.world_to_camera(arm.camera_to_world(p)), p)


def test_to_blender_world_scales_to_the_height_about_the_camera(rng):
    cam = rng.normal(size=(30, 10, 3)) * [200, 400, 50] + [0, 0, 2000]  # pixels, subject 2000 px away
    world = arm.to_blender_world(cam, 1.75)
    extent = world[..., 2].max(1) - world[..., 2].min(1)
    assert np.median(extent) == pytest.approx(1.75)
    # Every point stays on its camera ray: same pinhole projection.
    back = arm.world_to_camera(world)
    assert np.allclose(back[..., :2] / back[..., 2:], cam[..., :2] / cam[..., 2:])
    box = arm.to_blender_world(cam, 0.2, vertical=False)
    assert np.median((box.max(1) - box.min(1)).max(-1)) == pytest.approx(0.2)
    with pytest.raises(InputError, match="height"):
        arm.to_blender_world(cam, 0.0)
    with pytest.raises(InputError, match="vertical extent"):
        arm.to_blender_world(np.ones((3, 4, 3)), 1.0)


def test_subject_extent_ignores_missing(rng):
    p = rng.normal(size=(20, 6, 3))
    q = p.copy()
    q[::3, 2] = np.nan
    q[5] = np.nan  # a frame with nothing
    e = arm.subject_extent(q)
    assert np.isfinite(e) and e > 0


# ---------------------------------------------------------------------- bones
def test_bone_lengths_are_nan_robust_medians():
    par = [-1, 0, 1]
    p = np.zeros((5, 3, 3))
    p[:, 1, 0] = [1, 1, 2, 1, 9]
    p[:, 2, 0] = p[:, 1, 0] + 0.5
    p[4, 1] = np.nan  # the outlier frame is missing
    L = arm.bone_lengths(p, par)
    assert np.isnan(L[0]) and L[1] == pytest.approx(1.0) and L[2] == pytest.approx(0.5)


@pytest.mark.parametrize("name", RIGS)
def test_constant_length_points(name, rng):
    rig = get_rig(name)
    par = np.asarray(rig.tree_parents())
    p = _noisy_clip(rig, rng)
    q = arm.constant_length_points(p, par)
    L = arm.bone_lengths(p, par)
    child = np.flatnonzero(par >= 0)
    # Constant lengths: the clip's medians.
    assert np.allclose(np.linalg.norm(q[:, child] - q[:, par[child]], axis=-1), L[child])
    # Roots stay; each child is on the ray from its re-placed parent towards its lifted position.
    assert np.allclose(q[:, par < 0], p[:, par < 0])
    to_lifted = p[:, child] - q[:, par[child]]
    placed = q[:, child] - q[:, par[child]]
    assert np.allclose(np.cross(to_lifted, placed), 0, atol=1e-9)
    assert ((to_lifted * placed).sum(-1) > 0).all()


def test_constant_length_points_keep_rigid_motion(rng):
    rig = get_rig("h36m17")
    par = np.asarray(rig.tree_parents())
    pose = rng.normal(size=(17, 3))
    p = np.stack([pose + np.array([0.1 * t, 0, 0]) for t in range(10)])  # a rigid translation: lengths already constant
    assert np.allclose(arm.constant_length_points(p, par), p)


def _camera_clip(rig: Rig, rng, frames: int = 40) -> np.ndarray:
    """``(T, J, 3)`` camera-frame points (x right, y down, z away) about 6 units in front of a camera at the origin,
    with bone lengths that vary over time."""
    return _noisy_clip(rig, rng, frames, noise=0.1) + np.array([0.0, 0.0, 6.0])


@pytest.mark.parametrize("name", RIGS)
def test_ray_placement_keeps_visible_joints_on_their_rays(name, rng):
    rig = get_rig(name)
    par = np.asarray(rig.tree_parents())
    p = _camera_clip(rig, rng)
    f, c = 1000.0, (640.0, 360.0)
    uv = p[..., :2] / p[..., 2:] * f + c  # (T, J, 2) the keypoints
    visible = rng.uniform(size=uv.shape[:2]) > 0.2
    rays = arm.camera_rays(uv, f, c, visible)
    assert np.isnan(rays[~visible]).all() and np.allclose(rays[visible][:, 2], f)
    q, on_ray, misses = arm.constant_length_points(p, par, rays=rays, return_status=True)
    L = arm.bone_lengths(p, par)
    child = np.flatnonzero(par >= 0)
    assert np.allclose(np.linalg.norm(q[:, child] - q[:, par[child]], axis=-1), L[child])  # constant lengths
    assert not (on_ray & misses).any() and ((on_ray | misses) == visible).all()
    assert on_ray.mean() > 0.5  # most bones reach their rays
    # Joints put on their ray project exactly onto their keypoints.
    px = q[..., :2] / q[..., 2:] * f + c
    assert np.abs(px[on_ray] - uv[on_ray]).max() < 1e-6
    # A missed ray: the joint is the point of the sphere around its parent nearest to the ray.
    t, j = np.argwhere(misses & (par >= 0)[None])[0] if misses.any() else (None, None)
    if t is not None:
        d = rays[t, j] / np.linalg.norm(rays[t, j])
        centre = q[t, par[j]]
        foot = (centre @ d) * d
        assert np.allclose(q[t, j], centre + L[j] * (foot - centre) / np.linalg.norm(foot - centre))
    # Joints without a ray are placed by direction, from their (re-placed) parent towards their lifted position.
    hidden = ~visible & (par >= 0)[None]
    t, j = np.nonzero(hidden)
    to_lifted = p[t, j] - q[t, par[j]]
    placed = q[t, j] - q[t, par[j]]
    assert np.allclose(np.cross(to_lifted, placed), 0, atol=1e-9) and ((to_lifted * placed).sum(-1) > 0).all()
    # "direction" (and "ray" without rays) is the placement along the parent-to-lifted direction.
    assert np.array_equal(arm.constant_length_points(p, par, placement="direction", rays=rays),
                          arm.constant_length_points(p, par))  # fmt: skip


def test_ray_placement_picks_the_crossing_nearer_the_lifted_depth():
    par = [-1, 0]
    L = np.array([np.nan, 1.0])
    ray = np.array([0.0, 0.0, 1.0])  # the optical axis
    p = np.zeros((4, 2, 3))
    p[:, 0] = [0.6, 0.0, 5.0]  # the parent, 0.6 off the axis: the sphere meets the axis at z = 5 -+ 0.8
    p[:, 1] = [[0, 0, 4.5], [0, 0, 5.6], [0.2, 0, 4.0], [0, 0, 9.0]]  # lifted children: near, far, near, far
    rays = np.stack([np.full((4, 3), np.nan), np.broadcast_to(ray, (4, 3))], 1)  # the root has no ray
    q, on_ray, misses = arm.constant_length_points(p, par, L, rays=rays, return_status=True)
    assert np.allclose(q[:, 0], p[:, 0]) and np.allclose(q[:, 1], [[0, 0, 4.2], [0, 0, 5.8], [0, 0, 4.2], [0, 0, 5.8]])
    assert on_ray.tolist() == [[False, True]] * 4 and not misses.any()
    # The root is moved onto its own ray (the point of the ray nearest to it).
    root_ray = np.array([0.1, 0.0, 1.0])
    rays = np.stack([np.broadcast_to(root_ray, (4, 3)), np.broadcast_to(ray, (4, 3))], 1)
    q = arm.constant_length_points(p, par, L, rays=rays)
    u = root_ray / np.linalg.norm(root_ray)
    assert np.allclose(q[:, 0], (p[:, 0] @ u)[:, None] * u)
    # A bone too short for the ray: the point of the sphere nearest to it.
    p[:, 0] = [2.0, 0.0, 5.0]
    rays = np.stack([np.full((4, 3), np.nan), np.broadcast_to(ray, (4, 3))], 1)
    q, on_ray, misses = arm.constant_length_points(p, par, L, rays=rays, return_status=True)
    assert np.allclose(q[:, 1], [1.0, 0.0, 5.0]) and misses[:, 1].all() and not on_ray[:, 1].any()


def test_ray_placement_with_weak_perspective_keeps_x_and_y(rng):
    rig = get_rig("h36m17")
    par = np.asarray(rig.tree_parents())
    p = _camera_clip(rig, rng)
    origins = p * [1.0, 1.0, 0.0]  # the lines parallel to the view axis through the lifted x, y
    q, on_ray, misses = arm.constant_length_points(
        p, par, rays=np.broadcast_to([0.0, 0.0, 1.0], p.shape), ray_origins=origins, return_status=True
    )
    assert on_ray.any() and np.allclose(q[on_ray][:, :2], p[on_ray][:, :2])
    assert ((on_ray | misses) == np.isfinite(p).all(-1)).all()


def test_placement_errors(rng):
    rig = get_rig("h36m17")
    p = _camera_clip(rig, rng, frames=3)
    with pytest.raises(InputError, match="unknown placement"):
        arm.constant_length_points(p, rig.parents, placement="nearest")
    with pytest.raises(InputError, match="rays must have"):
        arm.constant_length_points(p, rig.parents, rays=p[:, :3])


def test_tree_order_puts_parents_first():
    par = get_rig("openpose_body25").tree_parents()
    order = arm.tree_order(par)
    pos = {j: k for k, j in enumerate(order.tolist())}
    assert sorted(order.tolist()) == list(range(25))
    assert all(pos[p] < pos[j] for j, p in enumerate(par) if p >= 0)
    with pytest.raises(InputError, match="cycle"):
        arm.tree_order([1, 0])


# ---------------------------------------------------------------------- the armature
@pytest.mark.parametrize("name", RIGS)
def test_forward_kinematics_round_trip(name, rng):
    rig = get_rig(name)
    p = _noisy_clip(rig, rng)
    anim = arm.build_armature(p, rig)
    assert np.allclose(anim.joints, arm.constant_length_points(p, anim.parents, anim.lengths))
    assert np.abs(arm.forward_kinematics(anim) - anim.joints).max() < 1e-9
    assert anim.placement == "ray" and not anim.on_ray.any() and not anim.ray_misses.any()  # no rays given


@pytest.mark.parametrize("placement", arm.PLACEMENTS)
def test_armature_with_camera_rays(placement, rng):
    rig = get_rig("openpose_body25")
    cam = _camera_clip(rig, rng)
    world = arm.camera_to_world(cam)
    rays = arm.camera_to_world(arm.camera_rays(cam[..., :2] / cam[..., 2:] * 1000.0 + 500.0, 1000.0, (500.0, 500.0)))
    anim = arm.build_armature(world, rig, placement=placement, rays=rays)
    assert anim.placement == placement
    expected = arm.constant_length_points(world, anim.parents, anim.lengths, placement=placement, rays=rays)
    assert np.allclose(anim.joints, expected)
    assert np.abs(arm.forward_kinematics(anim) - anim.joints).max() < 1e-9
    back = arm.world_to_camera(anim.joints)
    off = np.linalg.norm(back[..., :2] / back[..., 2:] - cam[..., :2] / cam[..., 2:], axis=-1) * 1000.0  # pixels
    if placement == "ray":
        assert anim.on_ray.mean() > 0.5 and (anim.on_ray | anim.ray_misses).all()
        assert off[anim.on_ray].max() < 1e-6
    else:
        assert not anim.on_ray.any() and not anim.ray_misses.any() and np.median(off) > 1.0
    with pytest.raises(InputError, match="unknown placement"):
        arm.build_armature(world, rig, placement="nearest")


def test_rotations_reproduce_directions_without_twist(rng):
    rig = get_rig("openpose_body25")
    anim = arm.build_armature(_noisy_clip(rig, rng, noise=0.2), rig)
    q = anim.quaternions
    assert np.allclose(np.linalg.norm(q, axis=-1), 1.0)
    child = ~anim.is_root
    assert np.allclose(q[:, child, 2], 0.0)  # swing only: no component about the bone's own Y axis
    assert np.allclose(q[:, anim.is_root], [1, 0, 0, 0])  # root bones only translate
    assert ((q[1:] * q[:-1]).sum(-1) >= 0).all()  # continuous signs for per-component interpolation
    # Posed bone directions point from each parent joint to the child joint.
    fk = arm.forward_kinematics(anim)
    par = anim.parents
    idx = np.flatnonzero(child)
    d = fk[:, idx] - fk[:, par[idx]]
    assert np.allclose(np.linalg.norm(d, axis=-1), anim.lengths[idx])


def test_rest_pose(rng):
    rig = get_rig("coco17")
    p = _noisy_clip(rig, rng)
    anim = arm.build_armature(p, rig, rest_frame=7)
    R = anim.rest_matrices[:, :3, :3]
    assert np.allclose(R @ R.swapaxes(-1, -2), np.eye(3)) and np.allclose(np.linalg.det(R), 1.0)
    assert np.allclose(anim.rest_matrices[:, 3], [0, 0, 0, 1])
    rest = anim.joints[7] - anim.origin
    child = np.flatnonzero(~anim.is_root)
    assert np.allclose(anim.tails[child], rest[child]) and np.allclose(anim.heads[child], rest[anim.parents[child]])
    root = np.flatnonzero(anim.is_root)
    assert np.allclose(anim.heads[root], rest[root])
    assert np.allclose(anim.rest_matrices[root, :3, 1], [0, 0, 1])  # root bones point up
    assert np.allclose(anim.quaternions[7, child], [1, 0, 0, 0], atol=1e-9)  # the rest frame is the rest pose
    assert anim.connected.sum() == (~anim.is_root[np.maximum(anim.parents, 0)] & ~anim.is_root).sum()
    assert 0 <= arm.pick_rest_frame(p, anim.parents) < len(p)


def test_forest_and_reversed_bones():
    """Two separate chains (two roots), and a bone that turns exactly opposite to its rest direction."""
    rig = Rig.from_parents(["a", "b", "c", "x", "y"], [-1, 0, 1, -1, 3])
    T = 4
    p = np.zeros((T, 5, 3))
    p[:, 1] = [0, 0, 1]
    p[:, 2] = [[0, 0, 2], [0, 0, 0], [1, 0, 1], [0, 0, 2]]  # frame 1: c folds back onto a
    p[:, 3] = [[2, 0, 0], [2, 1, 0], [2, 2, 0], [2, 3, 0]]  # a translating second chain
    p[:, 4] = p[:, 3] + [0, 0, 1]
    anim = arm.build_armature(p, rig, rest_frame=0)
    assert anim.is_root.tolist() == [True, False, False, True, False]
    assert np.allclose(arm.forward_kinematics(anim), p)
    assert np.allclose(np.abs(anim.quaternions[1, 2]), [0, 1, 0, 0])  # a half turn about X
    assert np.allclose(anim.locations[:, ~anim.is_root], 0)
    assert np.ptp(anim.locations[:, 3], axis=0).max() == pytest.approx(3)  # the second root moves 3 m
    with pytest.raises(InputError, match="not finite"):
        arm.build_armature(np.where(np.arange(5)[None, :, None] == 2, np.nan, p), rig)
    with pytest.raises(InputError, match="has 5 joints"):
        arm.build_armature(p[:, :4], rig)


def test_coincident_joints_keep_a_direction():
    rig = Rig.from_parents(["a", "b"], [-1, 0])
    p = np.zeros((3, 2, 3))
    p[:, 1] = [[0, 1, 0], [0, 0, 0], [0, 2, 0]]  # frame 1: b on top of a
    q = arm.constant_length_points(p, rig.parents)
    assert np.isfinite(q).all() and np.allclose(q[1, 1], [0, 1, 0])
    anim = arm.build_armature(np.zeros((2, 2, 3)), rig)  # a zero-length bone still gets a length
    assert anim.lengths[1] == pytest.approx(arm.MIN_BONE_LENGTH)


# ---------------------------------------------------------------------- filters
def test_fill_missing():
    x = np.array([np.nan, 1.0, np.nan, 3.0, np.nan])
    assert np.allclose(arm.fill_missing(x), [1, 1, 2, 3, 3])
    assert np.isnan(arm.fill_missing(np.full(3, np.nan))).all()


def test_one_euro(rng):
    t = np.arange(300)
    const = np.ones((300, 2, 3))
    assert np.allclose(arm.one_euro(const, 30.0), const)
    noisy = const + 0.05 * rng.normal(size=const.shape)
    smooth = arm.one_euro(noisy, 30.0, min_cutoff=1.0)
    assert smooth[50:].std() < 0.5 * noisy[50:].std()
    ramp = (t / 30.0)[:, None]  # 1 m/s
    slow = np.abs(arm.one_euro(ramp, 30.0, min_cutoff=0.5, beta=0.0) - ramp)[100:].max()
    fast = np.abs(arm.one_euro(ramp, 30.0, min_cutoff=0.5, beta=5.0) - ramp)[100:].max()
    assert fast < 0.3 * slow  # beta lets speed raise the cut-off: less lag
    gap = noisy[:, 0, 0].copy()
    gap[100:110] = np.nan
    out = arm.one_euro(gap, 30.0)
    assert np.isnan(out[100:110]).all() and np.isfinite(out[110:]).all()
    with pytest.raises(InputError):
        arm.one_euro(const, 0.0)


def test_savgol_matches_scipy_and_keeps_polynomials(rng):
    signal = pytest.importorskip("scipy.signal")
    x = rng.normal(size=(50, 3))
    assert np.allclose(arm.savgol(x, 9, 2), signal.savgol_filter(x, 9, 2, axis=0, mode="interp"))
    t = np.arange(40.0)
    quad = (0.3 * t**2 - 2 * t + 1)[:, None]
    assert np.allclose(arm.savgol(quad, 11, 2), quad)
    assert np.allclose(arm.savgol(x[:4], 9, 2), signal.savgol_filter(x[:4], 3, 2, axis=0, mode="interp"))
    gap = x.copy()
    gap[10, 1] = np.nan
    out = arm.savgol(gap, 9, 2)
    assert np.isnan(out[10, 1]) and np.isfinite(np.delete(out, 10, 0)).all()


def test_smooth_dispatch(rng):
    x = rng.normal(size=(60, 4, 3))
    assert np.array_equal(arm.smooth(x, 30, "none"), x)
    for method in ("one_euro", "savgol"):
        light, heavy = arm.smooth(x, 30, method, 0.0), arm.smooth(x, 30, method, 1.0)
        assert np.diff(heavy, axis=0).std() < np.diff(light, axis=0).std() < np.diff(x, axis=0).std()
    with pytest.raises(InputError, match="unknown smoothing"):
        arm.smooth(x, 30, "kalman")
