"""Proportion jitter: the same motion on people of other builds, re-posed by forward kinematics.

Every bone keeps its direction in every frame and has its length scaled, so joint angles and the motion are kept
while limb, trunk and head ratios change. Bones are grouped into *segments*, the maximal unbranched chains of the
tree (a leg from hip to toe, an arm from the clavicle to the hand, the spine up to the chest, the neck and head):
a segment gets one factor (``segment_sigma``, log-normal, clipped to +-``clip``) and each bone a smaller one of its
own (``bone_sigma``). Left and right partners (``Rig.flip_permutation``) share their factors, up to a small
asymmetry (``asymmetry``), as people do. With the defaults a leg-to-trunk ratio varies by about +-20 % (2 sigma),
within the range of adult humans (e.g. the sitting-height ratio spans roughly 0.48 to 0.55 of stature).
"""

from __future__ import annotations

import numpy as np

from lfm_engine import Rig


def topological_order(parents: np.ndarray) -> np.ndarray:
    """Joint indices with every parent before its children (roots first)."""
    parents = np.asarray(parents)
    depth = np.zeros(len(parents), dtype=np.int64)
    for j in range(len(parents)):
        p, d = parents[j], 0
        while p >= 0:
            p, d = parents[p], d + 1
            if d > len(parents):
                raise ValueError("parents do not form a tree (cycle)")
        depth[j] = d
    return np.argsort(depth, kind="stable")


def segments(parents: np.ndarray) -> np.ndarray:
    """``(J,)`` segment id of the bone ending at each joint (roots: their own id): bones of one unbranched chain
    share the id of the chain's first bone."""
    parents = np.asarray(parents)
    children = np.bincount(parents[parents >= 0], minlength=len(parents))
    seg = np.arange(len(parents))
    for j in topological_order(parents):
        p = parents[j]
        if p >= 0 and parents[p] >= 0 and children[p] == 1:  # the chain continues through an unbranched parent
            seg[j] = seg[p]
    return seg


def jitter_proportions(
    positions: np.ndarray,
    rig: Rig,
    rng: np.random.Generator,
    *,
    segment_sigma: float = 0.1,
    bone_sigma: float = 0.04,
    asymmetry: float = 0.015,
    clip: float = 0.25,
) -> np.ndarray:
    """Re-pose ``(N, J, 3)`` poses of a tree ``rig`` with per-sample random bone lengths (see the module docstring).

    Args:
        positions: ``(N, J, 3)`` joints, any unit; frames are independent samples.
        rig: a tree (``rig.parents`` not None); returned unchanged otherwise.
        rng: the random source.
        segment_sigma, bone_sigma, asymmetry: log-normal sigmas of the per-segment, per-bone and left-right factors.
        clip: every log factor is clipped to +-``clip``.

    Returns:
        ``(N, J, 3)``: the roots where they were, every bone ``child - parent`` scaled by its factor.
    """
    if rig.parents is None:
        return positions
    parents = np.asarray(rig.parents)
    N, J, _ = positions.shape
    flip = rig.flip_permutation()
    seg = segments(parents)
    log_seg = rng.normal(0.0, segment_sigma, (N, J))  # indexed by segment id
    log_bone = rng.normal(0.0, bone_sigma, (N, J))
    # partners share factors: take the left's (the lower index's) for both, then add a small asymmetry
    owner = np.minimum(np.arange(J), flip)
    log = log_seg[:, seg[owner]] + log_bone[:, owner] + rng.normal(0.0, asymmetry, (N, J))
    factor = np.exp(np.clip(log, -clip, clip))  # (N, J): the bone ending at joint j
    out = positions.copy()
    for j in topological_order(parents):
        p = parents[j]
        if p >= 0:
            out[:, j] = out[:, p] + factor[:, j, None] * (positions[:, j] - positions[:, p])
    return out
