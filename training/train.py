"""Train the 3D-LFM lifter: people first, then every category; resumable; exports the EMA weights.

    make data                                                     # synthetic categories, once (about a minute)
    nohup .venv/bin/python training/train.py --out runs/lfm_v2 --threads 1 > runs/lfm_v2.log 2>&1 &
    .venv/bin/python training/train.py --out runs/lfm_v2 --export lfm_engine/weights/lfm_v2.safetensors
    torchrun --nproc_per_node 2 training/train.py --out runs/x    # data parallel (gloo on CPU, NCCL on GPUs)

Run it again with the same ``--out`` to resume from ``checkpoint.pt``, under any number of processes (the schedule
is in steps, or in minutes with ``schedule_minutes``). Every checkpoint also writes ``ema.safetensors``, the
exported EMA weights, so a run stopped at any time leaves usable weights.

The recipe (docs/MODEL.md, "Training recipe v2"):

* **Loss**: the squared similarity-Procrustes error plus the squared camera-frame error (centroid and scale
  matched), each a mean over joints, averaged over samples. The detached alignments are the exact optima of these
  squared sums, so the gradient is exact (envelope theorem) and has no component along the similarity directions
  of the prediction (``tests/training/test_loss.py``).
* **Schedule**: phase 1 (the first ``phase1`` of the schedule) trains on people alone: mocap through its own rigs
  (files weighted by the square root of their frame count), the standard detector layouts a minority, joint
  dropping, mirroring and proportion jitter. Phase 2 adds the rest of the variants, the Rigify humans and every
  other category while people stay at least half of the draws. Each micro-batch is one rig of about ``tokens``
  joints (at most ``max_samples`` samples); a step is ``micro_batches`` of them on every rank. AdamW, decay on
  weight matrices only; linear warm-up, cosine to ``min_lr`` of the peak; gradient clipping; an EMA of the
  weights, which is what is exported and monitored.
* **Monitor** (:mod:`training.monitor`): every ``--checkpoint-every`` steps, on held-out clips, the EMA model's
  errors against the flat lift's and the depth-extent ratio; a run that stays flat shows it within minutes.

CUDA is used when available (``--device``), with bf16 autocast (``amp``) and fp32 master weights.
"""

from __future__ import annotations

import argparse
import contextlib
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
from lfm_engine.geometry import n_squared_error, pa_squared_error  # noqa: E402
from lfm_engine.model import LFMModel  # noqa: E402
from lfm_engine.weights import save_weights  # noqa: E402
from training import distributed  # noqa: E402
from training.data.mix import phase_entries, training_sets  # noqa: E402
from training.data.sampler import Augment, Batch  # noqa: E402
from training.data.stream import BatchStream, batch_tensors, stream_loader  # noqa: E402
from training.monitor import monitor_batches, run_monitor  # noqa: E402

PHASE1_AUGMENT = Augment(subset=0.3, subset_drop=(0.0, 0.4), densify=0.0, mirror=0.5, drop_sides=0.0,
                         proportions=0.7, corrupt=0.3)  # fmt: skip
