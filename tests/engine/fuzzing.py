"""What the reader fuzz suites (tests/engine/test_fuzz_readers_*.py) share: the check every generated file gets,
and mutations of parsed JSON documents.

:func:`check_read` holds a reader to the contract of tests/engine/reliability.py (a valid :class:`Keypoints2D`,
or an :class:`~lfm_engine.errors.LFMError` whose message names the file; never another exception or a hang) and
also checks that reading left every input file as it was, byte for byte and modification time.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from pathlib import Path

from hypothesis import strategies as st
from reliability import assert_keypoints_valid, outcome


@contextlib.contextmanager
def workdir():
    """A fresh temporary folder for one generated case, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="lfm_fuzz_") as d:
        yield Path(d)


def snapshot(path: Path) -> dict[str, tuple[bytes, int]]:
    """Bytes and modification time (ns) of ``path`` and of every file below it."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(f): (f.read_bytes(), os.stat(f).st_mtime_ns) for f in files}


def check_read(read, path: Path, *, inputs: Path | None = None, names: tuple[str, ...] = (), **kwargs):
    """``read(path, **kwargs)`` ends in a valid result or an LFMError naming ``path``'s name (or one of ``names``:
    another file it reads), and leaves the files of ``inputs`` (default ``path``: its folder's files for a folder)
    unchanged. Returns the result or None."""
    watched = inputs or path
    before = snapshot(watched)
    kp = outcome(read, path, must_name=(path.name, *names), **kwargs)
    if kp is not None:
        assert_keypoints_valid(kp)
    after = snapshot(watched)
    assert after.keys() == before.keys(), "reading added or removed files"
    for name, (data, mtime) in before.items():
        assert after[name][0] == data, f"reading changed the bytes of {name}"
        assert after[name][1] == mtime, f"reading changed the modification time of {name}"
    return kp


# ---------------------------------------------------------------------- mutating parsed JSON
def nested(depth: int, leaf=1):
    """``leaf`` inside ``depth`` lists: ``[[[1]]]`` for 3."""
    for _ in range(depth):
        leaf = [leaf]
    return leaf


#: Values put in place of any part of a document: the wrong type, missing, infinite, huge (beyond int64 and the
#: float range), text that looks like a number, nested around the readers' depth limit (100).
ODD = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            -1,
            1,
            2,
            1.5,
            -0.0,
            "",
            "1",
            "x",
            [],
            {},
            [[1, 2]],
            [None],
            {"a": 1},
            float("nan"),
            float("inf"),
            -float("inf"),
            1e300,
            5e-324,
            2**63,
            -(2**63) - 1,
            10**30,
            -(10**30),
            10**400,
            -(10**400),
        ]
    ).map(copy.deepcopy),  # a fresh copy: a later change inside [] or {} must not change the constant itself
    st.integers(),
    st.floats(),
    st.text(max_size=4),
    st.integers(30, 110).map(nested),
    st.lists(st.one_of(st.integers(-3, 3), st.floats(-10, 10)), max_size=6),
)
OPERATIONS = ("replace", "replace", "delete", "duplicate", "truncate", "extend", "wrap", "unwrap", "text", "huge")


def _paths(node, at=()):
    """Every place in a parsed JSON document, as a tuple of keys and indices (the root is ``()``)."""
    yield at
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*at, i))


def _get(node, at):
    for k in at:
        node = node[k]
    return node


def _changed(data, value):
    """``value`` changed by one drawn operation (None: remove it from its parent)."""
    op = data.draw(st.sampled_from(OPERATIONS), label="operation")
    if op == "replace":
        return data.draw(ODD, label="by")
    if op == "delete":
        return None
    if op == "wrap":
        return [value]
    if op == "unwrap":
        return value[0] if isinstance(value, list) and value else value
    if op == "text":
        return str(value)
    if op == "huge":
        return 10 ** data.draw(st.sampled_from([19, 30, 308, 309, 400]), label="digits")
    if isinstance(value, list) and value:
        k = data.draw(st.integers(0, len(value) - 1), label="at")
        if op == "duplicate":
            return [*value[:k], value[k], *value[k:]]
        if op == "truncate":
            return value[:k]
        return [*value, *value[: k + 1]]  # extend
    if isinstance(value, dict) and value and op == "truncate":
        return dict(list(value.items())[: data.draw(st.integers(0, len(value) - 1), label="keep")])
    return data.draw(ODD, label="by")


def mutate(data, doc, max_mutations: int = 4):
    """A copy of ``doc`` with up to ``max_mutations`` drawn changes (0: the valid document itself), each at a
    place drawn from the whole document: a value replaced by an :data:`ODD` one, deleted, duplicated, a list
    truncated or extended, wrapped in a list, unwrapped, made text, made a huge integer."""
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(0, max_mutations), label="mutations")):
        places = list(_paths(doc))
        at = data.draw(st.sampled_from(places), label="where")
        new = _changed(data, _get(doc, at))
        if not at:
            doc = new
            continue
        parent, key = _get(doc, at[:-1]), at[-1]
        if new is None:
            del parent[key]
        else:
            parent[key] = new
    return doc
