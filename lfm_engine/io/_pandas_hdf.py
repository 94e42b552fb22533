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

import io
import pickle
from dataclasses import dataclass

import numpy as np

from ..errors import CONVERSION_ERRORS, InputError
from ._h5 import check_dataset, get_object, open_h5, read_dataset

__all__ = ["Frame", "open_h5", "pandas_groups", "read_frame"]


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
    if isinstance(raw, np.void):  # h5py's opaque bytes
        raw = raw.tobytes()
    if not isinstance(raw, bytes):  # bytes(n) of a number n would allocate n bytes
        raise InputError(f"{source}: the pandas attribute {what} is a {type(raw).__name__}, not a pickle")
    data = raw
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


def _attr_text(attrs, key: str, default: str = "") -> str:
    """The text attribute ``key`` (``default`` when absent or not a single text)."""
    value = _text(attrs.get(key, default))
    return value if isinstance(value, str) else ""


def _int_attr(attrs, key: str, source: str) -> int:
    value = _text(attrs.get(key, 0))
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise InputError(f"{source}: the pandas attribute {key} is {value!r}, not a count")
    return value


def _label(value, what: str, source: str):
    """One part of a row or column label: text, a number or None (nothing nested, which could be anything)."""
    value = _text(value)
    if value is None or isinstance(value, str | int | float):
        return value
    raise InputError(f"{source}: the pandas {what} holds a {type(value).__name__} where a label belongs")


def pandas_groups(h5) -> list[str]:
    """Names of the top-level groups of an open ``h5py.File`` that hold a pandas DataFrame."""
    import h5py

    out = []
    for name in h5:
        if not isinstance(h5.get(name, getlink=True), h5py.HardLink):  # a link elsewhere, or to nothing
            continue
        obj = h5.get(name)
        if isinstance(obj, h5py.Group) and _attr_text(obj.attrs, "pandas_type") in ("frame_table", "frame"):
            out.append(name)
    return out


def read_frame(h5, key: str, source: str) -> Frame:
    """The DataFrame stored under ``key`` of an open ``h5py.File``."""
    group = get_object(h5, key, source, "group")
    kind = _attr_text(group.attrs, "pandas_type")
    try:
        if kind == "frame_table":
            return _read_table(group, source)
        if kind == "frame":
            return _read_fixed(group, source)
    except (*CONVERSION_ERRORS, KeyError, IndexError) as exc:
        raise InputError(
            f"{source}: the pandas data under {key!r} is damaged or of an unknown layout ({exc})"
        ) from None
    raise InputError(f"{source}: {key!r} is a pandas {kind or 'object'}, not a DataFrame")


def _as_label(value, what: str, source: str) -> tuple:
    value = _text(value)
    if isinstance(value, tuple | list):
        return tuple(_label(v, what, source) for v in value)
    return (_label(value, what, source),)


def _read_table(group, source: str) -> Frame:
    table = get_object(group, "table", source, "dataset")
    check_dataset(table, source, "records")
    if table.ndim != 1:
        raise InputError(f"{source}: {table.name.strip('/')!r} has shape {table.shape}, expected one row per frame")
    blocks = _unpickle(group.attrs["values_cols"], "values_cols", source)
    if not isinstance(blocks, list) or not all(isinstance(b, str) for b in blocks):
        raise InputError(f"{source}: the pandas attribute values_cols is not a list of column names")
    info = _unpickle(group.attrs["info"], "info", source) if "info" in group.attrs else {}
    level_names = None
    for axis_info in info.values() if isinstance(info, dict) else ():
        if isinstance(axis_info, dict) and isinstance(axis_info.get("names"), list | tuple) and axis_info["names"]:
            level_names = [_label(n, "level names", source) for n in axis_info["names"]]
            break
    data = table[()]
    fields = data.dtype.names or ()
    columns: list[tuple] = []
    values: list[np.ndarray] = []
    for block in blocks:
        dtype = _attr_text(table.attrs, f"{block}_dtype")
        if not dtype.startswith(("float", "int", "uint")):
            continue
        if block not in fields:
            raise InputError(f"{source}: the table has no column block {block!r}, which values_cols names")
        labels = _unpickle(table.attrs[f"{block}_kind"], f"{block}_kind", source)
        if not isinstance(labels, list | tuple):
            raise InputError(f"{source}: the pandas attribute {block}_kind is not a list of column labels")
        arr = np.asarray(data[block], dtype=np.float64).reshape(len(data), -1)
        if arr.shape[1] != len(labels):
            raise ValueError(f"{block} has {arr.shape[1]} columns but {len(labels)} labels")
        columns.extend(_as_label(lab, f"{block}_kind", source) for lab in labels)
        values.append(arr)
    index = [_label(v, "index", source) for v in data["index"]] if "index" in fields else list(range(len(data)))
    return _frame(columns, level_names, index, values, len(data))


def _read_index(group, key: str, source: str) -> tuple[list, list]:
    """Labels and level names of the pandas index stored as ``key`` (``axis0``, ``axis1``, ``block0_items``)."""
    if _attr_text(group.attrs, f"{key}_variety", "regular") == "multi":
        n = _int_attr(group.attrs, f"{key}_nlevels", source)
        levels, names = [], []
        for i in range(n):
            lev = get_object(group, f"{key}_level{i}", source)
            codes = read_dataset(group, f"{key}_label{i}", source, "numbers").reshape(-1)
            if not (np.isfinite(codes) & (codes == np.round(codes)) & (np.abs(codes) < 2**62)).all():
                raise InputError(f"{source}: the pandas index codes {key}_label{i} are not all integers")
            check_dataset(lev, source)
            vals = [_label(v, f"{key}_level{i}", source) for v in np.asarray(lev[()]).reshape(-1)]
            levels.append([vals[c] if c >= 0 else None for c in codes.astype(np.int64).tolist()])
            name = _attr_text(lev.attrs, "name", "N.")
            names.append(None if name == "N." else name)
        return [tuple(col) for col in zip(*levels, strict=True)], names
    arr = get_object(group, key, source)
    check_dataset(arr, source)
    name = _attr_text(arr.attrs, "name", "N.")
    return [_label(v, key, source) for v in np.asarray(arr[()]).reshape(-1)], [None if name == "N." else name]


def _read_fixed(group, source: str) -> Frame:
    index, _ = _read_index(group, "axis1", source)
    level_names = _read_index(group, "axis0", source)[1]
    columns: list[tuple] = []
    values: list[np.ndarray] = []
    for k in range(_int_attr(group.attrs, "nblocks", source)):
        ds = get_object(group, f"block{k}_values", source)
        check_dataset(ds, source)
        if ds.dtype.kind not in "fiu":
            continue
        items, _ = _read_index(group, f"block{k}_items", source)
        arr = np.asarray(ds[()], dtype=np.float64)
        transposed = _text(ds.attrs.get("transposed", False))
        if not (isinstance(transposed, bool | int) and transposed):
            arr = arr.T
        arr = arr.reshape(len(index), -1)
        columns.extend(_as_label(i, f"block{k}_items", source) for i in items)
        values.append(arr)
    return _frame(columns, level_names, index, values, len(index))


def _frame(columns, level_names, index, values, n_rows: int) -> Frame:
    arr = np.concatenate(values, axis=1) if values else np.zeros((n_rows, 0))
    if arr.shape[1] != len(columns):
        raise ValueError(f"{arr.shape[1]} value columns but {len(columns)} labels")
    depth = max((len(c) for c in columns), default=0)
    names = list(level_names) if level_names and len(level_names) == depth else [None] * depth
    return Frame(columns, names, index, arr)
