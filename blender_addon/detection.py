"""Detect 2D keypoints in footage with MediaPipe (``lfm_engine.detect``) and show them over the footage.

``LFM_OT_detect`` runs :func:`lfm_engine.detect.detect_steps` on a movie file (or a Movie Clip already loaded) from
a modal timer, one frame per step (progress on the cursor, Esc cancels), over the frames **First Frame** to
**Last Frame** only (the frames before are seeked past, not decoded). When it finishes it:

* loads the movie as a Movie Clip (unless it was one already) and writes every detected joint as a track of the
  tracking object :data:`TRACKING_OBJECT` (one marker per frame where the joint was found, in the clip's own frame
  numbers), so the keypoints show over the footage in the Movie Clip editor;
* saves the detections (:meth:`lfm_engine.detect.Detections.save`) to ``//lift_to_3d/<clip>.npz`` beside
  the saved .blend (Blender's temporary folder for an unsaved file) and makes that file the **Keypoints** of the
  Lift panel, so **Lift to 3D** lifts them (every detected frame, each at its frame of the clip);
* after a lift of those detections, the created camera shows the Movie Clip as its background
  (:func:`attach_footage`, called by the Lift operator and the batch script).

Nothing is created when detection fails or is cancelled. The settings are ``scene.lift_to_3d_detect``.
"""

from __future__ import annotations

import os
from pathlib import Path

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, PointerProperty, StringProperty
from bpy.types import Operator, Panel, PropertyGroup

from .engine import LFMError, detect
from .stepping import SteppedOperator

#: Name of the Movie Clip tracking object holding the detected keypoints' tracks.
TRACKING_OBJECT = "Lift to 3D"
#: Custom property on a Movie Clip: the detections file written for it.
CLIP_DETECTIONS_KEY = "lift_to_3d_detections"

MODEL_ITEMS = [
    ("0", "Lite", "MediaPipe pose model complexity 0 (fastest)"),
    ("1", "Full", "MediaPipe pose model complexity 1 (the default)"),
    ("2", "Heavy", "MediaPipe pose model complexity 2 (most accurate, slowest)"),
]


class LFM_DetectSettings(PropertyGroup):
    """Settings of the Detect panel, stored with the scene."""

    movie_path: StringProperty(
        name="Movie", description="Video file (or an image) to detect people in", subtype="FILE_PATH"
    )
    clip: PointerProperty(
        name="Movie Clip", type=bpy.types.MovieClip, description="A Movie Clip already loaded (used instead of Movie)"
    )
    hands: BoolProperty(name="Hands", description="Detect both hands (21 landmarks each)", default=True)
    face: BoolProperty(name="Face", description="Detect the face mesh (478 landmarks)", default=True)
    model: EnumProperty(name="Pose Model", items=MODEL_ITEMS, default="1")
    frame_start: IntProperty(
        name="First Frame", description="First frame of the footage to detect (0-based)", default=0, min=0
    )
    frame_end: IntProperty(
        name="Last Frame",
        description="Last frame of the footage to detect (0-based); -1 = the last",
        default=-1,
        min=-1,
    )


def settings_of(context) -> LFM_DetectSettings:
    return context.scene.lift_to_3d_detect


def footage_path(settings: LFM_DetectSettings) -> str:
    """The footage to detect: the Movie Clip's file, else the movie path (absolute); '' when neither is set."""
    if settings.clip is not None:
        return bpy.path.abspath(settings.clip.filepath, library=settings.clip.library)
    return bpy.path.abspath(settings.movie_path) if settings.movie_path else ""


def detections_file(clip_name: str) -> Path:
    """Where the detections of ``clip_name`` are saved: beside the .blend when it is saved, else Blender's temp."""
    folder = Path(bpy.path.abspath("//lift_to_3d")) if bpy.data.filepath else Path(bpy.app.tempdir) / "lift_to_3d"
    safe = bpy.path.clean_name(clip_name) or "footage"
    return folder / f"{safe}.npz"


# ---------------------------------------------------------------------- writing into Blender
def write_tracks(clip: bpy.types.MovieClip, detections) -> bpy.types.MovieTrackingObject:
    """Replace the clip's :data:`TRACKING_OBJECT` with one track per detected joint (markers where it was found).

    Marker frames are the clip's own frame numbers (``frame_id + 1``); positions are normalised, origin at the
    bottom left, as Blender's tracking stores them.
    """
    kp = detections.keypoints
    w, h = kp.image_size
    tracking = clip.tracking
    old = tracking.objects.get(TRACKING_OBJECT)
    if old is not None:
        tracking.objects.remove(old)
    obj = tracking.objects.new(TRACKING_OBJECT)
    frames = (kp.frame_ids if kp.frame_ids is not None else range(kp.num_frames)) + 1
    mask = kp.mask
    for j in range(kp.num_joints):
        seen = mask[:, j].nonzero()[0]
        if seen.size == 0:
            continue
        co = [(float(x) / w, 1.0 - float(y) / h) for x, y in kp.points[seen, j]]
        track = obj.tracks.new(name=kp.joint_names[j], frame=int(frames[seen[0]]))
        track.markers[0].co = co[0]
        for f, c in zip(frames[seen[1:]], co[1:], strict=True):
            track.markers.insert_frame(int(f), co=c)
    return obj


