"""lfm_engine.pipeline: read -> lift in chunks -> Blender world -> armature, as plain arrays (no bpy)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import stick_figure_names, stick_figure_parents, stick_figure_poses

from lfm_engine import InputError, RigError, get_rig, pipeline
from lfm_engine import armature as arm
from lfm_engine.io import Keypoints2D, write_keypoints_npz
from lfm_engine.solver import ground as gr
from lfm_engine.solver.metrics import bone_lengths

F, W, H = 1000.0, 1280, 720


def _clip(tmp_path, rng, frames: int = 30, **kw) -> tuple:
    """A projected stick-figure clip written as NPZ: (path, 2D points, ground-truth camera-frame 3D)."""
    cam = stick_figure_poses(rng, frames) @ np.diag([1.0, -1.0, 1.0]) + [0.0, 0.0, 4.0]  # y down, 4 m away
    uv = cam[..., :2] / cam[..., 2:] * F + [W / 2, H / 2]  # (T, J, 2)
    names = stick_figure_names()
    edges = [(p, j) for j, p in enumerate(stick_figure_parents()) if p >= 0]
    kp = Keypoints2D(uv, None, names, edges, **({"image_size": (W, H), "fps": 30.0} | kw))
    return write_keypoints_npz(kp, tmp_path / "clip.npz"), uv, cam


@pytest.fixture
def lifter(weights_file):
    return pipeline.load_lifter(weights_file, "numpy")


def test_run_shapes_camera_and_scale(tmp_path, rng, lifter):
    path, uv, _ = _clip(tmp_path, rng)
    result = pipeline.run(path, pipeline.LiftSettings(focal_length=F, height=1.6, solve_clip=False), lifter=lifter)
    T, J = uv.shape[:2]
    assert result.name == "clip" and result.num_frames == T and result.joint_names == tuple(stick_figure_names())
    assert result.lifted.shape == (T, J, 3) and result.world.shape == (T, J, 3)
    assert result.camera == pipeline.CameraModel(F, (W / 2, H / 2), (W, H))
    assert result.camera.lens_mm == pytest.approx(F * 36 / W)
    # The lift is exact through the pinhole, and the world is the lift rotated and scaled about the camera.
    assert np.abs(result.camera.project(result.lifted) - uv).max() < 1e-2
    assert np.allclose(result.world, result.scale * arm.camera_to_world(result.lifted), atol=1e-6)
    assert arm.subject_extent(result.world, vertical=False) == pytest.approx(1.6)  # not a person: bounding box
    # The armature keeps every visible joint on its camera ray (the ray through its keypoint) where its bone
    # reaches it: those joints reproject onto the keypoints.
    anim = result.armature
    keypoints = result.points2d.astype(np.float64)  # uv as the file stores it (float32)
    rays = arm.camera_to_world(arm.camera_rays(keypoints, F, (W / 2, H / 2), result.visible))
    expected = arm.constant_length_points(result.world, anim.parents, anim.lengths, rays=rays)
    assert anim.placement == "ray" and np.allclose(anim.joints, expected)
    assert ((anim.on_ray | anim.ray_misses) == result.visible).all() and anim.on_ray.mean() > 0.5
    px = result.camera.project(arm.world_to_camera(anim.joints))
    assert np.abs(px - keypoints)[anim.on_ray].max() < 1e-6
    misses = int(anim.ray_misses.sum())  # bones too short for their rays: placed as near to them as they can be
    assert [n.split(" could not")[0] for n in result.notes] == ([f"{misses} joint-frame(s)"] if misses else [])
    assert result.scene_frames(5).tolist() == list(range(5, 5 + T))


def test_placement_setting(tmp_path, rng, lifter):
    path, uv, _ = _clip(tmp_path, rng)
    direction = pipeline.run(path, pipeline.LiftSettings(focal_length=F, placement="direction", solve_clip=False),
                             lifter=lifter)  # fmt: skip
    anim = direction.armature
    assert anim.placement == "direction" and not anim.on_ray.any() and direction.notes == ()
    assert np.allclose(anim.joints, arm.constant_length_points(direction.world, anim.parents, anim.lengths,
                                                               placement="direction"))  # fmt: skip
    # With smoothing the rays go through the smoothed points' projections, so the smoothing is kept.
    settings = pipeline.LiftSettings(focal_length=F, smoothing="savgol", smoothing_strength=1.0, solve_clip=False)
    smooth = pipeline.run(path, settings, lifter=lifter)
    on = smooth.armature.on_ray
    smoothed_px = smooth.camera.project(arm.world_to_camera(smooth.world))
    assert np.abs(smooth.camera.project(arm.world_to_camera(smooth.armature.joints)) - smoothed_px)[on].max() < 1e-6
    assert np.abs(smoothed_px - uv).max() > 1.0  # (the smoothing moved the points off the keypoints)
    with pytest.raises(InputError, match="unknown placement"):
        pipeline.run(path, pipeline.LiftSettings(placement="nearest"), lifter=lifter)


def test_chunks_equal_one_lift_and_report_progress(tmp_path, rng, lifter, monkeypatch):
    path, uv, _ = _clip(tmp_path, rng, frames=25)
    whole = lifter.lift(uv, edges=pipeline.load_rig(None, _read(path)), focal_length=F, principal_point=(W / 2, H / 2))
    monkeypatch.setattr(pipeline, "MAX_CHUNK_FRAMES", 7)
    seen = []
    result = pipeline.run(
        path, pipeline.LiftSettings(focal_length=F), lifter=lifter, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(0, 25), (7, 25), (14, 25), (21, 25), (25, 25)]
    assert np.allclose(result.lifted, whole, atol=1e-4)


def test_closing_the_steps_cancels(tmp_path, rng, lifter):
    path, _, _ = _clip(tmp_path, rng)
    steps = pipeline.lift_steps(path, pipeline.LiftSettings(), lifter=lifter)
    assert next(steps) == (0, 30)
    steps.close()
    with pytest.raises(StopIteration):
        next(steps)
    with pytest.raises(RuntimeError, match="cancel"):
        pipeline.run(path, lifter=lifter, progress=lambda d, t: (_ for _ in ()).throw(RuntimeError("cancelled")))


def test_unknown_focal_length_and_image_size(tmp_path, rng, lifter):
    path, uv, _ = _clip(tmp_path, rng, image_size=None)
    result = pipeline.run(path, lifter=lifter)
    cam = result.camera
    assert cam.assumed and not cam.image_size_known
    lo, hi = np.nanmin(uv, axis=(0, 1)), np.nanmax(uv, axis=(0, 1))
    assert np.allclose(cam.principal_point, (lo + hi) / 2, atol=1.0)  # the points are centred in the guessed image
    # No focal length: a 55 degree field of view across the larger side (was a long lens, 5 x the larger side).
    assert cam.focal_length == pytest.approx(max(cam.image_size) / 2 / np.tan(np.radians(55.0) / 2))
    assert cam.field_of_view == pytest.approx(pipeline.DEFAULT_FIELD_OF_VIEW)
    assert "55 degree field of view" in result.notes[0]
    # The guessed size is a warning (the file gives the frame rate), naming the setting that fixes it.
    assert [w.setting for w in result.warnings] == ["image_size"] and "from the points" in str(result.warnings[0])
    assert np.abs(cam.project(result.lifted) - uv).max() < 1e-2


def test_frames_without_two_visible_joints_are_interpolated(tmp_path, rng, lifter):
    _, uv, _ = _clip(tmp_path, rng)
    uv[5] = np.nan
    uv[6, 1:] = np.nan  # one joint left: not liftable
    kp = Keypoints2D(uv, None, stick_figure_names(), [(p, j) for j, p in enumerate(stick_figure_parents()) if p >= 0],
                     image_size=(W, H), fps=30.0)  # fmt: skip
    result = pipeline.run(write_keypoints_npz(kp, tmp_path / "gaps.npz"), lifter=lifter)
    assert result.lifted_frames.tolist() == [k not in (5, 6) for k in range(30)]
    assert np.isfinite(result.lifted).all() and "2 frame(s)" in result.notes[0]
    assert np.allclose(result.lifted[5], result.lifted[4] + (result.lifted[7] - result.lifted[4]) / 3, atol=1e-3)
    uv[:] = np.nan
    kp = Keypoints2D(uv, None, stick_figure_names(), None, image_size=(W, H))
    with pytest.raises(InputError, match="nothing to lift"):
        pipeline.run(write_keypoints_npz(kp, tmp_path / "empty.npz"), lifter=lifter)


def test_frame_range_and_frame_numbers(tmp_path, rng, lifter):
    path, uv, _ = _clip(tmp_path, rng, frame_ids=np.arange(30) * 2 + 100)  # every other frame of a sequence
    result = pipeline.run(path, pipeline.LiftSettings(frame_start=3, frame_end=9), lifter=lifter)
    assert result.frame_indices.tolist() == list(range(3, 10)) and np.allclose(result.points2d, uv[3:10])
    assert result.scene_frames(1).tolist() == [1, 3, 5, 7, 9, 11, 13]
    assert pipeline.run(path, pipeline.LiftSettings(frame_start=25, frame_end=99), lifter=lifter).num_frames == 5
    for start, end, message in ((30, None, "outside the clip"), (5, 4, "before start frame")):
        with pytest.raises(InputError, match=message):
            pipeline.run(path, pipeline.LiftSettings(frame_start=start, frame_end=end), lifter=lifter)


def test_rigs_from_layout_and_file(tmp_path, rng, lifter):
    path, _, _ = _clip(tmp_path, rng)
    rig_file = tmp_path / "stick.json"
    rig_file.write_text(json.dumps({"joint_names": stick_figure_names(), "parents": stick_figure_parents(),
                                    "category": "human"}))  # fmt: skip
    result = pipeline.run(path, pipeline.LiftSettings(rig=str(rig_file), solve_clip=False), lifter=lifter)
    assert result.rig.name == "stick" and result.rig.category == "human" and result.height == 1.75
    assert np.median(np.ptp(result.world[..., 2], axis=1)) == pytest.approx(1.75)  # people: vertical extent
    solved = pipeline.run(path, pipeline.LiftSettings(rig=str(rig_file)), lifter=lifter)  # the clip solver
    assert solved.solution.ground is not None  # it has feet (left_ankle, left_toe, ...): the world stands on them
    assert np.median(np.ptp(solved.armature.joints[..., 2], axis=1)) == pytest.approx(1.75)  # above the ground
    with pytest.raises(InputError, match="has 17 joints but the file has 15"):
        pipeline.run(path, pipeline.LiftSettings(rig="coco17"), lifter=lifter)
    with pytest.raises(RigError, match="unknown"):
        pipeline.run(path, pipeline.LiftSettings(rig="no_such_layout"), lifter=lifter)
    rig_file.write_text("{not json")
    with pytest.raises(RigError, match="not valid JSON"):
        pipeline.run(path, pipeline.LiftSettings(rig=str(rig_file)), lifter=lifter)
    with pytest.raises(RigError, match="cannot read"):
        pipeline.run(path, pipeline.LiftSettings(rig=str(tmp_path / "missing.json")), lifter=lifter)


def test_default_height_by_category(tmp_path, rng, lifter):
    hand = get_rig("mediapipe_hand21")
    uv = rng.uniform(300, 400, size=(6, 21, 2))
    kp = Keypoints2D(uv, None, hand.joint_names, hand.edge_array(), image_size=(W, H), rig_name=hand.name)
    result = pipeline.run(write_keypoints_npz(kp, tmp_path / "hand.npz"), lifter=lifter)
    assert result.height == pytest.approx(0.19)
    assert arm.subject_extent(result.world, vertical=False) == pytest.approx(0.19)


def _walker_file(tmp_path):
    """The filmed walker of the clip solver's tests as an OpenPose BODY_25B keypoint file: (path, filmed)."""
    import walker

    fm = walker.filmed(np.random.default_rng(0), frames=60)
    kp = Keypoints2D(fm.points2d, fm.visible.astype(np.float32), walker.RIG.joint_names, walker.RIG.edge_array(),
                     image_size=(1920, 1080), fps=fm.fps, rig_name="openpose_body25b")  # fmt: skip
    return write_keypoints_npz(kp, tmp_path / "walk.npz"), fm


