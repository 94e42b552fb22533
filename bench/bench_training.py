"""Training throughput on this machine (docs/BENCHMARKS.md, "Training"): samples per second of

* the data alone: :class:`training.data.stream.BatchStream` inline and in 1 and 2 DataLoader workers (phase 1
  and phase 2 mixes);
* one training step of the shipped recipe (d = 128, 4 layers; one rig of up to 256 samples), split into data,
  forward + loss, backward and optimiser, in fp32 and with bf16 autocast, on 1 and 2 threads;
* 2 gloo ranks under torchrun (``--ranks``; each rank one thread), from the run's own log.

    .venv/bin/python bench/bench_training.py [--steps 30] [--threads 1 2] [--ranks]

Medians over ``--steps`` steps after 5 warm-up steps. The machine's load is printed first: the figures mean
something only on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from lfm_engine.model import LFMModel  # noqa: E402
from training import train  # noqa: E402
from training.data.mix import phase_entries, training_sets  # noqa: E402
from training.data.stream import BatchStream, stream_loader  # noqa: E402


def data_rate(entries, augment, workers: int, batches: int = 60) -> float:
    cfg = train.TrainConfig()
    it = stream_loader(BatchStream(entries, augment, (0, 0, 0), 0, cfg.tokens, cfg.max_samples), workers)
    for _ in range(max(workers, 1) * 3):  # warm-up (workers start)
        next(it)
    t, n = time.perf_counter(), 0
    for _ in range(batches):
        n += len(next(it)[0])
    return n / (time.perf_counter() - t)


def step_profile(entries, augment, amp: str, steps: int) -> dict[str, float]:
    """Median seconds per step of each part, and samples per second of the whole step."""
    cfg = train.TrainConfig(amp=amp)
    model = LFMModel(cfg.model)
    opt = train.make_optimizer(model, cfg)
    ema = train.EMA(model, cfg.ema)
    it = iter(BatchStream(entries, augment, (0, 0, 0), 0, cfg.tokens, cfg.max_samples))
    parts: dict[str, list[float]] = {"data": [], "forward+loss": [], "backward": [], "optimiser+ema": []}
    samples = []
    device = torch.device("cpu")
    for k in range(steps + 5):
        t0 = time.perf_counter()
        points, visible, adj, side, target = next(it)
        t1 = time.perf_counter()
        with train.autocast(cfg, device):
            pred = model(points, visible, adj, side)
        loss = train.procrustean_loss(pred.float(), target, 1.0)
        t2 = time.perf_counter()
        opt.zero_grad()
        loss.backward()
        t3 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema.update(model, k)
        t4 = time.perf_counter()
        if k >= 5:
            for name, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                parts[name].append(dt)
            samples.append(len(points) / (t4 - t0))
    out = {name: float(np.median(v)) for name, v in parts.items()}
    out["samples_per_s"] = float(np.median(samples))
    return out


def ranks_rate(ranks: int, steps: int) -> float:
    """Samples per second of a ``ranks``-process gloo run of the recipe (one thread each), from its log."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(ranks),
               os.path.join(ROOT, "training", "train.py"), "--out", tmp, "--threads", "1", "--device", "cpu",
               "--checkpoint-every", str(steps // 2), "--until-step", str(steps)]  # fmt: skip
        subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        with open(os.path.join(tmp, "log.jsonl")) as f:
            log = [json.loads(line) for line in f]
        return float(log[-1]["samples_per_s"])  # the second half (the first includes start-up)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--ranks", action="store_true", help="also time 1 and 2 gloo ranks under torchrun")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; torch {torch.__version__}")
    cfg = train.TrainConfig()
    sets = training_sets(cfg.shared, cfg.cache)
    phases = {1: (phase_entries(sets, 1), train.PHASE1_AUGMENT), 2: (phase_entries(sets, 2), train.PHASE2_AUGMENT)}
    torch.set_num_threads(1)
    for p, (entries, aug) in phases.items():
        rates = {w: data_rate(entries, aug, w) for w in (0, 1, 2)}
        print(f"data alone, phase {p}: " + ", ".join(f"{w} workers {r:,.0f}" for w, r in rates.items()) + " samples/s")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for amp in ("none", "bf16"):
            prof = step_profile(*phases[1], amp, args.steps)
            split = ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in prof.items() if k != "samples_per_s")
            print(f"train step, phase 1, {threads} thread(s), amp {amp}: {prof['samples_per_s']:,.0f} samples/s "
                  f"({split})", flush=True)  # fmt: skip
    if args.ranks:
        for ranks in (1, 2):
            print(f"torchrun, {ranks} gloo rank(s) x 1 thread: {ranks_rate(ranks, 40):,.0f} samples/s", flush=True)


if __name__ == "__main__":
    main()
