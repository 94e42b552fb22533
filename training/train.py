"""Train the 3D-LFM lifter on every category at once; resumable; exports the shipped weights.

    # generate the synthetic categories once (about a minute), then train (background, resumable):
    .venv/bin/python training/data/synthetic_rigify.py --out training/cache/synthetic --poses 20000 --seed 0
    .venv/bin/python training/data/synthetic_hands.py --out training/cache/synthetic --poses 20000 --seed 0
    nohup .venv/bin/python training/train.py --out runs/lfm_v1 --minutes 75 > runs/lfm_v1.log 2>&1 &
    # export the weights Lifter.from_pretrained() loads:
    .venv/bin/python training/train.py --out runs/lfm_v1 --export lfm_engine/weights/lfm_v1.safetensors

The loss is the paper's Procrustes-aligned MPJPE (similarity, no reflection) plus the camera-frame N-MPJPE
(centroid and scale only), so the shape comes out in the camera's orientation ("direct" alignment; see
docs/MODEL.md). Run it again with the same ``--out`` and it resumes from ``checkpoint.pt``. CUDA is used when
available (``--device``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # run as a script: python training/train.py
    sys.path.insert(0, ROOT)

from lfm_engine.config import ModelConfig  # noqa: E402
from lfm_engine.geometry import n_mpjpe, pa_mpjpe  # noqa: E402
from lfm_engine.model import LFMModel  # noqa: E402
from lfm_engine.weights import save_weights  # noqa: E402
from training.data.sampler import Batch, Sampler, make_batch  # noqa: E402
from training.data.sources import load_sources, mocap_sets  # noqa: E402


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on (saved in the checkpoint and the exported weights' metadata)."""

    model: ModelConfig = field(default_factory=lambda: ModelConfig(camera_alignment="direct"))
    steps: int = 6000  # optimiser steps (the schedule's length); --minutes stops earlier
    micro_batches: int = 4  # rigs per optimiser step (each a micro-batch of about `tokens` joints)
    tokens: int = 4096
    lr: float = 1e-3
    warmup: int = 100
    weight_decay: float = 0.01
    camera_loss_weight: float = 1.0  # weight of the camera-frame N-MPJPE term next to the PA-MPJPE term
    seed: int = 0
    exclude: tuple[str, ...] = ("hdm05_subset",)  # pose sets held out (the held-out human protocol)
    shared: str = os.path.join(ROOT, "..", "shared", "data")
    cache: str = os.path.join(ROOT, "training", "cache", "synthetic")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["model"] = dataclasses.asdict(self.model)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        d = dict(d)
        d["model"] = ModelConfig(**d["model"])
        d["exclude"] = tuple(d["exclude"])
        return cls(**d)


def to_torch(batch: Batch, device: torch.device) -> tuple[torch.Tensor, ...]:
    return (
        torch.from_numpy(batch.points).to(device),
        torch.from_numpy(batch.visible).to(device),
        torch.from_numpy(batch.adjacency).to(device),
        torch.from_numpy(batch.side).to(device),
        torch.from_numpy(batch.target).to(device),
    )


def loss_fn(model: LFMModel, batch: Batch, device: torch.device, camera_weight: float) -> tuple[torch.Tensor, float]:
    """(loss, PA-MPJPE) of one micro-batch, over every joint of the rig (occluded ones too)."""
    points, visible, adj, side, target = to_torch(batch, device)
    pred = model(points, visible, adj, side)  # (B, J, 3)
    pa = pa_mpjpe(pred, target).mean()
    return pa + camera_weight * n_mpjpe(pred, target).mean(), pa.item()


def lr_at(step: int, cfg: TrainConfig) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1)
    return cfg.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


