"""Train the 3D-LFM lifter: people first, then every category; resumable; exports the EMA weights.

    make data                                                     # synthetic categories, once (about a minute)
    nohup .venv/bin/python training/train.py --out runs/lfm_v2 --minutes 150 --threads 1 > runs/lfm_v2.log 2>&1 &
    .venv/bin/python training/train.py --out runs/lfm_v2 --export lfm_engine/weights/lfm_v2.safetensors

Run it again with the same ``--out`` to resume from ``checkpoint.pt`` (the schedule is in steps, so a resumed run
continues exactly where it was). Every checkpoint also writes ``ema.safetensors``, the exported EMA weights, so a
run that is stopped at any time leaves usable weights.

The recipe (docs/MODEL.md, "Training recipe v2"):

* **Loss**: the squared similarity-Procrustes error plus the squared camera-frame error (centroid and scale
  matched), each a mean over joints, averaged over samples. The detached alignments are the exact optima of these
  squared sums, so the gradient is exact (envelope theorem) and has no component along the similarity directions
  of the prediction (``tests/training/test_loss.py``).
* **Schedule**: phase 1 (the first ``phase1`` of the steps) trains on people alone: mocap through its own rigs
  (files weighted by the square root of their frame count), the standard detector layouts a minority, joint
  dropping, mirroring and proportion jitter. Phase 2 adds the rest of the variants, the Rigify humans and every
  other category while people stay at least half of the draws. One rig per step of about ``tokens`` joints
  (at most 256 samples); AdamW, decay on weight matrices only; linear warm-up, cosine to ``min_lr`` of the peak;
  gradient clipping; an EMA of the weights, which is what is exported and monitored.
* **Monitor**: every ``--eval-every`` steps, on held-out clips (an HDM05 actor who is never trained on): the EMA
  model's PA-MPJPE and N-MPJPE against the flat lift's, and the depth-extent ratio (std of the predicted camera
  depth over the true one); a run that stays flat shows it within minutes.

CUDA is used when available (``--device``).
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
from lfm_engine.geometry import (  # noqa: E402
    centred_scale_align,
    n_mpjpe,
    n_squared_error,
    pa_mpjpe,
    pa_squared_error,
)
from lfm_engine.model import LFMModel  # noqa: E402
from lfm_engine.weights import save_weights  # noqa: E402
from training.data.mix import phase_entries, training_sets  # noqa: E402
from training.data.sampler import NO_AUGMENT, Augment, Batch, Sampler, make_batch  # noqa: E402

PHASE1_AUGMENT = Augment(subset=0.3, subset_drop=(0.0, 0.4), densify=0.0, mirror=0.5, drop_sides=0.0,
                         proportions=0.7, corrupt=0.3)  # fmt: skip
PHASE2_AUGMENT = Augment(subset=0.3, subset_drop=(0.0, 0.5), densify=0.15, mirror=0.5, drop_sides=0.1,
                         proportions=0.5, corrupt=0.5)  # fmt: skip


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on (saved in the checkpoint and the exported weights' metadata)."""

    model: ModelConfig = field(default_factory=lambda: ModelConfig(camera_alignment="direct"))
    steps: int = 12000  # optimiser steps (the schedule's length); --minutes stops earlier
    phase1: float = 0.5  # fraction of the steps on people alone
    tokens: int = 8192  # joints per step (one rig; at most max_samples samples)
    max_samples: int = 256
    lr: float = 1e-3
    min_lr: float = 0.05  # the cosine ends at this fraction of lr
    warmup: int = 300
    weight_decay: float = 0.05  # on weight matrices only
    clip: float = 1.0  # gradient-norm clipping
    ema: float = 0.999  # EMA decay of the exported weights
    camera_loss_weight: float = 1.0  # weight of the squared camera-frame term next to the squared PA term
    seed: int = 0
    hdm05: str = "train"  # "train": HDM05 but the held-out actor; "none": no HDM05 (cross-dataset); "all"
    held_out_subject: str = "tr"  # the HDM05 actor of the monitor and of evaluate.py's protocol (a)
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
        return cls(**d)


def to_torch(batch: Batch, device: torch.device) -> tuple[torch.Tensor, ...]:
    return (
        torch.from_numpy(batch.points).to(device),
        torch.from_numpy(batch.visible).to(device),
        torch.from_numpy(batch.adjacency).to(device),
        torch.from_numpy(batch.side).to(device),
        torch.from_numpy(batch.target).to(device),
    )


