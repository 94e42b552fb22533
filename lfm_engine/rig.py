"""Skeletons as data: joint names, edges, parents and left/right pairs.

A :class:`Rig` is immutable and validated when it is made. Its edges are undirected links between joints; when
they form a forest (no cycle), ``parents`` gives each joint's parent (-1 for roots) and every edge is stored as
``(parent, child)``. Graphs with cycles (a hand's palm, a face contour) keep ``parents=None``;
:meth:`Rig.tree_parents` then gives a breadth-first spanning forest, which is what an armature needs.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import RigError

#: Joint names that are preferred as the root of a tree built from edges, in this order.
ROOT_NAMES = ("root", "pelvis", "hips", "hip", "midhip", "mid_hip", "hip_centre", "hip_center", "wrist")


def _swap_side(name: str) -> list[tuple[str, str]]:
    """Candidate mirrored names of ``name``, each with the side ``name`` is on ('left' or 'right').

    Recognised spellings: ``left_x``/``right_x``, ``LeftX``/``RightX``, ``x_left``, ``x.L``/``x.R``,
    ``x_l``/``x_r``, ``x-L``, ``L_x``/``R_x``, ``LShoulder``/``RShoulder``, ``lhumerus``/``rhumerus``.
    The caller keeps a candidate only when the mirrored name exists in the rig.
    """
    candidates: list[tuple[str, str]] = []
    for left, right in (("left", "right"), ("Left", "Right"), ("LEFT", "RIGHT")):
        if left in name:
            candidates.append((name.replace(left, right), "left"))
        if right in name:
            candidates.append((name.replace(right, left), "right"))
    m = re.fullmatch(r"(.*[._\-\s])([LlRr])", name)  # suffix: hand.L, hand_r, hand-L
    if m:
        side = m.group(2)
        other = {"L": "R", "R": "L", "l": "r", "r": "l"}[side]
        candidates.append((m.group(1) + other, "left" if side in "Ll" else "right"))
    m = re.fullmatch(r"([LlRr])([._\-\s]?)(.+)", name)  # prefix: L_hand, LShoulder, lhumerus
    if m:
        side = m.group(1)
        other = {"L": "R", "R": "L", "l": "r", "r": "l"}[side]
        candidates.append((other + m.group(2) + m.group(3), "left" if side in "Ll" else "right"))
    return candidates


def detect_symmetry(joint_names: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Left/right joint pairs ``(left, right)`` found from the joints' names.

    A pair is made only when a name's mirrored spelling is also a joint of the rig, and each joint is in at most
    one pair.
    """
    index = {n: i for i, n in enumerate(joint_names)}
    paired: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for i, name in enumerate(joint_names):
        if i in paired:
            continue
        for mirrored, side in _swap_side(name):
            j = index.get(mirrored)
            if j is None or j == i or j in paired:
                continue
            pairs.append((i, j) if side == "left" else (j, i))
            paired.update((i, j))
            break
    return tuple(sorted(pairs))


