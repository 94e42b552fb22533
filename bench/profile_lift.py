"""Where a lift's time goes: the shipped model at 33 and 133 joints, torch (bf16 and fp32) and the numpy backend.

``Lifter.lift`` is split into the model's forward passes and the rest (input checks, normalisation, depth from the
canonical shape, camera placement). Inside the model:

* torch: ``torch.profiler`` self-CPU time of every operator, summed into kinds (linear layers; attention: its
  products, scaling and softmax, fused or not; additions; GELU; layer norm; casts and copies; the rest);
* numpy: the backend's own pieces (:meth:`NumpyLFM._linear`, :func:`layer_norm`, :func:`gelu_tanh`) timed by
  wrapping them for the run; "attention and embedding" is the model's time less those.

Run: ``.venv/bin/python bench/profile_lift.py`` (about a minute; figures in docs/BENCHMARKS.md).
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lfm_engine import Lifter, get_rig, load_weights  # noqa: E402
from lfm_engine import numpy_backend as nb  # noqa: E402

LAYOUTS = {33: "mediapipe_pose33", 133: "coco_wholebody133"}
FRAMES = {33: 4096, 133: 1024}

#: torch operator name fragments -> kind (first match wins)
KINDS = (
    ("attention", ("attention", "softmax", "bmm", "baddbmm", "masked_fill", "_efficient", "flash", "aten::mul")),
    ("linear layers", ("linear", "addmm", "aten::mm", "matmul")),
    ("additions (residuals, attention bias)", ("aten::add",)),
    ("GELU", ("gelu", "tanh")),
    ("layer norm", ("layer_norm",)),
    ("casts and copies", ("copy_", "_to_copy", "aten::to", "contiguous", "clone", "cat", "stack")),
)


def kind(op: str) -> str:
    for name, fragments in KINDS:
        if any(f in op for f in fragments):
            return name
    return "other model ops"


def split_lift(lifter: Lifter, pts: np.ndarray, rig) -> tuple[float, float]:
    """Seconds of one whole lift and of its model forward passes (median of 3, after a warm-up)."""
    inner = lifter.predict_canonical
    spent = []

    def timed(*a, **k):
        t0 = time.perf_counter()
        out = inner(*a, **k)
        spent.append(time.perf_counter() - t0)
        return out

    lifter.predict_canonical = timed
    try:
        lifter.lift(pts, edges=rig)
        totals, models = [], []
        for _ in range(3):
            spent.clear()
            t0 = time.perf_counter()
            lifter.lift(pts, edges=rig)
            totals.append(time.perf_counter() - t0)
            models.append(sum(spent))
    finally:
        del lifter.predict_canonical
    return float(np.median(totals)), float(np.median(models))


def torch_kinds(lifter: Lifter, pts: np.ndarray, rig) -> dict[str, float]:
    """Self-CPU seconds per kind of operator in one lift (torch profiler)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        lifter.lift(pts, edges=rig)
    out: dict[str, float] = defaultdict(float)
    for ev in prof.key_averages():
        out[kind(ev.key)] += ev.self_cpu_time_total / 1e6
    return dict(out)


def numpy_kinds(lifter: Lifter, pts: np.ndarray, rig) -> dict[str, float]:
    """Seconds per piece of the numpy model in one lift (the pieces wrapped with timers); "attention and
    embedding" is the model's forward time in that lift less the timed pieces."""
    out: dict[str, float] = defaultdict(float)
    originals = (nb.layer_norm, nb.gelu_tanh, nb.NumpyLFM._linear, lifter.predict_canonical)

    def wrap(fn, name):
        def timed(*a, **k):
            t0 = time.perf_counter()
            r = fn(*a, **k)
            out[name] += time.perf_counter() - t0
            return r

        return timed

    nb.layer_norm = wrap(originals[0], "layer norm")
    nb.gelu_tanh = wrap(originals[1], "GELU")
    nb.NumpyLFM._linear = wrap(originals[2], "linear layers")
    lifter.predict_canonical = wrap(originals[3], "model")
    try:
        lifter.lift(pts, edges=rig)
    finally:
        nb.layer_norm, nb.gelu_tanh, nb.NumpyLFM._linear = originals[:3]
        del lifter.predict_canonical
    model = out.pop("model")
    out["attention and embedding"] = max(model - sum(out.values()), 0.0)
    return dict(out)


def report(title: str, total: float, model: float, kinds: dict[str, float], frames: int) -> None:
    print(f"\n{title}: {frames / total:,.0f} frames/s; whole lift {total * 1e3:.0f} ms, model {model / total:.0%}, "
          f"outside the model (checks, normalisation, depth, camera placement) {1 - model / total:.0%}")  # fmt: skip
    measured = sum(kinds.values())
    for name, sec in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<38} {sec / measured * model / total:6.1%} of the lift")


def main() -> None:
    torch.set_num_threads(2)
    weights = load_weights(None)
    print(f"model: {Path(weights.source).name}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    for J, layout in LAYOUTS.items():
        rig = get_rig(layout)
        pts = np.random.default_rng(0).uniform(100, 900, (FRAMES[J], J, 2))
        for precision in ("bf16", "fp32"):
            lifter = Lifter(weights, backend="torch", precision=precision)
            total, model = split_lift(lifter, pts, rig)
            report(f"{J} joints, torch {precision}", total, model, torch_kinds(lifter, pts, rig), len(pts))
        lifter = Lifter(weights, backend="numpy")
        total, model = split_lift(lifter, pts, rig)
        report(f"{J} joints, numpy", total, model, numpy_kinds(lifter, pts, rig), len(pts))


if __name__ == "__main__":
    main()
