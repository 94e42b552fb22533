"""Constants and helpers shared by the add-on tests (imported as ``addon_helpers``; the engine tests own
``helpers``)."""

from __future__ import annotations

from pathlib import Path

import bpy

from tests.conftest import SHARED_DATA

HERE = Path(__file__).resolve().parent
#: The real OpenPose clip: 100 frames, 1080x1920 portrait, 60 fps; the file names neither size nor rate.
CLIP = SHARED_DATA / "footage" / "pose2sim_balancing" / "cam01_openpose_json"
#: The clip's detector wrote OpenPose's BODY_25B layout (UpperNeck and HeadTop at 17 and 18, no MidHip), which
#: the reader tells from BODY_25 by the points' geometry; the tests name it all the same.
RIG = "openpose_body25b"
#: The camera of the clip: cam_01 of the Pose2Sim demo calibration (Calib_scene.toml: fx = fy = 1681 px for a
#: 1088x1920 sensor); the principal point is taken as the image centre. The same phone-style camera as
#: f = 0.875 x the image height.
CLIP_FOCAL = 1681.0
CLIP_SIZE = (1080, 1920)
CLIP_FPS = 60.0


def clip_settings(weights, **kw):
    """The engine settings the tests lift the real clip with (what the panel below sets)."""
    from lfm_engine.pipeline import LiftSettings

    return LiftSettings(rig=RIG, focal_length=CLIP_FOCAL, image_size=CLIP_SIZE, fps=CLIP_FPS,
                        weights=str(weights), **kw)  # fmt: skip


def set_weights(weights) -> None:
    """The weights in the add-on preferences (the one place they are set; the ``addon`` fixture enables the
    add-on)."""
    from blender_addon.properties import preferences

    preferences(bpy.context).weights_path = str(weights)


def set_panel(scene, source, weights, **kw) -> None:
    """Fill the panel's settings for the real clip (keyword arguments override; ``weights_path`` goes to the
    preferences)."""
    s = scene.lift_to_3d
    s.source_path = str(source)
    s.rig = RIG
    s.focal_length = CLIP_FOCAL
    s.image_width, s.image_height = CLIP_SIZE
    s.fps = CLIP_FPS
    set_weights(kw.pop("weights_path", weights))
    for key, value in kw.items():
        setattr(s, key, value)


def datablocks() -> dict[str, set[str]]:
    """Names of the data-blocks a lift may create."""
    return {kind: {i.name for i in getattr(bpy.data, kind)}
            for kind in ("objects", "armatures", "actions", "cameras", "collections", "meshes")}  # fmt: skip


def fcurves_of(obj) -> list:
    """The F-curves animating ``obj`` (Blender 5.0 layered actions, or legacy ``action.fcurves``)."""
    action = obj.animation_data.action
    if hasattr(action, "fcurves"):
        return list(action.fcurves)
    from bpy_extras import anim_utils

    return list(anim_utils.action_get_channelbag_for_slot(action, obj.animation_data.action_slot).fcurves)


def motion_fcurves_of(obj) -> list:
    """:func:`fcurves_of` without the foot-contact channels (``["Contact ..."]``, test_addon_contacts.py)."""
    return [c for c in fcurves_of(obj) if not c.data_path.startswith('["Contact ')]
