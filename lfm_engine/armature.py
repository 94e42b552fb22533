"""From lifted 3D points to an armature: Blender's world frame, a bone tree, rest pose and per-frame rotations.

Pure numpy (no ``bpy``): :mod:`blender_addon.blender_io` only copies these arrays into Blender.

Frames and units
----------------
* **Camera frame** (what :meth:`lfm_engine.Lifter.lift` returns): x right, y down, z away from the camera, in the
  unit of the 2D input (pixels).
* **Blender world**: Z up, metres. The camera sits at the origin and looks along world +Y with +Z up, so
  ``x_w = x, y_w = z, z_w = -y`` (:data:`CAMERA_TO_WORLD`, a proper rotation), and the subject stands in front of it
  at its lifted depth. :func:`to_blender_world` scales about the camera centre so that the subject has the height
  asked for; scaling about the camera centre keeps every point on its camera ray, so the pinhole projection (and the
  footage match) is unchanged. Nothing is moved onto a ground plane.
* **Armature space**: world minus :attr:`ArmatureAnimation.origin` (the armature object sits at ``origin`` with no
  rotation or scale).

The skeleton
------------
One bone per joint, indexed like the joints:

* a joint ``j`` with a parent ``p`` in the rig's :meth:`~lfm_engine.rig.Rig.tree_parents` (a spanning tree for
  rigs with loops) gets the bone ``p -> j``: head at joint ``p``, tail at joint ``j``; its parent bone is the bone
  whose tail is ``p``, and it is *connected* (head = parent's tail) unless ``p`` is a root;
* a root joint ``r`` gets a *root bone*: head at joint ``r``, pointing world +Z, of length
  :data:`ROOT_BONE_FRACTION` times the median bone length. Only root bones are translated; their rotation stays
  the rest rotation.

Bones are named after their joints unless names are given (the pipeline names them for the body segment they span
and gives the standard layouts an anatomical tree, :mod:`lfm_engine.anatomy`); :attr:`ArmatureAnimation.joint_names`
keeps the joint each bone ends at.

Rest lengths are the clip's median bone lengths (NaN-robust). With constant lengths the joints cannot all land on
the lifted points when the lifted lengths vary from frame to frame, so each joint is re-placed from the root down,
the child at the rest length from its already placed parent (:func:`constant_length_points`), in one of two ways
(:data:`PLACEMENTS`):

* ``"ray"`` (the default of :func:`build_armature` and the pipeline): a joint seen in the footage is put on its
  camera ray, the line of the points that project onto its 2D keypoint, where that ray meets the sphere of radius
  the rest length around the parent; of the two intersections, the one nearer the lifted joint along the ray (for a
  pinhole: nearer its lifted depth). The armature then reprojects exactly onto the keypoints. When the bone is too
  short to reach the ray the joint goes to the point of the sphere nearest the ray (it then misses its keypoint by
  as little as the length allows). A visible root is moved onto its ray (the point of the ray nearest to it).
  Joints without a ray (missing in that frame) are placed as with ``"direction"``.
* ``"direction"``: the child goes on the ray from its parent towards its lifted position, at the rest length (the
  point at that distance from the parent nearest to the lifted child). Roots keep their lifted position. Only the
  root then reprojects exactly; the other joints move off their keypoints by what the length change needs.

The rest pose is these constant-length joints at one frame (:func:`pick_rest_frame`).

Rotations are Blender pose-bone ``rotation_quaternion`` values (w, x, y, z) in each bone's local rest frame,
relative to its parent bone's pose (Blender's default inheritance). Each is the minimal rotation (no twist about
the bone's own Y axis) that turns the bone, as carried by its parent, onto its target direction; a bone's twist
is therefore only what its parents carry. Quaternion signs are kept continuous over time so that per-component
interpolation between keys is well behaved. :func:`forward_kinematics` recomputes the joints from the rest pose
and the keys exactly as Blender does.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .rig import Rig

#: Camera frame (x right, y down, z away) to Blender world (Z up, camera looking along +Y): ``world = R @ cam``.
CAMERA_TO_WORLD = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
#: Subject height in metres used when none is given, by rig category (:attr:`lfm_engine.rig.Rig.category`).
DEFAULT_HEIGHTS = {"human": 1.75, "hand": 0.19, "face": 0.22}
#: Subject size in metres for categories not in :data:`DEFAULT_HEIGHTS`.
DEFAULT_SIZE = 1.0
#: Length of a root bone as a fraction of the median bone length.
ROOT_BONE_FRACTION = 0.5
#: Shortest bone made, in metres (Blender deletes zero-length bones).
MIN_BONE_LENGTH = 1e-3
#: How :func:`constant_length_points` places a joint at its bone's rest length (see the module docs).
PLACEMENTS = ("ray", "direction")
_EPS = 1e-12


# ---------------------------------------------------------------------- world frame
def camera_to_world(points: np.ndarray) -> np.ndarray:
    """Rotate ``(..., 3)`` camera-frame points (x right, y down, z away) into Blender's world axes (Z up, camera
    looking along +Y); no scaling. Returns float64."""
    return np.asarray(points, dtype=np.float64) @ CAMERA_TO_WORLD.T


def world_to_camera(points: np.ndarray) -> np.ndarray:
    """Inverse of :func:`camera_to_world`."""
    return np.asarray(points, dtype=np.float64) @ CAMERA_TO_WORLD


def default_height(category: str) -> float:
    """The subject size in metres assumed for a rig category: 1.75 for people, 0.19 for hands, 0.22 for faces,
    :data:`DEFAULT_SIZE` otherwise."""
    return DEFAULT_HEIGHTS.get(category, DEFAULT_SIZE)


def subject_extent(points_world: np.ndarray, *, vertical: bool = True) -> float:
    """The subject's size: the median over frames of its vertical (world Z) extent, or with ``vertical=False`` of
    the largest side of its axis-aligned bounding box. NaN joints are ignored; frames with no finite joint too.

    Args:
        points_world: ``(T, J, 3)`` or ``(J, 3)`` in world axes (any unit).

    Raises:
        InputError: no frame has a positive extent.
    """
    p = np.asarray(points_world, dtype=np.float64)
    p = p.reshape((-1, *p.shape[-2:]))  # (T, J, 3)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames give NaN
        if vertical:
            ext = np.nanmax(p[..., 2], axis=1) - np.nanmin(p[..., 2], axis=1)  # (T,)
        else:
            ext = (np.nanmax(p, axis=1) - np.nanmin(p, axis=1)).max(-1)  # (T,)
    ext = ext[np.isfinite(ext) & (ext > 0)]
    if ext.size == 0:
        what = "vertical extent" if vertical else "size"
        raise InputError(f"the lifted subject has no {what} in any frame (all joints coincide or are missing)")
    return float(np.median(ext))


def to_blender_world(points: np.ndarray, height: float = 1.75, *, vertical: bool = True) -> np.ndarray:
    """Camera-frame points to Blender world coordinates in metres, the camera at the origin looking along +Y.

    Args:
        points: ``(T, J, 3)`` camera frame (x right, y down, z away), any unit (e.g. the output of
            :meth:`lfm_engine.Lifter.lift`).
        height: the subject's size in metres: its median vertical extent over the clip (people, ``vertical=True``)
            or the median largest side of its bounding box (``vertical=False``).

    Returns:
        ``(T, J, 3)`` float64 world (x right, y away from the camera, z up), metres. The scale is about the camera
        centre, so each point stays on its camera ray (same pinhole projection as ``points``).
    """
    if not (np.isfinite(height) and height > 0):
        raise InputError(f"height must be a positive number of metres, got {height!r}")
    world = camera_to_world(points)
    return world * (float(height) / subject_extent(world, vertical=vertical))


# ---------------------------------------------------------------------- bones
def tree_order(parents: Sequence[int]) -> np.ndarray:
    """``(J,)`` joint indices with every parent before its children (roots first, then breadth first)."""
    par = np.asarray(parents, dtype=np.int64)
    children: list[list[int]] = [[] for _ in range(len(par))]
    for j, p in enumerate(par.tolist()):
        if p >= 0:
            children[p].append(j)
    order = [int(r) for r in np.flatnonzero(par < 0)]
    k = 0
    while k < len(order):
        order.extend(children[order[k]])
        k += 1
    if len(order) != len(par):
        raise InputError("the parents list has a cycle; an armature needs a tree (use Rig.tree_parents())")
    return np.asarray(order, dtype=np.int64)


def bone_lengths(points: np.ndarray, parents: Sequence[int]) -> np.ndarray:
    """Median over the clip of each bone's length ``|P_j - P_parent(j)|``, ignoring frames where either is NaN.

    Args:
        points: ``(T, J, 3)``.
        parents: ``(J,)`` tree parents, -1 for roots.

    Returns:
        ``(J,)`` float64; NaN for roots and for bones never seen with both ends.
    """
    p = np.asarray(points, dtype=np.float64)
    par = np.asarray(parents, dtype=np.int64)
    child = np.flatnonzero(par >= 0)
    out = np.full(len(par), np.nan)
    d = np.linalg.norm(p[:, child] - p[:, par[child]], axis=-1)  # (T, B)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
        out[child] = np.nanmedian(d, axis=0)
    return out


def camera_rays(
    points2d: np.ndarray,
    focal_length: float,
    principal_point: tuple[float, float],
    visible: np.ndarray | None = None,
) -> np.ndarray:
    """Directions of the pinhole camera rays through 2D points, in the camera frame, for a camera at the origin.

    Args:
        points2d: ``(..., J, 2)`` pixels (x right, y down).
        focal_length: pixels. principal_point: ``(cx, cy)`` pixels.
        visible: ``(..., J)`` bool; False gives a NaN ray (no ray: the joint is placed by direction).

    Returns:
        ``(..., J, 3)`` float64 ``(u - cx, v - cy, f)`` (camera frame: x right, y down, z away; not unit length);
        NaN where the point is not finite or not visible. :func:`camera_to_world` turns them into world directions.
    """
    uv = np.asarray(points2d, dtype=np.float64)
    rays = np.concatenate([uv - np.asarray(principal_point, dtype=np.float64),
                           np.full((*uv.shape[:-1], 1), float(focal_length))], -1)  # fmt: skip
    ok = np.isfinite(rays).all(-1)
    if visible is not None:
        ok &= np.asarray(visible, dtype=bool)
    return np.where(ok[..., None], rays, np.nan)


def constant_length_points(
    points: np.ndarray,
    parents: Sequence[int],
    lengths: np.ndarray | None = None,
    *,
    placement: str = "ray",
    rays: np.ndarray | None = None,
    ray_origins: np.ndarray | None = None,
    return_status: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lifted points re-placed with constant bone lengths, as the armature reproduces them.

    From the roots down, each joint ``j`` with parent ``p`` is put at the rest length ``L_j`` from its re-placed
    parent ``Q_p``:

    * ``placement="ray"``, for a joint with a ray in that frame (``rays`` finite): on its camera ray
      ``o + s d`` where the ray meets the sphere ``|X - Q_p| = L_j``; of the two intersections, the one whose ``s``
      is nearer that of the lifted point ``P_j`` (its projection onto the ray; for a pinhole ``s`` is proportional to
      the depth). When the ray misses the sphere (the bone is too short to reach it), ``Q_p + L_j * (C - Q_p) /
      |C - Q_p|`` with ``C`` the point of the ray nearest to ``Q_p``: the point of the sphere nearest to the ray.
      A root with a ray is moved to the point of its ray nearest to its lifted position.
    * ``placement="direction"``, and for joints without a ray: ``Q_p + L_j * (P_j - Q_p) / |P_j - Q_p|``, on the ray
      from the parent towards the lifted position (the point at that distance from ``Q_p`` nearest to ``P_j``);
      roots stay where they are. When ``P_j`` coincides with ``Q_p`` the bone keeps its direction from the previous
      frame (or its mean direction).

    Rays: for a pinhole camera at the origin of the frame of ``points``, ``rays`` are the directions through the 2D
    points (:func:`camera_rays`; rotated by :func:`camera_to_world` for world points) and ``ray_origins`` is None
    (the origin). For weak perspective, ``rays`` are the view axis (camera ``(0, 0, 1)``, world ``(0, 1, 0)``) and
    ``ray_origins`` the lifted points with their depth coordinate set to 0 (the lines parallel to the view axis
    through the lifted x, y).

    Args:
        points: ``(T, J, 3)`` lifted points (any frame and unit); NaN propagates to the joint's subtree.
        parents: ``(J,)`` tree parents, -1 for roots.
        lengths: ``(J,)`` rest lengths (entries of roots are ignored); default :func:`bone_lengths`. A
            non-finite length of a non-root joint is refused.
        placement: ``"ray"`` or ``"direction"`` (:data:`PLACEMENTS`). ``"ray"`` without ``rays`` places every joint
            by direction.
        rays: ``(T, J, 3)`` ray directions (any length), in the frame of ``points``; NaN (or zero) where a joint has
            no ray (not seen in that frame).
        ray_origins: ``(T, J, 3)`` or ``(3,)`` a point of each ray; default the origin (a pinhole camera there).
        return_status: also return where the joints were put on their rays and where the rays were missed.

    Returns:
        ``(T, J, 3)`` float64; with ``return_status``, also two ``(T, J)`` bool arrays: ``on_ray``, the joints put on
        their ray (roots included), and ``misses``, the joints placed at the point of the sphere nearest to their ray
        because the ray misses it (both all False with ``"direction"``).
    """
    if placement not in PLACEMENTS:
        raise InputError(f"unknown placement {placement!r}; use one of {', '.join(PLACEMENTS)}")
    p = np.asarray(points, dtype=np.float64)
    par = np.asarray(parents, dtype=np.int64)
    L = bone_lengths(p, par) if lengths is None else np.asarray(lengths, dtype=np.float64)
    out = p.copy()
    misses = np.zeros(p.shape[:2], dtype=bool)
    on_ray = np.zeros(p.shape[:2], dtype=bool)
    use_rays = placement == "ray" and rays is not None
    if use_rays:
        d = np.asarray(rays, dtype=np.float64)
        if d.shape != p.shape:
            raise InputError(f"rays must have the points' shape {p.shape}, got {d.shape}")
        with np.errstate(all="ignore"):
            n = np.linalg.norm(d, axis=-1, keepdims=True)
            has_ray = np.isfinite(n[..., 0]) & (n[..., 0] > _EPS)  # (T, J)
            d = np.where(has_ray[..., None], d / np.where(has_ray[..., None], n, 1.0), 0.0)  # unit directions
        o = np.zeros_like(p) if ray_origins is None else np.broadcast_to(np.asarray(ray_origins, np.float64), p.shape)
        has_ray &= np.isfinite(o).all(-1)
    for j in tree_order(par):
        pj = par[j]
        if pj >= 0 and not np.isfinite(L[j]):
            raise InputError(f"joint {j}: its bone has no finite length (never seen with its parent {pj})")
        lifted = p[:, j]
        placed = lifted if pj < 0 else out[:, pj] + L[j] * _directions(lifted - out[:, pj])
        if use_rays:
            oj, dj = o[:, j], d[:, j]  # (T, 3)
            ok = has_ray[:, j] & np.isfinite(lifted).all(-1)
            s_lifted = ((lifted - oj) * dj).sum(-1)  # (T,) the lifted joint along the ray
            if pj < 0:
                placed = np.where(ok[:, None], oj + s_lifted[:, None] * dj, placed)
                on_ray[:, j] = ok
            else:
                centre = out[:, pj]
                ok &= np.isfinite(centre).all(-1)
                s0 = ((centre - oj) * dj).sum(-1)  # the ray's point nearest to the parent
                foot = oj + s0[:, None] * dj
                away = foot - centre  # (T, 3)
                disc = L[j] ** 2 - (away * away).sum(-1)
                hit = ok & (disc >= 0)
                root = np.sqrt(np.maximum(disc, 0.0))
                s = np.where(np.abs(s0 + root - s_lifted) <= np.abs(s0 - root - s_lifted), s0 + root, s0 - root)
                crossing = oj + s[:, None] * dj
                with np.errstate(all="ignore"):
                    nearest = centre + L[j] * away / np.linalg.norm(away, axis=-1, keepdims=True)
                placed = np.where(hit[:, None], crossing, np.where((ok & ~hit)[:, None], nearest, placed))
                on_ray[:, j], misses[:, j] = hit, ok & ~hit
        out[:, j] = placed
    return (out, on_ray, misses) if return_status else out


