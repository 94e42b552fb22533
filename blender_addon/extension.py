"""The installed extension and what to tell its user when an optional part is missing.

The extension is built in two kinds (``build_addon.py``, docs/ADDON.md): the small ``lift_to_3d-<version>.zip``,
which lifts keypoint files, and one zip per Blender platform with MediaPipe's wheels for **Detect**
(``lift_to_3d-<version>-<platform>.zip``, ``build_addon.py --with-detection``). A Blender user cannot
``pip install`` into Blender, so when detection's packages are missing (:class:`lfm_engine.DependencyError` with
``extra == "detect"``) :func:`error_message` names the zip for this computer instead of the engine's pip advice.
"""

from __future__ import annotations

import platform as _platform
import sys
import tomllib
from pathlib import Path

from .engine import lfm_engine

#: The Blender platforms a zip with detection is built for (``build_wheels.PLATFORMS``; a test keeps them equal).
DETECTION_PLATFORMS = ("linux-x64", "windows-x64", "macos-arm64", "macos-x64")
MANIFEST = Path(__file__).resolve().parent / "blender_manifest.toml"


def manifest() -> dict:
    """The add-on's ``blender_manifest.toml`` (id, version, ...)."""
    with open(MANIFEST, "rb") as f:
        return tomllib.load(f)


def blender_platform(system: str | None = None, machine: str | None = None) -> str:
    """This computer's Blender platform name (``linux-x64``, ``windows-x64``, ``macos-arm64``, ``macos-x64``, or
    the ARM Linux and Windows ones); '' when unknown."""
    system = sys.platform if system is None else system
    arm = (_platform.machine() if machine is None else machine).lower() in ("arm64", "aarch64")
    for prefix, name in (("linux", "linux"), ("win", "windows"), ("cygwin", "windows"), ("darwin", "macos")):
        if system.startswith(prefix):
            return f"{name}-{'arm64' if arm else 'x64'}"
    return ""


def zip_name(platform: str | None = None) -> str:
    """``lift_to_3d-<version>.zip``, or with a platform the zip with detection for it,
    ``lift_to_3d-<version>-<platform>.zip`` (``-`` written ``_`` in the platform, as ``build_addon.zip_name``)."""
    meta = manifest()
    tail = f"-{platform.replace('-', '_')}" if platform else ""
    return f"{meta['id']}-{meta['version']}{tail}.zip"


def detection_advice(platform: str | None = None) -> str:
    """What to install for **Detect** on ``platform`` (default: this computer's)."""
    platform = blender_platform() if platform is None else platform
    if platform in DETECTION_PLATFORMS:
        return (f"install the extension zip with detection for this computer, {zip_name(platform)}, instead of "
                f"{zip_name()} (Edit > Preferences > Get Extensions > Install from Disk; the zips are built by "
                "'python build_addon.py --with-detection', see docs/ADDON.md)")  # fmt: skip
    shown = platform or "this computer"
    return (f"no extension zip with detection is built for {shown} (only for {', '.join(DETECTION_PLATFORMS)}): "
            "detect the keypoints elsewhere and lift the keypoint file here")  # fmt: skip


def error_message(exc: Exception) -> str:
    """The message to report for an engine error: for detection's missing packages, which zip to install (not the
    engine's ``pip install``, which a Blender user cannot follow); else the error's own message."""
    if isinstance(exc, lfm_engine.DependencyError) and exc.extra == "detect":
        missing = {"cv2": "OpenCV", "mediapipe": "MediaPipe"}.get(exc.package, exc.package or "its packages")
        return f"Detection needs {missing}, which this installation of Lift to 3D lacks: {detection_advice()}"
    return str(exc)
