"""Importing the engine is cheap: no bpy ever, no torch until a torch-backed Lifter is made."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_engine_never_imports_bpy_and_torch_is_lazy():
    _run(
        "import sys, pkgutil, importlib, lfm_engine\n"
        "assert 'torch' not in sys.modules, 'import lfm_engine pulled in torch'\n"
        "assert 'mediapipe' not in sys.modules\n"
        "for m in pkgutil.walk_packages(lfm_engine.__path__, 'lfm_engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "assert 'bpy' not in sys.modules, 'an lfm_engine module imports bpy'\n"
        "assert 'mediapipe' not in sys.modules and 'cv2' not in sys.modules, 'detection is imported lazily'\n"
    )


def test_no_module_mentions_bpy():
    for path in (ROOT / "lfm_engine").rglob("*.py"):
        text = path.read_text()
        assert "import bpy" not in text and "from bpy" not in text, path
