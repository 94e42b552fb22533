"""Optimal assignment (the linear sum assignment problem) in pure numpy.

:func:`linear_sum_assignment` solves ``min sum_k cost[rows[k], cols[k]]`` over one-to-one matchings of a rectangular
cost matrix, exactly, with the shortest augmenting path method of Jonker and Volgenant (1987) as laid out by Crouse
(2016, "On implementing 2D rectangular assignment algorithms"), the method behind
``scipy.optimize.linear_sum_assignment``. Blender's Python ships numpy but not scipy, hence this module; the tests
compare it with scipy.

:func:`assign_with_threshold` adds "no match": a pair is only made when it is worth ``max_cost`` or less, so rows and
columns may stay unmatched.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def linear_sum_assignment(cost: np.ndarray, maximize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The minimum-cost complete matching of the smaller side of ``cost`` into the larger.

    Args:
        cost: ``(n, m)`` finite costs (float); ``n`` and ``m`` may differ.
        maximize: maximise the total instead.

    Returns:
        ``(rows, cols)``: two int64 arrays of length ``min(n, m)``, ``rows`` increasing, like scipy's.

    Raises:
        InputError: ``cost`` is not 2-D or holds NaN or infinite values.
    """
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2:
        raise InputError(f"the cost matrix must be 2-D, got shape {c.shape}")
    if not np.isfinite(c).all():
        raise InputError("the cost matrix holds NaN or infinite values; use a large finite cost for forbidden pairs")
    if c.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if maximize:
        c = -c
    transposed = c.shape[0] > c.shape[1]
    if transposed:
        c = c.T
    c = c - c.min()  # non-negative, same optimum
    col4row = _shortest_augmenting_paths(c)
    rows = np.arange(c.shape[0], dtype=np.int64)
    if transposed:
        order = np.argsort(col4row)
        return col4row[order].astype(np.int64), rows[order]
    return rows, col4row.astype(np.int64)


def _shortest_augmenting_paths(c: np.ndarray) -> np.ndarray:
    """``(n,)`` the column of each row in a minimum-cost matching of ``c`` ``(n, m)``, ``n <= m``, ``c >= 0``."""
    n, m = c.shape
    u = np.zeros(n)  # row potentials
    v = np.zeros(m)  # column potentials
    col4row = np.full(n, -1, dtype=np.int64)
    row4col = np.full(m, -1, dtype=np.int64)
    for cur in range(n):
        shortest = np.full(m, np.inf)
        path = np.full(m, -1, dtype=np.int64)
        in_rows = np.zeros(n, dtype=bool)
        in_cols = np.zeros(m, dtype=bool)
        i, min_val, sink = cur, 0.0, -1
        while sink < 0:
            in_rows[i] = True
            remaining = ~in_cols
            reduced = min_val + c[i] - u[i] - v  # (m,)
            better = remaining & (reduced < shortest)
            shortest[better] = reduced[better]
            path[better] = i
            cand = np.flatnonzero(remaining)
            vals = shortest[cand]
            low = vals.min()
            ties = cand[vals == low]
            free = ties[row4col[ties] < 0]  # prefer a free column among equals: shorter paths
            j = int(free[0] if free.size else ties[0])
            min_val = float(low)
            in_cols[j] = True
            if row4col[j] < 0:
                sink = j
            else:
                i = int(row4col[j])
        u[cur] += min_val
        others = in_rows.copy()
        others[cur] = False
        u[others] += min_val - shortest[col4row[others]]
        v[in_cols] -= min_val - shortest[in_cols]
        j = sink
        while True:  # augment along the path back to ``cur``
            i = int(path[j])
            row4col[j] = i
            col4row[i], j = j, int(col4row[i])
            if i == cur:
                break
    return col4row


def assign_with_threshold(cost: np.ndarray, max_cost: float) -> tuple[np.ndarray, np.ndarray]:
    """The minimum-cost matching of rows to columns where any row or column may stay unmatched.

    A pair ``(i, j)`` can only be made when ``cost[i, j] <= max_cost``; among the matchings of such pairs, the one
    chosen minimises ``sum(matched costs) + max_cost * (number of unmatched rows + unmatched columns) / 2``, i.e.
    every pair made saves ``max_cost - cost[i, j]``. Non-finite costs mean "never".

    Solved exactly as one square assignment of size ``n + m``: the real ``(n, m)`` block, a dummy column per row and
    a dummy row per column (cost ``max_cost / 2`` for the row's own dummy, forbidden otherwise), and zeros between
    the dummies.

    Returns:
        ``(rows, cols)`` of the pairs made, ``rows`` increasing.
    """
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2:
        raise InputError(f"the cost matrix must be 2-D, got shape {c.shape}")
    if not np.isfinite(max_cost):
        raise InputError(f"max_cost must be finite, got {max_cost!r}")
    n, m = c.shape
    allowed = np.isfinite(c) & (c <= max_cost)
    finite = c[allowed]
    big = 1.0 + 4.0 * (abs(float(max_cost)) + (np.abs(finite).max() if finite.size else 0.0)) * (n + m + 1)
    half = 0.5 * float(max_cost)
    full = np.zeros((n + m, m + n))
    full[:n, :m] = np.where(allowed, c, big)
    full[:n, m:] = np.where(np.eye(n, dtype=bool), half, big)
    full[n:, :m] = np.where(np.eye(m, dtype=bool), half, big)
    rows, cols = linear_sum_assignment(full)
    keep = (rows < n) & (cols < m)
    rows, cols = rows[keep], cols[keep]
    ok = allowed[rows, cols]
    return rows[ok], cols[ok]


__all__ = ["assign_with_threshold", "linear_sum_assignment"]
