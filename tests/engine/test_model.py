"""The model: permutation equivariance, masking, shapes, and that it can learn."""

import numpy as np
import pytest
import torch
from helpers import stick_figure_names, stick_figure_parents, stick_figure_poses

from lfm_engine.config import ModelConfig
from lfm_engine.geometry import n_mpjpe, pa_mpjpe
from lfm_engine.model import LFMModel
from lfm_engine.rig import Rig, adjacency_from_edges


def _inputs(rng, B=6, J=15):
    points = torch.from_numpy(rng.uniform(-1, 1, (B, J, 2)).astype(np.float32))
    visible = torch.from_numpy(rng.random((B, J)) > 0.25)
    edges = np.stack([np.arange(J - 1), np.arange(1, J)], 1)
    edges = np.concatenate([edges, [[0, J // 2], [3, J - 1]]])
    adjacency = torch.from_numpy(adjacency_from_edges(edges, J))
    return points, visible, adjacency


def test_state_dict_matches_config_shapes(small_config, random_model):
    sd = random_model.state_dict()
    shapes = small_config.parameter_shapes()
    assert set(sd) == set(shapes)
    for name, tensor in sd.items():
        assert tuple(tensor.shape) == shapes[name], name


def test_default_size():
    n = LFMModel(ModelConfig()).num_parameters()
    assert 0.9e6 < n < 1.3e6


def test_permutation_equivariance(rng, random_model):
    points, visible, adj = _inputs(rng)
    side = torch.from_numpy(rng.integers(-1, 2, points.shape[1]))
    perm = torch.from_numpy(rng.permutation(points.shape[1]))
    with torch.no_grad():
        out = random_model(points, visible, adj, side)
        out_p = random_model(points[:, perm], visible[:, perm], adj[perm][:, perm], side[perm])
        no_side = random_model(points, visible, adj)
    torch.testing.assert_close(out_p, out[:, perm], atol=1e-5, rtol=0)
    assert out.abs().max() > 1e-2  # not trivially constant
    assert (out - no_side).abs().max() > 1e-4  # the sides are read


def test_masked_and_padded_joints_do_not_influence_visible_ones(rng, random_model):
    points, visible, adj = _inputs(rng, B=4, J=12)
    with torch.no_grad():
        base = random_model(points, visible, adj)
        # Change the coordinates of masked joints (even to NaN): visible outputs must not move.
        moved = points.clone()
        moved[~visible] = torch.nan
        out_moved = random_model(moved, visible, adj)
        # Pad with 7 extra masked joints that are linked to everything.
        pad = 7
        p2 = torch.cat([points, torch.randn(4, pad, 2)], 1)
        v2 = torch.cat([visible, torch.zeros(4, pad, dtype=torch.bool)], 1)
        a2 = torch.ones(12 + pad, 12 + pad, dtype=torch.bool)
        a2[:12, :12] = adj
        out_padded = random_model(p2, v2, a2)
    torch.testing.assert_close(out_moved[visible], base[visible], atol=1e-6, rtol=0)
    torch.testing.assert_close(out_padded[:, :12][visible], base[visible], atol=1e-5, rtol=0)
    assert torch.isfinite(out_moved).all()  # masked joints still get a finite prediction


def test_per_sample_adjacency_equals_shared(rng, random_model):
    points, visible, adj = _inputs(rng, B=3)
    with torch.no_grad():
        shared = random_model(points, visible, adj)
        batched = random_model(points, visible, adj.expand(3, -1, -1))
    torch.testing.assert_close(shared, batched)


def test_graph_branch_uses_the_adjacency(rng, random_model):
    points, visible, adj = _inputs(rng)
    with torch.no_grad():
        a = random_model(points, visible, adj)
        b = random_model(points, visible, torch.eye(adj.shape[0], dtype=torch.bool))
    assert (a - b).abs().max() > 1e-3


@pytest.mark.parametrize("all_visible", [True, False])
def test_bf16_attention_paths_agree_with_fp32(rng, random_model, monkeypatch, all_visible):
    """The unfused bf16 attention (small skeletons on the CPU) and the fused one compute the fp32 function."""
    import lfm_engine.model as model_module

    points, visible, adj = _inputs(rng)
    if all_visible:
        visible[:] = True
    with torch.no_grad():
        ref = random_model(points, visible, adj)
        outs = []
        for limit in (10_000, 0):  # unfused, then fused
            monkeypatch.setattr(model_module, "UNFUSED_MAX_JOINTS", limit)
            with torch.autocast("cpu", dtype=torch.bfloat16):
                outs.append(random_model(points, visible, adj))
    for out in outs:
        assert out.dtype == torch.float32
        torch.testing.assert_close(out, ref, atol=0.05 * ref.abs().max().item(), rtol=0)
    torch.testing.assert_close(outs[0], outs[1], atol=0.05 * ref.abs().max().item(), rtol=0)
    assert (outs[0] - ref).abs().max() > 0  # bf16 really ran


def test_model_learns_a_small_skeleton():
    """A few hundred steps on one synthetic skeleton cut PA-MPJPE at least fivefold and beat the flat baseline.

    Errors are in units of the figure's RMS radius. The figure's rig names its left and right joints, so the model
    gets their sides (docs/MODEL.md: without them a figure facing the camera and its mirror image facing away give
    the same 2D, and the model cannot learn depth). The untrained model already gives the flat lift (its head
    predicts a correction to (x, y, 0)), so the fivefold cut is measured from the flat baseline.
    """
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    rig = Rig.from_parents(stick_figure_names(), stick_figure_parents(), name="stick")
    J = rig.num_joints
    adj = torch.from_numpy(rig.adjacency())
    side = torch.from_numpy(rig.sides())
    visible = torch.ones(1, J, dtype=torch.bool)

    def batch(n):
        gt = stick_figure_poses(rng, n)
        gt = gt - gt.mean(1, keepdims=True)
        p2d = gt[..., :2] / np.abs(gt[..., :2]).max(axis=(1, 2), keepdims=True)  # orthographic, normalised
        gt = gt / np.sqrt((gt**2).sum(-1).mean(-1))[:, None, None]  # unit RMS radius
        return torch.from_numpy(p2d.astype(np.float32)), torch.from_numpy(gt.astype(np.float32))

    model = LFMModel(ModelConfig(d_model=64, n_layers=2, n_heads=4, mlp_ratio=2, fourier_features=32))
    test_2d, test_3d = batch(512)
    flat = pa_mpjpe(torch.cat([test_2d, torch.zeros_like(test_2d[..., :1])], -1), test_3d).mean().item()

    def error():
        model.eval()
        with torch.no_grad():
            return pa_mpjpe(model(test_2d, visible.expand(512, -1), adj, side), test_3d).mean().item()

    before = error()
    steps, lr = 600, 2e-3
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=steps, pct_start=0.1)
    model.train()
    for _ in range(steps):
        p2, p3 = batch(128)
        pred = model(p2, visible.expand(128, -1), adj, side)
        loss = pa_mpjpe(pred, p3).mean() + n_mpjpe(pred, p3).mean()  # the training loss (training/train.py)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    after = error()
    print(f"PA-MPJPE untrained {before:.4f} -> trained {after:.4f} ({before / after:.1f}x); flat {flat:.4f}")
    assert after * 5 <= before, f"PA-MPJPE {before:.4f} -> {after:.4f}"
    assert after <= flat * 0.9, f"PA-MPJPE {after:.4f} after training, flat baseline {flat:.4f}"


@pytest.mark.parametrize("field,value", [("d_model", 30), ("n_layers", 0), ("camera_alignment", "ortho")])
def test_config_validates(field, value):
    kwargs = {field: value}
    if field == "d_model":
        kwargs["n_heads"] = 4
    with pytest.raises(ValueError):
        ModelConfig(**kwargs)
