"""The add-on's settings: per scene (:class:`LFM_SceneSettings`, ``scene.lift_to_3d``) and in the preferences.

Blender-facing only; :func:`lift_settings` turns them into the engine's :class:`lfm_engine.pipeline.LiftSettings`.
"""

from __future__ import annotations

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, PointerProperty, StringProperty
from bpy.types import AddonPreferences, PropertyGroup

from .engine import DEFAULT_WEIGHTS, LFMError, available_rigs, pipeline

RIG_FROM_FILE = "FILE"
RIG_CUSTOM = "CUSTOM"
RIG_ITEMS = [
    (RIG_FROM_FILE, "From File", "The skeleton the keypoint file names (e.g. OpenPose BODY_25, COCO-17)"),
    *[(name, name, f"The standard '{name}' layout") for name in available_rigs()],
    (RIG_CUSTOM, "Custom Rig File", "A JSON rig file: joint_names and edges or parents (lfm_engine.Rig.to_dict)"),
]
SMOOTHING_ITEMS = [
    ("NONE", "None", "No temporal smoothing"),
    ("ONE_EURO", "One-Euro", "Adaptive low-pass: smooths slow motion, follows fast motion"),
    ("SAVGOL", "Savitzky-Golay", "Local quadratic fit over a window of frames"),
]
SMOOTHING_METHODS = {"NONE": "none", "ONE_EURO": "one_euro", "SAVGOL": "savgol"}
OUTPUT_ITEMS = [
    ("ARMATURE", "Armature", "An armature with one bone per rig link, keyed rotations and root location"),
    ("EMPTIES", "Empties", "One empty per joint with location keys (the lifted points as they are)"),
]
WHOLE_BODY_ITEMS = [
    ("PARTS", "By Parts", "MediaPipe whole-body keypoints: body, hands and face lifted alone, attached at the wrists "
     "and the nose (measured better, docs/DETECTION.md)"),
    ("WHOLE", "Whole", "MediaPipe whole-body keypoints: lifted as one skeleton"),
]  # fmt: skip
CONTACT_ITEMS = [
    ("AUTO", "Auto", "Feet are planted where they are low and still (detected from the motion)"),
    ("ALWAYS", "Always", "Both feet planted in every frame (a subject standing still)"),
    ("NEVER", "Never", "No foot planted: no foot locking (the ground is put under the lowest points)"),
]
MOTION_ITEMS = [
    ("ROOT_MOTION", "Root Motion", "The subject moves over the ground as filmed; the camera stands still"),
    ("IN_PLACE", "In Place", "The subject's pelvis stays above the origin; the camera is keyed to move the other "
     "way, so the footage still lines up"),
]  # fmt: skip
FOCAL_UNIT_ITEMS = [
    ("PIXELS", "Pixels", "Focal length in pixels of the footage"),
    ("MILLIMETRES", "Millimetres", "Focal length in millimetres with the sensor width, as a Blender camera's lens "
     "(the sensor spans the image's larger side)"),
    ("FIELD_OF_VIEW", "Field of View", "Field of view in degrees across the image's larger side"),
]  # fmt: skip
#: The engine's unit (:func:`lfm_engine.camera.focal_length_px`) and the property holding the value, per unit.
FOCAL_UNITS = {"PIXELS": ("px", "focal_length"), "MILLIMETRES": ("mm", "focal_length_mm"),
               "FIELD_OF_VIEW": ("fov", "field_of_view")}  # fmt: skip
BACKEND_ITEMS = [
    ("AUTO", "Automatic", "PyTorch (CUDA when available) if it can be imported, else NumPy"),
    ("NUMPY", "NumPy", "The NumPy model: no extra package needed"),
    ("TORCH", "PyTorch", "PyTorch (must be importable in Blender's Python)"),
]


