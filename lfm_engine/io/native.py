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
from .base import Keypoints2D, check_file, generic_names, rig_names_edges

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
    if not zipfile.is_zipfile(p):
        raise InputError(f"{p}: not a readable .npz file (not a zip archive as numpy.savez writes)")
    try:
        with np.load(p, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except ValueError as exc:
        raise InputError(
            f"{p}: holds Python objects, which are not read (save names as a string array): {exc}"
        ) from None
    except (OSError, zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise InputError(f"{p}: not a readable .npz file ({exc})") from None
    if "points" not in data:
        raise InputError(f"{p}: no 'points' array; the file has {sorted(data)}")
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
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read the CSV file ({exc})") from None
    lines = text.splitlines()
    meta, start = _comments(lines)
    rows = list(csv.reader(lines[start:]))
    if not rows:
        raise InputError(f"{p}: no header line 'frame,joint,x,y,confidence'")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in ("frame", "joint", "x", "y") if c not in header]
    if missing:
        raise InputError(f"{p}: the header {rows[0]} lacks the column(s) {missing}; expected {','.join(CSV_COLUMNS)}")
    col = {c: header.index(c) for c in CSV_COLUMNS if c in header}
    body = [(n, r) for n, r in enumerate(rows[1:], start=start + 2) if any(cell.strip() for cell in r)]
    if not body:
        raise InputError(f"{p}: the file has a header but no rows")
    for line, r in body:
        if len(r) < len(header):
            raise InputError(f"{p}: line {line} has {len(r)} values, expected {len(header)} like the header")
    cells = np.array([[r[col[c]].strip() for c in col] for _, r in body], dtype=str)
    names_col = cells[:, list(col).index("joint")]
    numbers = _numbers(cells, list(col), body, p)  # (N, len(col)) float, NaN for empty
    frame_vals = numbers[:, list(col).index("frame")]
    if not (np.isfinite(frame_vals).all() and (frame_vals == np.round(frame_vals)).all()):
        k = int(np.flatnonzero(~np.isfinite(frame_vals) | (frame_vals != np.round(frame_vals)))[0])
        raise InputError(f"{p}: line {body[k][0]}: frame {cells[k, list(col).index('frame')]!r} is not an integer")
    empty = np.flatnonzero(np.char.str_len(names_col) == 0)
    if empty.size:
        raise InputError(f"{p}: line {body[empty[0]][0]}: empty joint name")
    frame_ids, t_index = np.unique(frame_vals.astype(np.int64), return_inverse=True)
    uniq, first, j_sorted = np.unique(names_col, return_index=True, return_inverse=True)
    order = np.argsort(first)  # joints in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    j_index = rank[j_sorted.reshape(-1)]
    names = tuple(str(n) for n in uniq[order])
    T, J = len(frame_ids), len(names)
    flat = t_index.reshape(-1) * J + j_index
    dup = np.flatnonzero(np.bincount(flat, minlength=T * J) > 1)
    if dup.size:
        t, j = divmod(int(dup[0]), J)
        lines_of = [body[k][0] for k in np.flatnonzero(flat == dup[0])]
        raise InputError(f"{p}: frame {frame_ids[t]}, joint {names[j]!r} appears on more than one line {lines_of}")
    pts = np.full((T * J, 2), np.nan)
    pts[flat] = numbers[:, [list(col).index("x"), list(col).index("y")]]
    conf = None
    if "confidence" in col:
        c = numbers[:, list(col).index("confidence")]
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


def _comments(lines: list[str]) -> tuple[dict[str, str], int]:
    """``# key: value`` lines before the header, and the index of the first other line."""
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        key, sep, value = lines[i].lstrip("#").partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip()
        i += 1
    return meta, i


def _numbers(cells: np.ndarray, cols: list[str], body: list, p: Path) -> np.ndarray:
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
                    raise InputError(f"{p}: line {body[n][0]}, column {c!r}: {cell!r} is not a number") from None
    return out


def _edge_text(text: str, p: Path) -> np.ndarray:
    pairs = []
    for item in text.replace(",", " ").split():
        a, sep, b = item.partition("-")
        if not sep or not a.strip().isdigit() or not b.strip().isdigit():
            raise InputError(f"{p}: '# edges:' item {item!r} is not 'a-b' with two joint numbers")
        pairs.append((int(a), int(b)))
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