def _directions(v: np.ndarray) -> np.ndarray:
    """Unit vectors of ``(T, 3)`` ``v``; a zero vector takes the previous frame's direction (or the mean one)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)  # (T, 1)
    ok = (n[:, 0] > _EPS) & np.isfinite(n[:, 0])
    d = np.where(ok[:, None], v / np.where(ok[:, None], n, 1.0), np.nan)
    zero = np.flatnonzero(~ok & np.isfinite(v).all(-1))
    if zero.size:
        mean = np.nanmean(d, axis=0) if ok.any() else np.array([0.0, 0.0, 1.0])
        mean = mean / max(np.linalg.norm(mean), _EPS) if np.linalg.norm(mean) > 1e-6 else np.array([0.0, 0.0, 1.0])
        for t in zero:  # rare: hold the last direction
            d[t] = d[t - 1] if t > 0 and np.isfinite(d[t - 1]).all() else mean
    return d


def pick_rest_frame(points: np.ndarray, parents: Sequence[int]) -> int:
    """The most typical frame: the one whose bone directions agree best (sum of cosines) with the clip's mean bone
    directions. Frames with NaN joints are skipped when possible."""
    p = np.asarray(points, dtype=np.float64)
    par = np.asarray(parents, dtype=np.int64)
    child = np.flatnonzero(par >= 0)
    if child.size == 0:
        return 0
    v = p[:, child] - p[:, par[child]]  # (T, B, 3)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        u = v / np.linalg.norm(v, axis=-1, keepdims=True)
        mean = np.nanmean(u, axis=0)  # (B, 3)
        score = np.nansum((u * mean).sum(-1), axis=1)  # (T,)
    score[~np.isfinite(p).all(axis=(1, 2))] -= 1e9
    return int(np.argmax(score))


# ---------------------------------------------------------------------- quaternions
def quaternion_to_matrix(q: np.ndarray) -> np.ndarray:
    """``(..., 4)`` unit quaternions (w, x, y, z) to ``(..., 3, 3)`` rotation matrices (acting on column vectors)."""
    q = np.asarray(q, dtype=np.float64)
    w, x, y, z = np.moveaxis(q, -1, 0)
    m = np.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
        ],
        -1,
    )  # fmt: skip
    return m.reshape((*q.shape[:-1], 3, 3))  # (..., 3, 3)


def swing_from_y(t: np.ndarray) -> np.ndarray:
    """``(..., 4)`` quaternions (w, x, y, z): the minimal rotation taking +Y onto the unit vectors ``t`` ``(..., 3)``
    (its axis is perpendicular to Y: no twist). ``t = -Y`` gives a half turn about X."""
    t = np.asarray(t, dtype=np.float64)
    q = np.stack([1.0 + t[..., 1], t[..., 2], np.zeros_like(t[..., 0]), -t[..., 0]], -1)  # (..., 4)
    n = np.linalg.norm(q, axis=-1, keepdims=True)
    flip = n[..., 0] < 1e-9
    q = np.where(flip[..., None], np.array([0.0, 1.0, 0.0, 0.0]), q / np.where(flip[..., None], 1.0, n))
    return q


def continuous_signs(q: np.ndarray) -> np.ndarray:
    """``q`` ``(T, ..., 4)`` with signs flipped so that consecutive frames have a non-negative dot product (q and
    -q are the same rotation; per-component interpolation needs the near one)."""
    q = np.asarray(q, dtype=np.float64)
    if len(q) < 2:
        return q.copy()
    dots = (q[1:] * q[:-1]).sum(-1)
    signs = np.concatenate([np.ones_like(dots[:1]), np.where(dots < 0, -1.0, 1.0)], 0)
    return q * np.cumprod(signs, axis=0)[..., None]


def _rest_rotation(direction: np.ndarray) -> np.ndarray:
    """``(B, 3, 3)`` bone rest frames: the minimal rotation from +Y to each ``(B, 3)`` unit direction (Blender's
    roll-0 frame), as columns X, Y, Z in armature space."""
    return quaternion_to_matrix(swing_from_y(direction))


# ---------------------------------------------------------------------- the armature
@dataclass(frozen=True, eq=False)
class ArmatureAnimation:
    """An armature and its animation, as plain arrays; bone ``j`` belongs to joint ``j`` (see the module docs).

    Attributes:
        bone_names: ``J`` bone names (the joint names unless :func:`build_armature` was given others).
        parents: ``(J,)`` int64 tree parents of the joints (-1 for roots); also each bone's parent bone.
        order: ``(J,)`` bones with every parent before its children (the order to create them in).
        is_root: ``(J,)`` bool: root bones (head at the joint, pointing +Z; the only bones with location keys).
        connected: ``(J,)`` bool: head at the parent bone's tail (every bone whose parent is not a root bone).
        lengths: ``(J,)`` float64 bone lengths, metres.
        rest_matrices: ``(J, 4, 4)`` float64 rest pose in armature space: columns X, Y (along the bone), Z axes and
            the head position (Blender's ``Bone.matrix_local``).
        quaternions: ``(T, J, 4)`` float64 pose ``rotation_quaternion`` (w, x, y, z), local to each bone.
        locations: ``(T, J, 3)`` float64 pose ``location``, local to each bone (zero except for root bones).
        joints: ``(T, J, 3)`` float64 world positions that the pose puts the joints at
            (:func:`constant_length_points` of the input), metres.
        origin: ``(3,)`` world location of the armature object.
        rest_frame: the clip frame whose pose is the rest pose.
        placement: how the joints were placed at constant lengths (:data:`PLACEMENTS`).
        on_ray: ``(T, J)`` bool: joints placed on their camera ray (``"ray"`` placement, a ray given and reached;
            roots with a ray included).
        ray_misses: ``(T, J)`` bool: joints with a ray that their bone could not reach, placed at the point of the
            sphere around their parent nearest to it.
        joint_names: ``J`` the joint each bone ends at (its tail; a root bone's head): the rig's joint names.
    """

    bone_names: tuple[str, ...]
    parents: np.ndarray
    order: np.ndarray
    is_root: np.ndarray
    connected: np.ndarray
    lengths: np.ndarray
    rest_matrices: np.ndarray
    quaternions: np.ndarray
    locations: np.ndarray
    joints: np.ndarray
    origin: np.ndarray
    rest_frame: int
    placement: str = "direction"
    on_ray: np.ndarray | None = None
    ray_misses: np.ndarray | None = None
    joint_names: tuple[str, ...] = ()

    @property
    def head_joint_names(self) -> tuple[str, ...]:
        """``J`` the joint at each bone's head: its parent's joint (a root bone's own joint)."""
        names = self.joint_names or self.bone_names
        return tuple(names[p] if p >= 0 else names[j] for j, p in enumerate(self.parents.tolist()))

    @property
    def num_frames(self) -> int:
        return self.quaternions.shape[0]

    @property
    def num_bones(self) -> int:
        return len(self.bone_names)

    @property
    def heads(self) -> np.ndarray:
        """``(J, 3)`` rest heads, armature space."""
        return self.rest_matrices[:, :3, 3]

    @property
    def tails(self) -> np.ndarray:
        """``(J, 3)`` rest tails, armature space."""
        return self.heads + self.rest_matrices[:, :3, 1] * self.lengths[:, None]


def build_armature(
    points_world: np.ndarray,
    rig: Rig,
    *,
    rest_frame: int | None = None,
    placement: str = "ray",
    rays: np.ndarray | None = None,
    ray_origins: np.ndarray | None = None,
    bone_names: Sequence[str] | None = None,
) -> ArmatureAnimation:
    """The armature animation that reproduces ``points_world`` with constant bone lengths.

    Args:
        points_world: ``(T, J, 3)`` Blender world points, metres (:func:`to_blender_world`); must be finite.
        rig: the skeleton; its :meth:`~lfm_engine.rig.Rig.tree_parents` give the bones.
        rest_frame: the frame whose (constant-length) pose is the rest pose; default :func:`pick_rest_frame`.
        placement: ``"ray"`` (default) or ``"direction"``: how joints are put at their rest lengths
            (:func:`constant_length_points`).
        rays: ``(T, J, 3)`` world directions of the camera rays through the joints' 2D points (camera at the world
            origin: ``camera_to_world(camera_rays(...))``), NaN for joints not seen; None: no joint has a ray.
        ray_origins: see :func:`constant_length_points` (weak perspective); None for a pinhole at the origin.
        bone_names: ``J`` names of the bones (bone ``j`` ends at joint ``j``); default the joint names.

    Returns:
        :class:`ArmatureAnimation`; its ``joints`` are ``constant_length_points(points_world, parents, lengths,
        placement=placement, rays=rays, ray_origins=ray_origins)`` with lengths at least :data:`MIN_BONE_LENGTH`.
    """
    p = np.asarray(points_world, dtype=np.float64)
    if p.ndim != 3 or p.shape[-1] != 3 or len(p) == 0:
        raise InputError(f"points must have shape (T, J, 3) with T >= 1, got {p.shape}")
    T, J = p.shape[:2]
    if rig.num_joints != J:
        raise InputError(f"rig {rig.name!r} has {rig.num_joints} joints but the points have {J}")
    names = tuple(rig.joint_names if bone_names is None else (str(n) for n in bone_names))
    if len(names) != J or len(set(names)) != J:
        raise InputError(f"bone_names must be {J} distinct names, one per joint of rig {rig.name!r}")
    bad = ~np.isfinite(p).all(-1)
    if bad.any():
        t, j = np.argwhere(bad)[0]
        raise InputError(f"frame {t}, joint {rig.joint_names[j]!r} is not finite; fill missing frames first")
    par = np.asarray(rig.tree_parents(), dtype=np.int64)
    order = tree_order(par)
    is_root = par < 0
    child = np.flatnonzero(~is_root)
    lengths = np.maximum(np.nan_to_num(bone_lengths(p, par), nan=MIN_BONE_LENGTH), MIN_BONE_LENGTH)
    joints, on_ray, misses = constant_length_points(
        p, par, lengths, placement=placement, rays=rays, ray_origins=ray_origins, return_status=True
    )  # (T, J, 3), (T, J), (T, J)
    if rest_frame is None:
        rest_frame = pick_rest_frame(joints, par)
    if not -T <= rest_frame < T:
        raise InputError(f"rest_frame {rest_frame} is outside the clip's {T} frames")
    rest_frame = int(rest_frame) % T
    root_len = ROOT_BONE_FRACTION * float(np.median(lengths[child])) if child.size else 0.1
    lengths[is_root] = max(root_len, MIN_BONE_LENGTH)

    rest = joints[rest_frame]  # (J, 3) world
    origin = rest[int(np.flatnonzero(is_root)[0])].copy()
    heads = np.where(is_root[:, None], rest, rest[np.maximum(par, 0)]) - origin  # (J, 3) armature space
    rest_dir = np.tile([0.0, 0.0, 1.0], (J, 1))  # root bones point up
    rest_dir[child] = _directions_rows(rest[child] - rest[par[child]])
    rest_rot = _rest_rotation(rest_dir)  # (J, 3, 3)
    rest_mat = np.tile(np.eye(4), (J, 1, 1))
    rest_mat[:, :3, :3] = rest_rot
    rest_mat[:, :3, 3] = heads

    # Pose: walk down the tree; ``posed`` holds each bone's armature-space rotation per frame.
    quats = np.zeros((T, J, 4))
    quats[..., 0] = 1.0
    posed = np.empty((T, J, 3, 3))
    target = np.zeros((T, J, 3))
    target[:, child] = (joints[:, child] - joints[:, par[child]]) / lengths[child][:, None]
    for j in order:
        pj = par[j]
        if pj < 0:
            posed[:, j] = rest_rot[j]
            continue
        carried = posed[:, pj] @ (rest_rot[pj].T @ rest_rot[j])  # (T, 3, 3) the bone as its parent carries it
        local = np.einsum("tji,tj->ti", carried, target[:, j])  # (T, 3) target in the carried bone's axes
        q = swing_from_y(local / np.linalg.norm(local, axis=-1, keepdims=True))
        quats[:, j] = q
        posed[:, j] = carried @ quaternion_to_matrix(q)
    quats = continuous_signs(quats)
    locations = np.zeros((T, J, 3))
    roots = np.flatnonzero(is_root)
    # Root bones: head = rest head + R_rest @ location (Blender's local location).
    locations[:, roots] = np.einsum("rji,trj->tri", rest_rot[roots], joints[:, roots] - origin - heads[roots])
    connected = ~is_root & ~is_root[np.maximum(par, 0)]
    return ArmatureAnimation(
        bone_names=names, parents=par, order=order, is_root=is_root, connected=connected,
        lengths=lengths, rest_matrices=rest_mat, quaternions=quats, locations=locations, joints=joints,
        origin=origin, rest_frame=rest_frame, placement=placement, on_ray=on_ray, ray_misses=misses,
        joint_names=tuple(rig.joint_names),
    )  # fmt: skip


def _directions_rows(v: np.ndarray) -> np.ndarray:
    """Unit rows of ``(B, 3)`` ``v``; zero rows become +Z."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.where(n > _EPS, v / np.where(n > _EPS, n, 1.0), np.array([0.0, 0.0, 1.0]))


def forward_kinematics(anim: ArmatureAnimation) -> np.ndarray:
    """The world joint positions ``(T, J, 3)`` that Blender computes from the rest pose and the keys.

    Blender's pose matrix of a bone is ``parent_pose @ inv(parent_rest) @ rest @ T(location) @ R(quaternion)``
    (``rest @ T @ R`` for a bone without parent); a joint is its bone's tail (its head for root bones).
    """
    T, J = anim.quaternions.shape[:2]
    pose = np.empty((T, J, 4, 4))
    basis = np.tile(np.eye(4), (T, J, 1, 1))
    basis[..., :3, :3] = quaternion_to_matrix(anim.quaternions)
    basis[..., :3, 3] = anim.locations
    rest = anim.rest_matrices
    for j in anim.order:
        pj = anim.parents[j]
        if pj < 0:
            pose[:, j] = rest[j] @ basis[:, j]
        else:
            pose[:, j] = pose[:, pj] @ (np.linalg.inv(rest[pj]) @ rest[j]) @ basis[:, j]
    tails = pose[..., :3, 3] + pose[..., :3, 1] * anim.lengths[:, None]  # (T, J, 3)
    joints = np.where(anim.is_root[:, None], pose[..., :3, 3], tails)
    return joints + anim.origin


# ---------------------------------------------------------------------- temporal filters
def fill_missing(points: np.ndarray) -> np.ndarray:
    """``points`` ``(T, ...)`` with NaN entries filled by linear interpolation over time (held at the ends);
    series with no finite value stay NaN."""
    p = np.array(points, dtype=np.float64)
    flat = p.reshape(len(p), -1)  # (T, N)
    t = np.arange(len(p))
    for k in np.flatnonzero(~np.isfinite(flat).all(0)):
        ok = np.isfinite(flat[:, k])
        if ok.any():
            flat[:, k] = np.interp(t, t[ok], flat[ok, k])
    return flat.reshape(p.shape)


def one_euro(
    points: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0
) -> np.ndarray:
    """The One-Euro filter (Casiez, Roussel and Vogel, CHI 2012) along axis 0, every coordinate at once.

    An adaptive low-pass: the cut-off is ``min_cutoff + beta * |speed|`` Hz, so slow motion is smoothed hard and
    fast motion lags little. ``beta`` is in Hz per (unit of ``points``) per second: use the world in metres.

    Args:
        points: ``(T, ...)``; NaN entries stay NaN and do not update the filter.
        fps: frames per second. min_cutoff, d_cutoff: Hz. beta: see above.

    Returns:
        float64 array shaped like ``points``.
    """
    if not (fps > 0 and min_cutoff > 0 and d_cutoff > 0 and beta >= 0):
        raise InputError(f"one_euro needs fps, min_cutoff, d_cutoff > 0 and beta >= 0 (got {fps}, {min_cutoff}, "
                         f"{d_cutoff}, {beta})")  # fmt: skip
    x = np.asarray(points, dtype=np.float64)
    out = np.full_like(x, np.nan)
    if len(x) == 0:
        return out
    dt = 1.0 / float(fps)

    def alpha(cutoff):
        r = 2 * np.pi * cutoff * dt
        return r / (r + 1)

    prev = x[0].copy()
    dprev = np.zeros_like(prev)
    out[0] = x[0]
    a_d = alpha(d_cutoff)
    for t in range(1, len(x)):
        xt = x[t]
        ok = np.isfinite(xt)
        fresh = ok & ~np.isfinite(prev)  # first finite value of a series starts the filter there
        dx = np.where(ok & ~fresh, (xt - prev) / dt, 0.0)
        dhat = a_d * dx + (1 - a_d) * dprev
        a = alpha(min_cutoff + beta * np.abs(dhat))
        xhat = np.where(fresh, xt, a * xt + (1 - a) * prev)
        prev = np.where(ok, xhat, prev)
        dprev = np.where(ok, dhat, dprev)
        out[t] = np.where(ok, xhat, np.nan)
    return out


def savgol(points: np.ndarray, window: int, order: int = 2) -> np.ndarray:
    """Savitzky-Golay smoothing along axis 0: each value becomes that of the least-squares polynomial of degree
    ``order`` fitted to the ``window`` values around it; the first and last ``window // 2`` values use the
    polynomial of the first and last window (like ``scipy.signal.savgol_filter(mode="interp")``).

    Args:
        points: ``(T, ...)``; NaN entries are interpolated for the fit and stay NaN in the output.
        window: odd number of frames (shrunk to the clip length); order: polynomial degree < window.

    Returns:
        float64 array shaped like ``points``; a copy when the window is too short to smooth.
    """
    x = np.asarray(points, dtype=np.float64)
    T = len(x)
    window = int(window)
    if window % 2 == 0:
        window += 1
    if window > T:
        window = T if T % 2 else T - 1
    if window <= order or window < 3:
        return x.copy()
    nan = ~np.isfinite(x)
    filled = fill_missing(x)
    half = window // 2
    k = np.arange(-half, half + 1, dtype=np.float64)
    vander = k[:, None] ** np.arange(order + 1)  # (W, order + 1)
    pinv = np.linalg.pinv(vander)  # (order + 1, W)
    flat = filled.reshape(T, -1)  # (T, N)
    windows = np.lib.stride_tricks.sliding_window_view(flat, window, axis=0)  # (T - W + 1, N, W)
    out = np.empty_like(flat)
    out[half : T - half] = windows @ pinv[0]
    out[:half] = vander[:half] @ (pinv @ flat[:window])
    out[T - half :] = vander[half + 1 :] @ (pinv @ flat[T - window :])
    out = out.reshape(x.shape)
    out[nan] = np.nan
    return out


#: Smoothing methods of :func:`smooth`.
SMOOTHING_METHODS = ("none", "one_euro", "savgol")


def smooth(points: np.ndarray, fps: float, method: str = "none", strength: float = 0.5) -> np.ndarray:
    """Temporal smoothing with one knob, for world points in metres.

    Args:
        points: ``(T, J, 3)`` metres.
        fps: frames per second of the clip.
        method: ``"none"``, ``"one_euro"`` or ``"savgol"``.
        strength: 0 (light) to 1 (heavy). One-Euro: ``min_cutoff`` from 8 Hz down to 0.5 Hz (log scale),
            ``beta = 0.7`` Hz per m/s. Savitzky-Golay: degree 2 over a window of 0.05 s to 0.5 s (at least 5 frames).
    """
    if method not in SMOOTHING_METHODS:
        raise InputError(f"unknown smoothing {method!r}; use one of {', '.join(SMOOTHING_METHODS)}")
    s = float(np.clip(strength, 0.0, 1.0))
    if method == "none":
        return np.asarray(points, dtype=np.float64).copy()
    if method == "one_euro":
        return one_euro(points, fps, min_cutoff=float(np.exp(np.log(8.0) + s * np.log(0.5 / 8.0))), beta=0.7)
    window = max(5, round((0.05 + 0.45 * s) * fps)) | 1
    return savgol(points, window, order=2)
