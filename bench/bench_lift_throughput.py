"""Lifting throughput (frames/s) of the default-size model, torch fp32 and numpy, for several joint counts.

Random weights of the shipped architecture (speed does not depend on the values). Run: `make bench` or
`.venv/bin/python bench/bench_lift_throughput.py [--frames N]`. Issue 7 extends this (bf16, matmul peak ratio).
"""

import argparse
import platform
import time

import numpy as np
import torch

from lfm_engine import Lifter, ModelConfig, Weights
from lfm_engine.model import LFMModel


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=2048)
    ap.add_argument("--joints", type=int, nargs="+", default=[17, 33, 133])
    args = ap.parse_args()
    cfg = ModelConfig()
    torch.manual_seed(0)
    tensors = {k: v.numpy() for k, v in LFMModel(cfg).state_dict().items()}
    weights = Weights(cfg, tensors, source="random")
    print(f"machine: {platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}")
    print(f"model: {sum(v.size for v in tensors.values()) / 1e6:.2f} M parameters, {args.frames} frames per run")
    rng = np.random.default_rng(0)
    print(f"{'joints':>6} {'torch fp32 f/s':>15} {'numpy f/s':>10} {'torch/numpy':>12}")
    for J in args.joints:
        pts = rng.uniform(0, 1000, (args.frames, J, 2))
        rates = []
        for backend in ("torch", "numpy"):
            lifter = Lifter(weights, backend=backend, device="cpu")
            lifter.lift(pts[:64])  # warm-up
            n = args.frames if backend == "torch" else max(args.frames // 4, 64)
            t0 = time.perf_counter()
            lifter.lift(pts[:n])
            rates.append(n / (time.perf_counter() - t0))
        print(f"{J:>6} {rates[0]:>15.0f} {rates[1]:>10.0f} {rates[0] / rates[1]:>12.2f}")


if __name__ == "__main__":
    main()
