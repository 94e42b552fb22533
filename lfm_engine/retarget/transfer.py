"""Motion transfer: lifted joint positions onto a target armature's bones, in each bone's own rest frame.

Everything is in the target's **armature space** (the lifted world points are brought into it with the inverse of
the armature object's world matrix) and follows Blender's pose evaluation, for every bone ``b`` with parent ``p``::

    pose_b = pose_p @ inv(rest_p) @ rest_b @ basis_b      (basis_b = T(location_b) @ R(rotation_quaternion_b))

so the keys are pose-bone ``rotation_quaternion`` (and ``location`` for root bones) exactly as Blender stores them.

The method (:func:`retarget`), frame by frame and vectorised over frames:

1. **Scale and root motion.** Lifted points map to the target by ``M(x) = s * x + offset``. ``s`` is the ratio of
   the target's to the lifted leg lengths (the mapped joint-to-joint segments ending at a knee or ankle; all mapped
   segments when there are no legs), so strides and jumps keep their size relative to the legs. With
   ``root_placement="lifted"`` (the default) ``M`` scales about the point of the lifted ground (the median over
   frames of the lowest joint) under the root's mapped points in the first frame: the target moves where the
   lifted subject is in the world, whatever the target object's own placement, so that seen through the footage
   camera it overlaps the lifted armature and stands on its ground. With ``"target"``, ``offset`` puts the root's
   mapped points over the target's rest position in the first frame, and the lifted ground on the target's ground
   (its lowest rest point): the motion happens where the target stands.
2. **Rotations, from the root down.** For bone ``b`` the points it moves are its own mapped head and the first
   mapped point along every branch below it (a mapped tail, or the heads of its nearest mapped descendants). Carried
   by its parent's pose, those rest points are turned onto the lifted points by the rotation that best aligns the
   two sets about their centroids (Kabsch, with the proper-rotation fix); with only two points, or points on one
   line, by the minimal rotation between the two directions (no twist beyond what the parent carries). A bone whose
   head is mapped aims exactly at its main point (the one most in line with it) and takes its twist from the others,
   so mapped limbs keep their lifted directions; a bone whose head is not mapped turns about its head (where its
   parent put it) onto its points, by the best rotation about that pivot (Kabsch). The bone's
   local key is that rotation expressed in its carried rest frame, so rest poses (T against A pose), bone rolls and
   proportions of the target are respected. A bone with fewer than two such points keeps its rest pose relative to
   its parent.
3. **IK (optional).** For each mapped wrist or ankle whose bone hangs from two mapped bones (upper, lower), the two
   are turned (a minimal swing each, keeping the bend plane) so that the wrist or ankle reaches ``M(lifted
   point)`` when it can (else the chain points straight at it); the hand or foot keeps its world orientation. With
   ``ik_max_angle``, each of the two turns at most that far from its lifted direction toward that solution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..armature import continuous_signs, quaternion_to_matrix
from ..errors import InputError
from .mapping import Mapping, MappingError, TargetSkeleton, check_mapping, point_of_bone, point_of_joint

_EPS = 1e-9
#: Rest point sets whose second singular value is below this fraction of the first are treated as one line.
LINE_RATIO = 0.05
LEG_POINTS = ("knee", "ankle")
#: Where :func:`retarget` puts the motion: where the lifted joints are, or over the target's rest position.
ROOT_PLACEMENTS = ("lifted", "target")
EFFECTOR_POINTS = ("wrist", "ankle")


@dataclass(frozen=True, eq=False)
class RetargetResult:
    """The baked motion of a target armature, as arrays.

    Attributes:
        bone_names: ``B`` target bone names (the target's order).
        quaternions: ``(T, B, 4)`` pose ``rotation_quaternion`` (w, x, y, z), local to each bone.
        locations: ``(T, B, 3)`` pose ``location`` (non-zero only for root bones).
        pose_matrices: ``(T, B, 4, 4)`` armature-space pose matrices (Blender's ``PoseBone.matrix``).
        lengths: ``(B,)`` bone lengths.
        pairs: the mapping used. joints: ``(K,)`` lifted joint index of each pair; bones: ``(K,)`` bone index;
            tails: ``(K,)`` True where the pair is a bone's tail.
        goals: ``(T, K, 3)`` armature-space positions the pairs' bone ends should follow: ``s * lifted + offset``.
        scale: ``s``; offset: ``(3,)``.
        height: the target's rest height (vertical extent of its bone ends), armature units.
        ik_chains: ``(upper, lower, effector)`` bone indices solved by IK.
        driven: ``(B,)`` bool: bones whose rotation follows lifted points (or IK).
        segments: ``(S, 2)`` pair indices ``(upper, lower)``: each pair and the nearest mapped head above it.
    """

    bone_names: tuple[str, ...]
    quaternions: np.ndarray
    locations: np.ndarray
    pose_matrices: np.ndarray
    lengths: np.ndarray
    pairs: tuple
    joints: np.ndarray
    bones: np.ndarray
    tails: np.ndarray
    goals: np.ndarray
    scale: float
    offset: np.ndarray
    height: float
    ik_chains: tuple[tuple[int, int, int], ...]
    driven: np.ndarray
    segments: np.ndarray

    @property
    def num_frames(self) -> int:
        return self.quaternions.shape[0]

    def pair_positions(self) -> np.ndarray:
        """``(T, K, 3)`` armature-space positions of the pairs' bone ends in the baked pose."""
        m = self.pose_matrices[:, self.bones]  # (T, K, 4, 4)
        return m[..., :3, 3] + m[..., :3, 1] * (self.lengths[self.bones] * self.tails)[None, :, None]


# ---------------------------------------------------------------------- rotations
def matrix_to_quaternion(m: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` rotation matrices to ``(..., 4)`` unit quaternions (w, x, y, z), w >= 0 (Shepperd's method)."""
    m = np.asarray(m, dtype=np.float64)
    tr = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    cands = np.stack([
        np.stack([1 + tr, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1),
        np.stack([m[..., 2, 1] - m[..., 1, 2], 1 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2],
                  m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]], -1),
        np.stack([m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0],
                  1 - m[..., 0, 0] + m[..., 1, 1] - m[..., 2, 2], m[..., 1, 2] + m[..., 2, 1]], -1),
        np.stack([m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1],
                  1 - m[..., 0, 0] - m[..., 1, 1] + m[..., 2, 2]], -1),
    ], -2)  # fmt: skip  # (..., 4, 4): candidate k is best when its k-th entry is largest
    diag = np.stack([1 + tr, 1 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2],
                     1 - m[..., 0, 0] + m[..., 1, 1] - m[..., 2, 2], 1 - m[..., 0, 0] - m[..., 1, 1] + m[..., 2, 2]],
                    -1)  # fmt: skip
    k = np.argmax(diag, axis=-1)
    q = np.take_along_axis(cands, k[..., None, None], axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def min_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` the smallest rotation turning direction ``a`` onto direction ``b`` (``(..., 3)``, any
    length); a half turn about an axis perpendicular to ``a`` when they are opposite; identity for zero vectors."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    na, nb = np.linalg.norm(a, axis=-1, keepdims=True), np.linalg.norm(b, axis=-1, keepdims=True)
    ok = (na[..., 0] > _EPS) & (nb[..., 0] > _EPS)
    a = np.where(ok[..., None], a / np.where(ok[..., None], na, 1), [1.0, 0.0, 0.0])
    b = np.where(ok[..., None], b / np.where(ok[..., None], nb, 1), [1.0, 0.0, 0.0])
    v = np.cross(a, b)
    c = (a * b).sum(-1)
    opposite = c < -1 + 1e-9
    # any axis perpendicular to a for the half turn
    helper = np.where(np.abs(a[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    perp = np.cross(a, helper)
    perp /= np.linalg.norm(perp, axis=-1, keepdims=True)
    vx = _skew(v)
    eye = np.broadcast_to(np.eye(3), vx.shape)
    k = 1.0 / np.where(opposite, 1.0, 1.0 + c)
    r = eye + vx + (vx @ vx) * k[..., None, None]
    half = 2 * perp[..., :, None] * perp[..., None, :] - eye
    return np.where(opposite[..., None, None], half, r)


def _skew(v: np.ndarray) -> np.ndarray:
    z = np.zeros_like(v[..., 0])
    return np.stack([np.stack([z, -v[..., 2], v[..., 1]], -1), np.stack([v[..., 2], z, -v[..., 0]], -1),
                     np.stack([-v[..., 1], v[..., 0], z], -1)], -2)  # fmt: skip


def kabsch(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` proper rotations ``R`` minimising ``sum_k |R a_k - b_k|^2`` for centred ``(T, K, 3)`` sets."""
    h = np.einsum("tki,tkj->tij", b, a)  # (T, 3, 3) sum b a^T
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(u @ vt))
    d = np.where(d == 0, 1.0, d)
    fix = np.tile(np.eye(3), (len(h), 1, 1))
    fix[:, 2, 2] = d
    return u @ fix @ vt


# ---------------------------------------------------------------------- the transfer
def _mapped_parent(target: TargetSkeleton, head_of: np.ndarray, bone: int, tail: bool) -> int:
    """The pair index of the nearest mapped head above a bone end (-1 if none)."""
    par = target.parents
    c = bone if tail else int(par[bone])
    while c >= 0:
        if head_of[c] >= 0:
            return int(head_of[c])
        c = int(par[c])
    return -1


def retarget(
    points_world: np.ndarray,
    joint_names,
    target: TargetSkeleton,
    mapping: Mapping,
    *,
    ik: tuple[str, ...] | bool = EFFECTOR_POINTS,
    scale: float | None = None,
    ik_max_angle: float | None = None,
    root_placement: str = "lifted",
) -> RetargetResult:
    """Transfer lifted motion onto ``target`` (see the module docs).

    Args:
        points_world: ``(T, J, 3)`` lifted joint positions in Blender world (Z up), finite.
        joint_names: ``J`` names of those joints (the mapping's ``joint`` entries refer to them).
        target: the target armature's rest data.
        mapping: which joint drives which bone end (:func:`.mapping.propose_mapping`, a preset, or edited).
        ik: the effectors that reach their lifted positions by two-bone IK: ``("wrist", "ankle")`` (hands and feet,
            the default), ``("ankle",)`` (feet only), ``()`` or False (none); True means both.
        scale: override ``s`` (target units per lifted unit); default from the leg lengths.
        ik_max_angle: limit IK (degrees): each IK'd limb segment turns at most this far from its lifted direction,
            so the hand or foot goes as far toward its lifted position as that allows; None (default): no limit.
        root_placement: ``"lifted"`` (the default: the target follows the lifted joints where they are in the world,
            in front of the footage camera) or ``"target"`` (over the target's rest position); see the module docs.

    Returns:
        :class:`RetargetResult`.

    Raises:
        InputError: wrong shape or non-finite points (naming the frame and joint), an unknown ``root_placement``.
        MappingError: the mapping names unknown joints or bones, or drives no bone.
    """
    names = [str(n) for n in joint_names]
    p = np.asarray(points_world, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (len(names), 3) or len(p) == 0:
        raise InputError(f"points must have shape (T, {len(names)}, 3) with T >= 1, got {p.shape}")
    bad = ~np.isfinite(p).all(-1)
    if bad.any():
        t, j = np.argwhere(bad)[0]
        raise InputError(f"frame {t}, joint {names[j]!r} is not finite; fill missing frames before retargeting")
    if root_placement not in ROOT_PLACEMENTS:
        raise InputError(f"unknown root placement {root_placement!r}; use one of {', '.join(ROOT_PLACEMENTS)}")
    check_mapping(mapping, names, target)
    T, B = len(p), len(target.bone_names)
    par = np.asarray(target.parents, dtype=np.int64)
    rest = np.asarray(target.rest_matrices, dtype=np.float64)
    rest_rot = rest[:, :3, :3]
    lengths = np.asarray(target.lengths, dtype=np.float64)
    src = target.to_armature(p)  # (T, J, 3) armature space, lifted units

    K = len(mapping.pairs)
    joints = np.array([names.index(pr.joint) for pr in mapping.pairs], dtype=np.int64)
    bones = np.array([target.index(pr.bone) for pr in mapping.pairs], dtype=np.int64)
    tails = np.array([pr.end == "tail" for pr in mapping.pairs], dtype=bool)
    rest_pts = np.where(tails[:, None], target.tails[bones], target.heads[bones])  # (K, 3)
    head_of = np.full(B, -1, dtype=np.int64)
    tail_of = np.full(B, -1, dtype=np.int64)
    for k in range(K):
        (tail_of if tails[k] else head_of)[bones[k]] = k

    # Segments between mapped points: scale from the legs.
    segs = [(_mapped_parent(target, head_of, int(bones[k]), bool(tails[k])), k) for k in range(K)]
    segs = [(a, k) for a, k in segs if a >= 0]
    if scale is None:
        legs = [(a, k) for a, k in segs if point_of_joint(names[joints[k]])[0] in LEG_POINTS]
        use = legs or segs
        if not use:
            raise MappingError("the mapping has no two joints on one bone chain; map at least a limb")
        lt = sum(np.linalg.norm(rest_pts[k] - rest_pts[a]) for a, k in use)
        ls = sum(np.median(np.linalg.norm(src[:, joints[k]] - src[:, joints[a]], axis=-1)) for a, k in use)
        scale = lt / ls if ls > _EPS else 1.0
    s = float(scale)

    # Which points each bone moves: its own mapped head, then the first mapped point on each branch below.
    children: list[list[int]] = [[] for _ in range(B)]
    for b in range(B):
        if par[b] >= 0:
            children[par[b]].append(b)

    def frontier(b: int) -> list[int]:
        out = [int(tail_of[b])] if tail_of[b] >= 0 else []
        for c in children[b]:
            out.extend([int(head_of[c])] if head_of[c] >= 0 else frontier(c))
        return out

    point_sets = [([int(head_of[b])] if head_of[b] >= 0 else []) + frontier(b) for b in range(B)]
    roots = np.flatnonzero(par < 0)
    root_sets = {int(r): point_sets[int(r)] for r in roots if len(point_sets[int(r)])}
    if not root_sets:
        raise MappingError("no mapped bone hangs from a root of the target; nothing to drive")

    # Root motion: M(x) = s x + offset.
    ends_z = np.concatenate([target.heads[:, 2], target.tails[:, 2]])
    ground_src = float(np.median(src[..., 2].min(axis=1)))
    first = max(root_sets, key=lambda r: len(root_sets[r]))
    legs = sorted({a for a, k in segs if point_of_joint(names[joints[k]])[0] == "knee"})
    anchors = {int(r): np.asarray(legs if legs and first == r else root_sets[r]) for r in root_sets}
    ks = anchors[first]
    offset = np.empty(3)
    if root_placement == "target":
        offset[:2] = rest_pts[ks, :2].mean(0) - s * src[0, joints[ks], :2].mean(0)
        offset[2] = ends_z.min() - s * ground_src
    else:  # scaled about the lifted ground under the root: it stays where the lifted subject is
        offset[:2] = (1.0 - s) * src[0, joints[ks], :2].mean(0)
        offset[2] = (1.0 - s) * ground_src
    goals = s * src[:, joints] + offset  # (T, K, 3)

    # Rotations from the root down (bones are stored parents first).
    glob = np.empty((T, B, 3, 3))  # posed rotations, armature space
    heads = np.empty((T, B, 3))
    driven = np.zeros(B, dtype=bool)
    for b in range(B):
        pb = par[b]
        if pb < 0:
            carried = np.broadcast_to(rest_rot[b], (T, 3, 3))
            carried_head = np.broadcast_to(rest[b, :3, 3], (T, 3)).copy()
        else:
            rel = rest_rot[pb].T @ rest_rot[b]
            carried = glob[:, pb] @ rel
            carried_head = heads[:, pb] + np.einsum(
                "tij,j->ti", glob[:, pb], rest_rot[pb].T @ (rest[b, :3, 3] - rest[pb, :3, 3])
            )
        ks = np.asarray(point_sets[b], dtype=np.int64)
        delta = np.broadcast_to(np.eye(3), (T, 3, 3))
        mapped_head = head_of[b] >= 0
        # -1: the head where the parent put it, when the head is not mapped (aim from there)
        ks_all = np.concatenate([[-1], ks]) if pb >= 0 and not mapped_head and len(ks) else ks
        if len(ks_all) >= 2:
            a_rest = np.where(ks_all[:, None] < 0, rest[b, :3, 3], rest_pts[ks_all]) - rest[b, :3, 3]  # (n, 3)
            a = np.einsum("tij,nj->tni", carried @ rest_rot[b].T, a_rest)  # carried by the parent
            g = np.where((ks_all < 0)[None, :, None], carried_head[:, None], goals[:, ks_all])  # (T, n, 3)
            if mapped_head:  # aim exactly at the main point, the others give the twist
                delta = _aim_and_twist(a, g, _main_point(a_rest, rest_rot[b][:, 1]))
            elif pb >= 0 and len(ks_all) == 2:  # one point: aim at it from where the head is
                delta = min_rotation(a[:, 1], g[:, 1] - g[:, 0])
            elif pb >= 0:  # several points: the best rotation about the head
                rank = np.linalg.svd(a_rest[1:], compute_uv=False)
                if rank[1] < LINE_RATIO * rank[0]:
                    delta = _aim_and_twist(a, g, _main_point(a_rest, rest_rot[b][:, 1]))
                else:
                    delta = kabsch(a[:, 1:], g[:, 1:] - g[:, :1])
            else:
                sv = np.linalg.svd(a_rest - a_rest.mean(0), compute_uv=False)
                if len(ks) == 2 or sv[1] < LINE_RATIO * sv[0]:
                    far = np.linalg.norm(a_rest[:, None] - a_rest[None], axis=-1)
                    lo, hi = np.unravel_index(int(np.argmax(far)), far.shape)
                    delta = min_rotation(a[:, hi] - a[:, lo], g[:, hi] - g[:, lo])
                else:
                    delta = kabsch(a - a.mean(1, keepdims=True), g - g.mean(1, keepdims=True))
            driven[b] = True
        glob[:, b] = delta @ carried
        if pb < 0:
            if b in root_sets:  # the anchors' centroid (the hips, when there are legs) follows their goals
                ks = anchors[b]
                c_rest = rest_pts[ks].mean(0)
                heads[:, b] = goals[:, ks].mean(1) + np.einsum("tij,j->ti", delta, rest[b, :3, 3] - c_rest)
            else:
                heads[:, b] = rest[b, :3, 3]
        else:
            heads[:, b] = carried_head

    # The anchors may hang below unmapped bones (a quadruped's hips): move each root so that they land on average.
    top = np.arange(B)
    for b in range(B):
        if par[b] >= 0:
            top[b] = top[par[b]]
    for r, ks in anchors.items():
        ends = heads[:, bones[ks]] + glob[:, bones[ks]][..., 1] * (lengths[bones[ks]] * tails[ks])[None, :, None]
        heads[:, top == r] += (goals[:, ks] - ends).mean(1)[:, None]

    chains = []
    kinds = EFFECTOR_POINTS if ik is True else tuple(ik or ())
    unknown = set(kinds) - set(EFFECTOR_POINTS)
    if unknown:
        raise InputError(f"unknown IK effector(s) {sorted(unknown)}; use 'wrist' and/or 'ankle'")
    if kinds:
        chains = _ik_chains(target, head_of, joints, names, kinds)
        for up, lo, eff in chains:
            _solve_two_bone(glob, heads, up, lo, eff, goals[:, head_of[eff]], goals[:, head_of[lo]], ik_max_angle)
            driven[[up, lo]] = True
    quats, locs, pose = _locals(glob, heads, rest, par, lengths)
    return RetargetResult(
        bone_names=tuple(target.bone_names), quaternions=quats, locations=locs, pose_matrices=pose, lengths=lengths,
        pairs=mapping.pairs, joints=joints, bones=bones, tails=tails, goals=goals, scale=s, offset=offset,
        height=float(ends_z.max() - ends_z.min()), ik_chains=tuple(chains), driven=driven,
        segments=np.asarray(segs, dtype=np.int64).reshape(-1, 2),
    )  # fmt: skip


def _main_point(a_rest: np.ndarray, axis: np.ndarray) -> int:
    """Index (>= 1) of the point a bone aims at: of the points after its head (``a_rest[0]``, relative to the head),
    the one most in line with the bone's rest direction ``axis``."""
    v = a_rest[1:]
    cos = (v @ axis) / np.maximum(np.linalg.norm(v, axis=-1), _EPS)
    return 1 + int(np.argmax(cos))


def _aim_and_twist(a: np.ndarray, g: np.ndarray, main: int) -> np.ndarray:
    """``(T, 3, 3)``: the minimal rotation turning ``a[:, main] - a[:, 0]`` onto ``g[:, main] - g[:, 0]``, then the
    twist about that direction that best lines up the other points (least squares over their perpendicular parts).

    Args:
        a: ``(T, n, 3)`` carried rest points relative to the head (``a[:, 0]`` is the head), n >= 2.
        g: ``(T, n, 3)`` goal points (``g[:, 0]`` is the head's goal).
    """
    aim = g[:, main] - g[:, 0]
    swing = min_rotation(a[:, main] - a[:, 0], aim)
    others = [k for k in range(1, a.shape[1]) if k != main]
    if not others:
        return swing
    axis = aim / np.maximum(np.linalg.norm(aim, axis=-1, keepdims=True), _EPS)  # (T, 3)
    u = np.einsum("tij,tkj->tki", swing, a[:, others] - a[:, :1])  # swung rest points
    v = g[:, others] - g[:, :1]
    u = u - (u * axis[:, None]).sum(-1, keepdims=True) * axis[:, None]
    v = v - (v * axis[:, None]).sum(-1, keepdims=True) * axis[:, None]
    sin = (np.cross(u, v) * axis[:, None]).sum((-1, -2))
    cos = (u * v).sum((-1, -2))
    angle = np.arctan2(sin, cos)  # (T,) the twist maximising sum u . R v
    k = _skew(axis)
    eye = np.eye(3)
    twist = eye + np.sin(angle)[:, None, None] * k + (1 - np.cos(angle))[:, None, None] * (k @ k)
    return twist @ swing


def _ik_chains(target: TargetSkeleton, head_of: np.ndarray, joints: np.ndarray, names: list[str], kinds):
    """``(upper, lower, effector)`` for each mapped effector of ``kinds`` (wrist, ankle) hanging from two mapped
    bones."""
    par = target.parents
    out = []
    for e in range(len(target.bone_names)):
        k = head_of[e]
        if k < 0:
            continue
        point_kinds = {point_of_joint(names[joints[k]])[0], point_of_bone(target.bone_names[e])[0]}
        lo = int(par[e])
        up = int(par[lo]) if lo >= 0 else -1
        if point_kinds & set(kinds) and up >= 0 and head_of[lo] >= 0 and head_of[up] >= 0:
            out.append((up, lo, e))
    return out


def _solve_two_bone(glob, heads, up: int, lo: int, eff: int, goal: np.ndarray, mid_goal: np.ndarray,
                    max_angle: float | None = None) -> None:  # fmt: skip
    """Turn bones ``up`` and ``lo`` (in place) so that the head of ``eff`` reaches ``goal`` ``(T, 3)`` (or points
    straight at it when out of reach), the middle joint on the side of ``mid_goal`` (the lifted elbow or knee;
    the current bend where that is ambiguous). ``eff`` and the bones below keep their world rotations.

    With ``max_angle`` (degrees), each of the two segments turns at most that far from its current direction (the
    lifted one), toward where the full solution puts it: the effector then goes only part of the way."""
    a, b, c = heads[:, up], heads[:, lo], heads[:, eff]
    l1 = np.linalg.norm(b - a, axis=-1)
    l2 = np.linalg.norm(c - b, axis=-1)
    to_goal = goal - a
    d = np.linalg.norm(to_goal, axis=-1)
    d = np.clip(d, np.abs(l1 - l2) + 1e-6, l1 + l2 - 1e-6)
    u1 = to_goal / np.maximum(np.linalg.norm(to_goal, axis=-1, keepdims=True), _EPS)

    def across(v):
        return v - (v * u1).sum(-1, keepdims=True) * u1

    bend, current = across(mid_goal - a), across(b - a)
    small = np.linalg.norm(bend, axis=-1) < 1e-3 * np.maximum(l1, _EPS)
    bend = np.where(small[:, None], current, bend)
    bend /= np.maximum(np.linalg.norm(bend, axis=-1, keepdims=True), _EPS)
    cos_a = np.clip((l1**2 + d**2 - l2**2) / (2 * l1 * d), -1.0, 1.0)
    b_new = a + l1[:, None] * (cos_a[:, None] * u1 + np.sqrt(1 - cos_a**2)[:, None] * bend)
    c_new = a + d[:, None] * u1
    if max_angle is not None:
        lower = c_new - b_new
        b_new = a + _turn_at_most(b - a, b_new - a, np.radians(max_angle))
        c_new = b_new + _turn_at_most(c - b, lower, np.radians(max_angle))
    r_up = min_rotation(b - a, b_new - a)
    r_lo = min_rotation(np.einsum("tij,tj->ti", r_up, c - b), c_new - b_new)
    glob[:, up] = r_up @ glob[:, up]
    glob[:, lo] = r_lo @ r_up @ glob[:, lo]


def _turn_at_most(v: np.ndarray, w: np.ndarray, limit: float) -> np.ndarray:
    """``(T, 3)``: ``v`` turned toward the direction of ``w`` by their angle, at most ``limit`` radians (length of
    ``v`` kept)."""
    full = min_rotation(v, w)
    angle = np.arccos(np.clip((np.trace(full, axis1=-2, axis2=-1) - 1) / 2, -1.0, 1.0))
    frac = np.where(angle > limit, limit / np.maximum(angle, _EPS), 1.0)
    axis = np.cross(v, w)
    axis /= np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), _EPS)
    k = _skew(axis)
    t = (frac * angle)[:, None, None]
    rot = np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)
    return np.einsum("tij,tj->ti", rot, v)


def _locals(glob, heads, rest, par, lengths):
    """Local keys from world rotations (and root heads), and the pose matrices Blender will compute from them."""
    T, B = glob.shape[:2]
    quats = np.zeros((T, B, 4))
    locs = np.zeros((T, B, 3))
    pose = np.tile(np.eye(4), (T, B, 1, 1))
    for b in range(B):
        pb = par[b]
        carried = np.broadcast_to(rest[b], (T, 4, 4)) if pb < 0 else pose[:, pb] @ (np.linalg.inv(rest[pb]) @ rest[b])
        local = np.swapaxes(carried[:, :3, :3], -1, -2) @ glob[:, b]
        quats[:, b] = matrix_to_quaternion(local)
        if pb < 0:
            locs[:, b] = np.einsum("ji,tj->ti", rest[b, :3, :3], heads[:, b] - rest[b, :3, 3])
        basis = np.tile(np.eye(4), (T, 1, 1))
        basis[:, :3, :3] = quaternion_to_matrix(quats[:, b])
        basis[:, :3, 3] = locs[:, b]
        pose[:, b] = carried @ basis
    return continuous_signs(quats), locs, pose


def retarget_errors(result: RetargetResult, positions: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """How closely the target follows the lifted joints.

    Args:
        result: a :class:`RetargetResult`.
        positions: ``(T, K, 3)`` armature-space positions of the pairs' bone ends to judge (e.g. read back from
            Blender); default :meth:`RetargetResult.pair_positions`.

    Returns:
        ``{"position": (T, K) distance to the goal / target height, "direction": (T, S) degrees between each
        mapped segment (pair to its nearest mapped pair above) on the target and on the lifted joints,
        "segments": (S, 2) the pair indices of each segment}``.
    """
    pos = result.pair_positions() if positions is None else np.asarray(positions, dtype=np.float64)
    err = np.linalg.norm(pos - result.goals, axis=-1) / max(result.height, _EPS)
    seg = result.segments
    u = pos[:, seg[:, 1]] - pos[:, seg[:, 0]]
    v = result.goals[:, seg[:, 1]] - result.goals[:, seg[:, 0]]
    cos = (u * v).sum(-1) / np.maximum(np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1), _EPS)
    return {"position": err, "direction": np.degrees(np.arccos(np.clip(cos, -1, 1))), "segments": seg}
