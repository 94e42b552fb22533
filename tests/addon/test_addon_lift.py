"""End to end: the Lift operator on the real OpenPose clip, checked joint by joint against the engine.

The clip (Pose2Sim demo, cam01, 1080x1920 portrait, 60 fps) is lifted with a random-weights model: these tests
check the plumbing (frames, scale, rotations, keys, camera), not the quality of the lift.
"""

from __future__ import annotations

import dataclasses

import bpy
import numpy as np
import pytest
from addon_helpers import CLIP_FOCAL, CLIP_FPS, CLIP_SIZE, RIG, clip_settings, fcurves_of, set_panel
from bpy_extras.object_utils import world_to_camera_view
from mathutils import Vector

from lfm_engine import armature, get_rig, pipeline
from lfm_engine.anatomy import anatomy
from lfm_engine.solver import ground

FRAMES = (0, 17, 50, 99)  # clip frames evaluated
#: The armature's joints: BODY_25B's 25 and the virtual pelvis and neck (lfm_engine.anatomy).
J = 27


def _camera_world(result, points: np.ndarray) -> np.ndarray:
    """World points of ``result`` (the ground world with the clip solver) in its camera world (the camera at the
    origin looking along +Y), where ``result.camera.project`` applies; ``points`` ``(T, J, 3)``."""
    sol = result.solution
    if sol is None:
        return points
    return ground.apply(np.linalg.inv(sol.transform), points + sol.root_offsets[:, None, :])


def _pixels(scene, camera, point) -> np.ndarray:
    """Pixel coordinates (x right, y down) of a world point through ``camera``."""
    ndc = world_to_camera_view(scene, camera, Vector(point))
    return np.array([ndc.x * scene.render.resolution_x, (1.0 - ndc.y) * scene.render.resolution_y])


def _joint_world(obj, anim, j) -> np.ndarray:
    pbone = obj.pose.bones[anim.bone_names[j]]
    return np.array(obj.matrix_world @ (pbone.head if anim.is_root[j] else pbone.tail))


def test_lift_operator_armature_matches_engine(addon, clip, weights_file):
    scene = bpy.context.scene
    set_panel(scene, clip, weights_file)
    assert scene.lift_to_3d.solve_clip  # the clip solver is on by default
    assert bpy.ops.lfm.lift() == {"FINISHED"}

    result = pipeline.run(clip, clip_settings(weights_file))
    anim = result.armature
    obj = bpy.data.objects[result.name]
    assert obj.type == "ARMATURE" and len(obj.data.bones) == result.rig.num_joints == J
    assert result.rig.name == RIG and "UpperNeck" not in obj.data.bones and "MidHip" not in obj.data.bones
    # Bones named for their segments, rooted at the (virtual) pelvis; each keeps the names of its joints.
    bones = obj.data.bones
    assert [b.name for b in bones if b.parent is None] == ["pelvis"] and bones["pelvis"]["lift_to_3d_joint"] == "pelvis"
    assert bones["thigh.L"]["lift_to_3d_joint"] == "LKnee" and bones["thigh.L"]["lift_to_3d_head_joint"] == "LHip"
    assert bones["thigh.L"].parent.name == "hip.L" and bones["shoulder.R"].parent.name == "spine"
    assert [bones[n]["lift_to_3d_joint"] for n in anim.bone_names] == list(result.rig.joint_names)

    # One action: 4 quaternion channels per bone plus the root's location, one key per frame, linear; and the
    # clip solver's foot contacts (tests/addon/test_addon_contacts.py).
    curves = [c for c in fcurves_of(obj) if not c.data_path.startswith('["Contact ')]
    assert len(fcurves_of(obj)) == len(curves) + len(result.solution.feet) == len(curves) + 2
    assert len(curves) == 4 * J + 3 * int(anim.is_root.sum())
    assert all(len(c.keyframe_points) == 100 for c in curves)
    assert {k.interpolation for c in curves for k in c.keyframe_points} == {"LINEAR"}
    if hasattr(obj.animation_data.action, "is_action_layered"):  # Blender 4.4+
        assert obj.animation_data.action.is_action_layered

    # The scene and the camera follow the footage; the camera stands above the solved ground.
    cam = scene.camera
    assert (scene.render.resolution_x, scene.render.resolution_y) == CLIP_SIZE
    assert scene.render.fps / scene.render.fps_base == pytest.approx(CLIP_FPS)
    assert (scene.frame_start, scene.frame_end) == (1, 100)
    # Blender's default sensor fit (Auto): the 36 mm sensor spans the larger side, the portrait clip's height.
    assert cam.data.sensor_fit == "AUTO"
    assert cam.data.lens == pytest.approx(CLIP_FOCAL * cam.data.sensor_width / max(CLIP_SIZE), rel=1e-6)
    assert np.allclose(np.array(cam.matrix_world), result.camera_matrix, atol=1e-6)
    assert cam.matrix_world.translation.z == pytest.approx(result.solution.camera_height, abs=1e-5)
    assert cam.animation_data is None  # root motion: the camera stands still

    rest = np.array([b.length for b in obj.data.bones])
    seen = _camera_world(result, anim.joints)
    for k in FRAMES:
        scene.frame_set(int(result.scene_frames(1)[k]))
        got = np.stack([_joint_world(obj, anim, j) for j in range(J)])  # (J, 3)
        # Every joint lands on the engine's joints within 1 mm, bones at their rest lengths.
        assert np.abs(got - anim.joints[k]).max() < 1e-3
        posed = np.array([(pb.tail - pb.head).length for pb in obj.pose.bones])
        assert np.abs(posed - rest).max() < 1e-5
        # Through the created camera every joint projects where the engine's pinhole puts it.
        px = np.stack([_pixels(scene, cam, p) for p in got])
        assert np.abs(px - result.camera.project(armature.world_to_camera(seen[k]))).max() < 0.05
    # The solved joints reproject onto the detections within the detector's noise (the median; a random-weights
    # lift, but the 2D is the real clip's).
    error = np.linalg.norm(result.camera.project(armature.world_to_camera(seen)) - result.points2d, axis=-1)
    assert np.median(error[result.visible]) < 2 * result.solution.sigma_px


