"""Reading 2D keypoints from the files of common pose estimators and labelling tools.

Every reader returns a :class:`Keypoints2D`: ``points`` ``(T, J, 2)`` pixels (x right, y down) with NaN where
missing, ``confidence`` ``(T, J)`` in [0, 1], ``joint_names``, ``edges``, and what the file says of the image
size and frame rate. :func:`read_keypoints` picks the reader from the path (and, for ``.json``, ``.csv`` and
``.h5``, from the content); docs/FORMATS.md describes each format, how missing points are handled and how one
person or animal is chosen. Every error is an :class:`~lfm_engine.errors.InputError` naming the file.

>>> kp = read_keypoints("clip_openpose_json/")          # a folder of OpenPose per-frame files
>>> points3d = Lifter.from_pretrained().lift(kp.points, edges=kp.rig(), confidence=kp.confidence)

Nothing here imports pandas or bpy; h5py is imported only to read ``.h5`` files, PyYAML only for a DeepLabCut
``config.yaml`` (with a small fallback reader when it is not installed).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError
from ._h5 import open_h5
from ._pandas_hdf import pandas_groups
from .base import Keypoints2D, load_json
from .coco import parse_coco, read_coco
from .dlc import read_dlc, read_dlc_csv, read_dlc_h5
from .mmpose import parse_mmpose, read_mmpose
from .native import read_csv, read_npz, write_keypoints_csv, write_keypoints_npz
from .openpose import parse_openpose, read_openpose
from .sleap import read_sleap
from .tracking import follow_track

__all__ = [
    "FILE_EXTENSIONS",
    "Keypoints2D",
    "available_formats",
    "detect_format",
    "follow_track",
    "read_coco",
    "read_csv",
    "read_dlc",
    "read_dlc_csv",
    "read_dlc_h5",
    "read_keypoints",
    "read_mmpose",
    "read_npz",
    "read_openpose",
    "read_sleap",
    "write_keypoints_csv",
    "write_keypoints_npz",
]

#: The readers by format name.
READERS: dict[str, Callable[..., Keypoints2D]] = {
    "openpose": read_openpose,
    "coco": read_coco,
    "mmpose": read_mmpose,
    "dlc_csv": read_dlc_csv,
    "dlc_h5": read_dlc_h5,
    "sleap": read_sleap,
    "npz": read_npz,
    "csv": read_csv,
}

#: File extensions :func:`read_keypoints` accepts (besides a folder of OpenPose ``.json`` files).
FILE_EXTENSIONS = (".json", ".csv", ".h5", ".hdf5", ".npz")


def available_formats() -> tuple[str, ...]:
    """Names of the formats :func:`read_keypoints` reads (values of its ``format=`` argument)."""
    return tuple(READERS)


def detect_format(path) -> str:
    """The format name of ``path`` from its extension and, where needed, its content.

    Raises :class:`InputError` for a missing path or an unknown format.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file or folder not found")
    if p.is_dir():
        return "openpose"
    ext = p.suffix.lower()
    if ext == ".json":
        return _json_format(load_json(p), p)
    if ext == ".csv":
        return _csv_format(p)
    if ext in (".h5", ".hdf5"):
        return _h5_format(p)
    if ext == ".npz":
        return "npz"
    raise InputError(f"{p}: unknown keypoint file type {ext or '(no extension)'!r}; readable: a folder of OpenPose "
                     f"JSON, {', '.join(FILE_EXTENSIONS)}")  # fmt: skip


def read_keypoints(path, format: str | None = None, **kwargs) -> Keypoints2D:
    """Read 2D keypoints from ``path``, whatever its format.

    Args:
        path: a folder of OpenPose ``*.json`` files, or a ``.json`` (OpenPose, COCO, MMPose), ``.csv``
            (DeepLabCut or ours), ``.h5`` (DeepLabCut or SLEAP) or ``.npz`` (ours) file.
        format: one of :func:`available_formats` to skip detection.
        **kwargs: passed to the reader (e.g. ``person=``, ``individual=``, ``track=``, ``fps=``); an argument
            the reader does not take raises :class:`InputError` listing those it takes.
    """
    p = Path(path)
    doc = None
    if format is None:
        if p.is_file() and p.suffix.lower() == ".json":
            doc = load_json(p)  # parsed once, for detection and reading
            fmt = _json_format(doc, p)
        else:
            fmt = detect_format(p)
    elif format in READERS:
        fmt = format
    else:
        raise InputError(f"{p}: unknown format {format!r}; formats: {', '.join(READERS)}")
    reader = READERS[fmt]
    params = [n for n, v in inspect.signature(reader).parameters.items() if v.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise InputError(f"{p}: the {fmt} reader takes no argument {', '.join(unknown)}; it takes {', '.join(params)}")
    if doc is not None:
        if fmt == "openpose":
            return parse_openpose([doc], [p], source=str(p), **kwargs)
        return (parse_coco if fmt == "coco" else parse_mmpose)(doc, source=str(p), **kwargs)
    return reader(p, **kwargs)


# ---------------------------------------------------------------------- sniffing
def _json_format(doc, p: Path) -> str:
    if isinstance(doc, dict):
        if "people" in doc:
            return "openpose"
        if "annotations" in doc and ("categories" in doc or "images" in doc):
            return "coco"
        if "instance_info" in doc or "predictions" in doc:
            return "mmpose"
        keys = ", ".join(sorted(map(str, doc))[:10])
        raise InputError(f"{p}: unknown JSON keypoint layout (top-level keys: {keys}); expected OpenPose "
                         "('people'), COCO ('annotations' + 'categories') or MMPose ('instance_info')")  # fmt: skip
    if isinstance(doc, list):
        return "mmpose"
    raise InputError(f"{p}: unknown JSON keypoint layout (a {type(doc).__name__} at the top level)")


def _csv_format(p: Path) -> str:
    try:
        with open(p, encoding="utf-8-sig") as f:
            for line in f:
                if not line.strip() or line.startswith("#"):
                    continue
                first = line.split(",")[0].strip().strip('"').lower()
                cells = {c.strip().strip('"').lower() for c in line.split(",")}
                if first == "scorer":
                    return "dlc_csv"
                if {"frame", "joint", "x", "y"} <= cells:
                    return "csv"
                break
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read the CSV file ({exc})") from None
    raise InputError(f"{p}: unknown CSV layout: expected DeepLabCut's header rows (scorer, bodyparts, coords) or "
                     "the header frame,joint,x,y,confidence")  # fmt: skip


def _h5_format(p: Path) -> str:
    with open_h5(p) as h5:
        if "tracks" in h5 and "node_names" in h5:
            return "sleap"
        if pandas_groups(h5):
            return "dlc_h5"
        keys = ", ".join(list(h5.keys())[:10])
    raise InputError(f"{p}: unknown HDF5 layout (top-level entries: {keys or 'none'}); expected a DeepLabCut "
                     "DataFrame or a SLEAP analysis file ('tracks', 'node_names')")  # fmt: skip
