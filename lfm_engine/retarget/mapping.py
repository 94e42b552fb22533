"""Which lifted joint drives which target bone: the mapping, its automatic proposal, and JSON presets.

A :class:`Pair` says that a lifted joint (a point) sits at a target bone's head, or at the tail of a bone without
children (a head top, a toe tip). :func:`propose_mapping` finds the pairs for any two skeletons by combining

* **names** (:mod:`.names`): the canonical point and side each name stands for, with the usual aliases;
* **rest geometry**: both skeletons stood upright (Z up), turned about Z so that their left-to-right axes agree,
  centred on their footprint and scaled to unit height; the distance between a joint and a bone end, in heights;

into one cost per joint/bone-end pair, and solves the assignment exactly (:mod:`.assignment`), each joint and each
bone end used at most once and pairs dearer than :data:`MAX_COST` left out. Names that agree tolerate large
distances (a T-pose against arms down); unknown names only match very close points; opposite sides never match.
Points of different regions (:func:`.names.region`: body, hand, face) never match either: a finger joint only maps
onto a bone of the same finger (Rigify's ``f_index.02.L``, Mixamo's ``LeftHandIndex2``), and onto nothing on a rig
without fingers; a body joint never onto a finger or face bone; face-mesh points onto nothing (no rig's face bones
correspond to them).

Presets are JSON files (:data:`PRESET_FORMAT`) of pairs. Their ``joint`` entries are either exact joint names (a
saved mapping) or canonical names such as ``left_shoulder`` that :func:`apply_preset` matches to any rig's joints
through :func:`.names.point_of_joint`. The shipped presets (:func:`available_presets`) are for Rigify's human and
basic_human metarigs, the rig Rigify generates from the human metarig (with a ``controls`` section, see
:mod:`.controls`) and Mixamo's bone names.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, LFMError
from ..safe_json import parse_json
from .assignment import assign_with_threshold
from .controls import ControlRig
from .names import FINGER_POINTS, point_of_bone, point_of_joint, region

PRESET_FORMAT = "lift_to_3d.retarget_mapping"
PRESET_VERSION = 1
PRESET_DIR = Path(__file__).resolve().parent / "presets"
ENDS = ("head", "tail")

#: Pairs dearer than this are never made (see :func:`pair_costs`).
MAX_COST = 2.0
#: Name agreement -> (cost offset, distance scale in heights): cost = offset + distance / scale.
NAME_TERMS = {"same": (0.0, 0.35), "group": (0.3, 0.2), "unknown": (0.8, 0.05), "other": (1.2, 0.05)}
#: Extra cost when one name has a side and the other none (opposite sides never match).
SIDE_COST = 0.8
#: Canonical points that are near relatives (partial agreement).
GROUPS = ({"pelvis", "spine", "chest", "neck", "head", "tail"}, {"head", "nose", "eye", "ear"}, {"head", "head_top"},
          {"toe", "end"}, {"shoulder", "clavicle"}, {"ankle", "heel"}, {"wrist", "hand_root"},
          *({"finger", f} for f in FINGER_POINTS if f != "finger"),
          *({"hand_point", f} for f in FINGER_POINTS))  # fmt: skip
#: A proposal with fewer pairs than this is refused (the target is not recognisable).
MIN_PAIRS = 3


class MappingError(LFMError, ValueError):
    """A mapping cannot be made or used: unrecognisable target, unknown joint or bone, bad preset file."""


@dataclass(frozen=True)
class Pair:
    """Lifted joint ``joint`` sits at the ``end`` (``"head"`` or ``"tail"``) of target bone ``bone``."""

    joint: str
    bone: str
    end: str = "head"
    cost: float = 0.0


@dataclass(frozen=True)
class Mapping:
    """The pairs of one retarget (each joint and each bone end at most once)."""

    pairs: tuple[Pair, ...]
    name: str = ""
    description: str = ""
    #: The Rigify metarig the preset is for (``"human"``, ``"basic_human"``, ...; empty for none): what the batch
    #: script's ``--retarget-to <preset>`` creates as the target.
    metarig: str = ""
    #: For a generated rig (Rigify): the skeleton the pairs name, the controls to key and the switches to set
    #: (:mod:`.controls`); None for an armature whose bones are keyed directly.
    controls: ControlRig | None = None

    def __len__(self) -> int:
        return len(self.pairs)

    def to_dict(self) -> dict:
        out = {"format": PRESET_FORMAT, "version": PRESET_VERSION, "name": self.name,
               "description": self.description, "metarig": self.metarig,
               "pairs": [{"joint": p.joint, "bone": p.bone, "end": p.end} for p in self.pairs]}  # fmt: skip
        if self.controls is not None:
            out["controls"] = self.controls.to_dict()
        return out

    def save(self, path: str | os.PathLike) -> Path:
        """Write the mapping as a JSON preset; returns the path."""
        out = Path(path)
        out.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return out

    @classmethod
    def from_dict(cls, data: dict, source: str = "mapping") -> Mapping:
        if not isinstance(data, dict) or data.get("format") != PRESET_FORMAT:
            raise MappingError(f"{source}: not a retarget mapping (expected 'format': '{PRESET_FORMAT}')")
        if int(data.get("version", 0)) > PRESET_VERSION:
            raise MappingError(f"{source}: mapping version {data.get('version')} is newer than this add-on's "
                               f"{PRESET_VERSION}")  # fmt: skip
        pairs = []
        for k, item in enumerate(data.get("pairs", [])):
            if not isinstance(item, dict) or not item.get("joint") or not item.get("bone"):
                raise MappingError(f"{source}: pair {k} needs a 'joint' and a 'bone', got {item!r}")
            end = item.get("end", "head")
            if end not in ENDS:
                raise MappingError(f"{source}: pair {k} ({item['joint']} -> {item['bone']}): end must be 'head' "
                                   f"or 'tail', got {end!r}")  # fmt: skip
            pairs.append(Pair(str(item["joint"]), str(item["bone"]), end))
        controls = ControlRig.from_dict(data["controls"], source) if data.get("controls") is not None else None
        return cls(tuple(pairs), name=str(data.get("name", "")), description=str(data.get("description", "")),
                   metarig=str(data.get("metarig", "")), controls=controls)  # fmt: skip

    @classmethod
    def load(cls, path: str | os.PathLike) -> Mapping:
        """Read a JSON preset (raises :class:`MappingError` naming the file and what is wrong)."""
        p = Path(path)
        try:
            raw = p.read_bytes()
        except FileNotFoundError:
            raise MappingError(f"{p}: no such mapping preset") from None
        except OSError as exc:
            raise MappingError(f"{p}: cannot read the mapping preset: {exc}") from None
        data = parse_json(raw, f"{p}: cannot read the mapping preset", MappingError)
        return cls.from_dict(data, str(p))


@dataclass(frozen=True, eq=False)
class TargetSkeleton:
    """A target armature as arrays (Blender's rest data; no ``bpy``).

    Attributes:
        bone_names: ``B`` names.
        parents: ``(B,)`` int64 parent bone index, -1 for roots; parents come before children.
        rest_matrices: ``(B, 4, 4)`` armature-space rest matrices (``Bone.matrix_local``: columns X, Y along the
            bone, Z, and the head).
        lengths: ``(B,)`` bone lengths (armature units).
        matrix_world: ``(4, 4)`` the armature object's world matrix (rotation, translation, uniform scale).
        name: the armature's name, for messages.
    """

    bone_names: tuple[str, ...]
    parents: np.ndarray
    rest_matrices: np.ndarray
    lengths: np.ndarray
    matrix_world: np.ndarray = field(default_factory=lambda: np.eye(4))
    name: str = "target"

    def __post_init__(self):
        par = np.asarray(self.parents)
        if len(par) != len(self.bone_names) or any(p >= j for j, p in enumerate(par.tolist())):
            raise InputError(f"{self.name}: parents must list each bone's parent before it ({len(par)} parents for "
                             f"{len(self.bone_names)} bones)")  # fmt: skip

    @property
    def heads(self) -> np.ndarray:
        """``(B, 3)`` rest heads, armature space."""
        return self.rest_matrices[:, :3, 3]

    @property
    def tails(self) -> np.ndarray:
        """``(B, 3)`` rest tails, armature space."""
        return self.heads + self.rest_matrices[:, :3, 1] * self.lengths[:, None]

    @property
    def is_leaf(self) -> np.ndarray:
        leaf = np.ones(len(self.bone_names), dtype=bool)
        par = np.asarray(self.parents)
        leaf[par[par >= 0]] = False
        return leaf

    def index(self, bone: str) -> int:
        try:
            return self.bone_names.index(bone)
        except ValueError:
            raise MappingError(f"armature {self.name!r} has no bone {bone!r}") from None

    def rest_point(self, bone: int, end: str) -> np.ndarray:
        """``(3,)`` armature-space rest position of a bone end."""
        return self.heads[bone] if end == "head" else self.tails[bone]

    def to_world(self, points: np.ndarray) -> np.ndarray:
        m = np.asarray(self.matrix_world, dtype=np.float64)
        return np.asarray(points, dtype=np.float64) @ m[:3, :3].T + m[:3, 3]

    def to_armature(self, points: np.ndarray) -> np.ndarray:
        m = np.linalg.inv(np.asarray(self.matrix_world, dtype=np.float64))
        return np.asarray(points, dtype=np.float64) @ m[:3, :3].T + m[:3, 3]


# ---------------------------------------------------------------------- geometry
def _side_axis(points: np.ndarray, sides: list[str]) -> np.ndarray | None:
    """Horizontal unit vector from the right-side points' mean to the left-side points' mean (None if unknown)."""
    sides_arr = np.asarray(sides)
    left, right = points[sides_arr == "L"], points[sides_arr == "R"]
    if not len(left) or not len(right):
        return None
    v = left.mean(0) - right.mean(0)
    v[2] = 0.0
    n = np.linalg.norm(v)
    return v / n if n > 1e-9 else None


#: Points this low (fraction of the height) make the footprint that both skeletons are centred on.
FOOTPRINT = 0.15


def _footprint_centre(p: np.ndarray, size: float) -> np.ndarray:
    """``(3,)`` x, y: the centre of the bounding box of the points near the ground (feet, paws); z: the ground.
    Tails, heads and raised arms do not move it."""
    lo = p[:, 2].min()
    low = p[p[:, 2] <= lo + FOOTPRINT * size]
    a, b = low.min(0), low.max(0)
    return np.array([(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, lo])


def normalise_upright(points: np.ndarray, sides: list[str], reference_axis: np.ndarray | None = None):
    """``(N, 3)`` points stood on their footprint: centred in x, y on the points near the ground, lowest point at
    z = 0, scaled to unit vertical extent (largest side when flat), turned about Z so that their left axis is
    ``reference_axis`` (when both are known). Returns ``(normalised, left_axis_before_turning)``."""
    p = np.asarray(points, dtype=np.float64)
    lo, hi = p.min(0), p.max(0)
    size = hi[2] - lo[2]
    if size < 0.25 * (hi - lo).max():
        size = (hi - lo).max()
    size = size if size > 1e-12 else 1.0
    q = (p - _footprint_centre(p, size)) / size
    axis = _side_axis(q, sides)
    if axis is not None and reference_axis is not None:
        a = np.arctan2(reference_axis[1], reference_axis[0]) - np.arctan2(axis[1], axis[0])
        c, s = np.cos(a), np.sin(a)
        q = q @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]).T
    return q, axis


def source_rest_points(points_world: np.ndarray) -> np.ndarray:
    """``(J, 3)`` a typical pose of a lifted clip ``(T, J, 3)``: each frame moved onto its footprint (the centre of
    its points near the ground, lowest point at z = 0), then the per-joint median over frames."""
    p = np.asarray(points_world, dtype=np.float64)
    if p.ndim == 2:
        return p.copy()
    ext = np.nanmax(p[..., 2], axis=1) - np.nanmin(p[..., 2], axis=1)  # (T,)
    base = np.stack([_footprint_centre(f[np.isfinite(f).all(-1)], max(e, 1e-12)) for f, e in zip(p, ext, strict=True)])
    return np.nanmedian(p - base[:, None], axis=0)


def target_ends(target: TargetSkeleton) -> tuple[list[tuple[int, str]], np.ndarray, list[str], list[str]]:
    """The bone ends a joint can map to: every head, and the tail of every bone without children.

    Returns ``(ends, world_points (E, 3), canonical point names, sides)``.
    """
    ends, pts, names, sides = [], [], [], []
    leaf = target.is_leaf
    for b, bone in enumerate(target.bone_names):
        point, side = point_of_bone(bone)
        ends.append((b, "head"))
        pts.append(target.heads[b])
        names.append(point)
        sides.append(side)
        if leaf[b]:
            ends.append((b, "tail"))
            pts.append(target.tails[b])
            kept = point if point in (*FINGER_POINTS, "face") else ""  # a fingertip, a face bone's end
            names.append({"head": "head_top", "toe": "end"}.get(point, kept))
            sides.append(side)
    return ends, target.to_world(np.asarray(pts).reshape(-1, 3)), names, sides


def _name_term(a: str, b: str) -> str:
    if not a or not b:
        return "unknown"
    if a == b:
        return "same"
    if any(a in g and b in g for g in GROUPS):
        return "group"
    return "other"


def pair_costs(joint_names, joint_points, target: TargetSkeleton):
    """The cost of each (joint, bone end) pair.

    ``cost = offset + distance / scale`` with ``(offset, scale)`` from :data:`NAME_TERMS` by how the canonical
    points of the two names agree, plus :data:`SIDE_COST` when only one of them has a side. Forbidden (infinite):
    opposite sides; points of different regions (:func:`.names.region`); two hand points that are not the same
    finger; every face point. Distances are between the upright, unit-height rest poses
    (:func:`normalise_upright`).

    Args:
        joint_names: ``J`` lifted joint names. joint_points: ``(J, 3)`` their rest (typical) world positions.
        target: the target armature.

    Returns:
        ``(cost (J, E), ends)`` with ``ends`` the ``E`` ``(bone index, "head" | "tail")`` of :func:`target_ends`.
    """
    ends, tpts, tnames, tsides = target_ends(target)
    jp = [point_of_joint(n) for n in joint_names]
    jnames, jsides = [n for n, _ in jp], [s for _, s in jp]
    tq, taxis = normalise_upright(tpts, tsides)
    sq, _ = normalise_upright(np.asarray(joint_points, dtype=np.float64), jsides, taxis)
    dist = np.linalg.norm(sq[:, None] - tq[None], axis=-1)  # (J, E)
    # the name terms, per pair of distinct canonical points (few), then gathered
    ju, jinv = np.unique(np.asarray(jnames, dtype=object).astype(str), return_inverse=True)
    tu, tinv = np.unique(np.asarray(tnames, dtype=object).astype(str), return_inverse=True)
    offset = np.empty((len(ju), len(tu)))
    scale = np.empty((len(ju), len(tu)))
    allowed = np.empty((len(ju), len(tu)), dtype=bool)
    for a, jn in enumerate(ju):
        for b, tn in enumerate(tu):
            term = _name_term(jn, tn)
            offset[a, b], scale[a, b] = NAME_TERMS[term]
            same_region = region(jn) == region(tn)
            allowed[a, b] = same_region and region(jn) != "face" and (region(jn) != "hand" or term in ("same", "group"))
    js = np.asarray(jsides, dtype=object).astype(str)[:, None]
    ts = np.asarray(tsides, dtype=object).astype(str)[None, :]
    sided = (js != "").astype(np.float64) - (ts != "").astype(np.float64)
    cost = offset[jinv][:, tinv] + dist / scale[jinv][:, tinv] + SIDE_COST * (sided != 0)
    forbidden = ~allowed[jinv][:, tinv] | ((js != "") & (ts != "") & (js != ts))
    cost[forbidden] = np.inf
    return cost, ends


def _ancestors(parents) -> list[set[int]]:
    """Each node's proper ancestors, for a parent array (-1 = root; any order; cycles are cut)."""
    par = [int(q) for q in parents]
    out = []
    for j in range(len(par)):
        seen, q = set(), par[j]
        while 0 <= q < len(par) and q not in seen and q != j:
            seen.add(q)
            q = par[q]
        out.append(seen)
    return out


def untangle(rows: np.ndarray, cols: np.ndarray, joint_parents, ends, target: TargetSkeleton) -> np.ndarray:
    """Swap assigned bone ends until no lifted joint maps below one of its own descendants in the target.

    A near-tie in the costs can cross two joints of a chain (Chest -> Spine2 and Chest2 -> Spine1, or the joints of
    a finger, whose rest poses rarely agree); such a crossing bends the target against its hierarchy. A bone's head
    counts as above its own tail. Returns the repaired ``cols`` (same pairs of rows).
    """
    cols = cols.copy()
    source_up = _ancestors(joint_parents)
    target_up = _ancestors(target.parents)

    def above(ea, eb) -> bool:  # bone end ea is above bone end eb in the target
        (ba, end_a), (bb, end_b) = ends[ea], ends[eb]
        return ba in target_up[bb] or (ba == bb and end_a == "head" and end_b == "tail")

    # only pairs of joints on one chain of the source can cross
    chained = [(a, b) for a in range(len(rows)) for b in range(len(rows)) if int(rows[a]) in source_up[int(rows[b])]]
    for _ in range(len(rows) ** 2):  # each swap removes an inversion; this bounds the loop
        swapped = False
        for a, b in chained:
            if above(cols[b], cols[a]):  # a above b in the source, below it in the target
                cols[a], cols[b] = cols[b], cols[a]
                swapped = True
        if not swapped:
            break
    return cols


def propose_mapping(
    joint_names,
    points_world: np.ndarray,
    target: TargetSkeleton,
    *,
    max_cost: float = MAX_COST,
    joint_parents=None,
):
    """The joint-to-bone mapping of a lifted clip onto a target armature (see the module docs).

    Args:
        joint_names: ``J`` lifted joint names.
        points_world: ``(T, J, 3)`` or ``(J, 3)`` lifted world positions (Z up).
        target: the target armature.
        max_cost: pairs dearer than this are left out.
        joint_parents: optional ``(J,)`` parent index of each lifted joint (-1 for roots); when given, the
            assignment is untangled so that no chain of the lifted skeleton crosses the target's (:func:`untangle`).

    Returns:
        :class:`Mapping`, pairs in joint order, each with its cost.

    Raises:
        MappingError: fewer than :data:`MIN_PAIRS` pairs could be made, or fewer than two with agreeing names
            while under half the joints matched: the target's bones are not recognisable.
    """
    names = [str(n) for n in joint_names]
    p = np.asarray(points_world, dtype=np.float64)
    if p.shape[-2:] != (len(names), 3):
        raise InputError(f"points must have shape (T, {len(names)}, 3) for {len(names)} joints, got {p.shape}")
    if not len(target.bone_names):
        raise MappingError(f"armature {target.name!r} has no bones")
    rest = source_rest_points(p)
    cost, ends = pair_costs(names, rest, target)
    # rows and columns with no affordable pair (a face mesh, a rig's face bones) stay out of the assignment
    usable = np.isfinite(cost) & (cost <= max_cost)
    keep_r, keep_c = np.flatnonzero(usable.any(1)), np.flatnonzero(usable.any(0))
    rows, cols = assign_with_threshold(cost[np.ix_(keep_r, keep_c)], max_cost)
    rows, cols = keep_r[rows], keep_c[cols]
    if joint_parents is not None:
        if len(joint_parents) != len(names):
            raise InputError(f"joint_parents has {len(joint_parents)} entries for {len(names)} joints")
        cols = untangle(rows, cols, joint_parents, ends, target)
    pairs = tuple(Pair(names[j], target.bone_names[ends[e][0]], ends[e][1], float(cost[j, e]))
                  for j, e in zip(rows.tolist(), cols.tolist(), strict=True))  # fmt: skip
    named = sum(1 for pr in pairs if point_of_joint(pr.joint)[0] and pr.cost < NAME_TERMS["unknown"][0])
    if len(pairs) < MIN_PAIRS or (named < 2 and len(pairs) < 0.5 * len(names)):
        raise MappingError(
            f"armature {target.name!r}: no bones recognisable for the lifted joints ({len(pairs)} of {len(names)} "
            f"joints found a bone whose name and rest position agree, e.g. none for {', '.join(names[:4])}); map the "
            "bones by hand or load a preset"
        )
    return Mapping(pairs)


# ---------------------------------------------------------------------- presets
def available_presets() -> list[str]:
    """Names of the shipped presets (files in :data:`PRESET_DIR`)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def load_preset(name_or_path: str | os.PathLike) -> Mapping:
    """A shipped preset by name (:func:`available_presets`) or any preset file by path."""
    p = Path(name_or_path)
    if p.suffix.lower() != ".json" and (PRESET_DIR / f"{p.name}.json").is_file():
        p = PRESET_DIR / f"{p.name}.json"
    elif p.suffix.lower() != ".json":
        raise MappingError(f"unknown mapping preset {str(name_or_path)!r}; shipped presets: "
                           f"{', '.join(available_presets())}, or give a .json file")  # fmt: skip
    return Mapping.load(p)


def apply_preset(preset: Mapping, joint_names, target: TargetSkeleton) -> Mapping:
    """The preset's pairs for these joints and this armature.

    A preset joint matches the lifted joint of the same name, else the lifted joint with the same canonical point
    and side (:func:`.names.point_of_joint`; e.g. ``left_shoulder`` matches ``LeftShoulder``). Pairs whose joint has
    no match, or whose bone the armature lacks, are left out; each joint and bone end is used once.

    Raises:
        MappingError: no pair of the preset applies.
    """
    names = [str(n) for n in joint_names]
    exact = {n: n for n in names}
    canon: dict[tuple[str, str], str] = {}
    for n in names:
        key = point_of_joint(n)
        if key[0] and key not in canon:
            canon[key] = n
    bones = set(target.bone_names)
    used_j, used_e, pairs = set(), set(), []
    for pr in preset.pairs:
        joint = exact.get(pr.joint) or canon.get(point_of_joint(pr.joint))
        if joint is None or pr.bone not in bones or joint in used_j or (pr.bone, pr.end) in used_e:
            continue
        used_j.add(joint)
        used_e.add((pr.bone, pr.end))
        pairs.append(Pair(joint, pr.bone, pr.end))
    if not pairs:
        raise MappingError(f"preset {preset.name or '(unnamed)'!r} has no pair for these joints and armature "
                           f"{target.name!r} (joints like {', '.join(names[:4])})")  # fmt: skip
    order = {n: k for k, n in enumerate(names)}
    return Mapping(
        tuple(sorted(pairs, key=lambda p: order[p.joint])),
        name=preset.name,
        metarig=preset.metarig,
        controls=preset.controls,
    )


def check_mapping(mapping: Mapping, joint_names, target: TargetSkeleton) -> None:
    """Refuse a mapping that names an unknown joint or bone, uses one twice, or is empty (edited by hand)."""
    names = set(joint_names)
    if not mapping.pairs:
        raise MappingError("the mapping is empty: propose one or load a preset first")
    seen_j, seen_e = set(), set()
    for pr in mapping.pairs:
        if pr.joint not in names:
            raise MappingError(f"mapping pair {pr.joint} -> {pr.bone}: the lifted armature has no joint {pr.joint!r}")
        if pr.bone not in target.bone_names:
            raise MappingError(f"mapping pair {pr.joint} -> {pr.bone}: armature {target.name!r} has no bone "
                               f"{pr.bone!r}")  # fmt: skip
        if pr.end not in ENDS:
            raise MappingError(f"mapping pair {pr.joint} -> {pr.bone}: end must be 'head' or 'tail'")
        if pr.joint in seen_j:
            raise MappingError(f"joint {pr.joint!r} is mapped twice")
        if (pr.bone, pr.end) in seen_e:
            raise MappingError(f"the {pr.end} of bone {pr.bone!r} is mapped twice")
        seen_j.add(pr.joint)
        seen_e.add((pr.bone, pr.end))
