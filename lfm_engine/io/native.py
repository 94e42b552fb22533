"""The project's own keypoint files: ``.npz`` (exact, compact) and a long-format ``.csv`` (easy to write by hand or
from a spreadsheet). Both hold one subject; :func:`write_keypoints_npz` and :func:`write_keypoints_csv` write
what :func:`read_npz` and :func:`read_csv` read back unchanged.

NPZ (``numpy.savez``; read with ``allow_pickle=False``):

=============== ============================ ============================================================
key             shape / type                 meaning
=============== ============================ ============================================================
``points``      ``(T, J, 2)`` float          pixels, x right, y down; NaN where missing (required)
``confidence``  ``(T, J)`` float in [0, 1]   optional; default 1 where the point is finite
``joint_names`` ``(J,)`` str                 optional; default the rig's names, else ``joint_0`` ...
``edges``       ``(E, 2)`` int               optional joint-index pairs
``image_size``  ``(2,)``                     optional (width, height) in pixels
``fps``         scalar                       optional frames per second
``rig_name``    scalar str                   optional standard layout name (``lfm_engine.available_rigs()``)
``frame_ids``   ``(T,)`` int                 optional frame numbers
=============== ============================ ============================================================

CSV, long format, one row per frame and joint, ``#`` lines before the header for what is not per point::

    # lfm_engine keypoints
    # fps: 30
    # image_size: 1920 1080
    # rig: coco17
    # edges: 0-1 0-2 1-3
    frame,joint,x,y,confidence
    0,nose,512.5,300.25,0.98
    0,left_eye,,,0

``frame`` is an integer frame number (frames are the distinct numbers, sorted; they become ``frame_ids``),
``joint`` a name (joints are numbered in order of first appearance, which ``edges`` refers to), ``x``/``y`` pixels;
an empty or ``nan`` x/y, or a joint absent from a frame, is missing. ``confidence`` is optional (default 1 where
present). Columns may come in any order; other columns are ignored. ``rig`` gives names-and-edges when there is
no ``edges`` line.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import InputError
from .base import MAX_ARRAY_BYTES, Keypoints2D, byte_size, check_file, generic_names, rig_names_edges

CSV_COLUMNS = ("frame", "joint", "x", "y", "confidence")


# ---------------------------------------------------------------------- NPZ
def write_keypoints_npz(kp: Keypoints2D, path) -> Path:
    """Write ``kp`` to ``path`` (``.npz`` is appended when missing, as numpy does); returns the path written."""
    data = {
        "points": kp.points,
        "confidence": kp.confidence,
        "joint_names": np.asarray(kp.joint_names, dtype=str),
        "edges": kp.edges,
    }
    if kp.image_size is not None:
        data["image_size"] = np.asarray(kp.image_size, dtype=np.int64)
    if kp.fps is not None:
        data["fps"] = np.float64(kp.fps)
    if kp.rig_name is not None:
        data["rig_name"] = np.asarray(kp.rig_name, dtype=str)
    if kp.frame_ids is not None:
        data["frame_ids"] = kp.frame_ids
    p = Path(path)
    if p.suffix.lower() != ".npz":
        p = p.with_name(p.name + ".npz")
    np.savez_compressed(p, **data)
    return p


def read_npz(path, *, rig=None, image_size: tuple[int, int] | None = None, fps: float | None = None) -> Keypoints2D:
    """Read the project's ``.npz`` keypoints (keys in the module docstring).

    Args:
        path: the ``.npz`` file.
        rig: a layout name or :class:`~lfm_engine.Rig` replacing the file's names and edges.
        image_size, fps: used when the file has none.
    """
    p = check_file(path, "keypoints .npz file")
    data = _load_npz(p)
    pts = data["points"]
    if pts.ndim != 3 or pts.shape[-1] != 2:
        raise InputError(f"{p}: 'points' has shape {pts.shape}, expected (T, J, 2)")
    J = pts.shape[1]
    rig_name = _scalar_text(data.get("rig_name"))
    if rig is not None:
        names, edges, rig_name = rig_names_edges(rig, J, str(p))
    elif "joint_names" in data:
        names, edges = tuple(str(n) for n in np.asarray(data["joint_names"]).reshape(-1)), data.get("edges")
    elif rig_name is not None:
        names, edges, rig_name = rig_names_edges(rig_name, J, str(p))
    else:
        names, edges = generic_names(J), data.get("edges")
    if image_size is None and "image_size" in data:
        image_size = tuple(np.asarray(data["image_size"]).reshape(-1).tolist())
    if fps is None and "fps" in data:
        value = np.asarray(data["fps"]).reshape(-1)
        if value.size != 1 or value.dtype.kind not in "iuf":
            raise InputError(f"{p}: 'fps' must be one number, got {value.dtype} array of shape {value.shape}")
        fps = float(value[0]) if np.isfinite(value[0]) else None
    return Keypoints2D(pts, data.get("confidence"), names, edges, image_size=image_size, fps=fps, source=str(p),
                       rig_name=rig_name, frame_ids=data.get("frame_ids"))  # fmt: skip


#: The arrays of our NPZ (module docstring); other entries are ignored.
NPZ_KEYS = ("points", "confidence", "joint_names", "edges", "image_size", "fps", "rig_name", "frame_ids")
#: Largest ratio of an entry's size to its compressed size that deflate can give (about 1,032), with some margin.
MAX_DEFLATE_RATIO = 1100


def _load_npz(p: Path) -> dict[str, np.ndarray]:
    """The arrays :data:`NPZ_KEYS` of the ``.npz`` file ``p`` (as ``np.load(p, allow_pickle=False)`` gives them),
    read only after every size they claim has been checked against the file (:func:`_check_entry`); raises
    :class:`InputError` naming the file."""
    if not zipfile.is_zipfile(p):
        raise InputError(f"{p}: not a readable .npz file (not a zip archive as numpy.savez writes)")
    data: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(p) as z:
            entries = {info.filename.removesuffix(".npy"): info for info in z.infolist() if not info.is_dir()}
            wanted = [(key, info) for key, info in entries.items() if key in NPZ_KEYS]
            total = 0
            for key, info in wanted:
                total += _check_entry(z, info, key, p)
                if total > MAX_ARRAY_BYTES:
                    raise InputError(f"{p}: the arrays claim {byte_size(total)} in all, more than the "
                                     f"{byte_size(MAX_ARRAY_BYTES)} a reader allocates")  # fmt: skip
            for key, info in wanted:
                with z.open(info) as f:
                    data[key] = np.lib.format.read_array(f, allow_pickle=False)
    except InputError:
        raise
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, RuntimeError, NotImplementedError) as exc:
        raise InputError(f"{p}: not a readable .npz file ({exc})") from None
    except ValueError as exc:  # a malformed .npy header
        raise InputError(f"{p}: not a readable .npz file (a damaged array: {exc})") from None
    if "points" not in data:
        raise InputError(f"{p}: no 'points' array; the file has {sorted(entries)}")
    return data


def _check_entry(z: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, p: Path) -> int:
    """The bytes the array ``key`` (the entry ``info``) claims, after checking that the file holds them: the zip
    entry is no bigger than its compressed bytes can give and its ``.npy`` header's shape and dtype need exactly the
    bytes the entry holds. Raises :class:`InputError` for a lie, a non-array and an array of Python objects."""
    archive = p.stat().st_size
    stored = info.compress_type == zipfile.ZIP_STORED
    if info.compress_size > archive or (stored and info.file_size != info.compress_size) or (
        info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > MAX_DEFLATE_RATIO * info.compress_size + 1024
    ):  # fmt: skip
        raise InputError(f"{p}: the zip entry {info.filename!r} claims {byte_size(info.file_size)} from "
                         f"{byte_size(info.compress_size)} of compressed data; the archive is damaged")  # fmt: skip
    with z.open(info) as f:
        if f.read(6) != b"\x93NUMPY":
            raise InputError(f"{p}: {info.filename!r} is not a .npy array")
        version = tuple(f.read(2))
        read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in read_header:
            raise InputError(f"{p}: {key!r} is a .npy array of version {version}, which is not read")
        shape, _, dtype = read_header[version](f)
        header = f.tell()
    if dtype.hasobject:
        raise InputError(f"{p}: {key!r} holds Python objects, which are not read (save names as a string array)")
    claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if claimed != info.file_size - header:
        raise InputError(f"{p}: {key!r} claims shape {shape} of {dtype} ({byte_size(claimed)}) but the file holds "
                         f"{byte_size(max(info.file_size - header, 0))} of it")  # fmt: skip
    return claimed


def _scalar_text(value) -> str | None:
    if value is None:
        return None
    arr = np.asarray(value).reshape(-1)
    return str(arr[0]) if arr.size and str(arr[0]) else None


# ---------------------------------------------------------------------- CSV
def write_keypoints_csv(kp: Keypoints2D, path) -> Path:
    """Write ``kp`` as the long-format CSV of the module docstring (missing points as empty x, y); returns
    ``path``."""
    p = Path(path)
    T, J = kp.num_frames, kp.num_joints
    frames = kp.frame_ids if kp.frame_ids is not None else np.arange(T)
    buf = io.StringIO()
    buf.write("# lfm_engine keypoints\n")
    if kp.fps is not None:
        buf.write(f"# fps: {kp.fps!r}\n")
    if kp.image_size is not None:
        buf.write(f"# image_size: {kp.image_size[0]} {kp.image_size[1]}\n")
    if kp.rig_name is not None:
        buf.write(f"# rig: {kp.rig_name}\n")
    buf.write("# edges: " + " ".join(f"{a}-{b}" for a, b in kp.edges.tolist()) + "\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    pts = kp.points.astype(np.float64)
    conf = kp.confidence.astype(np.float64)
    for t in range(T):
        for j in range(J):
            x, y = pts[t, j]
            if np.isfinite(x) and np.isfinite(y):
                writer.writerow(
                    (int(frames[t]), kp.joint_names[j], repr(float(x)), repr(float(y)), repr(float(conf[t, j])))
                )
            else:
                writer.writerow((int(frames[t]), kp.joint_names[j], "", "", "0"))
    p.write_text(buf.getvalue(), encoding="utf-8")
    return p


def read_csv(path, *, rig=None, image_size: tuple[int, int] | None = None, fps: float | None = None) -> Keypoints2D:
    """Read the project's long-format CSV (format in the module docstring).

    Args:
        path: the ``.csv`` file.
        rig: a layout name or :class:`~lfm_engine.Rig` giving the edges (its names must be the file's joints, in
            the file's order).
        image_size, fps: used when the file has none.
    """
    p = check_file(path, "keypoints CSV file")
    try:
        with open(p, encoding="utf-8-sig", newline="") as f:
            meta, rows = _read_csv_rows(f, p)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{p}: cannot read the CSV file ({exc})") from None
    frame_ids, t_index = np.unique(rows["frame"], return_inverse=True)
    names = tuple(rows["names"])  # in order of first appearance
    T, J = len(frame_ids), len(names)
    flat = t_index.reshape(-1) * J + rows["joint"]
    dup = np.flatnonzero(np.bincount(flat, minlength=T * J) > 1)
    if dup.size:
        t, j = divmod(int(dup[0]), J)
        lines_of = rows["line"][flat == dup[0]].tolist()
        raise InputError(f"{p}: frame {frame_ids[t]}, joint {names[j]!r} appears on more than one line {lines_of}")
    pts = np.full((T * J, 2), np.nan)
    pts[flat] = rows["xy"]
    conf = None
    if rows["confidence"] is not None:
        c = rows["confidence"]
        conf = np.zeros(T * J)
        conf[flat] = np.where(np.isfinite(c), c, 1.0)
        conf = conf.reshape(T, J)
        conf[~np.isfinite(pts.reshape(T, J, 2)).all(-1)] = 0.0
    edges = _edge_text(meta.get("edges", ""), p)
    rig_name = meta.get("rig") or None
    if rig is not None or (rig_name and "edges" not in meta):
        rnames, edges, rig_name = rig_names_edges(rig if rig is not None else rig_name, J, str(p))
        if rnames != names:
            raise InputError(f"{p}: the rig's joints {list(rnames)[:5]}... are not the file's {list(names)[:5]}...")
    if image_size is None and meta.get("image_size"):
        image_size = tuple(meta["image_size"].replace(",", " ").replace("x", " ").split())
    if fps is None and meta.get("fps"):
        fps = meta["fps"]
    ids = None if np.array_equal(frame_ids, np.arange(T)) else frame_ids
    return Keypoints2D(pts.reshape(T, J, 2), conf, names, edges, image_size=image_size, fps=fps, source=str(p),
                       rig_name=rig_name, frame_ids=ids)  # fmt: skip


#: Rows parsed at a time: the reader's memory is the clip's compact arrays plus one block of text.
CSV_BLOCK_ROWS = 65_536


def _read_csv_rows(f, p: Path) -> tuple[dict[str, str], dict]:
    """The ``# key: value`` lines before the header and the rows of the open CSV file ``f``, parsed
    block by block into compact arrays: ``frame`` ``(N,)`` int64, ``joint`` ``(N,)`` int64 indices into ``names``
    (in order of first appearance), ``xy`` ``(N, 2)`` float64 (NaN where empty), ``confidence`` ``(N,)`` float64
    (NaN where empty) or None without that column, and ``line`` ``(N,)`` the file's line numbers."""
    meta: dict[str, str] = {}
    number, line = 0, ""
    for line in f:
        number += 1
        if line.strip() and not line.startswith("#"):
            break
        key, sep, value = line.lstrip("#").partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip()
    else:
        line = ""
    if not line.strip():
        raise InputError(f"{p}: no header line 'frame,joint,x,y,confidence'")
    header_cells = next(csv.reader([line]))
    header = [h.strip().lower() for h in header_cells]
    missing = [c for c in ("frame", "joint", "x", "y") if c not in header]
    if missing:
        raise InputError(
            f"{p}: the header {header_cells} lacks the column(s) {missing}; expected {','.join(CSV_COLUMNS)}"
        )
    col = {c: header.index(c) for c in CSV_COLUMNS if c in header}
    index: dict[str, int] = {}
    parts: dict[str, list[np.ndarray]] = {"frame": [], "joint": [], "xy": [], "confidence": [], "line": []}
    block: list[list[str]] = []
    lines: list[int] = []
    reader = csv.reader(f)
    for r in reader:
        if not any(cell.strip() for cell in r):
            continue
        at = number + reader.line_num
        if len(r) < len(header):
            raise InputError(f"{p}: line {at} has {len(r)} values, expected {len(header)} like the header")
        block.append([r[k].strip() for k in col.values()])
        lines.append(at)
        if len(block) == CSV_BLOCK_ROWS:
            _parse_block(block, lines, list(col), index, parts, p)
            block, lines = [], []
    if block:
        _parse_block(block, lines, list(col), index, parts, p)
    if not parts["frame"]:
        raise InputError(f"{p}: the file has a header but no rows")
    rows = {k: np.concatenate(v) if v else None for k, v in parts.items()}
    rows["names"] = list(index)
    return meta, rows


def _parse_block(block: list[list[str]], lines: list[int], cols: list[str], index: dict[str, int], parts: dict,
                 p: Path) -> None:  # fmt: skip
    """Parse one block of rows (cells in the order ``cols``) into ``parts``; new joint names go into ``index``."""
    cells = np.array(block, dtype=str)
    numbers = _numbers(cells, cols, lines, p)  # (N, len(cols)) float, NaN for empty
    frames = numbers[:, cols.index("frame")]
    bad = ~np.isfinite(frames) | (frames != np.round(frames)) | (np.abs(frames) > 2**62)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(f"{p}: line {lines[k]}: frame {cells[k, cols.index('frame')]!r} is not an integer")
    names = cells[:, cols.index("joint")]
    empty = np.flatnonzero(np.char.str_len(names) == 0)
    if empty.size:
        raise InputError(f"{p}: line {lines[empty[0]]}: empty joint name")
    parts["frame"].append(frames.astype(np.int64))
    parts["joint"].append(np.fromiter((index.setdefault(str(n), len(index)) for n in names), np.int64, len(names)))
    parts["xy"].append(numbers[:, [cols.index("x"), cols.index("y")]])
    if "confidence" in cols:
        parts["confidence"].append(numbers[:, cols.index("confidence")])
    parts["line"].append(np.asarray(lines, dtype=np.int64))


def _numbers(cells: np.ndarray, cols: list[str], lines: list[int], p: Path) -> np.ndarray:
    out = np.full(cells.shape, np.nan)
    for k, c in enumerate(cols):
        if c == "joint":
            continue
        column = cells[:, k].copy()
        column[column == ""] = "nan"
        try:
            out[:, k] = column.astype(np.float64)
        except ValueError:
            for n, cell in enumerate(column):
                try:
                    float(cell)
                except ValueError:
                    raise InputError(f"{p}: line {lines[n]}, column {c!r}: {cell!r} is not a number") from None
    return out


def _edge_text(text: str, p: Path) -> np.ndarray:
    pairs = []
    for item in text.replace(",", " ").split():
        a, sep, b = item.partition("-")
        ok = sep and all(n.strip().isdecimal() and len(n.strip()) <= 18 for n in (a, b))  # 18 digits fit int64
        if not ok:
            raise InputError(f"{p}: '# edges:' item {item!r} is not 'a-b' with two joint numbers")
        pairs.append((int(a), int(b)))
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
