"""The foot-contact UI: the "Foot Contacts" sub-panel, ``LFM_OT_set_contact`` and ``LFM_OT_resolve_contacts``.

What the contacts are and how they are stored: :mod:`.contacts`.
"""

from __future__ import annotations

from dataclasses import replace

import bpy
from bpy.props import BoolProperty, IntProperty, StringProperty
from bpy.types import Operator, Panel

from . import blender_io
from .contacts import FEET_KEY, PREFIX, SOURCE_KEY, lifted_object, read_contacts, set_contact
from .engine import LFMError
from .operators import LiftSteps, can_lift


class LFM_OT_set_contact(Operator):
    """Plant or release a foot on the current frame (or on a range of frames), keying its contact property"""

    bl_idname = "lfm.set_contact"
    bl_label = "Set Foot Contact"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender's class attribute

    foot: StringProperty(name="Foot", description="The foot's contact property, e.g. 'Contact LAnkle'")
    planted: BoolProperty(name="Planted", default=True)
    use_range: BoolProperty(name="Range", description="A range of frames instead of the current one")
    frame_start: IntProperty(name="Start", default=1)
    frame_end: IntProperty(name="End", default=1)

    @classmethod
    def poll(cls, context):
        if lifted_object(context) is None:
            cls.poll_message_set("Select an armature lifted with the Clip Solver on")
            return False
        return True

    def execute(self, context):
        obj = lifted_object(context)
        first, last = (self.frame_start, self.frame_end) if self.use_range else (context.scene.frame_current,) * 2
        try:
            n = set_contact(obj, self.foot, self.planted, min(first, last), max(first, last))
        except LFMError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        state = "planted" if self.planted else "released"
        self.report({"INFO"}, f"{self.foot[len(PREFIX) :]} {state} on {n} frame(s); Re-solve Clip to apply")
        return {"FINISHED"}


class LFM_OT_resolve_contacts(LiftSteps, Operator):
    """Lift the clip again with the foot contacts as keyed on the selected lift (replacing it)"""

    bl_idname = "lfm.resolve_contacts"
    bl_label = "Re-solve Clip"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender's class attribute
    status = "Re-solving the clip"
    cancelled = "Re-solve cancelled; the lift is as it was"

    @classmethod
    def poll(cls, context):
        if lifted_object(context) is None:
            cls.poll_message_set("Select an armature lifted with the Clip Solver on")
            return False
        return can_lift(cls, context)

    def _start(self, context) -> None:
        obj = lifted_object(context)
        source = bpy.path.abspath(context.scene.lift_to_3d.source_path)
        lifted_from = obj.get(SOURCE_KEY, "")
        if bpy.path.abspath(lifted_from) != source:
            raise LFMError(f"'{obj.name}' was lifted from {lifted_from}, but the panel's keypoints are {source}: "
                           "set them back to re-solve it")  # fmt: skip
        if not context.scene.lift_to_3d.solve_clip:
            raise LFMError("the Clip Solver is off in the panel: turn it on to re-solve the contacts")
        self._overrides = read_contacts(obj)
        self._name = obj.get(blender_io.TAG)
        super()._start(context)

    def _settings(self, context):
        return replace(super()._settings(context), contact_overrides=self._overrides)

    def _write_options(self, context) -> dict:
        return {**super()._write_options(context), "replace": True, "name": self._name}


class LFM_PT_contacts(Panel):
    bl_label = "Foot Contacts"
    bl_idname = "LFM_PT_contacts"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Lift to 3D"
    bl_parent_id = "LFM_PT_main"

    @classmethod
    def poll(cls, context):
        return lifted_object(context) is not None

    def draw(self, context):
        obj = lifted_object(context)
        layout = self.layout
        frame = context.scene.frame_current
        layout.label(text=f"Frame {frame}: 1 = planted (keyed; edit, then Re-solve)")
        for key in obj[FEET_KEY]:
            row = layout.row(align=True)
            row.prop(obj, f'["{key}"]', text=key[len(PREFIX) :])
            op = row.operator("lfm.set_contact", text="", icon="PINNED")
            op.foot, op.planted = key, True
            op = row.operator("lfm.set_contact", text="", icon="UNPINNED")
            op.foot, op.planted = key, False
        layout.operator("lfm.resolve_contacts", icon="FILE_REFRESH")


CLASSES = (LFM_OT_set_contact, LFM_OT_resolve_contacts, LFM_PT_contacts)
