"""Feet, and when they touch the ground: found by name in a rig, detected from the motion, overridden per frame.

Feet
----
:func:`find_feet` reads a human rig's joint names (any of the project's layouts: ``LAnkle``/``LHeel``/``LBigToe``,
``left_ankle``/``left_heel``/``left_foot_index``, ``lfoot``/``ltoes``, ``LeftToe_End``, ...). A foot's **sole**
joints are its heel and toe joints, which touch the ground when the foot is planted; a rig with only an ankle
(COCO-17, H3.6M) uses the ankle, which stands :data:`ANKLE_HEIGHT` (times the subject height) above the ground.

Contacts
--------
``contacts`` is a ``(T, F)`` bool array: foot ``f`` (in :func:`find_feet`'s order, left first) is planted in frame
``t``. :func:`detect_contacts` finds them from the data: a foot is planted where

* its sole is among the lowest points: its lowest sole joint within :attr:`ContactThresholds.height` of the lowest
  sole joint of any foot in that frame (a person has a foot on the ground most of the time), and within the looser
  :attr:`ContactThresholds.ground` of the ground plane (or of the lowest points, before a plane is known), which
  only excludes jumps: before the contacts pin them, feet heights from the lifted depth are only good to a few
  centimetres;
* it hardly moves in the image: the speed of its sole joints' centroid measured from the 2D tracks (pixels/s times
  depth / focal length) below :attr:`ContactThresholds.speed`, when 2D is given;
* it does not move fast in 3D: the same speed in 3D below :attr:`ContactThresholds.speed3d`, only a guard against
  glitches: before the contacts pin it the depth is far noisier than the image, and a foot on the ground that
  stands still in the image stands still in 3D (its camera ray meets the ground in one point) unless the camera
  is at the ground's height;

then runs shorter than :attr:`ContactThresholds.min_run` seconds are dropped and gaps shorter than
:attr:`ContactThresholds.max_gap` seconds filled. Lengths and speeds are in units of the subject's height (a 1.75 m
person: ``speed=0.2`` is 0.35 m/s), so the same thresholds serve any size.

:func:`apply_overrides` gives the contacts used: the mode (:data:`CONTACT_MODES`: ``"auto"`` the detected ones,
``"always"``, ``"never"``) and per-foot per-frame overrides (``(T, F)`` int: :data:`AUTO` follows the mode,
:data:`NEVER` and :data:`ALWAYS` force), which is how a user edits them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

#: Clip-wide contact modes: detected, every frame, none.
CONTACT_MODES = ("auto", "always", "never")
#: Values of a per-frame override (:func:`apply_overrides`).
AUTO, NEVER, ALWAYS = -1, 0, 1
#: Height of the ankle joint above the ground with the foot flat, as a fraction of the subject's height.
ANKLE_HEIGHT = 0.045

_SIDES = (("left", ("left", "l")), ("right", ("right", "r")))
_SOLE = ("heel", "toe", "foot_index", "footindex")
_ANKLE = ("ankle", "foot")


@dataclass(frozen=True)
class Foot:
    """One foot of a rig.

    Attributes:
        side: ``"left"`` or ``"right"``.
        joints: every joint of the foot (ankle, heel, toes), indices into the rig's joints.
        sole: the joints on the ground when the foot is planted (heel and toes; the ankle without them).
        sole_height: the sole joints' height above the ground, as a fraction of the subject height (0, or
            :data:`ANKLE_HEIGHT` for an ankle).
    """

    side: str
    joints: tuple[int, ...]
    sole: tuple[int, ...]
    sole_height: float = 0.0


def _split(name: str) -> list[str]:
    """Lower-case words of a joint name: ``LBigToe`` -> ``['l', 'big', 'toe']``, ``left_foot_index`` ->
    ``['left', 'foot', 'index']``, ``lfoot`` -> ``['lfoot']``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    spaced = re.sub(r"([A-Z])([A-Z][a-z])", r"\1 \2", spaced)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def _side_and_part(name: str) -> tuple[str | None, str]:
    """The side (``"left"``, ``"right"`` or None) and the rest of a joint name, lower case without separators."""
    words = _split(name)
    if not words:
        return None, ""
    for side, tokens in _SIDES:
        if words[0] in tokens:
            return side, "".join(words[1:])
        if words[-1] in tokens:
            return side, "".join(words[:-1])
        for tok in tokens:  # glued prefixes: lfoot, ltoes, lefttoe
            head = words[0]
            if head.startswith(tok) and any(head[len(tok) :].startswith(k) for k in (*_SOLE, *_ANKLE)):
                return side, head[len(tok) :] + "".join(words[1:])
    return None, "".join(words)


def find_feet(joint_names: Sequence[str]) -> tuple[Foot, ...]:
    """The rig's feet, left then right, found by name (see the module docs); feet with no joint are left out."""
    feet = []
    for side, _ in _SIDES:
        sole, ankle = [], []
        for j, name in enumerate(joint_names):
            s, part = _side_and_part(str(name))
            if s != side:
                continue
            if any(k in part for k in _SOLE):
                sole.append(j)
            elif part.startswith(_ANKLE) and "hip" not in part:
                ankle.append(j)
        if sole:
            feet.append(Foot(side, tuple(ankle + sole), tuple(sole), 0.0))
        elif ankle:
            feet.append(Foot(side, tuple(ankle), tuple(ankle), ANKLE_HEIGHT))
    return tuple(feet)


