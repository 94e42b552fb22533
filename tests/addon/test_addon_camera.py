"""Camera defaults in Blender (issue 16): the panel's focal length units, the camera's Auto sensor fit, warnings for
what was assumed (panel and batch), size and frame rate from the footage beside the keypoints, and the retargeted
character where the lifted armature is, in front of the footage camera."""

from __future__ import annotations

import math
import shutil

import bpy
import numpy as np
import pytest
from addon_helpers import CLIP, CLIP_SIZE, RIG, set_panel
from bpy_extras.object_utils import world_to_camera_view
from mathutils import Vector

from lfm_engine import pipeline


def _pixels(scene, camera, point) -> np.ndarray:
    ndc = world_to_camera_view(scene, camera, Vector(point))
    return np.array([ndc.x * scene.render.resolution_x, (1.0 - ndc.y) * scene.render.resolution_y])


def _short_clip(tmp_path, frames: int = 12):
    """The real clip's first frames in a folder of their own (no footage beside them)."""
    folder = tmp_path / "take" / "cam01_openpose_json"
    folder.mkdir(parents=True)
    for f in sorted(CLIP.glob("*.json"))[:frames]:
        shutil.copy(f, folder / f.name)
    return folder


@pytest.mark.parametrize("unit, value, lens", [("MILLIMETRES", 26.0, 26.0), ("FIELD_OF_VIEW", 60.0, None)])
def test_focal_length_in_millimetres_or_as_a_field_of_view(addon, clip, weights_file, unit, value, lens):
    """The panel's millimetres are the created camera's lens (36 mm sensor across the larger side, Blender's Auto
    fit), its field of view the camera's angle; the empties (the lifted points) project onto the keypoints."""
    scene = bpy.context.scene
    prop = {"MILLIMETRES": "focal_length_mm", "FIELD_OF_VIEW": "field_of_view"}[unit]
    set_panel(scene, clip, weights_file, focal_length=0.0, focal_unit=unit, output="EMPTIES", solve_clip=False,
              clip_end=20, **{prop: value})  # fmt: skip
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    cam = scene.camera.data
    assert cam.sensor_fit == "AUTO" and cam.sensor_width == 36.0
    if lens is not None:
        assert cam.lens == pytest.approx(lens)
    else:
        assert math.degrees(cam.angle) == pytest.approx(value)
    from blender_addon.properties import lift_settings, preferences

    result = pipeline.run(clip, lift_settings(scene.lift_to_3d, preferences(bpy.context), 24.0))
    expected = value * max(CLIP_SIZE) / 36.0 if lens else max(CLIP_SIZE) / 2 / math.tan(math.radians(value) / 2)
    assert result.camera.focal_length == pytest.approx(expected)
    empties = [bpy.data.objects[f"{result.name}_{j}"] for j in result.joint_names]
    for k in (0, 19):
        scene.frame_set(k + 1)
        px = np.stack([_pixels(scene, scene.camera, e.matrix_world.translation) for e in empties])
        err = np.linalg.norm(px - result.points2d[k], axis=-1)[result.visible[k]]
        assert err.max() < 0.05


def test_lift_warns_of_an_assumed_size_and_rate_then_reads_the_footage_beside(addon, clip, weights_file, tmp_path,
                                                                              capfd):  # fmt: skip
    scene = bpy.context.scene
    folder = _short_clip(tmp_path)
    set_panel(scene, folder, weights_file, focal_length=0.0, image_width=0, image_height=0, fps=0.0)
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    out = capfd.readouterr().out
    warning = next(line for line in out.splitlines() if line.startswith("Warning:"))
    assert "image size unknown" in warning and "set Camera > Width and Height" in warning
    assert "assumed 24 fps" in warning and "set Camera > Frame Rate" in warning  # the scene's rate
    assert "Camera > Footage" in warning
    assert scene.render.fps == 24  # the scene keeps its rate
    # With the video beside the keypoints (the shot's folder, named like the frames): no warning, its size and rate.
    shutil.copy(clip.parent / "cam01.mp4", folder.parent / "cam01.mp4")
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    out = capfd.readouterr().out
    assert "Warning:" not in out and "image size and frame rate from the footage" in out
    assert (scene.render.resolution_x, scene.render.resolution_y) == CLIP_SIZE
    assert scene.render.fps / scene.render.fps_base == pytest.approx(60.0)
    # The 55 degree default across the larger side: a 34.6 mm lens on the 36 mm sensor.
    assert scene.camera.data.lens == pytest.approx(36.0 / 2 / math.tan(math.radians(55.0) / 2))


