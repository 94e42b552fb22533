"""How whole-body keypoints are lifted (parts or whole, lfm_engine.wholebody) is chosen in the panel and in the
batch script, and reaches the engine."""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from addon_helpers import set_weights

from lfm_engine import get_rig, pipeline
from lfm_engine.io import Keypoints2D, write_keypoints_npz

LAYOUT = "mediapipe_body_hands75"
FOCAL = 1000.0


@pytest.fixture
def whole_body_file(tmp_path):
    """Six frames of a body with both hands at its wrists (layout mediapipe_body_hands75), 1080x1920 pixels."""
    rng = np.random.default_rng(3)
    rig = get_rig(LAYOUT)
    body = rng.normal([540, 960], [120, 300], (33, 2))
    hands = [body[w] + rng.normal(0, 25, (21, 2)) for w in (15, 16)]  # left wrist, right wrist
    rest = np.concatenate([body, *hands])  # (75, 2)
    pts = rest[None] + rng.normal(0, 3, (6, 75, 2))
    kp = Keypoints2D(pts.astype(np.float32), np.ones((6, 75), np.float32), rig.joint_names, rig.edge_array(),
                     image_size=(1080, 1920), fps=30.0, rig_name=LAYOUT)  # fmt: skip
    return write_keypoints_npz(kp, tmp_path / "whole_body.npz")


def _joints(obj, anim) -> np.ndarray:
    """``(J, 3)`` world positions of the armature's joints at the current frame."""
    out = []
    for j, name in enumerate(anim.bone_names):
        pbone = obj.pose.bones[name]
        out.append(np.array(obj.matrix_world @ (pbone.head if anim.is_root[j] else pbone.tail)))
    return np.stack(out)


def test_panel_whole_body_reaches_the_engine(addon, whole_body_file, weights_file):
    from blender_addon import properties

    scene = bpy.context.scene
    s = scene.lift_to_3d
    assert s.whole_body == "PARTS" and properties.lift_settings(s, None, 24.0).whole_body == "parts"
    s.source_path = str(whole_body_file)
    s.focal_length = FOCAL
    set_weights(weights_file)
    got = {}
    for mode in ("PARTS", "WHOLE"):
        s.whole_body = mode
        assert properties.lift_settings(s, None, 24.0).whole_body == mode.lower()
        assert bpy.ops.lfm.lift() == {"FINISHED"}
        obj = bpy.context.view_layer.objects.active
        assert obj.type == "ARMATURE" and len(obj.data.bones) == 77  # 75 joints, the virtual pelvis and neck
        result = pipeline.run(whole_body_file, pipeline.LiftSettings(focal_length=FOCAL, weights=str(weights_file),
                                                                     whole_body=mode.lower()))  # fmt: skip
        scene.frame_set(int(result.scene_frames(1)[3]))
        got[mode] = _joints(obj, result.armature)
        assert np.abs(got[mode] - result.armature.joints[3]).max() < 1e-3  # what the engine gives in that mode
        bpy.data.objects.remove(obj)
    assert np.abs(got["PARTS"] - got["WHOLE"]).max() > 1e-2  # the two modes differ (metres)


def test_batch_whole_body_option(whole_body_file, weights_file, tmp_path, capsys):
    from blender_addon import batch

    args = ["--input", str(whole_body_file), "--output", str(tmp_path / "out.blend"), "--weights", str(weights_file),
            "--backend", "numpy", "--focal-length", str(FOCAL)]  # fmt: skip
    assert batch.settings_from_args(batch.parse_args(args)).whole_body == "parts"
    assert batch.settings_from_args(batch.parse_args([*args, "--whole-body", "whole"])).whole_body == "whole"
    with pytest.raises(SystemExit) as exc:
        batch.parse_args([*args, "--whole-body", "halves"])
    assert exc.value.code == 2 and "invalid choice: 'halves'" in capsys.readouterr().err
    points = {}
    for mode in ("parts", "whole"):
        out = tmp_path / f"{mode}.blend"
        assert batch.main([*args[:2], "--output", str(out), *args[4:], "--whole-body", mode]) == 0
        bpy.ops.wm.open_mainfile(filepath=str(out))
        obj = bpy.data.objects["whole_body"]
        result = pipeline.run(whole_body_file, batch.settings_from_args(batch.parse_args([*args, "--whole-body",
                                                                                          mode])))  # fmt: skip
        bpy.context.scene.frame_set(int(result.scene_frames(1)[2]))
        points[mode] = _joints(obj, result.armature)
        assert np.abs(points[mode] - result.armature.joints[2]).max() < 1e-3
    assert np.abs(points["parts"] - points["whole"]).max() > 1e-2
