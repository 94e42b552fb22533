"""The training mix of each phase of the schedule: which pose sets, and how often each is drawn.

Phase 1 (people alone) is where the model leaves the flat plateau: only real mocap, through its own rigs mostly,
files weighted by the square root of their frame count (so the two small CMU files, 3 % of the frames, get about
12 % of the draws instead of the 43 % an even split gave them). Phase 2 widens to every category while people
stay half of the draws; inside a category other than mocap, sets are weighted by their size.
"""

from __future__ import annotations

import os

import numpy as np

from .mocap import STANDARD_LAYOUTS
from .sources import (
    MOCAP_FILES,
    PoseSet,
    chair_set,
    face_set,
    mocap_sets,
    split_by_subject,
    synthetic_sets,
    with_layouts,
)

#: Phase 1: share of a mocap file's draws through its own rig (the rest: the four standard layouts, evenly).
OWN_RIG_PHASE1 = 0.75
OWN_RIG_PHASE2 = 0.6
#: Phase 2: categories' shares (people: mocap, then the Rigify humans).
PHASE2_WEIGHTS = {"mocap": 0.35, "rigify_human": 0.15, "quadruped": 0.18, "hand": 0.1, "face": 0.05, "bird": 0.05,
                  "fish": 0.04, "object": 0.08}  # fmt: skip


def training_sets(shared: str, cache: str, *, hdm05: str = "train", held_out_subject: str = "tr") -> list[PoseSet]:
    """Every pose set a run may train on.

    ``hdm05``: ``"train"`` (HDM05 without ``held_out_subject``, the held-out-actor protocol and the shipped
    weights), ``"none"`` (no HDM05: the cross-dataset protocol) or ``"all"``.
    """
    if hdm05 not in ("train", "none", "all"):
        raise ValueError(f"hdm05 must be 'train', 'none' or 'all', got {hdm05!r}")
    sets: list[PoseSet] = []
    for name in MOCAP_FILES:
        path = os.path.join(shared, "mocap", f"{name}.npz")
        if name != "hdm05_subset" or hdm05 == "all":
            sets += mocap_sets(path)
        elif hdm05 == "train":
            sets += with_layouts(split_by_subject(path, held_out_subject)[0])
    sets += synthetic_sets(cache)
    sets.append(chair_set(os.path.join(shared, "objects", "keypointnet_chair.json")))
    sets.append(face_set(os.path.join(shared, "face", "canonical_face_model.obj")))
    return sets


def is_mocap(pset: PoseSet) -> bool:
    return pset.category == "human" and not pset.name.startswith("rigify")


def layout_of(pset: PoseSet) -> str | None:
    """The standard layout a mocap set is seen through, or None for its own rig."""
    suffix = pset.name.rsplit(":", 1)[-1] if ":" in pset.name else None
    return suffix if suffix in STANDARD_LAYOUTS else None


def mocap_entries(sets: list[PoseSet], own_share: float) -> list[tuple[PoseSet, float]]:
    """Mocap sets weighted by sqrt(frames) per file, ``own_share`` of a file's draws through its own rig; sums to 1."""
    mocap = [s for s in sets if is_mocap(s)]
    own = [s for s in mocap if layout_of(s) is None]
    if not own:
        raise ValueError("no mocap pose set in the training mix")
    w = np.sqrt([len(s) for s in own])
    w = w / w.sum()
    entries = []
    for s, ws in zip(own, w, strict=True):
        entries.append((s, ws * own_share))
        views = [v for v in mocap if layout_of(v) is not None and v.name.rsplit(":", 1)[0] == s.name]
        entries += [(v, ws * (1 - own_share) / len(views)) for v in views]
    return entries


def phase_entries(sets: list[PoseSet], phase: int) -> list[tuple[PoseSet, float]]:
    """``(pose set, weight)`` of ``phase`` 1 (people: mocap only) or 2 (everything; weights sum to 1)."""
    if phase == 1:
        return mocap_entries(sets, OWN_RIG_PHASE1)
    if phase != 2:
        raise ValueError(f"phase must be 1 or 2, got {phase}")
    entries = [(s, w * PHASE2_WEIGHTS["mocap"]) for s, w in mocap_entries(sets, OWN_RIG_PHASE2)]
    groups: dict[str, list[PoseSet]] = {}
    for s in sets:
        if not is_mocap(s):
            groups.setdefault("rigify_human" if s.category == "human" else s.category, []).append(s)
    for g, members in groups.items():
        sizes = np.array([len(s) for s in members], dtype=float)
        entries += [(s, PHASE2_WEIGHTS.get(g, 0.0) * n / sizes.sum()) for s, n in zip(members, sizes, strict=True)]
    total = sum(w for _, w in entries)  # below 1 when a category is missing (e.g. no synthetic cache)
    return [(s, w / total) for s, w in entries]
