"""Start-up: importing the engine and registering the add-on must not import torch, mediapipe or OpenCV.

Each measurement runs in a fresh Python process (best of three), so nothing is cached in ``sys.modules``:

* ``import lfm_engine`` alone;
* ``import bpy`` alone (Blender's own start-up, the baseline), then ``import bpy`` + registering the add-on;
* what the first lift costs later: loading the weights (imports torch) and the first detection (imports mediapipe).

Run: ``make bench`` or ``.venv/bin/python bench/bench_startup.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "mediapipe", "cv2", "scipy", "matplotlib", "jax")

SNIPPETS = {
    "import lfm_engine": "import lfm_engine",
    "import bpy (Blender alone)": "import bpy",
    "import bpy + register the add-on": "import bpy\nimport blender_addon\nblender_addon.register()",
    "... + Lifter.from_pretrained() (first lift)": (
        "import bpy\nimport blender_addon\nblender_addon.register()\n"
        "from blender_addon.engine import pipeline\npipeline.load_lifter(None, 'auto')"
    ),
    "... + import the detector (first Detect)": (
        "import bpy\nimport blender_addon\nblender_addon.register()\n"
        "import mediapipe.python.solutions.holistic\nimport cv2"
    ),
}

PROBE = """
import sys, time, json
t0 = time.perf_counter()
{code}
dt = time.perf_counter() - t0
print(json.dumps({{"seconds": dt, "heavy": [m for m in {heavy!r} if m in sys.modules]}}))
"""


def measure(code: str, repeats: int = 3) -> tuple[float, list[str]]:
    best, heavy = float("inf"), []
    for _ in range(repeats):
        src = PROBE.format(code=code, heavy=HEAVY)
        out = subprocess.run([sys.executable, "-c", src], cwd=ROOT, capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        best, heavy = min(best, row["seconds"]), row["heavy"]
    return best, heavy


def main() -> None:
    print(f"{'step (fresh process)':<46} {'seconds':>8}  heavy modules imported")
    results = {}
    for name, code in SNIPPETS.items():
        seconds, heavy = measure(code)
        results[name] = seconds
        print(f"{name:<46} {seconds:>8.3f}  {', '.join(heavy) or 'none'}")
    extra = results["import bpy + register the add-on"] - results["import bpy (Blender alone)"]
    print(f"the add-on adds {extra * 1000:.0f} ms to Blender's start-up")


if __name__ == "__main__":
    main()
