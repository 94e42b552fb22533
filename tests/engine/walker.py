"""A procedural walker with known ground truth for the clip solver's tests, in the ``openpose_body25b`` layout.

The walker (1.70 m) walks at 0.9 m/s along a straight line (or a circle) over the ground ``z = 0`` of its world
(Z up, metres): a rigid torso and head that bob and sway, swinging arms, and legs placed by two-bone IK onto feet
that stay exactly still for the first 60 % of each 1 s gait cycle (the **contact** phase) and swing in a 12 cm high
arc for the rest.
Every bone of the rig's tree has a constant length. :func:`filmed` films it with a pinhole camera at a known height
and tilt, and imitates a detector (2D noise, outliers, missed joints) and the lifter (per-frame depth noise with
frame-to-frame jumps, so per-frame bone lengths vary).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfm_engine import get_rig

RIG = get_rig("openpose_body25b")
NAMES = RIG.joint_names
#: Torso and head joints: (forward, left, up) metres from the pelvis centre.
TORSO = {
    "LHip": (0.0, 0.1, 0.0), "RHip": (0.0, -0.1, 0.0), "LShoulder": (0.0, 0.18, 0.5), "RShoulder": (0.0, -0.18, 0.5),
    "UpperNeck": (0.0, 0.0, 0.58), "HeadTop": (0.0, 0.0, 0.80), "Nose": (0.1, 0.0, 0.66), "LEye": (0.08, 0.035, 0.7),
    "REye": (0.08, -0.035, 0.7), "LEar": (0.0, 0.075, 0.68), "REar": (0.0, -0.075, 0.68),
}  # fmt: skip
#: Foot joints: (forward, outward, up) metres from the ankle with the foot flat; the ankle is ANKLE_Z up.
FOOT = {"Heel": (-0.06, 0.0, -0.075), "BigToe": (0.16, -0.02, -0.07), "SmallToe": (0.13, 0.03, -0.07)}
ANKLE_Z = 0.08
THIGH, SHIN, UPPER_ARM, FOREARM = 0.46, 0.44, 0.28, 0.26
PELVIS_Z, SPEED, PERIOD, STANCE = 0.9, 0.9, 1.0, 0.6


def _path(s: np.ndarray, heading: float, start, radius: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points ``(N, 3)``, forward and left unit vectors ``(N, 3)`` at arc lengths ``s`` of a straight line or of a
    circle of ``radius`` turning left, from ``start`` along ``heading`` (radians)."""
    ang = heading + (0.0 if radius is None else 1.0) * np.asarray(s) / (radius or 1.0)
    fwd = np.stack([np.cos(ang), np.sin(ang), np.zeros_like(ang)], -1)
    left = np.stack([-np.sin(ang), np.cos(ang), np.zeros_like(ang)], -1)
    o = np.asarray([*start, 0.0])
    if radius is None:
        return o + np.asarray(s)[:, None] * fwd, fwd, left
    centre = o + radius * np.array([-np.sin(heading), np.cos(heading), 0.0])
    return centre - radius * left, fwd, left


def walk(frames: int = 120, fps: float = 30.0, heading_deg: float = 35.0, start=(-1.5, 0.0),
         radius: float | None = None) -> tuple:  # fmt: skip
    """``(positions (T, 25, 3), contacts (T, 2) bool [left, right])`` in the walker's world, along a straight line
    or a circle of ``radius`` metres."""
    t = np.arange(frames) / fps
    h = np.radians(heading_deg)
    up = np.array([0.0, 0.0, 1.0])
    pos, fwd, left = _path(SPEED * t, h, start, radius)
    pelvis = pos + (0.02 * np.sin(2 * np.pi * t / PERIOD))[:, None] * left
    pelvis[:, 2] = PELVIS_Z + 0.015 * np.cos(4 * np.pi * t / PERIOD)
    yaw = 0.08 * np.sin(2 * np.pi * t / PERIOD)  # the torso turns a little with the steps
    f_t = np.cos(yaw)[:, None] * fwd + np.sin(yaw)[:, None] * left  # (T, 3)
    l_t = np.cross(up, f_t)
    P = np.zeros((frames, len(NAMES), 3))

    def put(name, value):
        P[:, NAMES.index(name)] = value

    for name, (a, b, c) in TORSO.items():
        put(name, pelvis + a * f_t + b * l_t + c * up)
    contacts = np.zeros((frames, 2), dtype=bool)
    for k, (side, sign, offset) in enumerate((("L", 1.0, 0.0), ("R", -1.0, 0.5))):
        phase = t / PERIOD + offset
        n = np.floor(phase)
        phi = phase - n
        stance = phi < STANCE
        contacts[:, k] = stance
        here = SPEED * PERIOD * (n + STANCE / 2 - offset)  # the path coordinate of this cycle's footprint
        sigma = np.clip((phi - STANCE) / (1 - STANCE), 0.0, 1.0)
        ease = 0.5 - 0.5 * np.cos(np.pi * sigma)
        foot_pos, foot_fwd, foot_left = _path(here + ease * SPEED * PERIOD, h, start, radius)
        lift = np.where(stance, 0.0, 0.12 * np.sin(np.pi * sigma))
        ankle = foot_pos + sign * 0.1 * foot_left + (ANKLE_Z + lift)[:, None] * up
        put(f"{side}Ankle", ankle)
        for part, (a, b, c) in FOOT.items():
            put(f"{side}{part}", ankle + a * foot_fwd + sign * b * foot_left + c * up)
        hip = P[:, NAMES.index(f"{side}Hip")]
        put(f"{side}Knee", _knee(hip, ankle, f_t))
        swing = -sign * 0.35 * np.sin(2 * np.pi * t / PERIOD)  # arms swing against their leg
        shoulder = P[:, NAMES.index(f"{side}Shoulder")]
        elbow = shoulder + UPPER_ARM * (np.sin(swing)[:, None] * f_t - np.cos(swing)[:, None] * up)
        bend = swing + 0.4
        put(f"{side}Elbow", elbow)
        put(f"{side}Wrist", elbow + FOREARM * (np.sin(bend)[:, None] * f_t - np.cos(bend)[:, None] * up))
    return P, contacts


