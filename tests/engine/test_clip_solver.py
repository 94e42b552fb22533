"""lfm_engine.solver: the clip solver on a filmed walker with known ground truth (tests/engine/walker.py).

Every quality test measures the solver's output and the per-frame armature (the pipeline's path with the solver
off: ``build_armature`` on the lifted points with the rays through the detections), and holds the solver to a
threshold that the per-frame armature fails. Measured on the walker (seed 0; seeds 0-5 in parentheses when they
differ), solver vs per-frame:

* planted-foot speed on the true contact frames 0.07 vs 4.4 m/s, largest wander 2.7 (2.3-3.9) vs 73 cm;
* planted soles over / under the solver's plane 1.6 / 0.8 cm vs 6.2 / 9.0 cm over / under the per-frame armature's own
  best plane; from the true ground 2.9 / 2.2 vs 14.5 / 17.4 cm; camera height 1.52 m (1.43-1.52, truth 1.50), tilt
  15.2 deg (14.3-15.2, truth 15);
* mean jerk x / depth / z 55 / 28 / 45 vs 2226 / 11906 / 2420 m/s^3 (the truth: 47 / 33 / 59);
* reprojection median from the exact 2D 0.93 vs 1.80 px (detector noise 1.5 px);
* bone lengths from the truth 5.3 (4.8-8.0) vs 15.7 mm (12.9-17.5), the lifted input's 38 mm (varying per frame);
* joint error 4.0 (3.6-5.5) vs 21 cm.
"""

from __future__ import annotations

import numpy as np
import pytest
import walker

from lfm_engine import InputError, Rig, get_rig
from lfm_engine import armature as arm
from lfm_engine.solver import ALWAYS, NEVER, SolverSettings, banded, find_feet, solve_clip
from lfm_engine.solver import contacts as ct
from lfm_engine.solver import ground as gr
from lfm_engine.solver import metrics as M
from lfm_engine.solver import problem as pb

RIG = walker.RIG
PARENTS = np.asarray(RIG.tree_parents())
FEET = find_feet(RIG.joint_names)


def _solve(fm, **kw):
    return solve_clip(fm.lifted, fm.points2d, fm.visible, kw.pop("rig", RIG), focal_length=fm.focal,
                      principal_point=fm.pp, fps=fm.fps, height=1.70, **kw)  # fmt: skip


@pytest.fixture(scope="module")
def clip():
    """``(filmed walk, solution, per-frame armature joints)``, all in the camera world."""
    fm = walker.filmed(np.random.default_rng(0))
    rays = arm.camera_to_world(arm.camera_rays(fm.points2d, fm.focal, fm.pp, fm.visible))
    per_frame = arm.build_armature(fm.lifted, RIG, rays=rays).joints
    return fm, _solve(fm), per_frame


def _own_plane(points, contacts):
    return M.fit_plane(gr.sole_points(points, FEET, contacts, np.array([0.0, 0.0, 1.0]), 1.7))


# ---------------------------------------------------------------------- the linear algebra
@pytest.mark.parametrize("diagonal", [False, True])
@pytest.mark.parametrize("T", [1, 2, 3, 17])
def test_banded_cholesky_solves_like_a_dense_solve(T, diagonal):
    rng = np.random.default_rng(T)
    n = 4
    D = rng.normal(size=(T, n, n))
    D = D @ np.swapaxes(D, 1, 2) + 4 * n * np.eye(n)
    shape = (lambda k: (max(T - k, 0), n)) if diagonal else (lambda k: (max(T - k, 0), n, n))
    off = [rng.normal(size=shape(1)), rng.normal(size=shape(2))]
    b = rng.normal(size=(T, n, 3))
    x = banded.solve(banded.factor(D, off), b)
    dense = np.linalg.solve(banded.to_dense(D, off), b.reshape(T * n, 3))
    assert np.allclose(x.reshape(T * n, 3), dense, atol=1e-12)
    assert np.allclose(banded.matvec(D, off, x), b, atol=1e-12)
    with pytest.raises(banded.NotPositiveDefinite):
        banded.factor(-D, off)


@pytest.mark.parametrize("T", [1, 2, 3, 12])
def test_pentadiagonal_batch_solves_like_a_dense_solve(T):
    rng = np.random.default_rng(T)
    a0, a1, a2 = rng.uniform(5, 6, (4, T)), rng.normal(size=(4, max(T - 1, 0))), rng.normal(size=(4, max(T - 2, 0)))
    b = rng.normal(size=(4, T))
    x = banded.solve_pentadiagonal(a0, a1, a2, b)
    for s in range(4):
        A = np.diag(a0[s]) + np.diag(a1[s], -1) + np.diag(a1[s], 1) + np.diag(a2[s], -2) + np.diag(a2[s], 2)
        assert np.allclose(A[:T, :T] @ x[s], b[s])


