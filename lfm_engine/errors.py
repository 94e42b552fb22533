"""The engine's one exception family.

Every error the engine raises on purpose derives from :class:`LFMError`, so callers (the Blender operators, the
batch script) can catch one type and show its message. Messages name the file, frame or joint and what is wrong.
"""

from __future__ import annotations


class LFMError(Exception):
    """Base class of every error raised on purpose by ``lfm_engine``."""


class RigError(LFMError, ValueError):
    """A skeleton definition is invalid (bad edges, duplicate names, cycles in a parents list, ...)."""


class InputError(LFMError, ValueError):
    """Keypoints given to the engine have the wrong shape, type or values."""


class WeightsError(LFMError):
    """A weights file is missing, unreadable, or does not match the model it claims to hold."""


class DependencyError(LFMError, ImportError):
    """An optional package that a feature needs cannot be imported.

    Attributes:
        package: the module that failed (``"mediapipe"``, ``"cv2"``).
        extra: the ``lfm_engine`` extra that installs it (``"detect"``), which callers may turn into advice of their
            own (the Blender add-on names the extension zip to install instead).
    """

    def __init__(self, message: str, *, package: str = "", extra: str = ""):
        super().__init__(message)
        self.package = package
        self.extra = extra


#: What Python and numpy raise when a value given as a number is not a usable one: the wrong type, text, a ragged
#: nested list, an integer beyond the float or int64 range. Code that converts input catches these and raises an
#: :class:`InputError` (or the error type of what it reads) naming the value's place.
CONVERSION_ERRORS = (TypeError, ValueError, OverflowError)
