"""Long clips: the model only ever sees one chunk of frames, and the pipeline's memory grows linearly with the clip
(bench/bench_long_clip.py measures 100,000 frames)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from helpers import stick_figure_names, stick_figure_parents, stick_figure_poses

from lfm_engine import InputError, pipeline
from lfm_engine.io import Keypoints2D, write_keypoints_npz
from lfm_engine.lifter import ATTENTION_BUDGET, Lifter
from lfm_engine.weights import load_weights


def _long_clip(path, frames: int):
    rng = np.random.default_rng(0)
    poses = stick_figure_poses(rng, 500)[np.arange(frames) % 500]  # (T, 15, 3), repeated
    cam = poses @ np.diag([1.0, -1.0, 1.0]) + [0.0, 0.0, 4.0]
    uv = cam[..., :2] / cam[..., 2:] * 1000.0 + [640, 360]
    uv[::7, 3] = np.nan  # some joints missing
    uv[5::97] = np.nan  # and some whole frames
    edges = [(p, j) for j, p in enumerate(stick_figure_parents()) if p >= 0]
    kp = Keypoints2D(uv, None, stick_figure_names(), edges, image_size=(1280, 720), fps=30.0)
    return write_keypoints_npz(kp, path)


@pytest.fixture
def counting_lifter(weights_file):
    """A numpy lifter whose model records the number of frames of each call."""
    lifter = Lifter(load_weights(weights_file), backend="numpy")
    model, calls = lifter._model, []

    def forward(points, visible, adjacency, side):
        calls.append(len(points))
        return model(points, visible, adjacency, side)

    lifter._model, lifter.calls = forward, calls
    return lifter


def test_the_model_sees_one_chunk_at_a_time(tmp_path, counting_lifter, monkeypatch):
    monkeypatch.setattr(pipeline, "MAX_CHUNK_FRAMES", 64)
    path = _long_clip(tmp_path / "long.npz", 3000)
    steps = []
    result = pipeline.run(path, pipeline.LiftSettings(focal_length=1000.0), lifter=counting_lifter,
                          progress=lambda done, total: steps.append(done))  # fmt: skip
    lifted = int(result.lifted_frames.sum())
    assert lifted == 3000 - len(range(5, 3000, 97))
    assert max(counting_lifter.calls) == 64 and sum(counting_lifter.calls) == lifted
    assert len(steps) == 1 + -(-lifted // 64) and steps[-1] == lifted
    assert np.isfinite(result.armature.quaternions).all() and result.num_frames == 3000


@pytest.mark.parametrize("joints", [17, 133, 478, 2000])
def test_chunks_keep_the_attention_scores_within_budget(weights_file, joints):
    lifter = Lifter(load_weights(weights_file), backend="numpy")
    chunk = lifter._chunk(joints)
    per_frame = 2 * lifter.config.n_heads * joints * joints
    assert chunk >= 1 and (chunk * per_frame <= ATTENTION_BUDGET or chunk == 1)


def test_pipeline_memory_grows_linearly_with_the_clip(tmp_path, weights_file):
    """Peak memory traced by numpy (tracemalloc) for 2,000 and 8,000 frames: about proportional, no quadratic
    term, and under 10 KB per frame of 15 joints without the clip solver (measured: 5.4 KB; the result keeps about
    2 KB per frame). The clip solver adds its banded normal matrix and factor, a few ``J x J`` blocks per frame:
    measured 17.1 KB per frame in all (17.2 KB at 2,000 frames)."""
    lifter = pipeline.load_lifter(weights_file, "numpy")
    peaks = {}
    for frames, solve in ((2000, False), (8000, False), (8000, True)):
        path = _long_clip(tmp_path / f"clip{frames}.npz", frames)
        tracemalloc.start()
        result = pipeline.run(path, pipeline.LiftSettings(smoothing="one_euro", solve_clip=solve), lifter=lifter)
        peaks[frames, solve] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert result.num_frames == frames and (result.solution is not None) == solve
        del result
    per_frame = {k: p / k[0] for k, p in peaks.items()}
    assert per_frame[8000, False] < 10_000, per_frame
    assert peaks[8000, False] < 4.6 * peaks[2000, False], peaks  # linear (plus the chunk-sized model buffers)
    assert per_frame[8000, True] < 22_000, per_frame


def test_csv_is_read_block_by_block(tmp_path, monkeypatch):
    """The CSV reader parses a block of rows at a time (bounded text in memory); blocks join seamlessly, and an
    error in a later block names its line."""
    from lfm_engine.io import native, read_csv, read_npz, write_keypoints_csv

    monkeypatch.setattr(native, "CSV_BLOCK_ROWS", 7)
    kp = read_npz(_long_clip(tmp_path / "clip.npz", 40))
    path = write_keypoints_csv(kp, tmp_path / "clip.csv")
    again = read_csv(path)
    np.testing.assert_array_equal(again.points, kp.points)
    np.testing.assert_array_equal(again.confidence, kp.confidence)
    assert again.joint_names == kp.joint_names and np.array_equal(again.edges, kp.edges)
    lines = path.read_text().splitlines()
    header = next(k for k, line in enumerate(lines) if line.startswith("frame,"))
    lines.append(lines[header + 3])  # frame 0's fourth joint again, hundreds of rows (many blocks) later
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        InputError, match=rf"frame 0, joint 'neck' appears on more than one line \[{header + 4}, {len(lines)}\]"
    ):
        read_csv(path)
