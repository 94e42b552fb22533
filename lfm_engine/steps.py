"""Running the engine's step generators to the end.

The long jobs (:func:`lfm_engine.pipeline.lift_steps`, :func:`lfm_engine.detect.detect_steps`) are generators
that yield ``(done, total)`` after each chunk and return their result, so that a caller such as a modal Blender
operator can step them and stop between chunks. :func:`run_to_end` drives one for callers that just want the
result.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeVar

T = TypeVar("T")


def run_to_end(steps: Generator[tuple[int, int], None, T], progress: Callable[[int, int], object] | None = None) -> T:
    """Step ``steps`` to its end and return its result, calling ``progress(done, total)`` after each step.

    Raising from ``progress`` cancels: the generator is closed either way.
    """
    try:
        while True:
            done, total = next(steps)
            if progress is not None:
                progress(done, total)
    except StopIteration as stop:
        return stop.value
    finally:
        steps.close()
