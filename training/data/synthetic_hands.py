"""Synthetic 3D hands: a procedural 21-joint hand (MediaPipe Hands order) with random proportions and poses.

Joints are ``lfm_engine.layouts.get_rig("mediapipe_hand21")``'s, in its order (wrist; thumb CMC, MCP, IP, tip;
index, middle, ring and pinky MCP, PIP, DIP, tip); parents are the hand tree of
``lfm_engine.layouts.HAND21_EDGES`` (the wrist is the parent of the thumb CMC and of the four MCPs; each finger is
a chain), the tree of MediaPipe's links with the palm's knuckle line replaced by wrist links.

Model (pure numpy, vectorised). A right hand is built in its own frame: wrist at the origin, fingers along +Y,
palm facing +Z, thumb on the +X side. Each hand has its own size (x0.9-1.1) and bone proportions (each bone a
further x0.955-1.045: every length within about +-15% of the template, an adult hand of 18 cm from wrist to middle
fingertip), a palm arch, and joint angles within:

* fingers: MCP flexion 0-90 deg with abduction (spread) +-15 deg, PIP 0-110, DIP 0-80 (a hinge plane per finger);
* thumb: CMC flexion across the palm 0-45 and palmar abduction 0-40, MCP 0-60, IP 0-80.

Flexion draws on one "grip" per hand shared by the fingers (fists, open and half-closed hands), with finger-wise
noise; a third of the fingers move on their own. Left hands are mirror images of right hands (x -> -x).

Output npz, the format of the project's mocap files: ``positions`` float32 (T, 21, 3) in metres with Y up (the
hand frame above: a training pipeline adds its own rotations and cameras), ``parents`` int32 (21,),
``joint_names`` (21,), ``fps`` 0.0, ``source``, ``license``, ``category`` "hand", two clips (``clip_starts``
[0, T_right], ``clip_names`` / ``subjects`` right and left hands) and ``is_left`` (T,) bool.

    .venv/bin/python training/data/synthetic_hands.py --out training/cache/synthetic --poses 20000 --seed 0
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lfm_engine.layouts import HAND21_EDGES, get_rig

LICENSE = "procedural hand model (training/data/synthetic_hands.py); the generated poses are our own data"

#: Joint names, in MediaPipe's ``HandLandmark`` order.
JOINT_NAMES: tuple[str, ...] = get_rig("mediapipe_hand21").joint_names
#: Parent of each joint (the wrist's is -1), from ``HAND21_EDGES``.
PARENTS: np.ndarray = np.full(21, -1, dtype=np.int32)
for _parent, _child in HAND21_EDGES:
    PARENTS[_child] = _parent

#: Joint angle ranges in degrees (low, high).
RANGES: dict[str, tuple[float, float]] = {
    "mcp": (0.0, 90.0),
    "pip": (0.0, 110.0),
    "dip": (0.0, 80.0),
    "abduction": (-15.0, 15.0),
    "thumb_cmc_flexion": (0.0, 45.0),
    "thumb_cmc_abduction": (0.0, 40.0),
    "thumb_mcp": (0.0, 60.0),
    "thumb_ip": (0.0, 80.0),
}

# Template right hand (metres): wrist at the origin, fingers +Y, palm normal +Z, thumb on +X.
_MCP = np.array([[0.024, 0.080, 0.003], [0.004, 0.082, 0.0], [-0.014, 0.077, 0.002], [-0.030, 0.068, 0.005]])
_PHALANGES = np.array([[0.040, 0.024, 0.021], [0.045, 0.028, 0.022], [0.042, 0.027, 0.022], [0.033, 0.019, 0.019]])
_FINGER_ANGLE = np.radians([8.0, 0.0, -7.0, -15.0])  # rest direction in the palm plane, from +Y towards +X
_CUP = np.array([0.4, 0.0, 0.6, 1.0])  # palm arch: how far each MCP moves palm-wards per unit of cupping
_CUP_MAX = 0.010
_THUMB_CMC = np.array([0.022, 0.022, 0.012])
_THUMB_LENGTHS = np.array([0.045, 0.032, 0.027])  # CMC-MCP, MCP-IP, IP-tip
_THUMB_DIR = np.array([0.55, 0.8, 0.15]) / np.linalg.norm([0.55, 0.8, 0.15])
_THUMB_CURL = np.array([-1.0, 0.0, 0.5])  # the thumb curls across the palm, towards the little finger
_NORMAL = np.array([0.0, 0.0, 1.0])
SIZE_RANGE = (0.9, 1.1)
PROPORTION_RANGE = (0.955, 1.045)
_N_LENGTHS = 1 + 3 + 4 + 12  # thumb CMC offset, thumb bones, MCP offsets, finger phalanges


def _rotate(v: np.ndarray, axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` (..., 3) about unit axes (..., 3) by ``angle`` (...) radians (Rodrigues)."""
    c, s = np.cos(angle)[..., None], np.sin(angle)[..., None]
    return v * c + np.cross(axis, v) * s + axis * np.sum(axis * v, -1, keepdims=True) * (1.0 - c)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def sample_params(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random hand shapes and poses.

    Returns:
        ``size`` (n,), ``lengths`` (n, 20) length factors (thumb CMC offset, thumb bones x3, MCP offsets x4,
        phalanges 4x3), ``cup`` (n,) in [0, 1], and angles in degrees: ``mcp``, ``pip``, ``dip``, ``abduction``
        (n, 4) for index, middle, ring, pinky; ``thumb_cmc_flexion``, ``thumb_cmc_abduction``, ``thumb_mcp``,
        ``thumb_ip`` (n,).
    """
    grip = rng.random(n)
    own = rng.random((n, 4)) < 1.0 / 3.0
    closure = np.where(own, rng.random((n, 4)), np.clip(grip[:, None] + rng.normal(0.0, 0.2, (n, 4)), 0.0, 1.0))

    def scaled(t: np.ndarray, key: str) -> np.ndarray:
        lo, hi = RANGES[key]
        return lo + (hi - lo) * np.clip(t, 0.0, 1.0)

    pip = scaled(closure + rng.normal(0.0, 0.15, (n, 4)), "pip")
    dip_lo, dip_hi = RANGES["dip"]
    thumb_closure = np.clip(grip + rng.normal(0.0, 0.25, n), 0.0, 1.0)
    return {
        "size": rng.uniform(*SIZE_RANGE, n),
        "lengths": rng.uniform(*PROPORTION_RANGE, (n, _N_LENGTHS)),
        "cup": rng.random(n) * (0.3 + 0.7 * grip),
        "mcp": scaled(closure + rng.normal(0.0, 0.15, (n, 4)), "mcp"),
        "pip": pip,
        "dip": np.clip(0.67 * pip + rng.normal(0.0, 10.0, (n, 4)), dip_lo, dip_hi),  # DIP follows PIP
        "abduction": rng.uniform(*RANGES["abduction"], (n, 4)) * (1.0 - 0.6 * closure),  # closed fingers spread less
        "thumb_cmc_flexion": scaled(rng.random(n) * 0.5 + 0.5 * thumb_closure, "thumb_cmc_flexion"),
        "thumb_cmc_abduction": scaled(rng.random(n), "thumb_cmc_abduction"),
        "thumb_mcp": scaled(thumb_closure + rng.normal(0.0, 0.2, n), "thumb_mcp"),
        "thumb_ip": scaled(thumb_closure + rng.normal(0.0, 0.2, n), "thumb_ip"),
    }


def pose_hands(params: dict[str, np.ndarray], left: bool | np.ndarray = False) -> np.ndarray:
    """Joint positions (n, 21, 3) float64, metres, in the hand frame; rows where ``left`` are mirrored (x -> -x)."""
    size, lengths = params["size"], params["lengths"]
    n = size.shape[0]
    scale = size[:, None] * lengths  # (n, 20)
    out = np.zeros((n, 21, 3))
    normal = np.broadcast_to(_NORMAL, (n, 3))

    # Thumb: CMC flexion about the palm normal, palmar abduction towards it, then MCP and IP curl in one plane.
    cmc = _THUMB_CMC * scale[:, :1]
    d = _rotate(np.broadcast_to(_THUMB_DIR, (n, 3)), normal, np.radians(params["thumb_cmc_flexion"]))
    curl0 = _THUMB_CURL - (_THUMB_CURL @ _THUMB_DIR) * _THUMB_DIR
    m = _rotate(np.broadcast_to(_unit(curl0), (n, 3)), normal, np.radians(params["thumb_cmc_flexion"]))
    axis = _unit(np.cross(d, normal))
    abd = np.radians(params["thumb_cmc_abduction"])
    d, m = _rotate(d, axis, abd), _rotate(m, axis, abd)
    bend = np.stack([np.zeros(n), params["thumb_mcp"], params["thumb_mcp"] + params["thumb_ip"]], 1)
    bend = np.radians(bend)[..., None]
    dirs = np.cos(bend) * d[:, None] + np.sin(bend) * m[:, None]  # (n, 3, 3)
    out[:, 1] = cmc
    out[:, 2:5] = cmc[:, None] + np.cumsum(dirs * (_THUMB_LENGTHS * scale[:, 1:4])[..., None], axis=1)

    # Fingers: MCP abduction about the palm normal, flexion of MCP, PIP, DIP towards the palm in one plane.
    cup = params["cup"][:, None] * _CUP * _CUP_MAX  # (n, 4)
    mcp = _MCP * scale[:, 4:8, None] + cup[..., None] * _NORMAL
    rest_angle = _FINGER_ANGLE - np.radians(params["abduction"]) * np.array([-1.0, 1.0, 1.0, 1.0])
    # abduction is away from the middle finger: +angle moves the index towards +X and the others towards -X
    u = np.stack([np.sin(rest_angle), np.cos(rest_angle), np.zeros_like(rest_angle)], -1)  # (n, 4, 3)
    bend = np.radians(np.cumsum(np.stack([params["mcp"], params["pip"], params["dip"]], -1), -1))[..., None]
    dirs = np.cos(bend) * u[:, :, None] + np.sin(bend) * _NORMAL  # (n, 4, 3, 3)
    phal = _PHALANGES * scale[:, 8:20].reshape(n, 4, 3)
    chain = mcp[:, :, None] + np.cumsum(dirs * phal[..., None], axis=2)  # (n, 4, 3, 3)
    for f in range(4):
        base = 5 + 4 * f
        out[:, base] = mcp[:, f]
        out[:, base + 1 : base + 4] = chain[:, f]

    left = np.broadcast_to(np.asarray(left, dtype=bool), (n,))
    out[left, :, 0] *= -1.0
    return out


def generate(n: int, seed: int) -> dict[str, np.ndarray]:
    """``n`` random hands, the first ``ceil(n / 2)`` right and the rest left, as the arrays of an npz file.

    Returns:
        ``positions`` float32 (n, 21, 3) metres, Y up; ``parents`` int32 (21,); ``joint_names`` (21,); ``fps``
        0.0; ``source``, ``license``, ``category`` ("hand"); ``clip_starts`` [0, n_right]; ``clip_names`` and
        ``subjects`` ["right hands", "left hands"]; ``is_left`` (n,) bool.
    """
    rng = np.random.default_rng([seed, 21])
    n_right = (n + 1) // 2
    is_left = np.arange(n) >= n_right
    positions = pose_hands(sample_params(n, rng), is_left)
    return {
        "positions": positions.astype(np.float32),
        "parents": PARENTS.copy(),
        "joint_names": np.array(JOINT_NAMES),
        "fps": np.float64(0.0),
        "source": np.array(f"procedural 21-joint hands, training/data/synthetic_hands.py: {n} poses (seed {seed})"),
        "license": np.array(LICENSE),
        "category": np.array("hand"),
        "clip_starts": np.array([0, n_right], dtype=np.int64),
        "clip_names": np.array(["right hands", "left hands"]),
        "subjects": np.array(["right hands", "left hands"]),
        "is_left": is_left,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder (writes hands_mediapipe21.npz)")
    parser.add_argument("--poses", type=int, default=20000, help="number of hands (half right, half left)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    data = generate(args.poses, args.seed)
    path = args.out / "hands_mediapipe21.npz"
    np.savez_compressed(path, **data)
    print(f"hands: {args.poses} poses, 21 joints, {time.perf_counter() - t0:.1f} s -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
