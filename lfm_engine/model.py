"""The 3D-LFM lifter (Dabhi, Jeni and Lucey, CVPR 2024) in PyTorch.

2D points -> tokenized positional encoding (random Fourier features of each point, no joint identity; plus one of
three shared side vectors, left / centre-or-unknown / right, when the rig says which joints are left and right) ->
L hybrid blocks (graph attention over the skeleton's adjacency || global self-attention, concatenated, projected;
then a GELU MLP; pre-LayerNorm and residuals) -> a shape MLP that decodes one 3D point per joint, as a correction
to the flat lift (x, y, 0) of the input (without that skip the Procrustes loss barely trains: docs/MODEL.md).

Nothing depends on a joint's index, so permuting the joints (and the adjacency with them) permutes the output.
Masked joints (missing or padding) are never attended to, so they cannot influence visible joints; they still get
an output, computed from a shared learned mask token and the visible joints. Shapes: B batch, J joints,
D = ``d_model``, H heads per branch, Dh = D / H.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig


def attention_mask(visible: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
    """Which keys each query may attend to, for the graph and the global branch.

    Args:
        visible: ``(B, J)`` bool, True = a visible joint (padding and missing joints are False).
        adjacency: ``(J, J)`` or ``(B, J, J)`` bool, symmetric.

    Returns:
        ``(B, 2, J, J)`` bool, True = may attend. Branch 0 (graph): visible neighbours; branch 1 (global): every
        visible joint. Each query also attends to itself, so no row is empty and masked joints see only
        themselves and visible joints, while visible joints never see masked ones.
    """
    J = visible.shape[-1]
    eye = torch.eye(J, dtype=torch.bool, device=visible.device)  # (J, J)
    keys = visible[:, None, :]  # (B, 1, J)
    graph = (adjacency & keys) | eye  # (B, J, J)
    glob = keys.expand(-1, J, -1) | eye  # (B, J, J)
    return torch.stack([graph, glob], dim=1)  # (B, 2, J, J)


def attention_bias(
    visible: torch.Tensor, adjacency: torch.Tensor, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """:func:`attention_mask` as the additive biases (0 or -inf) of the two branches, made once per forward pass.

    Additive 4D masks let ``scaled_dot_product_attention`` use its fused (flash) kernel on the CPU too; a
    boolean or 5D mask falls back to the unfused one, about 4x slower at 133 joints. When every joint is visible
    the graph bias is shared by the batch and the global branch needs none.

    Returns:
        ``(graph, glob)``: graph ``(B or 1, 1, J, J)``; glob ``(B, 1, J, J)``, or None when all are visible.
    """
    if adjacency.dim() == 2 and bool(visible.all()):
        graph = attention_mask(visible[:1], adjacency)[:, 0]  # (1, J, J): the same for every sample
        glob = None
    else:
        graph, glob = attention_mask(visible, adjacency).unbind(1)  # each (B, J, J)

    def bias(allowed: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(allowed.shape, dtype=dtype, device=allowed.device)
        return out.masked_fill_(~allowed, float("-inf"))[:, None]  # (B or 1, 1, J, J)

    return bias(graph), None if glob is None else bias(glob)


class FourierEncoding(nn.Module):
    """Tokenized positional encoding: ``[sin 2pi pB, cos 2pi pB, p]`` for each 2D point p, then a linear map.

    ``B`` (``(2, F)``, drawn once from ``config.fourier_seed``) is a buffer saved with the weights.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.register_buffer("frequencies", torch.from_numpy(config.fourier_frequencies()))  # (2, F)
        self.proj = nn.Linear(2 * config.fourier_features + 2, config.d_model)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        angles = (2 * math.pi) * (points @ self.frequencies)  # (B, J, F)
        feats = torch.cat([angles.sin(), angles.cos(), points], dim=-1)  # (B, J, 2F + 2)
        return self.proj(feats)  # (B, J, D)


#: Up to this many joints, bf16 attention on the CPU runs unfused (see :class:`HybridAttention`).
UNFUSED_MAX_JOINTS = 64


