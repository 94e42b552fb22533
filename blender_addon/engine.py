"""The engine this add-on runs: ``lfm_engine``, vendored or from Python's path.

The built extension (``build_addon.py``) carries a copy of ``lfm_engine`` inside the add-on package
(``<package>/lfm_engine``), imported relatively so that it never clashes with another copy. Run from the source
tree (tests, ``python blender_addon/batch.py``), the add-on uses the ``lfm_engine`` package importable from Python.
The rest of the add-on imports the engine only through this module.
"""

from __future__ import annotations

import importlib
from pathlib import Path

#: True when the engine is the copy vendored in the extension.
VENDORED = (Path(__file__).resolve().parent / "lfm_engine" / "__init__.py").is_file()
#: The engine's package name.
ENGINE_NAME = f"{__package__}.lfm_engine" if VENDORED and __package__ else "lfm_engine"

lfm_engine = importlib.import_module(ENGINE_NAME)
armature = importlib.import_module(ENGINE_NAME + ".armature")
detect = importlib.import_module(ENGINE_NAME + ".detect")
io = importlib.import_module(ENGINE_NAME + ".io")
pipeline = importlib.import_module(ENGINE_NAME + ".pipeline")
retarget = importlib.import_module(ENGINE_NAME + ".retarget")
solver = importlib.import_module(ENGINE_NAME + ".solver")
weights = importlib.import_module(ENGINE_NAME + ".weights")

LFMError = lfm_engine.LFMError
available_rigs = lfm_engine.available_rigs
DEFAULT_WEIGHTS = weights.DEFAULT_WEIGHTS

__all__ = [
    "DEFAULT_WEIGHTS",
    "ENGINE_NAME",
    "VENDORED",
    "LFMError",
    "armature",
    "available_rigs",
    "detect",
    "io",
    "lfm_engine",
    "pipeline",
    "retarget",
    "solver",
    "weights",
]
