"""Reliability of the add-on: a failure anywhere leaves every data-block as it was, a lift is one undo step that
undo fully reverts, an existing action is never overwritten, and an interrupted batch save keeps the old .blend.

Undo in the ``bpy`` module (background mode): ``bpy.ops.ed.undo_push`` and ``bpy.ops.ed.undo`` / ``redo`` work,
but Blender pushes no undo step by itself after an ``{'UNDO'}`` operator called from Python there (checked with
``bpy.ops.mesh.primitive_cube_add`` too: ``bpy.ops.ed.undo.poll()`` stays False). So the test does by hand what
Blender's window manager does after such an operator in the UI (one ``undo_push`` named after it) and checks that
this one step holds the whole lift: one undo removes all of it and restores the scene settings, one redo brings it
all back.
"""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from addon_helpers import datablocks, fcurves_of, motion_fcurves_of, set_panel, set_weights


def snapshot() -> dict[str, tuple]:
    """Names of the data-blocks of every kind in ``bpy.data`` (objects, actions, cameras, ..., workspaces)."""
    out = {}
    for prop in bpy.data.bl_rna.properties:
        if prop.type == "COLLECTION" and prop.identifier not in ("batch_remove",):
            coll = getattr(bpy.data, prop.identifier)
            out[prop.identifier] = tuple(sorted(getattr(i, "name", "") for i in coll))
    return out


def scene_settings(scene) -> tuple:
    r = scene.render
    return (scene.camera, r.resolution_x, r.resolution_y, r.resolution_percentage, r.fps, r.fps_base,
            scene.frame_start, scene.frame_end)  # fmt: skip


def keys_of(obj) -> dict[str, np.ndarray]:
    """``{data_path[index]: (n, 2) keys}`` of ``obj``'s action."""
    out = {}
    for fc in fcurves_of(obj):
        co = np.empty(2 * len(fc.keyframe_points), dtype=np.float32)
        fc.keyframe_points.foreach_get("co", co)
        out[f"{fc.data_path}[{fc.array_index}]"] = co.reshape(-1, 2)
    return out


@pytest.fixture
def user_scene():
    """A scene with the user's own work in it: an animated cube (its action named like the lift's) and a camera."""
    bpy.ops.mesh.primitive_cube_add()
    cube = bpy.context.active_object
    cube.animation_data_create().action = bpy.data.actions.new("cam01_openpose_jsonAction")
    cube.location = (1, 2, 3)
    cube.keyframe_insert("location", frame=1)
    cube.location = (4, 5, 6)
    cube.keyframe_insert("location", frame=50)
    cam = bpy.data.objects.new("UserCamera", bpy.data.cameras.new("UserCamera"))
    bpy.context.scene.collection.objects.link(cam)
    bpy.context.scene.camera = cam
    return bpy.context.scene


def test_lift_has_undo_and_redo_options():
    from blender_addon.operators import LFM_OT_lift

    assert {"REGISTER", "UNDO"} <= LFM_OT_lift.bl_options


def test_one_undo_reverts_a_lift_and_redo_restores_it(addon, clip, weights_file, user_scene):
    set_panel(user_scene, clip, weights_file)
    cube = bpy.data.objects["Cube"]
    cube_keys = keys_of(cube)
    bpy.ops.ed.undo_push(message="before the lift")
    before, settings = snapshot(), scene_settings(user_scene)
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    bpy.ops.ed.undo_push(message="Lift to 3D")  # what Blender does after an {'UNDO'} operator in the UI
    after = snapshot()
    assert after != before and scene_settings(bpy.context.scene) != settings
    lifted = keys_of(bpy.data.objects["cam01_openpose_json"])

    assert bpy.ops.ed.undo() == {"FINISHED"}
    assert snapshot() == before
    assert scene_settings(bpy.context.scene)[1:] == settings[1:]
    assert bpy.context.scene.camera.name == "UserCamera"
    assert all(np.array_equal(v, cube_keys[k]) for k, v in keys_of(bpy.data.objects["Cube"]).items())

    assert bpy.ops.ed.redo() == {"FINISHED"}
    assert snapshot() == after
    again = keys_of(bpy.data.objects["cam01_openpose_json"])
    assert again.keys() == lifted.keys() and all(np.array_equal(again[k], lifted[k]) for k in lifted)


def test_a_second_lift_never_overwrites_an_existing_action(addon, clip, weights_file, user_scene):
    set_panel(user_scene, clip, weights_file)
    cube = bpy.data.objects["Cube"]
    cube_action, cube_keys = cube.animation_data.action, keys_of(cube)
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    first = bpy.data.objects["cam01_openpose_json"]
    first_action, first_keys = first.animation_data.action, keys_of(first)
    assert first_action != cube_action and first_action.name == "cam01_openpose_jsonAction.001"

    set_panel(user_scene, clip, weights_file, smoothing="SAVGOL")  # different keys
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    second = bpy.context.view_layer.objects.active
    assert second != first and second.animation_data.action not in (first_action, cube_action)
    assert len(bpy.data.actions) == 3
    # The user's action and the first lift's keep every key.
    assert cube.animation_data.action == cube_action and first.animation_data.action == first_action
    for obj, keys in ((cube, cube_keys), (first, first_keys)):
        now = keys_of(obj)
        assert now.keys() == keys.keys() and all(np.array_equal(now[k], keys[k]) for k in keys)


