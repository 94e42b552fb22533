"""The lifting API: 2D keypoints of any rig, one clip at a time, to 3D in the camera frame.

>>> from lfm_engine import Lifter
>>> lifter = Lifter.from_pretrained()
>>> points3d = lifter.lift(points2d, edges=rig)          # (T, J, 2) -> (T, J, 3)

Frames are lifted in chunks (bounded memory for any clip length) under ``torch.inference_mode``, with torch when
it can be imported (CUDA when available) and with the numpy twin of the model otherwise.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import warnings
from collections.abc import Callable

import numpy as np

from .camera import depth_from_canonical, place_in_camera
from .errors import CONVERSION_ERRORS, InputError, LFMError
from .preprocess import MAX_COORDINATE, check_magnitude, normalize, parse_points2d, visible_mask
from .rig import Rig, knn_edges
from .weights import Weights, load_weights

#: Attention scores kept in memory at once, in elements (about 200 MB of float32); bounds the chunk size.
ATTENTION_BUDGET = 50_000_000
#: Joint tokens per model call on the CPU: about 4,000 keeps each layer's activations in the cache
#: (measured in bench/bench_lift_throughput.py: 33 joints lift ~1.4x faster in chunks of 124 frames than of 4,096).
CPU_TOKENS_PER_CHUNK = 4096
#: Joint tokens per model call on a GPU, which wants large batches.
GPU_TOKENS_PER_CHUNK = 262_144
PRECISIONS = ("auto", "fp32", "bf16")
KNN_NEIGHBOURS = 3


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


class Lifter:
    """Lifts 2D keypoints to 3D with a trained 3D-LFM model.

    Args:
        weights: loaded weights (see :func:`lfm_engine.weights.load_weights`).
        device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; torch only.
        backend: ``"auto"`` (torch if importable, else numpy), ``"torch"`` or ``"numpy"``.
        chunk_size: frames per model call; None picks one from the joint count (bounded memory).
        precision: ``"fp32"``, ``"bf16"`` (torch autocast: the matrix products in bfloat16, about 1.5x faster on
            CPUs with bfloat16 instructions; see docs/BENCHMARKS.md for the accuracy change) or ``"auto"``
            (bf16 on such CPUs, fp32 elsewhere and on GPUs). The numpy backend always computes in fp32.
    """

    def __init__(
        self,
        weights: Weights,
        device: str = "auto",
        backend: str = "auto",
        chunk_size: int | None = None,
        precision: str = "auto",
    ):
        self.weights = weights
        self.config = weights.config
        self.chunk_size = chunk_size
        if precision not in PRECISIONS:
            raise LFMError(f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}")
        if backend == "auto":
            backend = "torch" if torch_available() else "numpy"
        if backend == "torch":
            import torch

            from .model import LFMModel

            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            model = LFMModel(self.config)
            model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.tensors.items()})
            self._model = model.to(device).eval()
            self.device = str(device)
            if precision == "auto":
                precision = "bf16" if self.device == "cpu" and _cpu_has_fast_bf16() else "fp32"
        elif backend == "numpy":
            from .numpy_backend import NumpyLFM

            if device not in ("auto", "cpu"):
                raise LFMError(f"device {device!r} needs the torch backend; the numpy backend runs on the CPU")
            self._model = NumpyLFM(self.config, weights.tensors)
            self.device = "cpu"
            if precision == "bf16":
                raise LFMError("precision 'bf16' needs the torch backend; the numpy backend computes in fp32")
            precision = "fp32"
        else:
            raise LFMError(f"unknown backend {backend!r}: use 'auto', 'torch' or 'numpy'")
        self.backend = backend
        self.precision = precision

    @classmethod
    def from_pretrained(
        cls,
        path: str | os.PathLike | None = None,
        *,
        device: str = "auto",
        backend: str = "auto",
        precision: str = "auto",
    ) -> Lifter:
        """A lifter with the shipped weights, or with the weights file at ``path``."""
        return cls(load_weights(path), device=device, backend=backend, precision=precision)

    def __repr__(self) -> str:
        return (f"Lifter({self.weights.source!r}, backend={self.backend!r}, device={self.device!r}, "
                f"precision={self.precision!r})")  # fmt: skip

    # ------------------------------------------------------------------ model calls
    def _chunk(self, num_joints: int) -> int:
        if self.chunk_size:
            return int(self.chunk_size)
        per_frame = 2 * self.config.n_heads * num_joints * num_joints
        tokens = CPU_TOKENS_PER_CHUNK if self.device == "cpu" else GPU_TOKENS_PER_CHUNK
        return int(np.clip(min(ATTENTION_BUDGET // per_frame, tokens // num_joints), 1, 4096))

    def predict_canonical(
        self,
        points: np.ndarray,
        visible: np.ndarray,
        adjacency: np.ndarray,
        progress: Callable[[int, int], object] | None = None,
        side: np.ndarray | None = None,
    ) -> np.ndarray:
        """The model's canonical 3D shape for normalised input, chunk by chunk.

        Args:
            points: ``(T, J, 2)`` normalised (see :func:`lfm_engine.preprocess.normalize`).
            visible: ``(T, J)`` bool.
            adjacency: ``(J, J)`` bool with self loops.
            side: optional ``(J,)`` -1 left / 0 centre or unknown / +1 right (:meth:`Rig.sides`); None = all 0.
            progress: called as ``progress(frames_done, frames_total)`` after each chunk; raise to cancel.

        Returns:
            ``(T, J, 3)`` float32, normalised units.
        """
        T, J, _ = points.shape
        out = np.empty((T, J, 3), dtype=np.float32)
        step = self._chunk(J)
        if self.backend == "torch":
            import torch

            dev = torch.device(self.device)
            adj = torch.from_numpy(np.ascontiguousarray(adjacency, dtype=bool)).to(dev)
            side_t = None if side is None else torch.from_numpy(np.asarray(side, dtype=np.int64)).to(dev)

            def forward(p: np.ndarray, v: np.ndarray) -> np.ndarray:
                p_t = torch.from_numpy(np.ascontiguousarray(p, dtype=np.float32)).to(dev)
                v_t = torch.from_numpy(np.ascontiguousarray(v, dtype=bool)).to(dev)
                return self._model(p_t, v_t, adj, side_t).float().cpu().numpy()

            context = contextlib.ExitStack()
            context.enter_context(torch.inference_mode())
            if self.precision == "bf16":
                context.enter_context(torch.autocast(dev.type, dtype=torch.bfloat16))
        else:

            def forward(p: np.ndarray, v: np.ndarray) -> np.ndarray:
                return self._model(p, v, adjacency, side)

            context = contextlib.nullcontext()
        with context:
            for a in range(0, T, step):
                out[a : a + step] = forward(points[a : a + step], visible[a : a + step])
                if progress is not None:
                    progress(min(a + step, T), T)
        return out

    # ------------------------------------------------------------------ the API
    def lift(
        self,
        points2d,
        edges=None,
        mask=None,
        focal_length: float | None = None,
        principal_point: tuple[float, float] | None = None,
        *,
        confidence=None,
        confidence_threshold: float = 0.0,
        progress: Callable[[int, int], object] | None = None,
    ) -> np.ndarray:
        """Lift 2D keypoints to 3D in the camera frame.

        Args:
            points2d: ``(T, J, 2)`` or ``(J, 2)`` image coordinates (x right, y down), any unit; NaN = missing.
            edges: ``(E, 2)`` joint-index pairs, a :class:`Rig`, or None for a k-nearest-neighbour graph of the
                joints' median 2D positions.
            mask: optional ``(T, J)`` bool, True = visible.
            focal_length: pinhole focal length in the unit of ``points2d``; None = weak perspective.
            principal_point: ``(cx, cy)`` in the same unit; required with ``focal_length``.
            confidence: optional ``(T, J)`` detector scores; joints scoring ``<= confidence_threshold`` are missing.
            progress: ``progress(frames_done, frames_total)`` after each chunk; raise from it to cancel.

        Returns:
            ``(T, J, 3)`` float32 (or ``(J, 3)`` for a ``(J, 2)`` input), camera frame (x right, y down, z away
            from the camera), input unit. Weak perspective: centred on the visible joints' centroid, x and y
            equal to the centred input. With ``focal_length=f``: mean visible depth f, and each visible joint
            projects through the pinhole exactly onto its input point. Missing joints get a prediction too.

        Raises:
            InputError: bad shapes or values, frames with fewer than two visible joints, bad camera.
            RigError: invalid edges.
        """
        pts, single = parse_points2d(points2d)  # before anything else looks at the input (ragged lists ...)
        check_magnitude(pts)
        if progress is not None and not callable(progress):
            raise InputError(f"progress must be callable as progress(frames_done, frames_total), got {progress!r}")
        J = pts.shape[1]
        if J < 2:
            raise InputError(f"points2d has {J} joint per frame; lifting needs at least 2 joints")
        vis = visible_mask(pts, mask, confidence, confidence_threshold)
        focal, pp = _check_camera(focal_length, principal_point)
        rig = self._rig(edges, pts, vis)
        norm = normalize(pts, vis)
        shape = self.predict_canonical(norm.points, vis, rig.adjacency(), progress, rig.sides())
        depth, xy = depth_from_canonical(shape, norm.points, vis, self.config.camera_alignment)
        scale = norm.scale[:, None]  # (T, 1)
        predicted_xy = xy * scale[..., None] + norm.centre[:, None, :]
        with np.errstate(over="ignore", invalid="ignore"):
            out = place_in_camera(pts, vis, depth * scale, predicted_xy, focal, pp).astype(np.float32)
        bad = np.flatnonzero(~np.isfinite(out).all(axis=(1, 2)))
        if bad.size:  # a last guard: never return NaN or inf
            frames = ", ".join(str(b) for b in bad[:10]) + (", ..." if bad.size > 10 else "")
            raise InputError(f"frame(s) {frames} ({bad.size} of {len(out)}) lifted to values beyond float32; the "
                             "coordinates, focal length or principal point are too large for each other")  # fmt: skip
        return out[0] if single else out

    @staticmethod
    def _rig(edges, pts: np.ndarray, vis: np.ndarray) -> Rig:
        """The rig to lift with: ``edges`` itself, or a nameless rig (no sides known) from pairs or a kNN graph."""
        J = pts.shape[1]
        if isinstance(edges, Rig):
            if edges.num_joints != J:
                raise InputError(f"rig {edges.name!r} has {edges.num_joints} joints but points2d has {J} per frame")
            return edges
        if edges is None:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # joints never visible: NaN, no edges
                typical = np.nanmedian(np.where(vis[..., None], pts, np.nan), axis=0)  # (J, 2)
            edges = knn_edges(typical, KNN_NEIGHBOURS)
        names = [f"joint_{j}" for j in range(J)]
        return Rig.from_edges(names, edges, name="edges", symmetry=())


def _cpu_has_fast_bf16() -> bool:
    """True when this CPU has bfloat16 matrix instructions that torch's oneDNN kernels use (AVX-512 BF16, AMX)."""
    import torch

    cpu = torch.cpu
    try:
        return bool(cpu._is_avx512_bf16_supported() or cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes: stay in fp32
        return False


def _check_camera(focal_length, principal_point) -> tuple[float | None, tuple[float, float] | None]:
    if focal_length is None:
        if principal_point is not None:
            raise InputError("principal_point was given without focal_length; pass both, or neither for weak "
                             "perspective")  # fmt: skip
        return None, None
    try:
        f = float(focal_length)
    except CONVERSION_ERRORS:
        raise InputError(f"focal_length must be a number, got {focal_length!r}") from None
    if not np.isfinite(f) or f <= 0 or f > MAX_COORDINATE:
        raise InputError(
            f"focal_length must be a positive finite number up to {MAX_COORDINATE:g}, got {focal_length!r}"
        )
    if principal_point is None:
        raise InputError("focal_length needs principal_point (cx, cy), e.g. the image centre")
    try:
        pp = np.asarray(principal_point, dtype=np.float64)
    except CONVERSION_ERRORS:
        raise InputError(f"principal_point must be two numbers (cx, cy), got {principal_point!r}") from None
    if pp.shape != (2,) or not np.all(np.isfinite(pp)) or np.abs(pp).max() > MAX_COORDINATE:
        raise InputError(f"principal_point must be two finite numbers (cx, cy) up to {MAX_COORDINATE:g}, got "
                         f"{principal_point!r}")  # fmt: skip
    return f, (float(pp[0]), float(pp[1]))
