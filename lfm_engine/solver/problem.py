"""The clip's 3D least-squares problem: every joint's depth along its camera ray, and the bone lengths.

Unknowns and frames
-------------------
Camera world (Blender axes, metres, the camera at the origin looking along +Y). Joint ``j`` of frame ``t`` lies on
the ray through its 2D track point (:mod:`lfm_engine.solver.track2d`): ``X[t, j] = d[t, j] * R[t, j]`` with
``R = ((u - cx) / f, 1, -(v - cy) / f)``, so ``d`` is its depth (world Y) and the point reprojects onto the track
whatever ``d`` is. The unknowns are ``d`` ``(T, J)``, ordered time-major, and one length ``L[b]`` per bone
``b = (child, parent)`` of the rig's tree (``B`` of them, shared by the clip).

Cost
----
Each term is a residual divided by its scale (:class:`Weights`, metres and seconds), squared and summed::

    shape     rho((P (d_t - dl_t))_j / depth_shape)           the lifted depth relative to the frame's mean depth
    distance  rho((mean_j d_tj - mean_j dl_tj) / depth_distance)   the lifted distance of the frame (weaker)
    accel     |A_t| fps^2 / accel                                  every joint, all three axes (below)
    bone      (|X_tc - X_tp| - L_b) / bone
    contact   |X_{t+1,j} - X_{t,j}| fps / contact_speed           sole joints of a foot planted in t and t + 1
    ground    (n . X_tj - c - h_j) / ground                       sole joints of planted feet on the plane
    floor     min(0, n . X_tj - c) / penetration                   no joint under the plane

The acceleration ``X_{t-1} - 2 X_t + X_{t+1}`` of ``X = d R`` is ``A_t + d_t (R_{t-1} - 2 R_t + R_{t+1})`` with
``A_t = (d_{t+1} - d_t) R_{t+1} - (d_t - d_{t-1}) R_{t-1}``, the part due to the depth's changes (along the ray
when the ray is still). The other part is the track's own acceleration at a fixed depth, which the 2D tracks have
already made smooth (their acceleration term, in pixels); it cannot be changed here, and penalising it again would
only reward moving the whole clip towards the camera (it shrinks with the depth), so only ``A_t`` is penalised.

(``dl`` the lifted depth, ``P`` the centring over the frame's joints, ``rho`` Huber's loss with threshold
:data:`HUBER` scales, ``n . X = c`` the ground plane, ``h_j`` a sole joint's height over the ground.) It is solved
by Levenberg-Marquardt with the clip's mean depth held where it starts (a linear constraint: one camera cannot tell
the subject's size from its distance, the pipeline sets the scale from the subject's height, and every term made
noisy by the 2D noise, which grows with the depth, would otherwise pull the whole clip towards the camera). The
bone term's scale may be given per frame: the 2D noise alone makes a bone's length jitter by about
``sigma_px * depth / f``, and asking less of it would turn that jitter into depth jitter.

The normal matrix over ``d`` is block banded (one ``J x J`` block per frame, frames coupled at most two apart by the
acceleration), bordered by the ``B`` lengths and the constraint: :mod:`lfm_engine.solver.banded` factors the band
and the border is solved on its Schur complement, ``O(T J^3)`` per iteration in numpy alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import banded

#: Huber threshold of the depth priors, in their scales.
HUBER = 2.0
#: Levenberg-Marquardt's initial damping (times the normal matrix's diagonal). Near the solution the bone terms'
#: curvature (short face bones) makes undamped steps overshoot.
LAMBDA_START = 1e-3


@dataclass(frozen=True)
class Weights:
    """Scales of the cost's terms (see the module docs) for a 1.75 m subject; :meth:`scaled` for other sizes.

    Attributes:
        depth_shape: metres; the lifted depth of a joint relative to its frame's mean depth.
        depth_distance: metres; the lifted mean depth of a frame.
        accel: m/s^2; joint acceleration (lower: smoother; about ``sqrt(accel / noise)`` rad/s cut-off).
        bone: metres; a bone's length from its clip-wide length.
        contact_speed: m/s; a planted sole joint's speed.
        ground: metres; a planted sole joint from the ground. penetration: metres; a joint under the ground.
    """

    depth_shape: float = 0.10
    depth_distance: float = 0.30
    accel: float = 5.0
    bone: float = 0.004
    contact_speed: float = 0.02
    ground: float = 0.01
    penetration: float = 0.005

    def scaled(self, factor: float) -> Weights:
        """Every length scale times ``factor`` (the subject's size / 1.75 m)."""
        return Weights(*(v * factor for v in (self.depth_shape, self.depth_distance, self.accel, self.bone,
                                              self.contact_speed, self.ground, self.penetration)))  # fmt: skip


def _huber(r: np.ndarray, delta: float = HUBER) -> tuple[np.ndarray, np.ndarray]:
    """``(rho(r), weight(r))``: Huber's loss and its reweighting ``rho'(r) / (2 r)``."""
    a = np.abs(r)
    rho = np.where(a <= delta, r * r, 2 * delta * a - delta * delta)
    return rho, np.where(a <= delta, 1.0, delta / np.maximum(a, 1e-300))


class ClipProblem:
    """The cost of the module docs for fixed rays, priors, contacts and ground.

    Args:
        rays: ``(T, J, 3)`` ray directions with world-Y component 1.
        prior_depth: ``(T, J)`` lifted depths, metres.
        bones: ``(B, 2)`` (child, parent) joint indices.
        fps: frames per second. weights: :class:`Weights` (already scaled to the subject).
        bone_sigma: ``(T,)`` the bone term's scale per frame, metres; None: ``weights.bone``.
        pins: ``(T - 1, J)`` bool: joint planted from ``t`` to ``t + 1``; None: none.
        on_ground: ``(T, J)`` bool: planted sole joints; ``heights``: ``(J,)`` their height over the ground, metres.
        plane: ``(normal, offset)`` or None (no ground, contact and floor terms then only pin).
    """

    def __init__(self, rays, prior_depth, bones, fps, weights: Weights, *, bone_sigma=None, pins=None, on_ground=None,
                 heights=None, plane=None):  # fmt: skip
        self.R = np.asarray(rays, dtype=np.float64)
        self.dl = np.asarray(prior_depth, dtype=np.float64)
        self.T, self.J = self.dl.shape
        self.bones = np.asarray(bones, dtype=np.int64).reshape(-1, 2)
        self.B = len(self.bones)
        self.fps = float(fps)
        self.w = weights
        self.pins = None if pins is None or not np.any(pins) else np.asarray(pins, dtype=bool)
        self.plane = None if plane is None else (np.asarray(plane[0], dtype=np.float64), float(plane[1]))
        self.on_ground = None if on_ground is None or self.plane is None else np.asarray(on_ground, dtype=bool)
        self.heights = np.zeros(self.J) if heights is None else np.asarray(heights, dtype=np.float64)
        bs = weights.bone if bone_sigma is None else np.asarray(bone_sigma, dtype=np.float64)
        self.bone_k = np.broadcast_to(1.0 / np.asarray(bs, dtype=np.float64), (self.T,))[:, None]  # (T, 1)
        self.Rn = None if self.plane is None else self.R @ self.plane[0]  # (T, J) height per unit depth

    # ------------------------------------------------------------------ residuals
    def residuals(self, d: np.ndarray, L: np.ndarray) -> dict[str, np.ndarray]:
        """Every term's scaled residuals (see the module docs), by name; robust terms unweighted."""
        w, T = self.w, self.T
        X = d[..., None] * self.R
        e = d - self.dl
        out = {"shape": (e - e.mean(1, keepdims=True)) / w.depth_shape,
               "distance": e.mean(1) / w.depth_distance}  # fmt: skip
        if T >= 3:  # the acceleration less that of the track at a fixed depth: (d+ - d) R+ - (d - d-) R-
            R = self.R
            dd = d[..., None]
            out["accel"] = ((dd[2:] - dd[1:-1]) * R[2:] - (dd[1:-1] - dd[:-2]) * R[:-2]) * (self.fps**2 / w.accel)
        else:
            out["accel"] = np.zeros((0, self.J, 3))
        c, p = self.bones[:, 0], self.bones[:, 1]
        out["bone"] = (np.linalg.norm(X[:, c] - X[:, p], axis=-1) - L) * self.bone_k
        if self.pins is not None:
            out["contact"] = (X[1:] - X[:-1]) * (self.pins[..., None] * (self.fps / w.contact_speed))
        if self.plane is not None:
            h = X @ self.plane[0] - self.plane[1]  # (T, J)
            if self.on_ground is not None:
                out["ground"] = np.where(self.on_ground, h - self.heights, 0.0) / w.ground
            out["floor"] = np.minimum(h, 0.0) / w.penetration
        return out

    def cost(self, d: np.ndarray, L: np.ndarray) -> float:
        """The total cost (robust terms through Huber's loss)."""
        total = 0.0
        for name, r in self.residuals(d, L).items():
            total += float(_huber(r)[0].sum()) if name in ("shape", "distance") else float((r * r).sum())
        return total

    # ------------------------------------------------------------------ normal equations
    def normal_equations(self, d: np.ndarray, L: np.ndarray):
        """Gauss-Newton normal equations at ``(d, L)`` (robust terms reweighted there).

        Returns:
            ``(Dm, e1, e2, C, hLL, gd, gL)``: ``Dm`` ``(T, J, J)`` diagonal blocks; ``e1`` ``(T-1, J)`` and ``e2``
            ``(T-2, J)`` the diagonals of the sub-diagonal blocks one and two frames apart (the acceleration and
            contact terms couple a joint only with itself); ``C`` ``(T, J, B)`` depth-length coupling; ``hLL``
            ``(B,)`` (diagonal); ``gd`` ``(T, J)``, ``gL`` ``(B,)`` gradients (half the cost's).
        """
        w, T, J, B = self.w, self.T, self.J, self.B
        R = self.R
        res = self.residuals(d, L)
        dg = np.zeros((T, J))  # diagonal additions
        e1 = np.zeros((max(T - 1, 0), J))
        e2 = np.zeros((max(T - 2, 0), J))
        gd = np.zeros((T, J))
        # shape: r = k P e, H = k^2 P W P
        k = 1.0 / w.depth_shape
        r = res["shape"]
        om = _huber(r)[1]  # (T, J)
        Dm = np.add(om[:, :, None], om[:, None, :])  # built in place: (T, J, J) is the big array here
        Dm *= -k * k / J
        Dm += (k * k * om.sum(1) / J**2)[:, None, None]
        dg += k * k * om
        wr = om * r
        gd += k * (wr - wr.mean(1, keepdims=True))
        # distance: r = k mean(e)
        k = 1.0 / w.depth_distance
        r = res["distance"]
        om = _huber(r)[1]  # (T,)
        Dm += (k * k * om / J**2)[:, None, None]
        gd += (k * om * r / J)[:, None]
        # acceleration: r = k (X_{t-1} - 2 X_t + X_{t+1})
        if T >= 3:
            k = self.fps**2 / w.accel
            r = res["accel"]  # (T-2, J, 3)
            c0, c1, c2 = R[:-2], -(R[:-2] + R[2:]), R[2:]
            k2 = k * k
            dg[:-2] += k2 * (c0 * c0).sum(-1)
            dg[1:-1] += k2 * (c1 * c1).sum(-1)
            dg[2:] += k2 * (c2 * c2).sum(-1)
            e1[:-1] += k2 * (c0 * c1).sum(-1)
            e1[1:] += k2 * (c1 * c2).sum(-1)
            e2 += k2 * (c0 * c2).sum(-1)
            gd[:-2] += k * (c0 * r).sum(-1)
            gd[1:-1] += k * (c1 * r).sum(-1)
            gd[2:] += k * (c2 * r).sum(-1)
        # bones: r = k (|X_c - X_p| - L)
        C = np.zeros((T, J, B))
        hLL = np.zeros(B)
        gL = np.zeros(B)
        if B:
            k = self.bone_k  # (T, 1)
            c, p = self.bones[:, 0], self.bones[:, 1]
            V = d[:, c, None] * R[:, c] - d[:, p, None] * R[:, p]  # (T, B, 3)
            u = V / np.maximum(np.linalg.norm(V, axis=-1, keepdims=True), 1e-12)
            ac = k * (u * R[:, c]).sum(-1)  # (T, B)
            ap = -k * (u * R[:, p]).sum(-1)
            aL = -k
            r = res["bone"]
            tt = np.arange(T)[:, None] * J
            idx = np.concatenate([tt + c, tt + p], 1).ravel()  # a joint is the parent of several bones: summed
            dg += np.bincount(idx, np.concatenate([ac * ac, ap * ap], 1).ravel(), minlength=T * J).reshape(T, J)
            Dm[:, c, p] += ac * ap  # each (child, parent) pair once
            Dm[:, p, c] += ac * ap
            bi = np.arange(B)
            C[:, c, bi] += ac * aL
            C[:, p, bi] += ap * aL
            hLL += (aL * aL).sum() * np.ones(B)
            gL += (aL * r).sum(0)
            gi = (np.arange(T)[:, None] * J + np.concatenate([c, p])[None, :]).ravel()
            gd += np.bincount(gi, np.concatenate([ac * r, ap * r], 1).ravel(), minlength=T * J).reshape(T, J)
        # contacts: r = k (X_{t+1} - X_t) on pinned pairs
        if self.pins is not None:
            k = self.fps / w.contact_speed
            m = self.pins.astype(np.float64) * k  # (T-1, J)
            r = res["contact"]
            c0, c1 = -R[:-1], R[1:]
            dg[:-1] += m * m * (c0 * c0).sum(-1)
            dg[1:] += m * m * (c1 * c1).sum(-1)
            e1 += m * m * (c0 * c1).sum(-1)
            gd[:-1] += m * (c0 * r).sum(-1)
            gd[1:] += m * (c1 * r).sum(-1)
        # ground and floor: r = k (n . R d - c - h), linear in d
        if self.plane is not None:
            for name, scale, mask in (("ground", w.ground, self.on_ground), ("floor", w.penetration, None)):
                if name not in res:
                    continue
                r = res[name]
                act = (r < 0) if mask is None else mask
                a = np.where(act, self.Rn / scale, 0.0)
                dg += a * a
                gd += a * r
        Dm[:, np.arange(J), np.arange(J)] += dg
        return Dm, e1, e2, C, hLL, gd, gL

    def step(self, eq, lam: float) -> tuple[np.ndarray, np.ndarray, float]:
        """The Levenberg-Marquardt step ``(delta_d, delta_L, predicted)`` for the normal equations ``eq`` with damping
        ``lam`` (times the matrix diagonal, plus a floor), keeping the clip's mean depth (see the module docs);
        ``predicted`` is the cost decrease the linearised model predicts."""
        Dm, e1, e2, C, hLL, gd, gL = eq
        T, J, B = self.T, self.J, self.B
        ar = np.arange(J)
        diag = Dm[:, ar, ar].copy()
        damp = diag + 1e-6 * max(float(diag.mean()), 1e-12)
        Dm[:, ar, ar] = diag + lam * damp  # damped in place, then restored
        try:
            fac = banded.factor(Dm, [e1, e2])
        finally:
            Dm[:, ar, ar] = diag
        rhs = np.empty((T, J, B + 2))
        rhs[..., 0] = -gd
        rhs[..., 1 : B + 1] = C
        rhs[..., B + 1] = 1.0 / (T * J)
        border = rhs[..., 1:]  # the lengths, and the mean depth
        Z = banded.solve(fac, rhs)  # (T, J, 2 + B)
        z0, zb = Z[..., 0], Z[..., 1:]
        S = -np.einsum("tjb,tjc->bc", border, zb)
        S[np.arange(B), np.arange(B)] += hLL * (1.0 + lam)
        y = np.linalg.solve(S, np.concatenate([-gL, [0.0]]) - np.einsum("tjb,tj->b", border, z0))
        dd, dL = z0 - zb @ y, y[:B]
        # the model's decrease -2 g.x - x^T H x, with (H + lam damp) x = -g on the constraint: -g.x + lam x^T damp x
        predicted = -float((gd * dd).sum() + gL @ dL) + lam * float((damp * dd * dd).sum() + hLL @ (dL * dL))
        return dd, dL, predicted


def solve(problem: ClipProblem, d0: np.ndarray, L0: np.ndarray, *, iterations: int = 10, tol: float = 1e-3,
          damping: float = LAMBDA_START, min_depth: float = 1e-3) -> tuple[np.ndarray, np.ndarray, dict]:  # fmt: skip
    """Levenberg-Marquardt from ``(d0, L0)`` with the initial ``damping``, until an iteration lowers the cost by less
    than ``tol`` (relative). The damping follows Nielsen's rule (K. Madsen, H. B. Nielsen, O. Tingleff, "Methods for
    non-linear least squares problems", 2004): after a step that lowered the cost by ``rho`` times the predicted
    decrease it is scaled by ``max(1/3, 1 - (2 rho - 1)^3)``, after a rejected step by 2, 4, 8, ...

    Returns:
        ``(d, L, info)`` with ``info`` the iterations run, the cost before and after, and the factorisations made.
    """
    d, L = np.array(d0, dtype=np.float64), np.array(L0, dtype=np.float64)
    cost = problem.cost(d, L)
    info = {"cost_start": cost, "iterations": 0, "factorisations": 0}
    lam, nu = damping, 2.0
    for it in range(iterations):
        eq = problem.normal_equations(d, L)
        improved = False
        for _ in range(10):
            dd, dL, predicted = problem.step(eq, lam)
            info["factorisations"] += 1
            dn, Ln = np.maximum(d + dd, min_depth), L + dL
            new = problem.cost(dn, Ln)
            if new < cost:
                rho = (cost - new) / max(predicted, 1e-300)
                lam *= max(1.0 / 3.0, 1.0 - (2.0 * min(rho, 1.0) - 1.0) ** 3)
                lam, nu, improved = max(lam, 1e-9), 2.0, True
                break
            lam *= nu
            nu *= 2.0
        info["iterations"] = it + 1
        if not improved:
            break
        drop = (cost - new) / max(cost, 1e-300)
        d, L, cost = dn, Ln, new
        if drop < tol:
            break
    info["cost"] = cost
    return d, L, info
