"""The training data pipeline and a training smoke test (a few steps on CPU, then export and load)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from lfm_engine import Lifter, Rig, get_rig
from lfm_engine.geometry import pa_mpjpe
from tests.conftest import SHARED_DATA
from training.data.mocap import STANDARD_LAYOUTS, landmarks, load_motion, standard_layouts
from training.data.sampler import collapse_subset, densify, make_batch
from training.data.sources import PoseSet, chair_set, face_set, mocap_sets

MOCAP = os.path.join(SHARED_DATA, "mocap")
needs_data = pytest.mark.skipif(not os.path.isdir(MOCAP), reason=f"shared data not found at {SHARED_DATA}")


@needs_data
@pytest.mark.parametrize("name", ["cmu_convseq2seq_expmap", "cmu_salsa_60_61", "cmu_131_bvh11", "hdm05_subset"])
def test_every_mocap_file_maps_to_the_standard_layouts(name):
    m = load_motion(os.path.join(MOCAP, f"{name}.npz"))
    layouts = standard_layouts(m.positions[:20], m.rig)
    assert set(layouts) == set(STANDARD_LAYOUTS)
    for layout, (pos, rig) in layouts.items():
        assert pos.shape == (20, rig.num_joints, 3) and np.isfinite(pos).all(), layout
    marks = landmarks(m.positions[:20], m.rig)
    # the approximated face sits in front of the head: the nose is nearer the eyes than the ears are to each other
    assert np.all(np.linalg.norm(marks["nose"] - marks["head"], axis=-1) < 0.2)
    left = marks["l_shoulder"] - marks["r_shoulder"]
    assert np.all(np.einsum("ti,ti->t", marks["l_ear"] - marks["r_ear"], left) > 0)
    assert np.all(np.einsum("ti,ti->t", marks["l_hip"] - marks["r_hip"], left) > 0)  # same person's left


def _toy_set() -> PoseSet:
    rig = get_rig("h36m17")
    rng = np.random.default_rng(0)
    rig = Rig.from_parents(rig.joint_names, [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15],
                                 name="h36m_tree", symmetry=rig.symmetry, category="human")  # fmt: skip
    return PoseSet("toy", "human", rng.normal(0, 0.3, (50, 17, 3)).astype(np.float32), rig)


def test_clean_batch_targets_agree_with_the_2d():
    b = make_batch(_toy_set(), np.random.default_rng(1), 400, corrupt=False, rig_variants=False)
    assert b.points.shape[1] == 17 and b.visible.all()
    assert np.isfinite(b.target).all()
    # orthographic samples: the target's x, y are exactly the normalised 2D; perspective ones only roughly
    err = np.abs(b.target[..., :2] - b.points).max(axis=(1, 2))
    assert (err < 1e-5).any() and np.median(err) < 0.5


def test_corrupted_batches_stay_valid():
    rng = np.random.default_rng(2)
    for _ in range(30):
        b = make_batch(_toy_set(), rng, 400)
        assert (b.visible.sum(1) >= 2).all()
        assert np.isfinite(b.points).all() and np.isfinite(b.target).all()
        assert b.adjacency.shape == (b.points.shape[1],) * 2 and set(np.unique(b.side)) <= {-1, 0, 1}


def test_collapse_subset_keeps_one_tree_and_densify_adds_midpoints():
    pset = _toy_set()
    keep = np.array([0, 2, 3, 7, 10, 13, 16])
    sub = collapse_subset(pset.rig, keep)
    assert sub.num_joints == 7 and sum(p < 0 for p in sub.parents) == 1
    pos, dense = densify(pset.rig, pset.positions, np.random.default_rng(0), 0.5)
    extra = dense.num_joints - pset.rig.num_joints
    assert extra > 0 and pos.shape == (50, dense.num_joints, 3)
    a, b = dense.joint_names[-1].split("~")
    ia, ib = pset.rig.index(a), pset.rig.index(b)
    np.testing.assert_allclose(pos[:, -1], 0.5 * (pset.positions[:, ia] + pset.positions[:, ib]), atol=1e-6)


@needs_data
def test_rigid_sets_load():
    chairs = chair_set(os.path.join(SHARED_DATA, "objects", "keypointnet_chair.json"))
    assert chairs.positions.shape[0] == 999 and chairs.rigid and len(chairs.rig.symmetry) > 0
    face = face_set(os.path.join(SHARED_DATA, "face", "canonical_face_model.obj"))
    assert face.positions.shape == (1, 468, 3) and np.ptp(face.positions[0, :, 1]) < 0.3  # metres


@needs_data
def test_training_smoke_then_export_loads_in_both_backends(tmp_path):
    """Four steps of a tiny model on the real data, resumed once, exported, and lifted with both backends."""
    from training import train

    cfg = {"steps": 4, "micro_batches": 2, "tokens": 512, "warmup": 2, "hdm05": "none",
           "cache": str(tmp_path / "no_synthetic_cache"),
           "model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "mlp_ratio": 2, "fourier_features": 8}}  # fmt: skip
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    out = str(tmp_path / "run")
    args = ["--out", out, "--config", str(tmp_path / "cfg.json"), "--checkpoint-every", "2"]
    train.main([*args, "--until-step", "2"])
    train.main(args)  # resumed
    log = [json.loads(line) for line in Path(out, "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [2, 4] and all(np.isfinite(r["loss"]) for r in log)
    assert all(np.isfinite(r["tr/depth_ratio"]) and np.isfinite(r["tr/pa_vs_flat"]) for r in log)  # the monitor
    weights = str(tmp_path / "w.safetensors")
    train.main(["--out", out, "--export", weights])
    m = load_motion(os.path.join(MOCAP, "cmu_131_bvh11.npz"))
    uv = m.positions[:8, :, :2] * np.array([1.0, -1.0]) * 500  # a front view, pixels
    outs = [
        Lifter.from_pretrained(weights, backend=b, precision="fp32").lift(uv, edges=m.rig) for b in ("torch", "numpy")
    ]
    np.testing.assert_allclose(outs[0], outs[1], atol=1e-2)
    assert np.isfinite(pa_mpjpe(outs[0].astype(np.float64), m.positions[:8].astype(np.float64))).all()


@needs_data
def test_mocap_sets_include_each_layout():
    sets = mocap_sets(os.path.join(MOCAP, "cmu_131_bvh11.npz"))
    assert [s.name.split(":")[-1] for s in sets[1:]] == list(STANDARD_LAYOUTS)