def procrustean_loss(pred: torch.Tensor, target: torch.Tensor, camera_weight: float) -> torch.Tensor:
    """The training loss of ``(B, J, 3)`` predictions: mean squared PA error + ``camera_weight`` x mean squared
    camera-frame error, over every joint (occluded ones too), averaged over the batch. Exact gradient (see
    :func:`lfm_engine.geometry.pa_squared_error`)."""
    return pa_squared_error(pred, target).mean() + camera_weight * n_squared_error(pred, target).mean()


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up over ``cfg.warmup`` steps, then a cosine from ``cfg.lr`` to ``cfg.min_lr * cfg.lr``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = min((step - cfg.warmup) / max(cfg.steps - cfg.warmup, 1), 1.0)
    return cfg.lr * (cfg.min_lr + (1 - cfg.min_lr) * 0.5 * (1 + math.cos(math.pi * t)))


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on the weight matrices only (not on LayerNorms, biases, the mask token or the side
    embedding)."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and not n.startswith("side.")]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and not n.startswith("side."))]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.99))


class EMA:
    """Exponential moving average of a model's parameters and buffers (the exported weights)."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))  # a short average early on
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                self.state[k].mul_(d).add_(v.detach(), alpha=1 - d)
            else:
                self.state[k].copy_(v)


# ------------------------------------------------------------------------------------------------- the monitor
def monitor_batches(cfg: TrainConfig, frames: int = 256) -> dict[str, list[Batch]]:
    """Fixed clean batches for the depth monitor: the held-out HDM05 actor on its own rig and as COCO-17
    (pinhole and orthographic views as in training). For watching a run only: nothing is chosen by it."""
    from training.data.mocap import standard_layouts
    from training.data.sources import PoseSet, held_out_human

    _train, test = held_out_human(cfg.shared, cfg.held_out_subject)
    coco = PoseSet(f"{test.name}:coco17", "human", *standard_layouts(test.positions, test.rig)["coco17"])
    rng = np.random.default_rng(1234)
    return {
        name: [make_batch(s, rng, frames * s.rig.num_joints, corrupt=False, augment=NO_AUGMENT, max_samples=frames)
               for _ in range(2)]
        for name, s in ((test.name, test), (coco.name, coco))
    }  # fmt: skip


def depth_report(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Mean PA-MPJPE, N-MPJPE and the depth-extent ratio of ``(B, J, 3)`` predictions: the std over joints of the
    camera depth after matching centroid and scale, over that of the target (averaged over samples first)."""
    aligned = centred_scale_align(pred, target)
    z_pred, z_true = aligned[..., 2].std(-1), target[..., 2].std(-1)  # (B,)
    return {
        "pa": pa_mpjpe(pred, target).mean().item(),
        "n": n_mpjpe(pred, target).mean().item(),
        "depth_ratio": (z_pred.mean() / z_true.mean().clamp_min(1e-9)).item(),
    }


@torch.no_grad()
def run_monitor(model: LFMModel, batches: dict[str, list[Batch]], device: torch.device) -> dict[str, float]:
    """``{set/metric: value}``: model and flat PA-MPJPE and N-MPJPE (normalised units), their ratio, and the
    depth-extent ratio, on each monitor set."""
    model.eval()
    out = {}
    for name, bs in batches.items():
        rows, flats = [], []
        for b in bs:
            points, visible, adj, side, target = to_torch(b, device)
            pred = model(points, visible, adj, side)
            rows.append(depth_report(pred, target))
            flat = torch.nn.functional.pad(points, (0, 1))
            flats.append(depth_report(flat, target))
        m = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        f = {k: float(np.mean([r[k] for r in flats])) for k in ("pa", "n")}
        short = name.split("_", 1)[-1]
        out[f"{short}/pa_vs_flat"] = round(m["pa"] / f["pa"] - 1, 4)
        out[f"{short}/n_vs_flat"] = round(m["n"] / f["n"] - 1, 4)
        out[f"{short}/depth_ratio"] = round(m["depth_ratio"], 3)
        out[f"{short}/pa"] = round(m["pa"], 4)
    model.train()
    return out


# ------------------------------------------------------------------------------------------------- the loop
def resolve_config(state: dict | None, config_path: str | None, overrides: dict) -> TrainConfig:
    """The checkpoint's config when resuming; otherwise the defaults with ``--config`` and flags applied."""
    if state is not None:
        return TrainConfig.from_dict(state["config"])
    base = TrainConfig().to_dict()
    if config_path:
        with open(config_path) as f:
            loaded = json.load(f)
        base["model"].update(loaded.pop("model", {}))
        base.update(loaded)
    base.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig.from_dict(base)


def save_checkpoint(path: str, cfg: TrainConfig, model: LFMModel, ema: EMA, opt, step: int, elapsed: float) -> None:
    tmp = path + ".tmp"
    torch.save({"config": cfg.to_dict(), "model": model.state_dict(), "ema": ema.state,
                "optimizer": opt.state_dict(), "step": step, "elapsed": elapsed}, tmp)  # fmt: skip
    os.replace(tmp, path)  # never a half-written checkpoint


def export(path: str, cfg: TrainConfig, ema_state: dict, step: int, elapsed: float) -> None:
    """Write the EMA weights (what ``Lifter.from_pretrained`` loads), atomically."""
    info = {"steps": step, "train_minutes": round(elapsed / 60, 1), "config": cfg.to_dict(), "weights": "EMA"}
    tmp = path + ".tmp.safetensors"
    save_weights(tmp, cfg.model, ema_state, training=info)
    os.replace(tmp, path)


