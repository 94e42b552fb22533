"""Data-parallel training: 2 gloo ranks x 1 micro-batch train exactly like 1 rank x 2 micro-batches, and a run
resumes under another world size (tiny model, a few steps; each run is a subprocess, as a user would start it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SHARED_DATA

pytestmark = pytest.mark.skipif(not os.path.isdir(os.path.join(SHARED_DATA, "mocap")), reason="shared data not found")

TINY = {"model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "fourier_features": 8, "camera_alignment": "direct"},
        "steps": 4, "phase1": 0.5, "tokens": 400, "max_samples": 16, "warmup": 1}  # fmt: skip


def _train(tmp_path, out: str, ranks: int, micro_batches: int, extra: tuple[str, ...] = ()) -> list[dict]:
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    script = os.path.join(ROOT, "training", "train.py")
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(ranks), "--master_port",
                str(29500 + os.getpid() % 1000)] if ranks > 1 else [sys.executable]  # fmt: skip
    cmd = [*launcher, script, "--out", str(tmp_path / out), "--config", str(config), "--device", "cpu",
           "--threads", "1", "--checkpoint-every", "1", "--micro-batches", str(micro_batches), *extra]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return [json.loads(line) for line in (tmp_path / out / "log.jsonl").read_text().splitlines()]


def test_two_ranks_train_like_one_rank_with_two_micro_batches_and_resume_across_world_sizes(tmp_path):
    one = _train(tmp_path, "one", ranks=1, micro_batches=2)
    two = _train(tmp_path, "two", ranks=2, micro_batches=1)
    assert [r["step"] for r in one] == [r["step"] for r in two] == [1, 2, 3, 4]
    assert [r["phase"] for r in one] == [1, 1, 2, 2]
    for a, b in zip(one, two, strict=True):  # the same global batches: the same trajectory, to rounding
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4), (a, b)
        assert a["tr/pa"] == pytest.approx(b["tr/pa"], rel=1e-4, abs=1e-6)
    # 2 ranks for two steps, then resumed in one process with 2 micro-batches: the same run again
    first = _train(tmp_path, "resumed", ranks=2, micro_batches=1, extra=("--until-step", "2"))
    assert [r["step"] for r in first] == [1, 2]
    resumed = _train(tmp_path, "resumed", ranks=1, micro_batches=2)
    assert [r["step"] for r in resumed] == [1, 2, 3, 4]  # the log continues
    for a, b in zip(one, resumed, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-4), (a, b)
    assert os.path.isfile(tmp_path / "resumed" / "ema.safetensors")
