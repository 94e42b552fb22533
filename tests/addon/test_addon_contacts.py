"""Foot contacts on a lift: keyed per frame from the clip solver, edited, and solved again (issue 16)."""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from addon_helpers import clip_settings, datablocks, set_panel


def _lift(clip, weights, **kw):
    set_panel(bpy.context.scene, clip, weights, **kw)
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    return bpy.context.view_layer.objects.active


def test_contacts_are_keyed_per_frame_as_the_solver_planted_them(addon, clip, weights_file):
    from blender_addon import contacts
    from lfm_engine import pipeline
    from lfm_engine.solver import ALWAYS, NEVER

    obj = _lift(clip, weights_file)
    expected = pipeline.run(clip, clip_settings(weights_file)).solution
    keys = list(obj[contacts.FEET_KEY])
    assert keys == ["Contact LAnkle", "Contact RAnkle"] and len(expected.feet) == 2
    assert list(obj[contacts.FRAMES_KEY]) == list(range(1, 1 + len(expected.contacts)))
    read = contacts.read_contacts(obj)  # (T, 2)
    np.testing.assert_array_equal(read, np.where(expected.contacts, ALWAYS, NEVER))
    assert 0 < expected.contacts.sum() < expected.contacts.size  # the clip has planted and free frames
    # the values are keys of the object's action, constant between frames (a contact is on or off)
    fcurve = contacts._fcurve_of(obj, f'["{keys[0]}"]')
    assert fcurve is not None and len(fcurve.keyframe_points) == len(expected.contacts)
    assert {p.interpolation for p in fcurve.keyframe_points} == {"CONSTANT"}


def test_edited_contacts_are_solved_again_and_replace_the_lift(addon, clip, weights_file):
    from blender_addon import contacts
    from lfm_engine import pipeline
    from lfm_engine.solver import ALWAYS, NEVER

    obj = _lift(clip, weights_file)
    name, T = obj.name, len(obj[contacts.FRAMES_KEY])
    before = datablocks()
    # release the left foot everywhere, plant the right one on frames 10-30, through the panel's operator
    assert bpy.ops.lfm.set_contact(foot="Contact LAnkle", planted=False, use_range=True, frame_start=1,
                                   frame_end=T) == {"FINISHED"}  # fmt: skip
    assert bpy.ops.lfm.set_contact(foot="Contact RAnkle", planted=True, use_range=True, frame_start=10,
                                   frame_end=30) == {"FINISHED"}  # fmt: skip
    edited = contacts.read_contacts(obj)
    assert (edited[:, 0] == NEVER).all() and (edited[9:30, 1] == ALWAYS).all()

    assert bpy.ops.lfm.resolve_contacts() == {"FINISHED"}
    new = bpy.context.view_layer.objects.active
    assert new.name == name and new is not obj
    assert datablocks()["objects"] == before["objects"]  # the earlier lift was replaced, not kept beside
    np.testing.assert_array_equal(contacts.read_contacts(new), edited)
    # the same as the engine solving with these overrides
    solution = pipeline.run(clip, clip_settings(weights_file, contact_overrides=edited)).solution
    np.testing.assert_array_equal(solution.contacts, edited == ALWAYS)


def test_resolve_refuses_other_keypoints_and_leaves_the_scene(addon, clip, weights_file, tmp_path):
    _lift(clip, weights_file)
    before = datablocks()
    bpy.context.scene.lift_to_3d.source_path = str(tmp_path / "other.json")
    with pytest.raises(RuntimeError, match="was lifted from"):
        bpy.ops.lfm.resolve_contacts()
    with pytest.raises(RuntimeError, match="no foot contact 'Contact Tail'"):
        bpy.ops.lfm.set_contact(foot="Contact Tail")
    assert datablocks() == before


def test_no_contacts_without_the_solver_and_on_empties(addon, clip, weights_file):
    from blender_addon import contacts

    obj = _lift(clip, weights_file, solve_clip=False)
    assert contacts.FEET_KEY not in obj
    assert not bpy.ops.lfm.set_contact.poll()
    with pytest.raises(contacts.LFMError, match="no foot contacts"):
        contacts.read_contacts(obj)
    root = _lift(clip, weights_file, output="EMPTIES", solve_clip=True)
    assert list(root[contacts.FEET_KEY]) == ["Contact LAnkle", "Contact RAnkle"]
    assert contacts.read_contacts(root).shape == (len(root[contacts.FRAMES_KEY]), 2)


class _Layout:
    """Records what a panel draws (a stand-in for ``UILayout`` outside a window)."""

    def __init__(self):
        self.props, self.operators, self.labels = [], [], []

    def row(self, **kw):
        return self

    def label(self, text="", **kw):
        self.labels.append(text)

    def prop(self, data, path, **kw):
        data.path_resolve(path)  # the property the panel shows exists
        self.props.append(path)

    def operator(self, idname, **kw):
        op = type("Op", (), {})()
        self.operators.append((idname, op))
        return op


def test_the_panel_shows_each_foot_with_plant_release_and_resolve(addon, clip, weights_file):
    from types import SimpleNamespace

    from blender_addon import contacts_ui

    _lift(clip, weights_file)
    assert contacts_ui.LFM_PT_contacts.poll(bpy.context)
    panel = SimpleNamespace(layout=_Layout())
    contacts_ui.LFM_PT_contacts.draw(panel, bpy.context)
    assert panel.layout.props == ['["Contact LAnkle"]', '["Contact RAnkle"]']
    ops = [(name, getattr(op, "foot", None), getattr(op, "planted", None)) for name, op in panel.layout.operators]
    assert ops == [("lfm.set_contact", "Contact LAnkle", True), ("lfm.set_contact", "Contact LAnkle", False),
                   ("lfm.set_contact", "Contact RAnkle", True), ("lfm.set_contact", "Contact RAnkle", False),
                   ("lfm.resolve_contacts", None, None)]  # fmt: skip
    bpy.context.view_layer.objects.active = None
    assert not contacts_ui.LFM_PT_contacts.poll(bpy.context)
