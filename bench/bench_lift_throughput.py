"""Lifting throughput of the shipped model: frames/s by joint count, batch size, precision and backend.

For 17, 33, 133 and 543 joints (COCO-17, MediaPipe pose, COCO-WholeBody, MediaPipe holistic) it times
``Lifter.lift`` (the whole call: normalisation, model, camera placement) with torch fp32, torch bf16 autocast and
the numpy backend (the add-on's path inside Blender, which has no torch), at several batch sizes (frames per model
call) and at the lifter's own choice ("auto"). It then counts the model's floating-point operations and compares
the achieved rate with the machine's matrix-multiply rate measured here at the model's own sizes (the
transformer's matrix products alone, nothing else) and with a large square matrix product (the machine's peak).
Last, the accuracy price of bf16: PA-MPJPE on held-out HDM05 frames (needs ../shared/data) with fp32, bf16 and
numpy.

Run: ``make bench`` or ``.venv/bin/python bench/bench_lift_throughput.py [--quick]``; figures in docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lfm_engine import Lifter, available_rigs, get_rig, load_weights  # noqa: E402
from lfm_engine.config import ModelConfig  # noqa: E402
from lfm_engine.lifter import ATTENTION_BUDGET  # noqa: E402

LAYOUTS = {17: "coco17", 33: "mediapipe_pose33", 133: "coco_wholebody133", 543: "mediapipe_holistic543"}
#: issue 17: frames/s on these 2-core CPU machines, (torch, numpy backend); issue 7's 2,000 and 300 with a 1.3x margin
TARGETS = {33: (2600.0, 1000.0), 133: (400.0, 160.0)}


def model_flops(config: ModelConfig, joints: int) -> float:
    """Floating-point operations (2 per multiply-add) of one frame through the model."""
    D, J, F, L = config.d_model, joints, config.fourier_features, config.n_layers
    tpe = J * (2 * F + 2) * D
    per_layer = J * D * 6 * D + 4 * J * J * D + J * 2 * D * D + 2 * J * D * config.mlp_ratio * D
    head = J * D * D + J * D * 3
    return 2.0 * (tpe + L * per_layer + head)


def best_time(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def matmul_rate(shapes: list[tuple[int, int, int]], dtype: torch.dtype, repeats: int = 3) -> float:
    """GFLOP/s of the matrix products ``(M, K) @ (K, N)`` for each shape, run back to back."""
    mats = [(torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)) for m, k, n in shapes]
    flops = sum(2.0 * m * k * n for m, k, n in shapes)

    def run():
        for a, b in mats:
            torch.mm(a, b)

    run()
    return flops / best_time(run, repeats) / 1e9


def model_matmul_shapes(config: ModelConfig, tokens: int) -> list[tuple[int, int, int]]:
    """The transformer's weight matrix products for ``tokens`` joint tokens (all layers and the head)."""
    D, H = config.d_model, config.mlp_ratio * config.d_model
    layer = [(tokens, D, 6 * D), (tokens, 2 * D, D), (tokens, D, H), (tokens, H, D)]
    return layer * config.n_layers + [(tokens, D, D)]


def lift_rate(lifter: Lifter, points: np.ndarray, rig, repeats: int = 3) -> float:
    """Median frames/s over ``repeats`` lifts of ``points``, after one warm-up lift of them all (this shared VM's
    speed varies by 10-20 % from run to run; the median is what to expect)."""
    lifter.lift(points, edges=rig)  # warm-up: allocations and oneDNN kernels for every chunk shape
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        lifter.lift(points, edges=rig)
        times.append(time.perf_counter() - t0)
    return len(points) / float(np.median(times))


def rig_for(joints: int):
    name = LAYOUTS[joints]
    if name in available_rigs():
        return get_rig(name)
    return None  # a k-nearest-neighbour graph (the lifter builds it)


