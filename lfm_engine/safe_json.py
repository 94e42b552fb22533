"""Parsing JSON that a user gives (keypoint files, rig files, mapping presets, weights headers) without letting
its shape crash the parser.

Python's ``json`` recurses once per level of nesting and raises ``RecursionError`` on a document a few hundred to a
thousand levels deep (how deep depends on the caller's stack, which in Blender is deeper than in a script); it also
raises a plain ``ValueError`` for an integer of more than 4,300 digits. :func:`parse_json` measures the nesting
first (:func:`nesting_depth`, strings skipped) and refuses anything deeper than :data:`MAX_JSON_DEPTH`, then turns
every failure of the parser into the caller's error type (an :class:`~lfm_engine.errors.LFMError` subclass) with a
message that names the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .errors import InputError, LFMError

#: Deepest nesting of arrays and objects accepted. The formats read nest at most 6 levels (MMPose: a list of
#: frames, each an object with a list of instances, each with a list of points of 2 numbers); rig files 3.
MAX_JSON_DEPTH = 100

#: Bytes scanned at a time by :func:`nesting_depth` (bounds its memory to a few times this).
_SCAN_BLOCK = 1 << 22
_QUOTE, _OPENS, _CLOSES = ord('"'), (ord("["), ord("{")), (ord("]"), ord("}"))


def nesting_depth(data: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` in the UTF-8 JSON text ``data`` (brackets inside strings do not count).

    Linear in the size, with numpy: the escaped backslashes and quotes are removed (``\\\\`` pairs first, left to
    right, as JSON reads them), so that every quote left opens or closes a string; then, block by block, a bracket
    counts when an even number of quotes precede it.
    """
    text = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    codes = np.frombuffer(text, dtype=np.uint8)
    depth = deepest = 0
    in_string = np.uint8(0)
    for start in range(0, len(codes), _SCAN_BLOCK):
        block = codes[start : start + _SCAN_BLOCK]
        inside = np.bitwise_xor.accumulate((block == _QUOTE).view(np.uint8)) ^ in_string
        in_string = inside[-1]
        outside = inside == 0
        opens = ((block == _OPENS[0]) | (block == _OPENS[1])) & outside
        closes = ((block == _CLOSES[0]) | (block == _CLOSES[1])) & outside
        at = np.flatnonzero(opens | closes)
        if at.size:
            steps = np.cumsum(opens[at].astype(np.int64) * 2 - 1) + depth
            deepest = max(deepest, int(steps.max()))
            depth = int(steps[-1])
    return deepest


def parse_json(data: bytes | str, source: str, error: type[LFMError] = InputError, what: str = "JSON"):
    """The parsed JSON text ``data``; any failure is an ``error`` whose message starts with ``source``.

    Args:
        data: the text (UTF-8 bytes or str).
        source: the file, for messages.
        error: the exception type raised (``InputError`` for keypoint files, ``RigError`` for rig files ...).
        what: what the text is, for messages (``"JSON"``, ``"the safetensors header"``).
    """
    raw = data.encode("utf-8", errors="surrogatepass") if isinstance(data, str) else bytes(data)
    encoding = json.detect_encoding(raw)
    try:
        text = raw if encoding == "utf-8" else raw.decode(encoding).encode("utf-8", errors="surrogatepass")
    except UnicodeDecodeError as exc:
        raise error(f"{source}: not valid {what} (not {encoding.upper()} text: {exc.reason})") from None
    depth = nesting_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise error(f"{source}: {what} is nested deeper than {MAX_JSON_DEPTH} levels ({depth}); not a file this "
                    "program reads")  # fmt: skip
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise error(f"{source}: not valid {what} ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except UnicodeDecodeError as exc:
        raise error(f"{source}: not valid {what} (not UTF-8 text: {exc.reason})") from None
    except (ValueError, RecursionError) as exc:  # an integer of more than 4,300 digits; a deep stack
        raise error(f"{source}: not valid {what} ({str(exc).split(';')[0]})") from None


def read_json_file(path, error: type[LFMError] = InputError, what: str = "JSON"):
    """:func:`parse_json` of the file at ``path``; a file that cannot be read is an ``error`` naming it too."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise error(f"{p}: cannot read the file ({exc.strerror or exc})") from None
    return parse_json(data, str(p), error, what)