def attach_footage(result, created, clip: bpy.types.MovieClip | None = None, scene_start: int = 1) -> None:
    """Show the footage behind ``result``'s camera (among the data-blocks ``created`` by
    :func:`blender_io.write_clip`): ``clip``, else the Movie Clip whose detections file is ``result.source``,
    else the footage file ``result.source`` itself loaded as a Movie Clip; nothing when there is none.

    The clip starts at ``scene_start`` (the scene frame of the first lifted frame) less the footage frames before
    it (``result.frame_ids``, else ``result.frame_indices``), so each key shows over its own footage frame.
    """
    source = Path(result.source)
    if clip is None:
        for c in bpy.data.movieclips:
            if c.get(CLIP_DETECTIONS_KEY) and Path(bpy.path.abspath(c[CLIP_DETECTIONS_KEY])) == source:
                clip = c
                break
    if clip is None and source.is_file() and detect.is_footage(source):
        clip = bpy.data.movieclips.load(str(source), check_existing=True)
    if clip is None:
        return
    frames = result.frame_ids if result.frame_ids is not None else result.frame_indices  # the footage's numbers
    first = int(frames[0]) if len(frames) else 0
    clip.frame_start = scene_start - first
    for cam in (i for i in created if isinstance(i, bpy.types.Camera)):
        cam.show_background_images = True
        bg = cam.background_images.new()
        bg.source = "MOVIE_CLIP"
        bg.clip = clip
        bg.frame_method = "FIT"
        bg.alpha = 1.0


# ---------------------------------------------------------------------- the operator
class LFM_OT_detect(SteppedOperator, Operator):
    """Detect the body, hands and face in the footage with MediaPipe; show them as Movie Clip tracks"""

    bl_idname = "lfm.detect"
    bl_label = "Detect"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender's class attribute
    status = "Detect"
    cancelled = "Detection cancelled; nothing was created"

    @classmethod
    def poll(cls, context):
        settings = getattr(context.scene, "lift_to_3d_detect", None)
        if settings is None or not (settings.clip is not None or settings.movie_path):
            cls.poll_message_set("Choose a movie file or a Movie Clip first")
            return False
        return True

    def _start(self, context) -> None:
        s = settings_of(context)
        path = footage_path(s)
        if not path:
            raise LFMError("Choose a movie file or a Movie Clip first")
        options = detect.DetectSettings(
            hands=s.hands,
            face=s.face,
            model_complexity=int(s.model),
            frame_start=s.frame_start,
            frame_end=None if s.frame_end < 0 else s.frame_end,
        )
        self._steps = detect.detect_steps(path, options)

    def _write(self, context, detections) -> set[str]:
        s = settings_of(context)
        kp = detections.keypoints
        loaded = s.clip is None
        clip = bpy.data.movieclips.load(kp.source, check_existing=True) if loaded else s.clip
        try:
            write_tracks(clip, detections)
            path = detections.save(detections_file(Path(clip.name).stem))
        except BaseException:
            obj = clip.tracking.objects.get(TRACKING_OBJECT)
            if obj is not None:
                clip.tracking.objects.remove(obj)
            if loaded and clip.users == 0:
                bpy.data.movieclips.remove(clip)
            raise
        clip[CLIP_DETECTIONS_KEY] = str(path)
        s.clip = clip
        lift = context.scene.lift_to_3d
        lift.source_path = str(path)
        lift.clip_start, lift.clip_end = 0, -1  # every detected frame
        lift.scene_start = clip.frame_start + int(kp.frame_ids[0])  # the lift stays in step with the clip
        found = ", ".join(f"{p.replace('_', ' ')} {detections.found(p).mean():.0%}" for p in self._parts(detections))
        self.report({"INFO"}, f"Detected {detections.num_frames} frames of {clip.name} ({found})")
        return {"FINISHED"}

    @staticmethod
    def _parts(detections) -> tuple[str, ...]:
        return ("body",) if detections.layout == "mediapipe_pose33" else detect.PARTS


class LFM_PT_detect(Panel):
    """The first panel of the tab (the first step): footage in, keypoints out, for the Lift panel below."""

    bl_label = "Detect in Footage"
    bl_idname = "LFM_PT_detect"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Lift to 3D"
    bl_order = 0  # before Lift to 3D (1) and Retarget (2): panels.ORDER

    def draw(self, context):
        s = settings_of(context)
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        layout.prop(s, "clip")
        row = layout.row()
        row.enabled = s.clip is None
        row.prop(s, "movie_path")
        col = layout.column(heading="Parts")
        col.prop(s, "hands")
        col.prop(s, "face")
        layout.prop(s, "model")
        col = layout.column(heading="Frames", align=True)
        col.prop(s, "frame_start")
        col.prop(s, "frame_end")
        layout.operator("lfm.detect", icon="TRACKER")
        path = s.clip.get(CLIP_DETECTIONS_KEY) if s.clip is not None else None
        if path and os.path.isfile(bpy.path.abspath(path)):
            layout.label(text=f"Detections: {Path(path).name}", icon="CHECKMARK")


def register_properties() -> None:
    bpy.types.Scene.lift_to_3d_detect = PointerProperty(type=LFM_DetectSettings)


def unregister_properties() -> None:
    del bpy.types.Scene.lift_to_3d_detect


CLASSES = (LFM_DetectSettings, LFM_OT_detect, LFM_PT_detect)
