"""Retargeting onto a generated Rigify rig: its FK controls are keyed, its limbs switched to FK, and Blender's own
evaluation of its deform (DEF-) bones follows the lifted hands, feet and head."""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from addon_helpers import fcurves_of
from retarget_scenes import MOCAP, add_metarig, lift_mocap

from lfm_engine.retarget import MappingError, load_preset

pytestmark = pytest.mark.skipif(not MOCAP.is_file(), reason=f"{MOCAP} is not present (../shared/data)")
torch = pytest.importorskip("torch")
torch.set_num_threads(1)

ENDS = ("LeftWrist", "RightWrist", "LeftAnkle", "RightAnkle", "Head")  # hands, feet, head
SWITCHES = ("upper_arm_parent.L", "upper_arm_parent.R", "thigh_parent.L", "thigh_parent.R")


def generated_rig():
    from blender_addon import retarget_rigify

    meta = add_metarig("human")
    rig = retarget_rigify.generate(meta)
    assert "metarig" not in bpy.data.objects and retarget_rigify.is_generated(rig)
    return rig


def deform_positions(rig, result, frames) -> np.ndarray:
    """``(T, K, 3)`` where Blender puts the DEF- bone end of each pair (``ORG-x`` -> ``DEF-x``), frame by frame."""
    scene = bpy.context.scene
    out = np.empty_like(result.goals)
    for t, frame in enumerate(frames):
        scene.frame_set(int(frame))
        for k, pair in enumerate(result.pairs):
            pb = rig.pose.bones["DEF-" + pair.bone.removeprefix("ORG-")]
            out[t, k] = pb.tail if pair.end == "tail" else pb.head
    return out


def test_mocap_onto_a_generated_rigify_rig_drives_its_deform_bones(tmp_path):
    from blender_addon import retarget

    source, _ = lift_mocap(tmp_path)
    rig = generated_rig()
    objects = set(bpy.data.objects.keys())
    constraints = sum(len(pb.constraints) for pb in rig.pose.bones)
    mapping, result, action = retarget.retarget_objects(bpy.context, source, rig)
    # the rigify_generated preset, on the ORG- copy of the metarig
    got = {p.joint: p.bone for p in mapping.pairs}
    assert got["LeftWrist"] == "ORG-hand.L" and got["Head"] == "ORG-spine.006" and got["Hips"] == "ORG-spine"
    assert all(p.bone.startswith("ORG-") for p in mapping.pairs) and len(mapping) == 18
    # the keys are on the FK controls, and the limbs are switched to FK
    keyed = {fc.data_path.split('"')[1] for fc in fcurves_of(rig)}
    rig_controls = load_preset("rigify_generated").controls
    assert keyed == {c.bone for c in rig_controls.controls} | set(rig_controls.rest)
    assert rig.animation_data.action == action
    assert {"upper_arm_fk.L", "hand_fk.R", "thigh_fk.L", "foot_fk.R", "torso", "spine_fk.003", "head"} <= keyed
    assert all(rig.pose.bones[b]["IK_FK"] == 1.0 for b in SWITCHES)
    assert set(bpy.data.objects.keys()) == objects
    assert sum(len(pb.constraints) for pb in rig.pose.bones) == constraints
    # Blender's evaluation of the deform bones: hands, feet and head within 5% of the height in every frame
    frames = retarget.action_frames(source)
    pos = deform_positions(rig, result, frames)
    err = np.linalg.norm(pos - result.goals, axis=-1) / result.height
    for joint in ENDS:
        k = next(k for k, p in enumerate(result.pairs) if p.joint == joint)
        assert err[:, k].max() < 0.05, (joint, err[:, k].max())
    # the body is exactly the engine's pose of the ORG- bones, but for the head: Rigify's neck is one control over
    # two bones and cannot bend between them, so it points at the lifted head instead
    body = [k for k, p in enumerate(result.pairs) if p.joint != "Head"]
    assert np.abs(pos[:, body] - result.pair_positions()[:, body]).max() < 1e-4 * result.height


