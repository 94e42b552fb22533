"""The demo: its generated clip, and a full run (lift, .blend, rendered preview)."""

from __future__ import annotations

import importlib.util

import numpy as np

from lfm_engine import get_rig
from lfm_engine.io import read_keypoints


def test_generated_clip_is_a_coco17_walk(tmp_path):
    from blender_addon import demo

    kp = read_keypoints(demo.make_demo_input(tmp_path / "walk.npz"))
    assert kp.rig_name == "coco17" and kp.rig().joint_names == get_rig("coco17").joint_names
    assert kp.points.shape == (demo.DEMO_FRAMES, 17, 2)
    assert kp.fps == demo.DEMO_FPS and kp.image_size == demo.DEMO_SIZE
    assert np.isnan(kp.points[40:46, 10]).all() and kp.mask.sum() == demo.DEMO_FRAMES * 17 - 6
    inside = kp.points[kp.mask]
    assert (inside > 0).all() and (inside < demo.DEMO_SIZE).all()
    # Legs swing: the ankles move back and forth in the image.
    assert np.ptp(kp.points[:, 15, 0]) > 30


def test_demo_writes_blend_and_preview(weights_file, tmp_path):
    import bpy

    from blender_addon import demo

    out = tmp_path / "demo_out"
    assert demo.main(["--out", str(out), "--weights", str(weights_file), "--backend", "numpy"]) == 0
    assert (out / "demo.blend").is_file() and (out / "walk_coco17.npz").is_file()
    image = bpy.data.images.load(str(out / "preview.png"))
    detected = importlib.util.find_spec("mediapipe") and importlib.util.find_spec("skimage")
    rows = 3 + (2 if detected else 0)  # + MediaPipe on the astronaut photo, two tiles high
    assert tuple(image.size) == (len(demo.PREVIEW_FRAMES) * demo.TILE[0], rows * demo.TILE[1])
    if detected:
        from lfm_engine.detect import load_detections

        det = load_detections(out / "astronaut_detections.npz")
        assert det.part("body").mask.all() and det.part("face").mask.all()  # 33 body landmarks, 478 face ones
    px = np.empty(image.size[0] * image.size[1] * image.channels, dtype=np.float32)
    image.pixels.foreach_get(px)
    rows = px.reshape(image.size[1], image.size[0], -1)[::-1, :, :3]  # top row first
    footage_row = rows[demo.TILE[1] : 2 * demo.TILE[1]]
    assert (footage_row.max(-1) - footage_row.min(-1) > 0.15).mean() > 0.002  # the orange bones were rendered
    bpy.ops.wm.open_mainfile(filepath=str(out / "demo.blend"))
    assert sorted(o.type for o in bpy.data.objects) == ["ARMATURE", "CAMERA", "MESH"]
    mesh = next(o for o in bpy.data.objects if o.type == "MESH")
    assert mesh.modifiers["Armature"].object.type == "ARMATURE" and len(mesh.vertex_groups) == 19  # and pelvis, neck
