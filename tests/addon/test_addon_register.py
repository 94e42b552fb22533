"""Registration of the add-on from the source tree, and the shape of its package."""

from __future__ import annotations

import tomllib

import bpy
import pytest
from addon_helpers import HERE

ROOT = HERE.parents[1]


def _registered() -> dict[str, bool]:
    import blender_addon

    return {
        **{cls.__name__: cls.is_registered for cls in blender_addon.CLASSES},
        "operator type": hasattr(bpy.types, "LFM_OT_lift"),
        "panel type": hasattr(bpy.types, "LFM_PT_main"),
        "scene property": hasattr(bpy.types.Scene, "lift_to_3d"),
        "detect property": hasattr(bpy.types.Scene, "lift_to_3d_detect"),
        "bpy.ops.lfm.detect": "detect" in dir(bpy.ops.lfm),
        "bpy.ops.lfm.lift": "lift" in dir(bpy.ops.lfm),
    }


def test_register_unregister_register_round_trip():
    import blender_addon

    assert not any(_registered().values())
    for _ in range(2):
        blender_addon.register()
        assert all(_registered().values()), _registered()
        scene = bpy.context.scene
        assert scene.lift_to_3d.rig == "FILE"
        assert scene.lift_to_3d.height == pytest.approx(1.75)
        assert not bpy.ops.lfm.lift.poll()  # no keypoints chosen yet
        blender_addon.unregister()
        assert not any(_registered().values()), _registered()


def test_classes_and_symmetric_order():
    import blender_addon
    from blender_addon import detection, operators, panels, properties, retarget_ui

    for module in (properties, operators, panels, detection, retarget_ui):
        assert isinstance(module.CLASSES, tuple) and module.CLASSES
    assert (
        *properties.CLASSES,
        *operators.CLASSES,
        *panels.CLASSES,
        *detection.CLASSES,
        *retarget_ui.CLASSES,
    ) == blender_addon.CLASSES
    names = [c.__name__ for c in blender_addon.CLASSES]
    assert "LFM_OT_lift" in names and "LFM_PT_main" in names and "LFM_Preferences" in names
    assert properties.LFM_Preferences.bl_idname == "blender_addon"  # __package__
    assert panels.LFM_PT_main.bl_category == "Lift to 3D"
    assert operators.LFM_OT_lift.bl_options == {"REGISTER", "UNDO"}


def test_manifest():
    with open(ROOT / "blender_addon" / "blender_manifest.toml", "rb") as f:
        m = tomllib.load(f)
    assert m["schema_version"] == "1.0.0"
    assert m["id"] == "lift_to_3d"
    assert m["blender_version_min"] == "4.2.0"
    assert m["license"] == ["SPDX:GPL-3.0-or-later"]
    assert "files" in m["permissions"]
    assert m["type"] == "add-on"


def test_engine_comes_from_the_source_tree():
    from blender_addon import engine

    assert not engine.VENDORED and engine.ENGINE_NAME == "lfm_engine"


def test_registering_imports_no_heavy_module():
    """Blender's start-up stays fast: registering the add-on imports neither torch nor mediapipe/OpenCV/scipy."""
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, bpy, blender_addon\n"
        "blender_addon.register()\n"
        "heavy = [m for m in ('torch', 'mediapipe', 'cv2', 'scipy', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, f'registering the add-on imported {heavy}'\n"
        # Blender 4.2's bpy module segfaults at exit while a class with a draw() is registered by hand.
        "blender_addon.unregister()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])