def _small_problem(rng, plane=True):
    """A 4-joint chain over 10 frames with every term active."""
    T, J = 10, 4
    t = np.arange(T)[:, None]
    X = np.stack([0.3 * np.arange(J) + 0.02 * t, 4.0 + 0.1 * np.sin(t + np.arange(J)), 1.0 - 0.3 * np.arange(J)
                  + 0.0 * t], -1)  # fmt: skip
    R = X / X[..., 1:2]
    dl = X[..., 1] + rng.normal(0, 0.05, (T, J))
    pins = np.zeros((T - 1, J), dtype=bool)
    pins[2:6, 3] = True
    on_ground = np.zeros((T, J), dtype=bool)
    on_ground[2:7, 3] = True
    kw = {"pins": pins, "on_ground": on_ground, "plane": (np.array([0.0, -0.2, 0.98]) / 1.0198, 0.2)} if plane else {}
    prob = pb.ClipProblem(R, dl, np.array([[1, 0], [2, 1], [3, 2]]), 30.0, pb.Weights(), **kw)
    return prob, dl + rng.normal(0, 0.02, (T, J)), np.array([0.35, 0.3, 0.33])


def test_normal_equations_are_the_residuals_jacobian(rng):
    """``J^T W J`` and ``J^T W r`` of the assembled equations, against a finite-difference Jacobian."""
    prob, d, L = _small_problem(rng)
    Dm, e1, e2, C, hLL, gd, gL = prob.normal_equations(d, L)
    T, J = d.shape

    def flat(x):
        res = prob.residuals(x[: T * J].reshape(T, J), x[T * J :])
        return np.concatenate([r.ravel() for r in res.values()])

    x0 = np.concatenate([d.ravel(), L])
    r0 = flat(x0)
    jac = np.stack([(flat(x0 + h) - flat(x0 - h)) / 2e-6 for h in np.eye(len(x0)) * 1e-6], 1)
    assert all(abs(r) < pb.HUBER for r in prob.residuals(d, L)["shape"].ravel())  # Huber's quadratic part
    H = jac.T @ jac
    g = jac.T @ r0
    n = T * J
    dense = banded.to_dense(Dm, [e1, e2])
    assert np.allclose(dense, H[:n, :n], rtol=1e-5, atol=1e-3 * np.abs(H).max() * 1e-3)
    assert np.allclose(C.reshape(n, -1), H[:n, n:], rtol=1e-5, atol=1e-6)
    assert np.allclose(np.diag(hLL), H[n:, n:]) and np.allclose(gd.ravel(), g[:n], rtol=1e-5, atol=1e-6)
    assert np.allclose(gL, g[n:], rtol=1e-5, atol=1e-6)


def test_levenberg_marquardt_matches_scipy_least_squares(rng):
    """The numpy solve and scipy's least_squares on the same residuals (the mean-depth constraint as a heavy
    residual, Huber's loss off, no floor) reach the same minimum."""
    optimize = pytest.importorskip("scipy.optimize")
    prob, d0, L0 = _small_problem(rng)
    prob.plane = None  # linear ground/floor terms out: the floor's hinge is not smooth
    prob.on_ground = None
    mean = d0.mean()
    T, J = d0.shape
    huber = pb._huber
    try:
        pb._huber = lambda r, delta=pb.HUBER: (r * r, np.ones_like(r))
        d, L, info = pb.solve(prob, d0, L0, iterations=60, tol=1e-12)
    finally:
        pb._huber = huber

    def fun(x):
        dd = x[: T * J].reshape(T, J)
        res = prob.residuals(dd, x[T * J :])
        return np.concatenate([*(r.ravel() for r in res.values()), [1e5 * (dd.mean() - mean)]])

    ref = optimize.least_squares(fun, np.concatenate([d0.ravel(), L0]), method="lm", xtol=1e-14, ftol=1e-14)
    assert abs(d.mean() - mean) < 1e-9  # the constraint holds exactly
    assert info["cost"] == pytest.approx(float((fun(ref.x)[:-1] ** 2).sum()), rel=1e-7)
    assert np.abs(d.ravel() - ref.x[: T * J]).max() < 1e-4 and np.abs(L - ref.x[T * J :]).max() < 1e-4


