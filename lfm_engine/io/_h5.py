"""Opening HDF5 files and reading their datasets with h5py, checked before anything is read.

Every dataset a reader uses goes through :func:`read_dataset`, which refuses, with an
:class:`~lfm_engine.errors.InputError` naming the file and the dataset: a group or a link where a dataset belongs,
values of the wrong kind (text where numbers belong, numbers where names belong, records, variable-length or opaque
values), a dataset without a dataspace, and a dataset that claims more bytes than the file can hold (an unwritten
chunked dataset of 32 TB in a file of 10 kB: reading it would allocate the 32 TB).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from ..errors import InputError, LFMError
from .base import MAX_ARRAY_BYTES, byte_size

#: How many times its stored bytes a compressed dataset may hold: deflate's largest ratio is about 1,032 (the
#: other filters h5py reads compress less).
MAX_COMPRESSION = 1100
#: Bytes a dataset may hold beyond :data:`MAX_COMPRESSION` times its stored bytes (unwritten chunks read as the
#: fill value; small datasets are never refused).
SLACK_BYTES = 1 << 26

#: The kinds of values :func:`read_dataset` accepts, by numpy's dtype kind (text is checked with h5py).
KINDS = {"numbers": "biuf", "text": "S", "records": "V"}


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


def _kind(dtype: np.dtype) -> str:
    """What a dataset of ``dtype`` holds, in words: numbers, text, records, complex numbers, ..."""
    import h5py

    if h5py.check_string_dtype(dtype) is not None:
        return "text"
    if dtype.kind in KINDS["numbers"]:
        return "numbers"
    if dtype.names:
        return "records"
    return {"c": "complex numbers", "O": "variable-length values", "V": "opaque bytes"}.get(dtype.kind, dtype.str)


def get_object(parent, key: str, source: str, expected: str = "dataset"):
    """The group or dataset ``key`` of ``parent`` (an open file or group), which must be an ``expected``
    (``"dataset"`` or ``"group"``) stored in this file; raises :class:`InputError` otherwise."""
    import h5py

    name = f"{parent.name.strip('/')}/{key}".strip("/")
    link = parent.get(key, getlink=True)
    if link is None:
        raise InputError(f"{source}: no {name!r} {expected}")
    if isinstance(link, h5py.ExternalLink):
        raise InputError(f"{source}: {name!r} is a link to another file ({link.filename}), which is not followed")
    obj = parent.get(key)
    if obj is None:
        raise InputError(f"{source}: {name!r} is a link to nothing (a damaged file)")
    found = "group" if isinstance(obj, h5py.Group) else "dataset" if isinstance(obj, h5py.Dataset) else "datatype"
    if found != expected:
        raise InputError(f"{source}: {name!r} is a {found}, expected a {expected}")
    return obj


def check_dataset(ds, source: str, kind: str | None = None) -> None:
    """Raise :class:`InputError` unless the dataset ``ds`` holds ``kind`` values (a key of :data:`KINDS`; None: any)
    and no more bytes than the file can give (see the module docstring)."""
    name = ds.name.strip("/")
    if ds.shape is None:
        raise InputError(f"{source}: {name!r} holds no data (an empty dataspace)")
    found = _kind(ds.dtype)
    if kind is not None and found != kind:
        raise InputError(f"{source}: {name!r} holds {found}, expected {kind}")
    claimed = int(np.prod(ds.shape, dtype=object)) * ds.dtype.itemsize
    stored = ds.id.get_storage_size()
    if claimed > MAX_ARRAY_BYTES or claimed > MAX_COMPRESSION * stored + SLACK_BYTES:
        raise InputError(
            f"{source}: {name!r} claims {ds.shape} values of {ds.dtype} ({byte_size(claimed)}) but the file stores "
            f"{byte_size(stored)} of it; refused before reading (at most {byte_size(MAX_ARRAY_BYTES)} are read)"
        )


def read_dataset(parent, key: str, source: str, kind: str | None = None) -> np.ndarray:
    """The values of the dataset ``key`` of ``parent``, after :func:`get_object` and :func:`check_dataset`."""
    ds = get_object(parent, key, source, "dataset")
    check_dataset(ds, source, kind)
    return np.asarray(ds[()])