def test_the_clip_solver_is_on_by_default(tmp_path, lifter):
    path, fm = _walker_file(tmp_path)
    result = pipeline.run(path, pipeline.LiftSettings(focal_length=fm.focal), lifter=lifter)
    sol = result.solution
    assert pipeline.LiftSettings().solve_clip and sol is not None and sol.ground is not None
    assert np.abs(result.armature.joints - sol.joints).max() < 1e-9  # the armature is built on it as it is
    assert result.armature.placement == "direction" and not result.armature.ray_misses.any()
    assert [n for n in result.notes if n.startswith("clip solver")] == [sol.summary()]
    assert np.array_equal(result.camera_matrix, sol.camera_matrix) and result.camera_locations is None
    assert np.allclose(result.world, gr.apply(sol.transform, result.scale * arm.camera_to_world(result.lifted)))
    lengths = bone_lengths(sol.joints, result.rig.tree_parents())
    assert np.ptp(lengths, axis=0).max() < 1e-9  # constant bone lengths
    # in place: the pelvis stays above the origin, the camera moves the other way (keyed)
    still = pipeline.run(path, pipeline.LiftSettings(focal_length=fm.focal, root_motion=False), lifter=lifter)
    assert still.camera_locations.shape == (60, 3)
    seen = still.armature.joints - still.camera_locations[:, None]
    assert np.allclose(seen, sol.joints - sol.camera_locations[:, None])
    # contacts: per-foot per-frame overrides, modes
    never = np.zeros((60, 2), dtype=np.int8)
    forced = pipeline.run(path, pipeline.LiftSettings(focal_length=fm.focal, contact_overrides=never), lifter=lifter)
    assert not forced.solution.contacts.any()
    with pytest.raises(InputError, match="contact overrides"):
        pipeline.run(path, pipeline.LiftSettings(contact_overrides=never[:5]), lifter=lifter)
    with pytest.raises(InputError, match="unknown contact mode"):
        pipeline.run(path, pipeline.LiftSettings(contact_mode="often"), lifter=lifter)


