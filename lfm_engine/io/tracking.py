"""Following one subject through frames that hold several detections (OpenPose people, MMPose instances).

The track starts in the first frame with a detection, on the detection given by ``person`` or else on the most
prominent one: the largest (diagonal of its visible joints' bounding box) times its mean confidence. In each later
frame the track takes the detection closest to where the track was last seen: the mean distance over the joints
visible in both, divided by the pose's size (the diagonal of the bounding box of the tracked pose, or of the
detection when that is larger). A detection farther
than ``gate`` (in those units; the gate widens as ``sqrt(frames since the track was last seen)``, at most twice)
is not taken: the frame is left missing rather than jumping to somebody else.

A detector sometimes splits one person into two detections (say the upper and the lower body). With
``merge_fragments`` the joints that the chosen detection lacks are filled from other detections inside the gate,
joint by joint, when each such joint is itself within the gate of where the track last saw that joint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

#: Default gate: a detection whose mean joint distance from the track exceeds this fraction of the tracked pose's
#: size is not the tracked subject.
DEFAULT_GATE = 0.25


@dataclass(frozen=True)
class Track:
    """One subject's keypoints over T frames.

    Attributes:
        points: ``(T, J, 2)`` float64, NaN where the subject was not found or the joint is missing.
        confidence: ``(T, J)`` float64, 0 where missing.
        chosen: ``(T,)`` int64, the detection taken in each frame (-1 where none was).
    """

    points: np.ndarray
    confidence: np.ndarray
    chosen: np.ndarray


def pose_size(pose: np.ndarray) -> float:
    """The diagonal of the bounding box of the finite rows of ``pose`` ``(J, 2)`` (0 for fewer than 2)."""
    ok = np.isfinite(pose).all(-1)
    if ok.sum() < 2:
        return 0.0
    q = pose[ok]
    return float(np.hypot(*(q.max(0) - q.min(0))))


def _prominence(pose: np.ndarray, score: np.ndarray) -> float:
    ok = np.isfinite(pose).all(-1)
    if not ok.any():
        return -1.0
    return max(pose_size(pose), 1.0) * float(np.mean(score[ok]))


def _mean_distances(cands: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``(P,)`` mean distance of each candidate ``(P, M, 2)`` to ``ref`` ``(M, 2)`` over joints finite in both
    (inf when they share none)."""
    d = np.linalg.norm(cands - ref[None], axis=-1)  # (P, M), NaN where either is missing
    ok = np.isfinite(d)
    n = ok.sum(1)
    total = np.where(ok, d, 0.0).sum(1)
    return np.where(n > 0, total / np.maximum(n, 1), np.inf)


def follow_track(
    frames: Sequence[np.ndarray],
    scores: Sequence[np.ndarray],
    *,
    person: int | None = None,
    gate: float | None = DEFAULT_GATE,
    merge_fragments: bool = True,
    match_joints: np.ndarray | None = None,
    source: str = "",
    frame_labels: Sequence[str] | None = None,
) -> Track:
    """Follow one subject through per-frame detections.

    Args:
        frames: T arrays ``(P_t, J, 2)``, the detections of each frame (P_t may be 0), NaN where missing.
        scores: T arrays ``(P_t, J)`` of confidences in [0, 1].
        person: index of the detection to follow in the first frame that has one; None picks the most prominent.
        gate: largest accepted mean distance, as a fraction of the tracked pose's size; None accepts any distance.
        merge_fragments: fill joints the chosen detection lacks from other detections inside the gate.
        match_joints: indices of the joints used to measure distances (default: all), e.g. the body joints only.
        source: the file or folder, for error messages.
        frame_labels: a name for each frame (e.g. its file), for error messages.

    Raises:
        InputError: no frame has a detection, or ``person`` is not a detection of the first such frame.
    """
    T = len(frames)
    J = next((f.shape[1] for f in frames if f.ndim == 3), 0)
    out = np.full((T, J, 2), np.nan)
    conf = np.zeros((T, J))
    chosen = np.full(T, -1, dtype=np.int64)
    m = np.arange(J) if match_joints is None else np.asarray(match_joints, dtype=np.int64)

    def label(t: int) -> str:
        return f"frame {t}" + (f" ({frame_labels[t]})" if frame_labels is not None else "")

    present = [np.isfinite(f[:, m]).all(-1).any(-1) if len(f) else np.zeros(0, bool) for f in frames]
    start = next((t for t in range(T) if present[t].any()), None)
    if start is None:
        raise InputError(f"{source}: no frame has a detection with any joint present ({T} frames)")
    cands = frames[start]
    if person is not None:
        if not 0 <= person < len(cands):
            raise InputError(
                f"{source}: person={person}, but {label(start)}, the first with detections, has {len(cands)} "
                f"(person 0..{len(cands) - 1})"
            )
        first = int(person)
    else:
        first = int(np.argmax([_prominence(p[m], s[m]) for p, s in zip(cands, scores[start], strict=True)]))
    out[start], conf[start], chosen[start] = cands[first], scores[start][first], first
    ref = out[start].copy()  # where the track last saw each joint
    last = start
    for t in range(start + 1, T):
        cands = frames[t]
        if not present[t].any():
            continue
        # the size is the larger of the track's and the candidate's, so that a track that started on a few joints
        # (a tiny pose) can still match its subject once more of it is seen
        size = np.maximum([pose_size(c[m]) for c in cands], pose_size(ref[m]))
        dist = _mean_distances(cands[:, m], ref[m]) / np.maximum(size, 1e-9)
        limit = np.inf if gate is None else gate * min(np.sqrt(t - last), 2.0)
        inside = np.flatnonzero(dist <= limit)
        if inside.size == 0:
            continue
        inside = inside[np.argsort(dist[inside], kind="stable")]
        best = int(inside[0])
        pose, score = cands[best].copy(), scores[t][best].copy()
        if merge_fragments and inside.size > 1:
            joint_limit = limit * max(size[best], 1e-9)
            for q in inside[1:]:
                other = cands[q]
                near = np.linalg.norm(other - ref, axis=-1) <= joint_limit  # False where either is NaN
                fill = ~np.isfinite(pose).all(-1) & near
                pose[fill], score[fill] = other[fill], scores[t][q][fill]
        out[t], conf[t], chosen[t] = pose, score, best
        seen = np.isfinite(pose).all(-1)
        ref[seen] = pose[seen]
        last = t
    return Track(out, conf, chosen)
