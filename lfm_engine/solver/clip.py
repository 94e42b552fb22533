"""The clip solver: per-frame lifted 3D and 2D detections in, one consistent motion over the clip out.

:func:`solve_clip` turns the lifter's per-frame 3D (whose depth jumps from frame to frame and whose bone lengths
vary) into joint positions over the whole clip that

* have constant bone lengths (exactly: the armature can be built on them as they are),
* land on the 2D detections within the detector's noise,
* are smooth in time along all three axes, depth included,
* keep feet planted on the frames where they touch the ground (:mod:`lfm_engine.solver.contacts`),
* stand on one ground plane, estimated from those contacts (:mod:`lfm_engine.solver.ground`), which gives the
  camera's height and tilt; the subject moves over it (root motion) or stays above the origin (in place).

The formulation, and why
------------------------
It is one robust least-squares problem over the clip (:mod:`lfm_engine.solver.problem`), in numpy alone (Blender
bundles numpy, not scipy). Every joint is kept on the camera ray through its 2D track, so its unknown is one depth
per frame: the reprojection error is then that of the track alone, the normal matrix is block banded with one
``J x J`` block per frame (unknowns time-major; the acceleration couples frames two apart), and a Levenberg-Marquardt
iteration costs ``O(T J^3)``: well under a second for a minute of 25 joints. The tracks are the 2D half of the
problem (:mod:`lfm_engine.solver.track2d`): the detections smoothed against their measured noise with the same
acceleration scale (in pixels at the subject's distance), and pinned where a foot is planted. Solving the image
plane first and the depth second drops only the coupling through the depth's effect on the lateral acceleration,
``lateral * (depth change / depth)``, a few percent for a person a few metres away.

Joints the detector does not see also get a track: the projection of the lifted joint (first pass) or of the first
pass's constant-length pose (second pass), with a weak weight, bridged smoothly from the frames around; their depth
is solved like the others'. Three free coordinates for them would need blocks of varying size; the projection of
the constant-length pose already puts them where their bones reach, and the final exact-length step moves them
(only them, in the median) the rest of the way.

Steps
-----
1. 2D tracks (no contacts); depths and lengths solved without contact or ground terms (a few iterations).
2. That pose at exact lengths; the body's up direction; contacts detected against the lowest points, the up
   direction and a ground plane from them, contacts detected again against that plane; the mode and per-frame
   overrides applied; the up direction and the plane from the final contacts.
3. 2D tracks again with planted sole joints pinned; the full problem with contact, ground and floor terms.

(Clips longer than :data:`WINDOW_FRAMES` solve steps 1 and 3 window by window, cross-faded over the overlaps, so
that memory follows the window; contacts, the ground and the bone lengths stay the clip's.)
4. Exact bone lengths (each joint put at its bone's solved length along its direction from its parent,
   :func:`lfm_engine.armature.constant_length_points`, ``"direction"``): moves joints by the small length residuals.
5. A scale about the camera centre (which keeps every ray, so the footage match) to the subject's height measured
   along the ground normal; then the ground transform; and for in place, each frame's horizontal pelvis motion
   removed (the camera keyed with the opposite motion, so the footage still lines up).

Without feet (not a person, or a rig without ankles) steps 2-3 keep only the smoothness, length and depth terms and
the result stays in the camera world.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import armature as arm
from ..errors import InputError
from ..rig import Rig
from . import contacts as ct
from . import ground as gr
from . import problem as pb
from . import track2d

#: The subject height the :class:`~lfm_engine.solver.problem.Weights` are given for, metres.
REFERENCE_HEIGHT = 1.75
#: The uncertainty of an unseen joint's 2D prior, in detector noises.
PRIOR_NOISES = 10.0
#: Clips longer than this many frames are solved in windows of it (memory grows with the window, not the clip),
#: overlapping by :data:`WINDOW_OVERLAP` frames over which the depths are cross-faded.
WINDOW_FRAMES = 3000
WINDOW_OVERLAP = 100


@dataclass(frozen=True)
class SolverSettings:
    """How :func:`solve_clip` solves.

    Attributes:
        contact_mode: ``"auto"`` (detected), ``"always"`` or ``"never"``
            (:data:`lfm_engine.solver.contacts.CONTACT_MODES`), before the per-frame overrides.
        root_motion: True: the subject moves over the ground as filmed; False: in place (the pelvis stays above the
            origin, the camera moves the other way).
        sigma_px: the detector's noise, pixels; None: measured from the detections
            (:func:`lfm_engine.solver.track2d.detector_noise`).
        weights: the cost's scales for a :data:`REFERENCE_HEIGHT` subject (scaled to the subject's size).
        thresholds: contact detection.
        iterations: Levenberg-Marquardt iterations of the final solve (at most); first_iterations: of the first.
            (On the walker tests more iterations lower the cost a little more but not the error from the truth.)
    """

    contact_mode: str = "auto"
    root_motion: bool = True
    sigma_px: float | None = None
    weights: pb.Weights = field(default_factory=pb.Weights)
    thresholds: ct.ContactThresholds = field(default_factory=ct.ContactThresholds)
    iterations: int = 4
    first_iterations: int = 4


@dataclass(frozen=True, eq=False)
class ClipSolution:
    """What :func:`solve_clip` found.

    Attributes:
        joints: ``(T, J, 3)`` float64 metres in the output world (the ground world when there is a ground: Z up,
            the ground ``z = 0``; else the camera world), constant bone lengths.
        joints_camera: ``(T, J, 3)`` the same in the camera world (camera at the origin looking along +Y), before the
            in-place offsets.
        lengths: ``(J,)`` bone lengths, metres (NaN for roots); bone ``j`` joins ``j`` and its tree parent.
        feet: the rig's feet (:func:`lfm_engine.solver.contacts.find_feet`; empty without ground).
        contacts: ``(T, F)`` bool: the planted feet used. detected: ``(T, F)`` bool: those detected (``"auto"``).
        ground: ``(normal, offset)`` of the ground plane in the camera world, or None.
        transform: ``(4, 4)`` camera world to output world (identity without ground).
        camera_matrix: ``(4, 4)`` the Blender camera object's ``matrix_world`` in the output world.
        root_offsets: ``(T, 3)`` removed from every joint of each frame for in place (zeros otherwise).
        tracks2d: ``(T, J, 2)`` pixels: the tracks the rays go through.
        sigma_px: the detector noise used, pixels.
        reprojection: ``(T, J)`` pixels from ``joints_camera``'s projection to the input 2D (NaN where not seen).
        info: iterations, costs and seconds of the solve.
    """

    joints: np.ndarray
    joints_camera: np.ndarray
    lengths: np.ndarray
    feet: tuple[ct.Foot, ...]
    contacts: np.ndarray
    detected: np.ndarray
    ground: tuple[np.ndarray, float] | None
    transform: np.ndarray
    camera_matrix: np.ndarray
    root_offsets: np.ndarray
    tracks2d: np.ndarray
    sigma_px: float
    reprojection: np.ndarray
    info: dict

    @property
    def camera_height(self) -> float | None:
        """The camera's height above the ground, metres (None without ground)."""
        return None if self.ground is None else float(self.transform[2, 3])

    @property
    def camera_tilt(self) -> float | None:
        """Degrees the camera looks down from the horizontal (None without ground)."""
        return None if self.ground is None else gr.camera_tilt(self.ground[0])

    def summary(self) -> str:
        """One line on what was found (the pipeline's notes)."""
        err = self.reprojection[np.isfinite(self.reprojection)]
        text = (f"clip solver: reprojection {np.median(err) if err.size else 0.0:.1f} px median (detector noise "
                f"{self.sigma_px:.1f} px)")  # fmt: skip
        if self.ground is None:
            return text + "; no feet, so no ground plane"
        planted = ", ".join(f"{foot.side} {int(self.contacts[:, k].sum())}" for k, foot in enumerate(self.feet))
        return (f"{text}; feet planted in {planted} frame(s); ground {self.camera_height:.2f} m below the camera, "
                f"which looks {self.camera_tilt:.0f} deg down")  # fmt: skip

    @property
    def camera_locations(self) -> np.ndarray:
        """``(T, 3)`` the camera's location per frame in the output world (moving only in place)."""
        return self.camera_matrix[:3, 3] - self.root_offsets


