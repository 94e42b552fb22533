"""The model's configuration: a frozen dataclass stored in every weights file (no torch needed to read it)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import numpy as np

from .errors import WeightsError
from .safe_json import parse_json

CAMERA_ALIGNMENTS = ("onp", "direct")


@dataclass(frozen=True)
class ModelConfig:
    """Hyper-parameters of :class:`lfm_engine.model.LFMModel`. See docs/MODEL.md for why each default."""

    d_model: int = 128  # token width D
    n_layers: int = 4  # hybrid attention blocks
    n_heads: int = 4  # heads per branch (graph and global each have n_heads)
    mlp_ratio: int = 4  # hidden width of each block's MLP = mlp_ratio * D
    fourier_features: int = 64  # F random frequencies -> 2F sin/cos features per joint
    fourier_scale: float = 1.0  # std of the frequencies, in cycles per normalised unit ([-1, 1] spans 2 units)
    fourier_seed: int = 0  # seed that draws the frequencies once; the draw is stored with the weights
    camera_alignment: str = "onp"  # how the canonical shape reaches the camera frame: "onp" or "direct"
    side_embedding: bool = True  # add a learned vector per side (left / centre-or-unknown / right) to each token

    def __post_init__(self):
        if self.d_model % (self.n_heads) != 0:
            raise ValueError(f"d_model={self.d_model} must be divisible by n_heads={self.n_heads}")
        for name in ("d_model", "n_layers", "n_heads", "mlp_ratio", "fourier_features"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.camera_alignment not in CAMERA_ALIGNMENTS:
            raise ValueError(f"camera_alignment must be one of {CAMERA_ALIGNMENTS}, got {self.camera_alignment!r}")

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_heads

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str = "weights") -> ModelConfig:
        data = parse_json(text, f"{source}: the model config", WeightsError)
        if not isinstance(data, dict):
            raise WeightsError(f"{source}: the model config must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise WeightsError(f"{source}: unknown model config fields {unknown} (made by a newer version?)")
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise WeightsError(f"{source}: invalid model config: {exc}") from None

    def fourier_frequencies(self) -> np.ndarray:
        """The ``(2, F)`` random Fourier frequencies drawn from ``fourier_seed`` (float32)."""
        rng = np.random.default_rng(self.fourier_seed)
        return (rng.standard_normal((2, self.fourier_features)) * self.fourier_scale).astype(np.float32)

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """Name -> shape of every tensor in a weights file for this config (the torch ``state_dict``)."""
        D, F, H = self.d_model, self.fourier_features, self.mlp_ratio * self.d_model
        shapes: dict[str, tuple[int, ...]] = {
            "tpe.frequencies": (2, F),
            "tpe.proj.weight": (D, 2 * F + 2),
            "tpe.proj.bias": (D,),
            "mask_token": (D,),
        }
        if self.side_embedding:
            shapes["side.weight"] = (3, D)
        for i in range(self.n_layers):
            p = f"blocks.{i}."
            shapes |= {
                p + "norm1.weight": (D,),
                p + "norm1.bias": (D,),
                p + "attn.qkv.weight": (6 * D, D),
                p + "attn.qkv.bias": (6 * D,),
                p + "attn.proj.weight": (D, 2 * D),
                p + "attn.proj.bias": (D,),
                p + "norm2.weight": (D,),
                p + "norm2.bias": (D,),
                p + "mlp.0.weight": (H, D),
                p + "mlp.0.bias": (H,),
                p + "mlp.2.weight": (D, H),
                p + "mlp.2.bias": (D,),
            }
        shapes |= {
            "norm.weight": (D,),
            "norm.bias": (D,),
            "head.0.weight": (D, D),
            "head.0.bias": (D,),
            "head.2.weight": (3, D),
            "head.2.bias": (3,),
        }
        return shapes
