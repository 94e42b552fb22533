"""Registration of the add-on from the source tree, and the shape of its package."""

from __future__ import annotations

import tomllib

import bpy
import pytest
from addon_helpers import HERE, set_panel

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
    from blender_addon import contacts_ui, detection, operators, panels, properties, retarget_ui

    for module in (properties, operators, panels, contacts_ui, detection, retarget_ui):
        assert isinstance(module.CLASSES, tuple) and module.CLASSES
    assert (
        *properties.CLASSES,
        *operators.CLASSES,
        *detection.CLASSES,
        *panels.CLASSES,
        *contacts_ui.CLASSES,
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


def test_detect_comes_first_in_the_tab():
    """The tab's panels in the order of the steps: Detect in Footage, Lift to 3D, Retarget (registration order and
    bl_order agree); Detect is a panel of its own, not a sub-panel drawn under the Lift panel's settings."""
    import blender_addon

    panels = [c for c in blender_addon.CLASSES if issubclass(c, bpy.types.Panel) and c.bl_category == "Lift to 3D"]
    tab = [c for c in panels if not getattr(c, "bl_parent_id", "")]
    assert [c.bl_idname for c in tab] == ["LFM_PT_detect", "LFM_PT_main", "LFM_PT_retarget"]
    assert [c.bl_order for c in tab] == [0, 1, 2]
    # the only sub-panel: the foot contacts of the active lift, under the Lift panel (registered after it)
    assert [(c.bl_idname, c.bl_parent_id) for c in panels if c not in tab] == [("LFM_PT_contacts", "LFM_PT_main")]
    assert "DEFAULT_CLOSED" not in getattr(tab[0], "bl_options", set())  # the first step is open


def test_the_weights_are_set_in_one_place(addon):
    """One weights setting, in the add-on preferences; no scene setting beside it."""
    import blender_addon
    from blender_addon import properties

    found = [f"{cls.__name__}.{p.identifier}" for cls in blender_addon.CLASSES if hasattr(cls, "bl_rna")
             for p in cls.bl_rna.properties if "weight" in p.identifier]  # fmt: skip
    assert found == ["LFM_Preferences.weights_path"]
    assert "weights_path" not in bpy.types.Scene.bl_rna.properties["lift_to_3d"].fixed_type.properties
    assert properties.preferences(bpy.context) is not None  # enabled as an add-on, the preferences exist


def test_a_scene_with_the_old_weights_setting_still_lifts_and_is_told(addon, clip, weights_file, tmp_path, capfd):
    """A scene saved by an older version keeps its own weights path (an ID property now): with none in the
    preferences it is used, and the lift says where the weights are set now; with the preferences' set, those
    are used and the lift says the scene's is ignored."""
    from blender_addon import properties

    scene = bpy.context.scene
    set_panel(scene, clip, "", clip_end=9)
    scene.lift_to_3d[properties.LEGACY_WEIGHTS_KEY] = str(weights_file)  # what an older version saved
    prefs = properties.preferences(bpy.context)
    assert properties.lift_settings(scene.lift_to_3d, prefs, 30.0).weights == str(weights_file)
    capfd.readouterr()
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    out = capfd.readouterr().out
    assert "older version" in out and str(weights_file) in out and "Preferences" in out
    other = tmp_path / "other.safetensors"
    other.write_bytes(weights_file.read_bytes())
    prefs.weights_path = str(other)
    assert properties.lift_settings(scene.lift_to_3d, prefs, 30.0).weights == str(other)
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    assert "is ignored" in capfd.readouterr().out
