"""The Lift operator: read the panel's settings, run the engine's pipeline, write the result.

``LFM_OT_lift`` runs :func:`lfm_engine.pipeline.lift_steps` (one chunk of frames per step) through
:class:`.stepping.SteppedOperator`: from a modal timer when invoked from the UI, so the interface stays responsive,
the progress shows on the cursor and Esc cancels; from Python (``bpy.ops.lfm.lift()``) and in the background, the
same steps at once. Nothing is created until
the engine has finished; engine errors (:class:`lfm_engine.LFMError`) are reported and leave the scene as it was.
A successful run is one undo step.
"""

from __future__ import annotations

import bpy
from bpy.types import Operator

from . import blender_io, detection
from .engine import pipeline
from .properties import lift_settings, preferences, weights_note
from .stepping import SteppedOperator


class LiftSteps(SteppedOperator):
    """The lift as a stepped job: the panel's settings -> :func:`lfm_engine.pipeline.lift_steps` -> the scene. A
    mixin (with ``bpy.types.Operator``) of :class:`LFM_OT_lift` and of the contact re-solve
    (:class:`.contacts_ui.LFM_OT_resolve_contacts`), which change :meth:`_settings` and :meth:`_write_options`."""

    status = "Lift to 3D"
    cancelled = "Lift cancelled; nothing was created"

    # ------------------------------------------------------------------ running
    def _settings(self, context):
        """The engine's settings from the panel."""
        scene = context.scene
        return lift_settings(scene.lift_to_3d, preferences(context), scene.render.fps / scene.render.fps_base)

    def _write_options(self, context) -> dict:
        """Keyword arguments of :func:`.blender_io.write_clip` from the panel."""
        settings = context.scene.lift_to_3d
        return {"output": settings.output, "scene_start": settings.scene_start, "set_scene": settings.set_scene,
                "replace": settings.replace_previous}  # fmt: skip

    def _start(self, context) -> None:
        settings = context.scene.lift_to_3d
        note = weights_note(settings, preferences(context))
        if note:
            self.report({"WARNING"}, note[0].upper() + note[1:])
        self._steps = pipeline.lift_steps(bpy.path.abspath(settings.source_path), self._settings(context))

    def _write(self, context, result) -> set[str]:
        settings = context.scene.lift_to_3d
        created = blender_io.write_clip(context, result, **self._write_options(context))
        detection.attach_footage(result, created, scene_start=settings.scene_start)
        notes = f" ({'; '.join(result.notes)})" if result.notes else ""
        self.report({"INFO"}, f"Lifted {result.num_frames} frames of {result.name}{notes}")
        if result.warnings:
            self.report({"WARNING"}, warning_text(result))
        return {"FINISHED"}


class LFM_OT_lift(LiftSteps, Operator):
    """Lift the keypoints to an animated 3D armature (or empties), with a camera matching the footage"""

    bl_idname = "lfm.lift"
    bl_label = "Lift to 3D"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender's class attribute

    @classmethod
    def poll(cls, context):
        return can_lift(cls, context)


#: Where each assumed value (:attr:`lfm_engine.pipeline.LiftWarning.setting`) is set in the panel.
PANEL_FIELDS = {"image_size": "Camera > Width and Height", "fps": "Camera > Frame Rate"}


def warning_text(result) -> str:
    """The lift's warnings (:attr:`lfm_engine.pipeline.ClipResult.warnings`) with the panel fields that set them."""
    parts = [f"{w.message}; set {PANEL_FIELDS[w.setting]}" if w.setting in PANEL_FIELDS else w.message
             for w in result.warnings]  # fmt: skip
    return f"{result.name}: {'; '.join(parts)} (or Camera > Footage: the video they come from)"


def can_lift(cls, context) -> bool:
    """Whether a lift can run now (a source chosen, object mode); else False with the reason as poll message."""
    settings = getattr(context.scene, "lift_to_3d", None)
    if settings is None or not settings.source_path:
        cls.poll_message_set("Choose a keypoint file or folder first")
        return False
    if context.mode != "OBJECT":
        cls.poll_message_set("Switch to Object Mode first")
        return False
    return True


CLASSES = (LFM_OT_lift,)
