"""Running an engine generator from an operator: all at once, or step by step from a modal timer.

The engine's long jobs (:func:`lfm_engine.pipeline.lift_steps`, :func:`lfm_engine.detect.detect_steps`) are
generators that yield ``(done, total)`` after each chunk and return their result. :class:`SteppedOperator` runs one:
invoked from the UI, one step per timer event, so the interface stays responsive, the progress shows on the
cursor and in the status bar, and Esc cancels (closing the generator: nothing was written yet); from Python
(``bpy.ops...()``) and in the background, every step at once. Either way the result is written in one final step,
and engine errors (:class:`lfm_engine.LFMError`) are reported (:func:`.extension.error_message`: detection's missing
packages name the zip to install) and leave the scene as it was.
"""

from __future__ import annotations

from .engine import LFMError
from .extension import error_message


class SteppedOperator:
    """Mixin for an ``Operator`` that runs an engine generator (list it before ``bpy.types.Operator``).

    Subclasses set :attr:`status` (the status bar's label) and :attr:`cancelled` (the message on Esc), and define
    ``_start(context)``, which sets ``self._steps`` to the generator, and ``_write(context, result)``, which writes
    the generator's result into Blender and returns the operator's result set.
    """

    status = "Working"
    cancelled = "Cancelled; nothing was created"
    _steps = None
    _timer = None

    def _start(self, context) -> None:
        raise NotImplementedError

    def _write(self, context, result) -> set[str]:
        raise NotImplementedError

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

    def execute(self, context):
        try:
            self._start(context)
            while True:
                next(self._steps)
        except StopIteration as stop:
            self._steps = None
            return self._write(context, stop.value)
        except LFMError as exc:
            self.report({"ERROR"}, error_message(exc))
            return {"CANCELLED"}
        finally:
            self._stop(context)

    def invoke(self, context, event):
        if context.window is None:  # background: no event loop to step from
            return self.execute(context)
        try:
            self._start(context)
        except LFMError as exc:
            self.report({"ERROR"}, error_message(exc))
            return {"CANCELLED"}
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.01, window=context.window)
        wm.progress_begin(0, 1000)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        if event.type == "ESC":
            self._stop(context)
            self.report({"WARNING"}, self.cancelled)
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
            self.report({"ERROR"}, error_message(exc))
            return {"CANCELLED"}
        context.window_manager.progress_update(int(1000 * done / max(total, 1)))
        context.workspace.status_text_set(f"{self.status}: {done} of {total} frames (Esc to cancel)")
        return {"RUNNING_MODAL"}

    def cancel(self, context):
        self._stop(context)
