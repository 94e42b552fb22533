"""The LFM model's forward pass in plain numpy, for Blender without torch.

It reads the same tensors as :class:`lfm_engine.model.LFMModel` (names from ``ModelConfig.parameter_shapes``) and
computes the same function in float32; ``tests/engine/test_backends.py`` checks the two agree.
"""

from __future__ import annotations

import math

import numpy as np

from .config import ModelConfig


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * weight + bias


_GELU_C0 = np.float32(math.sqrt(2.0 / math.pi))
_GELU_C1 = np.float32(math.sqrt(2.0 / math.pi) * 0.044715)


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """GELU, tanh approximation (the form the torch model uses): ``x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    Written with products and in-place updates: ``x**3`` goes through ``pow`` and was 50x slower.
    """
    inner = x * x  # x^2
    inner *= _GELU_C1
    inner += _GELU_C0
    inner *= x  # sqrt(2/pi) (x + 0.044715 x^3)
    np.tanh(inner, out=inner)
    inner += 1.0
    inner *= x
    inner *= np.float32(0.5)
    return inner


def attention_mask(visible: np.ndarray, adjacency: np.ndarray) -> np.ndarray:
    """``(B, 2, J, J)`` bool: numpy twin of :func:`lfm_engine.model.attention_mask`."""
    J = visible.shape[-1]
    eye = np.eye(J, dtype=bool)
    keys = visible[:, None, :]  # (B, 1, J)
    graph = (adjacency & keys) | eye  # (B, J, J)
    glob = np.broadcast_to(keys, graph.shape) | eye  # (B, J, J)
    return np.stack([graph, glob], axis=1)


class NumpyLFM:
    """Callable ``(points (B, J, 2), visible (B, J), adjacency) -> (B, J, 3)``, like ``LFMModel.forward``."""

    def __init__(self, config: ModelConfig, tensors: dict[str, np.ndarray]):
        self.config = config
        self.t = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        """``x @ W.T + b`` as one matrix product over all leading dimensions (a single large GEMM call)."""
        w, b = self.t[name + ".weight"], self.t[name + ".bias"]  # (N, K), (N,)
        out = x.reshape(-1, x.shape[-1]) @ w.T  # (B * J, N)
        out += b
        return out.reshape(*x.shape[:-1], w.shape[0])

    def __call__(
        self, points: np.ndarray, visible: np.ndarray, adjacency: np.ndarray, side: np.ndarray | None = None
    ) -> np.ndarray:
        cfg, t = self.config, self.t
        H, Dh, D = cfg.n_heads, cfg.head_dim, cfg.d_model
        points = np.where(visible[..., None], points, 0.0).astype(np.float32)
        angles = (2 * math.pi) * (points @ t["tpe.frequencies"])  # (B, J, F)
        feats = np.concatenate([np.sin(angles), np.cos(angles), points], axis=-1)  # (B, J, 2F + 2)
        x = self._linear(feats, "tpe.proj")  # (B, J, D)
        x = np.where(visible[..., None], x, t["mask_token"]).astype(np.float32)
        if cfg.side_embedding and side is not None:
            x = x + t["side.weight"][np.asarray(side, dtype=np.int64) + 1]  # (B, J, D)
        # Additive bias (0 or -inf), made once: (B, 2, 1, J, J)
        bias = np.where(attention_mask(visible, adjacency), np.float32(0), np.float32(-np.inf))[:, :, None]
        B, J, _ = x.shape
        for i in range(cfg.n_layers):
            p = f"blocks.{i}."
            h = layer_norm(x, t[p + "norm1.weight"], t[p + "norm1.bias"])
            qkv = self._linear(h, p + "attn.qkv").reshape(B, J, 3, 2, H, Dh)  # (B, J, qkv, branch, H, Dh)
            qkv = np.ascontiguousarray(qkv.transpose(2, 0, 3, 4, 1, 5))  # (qkv, B, 2, H, J, Dh): BLAS-ready stacks
            q, k, v = qkv
            q *= np.float32(1.0 / math.sqrt(Dh))
            scores = q @ k.swapaxes(-1, -2)  # (B, 2, H, J, J)
            scores += bias
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)  # softmax over the keys
            out = (scores @ v).transpose(0, 3, 1, 2, 4).reshape(B, J, 2 * D)  # (B, J, 2D)
            x = x + self._linear(out, p + "attn.proj")
            h = layer_norm(x, t[p + "norm2.weight"], t[p + "norm2.bias"])
            x = x + self._linear(gelu_tanh(self._linear(h, p + "mlp.0")), p + "mlp.2")
        h = layer_norm(x, t["norm.weight"], t["norm.bias"])
        flat = np.concatenate([points, np.zeros_like(points[..., :1])], axis=-1)  # (B, J, 3): (x, y, 0)
        return (flat + self._linear(gelu_tanh(self._linear(h, "head.0")), "head.2")).astype(np.float32)
