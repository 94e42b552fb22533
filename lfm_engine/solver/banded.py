"""Symmetric positive definite block-banded systems in numpy: Cholesky factorisation and solves.

The clip solver's normal equations have one block of unknowns per frame (time-major order) and terms that couple
frames at most ``w`` apart (``w = 2`` for an acceleration term), so the matrix is block banded::

    A = [[D0,  E1_0^T, E2_0^T, 0,     ...],
         [E1_0, D1,    E1_1^T, E2_1^T, ...],
         [E2_0, E1_1,  D2,     E1_2^T, ...],
         ...]

with ``D[t] = A[t, t]`` ``(n, n)`` and ``E[k-1][t] = A[t + k, t]`` (the block ``k`` frames below the diagonal).
:func:`factor` computes the block Cholesky factor ``A = L L^T`` (``L`` lower, block banded with the same width,
no fill outside the band) row by row, and :func:`solve` applies it to right-hand sides. The cost is
``O(T w^2 n^3)`` flops with one Python step per frame (``T`` steps of a few small matrix products), which keeps it
fast for the solver's ``n`` = number of joints. (Block cyclic reduction, which batches the small solves of every
other frame into one numpy call, was measured slower here: on 2-frame superblocks it does several times the
flops.) :func:`solve_pentadiagonal` solves many scalar pentadiagonal systems at once (the 2D tracks).

numpy has no triangular solve, so the factor keeps the inverses of its diagonal blocks (``n x n``, well
conditioned for the damped systems the solver builds) and applies them by matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import LFMError


class NotPositiveDefinite(LFMError):
    """A block-banded system given to :func:`factor` is not positive definite (a pivot block failed)."""


@dataclass(frozen=True, eq=False)
class BandedFactor:
    """``A = L L^T`` of a block-banded SPD matrix (see the module docs).

    Attributes:
        inv_diag: ``(T, n, n)`` inverses of the lower-triangular diagonal blocks ``L[t, t]^-1``.
        off: ``w`` arrays, ``off[k-1]`` ``(T - k, n, n)`` holding ``L[t + k, t]``.
    """

    inv_diag: np.ndarray
    off: tuple[np.ndarray, ...]

    @property
    def num_blocks(self) -> int:
        return self.inv_diag.shape[0]


def factor(diag: np.ndarray, off: list[np.ndarray] | tuple[np.ndarray, ...]) -> BandedFactor:
    """Block Cholesky factor of the SPD block-banded matrix with diagonal blocks ``diag`` and sub-diagonal blocks
    ``off`` (see the module docs).

    Args:
        diag: ``(T, n, n)`` symmetric diagonal blocks.
        off: ``w`` arrays; ``off[k-1]`` is ``(T - k, n, n)``: ``A[t + k, t]`` (empty for ``k >= T``), or
            ``(T - k, n)``: the diagonals of diagonal blocks (the clip solver's: its temporal terms couple each joint
            only with itself).

    Raises:
        NotPositiveDefinite: a pivot block is not positive definite.
    """
    D = np.asarray(diag, dtype=np.float64)
    T = D.shape[0]
    w = len(off)
    E = [np.asarray(e, dtype=np.float64) for e in off]
    n = D.shape[-1]
    Ld = np.empty_like(D)  # inverses of the diagonal factors
    Lo = [np.empty((max(T - k, 0), n, n)) for k in range(1, w + 1)]
    cholesky, inv = np.linalg.cholesky, np.linalg.inv
    for i in range(T):
        acc = D[i].copy()
        # L[i, j] for j = i - w .. i - 1, from the farthest: L[i,j] = (A[i,j] - sum_l L[i,l] L[j,l]^T) L[j,j]^-T
        for k in range(min(w, i), 0, -1):
            j = i - k
            a = E[k - 1][j]
            inner = range(k + 1, min(w, i) + 1)  # l = i - m, between i - w and j - 1
            if a.ndim == 1:
                if not inner:  # a diagonal block alone: scale the rows
                    lij = a[:, None] * Ld[j].T
                    Lo[k - 1][j] = lij
                    acc -= lij @ lij.T
                    continue
                a = np.diag(a)
            for m in inner:
                a = a - Lo[m - 1][i - m] @ Lo[m - k - 1][i - m].T
            lij = a @ Ld[j].T
            Lo[k - 1][j] = lij
            acc -= lij @ lij.T
        try:
            Ld[i] = inv(cholesky(acc))
        except np.linalg.LinAlgError:
            raise NotPositiveDefinite(f"block {i} of {T} is not positive definite") from None
    return BandedFactor(Ld, tuple(Lo))


def solve(fac: BandedFactor, rhs: np.ndarray) -> np.ndarray:
    """``A^-1 rhs`` for the factor of :func:`factor`.

    Args:
        rhs: ``(T, n, k)`` (``k`` right-hand sides at once).

    Returns:
        ``(T, n, k)`` float64.
    """
    Ld, Lo = fac.inv_diag, fac.off
    T = Ld.shape[0]
    w = len(Lo)
    y = np.array(rhs, dtype=np.float64)
    for i in range(T):  # forward: L y = b
        acc = y[i]
        for k in range(1, min(w, i) + 1):
            acc = acc - Lo[k - 1][i - k] @ y[i - k]
        y[i] = Ld[i] @ acc
    for i in range(T - 1, -1, -1):  # backward: L^T x = y
        acc = y[i]
        for k in range(1, min(w, T - 1 - i) + 1):
            acc = acc - Lo[k - 1][i].T @ y[i + k]
        y[i] = Ld[i].T @ acc
    return y


def solve_pentadiagonal(a0: np.ndarray, a1: np.ndarray, a2: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``A^-1 rhs`` for many scalar SPD pentadiagonal systems at once (blocks of size 1), by ``L D L^T``.

    Args:
        a0: ``(..., T)`` the diagonals; a1: ``(..., T - 1)`` ``A[t + 1, t]``; a2: ``(..., T - 2)`` ``A[t + 2, t]``.
        rhs: ``(..., T)``.

    Returns:
        ``(..., T)`` float64. Each Python step works on all the systems together (the 2D tracks of every joint).
    """
    y = np.array(rhs, dtype=np.float64)
    shape = y.shape[:-1]
    a0 = np.broadcast_to(np.asarray(a0, dtype=np.float64), y.shape)
    T = a0.shape[-1]

    def padded(a, k):  # A[t + k, t] for t < T - k, then zeros
        a = np.broadcast_to(np.asarray(a, dtype=np.float64), (*shape, max(T - k, 0)))
        return np.concatenate([a, np.zeros((*shape, 3))], -1)

    a1, a2 = padded(a1, 1), padded(a2, 2)
    d = np.empty_like(a0)
    l1 = np.zeros((*a0.shape[:-1], T + 1))  # L[t + 1, t], padded so that t - 1 = -1 reads a zero
    l2 = np.zeros((*a0.shape[:-1], T + 2))  # L[t + 2, t]
    for t in range(T):
        dt = a0[..., t] - l1[..., t - 1] ** 2 * d[..., t - 1] - l2[..., t - 2] ** 2 * d[..., t - 2] if t >= 2 else (
            a0[..., t] - (l1[..., t - 1] ** 2 * d[..., t - 1] if t >= 1 else 0.0))  # fmt: skip
        if not np.all(dt > 0):
            raise NotPositiveDefinite(f"pivot {t} of {T} is not positive")
        d[..., t] = dt
        l1[..., t] = (a1[..., t] - (l2[..., t - 1] * l1[..., t - 1] * d[..., t - 1] if t >= 1 else 0.0)) / dt
        l2[..., t] = a2[..., t] / dt
    for t in range(1, T):
        y[..., t] -= l1[..., t - 1] * y[..., t - 1] + (l2[..., t - 2] * y[..., t - 2] if t >= 2 else 0.0)
    y /= d
    for t in range(T - 2, -1, -1):
        y[..., t] -= l1[..., t] * y[..., t + 1] + (l2[..., t] * y[..., t + 2] if t + 2 < T else 0.0)
    return y


