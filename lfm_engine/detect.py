"""2D keypoints from footage with MediaPipe: a video file, an image sequence or a single image -> :class:`Detections`.

The models are the ones shipped inside the ``mediapipe`` wheel (its legacy ``mp.solutions`` API), so detection is
fully offline: ``Holistic`` (pose with ``model_complexity=1``, both hands, the face mesh with refined irises) for the
whole body, or ``Pose`` alone when neither hands nor face are wanted. ``mediapipe`` and ``cv2`` (OpenCV) are the
optional extra ``lfm_engine[detect]`` and are imported only when a detection runs.

>>> det = detect("clip.mp4", DetectSettings(), progress=lambda done, total: print(done, total))
>>> det.keypoints.points.shape        # (T, 553, 2) pixels, layout "mediapipe_holistic553"; NaN where not found
>>> det.timestamps                    # (T,) seconds of each frame in the footage
>>> det.part("right_hand")            # the right hand alone, layout "mediapipe_hand21"

What comes out
--------------
* Points are pixels of the full frame, x right, y down (MediaPipe's normalised ``x * width``, ``y * height``); its
  ``z`` is dropped. ``left`` and ``right`` are the subject's own sides.
* Confidence: the pose landmarks' ``visibility`` (clipped to [0, 1]); hand and face landmarks carry no score in
  MediaPipe, so they get 1 where the part is found. A part not found in a frame is missing there (NaN, confidence
  0): a frame where nothing is found is masked entirely.
* ``frame_ids`` are the frames' indices in the footage (a video's frame numbers, or the position in the image
  sequence), ``fps`` the footage's frame rate (a video's own; for images, ``DetectSettings.fps`` or None), and
  :attr:`Detections.timestamps` the time of each frame in seconds (the video's presentation times when it gives
  them, else ``frame_id / fps``).

Progress and cancellation follow :mod:`lfm_engine.pipeline`: :func:`detect_steps` is a generator yielding
``(frames_done, frames_total)`` after each frame (close it to cancel); :func:`detect` runs it, calling ``progress``
(raise from it to cancel).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DependencyError, InputError, LFMError
from .io.base import Keypoints2D, trailing_number
from .layouts import HOLISTIC_PARTS, get_rig
from .steps import run_to_end

#: File extensions read as videos (anything OpenCV's FFmpeg backend opens works when named explicitly).
VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".ogv", ".mts")
#: File extensions read as images (a single image, or the frames of an image-sequence folder).
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: Parts of the whole-body layouts, in order (see :data:`lfm_engine.layouts.HOLISTIC_PARTS`).
PARTS = tuple(HOLISTIC_PARTS)
#: The standard layout of each part when taken alone (the face: with irises / without).
PART_LAYOUTS = {"body": "mediapipe_pose33", "left_hand": "mediapipe_hand21", "right_hand": "mediapipe_hand21"}

__all__ = [
    "IMAGE_EXTENSIONS",
    "PARTS",
    "VIDEO_EXTENSIONS",
    "DetectSettings",
    "Detections",
    "FootageInfo",
    "detect",
    "detect_steps",
    "footage_info",
    "is_footage",
    "load_detections",
]


@dataclass(frozen=True)
class DetectSettings:
    """What to detect and how.

    Attributes:
        hands: detect both hands (21 landmarks each).
        face: detect the face mesh.
        refine_face: the face with MediaPipe's 10 refined iris landmarks (478 points, layout
            ``mediapipe_holistic553``), else 468 (``mediapipe_holistic543``).
        model_complexity: the pose model, 0 (lite), 1 (full, the default) or 2 (heavy).
        min_detection_confidence, min_tracking_confidence: MediaPipe's thresholds, in [0, 1].
        frame_start, frame_end: the footage frames to detect, 0-based, ``frame_end`` inclusive (None: to the end).
        fps: frame rate of an image sequence (a video's own rate is always used); None: unknown.

    With neither hands nor face only MediaPipe ``Pose`` runs and the layout is ``mediapipe_pose33``; otherwise
    ``Holistic`` runs and the layout is the whole body, with the parts not asked for left missing.
    """

    hands: bool = True
    face: bool = True
    refine_face: bool = True
    model_complexity: int = 1
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    frame_start: int = 0
    frame_end: int | None = None
    fps: float | None = None

    @property
    def layout(self) -> str:
        """The standard layout of the detections."""
        if not (self.hands or self.face):
            return "mediapipe_pose33"
        return "mediapipe_holistic553" if self.refine_face else "mediapipe_holistic543"


@dataclass(frozen=True, eq=False)
class Detections:
    """What :func:`detect` found in one piece of footage.

    Attributes:
        keypoints: ``(T, J, 2)`` pixels with confidence, joint names and links of :attr:`DetectSettings.layout`,
            the footage's image size and fps, ``frame_ids`` the frames' indices in the footage, ``source`` the
            footage path.
        timestamps: ``(T,)`` float64 seconds of each frame in the footage.
    """

    keypoints: Keypoints2D
    timestamps: np.ndarray

    @property
    def num_frames(self) -> int:
        return self.keypoints.num_frames

    @property
    def layout(self) -> str:
        return self.keypoints.rig_name or ""

    def found(self, part: str = "body") -> np.ndarray:
        """``(T,)`` bool: frames where ``part`` (one of :data:`PARTS`) was found."""
        return self.part(part).mask.any(-1)

    def part(self, name: str) -> Keypoints2D:
        """One part alone (``"body"``, ``"left_hand"``, ``"right_hand"`` or ``"face"``) in its own standard layout
        (:data:`PART_LAYOUTS`; the face: ``mediapipe_facemesh478`` or ``468``)."""
        kp = self.keypoints
        if name not in PARTS:
            raise InputError(f"{kp.source}: unknown part {name!r}; parts: {', '.join(PARTS)}")
        if kp.rig_name == "mediapipe_pose33":
            if name != "body":
                raise InputError(f"{kp.source}: only the body was detected (no {name.replace('_', ' ')})")
            return kp
        a, b = HOLISTIC_PARTS[name]
        b = kp.num_joints if b is None else b
        layout = PART_LAYOUTS.get(name) or ("mediapipe_facemesh478" if b - a == 478 else "mediapipe_facemesh468")
        rig = get_rig(layout)
        return Keypoints2D(
            kp.points[:, a:b], kp.confidence[:, a:b], rig.joint_names, rig.edge_array(), image_size=kp.image_size,
            fps=kp.fps, source=kp.source, rig_name=layout, frame_ids=kp.frame_ids,
        )  # fmt: skip

    def save(self, path: str | os.PathLike) -> Path:
        """Write to ``path`` (``.npz``): the keys of :func:`lfm_engine.io.write_keypoints_npz` (so
        :func:`lfm_engine.io.read_keypoints` reads it as keypoints) plus ``timestamps`` and ``footage``."""
        kp = self.keypoints
        p = Path(path)
        if p.suffix.lower() != ".npz":
            p = p.with_name(p.name + ".npz")
        p.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "points": kp.points,
            "confidence": kp.confidence,
            "joint_names": np.asarray(kp.joint_names, dtype=str),
            "edges": kp.edges,
            "rig_name": np.asarray(kp.rig_name or "", dtype=str),
            "frame_ids": kp.frame_ids if kp.frame_ids is not None else np.arange(kp.num_frames),
            "timestamps": np.asarray(self.timestamps, dtype=np.float64),
            "footage": np.asarray(kp.source, dtype=str),
        }
        if kp.image_size is not None:
            data["image_size"] = np.asarray(kp.image_size, dtype=np.int64)
        if kp.fps is not None:
            data["fps"] = np.float64(kp.fps)
        tmp = p.with_name(p.name + ".part.npz")
        np.savez_compressed(tmp, **data)
        os.replace(tmp, p)
        return p


def load_detections(path: str | os.PathLike) -> Detections:
    """Read what :meth:`Detections.save` wrote. Raises :class:`InputError` for a file without ``timestamps``."""
    from .io import read_npz

    kp = read_npz(path)
    with np.load(path, allow_pickle=False) as z:
        if "timestamps" not in z.files:
            raise InputError(f"{path}: not a detections file (no 'timestamps'); read it with read_keypoints")
        ts = np.asarray(z["timestamps"], dtype=np.float64)
        footage = str(z["footage"]) if "footage" in z.files else kp.source
    if ts.shape != (kp.num_frames,):
        raise InputError(f"{path}: {ts.size} timestamps for {kp.num_frames} frames")
    kp = Keypoints2D(kp.points, kp.confidence, kp.joint_names, kp.edges, image_size=kp.image_size, fps=kp.fps,
                     source=footage, rig_name=kp.rig_name, frame_ids=kp.frame_ids)  # fmt: skip
    return Detections(kp, ts)


# ---------------------------------------------------------------------- footage
@dataclass(frozen=True)
class FootageInfo:
    """What a piece of footage is.

    Attributes:
        kind: ``"video"``, ``"images"`` (a folder of numbered images) or ``"image"``.
        path: the file or folder.
        frames: the image files of an ``"images"`` sequence in order (one for ``"image"``; empty for a video).
        num_frames: the frame count (a video's container count, which can be off by a few frames).
        fps: frames per second, or None when unknown.
        image_size: ``(width, height)`` pixels.
    """

    kind: str
    path: Path
    frames: tuple[Path, ...]
    num_frames: int
    fps: float | None
    image_size: tuple[int, int]


def is_footage(path: str | os.PathLike) -> bool:
    """True when ``path`` names a video or image file, or a folder holding images (and no ``.json`` keypoints)."""
    p = Path(path)
    if p.is_dir():
        return bool(_image_files(p)) and not any(p.glob("*.json"))
    return p.suffix.lower() in VIDEO_EXTENSIONS + IMAGE_EXTENSIONS


def _image_files(folder: Path) -> list[Path]:
    files = [f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(files, key=lambda f: (trailing_number(f.stem) is None, trailing_number(f.stem) or 0, f.name))


def _cv2():
    try:
        import cv2
    except ImportError as exc:
        raise DependencyError(f"detection needs OpenCV (pip install 'lfm_engine[detect]'): {exc}", package="cv2",
                              extra="detect") from None  # fmt: skip
    return cv2


def _read_image(path: Path) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB."""
    cv2 = _cv2()
    data = np.fromfile(path, dtype=np.uint8) if path.is_file() else None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
    if img is None:
        raise InputError(f"{path}: cannot read the image (missing, empty or not an image file)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def footage_info(path: str | os.PathLike, fps: float | None = None) -> FootageInfo:
    """Open ``path`` far enough to know what it is (see :class:`FootageInfo`).

    Raises:
        InputError: missing path; an empty folder; a file that is not a readable video or image; a video with no
            frame; image sequences whose images differ in size are found while detecting.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: footage not found")
    if p.is_dir():
        files = _image_files(p)
        if not files:
            raise InputError(f"{p}: no image files in the folder ({', '.join(IMAGE_EXTENSIONS)})")
        h, w = _read_image(files[0]).shape[:2]
        return FootageInfo("images", p, tuple(files), len(files), fps, (w, h))
    if p.suffix.lower() in IMAGE_EXTENSIONS:
        h, w = _read_image(p).shape[:2]
        return FootageInfo("image", p, (p,), 1, fps, (w, h))
    cv2 = _cv2()
    if p.stat().st_size == 0:
        raise InputError(f"{p}: the video file is empty (0 bytes)")
    cap = cv2.VideoCapture(str(p))
    try:
        if not cap.isOpened():
            raise InputError(f"{p}: cannot open the video (unknown format or corrupt file)")
        ok, frame = cap.read()
        if not ok or frame is None:
            raise InputError(f"{p}: the video has no readable frame")
        h, w = frame.shape[:2]
        rate = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    finally:
        cap.release()
    return FootageInfo("video", p, (), max(count, 1), rate if rate > 0 and math.isfinite(rate) else None, (w, h))


def _video_frames(info: FootageInfo, start: int, end: int | None) -> Iterator[tuple[int, float | None, np.ndarray]]:
    """``(index, time in seconds or None, RGB frame)`` of frames ``start..end`` of a video.

    The frames before ``start`` are not decoded one by one: the video is seeked to ``start``
    (``CAP_PROP_POS_FRAMES``; OpenCV's FFmpeg backend seeks to the key frame before it and decodes forward to the
    exact frame). When the backend cannot seek there, the frames before ``start`` are skipped with ``grab`` (no
    colour conversion), so the indices and times stay right either way.
    """
    cv2 = _cv2()
    cap = cv2.VideoCapture(str(info.path))
    try:
        index = 0
        if start > 0 and cap.set(cv2.CAP_PROP_POS_FRAMES, start) and int(cap.get(cv2.CAP_PROP_POS_FRAMES)) == start:
            index = start
        elif start > 0:  # no seeking: start again from the first frame and skip
            cap.release()
            cap = cv2.VideoCapture(str(info.path))
        while end is None or index <= end:
            if index < start:
                if not cap.grab():
                    return
                index += 1
                continue
            ok, frame = cap.read()
            if not ok or frame is None:
                return
            msec = cap.get(cv2.CAP_PROP_POS_MSEC)
            yield index, (msec / 1000.0 if msec is not None and msec >= 0 else None), frame[..., ::-1]
            index += 1
    finally:
        cap.release()


def _image_frames(info: FootageInfo, start: int, end: int | None) -> Iterator[tuple[int, float | None, np.ndarray]]:
    last = len(info.frames) - 1 if end is None else min(end, len(info.frames) - 1)
    for index in range(start, last + 1):
        img = _read_image(info.frames[index])
        if (img.shape[1], img.shape[0]) != info.image_size:
            raise InputError(f"{info.frames[index]}: image is {img.shape[1]}x{img.shape[0]} but the sequence's first "
                             f"image is {info.image_size[0]}x{info.image_size[1]}")  # fmt: skip
        yield index, None, img


# ---------------------------------------------------------------------- MediaPipe
def _solution(settings: DetectSettings, static: bool):
    try:
        import mediapipe as mp
    except ImportError as exc:
        raise DependencyError(f"detection needs mediapipe (pip install 'lfm_engine[detect]'): {exc}",
                              package="mediapipe", extra="detect") from None  # fmt: skip
    common = dict(
        static_image_mode=static,
        model_complexity=settings.model_complexity,
        min_detection_confidence=settings.min_detection_confidence,
        min_tracking_confidence=settings.min_tracking_confidence,
    )
    if settings.layout == "mediapipe_pose33":
        return mp.solutions.pose.Pose(**common)
    return mp.solutions.holistic.Holistic(**common, refine_face_landmarks=settings.refine_face)


def _landmarks(lms, n: int, size: tuple[int, int], with_visibility: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(n, 2)`` pixels and ``(n,)`` confidence of a MediaPipe landmark list (NaN / 0 when it is None)."""
    pts = np.full((n, 2), np.nan, dtype=np.float32)
    conf = np.zeros(n, dtype=np.float32)
    if lms is None:
        return pts, conf
    marks = lms.landmark
    if len(marks) != n:
        raise LFMError(f"MediaPipe gave {len(marks)} landmarks where {n} were expected")
    w, h = size
    pts[:, 0] = [m.x * w for m in marks]
    pts[:, 1] = [m.y * h for m in marks]
    conf[:] = np.clip([m.visibility for m in marks], 0.0, 1.0) if with_visibility else 1.0
    return pts, conf


def _frame_keypoints(result, settings: DetectSettings, size, J: int) -> tuple[np.ndarray, np.ndarray]:
    pts = np.full((J, 2), np.nan, dtype=np.float32)
    conf = np.zeros(J, dtype=np.float32)
    a, b = HOLISTIC_PARTS["body"]
    pts[a:b], conf[a:b] = _landmarks(result.pose_landmarks, b - a, size, with_visibility=True)
    if b == J:
        return pts, conf
    wanted = {"left_hand": settings.hands, "right_hand": settings.hands, "face": settings.face}
    for part, on in wanted.items():
        if not on:
            continue
        a, b = HOLISTIC_PARTS[part]
        b = J if b is None else b
        pts[a:b], conf[a:b] = _landmarks(getattr(result, f"{part}_landmarks"), b - a, size, with_visibility=False)
    return pts, conf


def _check_settings(s: DetectSettings) -> None:
    if s.model_complexity not in (0, 1, 2):
        raise InputError(f"model_complexity must be 0, 1 or 2, got {s.model_complexity!r}")
    for name in ("min_detection_confidence", "min_tracking_confidence"):
        v = getattr(s, name)
        if not 0.0 <= v <= 1.0:
            raise InputError(f"{name} must be in [0, 1], got {v!r}")
    if s.frame_start < 0:
        raise InputError(f"start frame must be 0 or more, got {s.frame_start}")
    if s.frame_end is not None and 0 <= s.frame_end < s.frame_start:
        raise InputError(f"end frame {s.frame_end} is before start frame {s.frame_start}")
    if s.fps is not None and not (s.fps > 0 and math.isfinite(s.fps)):
        raise InputError(f"fps must be positive, got {s.fps!r}")


# ---------------------------------------------------------------------- detection
def detect_steps(
    source: str | os.PathLike, settings: DetectSettings | None = None
) -> Generator[tuple[int, int], None, Detections]:
    """Detect the keypoints of one person in ``source``, one frame per step.

    Yields ``(frames_done, frames_total)`` before the first frame and after each (the total is the video's frame
    count, which can be off by a few frames until the end); returns (``StopIteration.value``) the
    :class:`Detections`. Closing the generator cancels the detection and releases the video and the model.

    Raises:
        InputError: missing, empty or unreadable footage (the message names the file, and the frame where it
            matters), a start frame past the end, bad settings.
        DependencyError: mediapipe or OpenCV not installed (``extra == "detect"``).
    """
    s = settings or DetectSettings()
    _check_settings(s)
    info = footage_info(source, s.fps)
    fps = info.fps if info.kind == "video" else s.fps
    end = s.frame_end if s.frame_end is not None and s.frame_end >= 0 else None
    last = info.num_frames - 1 if end is None else min(end, info.num_frames - 1)
    if info.kind != "video" and s.frame_start > last:
        raise InputError(f"{info.path}: start frame {s.frame_start} is past the last frame ({info.num_frames - 1})")
    total = max(1, last - s.frame_start + 1)
    rig = get_rig(s.layout)
    J = rig.num_joints
    frames = _video_frames if info.kind == "video" else _image_frames
    ids: list[int] = []
    times: list[float | None] = []
    points: list[np.ndarray] = []
    confidence: list[np.ndarray] = []
    yield 0, total
    with _solution(s, static=info.kind == "image") as model:
        for index, t, rgb in frames(info, s.frame_start, end):
            result = model.process(np.ascontiguousarray(rgb))
            p, c = _frame_keypoints(result, s, info.image_size, J)
            ids.append(index)
            times.append(t)
            points.append(p)
            confidence.append(c)
            yield len(ids), max(total, len(ids))
    if not ids:
        raise InputError(f"{info.path}: no frame to detect (start frame {s.frame_start}, the footage has "
                         f"{info.num_frames} frame(s))")  # fmt: skip
    frame_ids = np.asarray(ids, dtype=np.int64)
    kp = Keypoints2D(
        np.stack(points), np.stack(confidence), rig.joint_names, rig.edge_array(), image_size=info.image_size,
        fps=fps, source=str(info.path), rig_name=rig.name, frame_ids=frame_ids,
    )  # fmt: skip
    return Detections(kp, _timestamps(times, frame_ids, fps))


def _timestamps(times: list[float | None], frame_ids: np.ndarray, fps: float | None) -> np.ndarray:
    """The video's own times when it gives increasing ones, else ``frame_id / fps`` (``frame_id`` without fps)."""
    if all(t is not None for t in times):
        ts = np.asarray(times, dtype=np.float64)
        if len(ts) == 1 or np.all(np.diff(ts) > 0):
            return ts
    return frame_ids.astype(np.float64) / (fps or 1.0)


def detect(
    source: str | os.PathLike,
    settings: DetectSettings | None = None,
    *,
    progress: Callable[[int, int], object] | None = None,
) -> Detections:
    """:func:`detect_steps` run to the end; ``progress(done, total)`` after each frame (raise from it to cancel)."""
    return run_to_end(detect_steps(source, settings), progress)