def _project(points: np.ndarray, focal: float, pp) -> np.ndarray:
    """``(..., 3)`` camera-world points to ``(..., 2)`` pixels."""
    p = np.asarray(points, dtype=np.float64)
    with np.errstate(all="ignore"):
        return np.stack([p[..., 0] / p[..., 1] * focal + pp[0], pp[1] - p[..., 2] / p[..., 1] * focal], -1)


def _rays(tracks: np.ndarray, focal: float, pp) -> np.ndarray:
    """``(T, J, 3)`` world rays ``((u - cx) / f, 1, -(v - cy) / f)`` through ``(T, J, 2)`` pixels."""
    t = np.asarray(tracks, dtype=np.float64)
    return np.stack([(t[..., 0] - pp[0]) / focal, np.ones(t.shape[:-1]), -(t[..., 1] - pp[1]) / focal], -1)


def _check(points3d, points2d, visible, parents) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    p3 = np.asarray(points3d, dtype=np.float64)
    p2 = np.asarray(points2d, dtype=np.float64)
    if p3.ndim != 3 or p3.shape[-1] != 3 or len(p3) == 0:
        raise InputError(f"lifted points must have shape (T, J, 3) with T >= 1, got {p3.shape}")
    if p2.shape != (*p3.shape[:2], 2):
        raise InputError(f"2D points must have shape {(*p3.shape[:2], 2)}, got {p2.shape}")
    if len(parents) != p3.shape[1]:
        raise InputError(f"the rig has {len(parents)} joints but the points have {p3.shape[1]}")
    if not np.isfinite(p3).all():
        raise InputError("the lifted points must be finite (fill missing frames first)")
    if (p3[..., 1] <= 0).any():
        raise InputError("every lifted point must be in front of the camera (world Y > 0)")
    vis = np.asarray(visible, dtype=bool) & np.isfinite(p2).all(-1)
    return p3, p2, vis