PHASE2_AUGMENT = Augment(subset=0.3, subset_drop=(0.0, 0.5), densify=0.15, mirror=0.5, drop_sides=0.1,
                         proportions=0.5, corrupt=0.5)  # fmt: skip


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on (saved in the checkpoint and the exported weights' metadata)."""

    model: ModelConfig = field(default_factory=lambda: ModelConfig(camera_alignment="direct"))
    steps: int = 8000  # optimiser steps (the schedule's length); --minutes stops earlier
    phase1: float = 0.55  # fraction of the schedule on people alone
    tokens: int = 8192  # joints per micro-batch (one rig; at most max_samples samples)
    max_samples: int = 256
    micro_batches: int = 1  # micro-batches per step and rank (the global batch: world size x this)
    schedule_minutes: float = 0.0  # > 0: warm-up aside, the schedule follows training time over this many
    # minutes instead of steps, and the run ends there (a fixed wall-clock budget, e.g. a lent GPU)
    amp: str = "auto"  # "auto": bf16 autocast on CUDA, none on CPU; "bf16"; "none"
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
    exclude: tuple[str, ...] = ()  # pose-set name prefixes left out (e.g. the held-out-category protocol)
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
        d["exclude"] = tuple(d.get("exclude", ()))
        return cls(**d)


def to_torch(batch: Batch, device: torch.device) -> tuple[torch.Tensor, ...]:
    return tuple(t.to(device) for t in batch_tensors(batch))


def procrustean_loss(pred: torch.Tensor, target: torch.Tensor, camera_weight: float) -> torch.Tensor:
    """The training loss of ``(B, J, 3)`` predictions: mean squared PA error + ``camera_weight`` x mean squared
    camera-frame error, over every joint (occluded ones too), averaged over the batch. Exact gradient (see
    :func:`lfm_engine.geometry.pa_squared_error`)."""
    return pa_squared_error(pred, target).mean() + camera_weight * n_squared_error(pred, target).mean()


def progress(step: int, seconds: float, cfg: TrainConfig) -> float:
    """How far through the schedule a run is, 0 to 1: by steps, or by training time with ``schedule_minutes``."""
    if cfg.schedule_minutes > 0:
        return min(seconds / (60 * cfg.schedule_minutes), 1.0)
    return min(step / cfg.steps, 1.0)


def lr_at(step: int, t: float, cfg: TrainConfig) -> float:
    """Linear warm-up over ``cfg.warmup`` steps, then a cosine over the schedule's progress ``t`` (0 to 1) from
    ``cfg.lr`` to ``cfg.min_lr * cfg.lr``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
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


def save_checkpoint(path: str, cfg: TrainConfig, model: LFMModel, ema: EMA, opt, step: int, elapsed: float,
                    used: list[int]) -> None:  # fmt: skip
    tmp = path + ".tmp"
    torch.save({"config": cfg.to_dict(), "model": model.state_dict(), "ema": ema.state, "optimizer": opt.state_dict(),
                "step": step, "elapsed": elapsed, "batches_used": used}, tmp)  # fmt: skip
    os.replace(tmp, path)  # never a half-written checkpoint


def export(path: str, cfg: TrainConfig, ema_state: dict, step: int, elapsed: float) -> None:
    """Write the EMA weights (what ``Lifter.from_pretrained`` loads), atomically."""
    info = {"steps": step, "train_minutes": round(elapsed / 60, 1), "config": cfg.to_dict(), "weights": "EMA"}
    tmp = path + ".tmp.safetensors"
    save_weights(tmp, cfg.model, ema_state, training=info)
    os.replace(tmp, path)


class Streams:
    """The micro-batch streams of this rank, per phase: ``next(phase)`` -> the step's ``micro_batches`` batches.

    Rank ``r`` reads streams ``r * M`` to ``r * M + M - 1`` of each phase (``M`` = ``cfg.micro_batches``), so the
    global batch depends on the world size times ``M`` only (:mod:`training.data.stream`).
    """

    def __init__(self, cfg: TrainConfig, ranks: distributed.Ranks, used: list[int], workers: int, pin: bool):
        sets = training_sets(cfg.shared, cfg.cache, hdm05=cfg.hdm05, held_out_subject=cfg.held_out_subject)
        sets = [s for s in sets if not s.name.startswith(cfg.exclude)] if cfg.exclude else sets
        self.names = sorted({s.name for s, _ in phase_entries(sets, 2)})
        M = cfg.micro_batches
        ids = range(ranks.rank * M, ranks.rank * M + M)
        augments = (PHASE1_AUGMENT, PHASE2_AUGMENT)
        self.phases = [[BatchStream(phase_entries(sets, p + 1), augments[p], (cfg.seed, s, p), used[p], cfg.tokens,
                                    cfg.max_samples) for s in ids] for p in range(2)]  # fmt: skip
        self.used = list(used)  # batches each phase's streams have given (saved in the checkpoint)
        self.workers, self.pin = workers, pin
        self.iters: dict[int, list] = {}

    def next(self, phase: int) -> list[tuple[torch.Tensor, ...]]:
        if phase not in self.iters:  # the first step of a phase: start its loaders (and end the other's)
            self.iters = {phase: [stream_loader(s, self.workers, self.pin) for s in self.phases[phase]]}
        self.used[phase] += 1
        return [next(it) for it in self.iters[phase]]


def autocast(cfg: TrainConfig, device: torch.device):
    """bf16 autocast of the forward pass (fp32 master weights; the loss is computed in fp32)."""
    on = cfg.amp == "bf16" or (cfg.amp == "auto" and device.type == "cuda")
    return torch.autocast(device.type, dtype=torch.bfloat16) if on else contextlib.nullcontext()


def train_step(model, opt, ema: EMA, batches, cfg: TrainConfig, step: int, lr: float, device) -> tuple[float, int]:
    """One optimiser step over this rank's micro-batches: (mean loss, samples). ``model`` may be DDP-wrapped."""
    for group in opt.param_groups:
        group["lr"] = lr
    model.train()
    opt.zero_grad(set_to_none=True)
    loss_sum, seen = 0.0, 0
    for k, tensors in enumerate(batches):
        points, visible, adj, side, target = (t.to(device, non_blocking=True) for t in tensors)
        sync = k == len(batches) - 1 or not hasattr(model, "no_sync")  # all-reduce once, after the last one
        with contextlib.nullcontext() if sync else model.no_sync():
            with autocast(cfg, device):
                pred = model(points, visible, adj, side)
            loss = procrustean_loss(pred.float(), target, cfg.camera_loss_weight)
            (loss / len(batches)).backward()
        loss_sum += loss.item()
        seen += len(points)
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
    opt.step()
    ema.update(getattr(model, "module", model), step)
    return loss_sum / len(batches), seen


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="run folder: checkpoint.pt, ema.safetensors, log.jsonl")
    ap.add_argument("--config", help="JSON file of TrainConfig fields to override (new runs only)")
    ap.add_argument("--steps", type=int, help="override TrainConfig.steps (new runs only)")
    ap.add_argument("--hdm05", choices=["train", "none", "all"], help="override TrainConfig.hdm05 (new runs only)")
    ap.add_argument("--minutes", type=float, default=0, help="stop (with a checkpoint) after this long; 0 = no limit")
    ap.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda, ...")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads per process (0: torch's default)")
    ap.add_argument("--workers", type=int, default=0, help="DataLoader worker processes per stream (0: inline)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (off by default)")
    ap.add_argument("--checkpoint-every", type=int, default=250, help="steps between checkpoints and monitor rows")
    ap.add_argument("--micro-batches", type=int, help="override TrainConfig.micro_batches, also when resuming (keep "
                    "world size x micro-batches to keep the global batch)")  # fmt: skip
    ap.add_argument("--amp", choices=["auto", "bf16", "none"], help="override TrainConfig.amp, also when resuming "
                    "(bf16 autocast: about 3x faster on CPUs with AVX512-BF16; docs/BENCHMARKS.md)")  # fmt: skip
    ap.add_argument("--until-step", type=int, default=0, help="stop (with a checkpoint) at this step; 0 = no limit")
    ap.add_argument("--shared", help="the shared data folder (default: the config's); also when resuming")
    ap.add_argument("--cache", help="the synthetic pose cache (default: the config's); also when resuming")
    ap.add_argument("--export", help="write the run's EMA weights to this .safetensors file and exit")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    ranks, device = distributed.init(args.device)
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "checkpoint.pt")
    state = torch.load(ckpt_path, weights_only=False, map_location=device) if os.path.exists(ckpt_path) else None
    cfg = resolve_config(state, args.config, {"steps": args.steps, "hdm05": args.hdm05})
    runtime = {"shared": args.shared, "cache": args.cache, "micro_batches": args.micro_batches, "amp": args.amp}
    cfg = dataclasses.replace(cfg, **{k: v for k, v in runtime.items() if v})  # also when resuming
    torch.manual_seed(cfg.seed)
    model = LFMModel(cfg.model).to(device)
    opt = make_optimizer(model, cfg)
    ema = EMA(model, cfg.ema)
    step, elapsed, used = 0, 0.0, [0, 0]
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        ema.state = {k: v.to(device) for k, v in state["ema"].items()}
        step, elapsed = state["step"], state["elapsed"]
        used = state.get("batches_used", [step, 0])
    if args.export:
        if state is None:
            sys.exit(f"{ckpt_path}: no checkpoint to export")
        if ranks.main:
            export(args.export, cfg, ema.state, step, elapsed)
            print(f"wrote {args.export} (EMA weights, step {step}, {elapsed / 60:.1f} min of training)")
        distributed.finish(ranks)
        return
    net = distributed.wrap(torch.compile(model) if args.compile else model, ranks, device)
    streams = Streams(cfg, ranks, used, args.workers, pin=device.type == "cuda")
    watch = monitor_batches(cfg.shared, cfg.held_out_subject) if ranks.main else {}
    ema_model = LFMModel(cfg.model).to(device)
    if ranks.main:
        print(f"{model.num_parameters():,} parameters on {device} x {ranks.world} rank(s), {cfg.micro_batches} "
              f"micro-batch(es) each; step {step}/{cfg.steps}; {len(streams.names)} pose sets: "
              f"{', '.join(streams.names)}", flush=True)  # fmt: skip
    t_start = last = time.time()
    seen, losses = 0, []
    stop = progress(step, elapsed, cfg) >= 1.0  # a finished run resumed: nothing to do
    log_path = os.path.join(args.out, "log.jsonl")
    with open(log_path, "a") if ranks.main else contextlib.nullcontext() as log:
        while not stop:
            total = elapsed + time.time() - t_start
            t = progress(step, total, cfg)
            phase = 0 if t < cfg.phase1 else 1
            lr = lr_at(step, t, cfg)
            loss, n = train_step(net, opt, ema, streams.next(phase), cfg, step, lr, device)
            step, seen = step + 1, seen + n
            losses.append(loss)
            total = elapsed + time.time() - t_start
            out_of_time = (bool(args.minutes) and total > args.minutes * 60) or step == args.until_step
            stop = distributed.agree(out_of_time or progress(step, total, cfg) >= 1.0, ranks, device)  # rank 0's
            if step % args.checkpoint_every and not stop:
                continue
            samples = distributed.total(seen, ranks, device)
            mean_loss = distributed.total(float(np.mean(losses)), ranks, device) / ranks.world
            if ranks.main:
                ema_model.load_state_dict(ema.state)
                rec = {"step": step, "phase": phase + 1, "minutes": round(total / 60, 2), "lr": round(lr, 6),
                       "loss": round(mean_loss, 7),
                       "samples_per_s": round(samples / (time.time() - last), 1),
                       **run_monitor(ema_model, watch, device)}  # fmt: skip
                print(json.dumps(rec), flush=True)
                log.write(json.dumps(rec) + "\n")
                log.flush()
                save_checkpoint(ckpt_path, cfg, model, ema, opt, step, total, streams.used)
                export(os.path.join(args.out, "ema.safetensors"), cfg, ema.state, step, total)
                if stop and progress(step, total, cfg) < 1.0:
                    print(f"stopped at step {step} ({total / 60:.1f} min); run again to resume", flush=True)
            distributed.barrier(ranks)
            seen, losses, last = 0, [], time.time()
    distributed.finish(ranks)


if __name__ == "__main__":
    main()
