"""What the footage of a keypoint file says about its camera: image size, frame rate and focal length.

Keypoint files often do not record the image size or the frame rate (OpenPose's JSON never does), and almost never
the focal length. The footage they were detected in does. :func:`find_footage` looks for it beside the keypoints,
:func:`probe` reads it; :func:`lfm_engine.pipeline.lift_steps` uses both (``LiftSettings.footage`` names it
instead).

Where footage is looked for (:func:`find_footage`)
--------------------------------------------------
The names tried, in order (case-insensitive):

1. for a folder of frames, the frame files' own prefix: their name without the frame number, ``_keypoints`` and
   the separator before them (``cam01.0042.json`` -> ``cam01``; ``video_000000000042_keypoints.json`` -> ``video``);
2. the folder's (or the file's) name without a detector suffix (:data:`KEYPOINT_SUFFIXES`: ``cam01_openpose_json``
   -> ``cam01``), then as it is.

The places, in order: inside the keypoint folder, then the folder that holds the keypoint folder or file. The
first match wins: a video file (:data:`lfm_engine.detect.VIDEO_EXTENSIONS`) named ``<name>.<ext>``, else a folder
``<name>`` holding images (an image sequence). So ``shot/cam01.mp4`` is the footage of both
``shot/cam01_openpose_json/`` and ``shot/cam01.npz``.

What is read (:func:`probe`)
----------------------------
* **MP4 and MOV** files are read with Python alone (no OpenCV, so inside plain Blender too): the video track's
  size (turned by its rotation matrix, as players and OpenCV show it), its frame rate (frames over duration) and
  Apple's QuickTime metadata ``com.apple.quicktime.camera.focal_length.35mm_equivalent`` (iPhones write it), the
  only focal length a video file commonly carries; nothing installed here reads a focal length from other
  containers or other makers' metadata.
* **Other videos and image sequences**: size and frame rate through OpenCV (the optional ``detect`` extra) when it
  can be imported; without it they stay unknown and :attr:`FootageCamera.notes` says why.
"""

from __future__ import annotations

import math
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DependencyError, InputError, LFMError

#: Suffixes of keypoint folder and file names that :func:`footage_names` strips to find the footage's name.
KEYPOINT_SUFFIXES = ("_openpose_json", "_openpose", "_keypoints", "_json", "_pose", "_2d")
#: The QuickTime metadata key of the 35 mm-equivalent focal length (Apple devices).
FOCAL_35MM_KEY = "com.apple.quicktime.camera.focal_length.35mm_equivalent"
#: The largest ``moov`` box read (its sample tables grow with the clip: about 10 bytes a frame).
MAX_MOOV_BYTES = 64 << 20
#: Container boxes walked to reach the video track's boxes and the metadata.
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts"}
#: Top-level box types of an ISO base media (MP4, MOV) file.
_TOP_LEVEL = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"pnot", b"meta", b"styp", b"sidx"}


@dataclass(frozen=True)
class FootageCamera:
    """What :func:`probe` learnt from a piece of footage (None where it could not tell).

    Attributes:
        path: the video file or image folder.
        image_size: ``(width, height)`` pixels as the frames are shown (a rotated phone video's turned size).
        fps: frames per second (None for image sequences).
        focal_length_35mm: the 35 mm-equivalent focal length in millimetres from the file's metadata.
        notes: why something could not be read.
    """

    path: Path
    image_size: tuple[int, int] | None = None
    fps: float | None = None
    focal_length_35mm: float | None = None
    notes: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------- finding it
def footage_names(source: str | os.PathLike) -> list[str]:
    """The names (without extension) :func:`find_footage` looks for, in order (see the module docs)."""
    p = Path(source)
    names: list[str] = []
    if p.is_dir():
        try:
            frames = sorted(f.stem for f in p.iterdir() if f.suffix.lower() == ".json" and f.is_file())
        except OSError:
            frames = []
        if frames:
            prefix = re.sub(r"(?i)_keypoints$", "", frames[0])
            prefix = re.sub(r"[._\- ]*\d+$", "", prefix)
            names.append(prefix)
        stem = p.name
    else:
        stem = p.stem
    low = stem.lower()
    for suffix in KEYPOINT_SUFFIXES:
        if low.endswith(suffix) and len(stem) > len(suffix):
            names.append(stem[: -len(suffix)])
            break
    names.append(stem)
    out: list[str] = []
    for n in names:
        if n and n.lower() not in (o.lower() for o in out):
            out.append(n)
    return out