def throughput(weights, quick: bool) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    print(f"\n{'joints':>6} {'batch':>6} {'fp32 f/s':>9} {'bf16 f/s':>9} {'numpy f/s':>9} {'bf16/fp32':>9}")
    for J, frames in ((17, 8192), (33, 4096), (133, 1024), (543, 256)):
        if quick:
            frames //= 4
        rig = rig_for(J)
        points = rng.uniform(100, 900, (frames, J, 2))  # speed does not depend on the values
        cap = max(1, ATTENTION_BUDGET // (2 * weights.config.n_heads * J * J))
        lifters = {p: Lifter(weights, backend="torch", device="cpu", precision=p) for p in ("fp32", "bf16")}
        auto = lifters["fp32"]._chunk(J)
        for batch in [b for b in (1, 16, 128, 1024) if b <= cap and b < frames] + ["auto"]:
            size = None if batch == "auto" else batch
            n = frames if batch != 1 else max(16, frames // 32)
            row = {"joints": J, "batch": batch if size else f"auto ({auto})"}
            for prec, lifter in lifters.items():
                lifter.chunk_size = size
                row[prec] = lift_rate(lifter, points[:n], rig)
            row["numpy"] = float("nan")
            if batch == "auto":
                row["numpy"] = lift_rate(Lifter(weights, backend="numpy"), points[: max(16, n // 4)], rig)
            print(f"{J:>6} {row['batch']!s:>6} {row['fp32']:>9.0f} {row['bf16']:>9.0f} {row['numpy']:>9.0f} "
                  f"{row['bf16'] / row['fp32']:>9.2f}")  # fmt: skip
            rows.append(row)
    return rows


def efficiency(weights, rows: list[dict]) -> None:
    config = weights.config
    tokens = 4096
    print(f"\nmatrix-multiply rate measured here (GFLOP/s, {torch.get_num_threads()} threads):")
    peak = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        square = matmul_rate([(2048, 2048, 2048)], dtype)
        same = matmul_rate(model_matmul_shapes(config, tokens), dtype)
        peak[name] = (square, same)
        print(f"  {name}: square 2048^3 {square:7.1f}   the model's products at {tokens} tokens {same:7.1f}")
    print("\nachieved by the whole lift (model FLOPs / lift time) at the lifter's own batch size:")
    print(f"{'joints':>6} {'GFLOP/frame':>11} {'prec':>5} {'GFLOP/s':>8} {'/ same-size mm':>14} {'/ square mm':>11}")
    for row in rows:
        if not str(row["batch"]).startswith("auto"):
            continue
        flops = model_flops(config, row["joints"])
        for prec in ("fp32", "bf16"):
            rate = row[prec] * flops / 1e9
            square, same = peak[prec]
            print(f"{row['joints']:>6} {flops / 1e9:>11.3f} {prec:>5} {rate:>8.1f} {rate / same:>14.2f} "
                  f"{rate / square:>11.2f}")  # fmt: skip


def accuracy(weights) -> None:
    shared = ROOT.parent / "shared" / "data"
    if not (shared / "mocap").is_dir():
        print("\naccuracy: ../shared/data not found, skipped")
        return
    from lfm_engine.geometry import pa_mpjpe
    from training.data.mocap import standard_layouts
    from training.evaluate import FOCAL, IMAGE, footage, held_out_human

    _, test = held_out_human(str(shared))
    rng = np.random.default_rng(7)
    idx = rng.choice(len(test), 2048, replace=False)
    sets = {"HDM05 own 27": (test.positions[idx], test.rig)}
    for name, (pos, rig) in standard_layouts(test.positions[idx], test.rig).items():
        if name in ("coco17", "mp33"):
            sets[f"HDM05 as {name}"] = (pos, rig)
    lifters = {
        "torch fp32": Lifter(weights, backend="torch", device="cpu", precision="fp32"),
        "torch bf16": Lifter(weights, backend="torch", device="cpu", precision="bf16"),
        "numpy fp32": Lifter(weights, backend="numpy"),
    }
    print("\naccuracy on 2048 held-out HDM05 frames (true focal length), PA-MPJPE mm, and bf16's largest joint move:")
    print(f"{'set':>18} " + " ".join(f"{k:>11}" for k in lifters) + f" {'bf16-fp32':>10} {'max move':>9}")
    for name, (pos, rig) in sets.items():
        uv, gt = footage(pos.astype(np.float64), np.random.default_rng(11))
        out = {k: lf.lift(uv, edges=rig, focal_length=FOCAL, principal_point=np.array(IMAGE) / 2).astype(np.float64)
               for k, lf in lifters.items()}  # fmt: skip
        pa = {k: float(pa_mpjpe(v, gt).mean()) for k, v in out.items()}
        move = float(np.abs(out["torch bf16"] - out["torch fp32"]).max())
        print(f"{name:>18} " + " ".join(f"{pa[k]:>11.2f}" for k in lifters)
              + f" {pa['torch bf16'] - pa['torch fp32']:>+10.2f} {move:>8.1f}mm")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a quarter of the frames (a rough look)")
    ap.add_argument("--weights", default=None, help="weights file (default: the shipped weights)")
    args = ap.parse_args()
    weights = load_weights(args.weights)
    cpu = platform.processor() or platform.machine()
    print(f"machine: {cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads, capability {torch.backends.cpu.get_cpu_capability()}, "
          f"bf16 instructions: {bool(torch.cpu._is_avx512_bf16_supported())}")  # fmt: skip
    n_params = sum(v.size for k, v in weights.tensors.items() if k != "tpe.frequencies")
    print(f"model: {weights.source}, {n_params / 1e6:.2f} M parameters, {weights.config.n_layers} layers, "
          f"d={weights.config.d_model}")  # fmt: skip
    print(f"cuda: {'available: ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'not available'}")
    rows = throughput(weights, args.quick)
    for J, (target, target_numpy) in TARGETS.items():
        default = next(r for r in rows if r["joints"] == J and str(r["batch"]).startswith("auto"))
        best = max(default["fp32"], default["bf16"])
        print(
            f"target {J} joints: torch >= {target:.0f} f/s: fp32 {default['fp32']:.0f}, bf16 {default['bf16']:.0f} "
            f"-> {'met' if best >= target else 'MISSED'} ({best / target:.2f}x); numpy >= {target_numpy:.0f}: "
            f"{default['numpy']:.0f} -> {'met' if default['numpy'] >= target_numpy else 'MISSED'} "
            f"({default['numpy'] / target_numpy:.2f}x)"
        )
    efficiency(weights, rows)
    accuracy(weights)
    if torch.cuda.is_available():
        print("\nCUDA:")
        for J in (33, 133, 543):
            pts = np.random.default_rng(0).uniform(100, 900, (8192 if J < 500 else 2048, J, 2))
            for prec in ("fp32", "bf16"):
                lifter = Lifter(weights, backend="torch", device="cuda", precision=prec)
                print(f"  {J:>4} joints {prec}: {lift_rate(lifter, pts, rig_for(J)):.0f} frames/s")


if __name__ == "__main__":
    main()
