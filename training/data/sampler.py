"""Training batches: a category, a pose set, a rig variant, random cameras and detector-like corruption.

Each micro-batch holds one rig variant (no padding waste) with about ``tokens`` joints in all; a :class:`Sampler`
draws pose sets by weight (``training/train.py`` sets them per phase of the schedule; :meth:`Sampler.by_category`
draws categories by ``CATEGORY_WEIGHTS`` and sets evenly within one). What varies besides the view is an
:class:`Augment`. Per sample:

* proportions (people): bone lengths jittered per sample and the pose rebuilt by forward kinematics;
* rig variant: the set's own rig, a random subset of its joints with removed joints' children re-attached to the
  nearest kept ancestor (the skeleton stays connected), or extra points at the middle of random bones (mocap
  files are also seen through COCO-17, H36M-17, BODY_25 and MediaPipe 33: :mod:`training.data.mocap`);
* rigid sets (chairs, the face): anisotropic scale jitter of +-15% per axis;
* view: yaw uniform over the circle, pitch in +-45 degrees, roll +-10 degrees; orthographic (30%) or pinhole
  with the camera at 3 to 20 RMS radii of the subject (a person at about 1.5 to 10 m; closer views distort so
  much that learning slowed several-fold when they were included);
* mirroring: x -> -x with the left/right sides swapped; side labels dropped: rigs without names;
* in a fraction of the micro-batches (``Augment.corrupt``; the rest stay clean, which keeps the depth signal
  strong: with every batch corrupted the model learned to denoise long before it learned depth), 2D noise:
  Gaussian with sigma up to 2% of the subject's 2D half-size, and 1% of joints thrown up to 20% away (detector
  swaps); occlusion: half the samples lose a random 0-60% of their joints (at least 2 stay visible).

The model sees what :func:`lfm_engine.preprocess.normalize` makes of the 2D at inference; the target is the 3D in
the camera frame (x right, y down, z away), centred on the visible joints and scaled like the 2D (so the flat lift
(x, y, 0) is already right in x and y under weak perspective).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfm_engine import Rig
from lfm_engine.preprocess import normalize

from .proportions import jitter_proportions
from .sources import PoseSet

CATEGORY_WEIGHTS = {"human": 0.34, "quadruped": 0.2, "hand": 0.12, "face": 0.08, "bird": 0.08, "fish": 0.06,
                    "object": 0.12}  # fmt: skip
MAX_JOINTS = 160  # larger rigs are trained on joint subsets of at most this size (the attention cost is J^2)
DISTANCE = (3.0, 20.0)  # camera distance in RMS radii of the subject (log-uniform): a person at 1.5 to 10 m
MAX_PITCH = np.pi / 4
ORTHO_FRACTION = 0.3
NOISE_MAX = 0.02  # 2D noise sigma, up to this fraction of the subject's 2D half-size
OUTLIER_RATE = 0.01  # fraction of joints thrown up to 20% of the half-size away
OCCLUDED_SAMPLES = 0.5  # fraction of samples with occlusion (each losing a random 0-60% of joints)
TARGET = "camera"  # "camera": the 3D in the camera frame (the shipped run); "image": clean normalised 2D + depth
CORRUPTED_BATCHES = 0.5  # fraction of micro-batches with noise, outliers and occlusion (the rest are clean)


@dataclass
class Batch:
    """One rig's micro-batch: ``points`` (B, J, 2) normalised, ``visible`` (B, J), ``target`` (B, J, 3),
    ``adjacency`` (J, J) with self loops, ``side`` (J,) in {-1, 0, 1}, ``name`` of the pose set and variant."""

    points: np.ndarray
    visible: np.ndarray
    target: np.ndarray
    adjacency: np.ndarray
    side: np.ndarray
    name: str


def collapse_subset(rig: Rig, keep: np.ndarray) -> Rig:
    """``rig`` restricted to the joints ``keep`` (sorted indices), each kept joint re-attached to its nearest kept
    ancestor, so a tree stays one tree (a general graph keeps only the edges between kept joints)."""
    if rig.parents is None:
        return rig.subset(keep.tolist())
    new = {int(old): k for k, old in enumerate(keep)}
    parents = []
    for old in keep:
        p = rig.parents[old]
        while p >= 0 and p not in new:
            p = rig.parents[p]
        parents.append(new[p] if p >= 0 else -1)
    sym = [(new[a], new[b]) for a, b in rig.symmetry if a in new and b in new]
    names = [rig.joint_names[i] for i in keep]
    return Rig.from_parents(names, parents, name=f"{rig.name}~sub", symmetry=sym, category=rig.category)


def densify(rig: Rig, positions: np.ndarray, rng: np.random.Generator, fraction: float):
    """Add a point at the middle of a random ``fraction`` of the bones: (positions (N, J', 3), rig)."""
    edges = [e for e in rig.edges]
    picked = [edges[i] for i in np.flatnonzero(rng.random(len(edges)) < fraction)]
    if not picked:
        return positions, rig
    names = list(rig.joint_names)
    new_edges = [e for e in edges if e not in picked]
    mids = []
    for a, b in picked:
        m = len(names)
        names.append(f"{names[a]}~{names[b]}")
        new_edges += [(a, m), (m, b)]
        mids.append(0.5 * (positions[:, a] + positions[:, b]))
    side = rig.sides()
    sym = list(rig.symmetry)
    # a midpoint inherits a side when both ends agree; pair left/right midpoints whose ends are pairs
    flip = rig.flip_permutation()
    index = {(a, b): len(rig.joint_names) + k for k, (a, b) in enumerate(picked)}
    for (a, b), m in index.items():
        mirror = index.get((int(flip[a]), int(flip[b])))
        if mirror is not None and mirror != m and side[a] == -1 and side[b] == -1:
            sym.append((m, mirror))
    out = np.concatenate([positions, np.stack(mids, 1)], 1)
    return out, Rig.from_edges(names, new_edges, name=f"{rig.name}~dense", symmetry=sym, category=rig.category)


def rotations(rng: np.random.Generator, n: int, max_pitch: float = np.pi / 3, max_roll: float = 0.17) -> np.ndarray:
    """``(n, 3, 3)`` world (Y up) -> camera (y down, z away): any yaw, pitch within +-``max_pitch`` (60 deg),
    roll within +-``max_roll`` (10 deg), radians."""
    yaw = rng.uniform(-np.pi, np.pi, n)
    pitch = rng.uniform(-max_pitch, max_pitch, n)
    roll = rng.uniform(-max_roll, max_roll, n)

    def axis(angle, i):
        c, s = np.cos(angle), np.sin(angle)
        m = np.zeros((n, 3, 3))
        j, k = [a for a in range(3) if a != i]
        m[:, i, i] = 1
        m[:, j, j], m[:, j, k], m[:, k, j], m[:, k, k] = c, -s, s, c
        return m

    flip = np.diag([1.0, -1.0, -1.0])  # Y up, Z towards the viewer -> y down, z away (a 180 degree turn about x)
    return flip @ axis(roll, 2) @ axis(pitch, 0) @ axis(yaw, 1)


@dataclass(frozen=True)
class Augment:
    """What a training micro-batch may vary besides the view (probabilities are per micro-batch).

    ``subset``: a random joint subset, dropping a fraction in ``subset_drop`` (children re-linked);
    ``densify``: extra points at the middle of 30% of the bones; ``mirror``: x -> -x with the sides swapped;
    ``drop_sides``: side labels removed (rigs without names); ``proportions``: bone-length and proportion jitter of
    tree rigs in the human category (:mod:`training.data.proportions`); ``corrupt``: 2D noise, outliers and
    occlusion (the rest stay clean, which keeps the depth signal strong).
    """

    subset: float = 0.2
    subset_drop: tuple[float, float] = (0.0, 0.5)
    densify: float = 0.15
    mirror: float = 0.5
    drop_sides: float = 0.1
    proportions: float = 0.0
    corrupt: float = CORRUPTED_BATCHES


#: The set's own rig and joint order, clean (validation, fixed-order models).
NO_AUGMENT = Augment(subset=0.0, densify=0.0, mirror=0.0, drop_sides=0.0, proportions=0.0, corrupt=0.0)


class Sampler:
    """Draws training micro-batches from weighted pose sets: ``entries`` is a list of ``(PoseSet, weight)``."""

    def __init__(self, entries, seed: int = 0, tokens: int = 4096, augment: Augment | None = None,
                 max_samples: int = 256):  # fmt: skip
        entries = [(s, float(w)) for s, w in entries if w > 0]
        if not entries:
            raise ValueError("no pose set with a positive weight")
        self.sets = [s for s, _ in entries]
        p = np.array([w for _, w in entries])
        self.p = p / p.sum()
        self.rng = np.random.default_rng(seed)
        self.tokens = tokens
        self.augment = augment or Augment()
        self.max_samples = max_samples

    @classmethod
    def by_category(cls, sources: dict[str, list[PoseSet]], seed: int = 0, tokens: int = 4096,
                    weights: dict[str, float] | None = None, augment: Augment | None = None) -> Sampler:  # fmt: skip
        """Categories drawn by ``weights`` (default ``CATEGORY_WEIGHTS``), pose sets evenly within a category."""
        w = weights or CATEGORY_WEIGHTS
        entries = [(s, w.get(c, 0) / len(sets)) for c, sets in sources.items() for s in sets]
        return cls(entries, seed=seed, tokens=tokens, augment=augment)

    def batch(self) -> Batch:
        rng = self.rng
        pset = self.sets[rng.choice(len(self.sets), p=self.p)]
        return make_batch(pset, rng, self.tokens, corrupt=rng.random() < self.augment.corrupt, augment=self.augment,
                          max_samples=self.max_samples)  # fmt: skip


def make_batch(
    pset: PoseSet,
    rng: np.random.Generator,
    tokens: int = 4096,
    *,
    corrupt: bool = True,
    rig_variants: bool = True,
    augment: Augment | None = None,
    max_samples: int = 256,
) -> Batch:
    """A micro-batch of ``pset`` (see the module docstring) with about ``tokens`` joints in all (4 to
    ``max_samples`` samples). ``corrupt``: 2D noise, outliers and occlusion; ``augment``: the rig variants
    (default :class:`Augment`'s); ``rig_variants=False``: none of them (the set's own rig and joint order, for
    fixed-order models and validation)."""
    aug = augment or Augment()
    if not rig_variants:
        aug = NO_AUGMENT
    rig = pset.rig
    J0 = rig.num_joints
    n = int(np.clip(tokens // min(J0, MAX_JOINTS), 4, max_samples))
    pos = pset.positions[rng.integers(len(pset), size=n)].astype(np.float64)  # (n, J0, 3)
    exists = np.isfinite(pos).all((0, 2))  # chairs: keypoints this draw has (rigid sets: one entry)
    if pset.rigid:
        pos = pos[:1].repeat(n, 0) * rng.uniform(0.85, 1.15, (n, 1, 3))
    elif pset.category == "human" and rng.random() < aug.proportions:
        pos = jitter_proportions(pos, rig, rng)
    variant = rng.random()
    subset = variant < aug.subset
    keep = np.flatnonzero(exists)
    if J0 > MAX_JOINTS or subset or not exists.all():
        n_keep = len(keep) if not subset else round((1 - rng.uniform(*aug.subset_drop)) * len(keep))
        n_keep = max(2, min(n_keep, MAX_JOINTS))
        keep = np.sort(rng.choice(keep, size=n_keep, replace=False))
    if len(keep) < J0:
        rig = collapse_subset(rig, keep)
        pos = pos[:, keep]
    elif aug.subset <= variant < aug.subset + aug.densify and rig.num_joints < MAX_JOINTS - 20:
        pos, rig = densify(rig, pos, rng, 0.3)
    J = rig.num_joints
    side = rig.sides().astype(np.int64)
    if rng.random() < aug.mirror:  # mirror: x -> -x with the sides swapped
        pos = pos * np.array([-1.0, 1.0, 1.0])
        side = -side
    if rng.random() < aug.drop_sides:
        side = np.zeros_like(side)
    # camera
    pos = pos - pos.mean(1, keepdims=True)
    cam = pos @ rotations(rng, n, max_pitch=MAX_PITCH).swapaxes(-1, -2)  # (n, J, 3) camera frame, centred
    size = np.sqrt((cam**2).sum(-1).mean(-1)) + 1e-9  # (n,) RMS radius
    ortho = rng.random(n) < ORTHO_FRACTION
    distance = size * np.exp(rng.uniform(np.log(DISTANCE[0]), np.log(DISTANCE[1]), n))
    z = cam[..., 2] + distance[:, None]
    z = np.maximum(z, 0.2 * distance[:, None])  # nothing behind or at the camera
    f = np.where(ortho, 1.0, distance)[:, None]  # pixels per metre at the subject's depth
    proj = np.where(ortho[:, None, None], cam[..., :2], cam[..., :2] * (f / z)[..., None])  # (n, J, 2)
    clean = proj
    visible = np.ones((n, J), dtype=bool)
    if corrupt:
        half = np.abs(proj - proj.mean(1, keepdims=True)).max((1, 2))  # (n,)
        sigma = rng.uniform(0, NOISE_MAX, n) * half
        proj = proj + rng.standard_normal(proj.shape) * sigma[:, None, None]
        outlier = rng.random((n, J)) < OUTLIER_RATE
        proj = proj + outlier[..., None] * rng.normal(0, 0.2, (n, J, 2)) * half[:, None, None]
        occluded = rng.random(n) < OCCLUDED_SAMPLES
        frac = rng.uniform(0, 0.6, n) * occluded
        visible = rng.random((n, J)) >= frac[:, None]
        short = visible.sum(1) < 2
        if short.any():
            for i in np.flatnonzero(short):
                visible[i, rng.choice(J, 2, replace=False)] = True
    norm = normalize(proj, visible)
    # target: camera frame centred on the visible joints, in the 2D's normalised units (metres * f / distance)
    mag = np.where(ortho, 1.0, f[:, 0] / distance)  # 2D units per metre at the subject
    if TARGET == "camera":
        target = cam.copy()
        target[..., 2] = z - distance[:, None]  # depth relative to the subject
        w = visible[..., None]
        target = target - (target * w).sum(1, keepdims=True) / w.sum(1)[:, None]
        target = target * (mag / norm.scale)[:, None, None]
    else:  # "image": the clean 2D (normalised like the input) with the depth, as lift() rebuilds 3D from them
        depth = (z - distance[:, None]) * (mag / norm.scale)[:, None]  # (n, J)
        w = visible
        depth = depth - (depth * w).sum(1, keepdims=True) / w.sum(1, keepdims=True)
        xy = (clean - norm.centre[:, None, :]) / norm.scale[:, None, None]
        target = np.concatenate([xy, depth[..., None]], -1)
    return Batch(norm.points, visible, target.astype(np.float32), rig.adjacency(), side,
                 f"{pset.name}/{rig.name}")  # fmt: skip