class LFM_SceneSettings(PropertyGroup):
    """Settings of the Lift to 3D panel, stored with the scene."""

    source_path: StringProperty(
        name="Keypoints",
        description="Keypoint file (.json, .csv, .h5, .npz) or a folder of OpenPose .json files",
        subtype="FILE_PATH",
    )
    rig: EnumProperty(name="Rig", description="The skeleton of the keypoints", items=RIG_ITEMS, default=RIG_FROM_FILE)
    rig_file: StringProperty(name="Rig File", description="JSON rig file for a custom rig", subtype="FILE_PATH")
    confidence_threshold: FloatProperty(
        name="Min Confidence",
        description="Joints whose detector confidence is at or below this are treated as missing",
        default=0.1,
        min=0.0,
        max=1.0,
    )
    solve_clip: BoolProperty(
        name="Clip Solver",
        description="Solve the whole clip at once: constant bone lengths, smooth motion (depth included), planted "
        "feet and a ground plane under the subject (the camera's height and tilt follow); off: each frame is placed "
        "on its own",
        default=True,
    )
    contact_mode: EnumProperty(
        name="Foot Contacts", description="When the clip solver plants the feet", items=CONTACT_ITEMS, default="AUTO"
    )
    motion: EnumProperty(name="Motion", items=MOTION_ITEMS, default="ROOT_MOTION")
    smoothing: EnumProperty(name="Smoothing", items=SMOOTHING_ITEMS, default="NONE")
    smoothing_strength: FloatProperty(
        name="Strength", description="0 light, 1 heavy", default=0.5, min=0.0, max=1.0, subtype="FACTOR"
    )
    height: FloatProperty(
        name="Subject Height",
        description="Size of the subject in metres (people: median vertical extent); 0 = by rig category "
        "(1.75 m person, 0.19 m hand, 0.22 m face, 1 m other)",
        default=1.75,
        min=0.0,
        soft_max=5.0,
        unit="LENGTH",
    )
    focal_unit: EnumProperty(
        name="Focal Length Unit", description="How the footage's focal length is given", items=FOCAL_UNIT_ITEMS,
        default="PIXELS",
    )  # fmt: skip
    focal_length: FloatProperty(
        name="Focal Length (px)",
        description="Focal length of the footage in pixels; 0 = unknown (the footage's metadata, else a 55 degree "
        "field of view)",
        default=0.0,
        min=0.0,
    )
    focal_length_mm: FloatProperty(
        name="Focal Length (mm)",
        description="Focal length in millimetres on a sensor of the Sensor Width (a phone's 35 mm-equivalent figure "
        "with the default 36 mm); 0 = unknown (the footage's metadata, else a 55 degree field of view)",
        default=0.0,
        min=0.0,
    )
    sensor_width: FloatProperty(
        name="Sensor Width", description="Sensor width in millimetres, across the image's larger side", default=36.0,
        min=0.1,
    )  # fmt: skip
    field_of_view: FloatProperty(
        name="Field of View (deg)",
        description="Field of view in degrees across the image's larger side; 0 = unknown (the footage's "
        "metadata, else 55 degrees)",
        default=0.0,
        min=0.0,
        max=179.0,
    )
    image_width: IntProperty(
        name="Width", description="Image width in pixels; 0 = from the file or its footage", default=0, min=0
    )
    image_height: IntProperty(
        name="Height", description="Image height in pixels; 0 = from the file or its footage", default=0, min=0
    )
    fps: FloatProperty(
        name="Frame Rate",
        description="Frames per second of the clip; 0 = from the file or its footage (else the scene's)",
        default=0.0,
        min=0.0,
    )
    footage_path: StringProperty(
        name="Footage",
        description="The video (or image folder) the keypoints come from: its size, frame rate and focal length are "
        "used where the fields above and the file give none; empty = a video or image folder named like the "
        "keypoints beside them",
        subtype="FILE_PATH",
    )
    clip_start: IntProperty(
        name="Clip Start", description="First frame of the clip to lift (0-based)", default=0, min=0
    )
    clip_end: IntProperty(
        name="Clip End", description="Last frame of the clip to lift (0-based); -1 = the last", default=-1, min=-1
    )
    scene_start: IntProperty(name="Scene Start", description="Scene frame of the first lifted frame", default=1)
    output: EnumProperty(name="Output", items=OUTPUT_ITEMS, default="ARMATURE")
    whole_body: EnumProperty(
        name="Whole Body", description="How whole-body keypoints (body, hands, face) are lifted",
        items=WHOLE_BODY_ITEMS, default="PARTS",
    )  # fmt: skip
    set_scene: BoolProperty(
        name="Set Scene",
        description="Set the scene's camera, resolution, frame rate and frame range to the clip's",
        default=True,
    )
    replace_previous: BoolProperty(
        name="Replace Previous Lift",
        description="Remove the earlier lift of this clip (its armature or empties, camera, actions, collection) once "
        "the new one is made; off = keep it and add the new one beside it (nothing existing is overwritten)",
        default=False,
    )


