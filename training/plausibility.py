"""Protocol (d): plausibility of the lift on real footage that has no 3D (docs/EVALUATION.md).

The real Pose2Sim clip (``../shared/data/footage/pose2sim_balancing``: 100 frames of OpenPose BODY_25B from a
1080 x 1920 phone video at 60 fps) is lifted frame by frame with ``Lifter.lift`` and the camera of docs/ADDON.md's
example (focal length 1681 px). Without 3D ground truth, two properties a right lift has are measured on the
per-frame lift (before any constant-length fit):

* **bone-length constancy**: per bone, the coefficient of variation (std / mean) of its length over the frames,
  then the median over bones. A person's bones do not change length; the flat lift's image-plane lengths vary
  with foreshortening, so the model should vary less;
* **left/right symmetry**: per left/right pair of bones, ``|L - R| / mean(L, R)`` of the median lengths.

Only joints seen with confidence above 0.3 in both of a bone's ends count.
"""

from __future__ import annotations

import os

import numpy as np

from lfm_engine import Lifter, get_rig
from lfm_engine.io.openpose import read_openpose

FOCAL = 1681.0
IMAGE = (1080, 1920)


def bone_statistics(points: np.ndarray, parents, symmetry, seen: np.ndarray) -> dict[str, float]:
    """``points (T, J, D)``, a tree's ``parents``, left/right joint pairs, ``seen (T, J)`` -> the two measures."""
    parents = np.asarray(parents)
    lengths, cv = {}, []
    for j, p in enumerate(parents):
        if p < 0:
            continue
        ok = seen[:, j] & seen[:, p]
        if ok.sum() < 10:
            continue
        length = np.linalg.norm(points[ok, j] - points[ok, p], axis=-1)
        lengths[j] = np.median(length)
        cv.append(length.std() / max(length.mean(), 1e-12))
    asym = []
    for left, right in symmetry:
        if left in lengths and right in lengths:
            asym.append(abs(lengths[left] - lengths[right]) / (0.5 * (lengths[left] + lengths[right])))
    return {"bone_cv": float(np.median(cv)), "lr_asymmetry": float(np.median(asym)), "bones": len(cv),
            "pairs": len(asym)}  # fmt: skip


def real_clip_plausibility(lifter: Lifter, shared: str) -> dict:
    """Bone-length constancy and left/right symmetry of the lift and of the flat (image-plane) lift."""
    folder = os.path.join(shared, "footage", "pose2sim_balancing", "cam01_openpose_json")
    kp = read_openpose(folder, layout="body25b")
    rig = get_rig("openpose_body25b")
    seen = np.isfinite(kp.points).all(-1) & (kp.confidence > 0.3)
    uv = np.where(seen[..., None], kp.points, np.nan)
    lifted = lifter.lift(uv, edges=rig, focal_length=FOCAL, principal_point=np.array(IMAGE) / 2)
    parents = rig.tree_parents()
    flat = np.concatenate([uv, np.zeros_like(uv[..., :1])], -1)
    return {
        "frames": len(uv),
        "model": bone_statistics(lifted, parents, rig.symmetry, seen),
        "flat": bone_statistics(flat, parents, rig.symmetry, seen),
    }
