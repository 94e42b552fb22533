"""Shared helpers for the engine tests."""

import numpy as np


def random_rotations(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 3, 3)`` uniformly random proper rotations (from random unit quaternions)."""
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
        ],
        -1,
    ).reshape(n, 3, 3)  # fmt: skip


# A 15-joint stick figure: (name, parent, rest offset from the parent) in metres, y up, facing +z. The nose and
# the toes point forwards, as on a real body: without such cues a left/right-symmetric skeleton seen facing the
# camera looks exactly like its mirror image facing away (the model has no joint identities to tell them apart).
STICK_FIGURE = (
    ("pelvis", -1, (0.0, 0.0, 0.0)),
    ("spine", 0, (0.0, 0.25, 0.0)),
    ("neck", 1, (0.0, 0.25, 0.0)),
    ("head", 2, (0.0, 0.2, 0.0)),
    ("nose", 3, (0.0, -0.05, 0.12)),
    ("left_elbow", 2, (0.3, -0.05, 0.0)),
    ("left_wrist", 5, (0.25, 0.0, 0.0)),
    ("right_elbow", 2, (-0.3, -0.05, 0.0)),
    ("right_wrist", 7, (-0.25, 0.0, 0.0)),
    ("left_knee", 0, (0.12, -0.45, 0.0)),
    ("left_ankle", 9, (0.0, -0.42, 0.0)),
    ("left_toe", 10, (0.0, -0.05, 0.15)),
    ("right_knee", 0, (-0.12, -0.45, 0.0)),
    ("right_ankle", 12, (0.0, -0.42, 0.0)),
    ("right_toe", 13, (0.0, -0.05, 0.15)),
)


def stick_figure_poses(rng: np.random.Generator, n: int, max_bend: float = 1.2, max_yaw: float = np.pi) -> np.ndarray:
    """``(n, 15, 3)`` random poses of :data:`STICK_FIGURE` in metres, turned by up to ``max_yaw`` about the
    vertical and pitched by up to 0.5 rad.

    Each joint bends like a hinge, one way only (0..``max_bend`` radians about x) with a little side swing
    (+-0.25 rad about z), as real joints do: the 2D then says how far each limb points towards the camera.
    """
    J = len(STICK_FIGURE)
    angles = np.stack([rng.uniform(0, max_bend, (n, J)), np.zeros((n, J)), rng.uniform(-0.25, 0.25, (n, J))], -1)
    local = _euler(angles)  # (n, J, 3, 3)
    world = np.zeros((n, J, 3, 3))
    pos = np.zeros((n, J, 3))
    for j, (_, parent, offset) in enumerate(STICK_FIGURE):
        if parent < 0:
            world[:, j] = np.eye(3)
            continue
        world[:, j] = world[:, parent] @ local[:, j]
        pos[:, j] = pos[:, parent] + world[:, parent] @ np.asarray(offset)
    yaw = rng.uniform(-max_yaw, max_yaw, n)
    pitch = rng.uniform(-0.5, 0.5, n)
    glob = _euler(np.stack([pitch, yaw, np.zeros(n)], -1))
    return pos @ glob.swapaxes(-1, -2)


def _euler(a: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` from x, y, z angles ``(..., 3)`` (R = Rz Ry Rx)."""
    cx, cy, cz = np.cos(a[..., 0]), np.cos(a[..., 1]), np.cos(a[..., 2])
    sx, sy, sz = np.sin(a[..., 0]), np.sin(a[..., 1]), np.sin(a[..., 2])
    one, zero = np.ones_like(cx), np.zeros_like(cx)
    rx = np.stack([one, zero, zero, zero, cx, -sx, zero, sx, cx], -1).reshape(*a.shape[:-1], 3, 3)
    ry = np.stack([cy, zero, sy, zero, one, zero, -sy, zero, cy], -1).reshape(*a.shape[:-1], 3, 3)
    rz = np.stack([cz, -sz, zero, sz, cz, zero, zero, zero, one], -1).reshape(*a.shape[:-1], 3, 3)
    return rz @ ry @ rx


def stick_figure_parents() -> list[int]:
    return [p for _, p, _ in STICK_FIGURE]


def stick_figure_names() -> list[str]:
    return [n for n, _, _ in STICK_FIGURE]