class HybridAttention(nn.Module):
    """Graph attention and global self-attention side by side, concatenated and projected back to D.

    One linear makes q, k, v for both branches. Each branch is one fused attention call with its own bias (see
    :func:`attention_bias`), except in bf16 on the CPU for small skeletons, where the fused kernel is slower than
    plain matrix products (the whole lift ~1.2x faster at 33 joints, slower at 133: docs/BENCHMARKS.md): both
    branches then go through one unfused product, with the softmax in fp32. Both compute the same function.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.n_heads, self.head_dim = config.n_heads, config.head_dim
        self.qkv = nn.Linear(config.d_model, 6 * config.d_model)
        self.proj = nn.Linear(2 * config.d_model, config.d_model)

    def forward(self, x: torch.Tensor, bias: tuple[torch.Tensor, torch.Tensor | None]) -> torch.Tensor:
        B, J, D = x.shape
        qkv = self.qkv(x).view(B, J, 3, 2, self.n_heads, self.head_dim)  # (B, J, qkv, branch, H, Dh)
        q, k, v = qkv.permute(2, 0, 3, 4, 1, 5).unbind(0)  # each (B, 2, H, J, Dh)
        if q.dtype == torch.bfloat16 and q.device.type == "cpu" and J <= UNFUSED_MAX_JOINTS:
            graph, glob = bias
            glob = torch.zeros_like(graph) if glob is None else glob
            both = torch.stack([graph.expand(glob.shape[0], -1, -1, -1), glob], dim=1)  # (B or 1, 2, 1, J, J)
            scores = torch.matmul(q, k.transpose(-1, -2)).float() * self.head_dim**-0.5 + both  # (B, 2, H, J, J)
            out = torch.matmul(scores.softmax(-1).to(v.dtype), v)  # (B, 2, H, J, Dh)
        else:
            out = torch.stack(
                [
                    F.scaled_dot_product_attention(
                        q[:, b], k[:, b], v[:, b], attn_mask=m if m is None else m.to(q.dtype)
                    )
                    for b, m in enumerate(bias)
                ],
                dim=1,
            )  # (B, 2, H, J, Dh): graph, global
        out = out.permute(0, 3, 1, 2, 4).reshape(B, J, 2 * D)  # (B, J, 2D): graph heads || global heads
        return self.proj(out)  # (B, J, D)


class Block(nn.Module):
    """Pre-norm residual block: ``x + HybridAttention(LN(x))``, then ``x + MLP(LN(x))``."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        D = config.d_model
        self.norm1 = nn.LayerNorm(D)
        self.attn = HybridAttention(config)
        self.norm2 = nn.LayerNorm(D)
        self.mlp = nn.Sequential(
            nn.Linear(D, config.mlp_ratio * D), nn.GELU("tanh"), nn.Linear(config.mlp_ratio * D, D)
        )

    def forward(self, x: torch.Tensor, bias: tuple[torch.Tensor, torch.Tensor | None]) -> torch.Tensor:
        x = x + self.attn(self.norm1(x), bias)
        return x + self.mlp(self.norm2(x))


class LFMModel(nn.Module):
    """2D keypoints of any rig -> one canonical 3D point per joint."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        D = config.d_model
        self.tpe = FourierEncoding(config)
        self.mask_token = nn.Parameter(torch.zeros(D))
        self.side = nn.Embedding(3, D) if config.side_embedding else None
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.n_layers)])
        self.norm = nn.LayerNorm(D)
        self.head = nn.Sequential(nn.Linear(D, D), nn.GELU("tanh"), nn.Linear(D, 3))
        self.apply(self._init)
        nn.init.normal_(self.mask_token, std=0.02)
        if self.side is not None:
            nn.init.normal_(self.side.weight, std=0.02)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)

    def forward(
        self,
        points: torch.Tensor,
        visible: torch.Tensor,
        adjacency: torch.Tensor,
        side: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Lift normalised 2D points.

        Args:
            points: ``(B, J, 2)`` centred and scaled into [-1, 1] (see :mod:`lfm_engine.preprocess`); values at
                masked joints are ignored.
            visible: ``(B, J)`` bool.
            adjacency: ``(J, J)`` or ``(B, J, J)`` bool skeleton adjacency.
            side: optional ``(J,)`` or ``(B, J)`` integers, -1 left, 0 centre or unknown, +1 right (see
                :meth:`lfm_engine.rig.Rig.sides`); None = all 0. Ignored when the config has no side embedding.

        Returns:
            ``(B, J, 3)`` canonical 3D shape in normalised units (the frame is fixed by training: with
            ``camera_alignment="onp"`` only up to a rotation, recovered by :func:`geometry.orthographic_alignment`).
        """
        points = torch.where(visible[..., None], points, torch.zeros_like(points))  # NaN-safe
        x = self.tpe(points).float()  # (B, J, D); the residual stream stays fp32 under autocast (see below)
        x = torch.where(visible[..., None], x, self.mask_token.to(x.dtype))  # (B, J, D)
        if self.side is not None and side is not None:
            x = x + self.side(side.long() + 1).to(x.dtype)  # (B, J, D) or (J, D), broadcast
        bias = attention_bias(visible, adjacency, x.dtype)  # 2 x (B or 1, 1, J, J), see attention_mask
        for block in self.blocks:
            x = block(x, bias)
        flat = F.pad(points, (0, 1))  # (B, J, 3): the flat lift (x, y, 0); 0 at masked joints
        # The head runs in fp32 even under bf16 autocast: its output carries a large translation common to all
        # joints (free under the translation-invariant loss; ~2,000 normalised units in lfm_v1), next to which
        # bf16's 8-bit mantissa would erase the shape.
        with torch.autocast(x.device.type, enabled=False):
            return flat + self.head(self.norm(x))  # (B, J, 3): the head predicts the correction to the flat lift

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