def pelvis_joints(joint_names: Sequence[str], parents: Sequence[int]) -> np.ndarray:
    """Indices of the joints whose mean is the pelvis: those named ``*hip*`` or ``*pelvis*``, else the roots."""
    idx = [j for j, n in enumerate(joint_names) if "hip" in str(n).lower() or "pelvis" in str(n).lower()]
    if not idx:
        idx = [j for j, p in enumerate(parents) if p < 0]
    return np.asarray(idx, dtype=np.int64)


@dataclass(frozen=True)
class ContactThresholds:
    """Contact detection thresholds (see the module docs); lengths in subject heights, times in seconds."""

    height: float = 0.1
    ground: float = 0.15
    speed: float = 0.2
    speed3d: float = 1.5
    min_run: float = 0.1
    max_gap: float = 0.1


def foot_measures(
    points: np.ndarray,
    feet: Sequence[Foot],
    fps: float,
    normal: np.ndarray,
    offset: float,
    size: float,
    *,
    tracks2d: np.ndarray | None = None,
    focal_length: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Each foot's height above a plane and its speeds, in subject heights (per second).

    Args:
        points: ``(T, J, 3)`` camera-world points (Blender axes, the camera at the origin looking along +Y), metres.
        feet: from :func:`find_feet`.
        normal, offset: the plane ``normal . X = offset`` (``normal`` unit, pointing up).
        size: the subject's height, metres.
        tracks2d: ``(T, J, 2)`` pixels, with ``focal_length``: also the image speed.

    Returns:
        ``heights`` ``(T, F)``: the lowest sole joint above the plane (its sole height subtracted);
        ``speed3d`` ``(T, F)``: speed of the sole centroid; ``speed2d`` ``(T, F)`` or None: the same from the 2D.
    """
    p = np.asarray(points, dtype=np.float64)
    T, F = len(p), len(feet)
    n = np.asarray(normal, dtype=np.float64)
    heights = np.zeros((T, F))
    speed3d = np.zeros((T, F))
    speed2d = None if tracks2d is None or focal_length is None else np.zeros((T, F))
    for f, foot in enumerate(feet):
        sole = list(foot.sole)
        heights[:, f] = ((p[:, sole] @ n) - offset).min(1) / size - foot.sole_height
        centre = p[:, sole].mean(1)  # (T, 3)
        if T >= 2:
            speed3d[:, f] = np.linalg.norm(np.gradient(centre, axis=0), axis=-1) * fps / size
            if speed2d is not None:
                uv = np.asarray(tracks2d, dtype=np.float64)[:, sole].mean(1)  # (T, 2)
                metres_per_px = centre[:, 1] / focal_length  # depth / f
                speed2d[:, f] = np.linalg.norm(np.gradient(uv, axis=0), axis=-1) * fps * metres_per_px / size
    return heights, speed3d, speed2d


def clean_runs(mask: np.ndarray, min_run: int, max_gap: int) -> np.ndarray:
    """``(T, ...)`` bool with gaps of at most ``max_gap`` frames between True runs filled, then True runs shorter
    than ``min_run`` frames removed (per column)."""
    m = np.array(mask, dtype=bool)
    flat = m.reshape(len(m), -1)
    for c in range(flat.shape[1]):
        col = flat[:, c]
        for a, b, v in _runs(col):
            if not v and a > 0 and b < len(col) and b - a <= max_gap:
                col[a:b] = True
        for a, b, v in _runs(col):
            if v and b - a < min_run:
                col[a:b] = False
    return flat.reshape(m.shape)


def _runs(col: np.ndarray) -> list[tuple[int, int, bool]]:
    """``[(start, stop, value), ...]`` runs of a 1-D bool array."""
    if col.size == 0:
        return []
    edges = np.flatnonzero(np.diff(col.astype(np.int8))) + 1
    starts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [col.size]])
    return [(int(a), int(b), bool(col[a])) for a, b in zip(starts, stops, strict=True)]


def detect_contacts(
    heights: np.ndarray,
    speed3d: np.ndarray,
    speed2d: np.ndarray | None,
    fps: float,
    thresholds: ContactThresholds | None = None,
) -> np.ndarray:
    """``(T, F)`` bool planted feet from :func:`foot_measures` (see the module docs)."""
    th = thresholds or ContactThresholds()
    h = np.asarray(heights, dtype=np.float64)
    if len(h) < 3:
        return np.zeros(h.shape, dtype=bool)
    ok = (h - h.min(1, keepdims=True) < th.height) & (h < th.ground) & (np.asarray(speed3d) < th.speed3d)
    if speed2d is not None:
        ok &= np.asarray(speed2d) < th.speed
    return clean_runs(ok, max(1, round(th.min_run * fps)), round(th.max_gap * fps))


def apply_overrides(detected: np.ndarray, mode: str = "auto", overrides: np.ndarray | None = None) -> np.ndarray:
    """The contacts used: ``mode`` (:data:`CONTACT_MODES`) applied to ``detected`` ``(T, F)``, then ``overrides``
    (``(T, F)`` int, :data:`AUTO` / :data:`NEVER` / :data:`ALWAYS`; None: none).

    Raises:
        InputError: an unknown mode, or overrides of another shape.
    """
    if mode not in CONTACT_MODES:
        raise InputError(f"unknown contact mode {mode!r}; use one of {', '.join(CONTACT_MODES)}")
    det = np.asarray(detected, dtype=bool)
    out = det.copy() if mode == "auto" else np.full(det.shape, mode == "always")
    if overrides is not None:
        o = np.asarray(overrides)
        if o.shape != det.shape:
            raise InputError(f"contact overrides must have shape {det.shape} (frames, feet), got {o.shape}")
        out = np.where(o == ALWAYS, True, np.where(o == NEVER, False, out))
    return out
