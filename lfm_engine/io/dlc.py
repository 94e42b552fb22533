"""DeepLabCut files: labelled data (``CollectedData_<scorer>.csv/.h5``) and predictions (``<video>DLC_*.csv/.h5``).

Both hold one table: a column per (scorer, [individual,] body part, coordinate), the coordinates ``x``, ``y`` and,
for predictions, ``likelihood``; a row per frame (an image path such as ``labeled-data/video/img0042.png`` for
labelled data, a frame number for predictions). The CSV writes the column labels as 3 header rows (``scorer``,
``bodyparts``, ``coords``) or 4 for multi-animal projects (with ``individuals``); the H5 is a pandas DataFrame
(read here with h5py alone, see :mod:`lfm_engine.io._pandas_hdf`).

Empty cells / NaN are missing points (confidence 0). Confidence is the likelihood, or 1 for every labelled point
of files without likelihood. One animal is read: ``individual=`` (a name or an index), default the first. Edges
come from the project's ``config.yaml`` ``skeleton`` (pairs of body-part names), given as ``config=`` or found
beside the file or up to three folders above it; without one there are no edges. ``frame_ids`` are the frame
numbers (predictions) or the numbers in the image names (labelled data) when every row has one.
"""

from __future__ import annotations

import csv
import itertools
import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from ._h5 import open_h5
from ._pandas_hdf import pandas_groups, read_frame
from .base import Keypoints2D, check_file, edges_from_name_pairs, frame_id_array, trailing_number

COORDS = ("x", "y", "likelihood")


