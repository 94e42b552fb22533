"""The whole lift of one keypoint file, as plain arrays: read -> lift -> Blender world -> smoothing -> clip solver
(:mod:`lfm_engine.solver`: constant bone lengths, smooth motion, planted feet, a ground plane) -> armature.

This is what the Blender add-on's operator and batch script run (they only copy the result into Blender); nothing
here imports ``bpy``.

>>> result = run("clip_openpose_json/", LiftSettings(focal_length=1681.0, image_size=(1080, 1920)))
>>> result.armature.quaternions.shape          # (T, J, 4)

:func:`lift_steps` is the same as a generator that lifts a chunk of frames per step and yields progress, so a
caller (a modal Blender operator) can keep its UI responsive and stop between chunks; :func:`run` drives it.

The camera
----------
Pixels are the input's image coordinates. The principal point is the image centre. Each of the image size, the frame
rate and the focal length comes from the first of these that gives it:

* the settings (``LiftSettings.image_size``, ``fps``, ``focal_length`` in ``focal_unit``: pixels, millimetres with
  ``sensor_width``, or a field of view; :func:`lfm_engine.camera.focal_length_px`);
* the keypoint file (COCO, our NPZ and CSV, ControlNet's OpenPose JSON record the size; a few record the rate);
* the footage (:mod:`lfm_engine.footage`): ``LiftSettings.footage``, the source itself when it is footage, or the
  video or image sequence found beside the keypoints (:func:`lfm_engine.footage.find_footage`), which gives the
  size and the rate, and for iPhone videos the 35 mm-equivalent focal length;
* an assumption: the image size is guessed from the points (the smallest image that has the points' bounding box in
  its centre, i.e. ``max + min`` of the coordinates), the rate is ``LiftSettings.default_fps`` (the add-on passes
  the scene's), and the focal length is a :data:`lfm_engine.camera.DEFAULT_FIELD_OF_VIEW` (55 degree) field of view
  across the image's larger side. Assumed sizes and rates are :attr:`ClipResult.warnings` (the add-on and the batch
  script show them as warnings, saying how to set them); an assumed focal length is a note
  (:attr:`CameraModel.assumed`).

The lift is exact through the camera made for it whatever the focal length; the focal length sets how far away the
subject is (the lifted shape barely changes with it: the model is weak-perspective). The 55 degree default puts a
person at a plausible distance, where the long lens assumed before (5 x the larger side, about 180 mm) put them
about 22 m away.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import warnings
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import armature as arm
from . import camera as cam_units
from . import detect, wholebody
from . import footage as footage_io
from .anatomy import anatomy
from .errors import InputError, RigError
from .io import Keypoints2D, read_keypoints
from .layouts import available_rigs, get_rig
from .lifter import Lifter
from .rig import Rig
from .safe_json import parse_json
from .solver import clip as clip_solver
from .solver import contacts, ground
from .steps import run_to_end

#: Field of view (degrees, across the image's larger side) assumed when no focal length is known.
DEFAULT_FIELD_OF_VIEW = cam_units.DEFAULT_FIELD_OF_VIEW
#: Sensor width (mm) of the Blender camera, across the image's larger side (sensor fit Auto); the lens is
#: ``focal_px * SENSOR_WIDTH_MM / max(width, height)``.
SENSOR_WIDTH_MM = cam_units.SENSOR_WIDTH_MM
#: Frame rate assumed when neither the settings, the file nor its footage give one (Blender's default).
DEFAULT_FPS = 24.0
#: Frames lifted per step of :func:`lift_steps` at most (steps are also bounded by the lifter's memory budget).
MAX_CHUNK_FRAMES = 256
#: The clip solver runs on rigs of at most this many joints (its cost grows as joints cubed); larger rigs (whole-body
#: layouts with hands and face) are placed frame by frame, with a note.
MAX_SOLVER_JOINTS = 64
#: Where the camera object sits in the camera world (at the origin looking along +Y, Z up): Blender's
#: ``matrix_world``.
CAMERA_MATRIX = ground.camera_matrix(np.eye(4))


@dataclass(frozen=True)
class LiftSettings:
    """What to lift and how; every field has a usable default.

    Attributes:
        rig: None or ``""``: the skeleton the file names (``Keypoints2D.rig()``); a standard layout name
            (:func:`lfm_engine.available_rigs`); or the path of a ``.json`` rig file (``Rig.to_dict()`` format).
        confidence_threshold: joints scoring at or below this are treated as missing.
        smoothing: ``"none"``, ``"one_euro"`` or ``"savgol"`` (:func:`lfm_engine.armature.smooth`), applied to the
            world points in metres before the armature is fitted (with the clip solver: to the lifted points it
            starts from, which it smooths itself anyway).
        smoothing_strength: 0 (light) to 1 (heavy).
        height: the subject's size in metres; None: by the rig's category (1.75 m for people,
            :func:`lfm_engine.armature.default_height`). People are measured by their vertical extent, other
            subjects by the largest side of their bounding box.
        focal_length: pinhole focal length in ``focal_unit``; None: the footage's, else a 55 degree field of view
            (see the module docs).
        focal_unit: ``"px"`` (pixels), ``"mm"`` (millimetres on a ``sensor_width`` sensor across the image's
            larger side: a Blender camera's lens), ``"fov"`` (field of view in degrees across the larger side) or
            ``"mm35"`` (35 mm equivalent); :func:`lfm_engine.camera.focal_length_px`.
        sensor_width: the sensor width in millimetres for ``focal_unit="mm"`` (Blender's default 36).
        image_size: ``(width, height)`` pixels, overriding the file's and the footage's.
        fps: frames per second, overriding the file's and the footage's.
        default_fps: the frame rate assumed (smoothing, the clip solver) when neither ``fps``, the file nor its
            footage gives one; a warning says so.
        footage: the video or image folder the keypoints come from, whose size, frame rate and focal length are
            used where the settings and the file give none; None or ``""``: looked for beside the keypoints
            (:func:`lfm_engine.footage.find_footage`).
        frame_start, frame_end: the clip frames to lift, 0-based indices into the file's frames, ``frame_end``
            inclusive (None: to the end). With footage they are the footage's frames, and only those are detected
            (they replace ``detection``'s own range unless they are the defaults, 0 and None).
        weights: weights file; None: the shipped ``lfm_engine/weights/lfm_v2.safetensors``.
        backend: ``"auto"``, ``"torch"`` or ``"numpy"`` (see :class:`lfm_engine.Lifter`).
        rest_frame: the frame (index into the lifted range) whose pose becomes the rest pose; None: the most
            typical one (:func:`lfm_engine.armature.pick_rest_frame`).
        placement: how the armature keeps its bones at constant lengths
            (:func:`lfm_engine.armature.constant_length_points`): ``"ray"`` keeps every visible joint on its camera
            ray, so that the armature reprojects onto the keypoints (with smoothing: onto the smoothed points'
            projections, so that the smoothing is kept); ``"direction"`` puts each joint on the line from its parent
            towards its lifted position.
        whole_body: how MediaPipe's whole-body layouts are lifted (:mod:`lfm_engine.wholebody`): ``"parts"``
            (body, hands and face alone, attached at the wrists and the nose; the measured better) or ``"whole"``.
        detection: the :class:`lfm_engine.detect.DetectSettings` used when the source is footage (a video, an image
            or an image folder); None: the defaults (body, hands and face).
        solve_clip: run the clip solver (:mod:`lfm_engine.solver`; the default): one least-squares fit over the
            whole clip with constant bone lengths, reprojection onto the detections within their noise, smooth
            motion in all three axes, planted feet and a ground plane (people), instead of placing each frame on
            its own (``placement``, which is then unused). Rigs of more than :data:`MAX_SOLVER_JOINTS` joints are
            placed frame by frame.
        contact_mode: the clip solver's foot contacts: ``"auto"`` (detected), ``"always"`` or ``"never"``
            (:data:`lfm_engine.solver.CONTACT_MODES`).
        contact_overrides: ``(T, F)`` int per-foot per-frame overrides of the lifted frames (feet in the order of
            :func:`lfm_engine.solver.find_feet`, left first; -1 auto, 0 never, 1 always); None: none.
        root_motion: True: the subject moves over the ground as filmed; False: in place (its pelvis stays above the
            origin and the camera moves the other way, keyed, so that the footage still lines up).
    """

    rig: str | None = None
    confidence_threshold: float = 0.1
    smoothing: str = "none"
    smoothing_strength: float = 0.5
    height: float | None = None
    focal_length: float | None = None
    image_size: tuple[int, int] | None = None
    fps: float | None = None
    default_fps: float = DEFAULT_FPS
    frame_start: int = 0
    frame_end: int | None = None
    weights: str | None = None
    backend: str = "auto"
    rest_frame: int | None = None
    placement: str = "ray"
    whole_body: str = "parts"
    detection: detect.DetectSettings | None = None
    solve_clip: bool = True
    contact_mode: str = "auto"
    contact_overrides: np.ndarray | None = field(default=None, compare=False)
    root_motion: bool = True
    focal_unit: str = "px"
    sensor_width: float = SENSOR_WIDTH_MM
    footage: str | None = None


@dataclass(frozen=True)
class LiftWarning:
    """Something the lift had to assume, which the user should set: the :class:`LiftSettings` field that sets it
    (``"image_size"`` or ``"fps"``) and what was assumed. The add-on and the batch script add where to set it."""

    setting: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class CameraModel:
    """The pinhole camera of the footage, in pixels.

    Attributes:
        focal_length: pixels. principal_point: ``(cx, cy)`` pixels (the image centre).
        image_size: ``(width, height)`` pixels.
        assumed: True when the focal length is the :data:`DEFAULT_FIELD_OF_VIEW` assumed for want of one.
        image_size_known: False when the image size was guessed from the points.
    """

    focal_length: float
    principal_point: tuple[float, float]
    image_size: tuple[int, int]
    assumed: bool = False
    image_size_known: bool = True

    @property
    def lens_mm(self) -> float:
        """Blender camera lens for a :data:`SENSOR_WIDTH_MM` sensor across the image's larger side (sensor fit
        Auto)."""
        return cam_units.focal_length_in(self.focal_length, "mm", self.image_size, SENSOR_WIDTH_MM)

    @property
    def field_of_view(self) -> float:
        """Degrees across the image's larger side."""
        return cam_units.focal_length_in(self.focal_length, "fov", self.image_size)

    def project(self, points_camera: np.ndarray) -> np.ndarray:
        """``(..., 3)`` camera-frame points to ``(..., 2)`` pixels."""
        p = np.asarray(points_camera, dtype=np.float64)
        return p[..., :2] / p[..., 2:3] * self.focal_length + np.asarray(self.principal_point)


@dataclass(frozen=True, eq=False)
class ClipResult:
    """One lifted clip, ready to be written into Blender.

    Attributes:
        name: a name for the Blender objects (the file or folder name without extension).
        source: the file or folder read.
        rig: the armature's skeleton (:func:`lfm_engine.anatomy.anatomy` of the file's rig): for a standard layout
            its joints followed by the virtual ones it lacks (``pelvis``, ``neck``: midpoints of the hips and the
            shoulders), with an anatomical hierarchy as ``parents``; any other rig as it is (the armature uses its
            ``tree_parents()``). Every per-joint array below has its ``J`` joints, virtual ones included.
        points2d: ``(T, J, 2)`` input pixels of the lifted frames (NaN = missing; a virtual joint: the midpoint).
        visible: ``(T, J)`` bool: the joints the lift saw (finite and above the confidence threshold).
        lifted: ``(T, J, 3)`` float32 camera frame, pixels (:meth:`Lifter.lift`; frames that could not be lifted
            interpolated; a virtual joint: the midpoint).
        lifted_frames: ``(T,)`` bool: False for frames with fewer than two visible joints, filled by interpolation.
        world: ``(T, J, 3)`` float64 Blender world, metres, after smoothing (before the constant-length fit or the
            clip solver; with the solver moved into its world, the ground's, as the armature is).
        armature: the armature and its keys (its ``joints`` are the constant-length ``world``; with the ``"ray"``
            placement every visible joint whose bone reaches its camera ray reprojects onto its keypoint; with the
            clip solver they are :attr:`lfm_engine.solver.ClipSolution.joints`).
        camera: the camera the lift assumed.
        fps: frames per second (the file's or the override), or None when unknown.
        frame_offsets: ``(T,)`` int64 key times relative to the first lifted frame, in frames (from the file's
            frame numbers, so gaps in a numbered sequence stay gaps).
        frame_indices: ``(T,)`` the lifted frames' indices into the file's frames (footage: into the footage's).
        frame_ids: ``(T,)`` int64 the lifted frames' numbers in the footage when the source knows them (the file's
            ``frame_ids``: detections and footage give the video's frame numbers), else None.
        scale: metres per pixel unit of ``lifted`` (``world = scale * CAMERA_TO_WORLD @ lifted`` before smoothing,
            in the camera world).
        height: the subject size used, metres.
        solution: the clip solver's :class:`lfm_engine.solver.ClipSolution` (contacts, ground plane, camera
            height and tilt), or None when it did not run.
        camera_matrix: ``(4, 4)`` the Blender camera object's ``matrix_world`` (at the origin looking along +Y
            without the solver; above the ground with it).
        camera_locations: ``(T, 3)`` the camera's location per frame when it moves (in place), else None.
        notes: what the lift did that is worth knowing (frames interpolated, the focal length assumed, the
            solver's summary, ...).
        warnings: :class:`LiftWarning` for what had to be assumed and should be set (an image size guessed from the
            points, a frame rate assumed).
        footage: the footage whose size, frame rate or focal length were used, or None.
    """

    name: str
    source: str
    rig: Rig
    points2d: np.ndarray
    visible: np.ndarray
    lifted: np.ndarray
    lifted_frames: np.ndarray
    world: np.ndarray
    armature: arm.ArmatureAnimation
    camera: CameraModel
    fps: float | None
    frame_offsets: np.ndarray
    frame_indices: np.ndarray
    scale: float
    height: float
    notes: tuple[str, ...] = field(default=())
    frame_ids: np.ndarray | None = None
    solution: clip_solver.ClipSolution | None = None
    camera_matrix: np.ndarray = field(default_factory=lambda: CAMERA_MATRIX.copy())
    camera_locations: np.ndarray | None = None
    warnings: tuple[LiftWarning, ...] = field(default=())
    footage: Path | None = None

    @property
    def num_frames(self) -> int:
        return len(self.points2d)

    @property
    def joint_names(self) -> tuple[str, ...]:
        return self.rig.joint_names

    def scene_frames(self, start: int = 1) -> np.ndarray:
        """``(T,)`` Blender frame numbers of the keys when the first lifted frame goes to ``start``."""
        return start + self.frame_offsets


# ---------------------------------------------------------------------- pieces
@functools.lru_cache(maxsize=4)
def _cached_lifter(path: str | None, stamp: tuple, backend: str) -> Lifter:
    return Lifter.from_pretrained(path, backend=backend)


def load_lifter(weights: str | os.PathLike | None = None, backend: str = "auto") -> Lifter:
    """A :class:`Lifter` for ``weights`` (None: the shipped file), cached while the file is unchanged."""
    path = None if weights in (None, "") else str(Path(weights).expanduser())
    stamp: tuple = ()
    if path is not None:
        try:
            st = os.stat(path)
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = ("missing",)  # load_weights raises the proper error
    return _cached_lifter(path, stamp, backend)


def load_rig(spec: str | Rig | None, kp: Keypoints2D) -> Rig:
    """The rig to use for ``kp``: ``spec`` (see :attr:`LiftSettings.rig`) or the file's own.

    Raises:
        RigError: an unknown layout name or an invalid rig file. InputError: the rig's joint count is not the file's.
    """
    if isinstance(spec, Rig):
        rig = spec
    elif spec in (None, ""):
        rig = kp.rig()
    elif spec in available_rigs() or not str(spec).lower().endswith(".json"):
        rig = get_rig(str(spec))
    else:
        rig = read_rig_file(spec)
    if rig.num_joints != kp.num_joints:
        raise InputError(f"{kp.source}: rig {rig.name!r} has {rig.num_joints} joints but the file has "
                         f"{kp.num_joints} per frame")  # fmt: skip
    return rig


def read_rig_file(path: str | os.PathLike) -> Rig:
    """A rig from a JSON file holding :meth:`Rig.to_dict` (``joint_names`` and ``edges`` or ``parents``)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise RigError(f"{p}: cannot read the rig file ({exc.strerror or exc})") from None
    doc = parse_json(data, f"{p}: the rig file", RigError)
    if not isinstance(doc, dict) or "joint_names" not in doc:
        raise RigError(f"{p}: a rig file is a JSON object with 'joint_names' and 'edges' or 'parents'")
    try:
        return Rig.from_dict({"name": p.stem, **doc})
    except RigError as exc:
        raise RigError(f"{p}: {exc}") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise RigError(f"{p}: invalid rig ({exc})") from None


def camera_for(kp: Keypoints2D, settings: LiftSettings, footage: footage_io.FootageCamera | None = None) -> CameraModel:
    """The footage camera from the settings, the file and ``footage`` (see the module docs)."""
    if settings.focal_unit not in cam_units.FOCAL_UNITS:
        raise InputError(f"unknown focal length unit {settings.focal_unit!r}; use one of "
                         f"{', '.join(cam_units.FOCAL_UNITS)}")  # fmt: skip
    size = settings.image_size or kp.image_size or (footage.image_size if footage is not None else None)
    known = size is not None
    if size is None:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lo = np.nanmin(kp.points, axis=(0, 1))
            hi = np.nanmax(kp.points, axis=(0, 1))
        if not np.isfinite(lo).all():
            raise InputError(f"{kp.source}: no keypoint is present in any frame")
        size = tuple(max(1, math.ceil(h + max(low, 0.0))) for low, h in zip(lo, hi, strict=True))
    w, h = (round(float(v)) for v in size)
    if w <= 0 or h <= 0:
        raise InputError(f"image size must be positive, got {size!r}")
    f = settings.focal_length
    if f is not None:
        focal = cam_units.focal_length_px(f, settings.focal_unit, (w, h), settings.sensor_width)
    elif footage is not None and footage.focal_length_35mm is not None:
        focal = cam_units.focal_length_px(footage.focal_length_35mm, "mm35", (w, h))
    else:
        focal = cam_units.focal_length_px(DEFAULT_FIELD_OF_VIEW, "fov", (w, h))
    assumed = f is None and (footage is None or footage.focal_length_35mm is None)
    return CameraModel(float(focal), (w / 2.0, h / 2.0), (w, h), assumed, known)


def footage_for(
    source: str | os.PathLike | Keypoints2D, settings: LiftSettings, *, is_footage: bool = False
) -> footage_io.FootageCamera | None:
    """The footage whose size, frame rate and focal length the lift may use: ``settings.footage``, else ``source``
    itself when it is footage, else the footage found beside the keypoint file or folder
    (:func:`lfm_engine.footage.find_footage`); None when there is none.

    Raises:
        InputError: ``settings.footage`` does not exist.
    """
    if settings.footage:
        return footage_io.probe(settings.footage)
    if isinstance(source, Keypoints2D):
        return None
    path = Path(source) if is_footage else footage_io.find_footage(source)
    return footage_io.probe(path) if path is not None else None


def _frame_range(settings: LiftSettings, T: int, src: str) -> np.ndarray:
    start = int(settings.frame_start)
    end = T - 1 if settings.frame_end is None or settings.frame_end < 0 else int(settings.frame_end)
    if not 0 <= start < T:
        raise InputError(f"{src}: start frame {start} is outside the clip (frames 0..{T - 1})")
    end = min(end, T - 1)
    if end < start:
        raise InputError(f"{src}: end frame {end} is before start frame {start}")
    return np.arange(start, end + 1)


def _footage_range(settings: LiftSettings) -> detect.DetectSettings:
    """The detection settings for footage: ``settings.detection`` with the lift's frame range, unless it is the
    default (0 to the end)."""
    det = settings.detection or detect.DetectSettings()
    if settings.frame_start or settings.frame_end is not None:
        det = dataclasses.replace(det, frame_start=int(settings.frame_start), frame_end=settings.frame_end)
    return det


def liftable(points: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """``(T,)`` bool: frames with at least two distinct visible joints (what :meth:`Lifter.lift` accepts)."""
    count = visible.sum(-1)
    safe = np.where(visible[..., None], points, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with no visible joint
        spread = np.nanmax(safe, axis=1) - np.nanmin(safe, axis=1)  # (T, 2)
    return (count >= 2) & (np.nan_to_num(spread, nan=0.0).max(-1) > 0)


def _add_virtual_joints(body, points, conf, visible, lifted, camera: CameraModel):
    """The arrays with ``body``'s virtual joints appended: the 2D point the midpoint of its two joints' (float32,
    as :attr:`ClipResult.points2d` keeps it), visible where both are, the lower confidence, and the lifted point at
    the two joints' mean depth on the camera ray through that 2D point (so that it projects onto it as every
    lifted joint does; the 3D midpoint where the 2D one is missing)."""
    J = points.shape[1]
    points = body.extend(points).astype(np.float32).astype(np.float64)
    lifted = body.extend(lifted)
    uv = points[:, J:]  # (T, K, 2)
    depth = lifted[:, J:, 2:3].astype(np.float64)
    on_ray = np.concatenate([(uv - np.asarray(camera.principal_point)) * depth / camera.focal_length, depth], -1)
    seen = np.isfinite(on_ray).all(-1, keepdims=True)
    lifted[:, J:] = np.where(seen, on_ray, lifted[:, J:]).astype(lifted.dtype)
    return points, body.extend_confidence(conf), body.extend_visible(visible), lifted


# ---------------------------------------------------------------------- the pipeline
def lift_steps(
    source: str | os.PathLike | Keypoints2D, settings: LiftSettings | None = None, *, lifter: Lifter | None = None
) -> Generator[tuple[int, int], None, ClipResult]:
    """Read, lift and fit one clip, one chunk of frames per step.

    ``source`` is a keypoint file or folder (:func:`lfm_engine.io.read_keypoints`), a :class:`Keypoints2D`, or
    footage (a video, an image, a folder of images: :func:`lfm_engine.detect.is_footage`), which is first run
    through :func:`lfm_engine.detect.detect_steps` with ``settings.detection``. Detections in a whole-body layout
    lose the parts never found in the clip (:func:`lfm_engine.wholebody.drop_missing_parts`) unless a rig is given.

    Yields ``(frames_done, frames_total)`` (footage: the frames detected, one per step; then the frames to lift)
    before the first chunk and after each; returns
    (``StopIteration.value``) the :class:`ClipResult`. Closing the generator cancels the work; nothing outside it
    is changed.

    Raises:
        LFMError: unreadable input (:class:`InputError`), bad rig (:class:`RigError`), missing or invalid weights
            (:class:`WeightsError`); each message names the file and what is wrong.
    """
    s = settings or LiftSettings()
    if s.placement not in arm.PLACEMENTS:
        raise InputError(f"unknown placement {s.placement!r}; use one of {', '.join(arm.PLACEMENTS)}")
    if s.contact_mode not in contacts.CONTACT_MODES:
        raise InputError(f"unknown contact mode {s.contact_mode!r}; use one of {', '.join(contacts.CONTACT_MODES)}")
    if s.whole_body not in wholebody.MODES:
        raise InputError(f"unknown whole-body mode {s.whole_body!r}; use one of {', '.join(wholebody.MODES)}")
    footage = not isinstance(source, Keypoints2D) and detect.is_footage(source)
    if isinstance(source, Keypoints2D) or footage:
        if isinstance(source, Keypoints2D):
            kp = source
        else:  # detect first, only the frames to lift: the progress counts them detected, then lifted
            kp = (yield from detect.detect_steps(source, _footage_range(s))).keypoints
            s = dataclasses.replace(s, frame_start=0, frame_end=None)  # what was detected is the range
        if s.fps:
            kp = dataclasses.replace(kp, fps=s.fps)
    else:
        kp = read_keypoints(source, **({"fps": s.fps} if s.fps else {}))
    src = kp.source or str(source)
    if s.rig in (None, ""):
        kp = wholebody.drop_missing_parts(kp)
    rig = load_rig(s.rig, kp)
    notes: list[str] = []
    meta = None
    if (s.image_size is None and kp.image_size is None) or kp.fps is None or s.focal_length is None:
        meta = footage_for(source, s, is_footage=footage)
    if meta is not None:  # keep only what it gives that nothing before it gave
        meta = dataclasses.replace(
            meta, image_size=meta.image_size if s.image_size is None and kp.image_size is None else None,
            fps=meta.fps if kp.fps is None else None,
            focal_length_35mm=meta.focal_length_35mm if s.focal_length is None else None,
        )  # fmt: skip
        used = [what for what, v in (("image size", meta.image_size), ("frame rate", meta.fps)) if v is not None]
        if used:
            notes.append(f"{' and '.join(used)} from the footage {meta.path}")
        if meta.fps is not None:
            kp = dataclasses.replace(kp, fps=meta.fps)
    camera = camera_for(kp, s, meta)
    frames = _frame_range(s, kp.num_frames, src)
    footage_frames = kp.frame_ids[frames] if footage and kp.frame_ids is not None else frames
    points = np.asarray(kp.points[frames], dtype=np.float64)  # (T, J, 2)
    conf = np.asarray(kp.confidence[frames])
    visible = np.isfinite(points).all(-1) & (conf > s.confidence_threshold)
    ok = liftable(points, visible)
    if not ok.any():
        raise InputError(f"{src}: no frame in {frames[0]}..{frames[-1]} has two visible joints (confidence above "
                         f"{s.confidence_threshold}); nothing to lift")  # fmt: skip
    lifter = lifter or load_lifter(s.weights, s.backend)
    T, J = points.shape[:2]
    lifted = np.full((T, J, 3), np.nan, dtype=np.float32)
    todo = np.flatnonzero(ok)
    step = max(1, min(MAX_CHUNK_FRAMES, lifter._chunk(J)))
    yield 0, len(todo)
    for a in range(0, len(todo), step):
        idx = todo[a : a + step]
        if rig.name in wholebody.WHOLE_BODY_LAYOUTS and rig.joint_names == get_rig(rig.name).joint_names:
            lifted[idx] = wholebody.lift_whole_body(lifter, points[idx], visible[idx], rig.name, camera.focal_length,
                                                    camera.principal_point, mode=s.whole_body)  # fmt: skip
        else:
            lifted[idx] = lifter.lift(points[idx], edges=rig, mask=visible[idx], focal_length=camera.focal_length,
                                      principal_point=camera.principal_point)  # fmt: skip
        yield a + len(idx), len(todo)
    if not ok.all():
        bad = frames[~ok]
        notes.append(f"{bad.size} frame(s) with fewer than two visible joints were interpolated (first: {bad[0]})")
        lifted = arm.fill_missing(lifted).astype(np.float32)
    if camera.assumed:
        notes.append(f"no focal length given: assumed a {DEFAULT_FIELD_OF_VIEW:g} degree field of view across the "
                     f"image's larger side ({camera.focal_length:.0f} px, {camera.lens_mm:.1f} mm on a "
                     f"{SENSOR_WIDTH_MM:g} mm sensor)")  # fmt: skip
    elif s.focal_length is None:
        notes.append(f"focal length {meta.focal_length_35mm:g} mm (35 mm equivalent) from the footage's metadata: "
                     f"{camera.focal_length:.0f} px")  # fmt: skip
    if meta is None:
        why = "not in the file, no footage given or found beside it"
    else:
        why = f"not in the file nor in the footage {meta.path.name}" + "".join(f"; {n}" for n in meta.notes)
    warns = []
    if not camera.image_size_known:
        warns.append(LiftWarning("image_size", f"image size unknown ({why}): assumed {camera.image_size[0]}x"
                                 f"{camera.image_size[1]} from the points"))  # fmt: skip
    if kp.fps is None and T > 1:
        warns.append(LiftWarning("fps", f"frame rate unknown ({why}): assumed {s.default_fps:g} fps"))
    # The armature's skeleton: for a standard layout its anatomy, with the virtual pelvis and neck it lacks
    # appended as joints from here on (lfm_engine.anatomy).
    body = anatomy(rig)
    if body.virtual:
        points, conf, visible, lifted = _add_virtual_joints(body, points, conf, visible, lifted, camera)
    rig = body.rig
    J = rig.num_joints
    vertical = rig.category == "human"
    height = float(s.height) if s.height else arm.default_height(rig.category)
    raw_world = arm.camera_to_world(lifted)
    scale = height / arm.subject_extent(raw_world, vertical=vertical)
    fps = kp.fps or s.default_fps
    world = arm.smooth(raw_world * scale, fps, s.smoothing, s.smoothing_strength)
    rest = None if s.rest_frame is None else int(s.rest_frame)
    solution, camera_matrix, camera_locations = None, CAMERA_MATRIX.copy(), None
    if s.solve_clip and J > MAX_SOLVER_JOINTS:
        notes.append(f"the clip solver handles rigs of up to {MAX_SOLVER_JOINTS} joints; these {J} were placed frame "
                     "by frame")  # fmt: skip
    elif s.solve_clip and (world[..., 1] <= 0).any():
        notes.append("the clip solver needs every lifted point in front of the camera; placed frame by frame")
    elif s.solve_clip:
        solution = clip_solver.solve_clip(
            world, points, visible, rig, focal_length=camera.focal_length, principal_point=camera.principal_point,
            fps=fps, confidence=conf, height=height, contact_overrides=s.contact_overrides,
            settings=clip_solver.SolverSettings(contact_mode=s.contact_mode, root_motion=s.root_motion),
        )  # fmt: skip
        notes.append(solution.summary())
        world = ground.apply(solution.transform, world) - solution.root_offsets[:, None, :]
        camera_matrix = solution.camera_matrix
        if solution.root_offsets.any():
            camera_locations = solution.camera_locations
    if solution is not None:
        animation = arm.build_armature(solution.joints, rig, rest_frame=rest, placement="direction",
                                       bone_names=body.bone_names)  # fmt: skip
    else:
        rays = None
        if s.placement == "ray":
            # The rays through the keypoints; with smoothing, through the smoothed points' projections.
            track = points if s.smoothing == "none" else camera.project(arm.world_to_camera(world))
            rays = arm.camera_to_world(arm.camera_rays(track, camera.focal_length, camera.principal_point, visible))
        animation = arm.build_armature(world, rig, rest_frame=rest, placement=s.placement, rays=rays,
                                       bone_names=body.bone_names)  # fmt: skip
    misses = int(animation.ray_misses.sum())
    if misses:
        notes.append(f"{misses} joint-frame(s) could not reach their camera ray at their bone length (placed as near "
                     "to it as the length allows)")  # fmt: skip
    if kp.frame_ids is not None:
        ids = np.asarray(kp.frame_ids[frames], dtype=np.int64)
        offsets = ids - ids[0] if np.all(np.diff(ids) > 0) else np.arange(T)
    else:
        offsets = np.arange(T)
    path = Path(src)
    name = path.name if path.is_dir() else path.stem
    return ClipResult(
        name=name or "clip", source=src, rig=rig, points2d=points.astype(np.float32), visible=visible,
        lifted=lifted, lifted_frames=ok, world=world, armature=animation, camera=camera, fps=kp.fps,
        frame_offsets=offsets.astype(np.int64), frame_indices=np.asarray(footage_frames, dtype=np.int64),
        scale=float(scale), height=height, notes=tuple(notes),
        frame_ids=None if kp.frame_ids is None else np.asarray(kp.frame_ids[frames], dtype=np.int64),
        solution=solution, camera_matrix=camera_matrix, camera_locations=camera_locations, warnings=tuple(warns),
        footage=meta.path if meta is not None and (meta.image_size or meta.fps or meta.focal_length_35mm) else None,
    )  # fmt: skip


def run(
    source: str | os.PathLike,
    settings: LiftSettings | None = None,
    *,
    lifter: Lifter | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> ClipResult:
    """:func:`lift_steps` run to the end; ``progress(done, total)`` after each step (raise from it to cancel)."""
    return run_to_end(lift_steps(source, settings, lifter=lifter), progress)


__all__ = [
    "CAMERA_MATRIX",
    "DEFAULT_FIELD_OF_VIEW",
    "DEFAULT_FPS",
    "MAX_SOLVER_JOINTS",
    "SENSOR_WIDTH_MM",
    "CameraModel",
    "ClipResult",
    "LiftSettings",
    "LiftWarning",
    "camera_for",
    "footage_for",
    "lift_steps",
    "liftable",
    "load_lifter",
    "load_rig",
    "read_rig_file",
    "run",
]
