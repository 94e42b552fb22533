"""The Lift operator: read the panel's settings, run the engine's pipeline, write the result.

``LFM_OT_lift`` runs :func:`lfm_engine.pipeline.lift_steps` (one chunk of frames per step) from a modal timer when
invoked from the UI, so the interface stays responsive, the progress shows on the cursor and Esc cancels; from
Python (``bpy.ops.lfm.lift()``) and in the background it runs the same steps at once. Nothing is created until
the engine has finished; engine errors (:class:`lfm_engine.LFMError`) are reported and leave the scene as it was.
A successful run is one undo step.
"""

from __future__ import annotations

import bpy
from bpy.types import Operator

from . import blender_io, detection
from .engine import LFMError, pipeline
from .properties import lift_settings, preferences


class LFM_OT_lift(Operator):
    """Lift the keypoints to an animated 3D armature (or empties), with a camera matching the footage"""

    bl_idname = "lfm.lift"
    bl_label = "Lift to 3D"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender's class attribute

    _steps = None
    _timer = None

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
        options = lift_settings(
            settings, preferences(context), context.scene.render.fps / context.scene.render.fps_base
        )
        self._steps = pipeline.lift_steps(bpy.path.abspath(settings.source_path), options)

    def _stop(self, context) -> None:
        if self._steps is not None:
            self._steps.close()
            self._steps = None
        wm = context.window_manager
        if self._timer is not None:
            wm.event_timer_remove(self._timer)
            self._timer = None
            wm.progress_end()
            context.workspace.status_text_set(None)

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

    def execute(self, context):
        try:
            self._start(context)
            while True:
                next(self._steps)
        except StopIteration as stop:
            self._steps = None
            return self._write(context, stop.value)
        except LFMError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        finally:
            self._stop(context)

    def invoke(self, context, event):
        if context.window is None:  # background: no event loop to step from
            return self.execute(context)
        try:
            self._start(context)
        except LFMError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.01, window=context.window)
        wm.progress_begin(0, 1000)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "ESC":
            self._stop(context)
            self.report({"WARNING"}, "Lift cancelled; nothing was created")
            return {"CANCELLED"}
        if event.type != "TIMER" or self._steps is None:
            return {"PASS_THROUGH"}
        try:
            done, total = next(self._steps)
        except StopIteration as stop:
            self._steps = None
            self._stop(context)
            return self._write(context, stop.value)
        except LFMError as exc:
            self._stop(context)
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        context.window_manager.progress_update(int(1000 * done / max(total, 1)))
        context.workspace.status_text_set(f"Lift to 3D: {done} of {total} frames (Esc to cancel)")
        return {"RUNNING_MODAL"}

    def cancel(self, context):
        self._stop(context)


CLASSES = (LFM_OT_lift,)