# ---------------------------------------------------------------------- feet and contacts
def test_feet_are_found_by_name_in_every_human_layout():
    names = {rig: [(f.side, [get_rig(rig).joint_names[j] for j in f.sole]) for f in find_feet(get_rig(rig).joint_names)]
             for rig in ("openpose_body25b", "coco17", "mediapipe_pose33", "h36m17", "cmu31")}  # fmt: skip
    assert names["openpose_body25b"] == [("left", ["LBigToe", "LSmallToe", "LHeel"]),
                                         ("right", ["RBigToe", "RSmallToe", "RHeel"])]  # fmt: skip
    assert names["coco17"] == [("left", ["left_ankle"]), ("right", ["right_ankle"])]
    assert names["mediapipe_pose33"] == [("left", ["left_heel", "left_foot_index"]),
                                         ("right", ["right_heel", "right_foot_index"])]  # fmt: skip
    assert names["h36m17"] == [("left", ["left_foot"]), ("right", ["right_foot"])]
    assert names["cmu31"] == [("left", ["ltoes"]), ("right", ["rtoes"])]
    assert find_feet(get_rig("coco17").joint_names)[0].sole_height == ct.ANKLE_HEIGHT
    mocap = ["Hips", "LeftHip", "LeftKnee", "LeftAnkle", "LeftToe", "LeftToe_End", "foot.R", "heel_r"]
    assert [(f.side, f.joints) for f in find_feet(mocap)] == [("left", (3, 4, 5)), ("right", (6, 7))]
    assert find_feet(get_rig("mediapipe_hand21").joint_names) == ()


def test_contacts_are_detected_and_overridden(clip):
    fm, sol, _ = clip
    assert (sol.contacts == fm.contacts).mean() > 0.93  # measured 0.958: a frame late or early at some steps
    assert np.array_equal(sol.contacts, sol.detected)  # "auto" without overrides
    T, F = sol.contacts.shape
    assert ct.apply_overrides(sol.detected, "never").sum() == 0 and ct.apply_overrides(sol.detected, "always").all()
    over = np.full((T, F), ct.AUTO)
    over[:10, 0] = NEVER
    over[50:60, 1] = ALWAYS
    used = ct.apply_overrides(sol.detected, "auto", over)
    assert not used[:10, 0].any() and used[50:60, 1].all() and np.array_equal(used[10:50], sol.detected[10:50])
    with pytest.raises(InputError, match="contact mode"):
        ct.apply_overrides(sol.detected, "sometimes")
    with pytest.raises(InputError, match=r"shape \(120, 2\)"):
        ct.apply_overrides(sol.detected, "auto", over[:5])
    assert ct.clean_runs(np.array([1, 1, 0, 1, 1, 1, 0, 0, 0, 1], bool), 3, 1).tolist() == [1] * 6 + [0] * 4


def test_overrides_reach_the_solve(clip):
    fm, sol, _ = clip
    T = len(fm.lifted)
    over = np.full((T, 2), ct.AUTO)
    over[:, 1] = NEVER
    s = _solve(fm, contact_overrides=over)
    assert np.array_equal(s.detected, sol.detected) and not s.contacts[:, 1].any()
    assert np.array_equal(s.contacts[:, 0], sol.contacts[:, 0])
    never = _solve(fm, settings=SolverSettings(contact_mode="never"))
    assert not never.contacts.any() and never.ground is not None  # the plane through the lowest points
    with pytest.raises(InputError, match="contact mode"):
        _solve(fm, settings=SolverSettings(contact_mode="sometimes"))


# ---------------------------------------------------------------------- quality, against the truth
def test_planted_feet_do_not_slide(clip):
    fm, sol, per_frame = clip
    after = M.foot_slide(sol.joints_camera, FEET, fm.contacts, fm.fps)
    before = M.foot_slide(per_frame, FEET, fm.contacts, fm.fps)
    assert after["speed"] < 0.15 and after["wander"] < 0.06 and after["jump"] < 0.03  # 0.07 m/s, 2.7 cm, 2.0 cm
    assert before["speed"] > 0.15 and before["wander"] > 0.06 and before["jump"] > 0.03  # 4.4 m/s, 73 cm, 69 cm