def find_footage(source: str | os.PathLike) -> Path | None:
    """The footage of keypoint file or folder ``source`` found beside it (the module docs' rule), or None."""
    from .detect import VIDEO_EXTENSIONS

    p = Path(source)
    if not p.exists():
        return None
    names = [n.lower() for n in footage_names(p)]
    places = [p, p.parent] if p.is_dir() else [p.parent]
    for place in places:
        try:
            entries = sorted(place.iterdir(), key=lambda e: e.name)
        except OSError:
            continue
        for name in names:
            for e in entries:
                if e.stem.lower() == name and e.suffix.lower() in VIDEO_EXTENSIONS and e.is_file():
                    return e
            for e in entries:
                if e.name.lower() == name and e.is_dir() and e.resolve() != p.resolve() and _has_images(e):
                    return e
    return None


def _has_images(folder: Path) -> bool:
    from .detect import IMAGE_EXTENSIONS

    try:
        return any(f.suffix.lower() in IMAGE_EXTENSIONS for f in folder.iterdir())
    except OSError:
        return False


# ---------------------------------------------------------------------- reading it
def probe(path: str | os.PathLike) -> FootageCamera:
    """The image size, frame rate and 35 mm-equivalent focal length of footage ``path`` (see the module docs).

    Raises:
        InputError: ``path`` does not exist. Anything unreadable in an existing file is a note, not an error.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: footage not found")
    notes: list[str] = []
    info = None
    if p.is_file():
        try:
            info = read_quicktime(p)
        except OSError as exc:
            notes.append(f"cannot read {p.name} ({exc.strerror or exc})")
    if info is not None and info.image_size is not None:
        return FootageCamera(p, info.image_size, info.fps, info.focal_length_35mm, tuple(notes))
    focal = info.focal_length_35mm if info is not None else None
    try:
        from .detect import footage_info

        found = footage_info(p)
    except DependencyError:  # plain Blender
        notes.append("reading it needs OpenCV (the add-on's zip with detection, or pip install 'lfm_engine[detect]')")
        return FootageCamera(p, None, None, focal, tuple(notes))
    except LFMError as exc:  # a file OpenCV cannot open
        notes.append(str(exc))
        return FootageCamera(p, None, None, focal, tuple(notes))
    fps = found.fps if found.kind == "video" else None
    return FootageCamera(p, found.image_size, fps, focal, tuple(notes))


@dataclass(frozen=True)
class QuickTimeInfo:
    """The video track of an MP4 or MOV file (:func:`read_quicktime`); None where the file does not say."""

    image_size: tuple[int, int] | None
    fps: float | None
    focal_length_35mm: float | None


def read_quicktime(path: str | os.PathLike) -> QuickTimeInfo | None:
    """The first video track's size (after its rotation), frame rate and the 35 mm-equivalent focal length of an
    MP4 or MOV file, read from its boxes; None when ``path`` is not an ISO base media file or has no ``moov``.

    Raises:
        OSError: the file cannot be read.
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        moov = None
        off, first = 0, True
        while off + 8 <= size:
            fh.seek(off)
            head = fh.read(16)
            box, kind, hdr = _header(head, size - off)
            if box is None or (first and kind not in _TOP_LEVEL):
                return None
            first = False
            if kind == b"moov":
                if box > MAX_MOOV_BYTES:
                    return None
                fh.seek(off + hdr)
                moov = fh.read(box - hdr)
                break
            off += box
    if moov is None:
        return None
    return _parse_moov(moov)


def _header(buf: bytes, left: int) -> tuple[int | None, bytes, int]:
    """``(box size, type, header size)`` of the box at the start of ``buf`` (``left`` bytes remain in its parent);
    size None when it is not a valid box."""
    if len(buf) < 8:
        return None, b"", 0
    box, kind = struct.unpack(">I4s", buf[:8])
    hdr = 8
    if box == 1:
        if len(buf) < 16:
            return None, b"", 0
        box, hdr = struct.unpack(">Q", buf[8:16])[0], 16
    elif box == 0:
        box = left
    if box < hdr or box > left:
        return None, b"", 0
    return box, kind, hdr


def _boxes(buf: bytes, off: int = 0, end: int | None = None):
    """``(type, payload start, payload end)`` of the boxes in ``buf[off:end]``."""
    end = len(buf) if end is None else end
    while off + 8 <= end:
        box, kind, hdr = _header(buf[off : off + 16], end - off)
        if box is None:
            return
        yield kind, off + hdr, off + box
        off += box


def _parse_moov(moov: bytes) -> QuickTimeInfo:
    size = fps = focal = None
    focal = _metadata_focal(moov, 0, len(moov))
    for kind, a, b in _boxes(moov):
        if kind != b"trak":
            continue
        track = _video_track(moov, a, b)
        if track is not None:
            size, fps, track_focal = track
            focal = focal if focal is not None else track_focal
            break
    return QuickTimeInfo(size, fps, focal)


def _find(buf: bytes, a: int, b: int, *path: bytes) -> tuple[int, int] | None:
    """The payload range of the first box at ``path`` (types, one per level) inside ``buf[a:b]``."""
    for kind, s, e in _boxes(buf, a, b):
        if kind == path[0]:
            return (s, e) if len(path) == 1 else _find(buf, s, e, *path[1:])
    return None


