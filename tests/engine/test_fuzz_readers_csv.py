"""Fuzzing the CSV readers (DeepLabCut's CSV and the project's long-format CSV) with files of their format.

Each case is a valid file of random size (single- and multi-animal DeepLabCut predictions and labelled data with a
3-column image index; our CSV with its ``#`` lines, any column order, missing points), then up to four changes to
its rows: truncated (down to the index cell alone), extended, duplicated, removed, swapped, emptied, a cell garbled
(text, quotes, huge numbers of 400 digits, 2**63, NaN, inf, 100,000 characters). DeepLabCut cases also get a
``config.yaml`` beside them, sometimes damaged (deep nesting, aliases, wrong types). Each must end in a valid
result or an ``LFMError`` naming the file, and leave the files unchanged.
"""

from __future__ import annotations

import csv
import io

import numpy as np
from fuzzing import check_read, workdir
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability import RELIABILITY

from lfm_engine.io import read_csv, read_dlc_csv, read_keypoints

#: Cells put in place of any cell of a file.
GARBLE = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e400",
            "-1e400",
            "x",
            '"',
            '""',
            "1,2",
            "0x10",
            "1_000",
            "١٢",
            str(2**63),
            str(-(2**63) - 1),
            "9" * 400,
            "9" * 5000,
            "1" * 100_000,
            "a1" * 50_000,
            "labeled-data/v/img.png",
            "scorer",
            "coords",
            "bodyparts",
            "individuals",
            "\x00",
            "\ufeff1",
        ]
    ),
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(repr),
    st.text(max_size=6),
)
ROW_OPERATIONS = ("truncate", "truncate", "extend", "garble", "garble", "duplicate", "remove", "swap", "empty")


def _mutate_rows(data, rows: list[list[str]], max_changes: int = 4) -> list[list[str]]:
    rows = [list(r) for r in rows]
    for _ in range(data.draw(st.integers(0, max_changes), label="changes")):
        if not rows:
            break
        k = data.draw(st.integers(0, len(rows) - 1), label="row")
        op = data.draw(st.sampled_from(ROW_OPERATIONS), label="operation")
        if op == "truncate":  # down to the index cell alone, or nothing
            rows[k] = rows[k][: data.draw(st.integers(0, max(len(rows[k]) - 1, 0)), label="keep")]
        elif op == "extend":
            rows[k] = rows[k] + [data.draw(GARBLE, label="extra")] * data.draw(st.integers(1, 3), label="cells")
        elif op == "garble" and rows[k]:
            rows[k][data.draw(st.integers(0, len(rows[k]) - 1), label="cell")] = data.draw(GARBLE, label="by")
        elif op == "duplicate":
            rows.insert(k, list(rows[k]))
        elif op == "remove":
            del rows[k]
        elif op == "swap":
            j = data.draw(st.integers(0, len(rows) - 1), label="with")
            rows[k], rows[j] = rows[j], rows[k]
        elif op == "empty":
            rows[k] = []
    return rows


def _csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