def solve_clip(
    points3d: np.ndarray,
    points2d: np.ndarray,
    visible: np.ndarray,
    rig: Rig,
    *,
    focal_length: float,
    principal_point: tuple[float, float],
    fps: float,
    confidence: np.ndarray | None = None,
    height: float | None = None,
    settings: SolverSettings | None = None,
    contact_overrides: np.ndarray | None = None,
) -> ClipSolution:
    """Solve a clip (see the module docs).

    Args:
        points3d: ``(T, J, 3)`` the lifted points in the camera world (Blender axes, camera at the origin looking
            along +Y), metres, finite, in front of the camera.
        points2d: ``(T, J, 2)`` the detections, pixels (x right, y down); NaN where missing.
        visible: ``(T, J)`` bool: the detections to use. confidence: ``(T, J)`` their scores (None: all 1); a
            detection weighs ``min(1, score / median score)``.
        rig: the skeleton; its ``tree_parents()`` give the bones, its names the feet (people only).
        focal_length: pixels. principal_point: ``(cx, cy)`` pixels. fps: frames per second.
        height: the subject's height to scale the result to, metres (people: along the ground normal; others: the
            largest side of the bounding box); None: as solved.
        settings: :class:`SolverSettings`.
        contact_overrides: ``(T, F)`` int per-foot per-frame overrides
            (:func:`lfm_engine.solver.contacts.apply_overrides`).

    Raises:
        InputError: inputs of the wrong shape, non-finite lifted points, an unknown contact mode or overrides of the
            wrong shape.
    """
    start = time.perf_counter()
    s = settings or SolverSettings()
    if s.contact_mode not in ct.CONTACT_MODES:
        raise InputError(f"unknown contact mode {s.contact_mode!r}; use one of {', '.join(ct.CONTACT_MODES)}")
    parents = np.asarray(rig.tree_parents(), dtype=np.int64)
    p3, p2, vis = _check(points3d, points2d, visible, parents)
    T, J = p3.shape[:2]
    f, pp = float(focal_length), (float(principal_point[0]), float(principal_point[1]))
    human = rig.category == "human"
    size = float(height) if height else arm.subject_extent(p3, vertical=human)
    w = s.weights.scaled(size / REFERENCE_HEIGHT)
    feet = ct.find_feet(rig.joint_names) if human else ()
    F = len(feet)
    bones = np.stack([np.flatnonzero(parents >= 0), parents[parents >= 0]], 1)

    # detections and their weights
    conf = np.ones((T, J)) if confidence is None else np.nan_to_num(np.asarray(confidence, dtype=np.float64))
    med = float(np.median(conf[vis])) if vis.any() else 1.0
    weight = np.where(vis, np.minimum(1.0, conf / max(med, 1e-6)), 0.0)
    sigma = float(s.sigma_px) if s.sigma_px else track2d.detector_noise(p2, vis)
    depth = float(np.median(p3[..., 1]))
    acc_px = w.accel * f / depth  # the acceleration scale in pixels at the subject's distance

    def tracks(prior, pins=None):
        return track2d.smooth_tracks(p2, weight, _project(prior, f, pp), fps, sigma_px=sigma, sigma_acc=acc_px,
                                     sigma_prior=PRIOR_NOISES * sigma, pins=pins,
                                     sigma_pin=w.contact_speed * f / depth)  # fmt: skip

    # 1. first pass: smoothness, lengths and depth priors only
    tr = tracks(p3)
    R = _rays(tr, f, pp)
    # a bone's length jitters by about the tracks' noise in metres at the frame's distance
    bone_sigma = np.hypot(w.bone, sigma * p3[..., 1].mean(1) / f)  # (T,)
    d0 = p3[..., 1].copy()
    L0 = _median_lengths(d0[..., None] * R, bones)

    def first(a, b):
        return pb.ClipProblem(R[a:b], p3[a:b, :, 1], bones, fps, w, bone_sigma=bone_sigma[a:b])

    d1, L1, info1 = _solve_windows(first, d0, L0, iterations=s.first_iterations, damping=1e-6)
    X1 = _exact(d1[..., None] * R, parents, bones, L1)

    # 2. contacts and ground
    detected = np.zeros((T, F), dtype=bool)
    plane = None
    if F:
        up = gr.body_up(X1, feet)
        n, c = gr.fit_ground(X1, feet, detected, up, size)  # no contacts yet: through the lowest points
        for _ in range(2):  # contacts against that plane, then against the plane of those contacts
            h, v3, v2 = ct.foot_measures(X1, feet, fps, n, c, size, tracks2d=tr, focal_length=f)
            detected = ct.detect_contacts(h, v3, v2, fps, s.thresholds)
            up = gr.body_up(X1, feet, detected)
            n, c = gr.fit_ground(X1, feet, detected, up, size)
        used = ct.apply_overrides(detected, s.contact_mode, contact_overrides)
        up = gr.body_up(X1, feet, used if used.any() else None)
        plane = gr.fit_ground(X1, feet, used, up, size)
    else:
        used = ct.apply_overrides(detected, s.contact_mode, contact_overrides) if contact_overrides is not None \
            else detected  # fmt: skip

    # 3. the full problem
    pins = on_ground = heights = None
    if F:
        pins = np.zeros((max(T - 1, 0), J), dtype=bool)
        on_ground = np.zeros((T, J), dtype=bool)
        heights = np.zeros(J)
        for k, foot in enumerate(feet):
            sole = list(foot.sole)
            pins[:, sole] |= (used[1:, k] & used[:-1, k])[:, None]
            on_ground[:, sole] |= used[:, k][:, None]
            heights[sole] = foot.sole_height * size
    tr = tracks(X1, pins)
    R = _rays(tr, f, pp)

    def final(a, b):
        return pb.ClipProblem(R[a:b], p3[a:b, :, 1], bones, fps, w, bone_sigma=bone_sigma[a:b],
                              pins=None if pins is None else pins[a : b - 1], heights=heights, plane=plane,
                              on_ground=None if on_ground is None else on_ground[a:b])  # fmt: skip

    d2, L2, info2 = _solve_windows(final, X1[..., 1], L1, iterations=s.iterations)

    # 4-5. exact lengths, height, ground frame, in place
    X = _exact(d2[..., None] * R, parents, bones, L2)
    lengths = np.full(J, np.nan)
    lengths[bones[:, 0]] = np.maximum(L2, arm.MIN_BONE_LENGTH)  # as _exact placed them
    if height:
        up = plane[0] if plane is not None else None
        extent = _extent(X, up) if up is not None else arm.subject_extent(X, vertical=human)
        scale = float(height) / extent
        X, lengths = X * scale, lengths * scale
        if plane is not None:
            plane = (plane[0], plane[1] * scale)
    if plane is not None:
        pelvis = ct.pelvis_joints(rig.joint_names, parents)
        M = gr.ground_transform(plane[0], plane[1], X[0, pelvis].mean(0))
    else:
        M = np.eye(4)
    out = gr.apply(M, X)
    offsets = np.zeros((T, 3))
    if plane is not None and not s.root_motion:
        centre = out[:, ct.pelvis_joints(rig.joint_names, parents)].mean(1)  # (T, 3)
        offsets[:, :2] = centre[:, :2] - centre[:1, :2]
        out = out - offsets[:, None, :]
    reproj = np.where(vis, np.linalg.norm(_project(X, f, pp) - p2, axis=-1), np.nan)
    info = {"first": info1, "final": info2, "seconds": time.perf_counter() - start}
    return ClipSolution(
        joints=out, joints_camera=X, lengths=lengths, feet=feet, contacts=used, detected=detected, ground=plane,
        transform=M, camera_matrix=gr.camera_matrix(M), root_offsets=offsets, tracks2d=tr, sigma_px=sigma,
        reprojection=reproj, info=info,
    )  # fmt: skip