def test_the_clip_solver_switch_and_its_limits(tmp_path, lifter, monkeypatch):
    path, fm = _walker_file(tmp_path)
    off = pipeline.run(path, pipeline.LiftSettings(focal_length=fm.focal, solve_clip=False), lifter=lifter)
    assert off.solution is None and off.armature.placement == "ray"
    assert np.array_equal(off.camera_matrix, pipeline.CAMERA_MATRIX)
    assert np.allclose(off.world, off.scale * arm.camera_to_world(off.lifted))  # the camera world, as before
    monkeypatch.setattr(pipeline, "MAX_SOLVER_JOINTS", 20)
    big = pipeline.run(path, pipeline.LiftSettings(focal_length=fm.focal), lifter=lifter)
    assert big.solution is None and "rigs of up to 20 joints; these 27" in big.notes[0]  # BODY_25B, pelvis, neck
    assert np.allclose(big.armature.joints, off.armature.joints)


def test_load_lifter_is_cached_and_checks_the_file(weights_file, tmp_path):
    from lfm_engine import WeightsError

    assert pipeline.load_lifter(weights_file, "numpy") is pipeline.load_lifter(str(weights_file), "numpy")
    with pytest.raises(WeightsError):
        pipeline.load_lifter(tmp_path / "missing.safetensors", "numpy")


def _read(path):
    from lfm_engine.io import read_keypoints

    return read_keypoints(path)