def test_the_subject_stands_on_one_ground_plane(clip):
    fm, sol, per_frame = clip
    after = M.floor_contact(sol.joints_camera, FEET, fm.contacts, *sol.ground)
    before = M.floor_contact(per_frame, FEET, fm.contacts, *_own_plane(per_frame, fm.contacts))
    assert max(after.values()) < 0.03  # float 1.6, sink 0.8, under 0.8 cm
    assert before["sink"] > 0.03 and before["float"] > 0.03  # 9.0 and 6.2 cm from its own best plane
    true_after = M.floor_contact(sol.joints_camera, FEET, fm.contacts, *fm.plane)
    true_before = M.floor_contact(per_frame, FEET, fm.contacts, *fm.plane)
    assert max(true_after.values()) < 0.05 and max(true_before.values()) > 0.05  # 2.9 vs 17.4 cm
    assert abs(sol.camera_height - fm.camera_height) < 0.1 and abs(sol.camera_tilt - fm.tilt_deg) < 1.5
    # the output world stands on z = 0: planted soles there, nothing below
    on = M.floor_contact(sol.joints, FEET, sol.contacts, np.array([0.0, 0.0, 1.0]), 0.0)
    assert on["sink"] < 0.03 and on["float"] < 0.03 and on["under"] < 0.03


def test_motion_is_smooth_in_all_three_axes(clip):
    fm, sol, per_frame = clip
    truth, after, before = (M.jerk(X, fm.fps) for X in (fm.truth, sol.joints_camera, per_frame))
    assert (after < 100).all() and (after < 2.5 * truth).all()  # 55 / 28 / 45 m/s^3, the truth 47 / 33 / 59
    assert (before > 100).all()  # 2226 / 11906 / 2420
    assert (M.jerk(sol.joints, fm.fps) < 100).all()  # in the ground world too


def test_reprojection_is_within_the_detector_noise(clip):
    fm, sol, per_frame = clip
    noise = 1.5
    clean = M.reprojection(sol.joints_camera, fm.clean2d, fm.visible, fm.focal, fm.pp)
    detected = M.reprojection(sol.joints_camera, fm.points2d, fm.visible, fm.focal, fm.pp)
    assert np.median(clean) < 0.8 * noise  # 0.93 px: nearer the truth than the detections are
    assert np.median(detected) < 1.3 * noise and np.percentile(detected, 90) < 3 * noise  # 1.68 / 3.27 px
    assert np.median(M.reprojection(per_frame, fm.clean2d, fm.visible, fm.focal, fm.pp)) > 0.8 * noise  # 1.80
    assert np.allclose(sol.reprojection[fm.visible], detected) and np.isnan(sol.reprojection[~fm.visible]).all()
    assert abs(sol.sigma_px - noise) < 0.3  # measured from the detections: 1.60 px


def test_bone_lengths_are_constant_and_right(clip):
    fm, sol, per_frame = clip
    truth = M.bone_lengths(fm.truth, PARENTS)[0]
    lengths = M.bone_lengths(sol.joints, PARENTS)
    assert np.abs(lengths - lengths[0]).max() < 1e-9  # constant, exactly
    assert np.allclose(lengths[0], sol.lengths[PARENTS >= 0])
    assert M.bone_length_error(sol.joints, PARENTS, truth) < 0.01  # 5.3 mm
    assert M.bone_length_error(per_frame, PARENTS, truth) > 0.01  # 15.7 mm: the median of the noisy lengths
    assert M.bone_length_error(fm.lifted, PARENTS) > 0.01  # the input's lengths vary by 34 mm
    assert np.linalg.norm(sol.joints_camera - fm.truth, axis=-1).mean() < 0.07  # 4.0 cm (per-frame: 21 cm)
    # the armature is built on the solution as it is
    anim = arm.build_armature(sol.joints, RIG, placement="direction")
    assert np.abs(anim.joints - sol.joints).max() < 1e-9
    assert np.abs(arm.forward_kinematics(anim) - sol.joints).max() < 1e-6


