"""The batch script: in-process for the .blend it writes, and once as a command for its exit status and messages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import bpy
import numpy as np
import pytest
from addon_helpers import CLIP_FOCAL, HERE, RIG, fcurves_of, motion_fcurves_of

ROOT = HERE.parents[1]


def _args(weights, *inputs, out, extra=()):
    return ["--input", *map(str, inputs), "--output", str(out), "--weights", str(weights), "--backend", "numpy",
            "--rig", RIG, "--focal-length", str(CLIP_FOCAL), "--image-size", "1080", "1920", "--fps", "60",
            *extra]  # fmt: skip


def test_batch_blend_reloads_with_the_actions(clip, weights_file, tmp_path):
    from blender_addon import batch

    other = tmp_path / "second_clip"
    shutil.copytree(clip, other)
    for f in sorted(other.glob("*.json"))[60:]:  # a shorter second clip: frames 0..59
        f.unlink()
    out = tmp_path / "sub" / "out.blend"
    assert batch.main(_args(weights_file, clip, other, out=out, extra=["--smoothing", "savgol"])) == 0
    assert out.is_file() and [p.name for p in out.parent.iterdir()] == ["out.blend"]  # no temporary left

    bpy.ops.wm.open_mainfile(filepath=str(out))
    arms = {o.name: o for o in bpy.data.objects if o.type == "ARMATURE"}
    assert set(arms) == {"cam01_openpose_json", "second_clip"}
    for name, frames in (("cam01_openpose_json", 100), ("second_clip", 60)):
        obj = arms[name]
        curves = motion_fcurves_of(obj)
        assert len(fcurves_of(obj)) == len(curves) + 2  # the two feet's contacts
        assert obj.animation_data.action.name == f"{name}Action"
        assert len(curves) == 4 * 27 + 3  # one root: quaternions of 27 bones (25 joints, pelvis, neck) + root location
        assert {len(c.keyframe_points) for c in curves} == {frames}
        assert {c.data_path.split('"')[1] for c in curves} == {b.name for b in obj.data.bones}
    scene = bpy.context.scene
    assert (scene.frame_start, scene.frame_end) == (1, 100)
    assert (scene.render.resolution_x, scene.render.resolution_y) == (1080, 1920)
    assert len(bpy.data.cameras) == 2 and scene.camera.name == "cam01_openpose_jsonCamera"
    # The reloaded keys still pose the armature (a quaternion per bone, unit length).
    scene.frame_set(40)
    q = np.array([pb.rotation_quaternion for pb in arms["second_clip"].pose.bones])
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)


def test_batch_clip_solver_options(weights_file, tmp_path, capsys):
    from blender_addon import batch

    args = _args(weights_file, "clip.npz", out=tmp_path / "out.blend")
    s = batch.settings_from_args(batch.parse_args(args))
    assert (s.solve_clip, s.contact_mode, s.root_motion) == (True, "auto", True)
    s = batch.settings_from_args(batch.parse_args([*args, "--no-clip-solver", "--contacts", "never", "--in-place"]))
    assert (s.solve_clip, s.contact_mode, s.root_motion) == (False, "never", False)
    with pytest.raises(SystemExit) as exc:
        batch.parse_args([*args, "--contacts", "sometimes"])
    assert exc.value.code == 2 and "invalid choice: 'sometimes'" in capsys.readouterr().err


def test_batch_command_reports_each_failed_input(clip, weights_file, tmp_path):
    bad = tmp_path / "bad_json"
    shutil.copytree(clip, bad)
    (bad / "cam01.0007.json").write_text('{"people": [', encoding="utf-8")
    out = tmp_path / "out.blend"
    cmd = [sys.executable, str(ROOT / "blender_addon" / "batch.py"), "--",
           *_args(weights_file, clip, bad, tmp_path / "missing.npz", out=out)]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("lift_to_3d: error:")]
    assert len(errors) == 2
    assert "cam01.0007.json: not valid JSON" in errors[0]
    assert "missing.npz: file or folder not found" in errors[1]
    assert out.is_file()  # the good input is kept

    strict = tmp_path / "strict.blend"
    cmd = [*cmd[:3], *_args(weights_file, clip, bad, out=strict, extra=["--strict"])]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 1 and not strict.exists()


def test_batch_bad_weights_fails_once(clip, tmp_path, capsys):
    from blender_addon import batch

    assert batch.main(_args(tmp_path / "nope.safetensors", clip, out=tmp_path / "o.blend")) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lift_to_3d: error:") and "nope.safetensors" in err[0]
    assert not (tmp_path / "o.blend").exists()


def test_batch_command_onto_a_metarig_exits_with_its_status(clip, weights_file, tmp_path):
    """Retargeting enables Rigify, after which Blender 4.2's bpy module would segfault at exit: the status is 0."""
    out = tmp_path / "out.blend"
    cmd = [sys.executable, str(ROOT / "blender_addon" / "batch.py"), "--",
           *_args(weights_file, clip, out=out, extra=["--retarget-to", "rigify_basic_human"])]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "retargeted onto" in done.stdout and out.is_file()