@pytest.mark.parametrize("fail_at", ["collection", "camera", "bones", "keys_first", "keys_last", "scene"])
@pytest.mark.parametrize("output", ["ARMATURE", "EMPTIES"])
def test_a_failure_anywhere_in_the_write_leaves_every_datablock(
    addon, clip, weights_file, user_scene, monkeypatch, fail_at, output
):
    from blender_addon import blender_io

    def boom(*args, **kwargs):
        raise RuntimeError(f"simulated failure at {fail_at}")

    if fail_at == "collection":
        monkeypatch.setattr(blender_io, "_camera", boom)  # the collection is made and linked, then this fails
    elif fail_at == "camera":
        real_camera = blender_io._camera

        def camera_then_fail(result, base, coll, created):
            real_camera(result, base, coll, created)
            boom()

        monkeypatch.setattr(blender_io, "_camera", camera_then_fail)
    elif fail_at == "bones":
        monkeypatch.setattr(blender_io, "_new_action", boom)  # after edit mode, before any key
    elif fail_at in ("keys_first", "keys_last"):
        calls, real = {"n": 0}, blender_io.write_keys
        # BODY_25B, the virtual pelvis and neck; then the two feet's contacts (the last keys written)
        last = (4 * 27 + 3 if output == "ARMATURE" else 3 * 27) + 2

        def counting(*args):
            calls["n"] += 1
            if calls["n"] == (1 if fail_at == "keys_first" else last):
                boom()
            real(*args)

        monkeypatch.setattr(blender_io, "write_keys", counting)
    else:
        monkeypatch.setattr(blender_io, "_set_scene", boom)
    set_panel(user_scene, clip, weights_file, output=output)
    cube = bpy.data.objects["Cube"]
    before, settings, cube_keys = snapshot(), scene_settings(user_scene), keys_of(cube)
    active = bpy.context.view_layer.objects.active
    with pytest.raises(RuntimeError, match="simulated failure"):
        bpy.ops.lfm.lift()
    assert snapshot() == before
    assert scene_settings(user_scene) == settings
    assert bpy.context.view_layer.objects.active == active and bpy.context.mode == "OBJECT"
    assert all(np.array_equal(v, cube_keys[k]) for k, v in keys_of(cube).items())
    assert datablocks()["actions"] == {"cam01_openpose_jsonAction"}


# ---------------------------------------------------------------------- batch: the .blend is replaced atomically
@pytest.mark.parametrize("interruption", [KeyboardInterrupt, OSError])
def test_an_interrupted_batch_save_keeps_the_old_blend(clip, weights_file, tmp_path, monkeypatch, interruption):
    from blender_addon import batch

    out = tmp_path / "out.blend"
    out.write_bytes(b"the previous, complete file")
    real_wm = bpy.ops.wm

    class InterruptedWM:
        """``bpy.ops.wm`` whose save writes half a file, then is interrupted."""

        def __getattr__(self, name):
            return getattr(real_wm, name)

        @staticmethod
        def save_as_mainfile(filepath, **kwargs):
            with open(filepath, "wb") as f:
                f.write(b"BLENDER-v500 half a file")
            raise interruption("interrupted while saving (simulated)")

    monkeypatch.setattr(bpy.ops, "wm", InterruptedWM())
    args = ["--input", str(clip), "--output", str(out), "--weights", str(weights_file), "--backend", "numpy",
            "--rig", "openpose_body25b"]  # fmt: skip
    with pytest.raises(interruption):
        batch.main(args)
    assert out.read_bytes() == b"the previous, complete file"
    assert [p.name for p in tmp_path.iterdir()] == ["out.blend"]  # no temporary file left behind

    monkeypatch.setattr(bpy.ops, "wm", real_wm)
    assert batch.main(args) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["out.blend"]
    bpy.ops.wm.open_mainfile(filepath=str(out))
    assert [o.name for o in bpy.data.objects if o.type == "ARMATURE"] == ["cam01_openpose_json"]


# ---------------------------------------------------------------------- long clips: cancelled midway or complete
def _long_npz(path, frames: int):
    from blender_addon import demo
    from lfm_engine import armature, get_rig
    from lfm_engine.io import Keypoints2D, write_keypoints_npz

    cam = armature.world_to_camera(demo.walking_figure(frames))
    uv = cam[..., :2] / cam[..., 2:3] * demo.DEMO_FOCAL + np.array(demo.DEMO_SIZE) / 2
    rig = get_rig("coco17")
    kp = Keypoints2D(uv, None, rig.joint_names, rig.edge_array(), image_size=demo.DEMO_SIZE, fps=30.0,
                     rig_name="coco17")  # fmt: skip
    return write_keypoints_npz(kp, path)


