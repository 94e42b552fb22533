"""SLEAP analysis files (``*.analysis.h5``, "Export Analysis HDF5"), read with h5py.

Datasets used: ``tracks`` (point locations), ``node_names``, ``edge_inds`` (or ``edge_names``), ``track_names``,
``track_occupancy`` and ``point_scores`` (both optional). SLEAP writes its arrays transposed for MATLAB, so in
h5py ``tracks`` is ``(n_tracks, 2, n_nodes, n_frames)``, ``point_scores`` ``(n_tracks, n_nodes, n_frames)`` and
``track_occupancy`` ``(n_frames, n_tracks)``; files written without the transpose (``(n_frames, n_nodes, 2,
n_tracks)`` ...) are read too, the order being told from the number of nodes.

One track is read: ``track=`` (index or name), default the track present in the most frames. NaN locations and
frames where the track is not occupied are missing. Confidence is the point score (clipped to [0, 1]), or 1 for
user-labelled points, which have no score.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ._h5 import open_h5, read_dataset
from .base import Keypoints2D, check_file, edges_from_name_pairs


def read_sleap(
    path,
    *,
    track: int | str | None = None,
    image_size: tuple[int, int] | None = None,
    fps: float | None = None,
) -> Keypoints2D:
    """Read one track of a SLEAP analysis HDF5 file.

    Args:
        path: the ``.h5`` file.
        track: the track's index or name; default the one present in the most frames.
        image_size: ``(width, height)`` (not in the file).
        fps: frame rate (not in the file).
    """
    p = check_file(path, "SLEAP analysis file")
    with open_h5(p) as h5:
        for key in ("tracks", "node_names"):
            if key not in h5:
                raise InputError(f"{p}: no {key!r} dataset, so not a SLEAP analysis file")
        names = tuple(_texts(read_dataset(h5, "node_names", p, "text")))
        track_names = _texts(read_dataset(h5, "track_names", p, "text")) if "track_names" in h5 else []
        raw = read_dataset(h5, "tracks", p, "numbers").astype(np.float64)
        locations = _locations(raw, len(names), len(track_names), p)  # (T, J, 2, K)
        T, J, _, K = locations.shape
        occupancy = _occupancy(h5, T, K, p)
        scores = _scores(h5, T, J, K, p)
        edges = _edges(h5, names, p)
    if K == 0:
        raise InputError(f"{p}: the file has no tracks")
    k = _pick_track(track, track_names, locations, occupancy, p)
    pts = locations[..., k].copy()
    pts[~occupancy[:, k]] = np.nan
    present = np.isfinite(pts).all(-1)
    conf = np.ones((T, J)) if scores is None else scores[..., k]
    conf = np.where(np.isfinite(conf), np.clip(conf, 0.0, 1.0), 1.0)
    conf[~present] = 0.0
    return Keypoints2D(pts, conf, names, edges, image_size=image_size, fps=fps, source=str(p))


def _texts(values) -> list[str]:
    arr = np.asarray(values).reshape(-1)
    return [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v) for v in arr]


def _locations(raw: np.ndarray, n_nodes: int, n_track_names: int, p) -> np.ndarray:
    """``tracks`` as ``(n_frames, n_nodes, 2, n_tracks)`` whichever order it was written in (with 2 nodes both
    orders fit: the track names tell them apart, else SLEAP's order is assumed)."""
    if raw.ndim != 4:
        raise InputError(f"{p}: 'tracks' has shape {raw.shape}; expected 4 dimensions (tracks, 2, nodes, frames)")
    sleap_order = raw.shape[1] == 2 and raw.shape[2] == n_nodes  # (tracks, 2, nodes, frames), as SLEAP writes
    plain_order = raw.shape[2] == 2 and raw.shape[1] == n_nodes  # (frames, nodes, 2, tracks)
    if sleap_order and plain_order and n_track_names:
        sleap_order = raw.shape[0] == n_track_names
    if sleap_order:
        return raw.T
    if plain_order:
        return raw
    raise InputError(
        f"{p}: 'tracks' has shape {raw.shape}, which fits neither (tracks, 2, nodes, frames) nor "
        f"(frames, nodes, 2, tracks) for the file's {n_nodes} nodes"
    )


def _occupancy(h5, T: int, K: int, p) -> np.ndarray:
    if "track_occupancy" not in h5:
        return np.ones((T, K), dtype=bool)
    occ = read_dataset(h5, "track_occupancy", p, "numbers")
    if occ.shape == (T, K):
        return occ != 0
    if occ.shape == (K, T):
        return occ.T != 0
    raise InputError(f"{p}: 'track_occupancy' has shape {occ.shape}, expected ({T}, {K}) frames x tracks")


def _scores(h5, T: int, J: int, K: int, p) -> np.ndarray | None:
    if "point_scores" not in h5:
        return None
    s = read_dataset(h5, "point_scores", p, "numbers").astype(np.float64)
    if s.shape == (K, J, T):
        return s.T
    if s.shape == (T, J, K):
        return s
    raise InputError(f"{p}: 'point_scores' has shape {s.shape}, expected ({K}, {J}, {T}) tracks x nodes x frames")


def _edges(h5, names: tuple[str, ...], p) -> np.ndarray:
    if "edge_inds" in h5:
        e = read_dataset(h5, "edge_inds", p, "numbers")
        if e.size == 0:
            return np.zeros((0, 2), np.int64)
        if e.ndim == 2 and e.shape[1] != 2 and e.shape[0] == 2:
            e = e.T
        if e.ndim != 2 or e.shape[1] != 2:
            raise InputError(f"{p}: 'edge_inds' has shape {e.shape}, expected (edges, 2)")
        return e.astype(np.float64)  # Keypoints2D checks that they are joint indices
    if "edge_names" in h5:
        raw = read_dataset(h5, "edge_names", p, "text")
        if raw.size and (raw.ndim != 2 or raw.shape[1] != 2):
            raise InputError(f"{p}: 'edge_names' has shape {raw.shape}, expected (edges, 2) pairs of node names")
        pairs = [_texts(row) for row in raw] if raw.size else []
        return edges_from_name_pairs(pairs, names)
    return np.zeros((0, 2), np.int64)


def _pick_track(track, track_names: list[str], locations: np.ndarray, occupancy: np.ndarray, p) -> int:
    K = locations.shape[-1]
    if track is None:
        found = (occupancy & np.isfinite(locations).all(2).any(1)).sum(0)  # frames with a point, per track
        return int(np.argmax(found))
    if isinstance(track, str):
        if track not in track_names:
            raise InputError(f"{p}: no track named {track!r}; tracks: {track_names}")
        return track_names.index(track)
    if not 0 <= int(track) < K:
        raise InputError(f"{p}: track={track}, but the file has {K} track(s) (0..{K - 1})")
    return int(track)