def _as_edge_array(edges, n_joints: int, rig_name: str) -> np.ndarray:
    try:
        arr = np.asarray(edges if edges is not None else [], dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise RigError(f"rig {rig_name!r}: edges must be pairs of joint indices ({exc})") from None
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise RigError(f"rig {rig_name!r}: edges must have shape (E, 2), got {arr.shape}")
    whole = np.isfinite(arr) & (arr == np.round(arr)) & (np.abs(arr) < 2**53)
    if not whole.all():
        bad = int(np.flatnonzero(~whole.all(1))[0])
        raise RigError(f"rig {rig_name!r}: edge {bad} {tuple(arr[bad])} is not a pair of integer joint indices")
    return arr.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Rig:
    """A skeleton: joint names, undirected edges, optional parents, and left/right pairs.

    Build one with :meth:`from_edges` or :meth:`from_parents` (both validate), or take a standard layout from
    :func:`lfm_engine.layouts.get_rig`.

    Attributes:
        name: a short identifier, e.g. ``"coco17"``.
        joint_names: J unique, non-empty names.
        edges: E pairs of joint indices; ``(parent, child)`` when ``parents`` is set.
        parents: J parent indices (-1 for a root) when the edges form a forest, else None.
        symmetry: left/right pairs ``(left, right)``; each joint is in at most one pair.
        category: what the rig describes ("human", "hand", "face", "quadruped", "object", ...).
    """

    name: str
    joint_names: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    parents: tuple[int, ...] | None = None
    symmetry: tuple[tuple[int, int], ...] = ()
    category: str = "unknown"
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        names = self.joint_names
        if len(names) == 0:
            raise RigError(f"rig {self.name!r} has no joints")
        for i, n in enumerate(names):
            if not isinstance(n, str) or not n.strip():
                raise RigError(f"rig {self.name!r}: joint {i} has an empty or non-text name {n!r}")
        index: dict[str, int] = {}
        for i, n in enumerate(names):
            if n in index:
                raise RigError(f"rig {self.name!r}: duplicate joint name {n!r} at indices {index[n]} and {i}")
            index[n] = i
        if len(names) < 2:
            raise RigError(
                f"rig {self.name!r} has only one joint ({names[0]!r}); a rig needs at least 2 joints (one bone)"
            )
        object.__setattr__(self, "_index", index)
        J = len(names)
        seen: dict[tuple[int, int], int] = {}
        for k, (a, b) in enumerate(self.edges):
            for v in (a, b):
                if not 0 <= v < J:
                    raise RigError(
                        f"rig {self.name!r}: edge {k} ({a}, {b}) refers to joint {v}, but the rig has {J} joints "
                        f"(indices 0..{J - 1})"
                    )
            if a == b:
                raise RigError(f"rig {self.name!r}: edge {k} ({a}, {b}) is a self loop on joint {names[a]!r}")
            key = (min(a, b), max(a, b))
            if key in seen:
                raise RigError(
                    f"rig {self.name!r}: edge {k} ({a}, {b}) duplicates edge {seen[key]} ({names[a]!r} - {names[b]!r})"
                )
            seen[key] = k
        if self.parents is not None:
            _check_parents(self.parents, names, self.name)
            for k, (a, b) in enumerate(self.edges):
                if self.parents[b] != a:
                    raise RigError(
                        f"rig {self.name!r}: edge {k} ({a}, {b}) is not (parent, child) for the parents given"
                    )
            if len(self.edges) != sum(p >= 0 for p in self.parents):
                raise RigError(f"rig {self.name!r}: the edges do not match the parents list")
        used: dict[int, int] = {}
        for k, (left, right) in enumerate(self.symmetry):
            if left == right:
                raise RigError(f"rig {self.name!r}: left/right pair {k} pairs joint {names[left]!r} with itself")
            for v in (left, right):
                if not 0 <= v < J:
                    raise RigError(f"rig {self.name!r}: left/right pair {k} ({left}, {right}) refers to joint {v}")
                if v in used:
                    raise RigError(f"rig {self.name!r}: joint {names[v]!r} is in left/right pairs {used[v]} and {k}")
                used[v] = k

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edges(
        cls,
        joint_names: Sequence[str],
        edges,
        *,
        name: str = "custom",
        symmetry: Iterable[tuple[int, int]] | None = None,
        category: str = "unknown",
        root: int | str | None = None,
    ) -> Rig:
        """A rig from joint names and undirected edges ``(E, 2)``.

        When the edges form a forest, parents are derived by breadth-first search from ``root`` (default: the
        first joint named like a pelvis or root, else the graph's centre) and the edges are re-oriented as
        ``(parent, child)``. ``symmetry=None`` detects left/right pairs from the names.
        """
        names = tuple(joint_names)
        arr = _as_edge_array(edges, len(names), name)
        pairs = tuple((int(a), int(b)) for a, b in arr)
        rig = cls(name, names, pairs, None, _symmetry(names, symmetry), category)  # validates edges
        parents = _forest_parents(len(names), pairs, _root_index(rig, root))
        if parents is None:
            return rig
        oriented = tuple((parents[b], b) if parents[b] == a else (parents[a], a) for a, b in pairs)
        return cls(name, names, oriented, parents, rig.symmetry, category)

    @classmethod
    def from_parents(
        cls,
        joint_names: Sequence[str],
        parents: Sequence[int],
        *,
        name: str = "custom",
        symmetry: Iterable[tuple[int, int]] | None = None,
        category: str = "unknown",
    ) -> Rig:
        """A rig from joint names and a parents list (-1 marks a root); edges are ``(parent, child)``."""
        names = tuple(joint_names)
        try:
            par = tuple(int(p) for p in parents)
            whole = all(p == q for p, q in zip(parents, par, strict=True))
        except (TypeError, ValueError, OverflowError) as exc:
            raise RigError(f"rig {name!r}: parents must be integers ({exc})") from None
        if not whole:
            raise RigError(f"rig {name!r}: parents must be whole numbers, got {list(parents)[:10]}")
        if len(par) != len(names):
            raise RigError(f"rig {name!r}: {len(par)} parents given for {len(names)} joints")
        if len(names) >= 1:
            _check_parents(par, names, name)
        edges = tuple((p, j) for j, p in enumerate(par) if p >= 0)
        return cls(name, names, edges, par, _symmetry(names, symmetry), category)

    @classmethod
    def from_dict(cls, d: dict) -> Rig:
        """Inverse of :meth:`to_dict`."""
        if d.get("parents") is not None:
            return cls.from_parents(
                d["joint_names"], d["parents"], name=d.get("name", "custom"),
                symmetry=d.get("symmetry"), category=d.get("category", "unknown"),
            )  # fmt: skip
        return cls.from_edges(
            d["joint_names"], d.get("edges", []), name=d.get("name", "custom"),
            symmetry=d.get("symmetry"), category=d.get("category", "unknown"),
        )  # fmt: skip

    def to_dict(self) -> dict:
        """A JSON-serialisable description."""
        return {
            "name": self.name,
            "category": self.category,
            "joint_names": list(self.joint_names),
            "edges": [list(e) for e in self.edges],
            "parents": None if self.parents is None else list(self.parents),
            "symmetry": [list(p) for p in self.symmetry],
        }

    # ------------------------------------------------------------------ queries
    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def __len__(self) -> int:
        return len(self.joint_names)

    def __repr__(self) -> str:
        kind = "tree" if self.parents is not None else "graph"
        return f"Rig({self.name!r}, {self.num_joints} joints, {len(self.edges)} edges, {kind}, {self.category})"

    def index(self, joint: str | int) -> int:
        """The index of a joint given by name or index; raises :class:`RigError` naming the joint."""
        if isinstance(joint, int | np.integer):
            if not 0 <= joint < self.num_joints:
                raise RigError(f"rig {self.name!r} has no joint {joint} (it has {self.num_joints})")
            return int(joint)
        try:
            return self._index[joint]
        except KeyError:
            close = [n for n in self.joint_names if joint.lower() in n.lower() or n.lower() in joint.lower()]
            hint = f"; similar: {', '.join(close[:5])}" if close else ""
            raise RigError(f"unknown joint {joint!r} in rig {self.name!r}{hint}") from None

    def edge_array(self) -> np.ndarray:
        """Edges as an ``(E, 2)`` int64 array."""
        return np.asarray(self.edges, dtype=np.int64).reshape(-1, 2)

    def adjacency(self, self_loops: bool = True) -> np.ndarray:
        """Symmetric ``(J, J)`` bool adjacency, with the diagonal set when ``self_loops``."""
        return adjacency_from_edges(self.edge_array(), self.num_joints, self_loops)

    def tree_parents(self) -> tuple[int, ...]:
        """Parents of a spanning forest: ``parents`` for a tree, else a breadth-first spanning forest."""
        if self.parents is not None:
            return self.parents
        return _spanning_forest(self.num_joints, self.edges, _root_index(self, None))

    def sides(self) -> np.ndarray:
        """``(J,)`` int8: -1 for the left joint of each left/right pair, +1 for the right one, 0 otherwise.

        0 means "on the midline, or no side known"; the model reads it as one of three shared side vectors,
        which describes a joint's side without identifying it (see docs/MODEL.md).
        """
        side = np.zeros(self.num_joints, dtype=np.int8)
        for left, right in self.symmetry:
            side[left], side[right] = -1, 1
        return side

    def flip_permutation(self) -> np.ndarray:
        """``(J,)`` index array that swaps every left joint with its right partner (for mirroring data)."""
        perm = np.arange(self.num_joints)
        for left, right in self.symmetry:
            perm[left], perm[right] = right, left
        return perm

    def subset(self, joints: Sequence[int | str], name: str | None = None) -> Rig:
        """The rig restricted to ``joints`` (in that order), keeping the edges between kept joints."""
        idx = [self.index(j) for j in joints]
        if len(set(idx)) != len(idx):
            raise RigError(f"rig {self.name!r}: subset repeats a joint")
        new = {old: k for k, old in enumerate(idx)}
        edges = [(new[a], new[b]) for a, b in self.edges if a in new and b in new]
        sym = [(new[a], new[b]) for a, b in self.symmetry if a in new and b in new]
        return Rig.from_edges(
            [self.joint_names[i] for i in idx], edges, name=name or f"{self.name}_subset",
            symmetry=sym, category=self.category,
        )  # fmt: skip


def adjacency_from_edges(edges: np.ndarray, num_joints: int, self_loops: bool = True) -> np.ndarray:
    """Symmetric ``(J, J)`` bool adjacency from ``(E, 2)`` edges (indices must already be valid)."""
    adj = np.zeros((num_joints, num_joints), dtype=bool)
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    adj[e[:, 0], e[:, 1]] = True
    adj[e[:, 1], e[:, 0]] = True
    if self_loops:
        np.fill_diagonal(adj, True)
    return adj


def knn_edges(points: np.ndarray, k: int = 3) -> np.ndarray:
    """Edges of the symmetric k-nearest-neighbour graph of ``points``.

    Args:
        points: ``(J, D)`` positions; NaN rows (joints never seen) get no edges.
        k: neighbours per joint (capped at the number of other finite joints).

    Returns:
        ``(E, 2)`` int64 edges ``(a, b)`` with ``a < b``, each once.
    """
    pts = np.asarray(points, dtype=np.float64)
    finite = np.flatnonzero(np.isfinite(pts).all(axis=-1))
    if finite.size < 2 or k < 1:
        return np.zeros((0, 2), dtype=np.int64)
    p = pts[finite]
    d = np.linalg.norm(p[:, None] - p[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    kk = min(k, finite.size - 1)
    nn = np.argsort(d, axis=1, kind="stable")[:, :kk]  # (F, k)
    a = np.repeat(np.arange(finite.size), kk)
    b = nn.reshape(-1)
    pairs = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)
    pairs = np.unique(pairs, axis=0)
    return finite[pairs].astype(np.int64)


# ---------------------------------------------------------------------- helpers
def _symmetry(names: tuple[str, ...], symmetry) -> tuple[tuple[int, int], ...]:
    if symmetry is None:
        return detect_symmetry(names)
    return tuple((int(a), int(b)) for a, b in symmetry)


def _check_parents(parents: Sequence[int], names: Sequence[str], rig_name: str) -> None:
    J = len(names)
    for j, p in enumerate(parents):
        if p == j:
            raise RigError(f"rig {rig_name!r}: joint {j} {names[j]!r} is its own parent")
        if not -1 <= p < J:
            raise RigError(f"rig {rig_name!r}: joint {j} {names[j]!r} has parent {p}, outside -1..{J - 1}")
    if all(p >= 0 for p in parents):
        raise RigError(f"rig {rig_name!r}: the parents list has no root (-1); it must contain a cycle")
    state = [0] * J  # 0 unvisited, 1 on the current path, 2 done
    for start in range(J):
        path = []
        j = start
        while j >= 0 and state[j] == 0:
            state[j] = 1
            path.append(j)
            j = parents[j]
        if j >= 0 and state[j] == 1:
            cyc = [*path[path.index(j) :], j]
            raise RigError(f"rig {rig_name!r}: the parents form a cycle: " + " -> ".join(repr(names[c]) for c in cyc))
        for v in path:
            state[v] = 2


def neighbours(num_joints: int, edges) -> list[list[int]]:
    """Each joint's neighbours along ``edges`` (``(E, 2)`` index pairs, undirected): ``J`` lists of indices."""
    nbrs: list[list[int]] = [[] for _ in range(num_joints)]
    for a, b in edges:
        nbrs[a].append(b)
        nbrs[b].append(a)
    return nbrs


def _root_index(rig: Rig, root: int | str | None) -> int:
    if root is not None:
        return rig.index(root)
    lowered = [n.lower() for n in rig.joint_names]
    for cand in ROOT_NAMES:
        if cand in lowered:
            return lowered.index(cand)
    # The centre of the largest component: the joint with the smallest eccentricity (ties: lowest index).
    nbrs = neighbours(rig.num_joints, rig.edges)
    best, best_ecc, best_size = 0, None, -1
    for s in range(rig.num_joints):
        dist = _bfs(nbrs, s)
        size, ecc = len(dist), max(dist.values())
        if size > best_size or (size == best_size and ecc < best_ecc):
            best, best_ecc, best_size = s, ecc, size
    return best


def _bfs(nbrs: list[list[int]], start: int) -> dict[int, int]:
    dist = {start: 0}
    q = deque([start])
    while q:
        v = q.popleft()
        for w in nbrs[v]:
            if w not in dist:
                dist[w] = dist[v] + 1
                q.append(w)
    return dist


def _spanning_forest(num_joints: int, edges, root: int) -> tuple[int, ...]:
    nbrs = neighbours(num_joints, edges)
    parents = [-2] * num_joints
    for start in [root, *range(num_joints)]:
        if parents[start] != -2:
            continue
        parents[start] = -1
        q = deque([start])
        while q:
            v = q.popleft()
            for w in nbrs[v]:
                if parents[w] == -2:
                    parents[w] = v
                    q.append(w)
    return tuple(parents)


def _forest_parents(num_joints: int, edges, root: int) -> tuple[int, ...] | None:
    """Parents when ``edges`` form a forest (no cycle), else None."""
    parents = _spanning_forest(num_joints, edges, root)
    n_components = sum(p == -1 for p in parents)
    if len(edges) != num_joints - n_components:
        return None
    return parents