def test_per_frame_placement_without_the_clip_solver(addon, clip, weights_file):
    scene = bpy.context.scene
    set_panel(scene, clip, weights_file, solve_clip=False)
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    result = pipeline.run(clip, clip_settings(weights_file, solve_clip=False))
    anim = result.armature
    obj = bpy.data.objects[result.name]
    cam = scene.camera
    assert np.allclose(cam.matrix_world.to_translation(), 0) and np.allclose(
        cam.matrix_world.to_3x3() @ Vector((0, 0, -1)), (0, 1, 0), atol=1e-6
    )
    root = int(np.flatnonzero(anim.is_root)[0])
    errors = []
    for k in FRAMES:
        scene.frame_set(int(result.scene_frames(1)[k]))
        got = np.stack([_joint_world(obj, anim, j) for j in range(J)])  # (J, 3)
        assert np.abs(got - anim.joints[k]).max() < 1e-3
        # The visible joints whose bone reaches their camera ray (the root included) project onto their keypoints.
        px = np.stack([_pixels(scene, cam, p) for p in got])
        expected = result.camera.project(armature.world_to_camera(anim.joints[k]))
        assert np.abs(px - expected).max() < 0.05
        if result.visible[k, root]:
            assert anim.on_ray[k, root] and np.linalg.norm(px[root] - result.points2d[k, root]) < 0.05
        errors.append(np.linalg.norm(px - result.points2d[k], axis=-1)[anim.on_ray[k]])
    assert np.concatenate(errors).max() < 1.0
    # Over the whole clip: the joints on their rays reproject onto the keypoints; every visible joint is on its ray
    # unless its bone is too short to reach it.
    error = np.linalg.norm(result.camera.project(armature.world_to_camera(anim.joints)) - result.points2d, axis=-1)
    assert anim.placement == "ray" and np.array_equal(anim.on_ray | anim.ray_misses, result.visible)
    assert anim.on_ray.sum() > 0.3 * result.visible.sum() and error[anim.on_ray].max() < 1.0
    # The constant-length points are the lifted points (metres) re-placed on the rays through the keypoints.
    rays = armature.camera_rays(result.points2d, CLIP_FOCAL, result.camera.principal_point, result.visible)
    again = armature.constant_length_points(result.world, anim.parents, anim.lengths,
                                            rays=armature.camera_to_world(rays))  # fmt: skip
    assert np.abs(again - anim.joints).max() < 1e-9


def test_in_place_keys_the_camera(addon, clip, weights_file):
    from blender_addon import properties

    scene = bpy.context.scene
    set_panel(scene, clip, weights_file, motion="IN_PLACE", contact_mode="NEVER", clip_end=39)
    s = properties.lift_settings(scene.lift_to_3d, properties.preferences(bpy.context), 24.0)
    assert (s.solve_clip, s.contact_mode, s.root_motion) == (True, "never", False)
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    result = pipeline.run(clip, s)
    assert not result.solution.contacts.any() and result.camera_locations.shape == (40, 3)
    cam, obj = scene.camera, bpy.data.objects[result.name]
    assert {c.data_path for c in fcurves_of(cam)} == {"location"}
    for k in (0, 25):
        scene.frame_set(k + 1)
        assert np.allclose(np.array(cam.matrix_world.translation), result.camera_locations[k], atol=1e-5)
        got = np.stack([_joint_world(obj, result.armature, j) for j in range(J)])
        px = np.stack([_pixels(scene, cam, p) for p in got])  # the footage still lines up
        seen = _camera_world(result, result.armature.joints)[k]
        assert np.abs(px - result.camera.project(armature.world_to_camera(seen))).max() < 0.05