def test_a_long_clip_cancelled_midway_leaves_nothing_and_a_full_run_keys_every_frame(
    addon, weights_file, tmp_path, user_scene, monkeypatch
):
    from types import SimpleNamespace

    from test_addon_errors import _context, _modal_operator

    from lfm_engine import pipeline

    monkeypatch.setattr(pipeline, "MAX_CHUNK_FRAMES", 250)
    frames = 3000
    path = _long_npz(tmp_path / "long_walk.npz", frames)
    s = user_scene.lift_to_3d
    s.source_path, s.rig, s.focal_length = str(path), "coco17", 900.0
    set_weights(weights_file)
    before, settings = snapshot(), scene_settings(user_scene)
    timer, esc = SimpleNamespace(type="TIMER"), SimpleNamespace(type="ESC")

    op, ctx = _modal_operator(), _context()
    op._start(ctx)
    for _ in range(6):  # the start and 5 chunks of at most 250 frames: under half of the clip
        assert op.modal(ctx, timer) == {"RUNNING_MODAL"}
    progress = ctx.window_manager.progress
    assert progress == sorted(set(progress)) and 0 < progress[-1] <= 1000 * 5 * 250 // frames
    assert op.modal(ctx, esc) == {"CANCELLED"}
    assert snapshot() == before and scene_settings(user_scene) == settings

    op, ctx = _modal_operator(), _context()
    op._start(ctx)
    outcome = None
    for _ in range(50):
        outcome = op.modal(ctx, timer)
        if outcome != {"RUNNING_MODAL"}:
            break
    assert outcome == {"FINISHED"}
    obj = bpy.data.objects["long_walk"]
    curves = motion_fcurves_of(obj)
    assert len(curves) == 4 * 19 + 3 and {len(c.keyframe_points) for c in curves} == {frames}  # COCO-17, pelvis, neck
    assert (user_scene.frame_start, user_scene.frame_end) == (1, frames)


def test_replace_previous_swaps_only_the_earlier_lift(addon, clip, weights_file, user_scene, monkeypatch):
    """Asked to (*Replace Previous Lift*), a lift removes the earlier lift of the clip once the new one is made and
    takes its names; the user's data-blocks, even one named like the lift's action, are not touched; a failed
    replacing lift keeps the earlier one."""
    from blender_addon import blender_io

    set_panel(user_scene, clip, weights_file)
    cube = bpy.data.objects["Cube"]
    cube_action, cube_keys = cube.animation_data.action, keys_of(cube)
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    first_names, first_keys = snapshot(), keys_of(bpy.data.objects["cam01_openpose_json"])

    set_panel(user_scene, clip, weights_file, smoothing="SAVGOL", replace_previous=True)
    calls, real = {"n": 0}, blender_io.write_keys

    def failing(*args):
        calls["n"] += 1
        if calls["n"] == 50:
            raise RuntimeError("simulated failure")
        real(*args)

    monkeypatch.setattr(blender_io, "write_keys", failing)
    with pytest.raises(RuntimeError, match="simulated failure"):
        bpy.ops.lfm.lift()
    assert snapshot() == first_names
    kept = keys_of(bpy.data.objects["cam01_openpose_json"])
    assert all(np.array_equal(kept[k], first_keys[k]) for k in first_keys)

    monkeypatch.setattr(blender_io, "write_keys", real)
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    assert snapshot() == first_names  # the same data-blocks by name: the new lift took the earlier one's names
    new = bpy.data.objects["cam01_openpose_json"]
    assert new.animation_data.action.name == "cam01_openpose_jsonAction.001"
    new_keys = keys_of(new)
    assert new_keys.keys() == first_keys.keys() and any(not np.allclose(new_keys[k], first_keys[k]) for k in first_keys)
    assert cube.animation_data.action == cube_action
    assert all(np.array_equal(v, cube_keys[k]) for k, v in keys_of(cube).items())
    assert bpy.context.scene.camera.name == "cam01_openpose_jsonCamera"


def test_replace_previous_gives_the_new_lift_the_plain_names(addon, clip, weights_file):
    """*Replace Previous Lift* twice: the same names as the first lift, nothing left over; after two lifts kept side
    by side (``X`` and ``X.001``), a replacing lift removes both and is named ``X``, not ``X.001``."""
    scene = bpy.context.scene
    set_panel(scene, clip, weights_file, clip_end=9, replace_previous=True)
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    first = snapshot()
    lifted = {k: v for k, v in first.items() if any(n.startswith("cam01_openpose_json") for n in v)}
    assert lifted and not any("." in n for names in lifted.values() for n in names)  # plain names
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    assert snapshot() == first
    scene.lift_to_3d.replace_previous = False
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    assert "cam01_openpose_json.001" in bpy.data.objects  # kept beside the first
    scene.lift_to_3d.replace_previous = True
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    assert snapshot() == first
    obj = bpy.data.objects["cam01_openpose_json"]
    assert obj.data.name == "cam01_openpose_json" and obj.animation_data.action.name == "cam01_openpose_jsonAction"
    assert scene.camera.name == "cam01_openpose_jsonCamera" and bpy.data.collections[0].name == "cam01_openpose_json"