def _knee(hip: np.ndarray, ankle: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Two-bone IK: the knee at THIGH from the hip and SHIN from the ankle, bending forwards."""
    v = ankle - hip
    D = np.minimum(np.linalg.norm(v, axis=-1), THIGH + SHIN - 1e-3)
    u = v / np.linalg.norm(v, axis=-1, keepdims=True)
    along = (THIGH**2 - SHIN**2 + D**2) / (2 * D)
    perp = np.sqrt(np.maximum(THIGH**2 - along**2, 0.0))
    fp = forward - (forward * u).sum(-1, keepdims=True) * u
    fp /= np.linalg.norm(fp, axis=-1, keepdims=True)
    return hip + along[:, None] * u + perp[:, None] * fp


@dataclass
class Filmed:
    """A walk filmed and detected. Camera world: Blender axes with the camera at the origin looking along +Y."""

    truth: np.ndarray  # (T, J, 3) camera world
    contacts: np.ndarray  # (T, 2) bool
    plane: tuple  # (normal, offset) of the ground in the camera world
    points2d: np.ndarray  # (T, J, 2) detections (NaN: missed)
    clean2d: np.ndarray  # (T, J, 2) exact projections
    visible: np.ndarray  # (T, J)
    lifted: np.ndarray  # (T, J, 3) camera world, what the lifter would give
    focal: float
    pp: tuple
    fps: float
    camera_height: float
    tilt_deg: float


def filmed(rng: np.random.Generator, frames: int = 120, fps: float = 30.0, *, noise_px: float = 1.5,
           depth_noise: float = 0.06, jump: float = 0.08, tilt_deg: float = 15.0, camera_height: float = 1.5,
           missing: float = 0.04, radius: float | None = None) -> Filmed:  # fmt: skip
    """The walk (:func:`walk`, a circle of ``radius`` m when given) through a camera ``camera_height`` m up,
    ``tilt_deg`` down, 4.5 m behind the path's start."""
    world, contacts = walk(frames, fps, heading_deg=0.0 if radius else 35.0, radius=radius)
    a = np.radians(tilt_deg)
    C = np.array([-0.3, -4.5, camera_height])
    F = np.array([0.0, np.cos(a), -np.sin(a)])  # view direction
    Rt = np.array([1.0, 0.0, 0.0])
    U = np.cross(Rt, F)
    Rot = np.stack([Rt, F, U])  # rows: camera-world axes in walker-world coordinates
    truth = (world - C) @ Rot.T
    plane = (Rot @ np.array([0.0, 0.0, 1.0]), float(-C[2]))
    f, pp = 1000.0, (960.0, 540.0)

    def project(p):
        return np.stack([p[..., 0] / p[..., 1] * f + pp[0], pp[1] - p[..., 2] / p[..., 1] * f], -1)

    clean = project(truth)
    T, J = truth.shape[:2]
    det = clean + rng.normal(0.0, noise_px, clean.shape)
    outlier = rng.random((T, J)) < 0.01
    det[outlier] += rng.normal(0.0, 25.0, (int(outlier.sum()), 2))
    visible = rng.random((T, J)) > missing
    visible[:, NAMES.index("LEar")] = rng.random(T) < 0.1  # mostly hidden, like the real clip's
    visible[40:52, NAMES.index("RKnee")] = False  # occluded for a while
    det[~visible] = np.nan
    # the lifter: each visible joint on the ray through its detection, at a noisy depth; per-frame jumps of the
    # whole body's distance (an AR(1) walk with occasional steps)
    dist = np.zeros(T)
    for k in range(1, T):
        dist[k] = 0.8 * dist[k - 1] + rng.normal(0.0, 0.02) + (rng.random() < 0.1) * rng.choice([-1, 1]) * jump
    depth = truth[..., 1] * (1.0 + dist[:, None]) + rng.normal(0.0, depth_noise, (T, J))
    ray = np.stack([(det[..., 0] - pp[0]) / f, np.ones((T, J)), -(det[..., 1] - pp[1]) / f], -1)
    lifted = np.where(visible[..., None], ray * depth[..., None], truth * (1.0 + dist[:, None, None])
                      + rng.normal(0.0, depth_noise, (T, J, 3)))  # fmt: skip
    return Filmed(truth, contacts, plane, det, clean, visible, lifted, f, pp, fps, camera_height, tilt_deg)