# ---------------------------------------------------------------------- frames and options
def test_ground_world_and_in_place(clip):
    fm, sol, _ = clip
    assert np.allclose(gr.apply(sol.transform, sol.joints_camera), sol.joints)
    assert np.allclose(sol.camera_matrix[:3, 3], sol.transform[:3, 3]) and sol.camera_height > 0
    R = sol.camera_matrix[:3, :3]
    view = R @ np.array([0.0, 0.0, -1.0])  # a Blender camera looks along its local -Z
    assert np.degrees(np.arcsin(-view[2])) == pytest.approx(sol.camera_tilt, abs=1e-6) and abs(view[0]) < 1e-9
    pelvis = ct.pelvis_joints(RIG.joint_names, PARENTS)
    assert np.abs(sol.joints[0, pelvis].mean(0)[:2]).max() < 1e-9  # the origin under the pelvis of the first frame
    assert not sol.root_offsets.any() and np.allclose(sol.camera_locations, sol.camera_matrix[:3, 3])
    still = _solve(fm, settings=SolverSettings(root_motion=False))
    centre = still.joints[:, pelvis].mean(1)
    assert np.abs(centre[:, :2] - centre[:1, :2]).max() < 1e-9  # in place: the pelvis stays above the origin
    assert np.ptp(sol.joints[:, pelvis].mean(1)[:, 0]) > 1.0  # (it walks 3.6 m)
    # the camera moves the other way: seen from it, the subject is where it was
    assert np.allclose(still.joints - still.camera_locations[:, None], sol.joints - sol.camera_locations[:, None])


def test_a_rig_without_feet_keeps_the_camera_world(clip):
    fm, _, _ = clip
    names = [f"j{k}" for k in range(len(RIG.joint_names))]
    other = Rig("thing", tuple(names), edges=tuple(map(tuple, RIG.edge_array())), category="other")
    sol = _solve(fm, rig=other)
    assert sol.ground is None and sol.feet == () and sol.contacts.shape == (len(fm.lifted), 0)
    assert np.array_equal(sol.transform, np.eye(4)) and np.allclose(sol.joints, sol.joints_camera)
    assert (M.jerk(sol.joints, fm.fps) < 150).all()
    lengths = M.bone_lengths(sol.joints, other.tree_parents())
    assert np.abs(lengths - lengths[0]).max() < 1e-9
    assert "no ground plane" in sol.summary()


def test_long_clips_are_solved_in_windows(clip, monkeypatch):
    from lfm_engine.solver import clip as solver_clip

    fm = clip[0]
    monkeypatch.setattr(solver_clip, "WINDOW_FRAMES", 50)
    monkeypatch.setattr(solver_clip, "WINDOW_OVERLAP", 15)
    assert solver_clip.windows(120) == [(0, 50), (35, 85), (70, 120)] and solver_clip.windows(50) == [(0, 50)]
    assert solver_clip.windows(200) == [(0, 50), (35, 85), (70, 120), (105, 155), (140, 200)]
    win = _solve(fm)
    assert win.info["final"]["windows"] == 3
    # each window keeps its own mean depth (the lifted one over 50 frames here, over 3000 by default)
    assert np.linalg.norm(win.joints_camera - fm.truth, axis=-1).mean() < 0.07  # measured 3.3 cm (whole: 4.0)
    assert (M.jerk(win.joints_camera, fm.fps) < 100).all()  # no seam
    assert M.foot_slide(win.joints_camera, FEET, fm.contacts, fm.fps)["speed"] < 0.15
    lengths = M.bone_lengths(win.joints, PARENTS)
    assert np.abs(lengths - lengths[0]).max() < 1e-9


@pytest.mark.parametrize("frames", [1, 2, 3])
def test_very_short_clips(frames):
    fm = walker.filmed(np.random.default_rng(1), frames=frames)
    sol = _solve(fm)
    assert sol.joints.shape == (frames, 25, 3) and np.isfinite(sol.joints).all()
    assert frames == 3 or not sol.contacts.any()  # two frames tell no speed


def test_bad_inputs_are_refused(clip):
    fm, _, _ = clip
    with pytest.raises(InputError, match="shape"):
        solve_clip(fm.lifted[0], fm.points2d, fm.visible, RIG, focal_length=fm.focal, principal_point=fm.pp, fps=30)
    with pytest.raises(InputError, match="2D points"):
        solve_clip(fm.lifted, fm.points2d[:, :3], fm.visible, RIG, focal_length=fm.focal, principal_point=fm.pp,
                   fps=30)  # fmt: skip
    behind = fm.lifted.copy()
    behind[3, 4, 1] = -1.0
    with pytest.raises(InputError, match="in front of the camera"):
        solve_clip(behind, fm.points2d, fm.visible, RIG, focal_length=fm.focal, principal_point=fm.pp, fps=30)
    with pytest.raises(InputError, match="rig has 17 joints"):
        solve_clip(fm.lifted, fm.points2d, fm.visible, get_rig("coco17"), focal_length=fm.focal,
                   principal_point=fm.pp, fps=30)  # fmt: skip