def _video_track(buf: bytes, a: int, b: int):
    """``(size, fps, focal)`` of a ``trak`` box that is a video track, else None."""
    hdlr = _find(buf, a, b, b"mdia", b"hdlr")
    if hdlr is None or buf[hdlr[0] + 8 : hdlr[0] + 12] != b"vide":
        return None
    size = None
    tkhd = _find(buf, a, b, b"tkhd")
    if tkhd is not None:
        s, e = tkhd
        body = buf[s:e]
        start = 88 if body[:1] == b"\x01" else 76  # width, after the matrix (version 1: 64-bit times, duration)
        matrix_at = start - 36
        if len(body) >= start + 8:
            w, h = (round(v / 65536) for v in struct.unpack(">II", body[start : start + 8]))
            a_, b_, _u, c_, d_ = struct.unpack(">iiiii", body[matrix_at : matrix_at + 20])
            if abs(a_) < abs(b_) and abs(d_) < abs(c_):  # a quarter turn: shown the other way round
                w, h = h, w
            size = (w, h) if w > 0 and h > 0 else None
    fps = None
    mdhd = _find(buf, a, b, b"mdia", b"mdhd")
    stts = _find(buf, a, b, b"mdia", b"minf", b"stbl", b"stts")
    if mdhd is not None and stts is not None:
        body = buf[mdhd[0] : mdhd[1]]
        timescale = struct.unpack(">I", body[20:24] if body[:1] == b"\x01" else body[12:16])[0]
        table = buf[stts[0] : stts[1]]
        n = struct.unpack(">I", table[4:8])[0] if len(table) >= 8 else 0
        entries = [struct.unpack(">II", table[8 + 8 * k : 16 + 8 * k]) for k in range(min(n, (len(table) - 8) // 8))]
        frames = sum(c for c, _ in entries)
        ticks = sum(c * d for c, d in entries)
        if timescale and frames and ticks:
            rate = frames * timescale / ticks
            fps = float(round(rate, 3)) if math.isfinite(rate) and rate > 0 else None
    return size, fps, _metadata_focal(buf, a, b)


def _metadata_focal(buf: bytes, a: int, b: int) -> float | None:
    """The 35 mm-equivalent focal length in the QuickTime ``meta`` box directly inside ``buf[a:b]``."""
    meta = _find(buf, a, b, b"meta")
    if meta is None:
        return None
    s, e = meta
    if buf[s + 4 : s + 8] not in (b"hdlr", b"keys", b"ilst"):  # the ISO form has version and flags first
        s += 4
    keys = _find(buf, s, e, b"keys")
    items = _find(buf, s, e, b"ilst")
    if keys is None or items is None:
        return None
    names, k, (ks, ke) = [], 0, keys
    count = struct.unpack(">I", buf[ks + 4 : ks + 8])[0] if ke - ks >= 8 else 0
    off = ks + 8
    while k < count and off + 8 <= ke:
        n = struct.unpack(">I", buf[off : off + 4])[0]
        if n < 8:
            break
        names.append(buf[off + 8 : off + n].decode("utf-8", "replace"))
        off += n
        k += 1
    if FOCAL_35MM_KEY not in names:
        return None
    wanted = names.index(FOCAL_35MM_KEY) + 1  # items are numbered from 1
    for kind, s2, e2 in _boxes(buf, items[0], items[1]):
        if struct.unpack(">I", kind)[0] != wanted:
            continue
        data = _find(buf, s2, e2, b"data")
        if data is None:
            return None
        return _number(buf[data[0] : data[1]])
    return None


def _number(data: bytes) -> float | None:
    """A QuickTime ``data`` box's value as a positive number (text such as ``"26"`` or ``"50.00mm"``, an integer
    or a float), else None."""
    if len(data) < 8:
        return None
    kind = int.from_bytes(data[1:4], "big")
    value = data[8:]
    v: float | None = None
    if kind == 1:
        m = re.match(r"\s*([0-9]+(?:\.[0-9]*)?)", value.decode("utf-8", "replace"))
        v = float(m.group(1)) if m else None
    elif kind in (21, 22) and len(value) in (1, 2, 3, 4, 8):
        v = float(int.from_bytes(value, "big", signed=kind == 21))
    elif kind == 23 and len(value) == 4:
        v = struct.unpack(">f", value)[0]
    elif kind == 24 and len(value) == 8:
        v = struct.unpack(">d", value)[0]
    return v if v is not None and math.isfinite(v) and v > 0 else None


__all__ = [
    "FOCAL_35MM_KEY",
    "KEYPOINT_SUFFIXES",
    "FootageCamera",
    "QuickTimeInfo",
    "find_footage",
    "footage_names",
    "probe",
    "read_quicktime",
]