def matvec(diag: np.ndarray, off, x: np.ndarray) -> np.ndarray:
    """``A @ x`` for the block-banded matrix (``x`` ``(T, n, k)``); for tests and residual checks."""
    out = np.asarray(diag) @ x
    for k, e in enumerate(off, start=1):
        if e.shape[0] == 0:
            continue
        if e.ndim == 2:
            e = e[:, :, None] * np.eye(e.shape[-1])
        out[k:] += e @ x[:-k]
        out[:-k] += np.swapaxes(e, -1, -2) @ x[k:]
    return out


def to_dense(diag: np.ndarray, off) -> np.ndarray:
    """The ``(T n, T n)`` dense matrix (no batch dimensions); for tests."""
    T, n = diag.shape[0], diag.shape[1]
    A = np.zeros((T * n, T * n))
    for t in range(T):
        A[t * n : (t + 1) * n, t * n : (t + 1) * n] = diag[t]
    for k, e in enumerate(off, start=1):
        if e.ndim == 2:
            e = e[:, :, None] * np.eye(n)
        for t in range(T - k):
            A[(t + k) * n : (t + k + 1) * n, t * n : (t + 1) * n] = e[t]
            A[t * n : (t + 1) * n, (t + k) * n : (t + k + 1) * n] = e[t].T
    return A