def test_a_generated_rig_mapped_to_its_deform_bones_is_refused_and_nothing_changes(tmp_path):
    from blender_addon import retarget

    source, _ = lift_mocap(tmp_path, frames=10)
    rig = generated_rig()
    bad = retarget.Mapping((retarget.Pair("LeftWrist", "DEF-hand.L"), retarget.Pair("LeftElbow", "DEF-forearm.L")))
    before = {b: rig.pose.bones[b]["IK_FK"] for b in SWITCHES}
    actions = set(bpy.data.actions.keys())
    with pytest.raises(MappingError, match=r"generated Rigify rig.*ORG-.*DEF-hand\.L"):
        retarget.retarget_objects(bpy.context, source, rig, bad)
    assert {b: rig.pose.bones[b]["IK_FK"] for b in SWITCHES} == before
    assert set(bpy.data.actions.keys()) == actions
    assert rig.animation_data is None or rig.animation_data.action is None


def test_panel_proposes_org_bones_for_a_generated_rig(addon, tmp_path):
    source, _ = lift_mocap(tmp_path, frames=10)
    rig = generated_rig()
    s = bpy.context.scene.lift_to_3d_retarget
    s.source, s.target = source, rig
    assert bpy.ops.lfm.retarget_propose() == {"FINISHED"}
    rows = {p.joint: p.bone for p in s.pairs}
    assert rows["LeftKnee"] == "ORG-shin.L" and rows["RightWrist"] == "ORG-hand.R"
    s.ik_limit = 9.5
    assert bpy.ops.lfm.retarget_bake() == {"FINISHED"}
    assert rig.pose.bones["thigh_parent.R"]["IK_FK"] == 1.0
    assert "hand_fk.L" in {fc.data_path.split('"')[1] for fc in fcurves_of(rig)}


def test_batch_retargets_onto_a_generated_rig(clip, weights_file, tmp_path):
    from addon_helpers import CLIP_FOCAL, RIG

    from blender_addon import batch

    argv = ["--input", str(clip), "--output", str(tmp_path / "out.blend"), "--weights", str(weights_file),
            "--backend", "numpy", "--rig", RIG, "--focal-length", str(CLIP_FOCAL), "--image-size", "1080", "1920",
            "--fps", "60", "--retarget-to", "rigify_generated", "--ik-max-angle", "9.5"]  # fmt: skip
    assert batch.main(argv) == 0
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "out.blend"))
    rig = bpy.data.objects["cam01_openpose_json_target"]
    assert "rig_id" in rig.data and "metarig" not in bpy.data.objects
    assert rig.animation_data.action is not None and rig.pose.bones["upper_arm_parent.L"]["IK_FK"] == 1.0


def test_a_failed_batch_retarget_onto_a_generated_rig_leaves_nothing(tmp_path):
    from addon_helpers import datablocks

    from blender_addon import retarget

    source, _ = lift_mocap(tmp_path, frames=10)
    before = datablocks()
    with pytest.raises(MappingError, match=r"preset 'mixamo' has no pair"):  # Mixamo names on a Rigify rig
        retarget.retarget_clip(bpy.context, source, "rigify_generated", preset="mixamo")
    assert datablocks() == before  # no rig, no metarig, no widget objects or collection


def test_limited_ik_on_a_generated_rig_meets_both_bounds_on_its_deform_bones(tmp_path):
    from test_addon_retarget import LIMBS

    from blender_addon import retarget
    from lfm_engine.retarget import retarget_errors

    source, _ = lift_mocap(tmp_path)
    rig = generated_rig()
    _, result, _ = retarget.retarget_objects(bpy.context, source, rig, ik_max_angle=9.5)
    errors = retarget_errors(result, deform_positions(rig, result, retarget.action_frames(source)))
    for joint in ENDS:
        k = next(k for k, p in enumerate(result.pairs) if p.joint == joint)
        assert errors["position"][:, k].max() < 0.05, joint
    limbs = [s for s, (a, k) in enumerate(errors["segments"])
             if LIMBS.get(result.pairs[a].joint) == result.pairs[k].joint]  # fmt: skip
    assert len(limbs) == len(LIMBS) and errors["direction"][:, limbs].max() < 10.0