#: The scene setting that older versions had beside the preferences' (``scene.lift_to_3d.weights_path``); a scene
#: saved with it keeps the value as an ID property, which :func:`legacy_weights` reads.
LEGACY_WEIGHTS_KEY = "weights_path"


class LFM_Preferences(AddonPreferences):
    """Add-on preferences: which weights (the one place they are set) and which backend."""

    bl_idname = __package__

    weights_path: StringProperty(
        name="Weights",
        description="Model weights (.safetensors); empty = the weights shipped with the add-on",
        subtype="FILE_PATH",
    )
    backend: EnumProperty(name="Backend", items=BACKEND_ITEMS, default="AUTO")

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "weights_path")
        if not self.weights_path:
            found = "" if DEFAULT_WEIGHTS.is_file() else "  (not installed)"
            layout.label(text=f"Shipped weights: {DEFAULT_WEIGHTS}{found}", icon="INFO")
        layout.prop(self, "backend")


def preferences(context) -> LFM_Preferences | None:
    """This add-on's preferences, or None when it is not enabled as an add-on (e.g. classes registered by hand)."""
    addon = context.preferences.addons.get(__package__)
    return addon.preferences if addon is not None else None


def legacy_weights(settings: LFM_SceneSettings) -> str:
    """The weights file a scene saved by an older version names in its own settings ('' for none)."""
    value = settings.get(LEGACY_WEIGHTS_KEY, "")
    return value if isinstance(value, str) else ""


def weights_path(settings: LFM_SceneSettings, prefs: LFM_Preferences | None) -> str | None:
    """The weights to use: the preferences', else the scene's from an older version (:func:`legacy_weights`), else
    None (the shipped file)."""
    for path in (prefs.weights_path if prefs is not None else "", legacy_weights(settings)):
        if path:
            return bpy.path.abspath(path)
    return None


def weights_note(settings: LFM_SceneSettings, prefs: LFM_Preferences | None) -> str:
    """What to tell the user about a scene that still names weights of its own ('' when it names none)."""
    old = legacy_weights(settings)
    if not old:
        return ""
    where = "Edit > Preferences > Add-ons > Lift to 3D"
    if prefs is not None and prefs.weights_path:
        return f"this scene's weights setting from an older version ({old}) is ignored: the weights are set in {where}"
    return f"used this scene's weights setting from an older version ({old}); set the weights in {where}"


def lift_settings(settings: LFM_SceneSettings, prefs: LFM_Preferences | None, scene_fps: float):
    """The engine's :class:`~lfm_engine.pipeline.LiftSettings` for these properties."""
    rig = None
    if settings.rig == RIG_CUSTOM:
        if not settings.rig_file:
            raise LFMError("Rig is 'Custom Rig File' but no rig file is chosen")
        rig = bpy.path.abspath(settings.rig_file)
    elif settings.rig != RIG_FROM_FILE:
        rig = settings.rig
    size = (settings.image_width, settings.image_height)
    unit, focal_prop = FOCAL_UNITS[settings.focal_unit]
    return pipeline.LiftSettings(
        rig=rig,
        confidence_threshold=settings.confidence_threshold,
        smoothing=SMOOTHING_METHODS[settings.smoothing],
        smoothing_strength=settings.smoothing_strength,
        height=settings.height or None,
        focal_length=getattr(settings, focal_prop) or None,
        focal_unit=unit,
        sensor_width=settings.sensor_width,
        footage=bpy.path.abspath(settings.footage_path) if settings.footage_path else None,
        image_size=size if all(size) else None,
        fps=settings.fps or None,
        frame_start=settings.clip_start,
        frame_end=None if settings.clip_end < 0 else settings.clip_end,
        weights=weights_path(settings, prefs),
        backend=prefs.backend.lower() if prefs is not None else "auto",
        default_fps=scene_fps,
        whole_body=settings.whole_body.lower(),
        solve_clip=settings.solve_clip,
        contact_mode=settings.contact_mode.lower(),
        root_motion=settings.motion == "ROOT_MOTION",
    )


def register_properties() -> None:
    bpy.types.Scene.lift_to_3d = PointerProperty(type=LFM_SceneSettings)


def unregister_properties() -> None:
    del bpy.types.Scene.lift_to_3d


CLASSES = (LFM_SceneSettings, LFM_Preferences)