def test_batch_focal_flags_and_warnings(clip, weights_file, tmp_path, capsys):
    from blender_addon import batch

    folder = _short_clip(tmp_path)
    base = ["--input", str(folder), "--output", str(tmp_path / "out.blend"), "--weights", str(weights_file),
            "--backend", "numpy", "--rig", RIG]  # fmt: skip
    s = batch.settings_from_args(batch.parse_args([*base, "--focal-mm", "50", "--sensor-width", "23.5"]))
    assert (s.focal_length, s.focal_unit, s.sensor_width) == (50.0, "mm", 23.5)
    s = batch.settings_from_args(batch.parse_args([*base, "--fov", "70", "--footage", "x.mp4"]))
    assert (s.focal_length, s.focal_unit, s.footage) == (70.0, "fov", "x.mp4")
    assert batch.main([*base, "--focal-mm", "26"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("lift_to_3d: warning:")]
    assert len(lines) == 2
    assert "image size unknown" in lines[0] and "set it with --image-size W H (or --footage VIDEO)" in lines[0]
    assert "assumed 24 fps" in lines[1] and "set it with --fps FPS" in lines[1]
    assert bpy.context.scene.camera.data.lens == pytest.approx(26.0)


# ---------------------------------------------------------------------- retargeted character placement
def test_retargeted_character_stays_where_the_lifted_armature_is(addon, tmp_path):
    """A mocap clip lifted frame by frame (the camera world: the subject about 5 m in front of the camera at the
    origin) and retargeted onto the Rigify human, which stands at the origin: the character's hips follow the
    lifted armature's hips within a few centimetres (its legs are 0.97 of the lifted ones, so its hips ride that
    much lower), in front of the camera, and overlap them through the footage camera."""
    pytest.importorskip("torch").set_num_threads(1)
    from retarget_scenes import MOCAP, add_metarig, lift_mocap

    if not MOCAP.is_file():
        pytest.skip(f"{MOCAP} is not present (../shared/data)")
    from blender_addon import retarget

    source, _ = lift_mocap(tmp_path)
    scene = bpy.context.scene
    camera = scene.camera
    target = add_metarig("human")
    assert target.matrix_world.translation.length == 0.0  # the character stands at the world origin
    retarget.retarget_objects(bpy.context, source, target)
    frames = retarget.action_frames(source)
    names, lifted = retarget.read_source(source, frames)
    hips = [names.index("LeftHip"), names.index("RightHip")]
    view = np.linalg.inv(np.array(camera.matrix_world))
    for t in range(0, len(frames), 15):
        scene.frame_set(int(frames[t]))
        mw = target.matrix_world
        got = np.mean([np.array(mw @ target.pose.bones[b].head) for b in ("thigh.L", "thigh.R")], 0)
        want = lifted[t, hips].mean(0)
        assert np.linalg.norm(got - want) < 0.05, (frames[t], got, want)
        depth = -(view @ np.r_[got, 1.0])[2]  # along the camera's view axis (Blender cameras look along -Z)
        assert depth > 4.0
        assert np.linalg.norm(_pixels(scene, camera, got) - _pixels(scene, camera, want)) < 15.0  # of 1920 px