# ---------------------------------------------------------------------- DeepLabCut CSV
@st.composite
def dlc_rows(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    T, J = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    animals = draw(st.sampled_from([[], ["mouse1"], ["mouse1", "mouse2"]]))
    labelled = draw(st.booleans())  # labelled data: x, y only, a 3-column image index
    coords = ("x", "y") if labelled else ("x", "y", "likelihood")
    parts = [f"part{j}" for j in range(J)]
    cols = [(a, b, c) for a in (animals or [None]) for b in parts for c in coords]
    pad = [""] * (2 if labelled else 0)
    header = [["scorer", *pad, *["DLC_resnet50"] * len(cols)]]
    if animals:
        header.append(["individuals", *pad, *[a for a, _, _ in cols]])
    header += [["bodyparts", *pad, *[b for _, b, _ in cols]], ["coords", *pad, *[c for _, _, c in cols]]]
    rows = []
    for t in range(T):
        values = rng.uniform(0, 640, len(cols)).round(2).astype(str)
        values[[k for k, (_, _, c) in enumerate(cols) if c == "likelihood"]] = "0.9"
        values[rng.uniform(size=len(cols)) < 0.15] = ""
        index = ["labeled-data", "video1", f"img{t:04d}.png"] if labelled else [str(t)]
        rows.append([*index, *values.tolist()])
    return header, rows, animals


CONFIGS = st.sampled_from(
    [
        None,
        "skeleton:\n- - part0\n  - part1\n- [part1, part2]\n",
        "skeleton: [[part0, part1], [part2, part3, part0]]\n",
        "skeleton: " + "[" * 20_000 + "]" * 20_000 + "\n",
        "a: &a [x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b]\n"
        "skeleton: [[*c, *c, *c], [part0, *c]]\n",
        "skeleton: 5\n",
        "skeleton:\n- part0\n- {a: 1}\n- [[part0], [part1]]\n",
        "skeleton: [\n",
        "- just\n- a list\n",
        "\x00\x01",
    ]
)


@settings(RELIABILITY, max_examples=300)
@given(
    data=st.data(),
    case=dlc_rows(),
    config=CONFIGS,
    header_changes=st.integers(0, 1),
    reader=st.sampled_from(["detect", "dlc", "individual"]),
)
def test_dlc_csv_files(data, case, config, header_changes, reader):
    header, rows, _ = case
    header = _mutate_rows(data, header, header_changes)
    with workdir() as d:
        path = d / "video1DLC_resnet50_shuffle1.csv"
        path.write_text(_csv_text(header + _mutate_rows(data, rows)), encoding="utf-8")
        kwargs = {"config": False}
        if config is not None:
            (d / "config.yaml").write_bytes(config.encode("utf-8"))
            kwargs = {"config": d / "config.yaml"} if data.draw(st.booleans(), label="explicit config") else {}
        if reader == "individual":
            kwargs["individual"] = data.draw(st.sampled_from([0, 1, "mouse2", "nobody", -1]), label="individual")
        read = read_dlc_csv if reader != "detect" else read_keypoints
        check_read(read, path, inputs=d, names=("config.yaml",), **kwargs)


# ---------------------------------------------------------------------- our CSV
@st.composite
def long_csv(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    T, J = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    columns = draw(st.permutations(["frame", "joint", "x", "y", "confidence"]))
    if draw(st.booleans()):
        columns = [c for c in columns if c != "confidence"]
    meta = draw(
        st.lists(
            st.sampled_from(
                [
                    "# lfm_engine keypoints",
                    "# fps: 30",
                    "# fps: 0",
                    "# fps: 1e400",
                    "# image_size: 640 480",
                    "# image_size: 640x480",
                    "# image_size: 0 1e400",
                    f"# image_size: {'9' * 400} 1",
                    "# rig: coco17",
                    "# rig: nope",
                    "# edges: 0-1 1-2",
                    f"# edges: 0-{'9' * 30}",
                    "# edges: 0-0",
                    "# edges: a-b",
                    "# edges:",
                    "#",
                    "# :",
                ]
            ),
            max_size=4,
        )
    )
    first = draw(st.sampled_from([0, 0, 10**6, 2**62, 2**63 - T, -5]))
    rows = [list(columns)]
    for t in range(T):
        for j in range(J):
            x, y = rng.uniform(0, 640, 2).round(3)
            cell = {"frame": str(first + t), "joint": f"j{j}", "x": str(x), "y": str(y), "confidence": "0.75"}
            if rng.uniform() < 0.1:
                cell.update(x="", y="", confidence="0")
            rows.append([cell[c] for c in columns])
    return meta, rows


@settings(RELIABILITY, max_examples=250)
@given(data=st.data(), case=long_csv(), reader=st.sampled_from(["detect", "csv", "rig"]))
def test_long_csv_files(data, case, reader):
    meta, rows = case
    rows = _mutate_rows(data, rows[:1], 1) + _mutate_rows(data, rows[1:])  # the header seldom, the rows often
    with workdir() as d:
        path = d / "keypoints.csv"
        path.write_text("\n".join(meta) + ("\n" if meta else "") + _csv_text(rows), encoding="utf-8")
        kwargs = {"rig": "coco17"} if reader == "rig" else {}
        check_read(read_keypoints if reader == "detect" else read_csv, path, **kwargs)
