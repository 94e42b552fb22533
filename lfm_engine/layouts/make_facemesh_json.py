"""Write ``facemesh.json``: MediaPipe FaceMesh connections and left/right mirror pairs, taken from mediapipe.

Run once, by hand, with the project's virtualenv (mediapipe and scipy installed)::

    .venv/bin/python lfm_engine/layouts/make_facemesh_json.py

The layout registry (:mod:`lfm_engine.layouts`) reads the JSON this writes, so the engine never imports
mediapipe. What the JSON holds:

* ``connections``: the edge lists of ``mediapipe.python.solutions.face_mesh_connections`` (lips, eyes,
  eyebrows, face oval, nose, irises), each edge ``[a, b]`` with ``a < b``, sorted.
* ``mirror_pairs``: ``[left, right]`` landmark pairs of the 468-point mesh that mirror each other across the
  face's midline, ``left`` on the subject's left (the side of mediapipe's ``FACEMESH_LEFT_EYE``), and
  ``midline``: the 28 landmarks that mirror onto themselves.

How the mirror pairs are found (nothing is guessed or typed in by hand): mediapipe's
``FACEMESH_TESSELATION`` lists the canonical mesh's 852 triangles. A left/right mirror maps triangles to
triangles, so starting from one triangle on the right eye's contour and each of its candidate images on the
left eye's contour, the map is grown triangle by triangle and then refined by a linear assignment that keeps
as many mesh edges as possible.
The best map must keep all but a handful of the mesh's 1322 edges (the canonical mesh has three quads whose
diagonals are not mirrored), be an involution, beat every other candidate clearly, and map mediapipe's own
``FACEMESH_LEFT_EYE``/``LEFT_EYEBROW``/``LEFT_IRIS`` contours onto the right ones and the lips, face oval and
nose onto themselves; the script stops with an error otherwise. (Checked once more, by hand, against the
FaceMesh model itself: landmarks found on a horizontally flipped photo land within 3 px, median 0.6 px, of
their mirror partners found on the original 512 px photo.)
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("facemesh.json")
NUM_MESH = 468
#: Names of the edge lists copied from mediapipe, and the name each gets in the JSON.
CONNECTION_SETS = {
    "FACEMESH_LIPS": "lips",
    "FACEMESH_LEFT_EYE": "left_eye",
    "FACEMESH_LEFT_EYEBROW": "left_eyebrow",
    "FACEMESH_RIGHT_EYE": "right_eye",
    "FACEMESH_RIGHT_EYEBROW": "right_eyebrow",
    "FACEMESH_FACE_OVAL": "face_oval",
    "FACEMESH_NOSE": "nose",
    "FACEMESH_LEFT_IRIS": "left_iris",
    "FACEMESH_RIGHT_IRIS": "right_iris",
}
#: A mirror may break this many mesh edges (the canonical mesh's three non-mirrored quad diagonals).
MAX_BROKEN_EDGES = 12


def _sorted_edges(edges) -> list[list[int]]:
    return sorted(sorted((int(a), int(b))) for a, b in edges)


def _triangles(fmc) -> list[tuple[int, int, int]]:
    """The mesh's triangles: ``FACEMESH_TESSELATION`` lists them as consecutive edge triples in its source."""
    tree = ast.parse(inspect.getsource(fmc))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "FACEMESH_TESSELATION":
            edges = [tuple(ast.literal_eval(e)) for e in node.value.args[0].elts]
            break
    else:
        raise SystemExit("FACEMESH_TESSELATION not found in mediapipe's face_mesh_connections source")
    if {frozenset(e) for e in edges} != {frozenset(e) for e in fmc.FACEMESH_TESSELATION}:
        raise SystemExit("the parsed tesselation differs from FACEMESH_TESSELATION")
    tris = []
    for k in range(0, len(edges), 3):
        (a, b), (b2, c), (c2, a2) = edges[k : k + 3]
        if (b, c, a) != (b2, c2, a2):
            raise SystemExit(f"tesselation entries {k}..{k + 2} are not one triangle: {edges[k : k + 3]}")
        tris.append((a, b, c))
    return tris


