"""Fixtures of the add-on tests: bpy from a factory-fresh empty file, the add-on registered, a random-weights file.

The tests need the ``bpy`` module (``pip install bpy``); they are skipped without it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

bpy = pytest.importorskip("bpy")

from addon_helpers import CLIP  # noqa: E402


@pytest.fixture(autouse=True)
def factory_startup():
    """Every test starts from Blender's factory settings and an empty file."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory) -> Path:
    """A small random-weights model (the real weights are not needed to test the add-on's plumbing)."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from lfm_engine import ModelConfig, save_weights
    from lfm_engine.model import LFMModel

    torch.manual_seed(0)
    config = ModelConfig(d_model=32, n_layers=1, n_heads=2, mlp_ratio=2, fourier_features=8, camera_alignment="direct")
    path = tmp_path_factory.mktemp("weights") / "random.safetensors"
    save_weights(path, config, LFMModel(config).state_dict(), training={"note": "random test weights"})
    return path


@pytest.fixture
def addon():
    """The add-on from the source tree, enabled as Blender enables an add-on (so that its preferences exist: the
    weights are set there), disabled afterwards (unless the test's own factory reset did it)."""
    import addon_utils

    import blender_addon

    def fail(exc):
        raise exc

    addon_utils.enable("blender_addon", default_set=True, handle_error=fail)
    yield blender_addon
    if "blender_addon" in bpy.context.preferences.addons:
        addon_utils.disable("blender_addon", default_set=True, handle_error=fail)


@pytest.fixture
def clip():
    if not CLIP.is_dir():
        pytest.skip(f"{CLIP} is not present (../shared/data)")
    return CLIP


_EXIT_STATUS = 0


def pytest_sessionfinish(session, exitstatus):
    global _EXIT_STATUS
    _EXIT_STATUS = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Blender 4.2's bpy module segfaults at exit once a Python UI class has been registered (Rigify, enabled by the
    retarget tests): its space types free them after Python has finalised. End the run here, after the report,
    with pytest's own exit status (blender_addon/batch.py does the same)."""
    if bpy.app.version[:2] == (4, 2):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS)