def windows(frames: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]``: the whole clip, or windows of :data:`WINDOW_FRAMES` frames overlapping by
    :data:`WINDOW_OVERLAP` (the last one stretched to the end rather than left shorter than twice the overlap)."""
    size, overlap = WINDOW_FRAMES, WINDOW_OVERLAP
    if frames <= size:
        return [(0, frames)]
    out, a = [], 0
    while True:
        b = min(a + size, frames)
        if frames - b < 2 * overlap:
            out.append((a, frames))
            return out
        out.append((a, b))
        a = b - overlap


def _solve_windows(make, d0: np.ndarray, L0: np.ndarray, **kw) -> tuple[np.ndarray, np.ndarray, dict]:
    """:func:`lfm_engine.solver.problem.solve` of ``make(start, stop)`` over :func:`windows` of the clip: the depths
    cross-faded linearly over each overlap, the lengths averaged by window length. Returns ``(d, L, info)``."""
    T = len(d0)
    parts = windows(T)
    if len(parts) == 1:
        return pb.solve(make(0, T), d0, L0, **kw)
    d = np.zeros_like(d0)
    weight = np.zeros(T)
    L = np.zeros_like(L0)
    info = {"iterations": 0, "factorisations": 0, "cost_start": 0.0, "cost": 0.0, "windows": len(parts)}
    for k, (a, b) in enumerate(parts):
        dk, Lk, ik = pb.solve(make(a, b), d0[a:b], L0, **kw)
        ramp = np.ones(b - a)
        if k > 0:
            ramp[:WINDOW_OVERLAP] = np.linspace(0.0, 1.0, WINDOW_OVERLAP + 2)[1:-1]
        if k < len(parts) - 1:
            ramp[-WINDOW_OVERLAP:] = np.linspace(1.0, 0.0, WINDOW_OVERLAP + 2)[1:-1]
        d[a:b] += ramp[:, None] * dk
        weight[a:b] += ramp
        L += (b - a) * Lk
        info["iterations"] = max(info["iterations"], ik["iterations"])
        for key in ("factorisations", "cost_start", "cost"):
            info[key] += ik[key]
    return d / weight[:, None], L / sum(b - a for a, b in parts), info


def _median_lengths(X: np.ndarray, bones: np.ndarray) -> np.ndarray:
    return np.median(np.linalg.norm(X[:, bones[:, 0]] - X[:, bones[:, 1]], axis=-1), axis=0)


def _exact(X: np.ndarray, parents: np.ndarray, bones: np.ndarray, L: np.ndarray) -> np.ndarray:
    """``X`` with every bone at its length ``L`` (direction placement)."""
    lengths = np.full(len(parents), np.nan)
    lengths[bones[:, 0]] = np.maximum(L, arm.MIN_BONE_LENGTH)
    return arm.constant_length_points(X, parents, lengths, placement="direction")


def _extent(X: np.ndarray, up: np.ndarray) -> float:
    """Median over frames of the points' extent along ``up``."""
    h = X @ up
    return float(np.median(h.max(1) - h.min(1)))
