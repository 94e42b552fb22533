"""Evaluate lifting weights per dataset and category; writes docs/EVALUATION.md and a JSON of every figure.

    .venv/bin/python training/evaluate.py --weights lfm_engine/weights/lfm_v1.safetensors \
        --markdown docs/EVALUATION.md --json runs/evaluation.json

Each pose set is seen as footage: a pinhole camera (1920 x 1080, focal length 1200 px) at a random yaw, pitch
within +-30 degrees, the subject filling about half the frame. Every frame goes through ``Lifter.lift`` exactly as
a user's would, with and without the true focal length. Conditions: clean; 5 px Gaussian noise; 20% and 40% of
joints occluded (at random; their 3D is still scored). Metrics over all joints, in mm (or the set's own unit):

* PA-MPJPE: after similarity Procrustes (rotation, scale, translation; no reflection);
* N-MPJPE: camera frame, after matching centroid and scale only (are depth and orientation right as the footage
  shows them?);
* jitter (clips): mean joint acceleration of the prediction minus that of the ground truth, mm / frame^2.

Baselines on the same frames: flat (the input 2D with z = 0) and, for the held-out human, a specialist
(SimpleBaseline, Martinez et al. 2017: linear 1024, two residual blocks, fixed joint order) trained on the held-out
rig's own data from the other actors, tested on one actor (see ``--specialist-steps``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from lfm_engine import Lifter, Rig  # noqa: E402
from lfm_engine.geometry import depth_extent_ratio, n_mpjpe, pa_mpjpe, procrustes_align  # noqa: E402
from training.data.mocap import load_motion, standard_layouts  # noqa: E402
from training.data.sampler import rotations  # noqa: E402
from training.data.sources import PoseSet, chair_set, face_set, held_out_human, synthetic_sets  # noqa: E402
from training.evaluation_report import CROSS_PROTOCOL, markdown  # noqa: E402
from training.plausibility import real_clip_plausibility  # noqa: E402

CLIP_SETS = ("hdm05", "cmu")  # pose sets that are real motion clips, for the jitter measure
IMAGE = (1920, 1080)
FOCAL = 1200.0
CONDITIONS = {"clean": (0.0, 0.0), "noise 5px": (5.0, 0.0), "occl 20%": (0.0, 0.2), "occl 40%": (0.0, 0.4),
              "5px + occl 20%": (5.0, 0.2)}  # fmt: skip


def footage(positions: np.ndarray, rng: np.random.Generator, same_camera: bool = False):
    """Project ``(N, J, 3)`` poses (metres, Y up) through a random pinhole camera per frame (or one for a clip).

    Returns ``(uv (N, J, 2) pixels, camera-frame 3D (N, J, 3) in mm)``.
    """
    N = len(positions)
    rot = rotations(rng, 1 if same_camera else N, max_pitch=np.pi / 6, max_roll=0.05)
    root = positions.mean(1, keepdims=True)
    centred = positions - (root.mean(0, keepdims=True) if same_camera else root)
    cam = centred @ rot.swapaxes(-1, -2)  # (N, J, 3)
    size = np.nanmax(np.linalg.norm(centred, axis=-1))  # metres, the subject's largest radius
    distance = FOCAL * 2 * size / (0.5 * IMAGE[1])  # the subject spans about half the image height
    cam = cam + np.array([0.0, 0.0, distance])
    uv = FOCAL * cam[..., :2] / cam[..., 2:3] + np.array(IMAGE) / 2
    return uv, cam * 1000.0


def corrupt(uv: np.ndarray, noise_px: float, occlusion: float, rng: np.random.Generator, exists=None) -> np.ndarray:
    """Gaussian pixel noise and random occlusion (NaN); at least two of the ``exists`` joints stay visible."""
    out = uv + rng.standard_normal(uv.shape) * noise_px
    exists = np.ones(uv.shape[1], bool) if exists is None else exists
    hide = (rng.random(uv.shape[:2]) < occlusion) | ~exists
    for t in np.flatnonzero((~hide).sum(1) < 2):
        hide[t, rng.choice(np.flatnonzero(exists), 2, replace=False)] = False
    out[hide] = np.nan
    return out


def score(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    return {"pa_mpjpe": float(pa_mpjpe(pred, gt).mean()), "n_mpjpe": float(n_mpjpe(pred, gt).mean()),
            "depth_ratio": float(depth_extent_ratio(pred, gt))}  # fmt: skip


def evaluate_set(lifter: Lifter, pset: PoseSet, rig: Rig, rng: np.random.Generator, frames: int,
                 specialist=None) -> dict:  # fmt: skip
    idx = rng.choice(len(pset), size=min(frames, len(pset)), replace=len(pset) < frames)
    pos = pset.positions[idx].astype(np.float64)
    if pset.rigid:
        pos = pos * rng.uniform(0.85, 1.15, (len(pos), 1, 3))
    exists = np.isfinite(pos).all(-1).all(0)
    uv, gt = footage(np.nan_to_num(pos), rng)
    results = {}
    for cond, (noise, occl) in CONDITIONS.items():
        seen = corrupt(uv, noise, occl, np.random.default_rng(7), exists)
        row = {}
        for mode, kwargs in (("weak", {}), ("focal", {"focal_length": FOCAL, "principal_point": np.array(IMAGE) / 2})):
            pred = lifter.lift(seen, edges=rig, **kwargs)
            row[mode] = score(pred[:, exists], gt[:, exists])
        centred = np.nan_to_num(seen - np.nanmean(seen, 1, keepdims=True))
        flat = np.concatenate([centred, np.zeros((*seen.shape[:2], 1))], -1)
        row["flat"] = score(flat[:, exists], gt[:, exists])
        if specialist is not None:
            row["specialist"] = score(specialist(seen)[:, exists], gt[:, exists])
        results[cond] = row
    return results


def acc(x: np.ndarray) -> float:
    """Mean joint acceleration of a ``(T, J, 3)`` track: ``|x[t+1] - 2 x[t] + x[t-1]|`` averaged, unit / frame^2."""
    return float(np.linalg.norm(x[2:] - 2 * x[1:-1] + x[:-2], axis=-1).mean())


def clip_jitter(lifter: Lifter, pset: PoseSet, rig: Rig, rng: np.random.Generator, length: int = 300) -> dict:
    """Acceleration error on one contiguous clip seen by a fixed camera, with 5 px noise: (pred - gt) mm/frame^2."""
    start = rng.integers(0, len(pset) - length)
    pos = pset.positions[start : start + length].astype(np.float64)
    uv, gt = footage(pos, rng, same_camera=True)
    pred = lifter.lift(corrupt(uv, 5.0, 0.0, np.random.default_rng(3)), edges=rig, focal_length=FOCAL,
                       principal_point=np.array(IMAGE) / 2)  # fmt: skip
    # compare shapes, not the global track: PA-align each frame, then take accelerations
    aligned = procrustes_align(pred.astype(np.float64), gt)
    return {"pred_acc": float(acc(aligned)), "gt_acc": float(acc(gt)), "acc_error": float(acc(aligned - gt))}


# ---------------------------------------------------------------------------------------------- the specialist
class SimpleBaseline:
    """Martinez et al. 2017: 2J -> linear 1024 -> two residual blocks (linear, BatchNorm, ReLU, dropout, x2) -> 3J.

    Fixed joint order; missing joints enter as 0 (after normalisation). Trained with the same corruption and the
    same loss as lfm_v1 (PA + N-MPJPE), on the held-out rig's own data.
    """

    def __init__(self, num_joints: int, width: int = 1024, dropout: float = 0.2):
        import torch
        from torch import nn

        def layer() -> list[nn.Module]:
            return [nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(dropout)]

        def block() -> nn.Module:
            return nn.Sequential(*layer(), *layer())

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.inp = nn.Sequential(nn.Linear(2 * num_joints, width), nn.BatchNorm1d(width), nn.ReLU())
                self.blocks = nn.ModuleList([block(), block()])
                self.out = nn.Linear(width, 3 * num_joints)

            def forward(self, points, visible):
                x = torch.where(visible[..., None], points, torch.zeros_like(points)).flatten(1)  # (B, 2J)
                h = self.inp(x)
                for b in self.blocks:
                    h = h + b(h)
                return self.out(h).view(len(points), num_joints, 3)  # (B, J, 3)

        self.net = Net()
        self.J = num_joints

    def train(self, pset: PoseSet, steps: int, seed: int = 0, lr: float = 1e-3) -> float:
        import torch

        from training.data.sampler import CORRUPTED_BATCHES, make_batch

        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        opt = torch.optim.AdamW(self.net.parameters(), lr=lr)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.05)
        self.net.train()
        t0 = time.time()
        for _ in range(steps):
            b = make_batch(pset, rng, 256 * self.J, corrupt=rng.random() < CORRUPTED_BATCHES, rig_variants=False)
            pred = self.net(torch.from_numpy(b.points), torch.from_numpy(b.visible))
            target = torch.from_numpy(b.target)
            loss = pa_mpjpe(pred, target).mean() + n_mpjpe(pred, target).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        return time.time() - t0

    def __call__(self, uv: np.ndarray) -> np.ndarray:
        """Pixels ``(N, J, 2)`` (NaN = missing) -> 3D ``(N, J, 3)`` (normalised units: scored up to scale)."""
        import torch

        from lfm_engine.preprocess import normalize, visible_mask

        vis = visible_mask(uv)
        norm = normalize(uv, vis)
        self.net.eval()
        with torch.no_grad():
            return self.net(torch.from_numpy(norm.points), torch.from_numpy(vis)).numpy().astype(np.float64)


# ---------------------------------------------------------------------------------------------- the report
def evaluation_sets(
    shared: str, cache: str, test: PoseSet, fresh_seed: int = 99, fresh_poses: int = 2000
) -> list[tuple[str, PoseSet]]:
    """(protocol, pose set) pairs: the held-out human ``test`` (:func:`held_out_human`) through its own rig and four
    standard layouts, the training humans, and every other category (freshly drawn Rigify poses when bpy is
    available, else the cached ones)."""
    sets = [("held-out human (HDM05 actor tr, own 27-joint rig)", test)]
    for layout, (pos, lrig) in standard_layouts(test.positions, test.rig).items():
        sets.append((f"rig transfer: HDM05 tr as {layout}", PoseSet(f"hdm05_tr:{layout}", "human", pos, lrig)))
    for name in ("cmu_convseq2seq_expmap", "cmu_salsa_60_61"):
        m = load_motion(os.path.join(shared, "mocap", f"{name}.npz"))
        sets.append(("seen in training (new views)", PoseSet(name, "human", m.positions, m.rig)))
    fresh = {}
    try:
        from training.data import synthetic_rigify

        for variant in ("basic_quadruped", "horse", "wolf_noface", "cat_noface", "bird", "shark", "basic_human"):
            metarig = variant.replace("_noface", "")
            d = synthetic_rigify.generate(metarig, fresh_poses, fresh_seed, face="noface" not in variant)
            fresh[f"rigify_{variant}"] = d
    except Exception as exc:  # bpy missing or a Rigify change: fall back to the cached poses, and say so
        print(f"fresh Rigify poses unavailable ({exc}); using the cached training poses")
    for s in synthetic_sets(cache):
        if s.name in fresh:
            d = fresh[s.name]
            s = PoseSet(s.name, s.category, np.asarray(d["positions"], np.float32), s.rig)
            sets.append((f"category {s.category}: new random poses", s))
        elif s.name == "hands_mediapipe21":
            sets.append(("category hand (cached poses, new views)", s))
    sets.append(("category object: KeypointNet chairs (seen, new views)", chair_set(
        os.path.join(shared, "objects", "keypointnet_chair.json"))))  # fmt: skip
    sets.append(("category face: canonical face (seen, new views)", face_set(
        os.path.join(shared, "face", "canonical_face_model.obj"))))  # fmt: skip
    return sets


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None, help="weights file (default: the shipped weights)")
    ap.add_argument("--cross-weights", default=None,
                    help="weights trained without any HDM05 (protocol b: tested on all of HDM05)")  # fmt: skip
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "training", "cache", "synthetic"))
    ap.add_argument("--frames", type=int, default=500, help="frames per pose set and condition")
    ap.add_argument("--specialist-steps", type=int, default=3000, help="0 = no specialist")
    ap.add_argument("--json", default=None)
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--from-json", default=None, help="only re-render --markdown from a report written by --json")
    args = ap.parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            report = json.load(f)
        with open(args.markdown, "w") as f:
            f.write(markdown(report))
        return
    lifter = Lifter.from_pretrained(args.weights)
    t0 = time.time()
    specialist = None
    train_hdm, test_hdm = held_out_human(args.shared)
    if args.specialist_steps:
        specialist = SimpleBaseline(test_hdm.rig.num_joints)
        secs = specialist.train(train_hdm, args.specialist_steps)
        print(f"specialist trained: {args.specialist_steps} steps in {secs:.0f} s", flush=True)
    report = {"weights": lifter.weights.source, "frames": args.frames, "sets": []}
    jobs = [(lifter, protocol, pset) for protocol, pset in evaluation_sets(args.shared, args.cache, test_hdm)]
    if args.cross_weights:
        motion = load_motion(os.path.join(args.shared, "mocap", "hdm05_subset.npz"))
        hdm = PoseSet("hdm05_all", "human", motion.positions, motion.rig)
        jobs.append((Lifter.from_pretrained(args.cross_weights), CROSS_PROTOCOL, hdm))
        report["cross_weights"] = args.cross_weights
    for model, protocol, pset in jobs:
        rng = np.random.default_rng(0)
        spec = specialist if pset is test_hdm else None
        res = evaluate_set(model, pset, pset.rig, rng, args.frames, spec)
        entry = {"protocol": protocol, "set": pset.name, "category": pset.category,
                 "joints": pset.rig.num_joints, "results": res}  # fmt: skip
        if pset.name.startswith(CLIP_SETS):  # real clips only (synthetic poses are independent draws)
            entry["jitter"] = clip_jitter(model, pset, pset.rig, np.random.default_rng(1))
        report["sets"].append(entry)
        c = res["clean"]
        print(f"{pset.name:>34} clean PA {c['focal']['pa_mpjpe']:.1f} N {c['focal']['n_mpjpe']:.1f} "
              f"(flat PA {c['flat']['pa_mpjpe']:.1f}) depth ratio {c['focal']['depth_ratio']:.2f}",
              flush=True)  # fmt: skip
    report["alignment"] = compare_alignments(lifter, test_hdm, args.frames)
    report["real_clip"] = real_clip_plausibility(lifter, args.shared)
    report["seconds"] = round(time.time() - t0)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(report))
    print(f"done in {report['seconds']} s")


def compare_alignments(lifter: Lifter, pset: PoseSet, frames: int) -> dict:
    """Clean held-out frames lifted with each camera alignment (the model's direct camera-frame output vs the
    paper's OnP fit of its shape to the 2D), with the true focal length: PA-MPJPE and N-MPJPE."""
    import dataclasses

    out = {}
    for alignment in ("direct", "onp"):
        variant = Lifter(lifter.weights, backend=lifter.backend)
        variant.config = dataclasses.replace(lifter.config, camera_alignment=alignment)
        rng = np.random.default_rng(0)
        idx = rng.choice(len(pset), size=min(frames, len(pset)), replace=False)
        uv, gt = footage(pset.positions[idx].astype(np.float64), rng)
        pred = variant.lift(uv, edges=pset.rig, focal_length=FOCAL, principal_point=np.array(IMAGE) / 2)
        out[alignment] = score(pred, gt)
    return out


if __name__ == "__main__":
    main()