class Schedule:
    """The phase-1 and phase-2 samplers; ``sampler(step)`` is the one for that step."""

    def __init__(self, cfg: TrainConfig, seed: int):
        sets = training_sets(cfg.shared, cfg.cache, hdm05=cfg.hdm05, held_out_subject=cfg.held_out_subject)
        self.phase1_steps = int(cfg.phase1 * cfg.steps)
        kw = {"tokens": cfg.tokens, "max_samples": cfg.max_samples}
        self.samplers = (
            Sampler(phase_entries(sets, 1), seed=seed, augment=PHASE1_AUGMENT, **kw),
            Sampler(phase_entries(sets, 2), seed=seed + 1, augment=PHASE2_AUGMENT, **kw),
        )
        self.sets = sets

    def sampler(self, step: int) -> Sampler:
        return self.samplers[0 if step < self.phase1_steps else 1]


def train_step(model: LFMModel, opt, ema: EMA, batch: Batch, cfg: TrainConfig, step: int, device) -> float:
    """One optimiser step on one micro-batch; returns the loss."""
    for group in opt.param_groups:
        group["lr"] = lr_at(step, cfg)
    model.train()
    points, visible, adj, side, target = to_torch(batch, device)
    loss = procrustean_loss(model(points, visible, adj, side), target, cfg.camera_loss_weight)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
    opt.step()
    ema.update(model, step)
    return loss.item()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run folder: checkpoint.pt, ema.safetensors, log.jsonl")
    ap.add_argument("--config", help="JSON file of TrainConfig fields to override (new runs only)")
    ap.add_argument("--steps", type=int, help="override TrainConfig.steps (new runs only)")
    ap.add_argument("--hdm05", choices=["train", "none", "all"], help="override TrainConfig.hdm05 (new runs only)")
    ap.add_argument("--minutes", type=float, default=0, help="stop (with a checkpoint) after this long; 0 = no limit")
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, ...")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--checkpoint-every", type=int, default=250, help="steps between checkpoints and monitor rows")
    ap.add_argument("--export", help="write the run's EMA weights to this .safetensors file and exit")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device)
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    state = torch.load(ckpt_path, weights_only=False, map_location=device) if os.path.exists(ckpt_path) else None
    cfg = resolve_config(state, args.config, {"steps": args.steps, "hdm05": args.hdm05})
    torch.manual_seed(cfg.seed)
    model = LFMModel(cfg.model).to(device)
    opt = make_optimizer(model, cfg)
    ema = EMA(model, cfg.ema)
    step, elapsed = 0, 0.0
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        ema.state = state["ema"]
        step, elapsed = state["step"], state["elapsed"]
    if args.export:
        if state is None:
            sys.exit(f"{ckpt_path}: no checkpoint to export")
        export(args.export, cfg, ema.state, step, elapsed)
        print(f"wrote {args.export} (EMA weights, step {step}, {elapsed / 60:.1f} min of training)")
        return
    schedule = Schedule(cfg, seed=cfg.seed + 1000 * step)  # a resumed run continues with fresh draws
    watch = monitor_batches(cfg)
    ema_model = LFMModel(cfg.model).to(device)
    names = sorted({s.name for s, _ in phase_entries(schedule.sets, 2)})
    print(f"{model.num_parameters():,} parameters on {device}; step {step}/{cfg.steps} (phase 1 until "
          f"{schedule.phase1_steps}); {len(names)} pose sets: {', '.join(names)}", flush=True)  # fmt: skip
    t_start = last = time.time()
    seen, losses = 0, []
    with open(os.path.join(args.out, "log.jsonl"), "a") as log:
        while step < cfg.steps:
            batch = schedule.sampler(step).batch()
            losses.append(train_step(model, opt, ema, batch, cfg, step, device))
            step, seen = step + 1, seen + len(batch.points)
            total = elapsed + time.time() - t_start
            out_of_time = bool(args.minutes) and total > args.minutes * 60
            if step % args.checkpoint_every and step != cfg.steps and not out_of_time:
                continue
            ema_model.load_state_dict(ema.state)
            rec = {"step": step, "phase": 1 if step <= schedule.phase1_steps else 2, "minutes": round(total / 60, 2),
                   "lr": round(lr_at(step, cfg), 6), "loss": round(float(np.mean(losses)), 5),
                   "samples_per_s": round(seen / (time.time() - last), 1),
                   **run_monitor(ema_model, watch, device)}  # fmt: skip
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            save_checkpoint(ckpt_path, cfg, model, ema, opt, step, total)
            export(os.path.join(args.out, "ema.safetensors"), cfg, ema.state, step, total)
            seen, losses, last = 0, [], time.time()
            if out_of_time:
                print(f"stopped after {args.minutes} minutes at step {step}; run again to resume", flush=True)
                break


if __name__ == "__main__":
    main()
