"""Failures leave the scene as it was: engine errors are reported, a failed write is rolled back, Esc cancels."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import bpy
import pytest
from addon_helpers import datablocks, set_panel


def _scene_settings(scene) -> tuple:
    r = scene.render
    return (scene.camera, r.resolution_x, r.resolution_y, r.fps, r.fps_base, scene.frame_start, scene.frame_end)


@pytest.fixture
def busy_scene():
    """A scene with something in it already, to check that nothing of it changes."""
    bpy.ops.mesh.primitive_cube_add()
    cam = bpy.data.objects.new("ExistingCamera", bpy.data.cameras.new("ExistingCamera"))
    bpy.context.scene.collection.objects.link(cam)
    bpy.context.scene.camera = cam
    return bpy.context.scene


def test_corrupt_input_changes_nothing_and_reports(addon, clip, weights_file, tmp_path, busy_scene):
    broken = tmp_path / "cam01_openpose_json"
    shutil.copytree(clip, broken)
    victim = broken / "cam01.0050.json"
    victim.write_bytes(victim.read_bytes()[:120])  # truncated mid-way
    set_panel(busy_scene, broken, weights_file)
    before, settings = datablocks(), _scene_settings(busy_scene)
    with pytest.raises(RuntimeError, match=r"cam01\.0050\.json: not valid JSON"):
        bpy.ops.lfm.lift()  # an ERROR report raises when an operator is called from Python
    assert datablocks() == before
    assert _scene_settings(busy_scene) == settings


@pytest.mark.parametrize(
    ("panel", "message"),
    [
        ({"weights_path": "/nonexistent/w.safetensors"}, "w.safetensors"),
        ({"rig": "coco17"}, "has 17 joints but the file has 25"),
        ({"rig": "CUSTOM", "rig_file": ""}, "no rig file is chosen"),
        ({"clip_start": 500}, "start frame 500 is outside the clip"),
    ],
)
def test_engine_errors_are_reported(addon, clip, weights_file, busy_scene, panel, message):
    set_panel(busy_scene, clip, weights_file, **panel)
    before = datablocks()
    with pytest.raises(RuntimeError, match=message):
        bpy.ops.lfm.lift()
    assert datablocks() == before


def test_failure_while_writing_removes_what_was_made(addon, clip, weights_file, busy_scene, monkeypatch):
    from blender_addon import blender_io

    calls = {"n": 0}
    real = blender_io.write_keys

    def failing(*args):
        calls["n"] += 1
        if calls["n"] == 30:  # midway through the bones
            raise RuntimeError("disk full (simulated)")
        real(*args)

    monkeypatch.setattr(blender_io, "write_keys", failing)
    set_panel(busy_scene, clip, weights_file)
    before, settings = datablocks(), _scene_settings(busy_scene)
    active = bpy.context.view_layer.objects.active
    with pytest.raises(RuntimeError, match="disk full"):
        bpy.ops.lfm.lift()
    assert calls["n"] == 30
    assert datablocks() == before
    assert _scene_settings(busy_scene) == settings
    assert bpy.context.view_layer.objects.active == active
    assert bpy.context.mode == "OBJECT"


# ---------------------------------------------------------------------- the modal path, driven by hand
class _FakeWindowManager:
    def __init__(self):
        self.progress = []
        self.timer_removed = False
        self.ended = False

    def progress_update(self, value):
        self.progress.append(value)

    def event_timer_remove(self, timer):
        self.timer_removed = True

    def progress_end(self):
        self.ended = True


def _modal_operator():
    """An object carrying ``LFM_OT_lift``'s methods (Blender operators cannot be made outside ``bpy.ops``)."""
    from blender_addon.operators import LFM_OT_lift

    class Op:
        _steps = None
        _timer = "timer"
        _start, _stop, _write, modal = LFM_OT_lift._start, LFM_OT_lift._stop, LFM_OT_lift._write, LFM_OT_lift.modal
        _settings, _write_options = LFM_OT_lift._settings, LFM_OT_lift._write_options
        status, cancelled = LFM_OT_lift.status, LFM_OT_lift.cancelled

        def __init__(self):
            self.reports = []

        def report(self, kind, message):
            self.reports.append((set(kind), message))

    return Op()


def _context():
    ctx = bpy.context
    return SimpleNamespace(
        scene=ctx.scene, view_layer=ctx.view_layer, preferences=ctx.preferences, window_manager=_FakeWindowManager(),
        workspace=SimpleNamespace(status_text_set=lambda text: None),
    )  # fmt: skip


def test_modal_steps_then_escape_cancels_with_nothing_made(addon, clip, weights_file, monkeypatch):
    from lfm_engine import pipeline

    monkeypatch.setattr(pipeline, "MAX_CHUNK_FRAMES", 10)  # 10 steps for the 100 frames
    set_panel(bpy.context.scene, clip, weights_file)
    op, ctx = _modal_operator(), _context()
    op._start(ctx)
    steps = op._steps
    timer, esc = SimpleNamespace(type="TIMER"), SimpleNamespace(type="ESC")
    before = datablocks()
    assert op.modal(ctx, SimpleNamespace(type="MOUSEMOVE")) == {"PASS_THROUGH"}
    for _ in range(4):
        assert op.modal(ctx, timer) == {"RUNNING_MODAL"}
    assert ctx.window_manager.progress == [0, 100, 200, 300]
    assert op.modal(ctx, esc) == {"CANCELLED"}
    assert steps.gi_frame is None  # the generator was closed
    assert ctx.window_manager.timer_removed and ctx.window_manager.ended
    assert datablocks() == before
    assert op.reports[-1][0] == {"WARNING"}


def test_modal_runs_to_the_end(addon, clip, weights_file):
    set_panel(bpy.context.scene, clip, weights_file)
    op, ctx = _modal_operator(), _context()
    op._start(ctx)
    timer = SimpleNamespace(type="TIMER")
    outcome = None
    for _ in range(100):
        outcome = op.modal(ctx, timer)
        if outcome != {"RUNNING_MODAL"}:
            break
    assert outcome == {"FINISHED"}
    assert ctx.window_manager.progress[-1] == 1000
    assert len(bpy.data.armatures) == 1 and op.reports[-1][0] == {"INFO"}
