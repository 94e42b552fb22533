"""The built extension zip: its layout, Blender's validator, and an install + lift in a fresh Blender."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest
from addon_helpers import CLIP_FOCAL, HERE, RIG

import build_addon  # the repository root is on sys.path (tests/conftest.py)

ROOT = HERE.parents[1]

INSTALL_AND_LIFT = r"""
import json, sys
import bpy
zip_path, clip, rig, weights, focal = sys.argv[1:6]
bpy.ops.wm.read_factory_settings(use_empty=True)
installed = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
assert installed == {"FINISHED"}, installed
prefs = bpy.context.preferences.addons["bl_ext.user_default.lift_to_3d"].preferences
prefs.weights_path, prefs.backend = weights, "NUMPY"
s = bpy.context.scene.lift_to_3d
s.source_path, s.rig, s.focal_length = clip, rig, float(focal)
s.image_width, s.image_height, s.fps = 1080, 1920, 60
outcome = bpy.ops.lfm.lift()
arm = [o for o in bpy.data.objects if o.type == "ARMATURE"]
print("RESULT " + json.dumps({
    "outcome": sorted(outcome), "armatures": len(arm), "bones": len(arm[0].data.bones) if arm else 0,
    "engine": sorted(m for m in sys.modules if m.endswith(".lfm_engine") or m == "lfm_engine"),
    "torch": "torch" in sys.modules,
}))
"""


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory):
    return build_addon.build(tmp_path_factory.mktemp("dist"))


def test_zip_layout(extension_zip):
    meta = build_addon.manifest()
    assert extension_zip.name == f"lift_to_3d-{meta['version']}.zip"
    names = zipfile.ZipFile(extension_zip).namelist()
    required = ["blender_manifest.toml", "__init__.py", "operators.py", "batch.py", "lfm_engine/__init__.py",
                "lfm_engine/pipeline.py", "lfm_engine/armature.py", "lfm_engine/layouts/facemesh.json"]  # fmt: skip
    assert set(required) <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("blender_addon/")]
    shipped = sorted(p.name for p in (ROOT / "lfm_engine" / "weights").glob("*.safetensors"))
    assert sorted(n.rsplit("/", 1)[1] for n in names if n.endswith(".safetensors")) == shipped
    assert build_addon.build(extension_zip.parent).read_bytes() == extension_zip.read_bytes()  # reproducible


def test_zip_carries_the_weights(tmp_path, monkeypatch):
    engine = tmp_path / "lfm_engine"
    (engine / "weights").mkdir(parents=True)
    (engine / "__init__.py").write_text("")
    (engine / "weights" / "lfm_v1.safetensors").write_bytes(b"weights")
    monkeypatch.setattr(build_addon, "ENGINE", engine)
    names = zipfile.ZipFile(build_addon.build(tmp_path / "dist")).namelist()
    assert "lfm_engine/weights/lfm_v1.safetensors" in names
    names = zipfile.ZipFile(build_addon.build(tmp_path / "dist2", include_weights=False)).namelist()
    assert "lfm_engine/weights/lfm_v1.safetensors" not in names


def test_zip_passes_blenders_validator(extension_zip):
    build_addon.validate(extension_zip)


def test_zip_installs_and_lifts_in_a_fresh_blender(extension_zip, clip, weights_file, tmp_path):
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(tmp_path / "blender_user"), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-c", INSTALL_AND_LIFT, str(extension_zip), str(clip), RIG, str(weights_file),
           str(CLIP_FOCAL)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(lines[-1][len("RESULT ") :])
    assert result["outcome"] == ["FINISHED"] and result["armatures"] == 1 and result["bones"] == 27
    # The installed add-on runs its own vendored engine with the NumPy backend, not the source tree's.
    assert result["engine"] == ["bl_ext.user_default.lift_to_3d.lfm_engine"]
    assert not result["torch"]
    assert (tmp_path / "blender_user" / "extensions" / "user_default" / "lift_to_3d" / "lfm_engine").is_dir()
