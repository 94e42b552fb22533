"""Weights files: safetensors with the model config, the Fourier frequencies and a format version.

The reader and writer are written here in numpy (the format is an 8-byte header length, a JSON header and raw
little-endian tensor bytes), so Blender needs no extra package; ``tests/engine/test_weights.py`` checks that files
round-trip with the reference ``safetensors`` package. Metadata keys:

- ``format``: ``"lfm_engine.weights"``; ``format_version``: ``"1"``;
- ``config``: :class:`ModelConfig` as JSON; optional ``training``: free JSON describing how the weights were made.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import ModelConfig
from .errors import WeightsError
from .safe_json import parse_json

FORMAT_NAME = "lfm_engine.weights"
FORMAT_VERSION = 1
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "lfm_v2.safetensors"

_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}
_MAX_HEADER = 100 * 1024 * 1024


@dataclass(frozen=True)
class Weights:
    """A validated weights file: config, float32 tensors by name, and string metadata."""

    config: ModelConfig
    tensors: dict[str, np.ndarray]
    metadata: dict[str, str] = field(default_factory=dict)
    source: str = "<memory>"


def write_safetensors(path: str | os.PathLike, tensors: Mapping[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write ``tensors`` (name -> array) and string ``metadata`` as a safetensors file, atomically."""
    header: dict[str, object] = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        if arr.dtype not in _NAMES:
            arr = arr.astype(np.float32)
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {
            "dtype": _NAMES[arr.dtype],
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(raw)))
            f.write(raw)
            for b in blobs:
                f.write(b)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_safetensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors file: (name -> array, metadata). Errors name the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    data = path.read_bytes()
    if len(data) < 8:
        raise WeightsError(f"{path}: not a safetensors file (only {len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > min(len(data) - 8, _MAX_HEADER):
        raise WeightsError(f"{path}: not a safetensors file (header length {n} exceeds the file)")
    header = parse_json(data[8 : 8 + n], f"{path}: corrupt safetensors header", WeightsError)
    if not isinstance(header, dict):
        raise WeightsError(f"{path}: corrupt safetensors header (not a JSON object)")
    metadata = header.pop("__metadata__", None) or {}
    buf = memoryview(data)[8 + n :]
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        try:
            dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
            shape = tuple(int(s) for s in info["shape"])
            begin, end = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise WeightsError(f"{path}: tensor {name!r} has an unreadable or unsupported header entry") from None
        if not 0 <= begin <= end <= len(buf) or end - begin != int(np.prod(shape)) * dtype.itemsize:
            raise WeightsError(f"{path}: tensor {name!r} is truncated or its offsets do not match its shape {shape}")
        tensors[name] = np.frombuffer(buf[begin:end], dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
    return tensors, {str(k): str(v) for k, v in metadata.items()}


def save_weights(
    path: str | os.PathLike,
    config: ModelConfig,
    tensors: Mapping[str, object],
    training: dict | None = None,
) -> None:
    """Save model tensors (numpy arrays or torch tensors, e.g. a ``state_dict``) with their config."""
    arrays = {k: np.asarray(v.detach().float().cpu().numpy() if hasattr(v, "detach") else v, dtype=np.float32)
              for k, v in tensors.items()}  # fmt: skip
    _validate(config, arrays, str(path))
    metadata = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION), "config": config.to_json()}
    if training is not None:
        metadata["training"] = json.dumps(training, sort_keys=True, default=str)
    write_safetensors(path, arrays, metadata)


def load_weights(path: str | os.PathLike | None = None) -> Weights:
    """Read and validate a weights file (default: the shipped ``lfm_engine/weights/lfm_v2.safetensors``;
    ``lfm_v1.safetensors`` beside it loads by path)."""
    if path is None:
        path = DEFAULT_WEIGHTS
        if not path.is_file():
            raise WeightsError(
                f"no weights file at {path} (the shipped weights are missing from this install). Train them with "
                "`make train` (docs/MODEL_CARD.md), or pass the path of a weights file: "
                "Lifter.from_pretrained('my.safetensors')"
            )
    src = str(path)
    tensors, meta = read_safetensors(path)
    if meta.get("format") != FORMAT_NAME:
        raise WeightsError(f"{src}: not an lfm_engine weights file (metadata format={meta.get('format')!r})")
    version = meta.get("format_version")
    if version != str(FORMAT_VERSION):
        raise WeightsError(f"{src}: weights format version {version!r}; this lfm_engine reads {FORMAT_VERSION}")
    if "config" not in meta:
        raise WeightsError(f"{src}: the metadata holds no model config")
    config = ModelConfig.from_json(meta["config"], src)
    arrays = {k: v.astype(np.float32) for k, v in tensors.items()}
    _validate(config, arrays, src)
    return Weights(config, arrays, meta, src)


def _validate(config: ModelConfig, tensors: Mapping[str, np.ndarray], src: str) -> None:
    expected = config.parameter_shapes()
    missing = sorted(set(expected) - set(tensors))
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise WeightsError(f"{src}: missing tensors {missing[:5]}{more} for the config it declares")
    unexpected = sorted(set(tensors) - set(expected))
    if unexpected:
        raise WeightsError(f"{src}: unexpected tensors {unexpected[:5]} (not part of the declared model config)")
    for name, shape in expected.items():
        if tuple(tensors[name].shape) != shape:
            raise WeightsError(f"{src}: tensor {name!r} has shape {tuple(tensors[name].shape)}, expected {shape}")
        if not np.all(np.isfinite(tensors[name])):
            raise WeightsError(f"{src}: tensor {name!r} holds NaN or infinite values")