class _Mesh:
    def __init__(self, tris):
        self.apex: dict[frozenset, list[int]] = defaultdict(list)  # edge -> opposite vertices
        for t in tris:
            for k in range(3):
                self.apex[frozenset((t[k], t[(k + 1) % 3]))].append(t[(k + 2) % 3])
        self.adj = np.zeros((NUM_MESH, NUM_MESH), dtype=bool)
        for e in self.apex:
            a, b = tuple(e)
            self.adj[a, b] = self.adj[b, a] = True

    def grow(self, m: dict[int, int]) -> dict[int, int]:
        """Extend a partial map across triangles: an edge's far apex maps to its image edge's far apex."""
        for _ in range(200):
            votes: dict[int, Counter] = defaultdict(Counter)
            for e, cs in self.apex.items():
                a, b = tuple(e)
                if len(cs) != 2 or a not in m or b not in m:
                    continue
                image = self.apex.get(frozenset((m[a], m[b])), [])
                if len(image) != 2:
                    continue
                for c, d in ((cs[0], cs[1]), (cs[1], cs[0])):
                    if c in m and d not in m and m[c] in image:
                        votes[d][image[0] if image[1] == m[c] else image[1]] += 1
            new = dict(m)
            for v, cnt in votes.items():
                (best, n), *rest = [*cnt.most_common(2), (None, 0)]
                if n > rest[0][1]:
                    new[v] = best
            if new == m:
                return m
            m = new
        return m

    def refine(self, m: dict[int, int]) -> np.ndarray:
        """The permutation keeping the most edges given the current map, repeated until it settles."""
        from scipy.optimize import linear_sum_assignment

        a = self.adj.astype(float)
        perm = np.full(NUM_MESH, -1)
        for v, t in m.items():
            perm[v] = t
        for _ in range(30):
            p = np.zeros((NUM_MESH, NUM_MESH))
            known = perm >= 0
            p[np.flatnonzero(known), perm[known]] = 1.0
            rows, cols = linear_sum_assignment(-(a @ p @ a))  # [v, t]: neighbours of v whose image touches t
            new = cols[np.argsort(rows)]
            if np.array_equal(new, perm):
                break
            perm = new
        return perm

    def kept_edges(self, perm: np.ndarray) -> int:
        return int((self.adj & self.adj[perm][:, perm]).sum() // 2)


def _edge_set(edges) -> set[frozenset]:
    return {frozenset(e) for e in edges}


def mirror_pairs(fmc) -> tuple[list[list[int]], list[int], dict]:
    """``(pairs, midline, stats)``: the mesh's left/right mirror, found and checked as the module says."""
    mesh = _Mesh(_triangles(fmc))
    right_eye, left_eye = _edge_set(fmc.FACEMESH_RIGHT_EYE), _edge_set(fmc.FACEMESH_LEFT_EYE)
    candidates: dict[tuple[int, ...], int] = {}
    for seed_edge in sorted(right_eye, key=sorted)[:2]:
        a, b = sorted(seed_edge)
        (c,) = mesh.apex[seed_edge]  # an eye contour edge borders the eye's hole: one triangle
        for image_edge in sorted(left_eye, key=sorted):
            x, y = sorted(image_edge)
            (z,) = mesh.apex[image_edge]
            for img in ((x, y, z), (y, x, z)):
                perm = mesh.refine(mesh.grow({a: img[0], b: img[1], c: img[2]}))
                candidates[tuple(int(v) for v in perm)] = mesh.kept_edges(perm)
    ranked = sorted(candidates.items(), key=lambda kv: -kv[1])
    perm, kept = np.array(ranked[0][0]), ranked[0][1]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    n_edges = int(mesh.adj.sum() // 2)

    def check(ok: bool, what: str):
        if not ok:
            raise SystemExit(f"mirror check failed: {what}")

    check(n_edges - kept <= MAX_BROKEN_EDGES, f"the best map keeps only {kept} of {n_edges} edges")
    check(runner_up < kept - 100, f"no clear winner ({kept} vs {runner_up} edges kept)")
    check(np.array_equal(perm[perm], np.arange(NUM_MESH)), "the map is not an involution")

    def image(edges):
        return {frozenset((int(perm[a]), int(perm[b]))) for a, b in edges}

    for left, right in [("LEFT_EYE", "RIGHT_EYE"), ("LEFT_EYEBROW", "RIGHT_EYEBROW")]:
        check(image(getattr(fmc, "FACEMESH_" + left)) == _edge_set(getattr(fmc, "FACEMESH_" + right)), left)
    for same in ("LIPS", "FACE_OVAL", "NOSE"):
        edges = getattr(fmc, "FACEMESH_" + same)
        check(image(edges) == _edge_set(edges), f"{same} is not mapped onto itself")

    # Side of each pair: removing the midline must split the mesh into two halves, one holding the left eye.
    midline = [int(v) for v in np.flatnonzero(perm == np.arange(NUM_MESH))]
    left_eye_vertices = {v for e in left_eye for v in e}
    side = np.zeros(NUM_MESH, dtype=int)  # 1 left half, 2 right half
    start = next(iter(left_eye_vertices))
    stack, side[start] = [start], 1
    while stack:
        v = stack.pop()
        for w in np.flatnonzero(mesh.adj[v]):
            if side[w] == 0 and perm[w] != w:
                side[w] = 1
                stack.append(int(w))
    for v in range(NUM_MESH):
        if side[v] == 0 and perm[v] != v:
            side[v] = 2
    check(all(side[v] == 1 for v in left_eye_vertices), "the left eye is not on one side of the midline")
    check(all(side[v] != side[perm[v]] for v in range(NUM_MESH) if perm[v] != v), "a pair is on one side")
    pairs = sorted([v, int(perm[v])] for v in range(NUM_MESH) if side[v] == 1)
    stats = {"mesh_edges": n_edges, "edges_kept_by_mirror": kept, "runner_up_edges_kept": runner_up}
    return pairs, midline, stats


def main() -> None:
    import mediapipe
    from mediapipe.python.solutions import face_mesh_connections as fmc

    if mediapipe.__version__ != "0.10.21":
        print(f"note: mediapipe {mediapipe.__version__} is installed; the JSON was first made from 0.10.21")
    connections = {key: _sorted_edges(getattr(fmc, attr)) for attr, key in CONNECTION_SETS.items()}
    pairs, midline, stats = mirror_pairs(fmc)
    data = {
        "about": (
            "MediaPipe FaceMesh landmark connections (468-point mesh, 478 with the refined irises) and "
            "left/right mirror pairs, for lfm_engine.layouts. Generated by "
            "lfm_engine/layouts/make_facemesh_json.py; do not edit by hand."
        ),
        "source": {
            "package": "mediapipe",
            "version": mediapipe.__version__,
            "module": "mediapipe/python/solutions/face_mesh_connections.py",
            "copyright": "Copyright 2021 The MediaPipe Authors",
            "license": "Apache-2.0 (https://www.apache.org/licenses/LICENSE-2.0)",
        },
        "num_landmarks": NUM_MESH,
        "num_landmarks_with_irises": NUM_MESH + 10,
        "connections": connections,
        "mirror_pairs_note": (
            "[left, right] pairs of mesh landmarks 0..467 that mirror each other; left is the subject's "
            "left, the side of FACEMESH_LEFT_EYE. Derived from FACEMESH_TESSELATION's topology (see the "
            "generator's docstring); midline lists the landmarks that mirror onto themselves."
        ),
        "mirror_stats": stats,
        "mirror_pairs": pairs,
        "midline": midline,
    }
    # Lists of plain numbers on one line each: one edge or pair per line keeps the file short and readable.
    text = re.sub(r"\[[-\d,\s]*\]", lambda m: json.dumps(json.loads(m.group())), json.dumps(data, indent=1))
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(pairs)} mirror pairs, {len(midline)} midline landmarks, {stats}")


if __name__ == "__main__":
    main()
