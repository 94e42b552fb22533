"""Reading a pandas ``DataFrame`` saved with ``DataFrame.to_hdf`` (PyTables layout) with h5py alone.

pandas itself is never imported. Both of pandas' layouts are understood:

* ``format="table"`` (``pandas_type = "frame_table"``; what DeepLabCut writes as ``df_with_missing``): a compound
  dataset ``<key>/table`` with an ``index`` field and ``values_block_<k>`` fields; the column labels of each block
  are in the table's ``values_block_<k>_kind`` attribute, a pickled list of tuples. Only pickles of plain lists,
  tuples, strings and numbers are accepted (any other object in them is refused, so a crafted file cannot run
  code).
* ``format="fixed"`` (``pandas_type = "frame"``): arrays ``block<k>_values`` ``(rows, columns)``, column labels in
  ``block<k>_items`` (or ``block<k>_items_level<i>`` / ``_label<i>`` for a MultiIndex) and the row index in
  ``axis1`` (or ``axis1_level<i>`` / ``_label<i>``).

Only numeric blocks are read; text columns are ignored.
"""

from __future__ import annotations

import contextlib
import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, LFMError


@dataclass(frozen=True)
class Frame:
    """The numeric part of a DataFrame.

    Attributes:
        columns: C column labels, each a tuple of strings (one per level of the column index).
        level_names: the names of the column index's levels (None where unnamed).
        index: N row labels (int, str, or a tuple for a MultiIndex).
        values: ``(N, C)`` float64.
    """

    columns: list[tuple[str, ...]]
    level_names: list[str | None]
    index: list
    values: np.ndarray


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles plain data only: lists, tuples, dicts, strings, numbers; no class or function of any module."""

    _ALLOWED = frozenset({"list", "tuple", "dict", "set", "frozenset", "str", "bytes", "int", "float", "bool"})

    def find_class(self, module, name):
        if module in ("builtins", "__builtin__") and name in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _unpickle(raw, what: str, source: str):
    data = bytes(raw) if not isinstance(raw, bytes) else raw
    try:
        return _PlainUnpickler(io.BytesIO(data), encoding="latin-1").load()
    except Exception as exc:  # any malformed or refused pickle
        raise InputError(f"{source}: cannot read the pandas attribute {what} ({exc})") from None


def _text(value):
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    return value


def pandas_groups(h5) -> list[str]:
    """Names of the top-level groups of an open ``h5py.File`` that hold a pandas DataFrame."""
    out = []
    for name in h5:
        obj = h5.get(name)
        if obj is None:  # a dangling link (damaged file)
            continue
        kind = _text(obj.attrs.get("pandas_type", b""))
        if kind in ("frame_table", "frame"):
            out.append(name)
    return out


def read_frame(h5, key: str, source: str) -> Frame:
    """The DataFrame stored under ``key`` of an open ``h5py.File``."""
    group = h5[key]
    kind = _text(group.attrs.get("pandas_type", b""))
    try:
        if kind == "frame_table":
            return _read_table(group, source)
        if kind == "frame":
            return _read_fixed(group, source)
    except (KeyError, ValueError, IndexError) as exc:
        raise InputError(
            f"{source}: the pandas data under {key!r} is damaged or of an unknown layout ({exc})"
        ) from None
    raise InputError(f"{source}: {key!r} is a pandas {kind or 'object'}, not a DataFrame")


def _as_label(value) -> tuple:
    value = _text(value)
    return tuple(_text(v) for v in value) if isinstance(value, tuple | list) else (value,)


def _read_table(group, source: str) -> Frame:
    table = group["table"]
    blocks = _unpickle(group.attrs["values_cols"], "values_cols", source)
    info = _unpickle(group.attrs["info"], "info", source) if "info" in group.attrs else {}
    level_names = None
    for axis_info in info.values() if isinstance(info, dict) else ():
        if isinstance(axis_info, dict) and axis_info.get("names"):
            level_names = [_text(n) for n in axis_info["names"]]
            break
    data = table[()]
    columns: list[tuple] = []
    values: list[np.ndarray] = []
    for block in blocks:
        dtype = _text(table.attrs.get(f"{block}_dtype", b""))
        if not (str(dtype).startswith(("float", "int", "uint"))):
            continue
        labels = _unpickle(table.attrs[f"{block}_kind"], f"{block}_kind", source)
        arr = np.asarray(data[block], dtype=np.float64).reshape(len(data), -1)
        if arr.shape[1] != len(labels):
            raise ValueError(f"{block} has {arr.shape[1]} columns but {len(labels)} labels")
        columns.extend(_as_label(lab) for lab in labels)
        values.append(arr)
    index = [_text(v) for v in data["index"]] if "index" in (data.dtype.names or ()) else list(range(len(data)))
    return _frame(columns, level_names, index, values, len(data))


def _read_index(group, key: str) -> tuple[list, list]:
    """Labels and level names of the pandas index stored as ``key`` (``axis0``, ``axis1``, ``block0_items``)."""
    variety = _text(group.attrs.get(f"{key}_variety", b"regular"))
    if variety == "multi":
        n = int(group.attrs[f"{key}_nlevels"])
        levels, names = [], []
        for i in range(n):
            lev = group[f"{key}_level{i}"]
            codes = np.asarray(group[f"{key}_label{i}"][()], dtype=np.int64)
            vals = [_text(v) for v in lev[()]]
            levels.append([vals[c] if c >= 0 else None for c in codes])
            name = _text(lev.attrs.get("name", b"N."))
            names.append(None if name == "N." else name)
        return [tuple(col) for col in zip(*levels, strict=True)], names
    arr = group[key]
    name = _text(arr.attrs.get("name", b"N."))
    return [_text(v) for v in arr[()]], [None if name == "N." else name]


def _read_fixed(group, source: str) -> Frame:
    index, _ = _read_index(group, "axis1")
    level_names = _read_index(group, "axis0")[1]
    columns: list[tuple] = []
    values: list[np.ndarray] = []
    for k in range(int(group.attrs.get("nblocks", 0))):
        ds = group[f"block{k}_values"]
        if ds.dtype.kind not in "fiu":
            continue
        items, _ = _read_index(group, f"block{k}_items")
        arr = np.asarray(ds[()], dtype=np.float64)
        if not bool(ds.attrs.get("transposed", False)):
            arr = arr.T
        arr = arr.reshape(len(index), -1)
        columns.extend(_as_label(i) for i in items)
        values.append(arr)
    return _frame(columns, level_names, index, values, len(index))


def _frame(columns, level_names, index, values, n_rows: int) -> Frame:
    arr = np.concatenate(values, axis=1) if values else np.zeros((n_rows, 0))
    if arr.shape[1] != len(columns):
        raise ValueError(f"{arr.shape[1]} value columns but {len(columns)} labels")
    depth = max((len(c) for c in columns), default=0)
    names = list(level_names) if level_names and len(level_names) == depth else [None] * depth
    return Frame(columns, names, index, arr)


@contextlib.contextmanager
def open_h5(path: Path):
    """``with open_h5(path) as h5:`` an open ``h5py.File``; raises :class:`InputError` when h5py is missing, the file
    is not HDF5, or h5py fails on damaged content while the block reads it."""
    try:
        import h5py
    except ImportError:
        raise InputError(f"{path}: reading .h5 files needs the h5py package (pip install h5py)") from None
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise InputError(f"{path}: not a readable HDF5 file ({exc})") from None
    try:
        with h5:
            yield h5
    except LFMError:
        raise
    except (OSError, RuntimeError, KeyError) as exc:  # what h5py raises on a damaged heap, link or chunk
        raise InputError(f"{path}: the HDF5 file is damaged ({type(exc).__name__}: {exc})") from None