def validation_batches(cfg: TrainConfig, n: int = 8) -> list[Batch]:
    """Fixed clean batches from the held-out mocap sets, for monitoring only (no checkpoint is chosen by it)."""
    rng = np.random.default_rng(1234)
    sets = []
    for name in cfg.exclude:
        path = os.path.join(cfg.shared, "mocap", f"{name}.npz")
        if os.path.exists(path):
            sets += mocap_sets(path)[:3]
    return [
        make_batch(s, rng, 2048, corrupt=False, rig_variants=False)
        for s in sets
        for _ in range(max(1, n // max(len(sets), 1)))
    ]


def resolve_config(state: dict | None, config_path: str | None, steps: int | None) -> TrainConfig:
    """The checkpoint's config when resuming; otherwise the defaults with ``--config`` / ``--steps`` applied."""
    if state is not None:
        return TrainConfig.from_dict(state["config"])
    overrides: dict = {}
    if config_path:
        with open(config_path) as f:
            overrides = json.load(f)
    if steps:
        overrides["steps"] = steps
    base = TrainConfig().to_dict()
    base.update({k: v for k, v in overrides.items() if k != "model"})
    base["model"].update(overrides.get("model", {}))
    return TrainConfig.from_dict(base)


def validate(model: LFMModel, batches: list[Batch], device: torch.device) -> float:
    """Mean PA-MPJPE (normalised units) over fixed batches; NaN when there are none."""
    if not batches:
        return float("nan")
    model.eval()
    errors = []
    with torch.no_grad():
        for b in batches:
            points, visible, adj, side, target = to_torch(b, device)
            errors.append(pa_mpjpe(model(points, visible, adj, side), target).mean().item())
    return float(np.mean(errors))


def save_checkpoint(path: str, cfg: TrainConfig, model: LFMModel, opt, step: int, elapsed: float) -> None:
    tmp = path + ".tmp"
    torch.save({"config": cfg.to_dict(), "model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                "elapsed": elapsed}, tmp)  # fmt: skip
    os.replace(tmp, path)  # never a half-written checkpoint


def train_step(model: LFMModel, opt, sampler: Sampler, cfg: TrainConfig, step: int, device) -> tuple[float, int]:
    """One optimiser step over ``cfg.micro_batches`` rigs: (mean train PA-MPJPE, samples seen)."""
    for group in opt.param_groups:
        group["lr"] = lr_at(step, cfg)
    model.train()
    opt.zero_grad(set_to_none=True)
    pa_sum, seen = 0.0, 0
    for _ in range(cfg.micro_batches):
        batch = sampler.batch()
        loss, pa = loss_fn(model, batch, device, cfg.camera_loss_weight)
        (loss / cfg.micro_batches).backward()
        pa_sum += pa
        seen += len(batch.points)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return pa_sum / cfg.micro_batches, seen


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run folder: checkpoint.pt, log.jsonl")
    ap.add_argument("--config", help="JSON file of TrainConfig fields to override (new runs only)")
    ap.add_argument("--steps", type=int, help="override TrainConfig.steps (new runs only)")
    ap.add_argument("--minutes", type=float, default=0, help="stop (with a checkpoint) after this long; 0 = no limit")
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, ...")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--checkpoint-every", type=int, default=100)
    ap.add_argument("--export", help="write the run's weights to this .safetensors file and exit")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    state = torch.load(ckpt_path, weights_only=False, map_location=device) if os.path.exists(ckpt_path) else None
    cfg = resolve_config(state, args.config, args.steps)
    torch.manual_seed(cfg.seed)
    model = LFMModel(cfg.model).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, elapsed = 0, 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, elapsed = state["step"], state["elapsed"]
    if args.export:
        if state is None:
            sys.exit(f"{ckpt_path}: no checkpoint to export")
        info = {"steps": step, "train_minutes": round(elapsed / 60, 1), "config": cfg.to_dict()}
        save_weights(args.export, cfg.model, model.state_dict(), training=info)
        print(f"wrote {args.export} (step {step}, {elapsed / 60:.1f} min of training)")
        return
    sources = load_sources(cfg.shared, cfg.cache, exclude=cfg.exclude)
    sampler = Sampler(sources, seed=cfg.seed + step)  # a resumed run continues with fresh draws
    val = validation_batches(cfg)
    counts = {c: len(v) for c, v in sources.items()}
    print(f"{model.num_parameters():,} parameters on {device}; step {step}/{cfg.steps}; pose sets {counts}", flush=True)
    t_start = last = time.time()
    seen = 0
    with open(os.path.join(args.out, "log.jsonl"), "a") as log:
        while step < cfg.steps:
            train_pa, n = train_step(model, opt, sampler, cfg, step, device)
            step, seen = step + 1, seen + n
            total = elapsed + time.time() - t_start
            out_of_time = bool(args.minutes) and total > args.minutes * 60
            if step % args.checkpoint_every and step != cfg.steps and not out_of_time:
                continue
            rec = {"step": step, "minutes": round(total / 60, 2), "lr": lr_at(step, cfg),
                   "train_pa": round(train_pa, 4), "val_pa": round(validate(model, val, device), 4),
                   "samples_per_s": round(seen / (time.time() - last), 1)}  # fmt: skip
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            save_checkpoint(ckpt_path, cfg, model, opt, step, total)
            seen, last = 0, time.time()
            if out_of_time:
                print(f"stopped after {args.minutes} minutes at step {step}; run again to resume", flush=True)
                break


if __name__ == "__main__":
    main()