def read_dlc(path, **kwargs) -> Keypoints2D:
    """:func:`read_dlc_csv` or :func:`read_dlc_h5`, by the file's extension."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        return read_dlc_csv(p, **kwargs)
    return read_dlc_h5(p, **kwargs)


def read_dlc_csv(
    path,
    *,
    individual: str | int | None = None,
    config=None,
    image_size: tuple[int, int] | None = None,
    fps: float | None = None,
) -> Keypoints2D:
    """Read a DeepLabCut CSV (labelled data or predictions, single- or multi-animal).

    Args:
        path: the ``.csv`` file.
        individual: the animal of a multi-animal file (its name or index); default the first.
        config: the project's ``config.yaml``; None looks beside the file and up to three folders above; False
            reads no config.
        image_size: ``(width, height)`` (DeepLabCut files do not record it).
        fps: frame rate.
    """
    p = check_file(path, "DeepLabCut CSV file")
    rows = _csv_rows(p)
    columns, level_names, index, values = _parse_dlc_rows(rows, p)
    return assemble_dlc(columns, level_names, index, values, p, individual=individual, config=config,
                        image_size=image_size, fps=fps)  # fmt: skip


def read_dlc_h5(
    path,
    *,
    individual: str | int | None = None,
    config=None,
    key: str | None = None,
    image_size: tuple[int, int] | None = None,
    fps: float | None = None,
) -> Keypoints2D:
    """Read a DeepLabCut H5 file (a pandas DataFrame in PyTables layout, read with h5py; pandas is not needed).

    Arguments as :func:`read_dlc_csv`, plus ``key``: the DataFrame's key in the file (default
    ``df_with_missing``, else the only DataFrame).
    """
    p = check_file(path, "DeepLabCut H5 file")
    with open_h5(p) as h5:
        groups = pandas_groups(h5)
        if key is None:
            if not groups:
                raise InputError(f"{p}: no pandas DataFrame in this HDF5 file, so not a DeepLabCut file")
            key = "df_with_missing" if "df_with_missing" in groups else groups[0]
        elif key not in groups:
            raise InputError(f"{p}: no DataFrame under key {key!r}; DataFrames: {groups}")
        frame = read_frame(h5, key, str(p))
    return assemble_dlc(frame.columns, frame.level_names, frame.index, frame.values, p, individual=individual,
                        config=config, image_size=image_size, fps=fps)  # fmt: skip


# ---------------------------------------------------------------------- CSV
def _csv_rows(p: Path) -> list[list[str]]:
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            return list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{p}: cannot read the CSV file ({exc})") from None


def _parse_dlc_rows(rows: list[list[str]], p: Path):
    """Column labels, level names, row index and ``(N, C)`` values of a DeepLabCut CSV."""
    if not rows or not rows[0] or rows[0][0].strip() != "scorer":
        raise InputError(f"{p}: not a DeepLabCut CSV (the first row must start with 'scorer')")
    c = next((i for i, r in enumerate(rows[:6]) if r and r[0].strip() == "coords"), None)
    if c is None:
        raise InputError(f"{p}: no 'coords' header row in the first rows; not a DeepLabCut CSV")
    header = rows[: c + 1]
    width = len(header[0])
    for i, r in enumerate(header):
        if len(r) != width:
            raise InputError(f"{p}: header line {i + 1} has {len(r)} cells but line 1 has {width}")
    data_cols = [j for j in range(width) if header[c][j].strip() in COORDS]
    if not data_cols:
        raise InputError(f"{p}: the 'coords' row names no x, y or likelihood column")
    n_index = data_cols[0]
    columns = [tuple(r[j].strip() for r in header) for j in data_cols]
    level_names = [r[0].strip() for r in header]
    body = [(i, r) for i, r in enumerate(rows[c + 1 :], start=c + 2) if any(cell.strip() for cell in r)]
    first = body[0][1] if body else []
    names_row = len(first) == width and not any(first[j].strip() for j in data_cols)
    if names_row and not any(re.search(r"\d", c) for c in first[:n_index]):
        body = body[1:]  # pandas' row of index names
    for line, r in body:  # before any cell is looked at: a truncated row has fewer than the data columns
        if len(r) != width:
            raise InputError(f"{p}: line {line} has {len(r)} cells, expected {width} like the header")
    if not body:
        raise InputError(f"{p}: the file has a header but no data rows")
    cells = np.array([[r[j].strip() for j in data_cols] for _, r in body], dtype=str)
    cells[cells == ""] = "nan"
    try:
        values = cells.astype(np.float64)
    except ValueError:
        for k, (line, _) in enumerate(body):
            for j, cell in enumerate(cells[k]):
                try:
                    float(cell)
                except ValueError:
                    raise InputError(
                        f"{p}: line {line}, column {data_cols[j] + 1} ({'/'.join(columns[j][-2:])}): "
                        f"{cell!r} is not a number"
                    ) from None
        raise
    index = [tuple(r[:n_index]) if n_index > 1 else (r[0] if n_index else k) for k, (_, r) in enumerate(body)]
    return columns, level_names, index, values


# ---------------------------------------------------------------------- common
def _levels(columns, level_names, p: Path) -> tuple[int | None, int, int]:
    """Positions of the (individuals, bodyparts, coords) levels in the column labels."""
    depth = len(columns[0]) if columns else 0
    names = [str(n).lower() if n else None for n in level_names]
    if "bodyparts" in names and "coords" in names:
        ind = names.index("individuals") if "individuals" in names else None
        return ind, names.index("bodyparts"), names.index("coords")
    if depth == 4:
        return 1, 2, 3
    if depth in (2, 3):
        return None, depth - 2, depth - 1
    raise InputError(f"{p}: cannot tell body parts and coordinates apart in {depth}-level column labels")


def assemble_dlc(
    columns: list[tuple],
    level_names: list,
    index: list,
    values: np.ndarray,
    p: Path,
    *,
    individual=None,
    config=None,
    image_size=None,
    fps=None,
) -> Keypoints2D:
    """:class:`Keypoints2D` of one individual from a DeepLabCut table (column labels, row index, values)."""
    if not columns:
        raise InputError(f"{p}: the table has no numeric columns")
    ind_level, bp_level, coord_level = _levels(columns, level_names, p)
    individuals = list(dict.fromkeys(col[ind_level] for col in columns)) if ind_level is not None else [None]
    who = _pick_individual(individuals, individual, p)
    cols = {}
    parts: list[str] = []
    for k, col in enumerate(columns):
        if ind_level is not None and col[ind_level] != who:
            continue
        bp, coord = str(col[bp_level]), str(col[coord_level])
        if coord not in COORDS:
            continue
        if (bp, coord) in cols:
            raise InputError(f"{p}: body part {bp!r} has two {coord!r} columns" + _of(who))
        cols[bp, coord] = k
        if bp not in parts:
            parts.append(bp)
    for bp in parts:
        for coord in ("x", "y"):
            if (bp, coord) not in cols:
                raise InputError(f"{p}: body part {bp!r} has no {coord!r} column" + _of(who))
    xy = np.stack([values[:, [cols[bp, "x"], cols[bp, "y"]]] for bp in parts], axis=1)  # (T, J, 2)
    present = np.isfinite(xy).all(-1)
    conf = np.ones(present.shape)
    for j, bp in enumerate(parts):
        if (bp, "likelihood") in cols:
            lik = values[:, cols[bp, "likelihood"]]
            conf[:, j] = np.where(np.isfinite(lik), np.clip(lik, 0.0, 1.0), 1.0)
    conf[~present] = 0.0
    xy[~present] = np.nan
    cfg = find_config(p) if config is None else (None if config is False else Path(config))
    edges = edges_from_name_pairs(read_skeleton(cfg), parts) if cfg is not None else np.zeros((0, 2), np.int64)
    return Keypoints2D(xy, conf, tuple(parts), edges, image_size=image_size, fps=fps, source=str(p),
                       frame_ids=_frame_ids(index))  # fmt: skip


def _of(who) -> str:
    return f" (individual {who!r})" if who is not None else ""


def _pick_individual(individuals: list, individual, p: Path):
    if individual is None or individuals == [None]:
        if individual is not None:
            raise InputError(f"{p}: individual={individual!r}, but this is a single-animal file")
        return individuals[0]
    if isinstance(individual, int) and not isinstance(individual, bool):
        if not 0 <= individual < len(individuals):
            raise InputError(f"{p}: individual={individual}, but the file has {len(individuals)}: {individuals}")
        return individuals[individual]
    if individual not in individuals:
        raise InputError(f"{p}: no individual {individual!r}; the file has {individuals}")
    return individual


def _frame_ids(index: list) -> np.ndarray | None:
    ids = []
    for label in index:
        if isinstance(label, int | np.integer):
            ids.append(int(label))
            continue
        text = str(label[-1] if isinstance(label, tuple) else label)
        number = re.fullmatch(r"\s*(-?\d+)\s*", text)
        n = trailing_number(number.group(1)) if number else trailing_number(Path(text.replace("\\", "/")).stem)
        if n is None:
            return None
        ids.append(-n if number and number.group(1).startswith("-") else n)
    return frame_id_array(ids) if len(set(ids)) == len(ids) else None


# ---------------------------------------------------------------------- config.yaml
def find_config(p: Path) -> Path | None:
    """The ``config.yaml`` beside ``p`` or in one of the three folders above it, or None."""
    folder = p.resolve().parent
    for d in [folder, *folder.parents][:4]:
        cfg = d / "config.yaml"
        if cfg.is_file():
            return cfg
    return None


def read_skeleton(cfg: Path) -> list[list[str]]:
    """The ``skeleton`` of a DeepLabCut ``config.yaml`` as pairs of body-part names (a longer list is read as a
    chain of links). Uses PyYAML when installed, else a small reader of the ``skeleton:`` entry alone."""
    if not cfg.is_file():
        raise InputError(f"{cfg}: DeepLabCut config.yaml not found")
    try:
        text = cfg.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{cfg}: cannot read the config file ({exc})") from None
    try:
        import yaml
    except ImportError:
        skeleton = _skeleton_without_yaml(text)
    else:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"{cfg}: not valid YAML ({exc})") from None
        except RecursionError:  # PyYAML's parser recurses once per level of nesting
            raise InputError(f"{cfg}: the YAML is nested too deeply to read") from None
        skeleton = doc.get("skeleton") if isinstance(doc, dict) else None
    pairs: list[list[str]] = []
    for entry in skeleton if isinstance(skeleton, list) else []:
        # body-part names are text (or numbers); anything else (a list, perhaps of YAML aliases) names no body part
        if isinstance(entry, list | tuple) and len(entry) >= 2 and all(_is_name(n) for n in entry):
            names = [str(n) for n in entry]
            pairs.extend([a, b] for a, b in itertools.pairwise(names))
    return pairs


def _is_name(value) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _flow(text: str) -> list:
    """A YAML flow sequence such as ``[['a', 'b'], [c, d]]`` as nested lists of strings."""
    tokens = re.findall(r"\[|\]|,|'[^']*'|\"[^\"]*\"|[^\[\],]+", text)
    stack: list[list] = [[]]
    for tok in tokens:
        tok = tok.strip()
        if tok == "[":
            stack.append([])
        elif tok == "]" and len(stack) > 1:
            done = stack.pop()
            stack[-1].append(done)
        elif tok and tok not in ",]":
            stack[-1].append(tok.strip("'\""))
    return stack[0][0] if stack[0] and isinstance(stack[0][0], list) else []


def _skeleton_without_yaml(text: str) -> list:
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"skeleton\s*:", line)), None)
    if start is None:
        return []
    rest = lines[start].split(":", 1)[1].split("#", 1)[0].strip()
    if rest.startswith("["):
        flow, i = rest, start + 1
        while flow.count("[") > flow.count("]") and i < len(lines):
            flow += " " + lines[i].split("#", 1)[0].strip()
            i += 1
        return _flow(flow)
    out: list[list[str]] = []
    for line in lines[start + 1 :]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith((" ", "-")):
            break
        item = line.split("#", 1)[0].strip()
        pair = re.match(r"-\s+-\s+(.+)", item)
        inline = re.match(r"-\s+(\[.*)", item)
        more = re.match(r"-\s+(.+)", item)
        if pair:
            out.append([pair.group(1).strip().strip("'\"")])
        elif inline:
            parsed = _flow("[" + inline.group(1) + "]")
            if parsed and isinstance(parsed[0], list):
                out.append([str(v) for v in parsed[0]])
        elif more and out:
            out[-1].append(more.group(1).strip().strip("'\""))
    return out