def test_empties_reproject_onto_the_keypoints(addon, clip, weights_file):
    scene = bpy.context.scene
    set_panel(scene, clip, weights_file, output="EMPTIES")
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    result = pipeline.run(clip, clip_settings(weights_file))
    empties = [bpy.data.objects[f"{result.name}_{n}"] for n in result.joint_names]
    assert all(len(fcurves_of(e)) == 3 and len(fcurves_of(e)[0].keyframe_points) == 100 for e in empties)
    errors = []
    for k in FRAMES:
        scene.frame_set(k + 1)
        got = np.stack([np.array(e.matrix_world.translation) for e in empties])
        assert np.abs(got - result.world[k]).max() < 1e-3
        px = np.stack([_pixels(scene, scene.camera, p) for p in got])
        errors.append(np.linalg.norm(px - result.points2d[k], axis=-1)[result.visible[k]])
    # The lift is given the focal length: every visible joint projects back onto its keypoint.
    assert np.concatenate(errors).max() < 0.05


def test_principal_point_becomes_lens_shift(addon, clip, weights_file):
    from blender_addon import blender_io

    result = pipeline.run(clip, clip_settings(weights_file))
    off_centre = dataclasses.replace(result.camera, principal_point=(400.0, 1100.0))
    result = dataclasses.replace(result, camera=off_centre)
    blender_io.write_clip(bpy.context, result)
    scene = bpy.context.scene
    for k in (0, 60):
        scene.frame_set(k + 1)
        cam_pts = armature.world_to_camera(_camera_world(result, result.armature.joints)[k])
        for j in (0, 9, 16):
            px = _pixels(scene, scene.camera, result.armature.joints[k, j])
            assert np.abs(px - off_centre.project(cam_pts[j])).max() < 0.05


def test_frame_range_scene_start_and_smoothing(addon, clip, weights_file):
    scene = bpy.context.scene
    set_panel(scene, clip, weights_file, clip_start=10, clip_end=59, scene_start=101, smoothing="ONE_EURO")
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    obj = bpy.context.view_layer.objects.active
    curves = fcurves_of(obj)
    frames = {tuple(c.keyframe_points[i].co[0] for i in (0, -1)) for c in curves}
    assert frames == {(101.0, 150.0)} and len(curves[0].keyframe_points) == 50
    assert (scene.frame_start, scene.frame_end) == (101, 150)
    result = pipeline.run(
        clip, clip_settings(weights_file, frame_start=10, frame_end=59, smoothing="one_euro", smoothing_strength=0.5)
    )
    scene.frame_set(130)
    anim = result.armature
    got = np.stack([_joint_world(obj, anim, j) for j in range(J)])
    assert np.abs(got - anim.joints[29]).max() < 1e-3


def test_invoke_without_a_window_runs_at_once(addon, clip, weights_file):
    set_panel(bpy.context.scene, clip, weights_file, rig="FILE")  # the reader tells BODY_25B by its geometry
    assert bpy.ops.lfm.lift("INVOKE_DEFAULT") == {"FINISHED"}
    assert len(bpy.data.armatures) == 1
    body = anatomy(get_rig(RIG))
    assert {b.name for b in bpy.data.armatures[0].bones} == set(body.bone_names)
    assert {b["lift_to_3d_joint"] for b in bpy.data.armatures[0].bones} == set(body.rig.joint_names)


def test_lift_creates_one_collection_with_armature_and_camera(addon, clip, weights_file):
    set_panel(bpy.context.scene, clip, weights_file)
    bpy.ops.lfm.lift()
    assert {o.name for o in bpy.data.objects} == {"cam01_openpose_json", "cam01_openpose_jsonCamera"}
    assert {c.name for c in bpy.data.collections} == {"cam01_openpose_json"}


def test_fcurves_come_from_the_api_the_action_has():
    """Layered actions (Blender 4.4+, 5.0) use fcurve_ensure_for_datablock; legacy ones (4.2) action.fcurves.new."""
    from types import SimpleNamespace

    from blender_addon import blender_io

    calls = []
    legacy = SimpleNamespace(fcurves=SimpleNamespace(new=lambda path, index, action_group: calls.append(
        ("legacy", path, index, action_group))))  # fmt: skip
    blender_io._fcurve(legacy, None, "location", 2, "hip")
    assert calls == [("legacy", "location", 2, "hip")]

    obj = bpy.data.objects.new("probe", None)
    bpy.context.scene.collection.objects.link(obj)
    action = bpy.data.actions.new("probe")
    obj.animation_data_create().action = action
    # 5.0 has only layered actions, 4.2 only legacy ones (4.4 and 4.5 have both APIs): the real call either way.
    assert blender_io._layered(action) == (bpy.app.version >= (4, 4, 0))
    assert hasattr(action, "fcurves") == (bpy.app.version < (5, 0, 0))
    fcurve = blender_io._fcurve(action, obj, "location", 1, "probe")
    blender_io.write_keys(fcurve, [1.0, 2.0, 3.0], [0.0, 1.0, 4.0])
    bpy.context.scene.frame_set(2)
    assert obj.location.y == pytest.approx(1.0) and fcurve.group.name == "probe"
    assert [tuple(k.co) for k in fcurve.keyframe_points] == [(1.0, 0.0), (2.0, 1.0), (3.0, 4.0)]
