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


class LFM_OT_lift(SteppedOperator, Operator):
    """Lift the keypoints to an animated 3D armature (or empties), with a camera matching the footage"""

    bl_idname = "lfm.lift"
    bl_label = "Lift to 3D"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender's class attribute
    status = "Lift to 3D"
    cancelled = "Lift cancelled; nothing was created"

    @classmethod
    def poll(cls, context):
        settings = getattr(context.scene, "lift_to_3d", None)
        if settings is None or not settings.source_path:
            cls.poll_message_set("Choose a keypoint file or folder first")
            return False
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode first")
            return False
        return True

    # ------------------------------------------------------------------ running
    def _start(self, context) -> None:
        settings = context.scene.lift_to_3d
        prefs = preferences(context)
        options = lift_settings(settings, prefs, context.scene.render.fps / context.scene.render.fps_base)
        note = weights_note(settings, prefs)
        if note:
            self.report({"WARNING"}, note[0].upper() + note[1:])
        self._steps = pipeline.lift_steps(bpy.path.abspath(settings.source_path), options)

    def _write(self, context, result) -> set[str]:
        settings = context.scene.lift_to_3d
        created = blender_io.write_clip(
            context,
            result,
            output=settings.output,
            scene_start=settings.scene_start,
            set_scene=settings.set_scene,
            replace=settings.replace_previous,
        )
        detection.attach_footage(result, created, scene_start=settings.scene_start)
        notes = f" ({'; '.join(result.notes)})" if result.notes else ""
        self.report({"INFO"}, f"Lifted {result.num_frames} frames of {result.name}{notes}")
        return {"FINISHED"}


CLASSES = (LFM_OT_lift,)
