"""Every standard human layout onto every human target rig: the proposed mapping (and each shipped preset) puts the
wrists on the hand bones and the ankles on the foot bones, never a finger or face joint on a leg or foot bone, and
never a joint onto the other side.

The lifted joints are a standing person seen through each layout (``tests/engine/human_pose.py``), with the
virtual joints and the hierarchy of the armature a lift makes (:func:`lfm_engine.anatomy.anatomy`).
"""

from __future__ import annotations

import re

import bpy
import numpy as np
import pytest
from retarget_scenes import add_metarig, add_mixamo_rig

from lfm_engine import get_rig
from lfm_engine.anatomy import anatomy
from lfm_engine.retarget import apply_preset, load_preset, propose_mapping
from tests.engine.human_pose import HUMAN_LAYOUTS, classify, layout_points, wrist_and_ankle

#: Target -> (its hand bone, its foot bone) of side L / R.
HANDS_AND_FEET = {
    "human": ("hand.{s}", "foot.{s}"),
    "basic_human": ("hand.{s}", "foot.{s}"),
    "mixamo": ("mixamorig:{side}Hand", "mixamorig:{side}Foot"),
    "generated": ("ORG-hand.{s}", "ORG-foot.{s}"),
}
PRESETS = {"human": "rigify_human", "basic_human": "rigify_basic_human", "mixamo": "mixamo",
           "generated": "rigify_generated"}  # fmt: skip
LEG_WORDS = re.compile(r"thigh|shin|foot|toe|heel|UpLeg|Leg\b|Leg$|Foot|Toe", re.IGNORECASE)
_TARGETS: dict = {}


def target(kind: str):
    """The rest data of a target rig (made once, kept across the tests' fresh files)."""
    from blender_addon import retarget, retarget_rigify

    if kind not in _TARGETS:
        if kind == "mixamo":
            obj = add_mixamo_rig()
        elif kind == "generated":
            obj = retarget_rigify.generate(add_metarig("human"))
        else:
            obj = add_metarig(kind)
        _TARGETS[kind] = retarget.read_target(obj)
    return _TARGETS[kind]


def lifted(layout: str):
    """The joints of the armature a lift of ``layout`` makes: names, ``(J, 3)`` points, parents."""
    body = anatomy(get_rig(layout))
    return body.rig.joint_names, body.extend(layout_points(layout)), body.rig.parents


def bone_side(bone: str) -> str:
    if re.search(r"[._]L(\.\d+)?$|Left", bone):
        return "L"
    if re.search(r"[._]R(\.\d+)?$|Right", bone):
        return "R"
    return ""


def check(layout: str, kind: str, mapping) -> None:
    got = {p.joint: p.bone for p in mapping.pairs}
    hand, foot = HANDS_AND_FEET[kind]
    for s, side in (("L", "Left"), ("R", "Right")):
        wrist, ankle = wrist_and_ankle(layout, s)
        assert got.get(wrist) == hand.format(s=s, side=side), (wrist, got.get(wrist))
        assert got.get(ankle) == foot.format(s=s, side=side), (ankle, got.get(ankle))
    for pair in mapping.pairs:
        if pair.joint in get_rig(layout).joint_names:
            side, part, _ = classify(layout, pair.joint)
        else:  # a virtual joint of the armature (pelvis, neck): the midline
            side, part = "", "body"
        if part != "body":
            assert not LEG_WORDS.search(pair.bone), f"{part} joint {pair.joint} -> {pair.bone}"
        if side and bone_side(pair.bone):
            assert bone_side(pair.bone) == side, f"{pair.joint} -> {pair.bone}: the other side"


@pytest.mark.parametrize("kind", ["human", "basic_human", "mixamo"])
@pytest.mark.parametrize("layout", HUMAN_LAYOUTS)
def test_proposal_maps_wrists_to_hands_and_ankles_to_feet(layout, kind):
    names, points, parents = lifted(layout)
    mapping = propose_mapping(names, points, target(kind), joint_parents=parents)
    check(layout, kind, mapping)


@pytest.mark.parametrize("kind", ["human", "basic_human", "mixamo", "generated"])
@pytest.mark.parametrize("layout", HUMAN_LAYOUTS)
def test_shipped_presets_map_wrists_to_hands_and_ankles_to_feet(layout, kind):
    names, _, _ = lifted(layout)
    mapping = apply_preset(load_preset(PRESETS[kind]), names, target(kind))
    check(layout, kind, mapping)


def test_holistic_fingers_map_onto_their_own_fingers():
    """The reported case: MediaPipe's whole body onto the Rigify human. Each finger joint onto that finger's bones,
    in order from the knuckle to the tip; the face mesh onto nothing."""
    names, points, parents = lifted("mediapipe_holistic543")
    mapping = propose_mapping(names, points, target("human"), joint_parents=parents)
    got = {p.joint: (p.bone, p.end) for p in mapping.pairs}
    for s, side in (("L", "left"), ("R", "right")):
        assert got[f"{side}_hand_thumb_tip"] == (f"thumb.03.{s}", "tail")
        assert got[f"{side}_hand_pinky_dip"] == (f"f_pinky.03.{s}", "head")
        for finger in ("index", "middle", "ring"):
            chain = [got[f"{side}_hand_{finger}_finger_{k}"] for k in ("mcp", "pip", "dip", "tip")]
            bones = [(f"f_{finger}.0{k}.{s}", "head") for k in (1, 2, 3)] + [(f"f_{finger}.03.{s}", "tail")]
            assert chain == bones
    assert not [p for p in mapping.pairs if p.joint.startswith("face_")]
    assert np.isfinite([p.cost for p in mapping.pairs]).all()


def test_detected_whole_body_lift_onto_the_rigify_human_from_the_panel(addon, tmp_path):
    """Detect -> Lift -> Propose as the user does it: a MediaPipe whole-body clip (the standing person, swaying,
    seen 4 m away) lifted with the shipped weights, then the panel's Propose Mapping onto the Rigify human."""
    from blender_addon import blender_io
    from lfm_engine.io import Keypoints2D, write_keypoints_npz
    from lfm_engine.weights import DEFAULT_WEIGHTS

    if not DEFAULT_WEIGHTS.is_file():
        pytest.skip("the shipped weights are not present")
    layout, f, size = "mediapipe_holistic543", 1500.0, (1080, 1920)
    world = layout_points(layout)[None] + np.linspace(-0.05, 0.05, 6)[:, None, None] * np.array([1.0, 0.0, 0.0])
    cam = np.stack([world[..., 0], 1.0 - world[..., 2], 4.0 + world[..., 1]], -1)
    uv = cam[..., :2] / cam[..., 2:] * f + np.array(size) / 2
    rig = get_rig(layout)
    kp = Keypoints2D(uv.astype(np.float32), np.ones(uv.shape[:2], np.float32), rig.joint_names, rig.edge_array(),
                     image_size=size, fps=30.0, rig_name=layout)  # fmt: skip
    s = bpy.context.scene.lift_to_3d
    s.source_path, s.focal_length = str(write_keypoints_npz(kp, tmp_path / "holistic.npz")), f
    assert bpy.ops.lfm.lift() == {"FINISHED"}
    source = bpy.data.objects["holistic"]
    assert source.data.bones["forearm.L"][blender_io.JOINT_KEY] == "left_wrist"
    r = bpy.context.scene.lift_to_3d_retarget
    r.source, r.target = source, add_metarig("human")
    assert bpy.ops.lfm.retarget_propose() == {"FINISHED"}
    got = {p.joint: p.bone for p in r.pairs if p.bone}
    for s_, side in (("L", "left"), ("R", "right")):
        assert got[f"{side}_wrist"] == f"hand.{s_}" and got[f"{side}_ankle"] == f"foot.{s_}"
        assert got[f"{side}_hip"] == f"thigh.{s_}" and got[f"{side}_knee"] == f"shin.{s_}"
    for joint, bone in got.items():
        part = classify(layout, joint)[1] if joint in rig.joint_names else "body"
        if part != "body":
            assert not LEG_WORDS.search(bone), f"{joint} -> {bone}"
        if part == "hand":
            assert re.match(r"(thumb|f_index|f_middle|f_ring|f_pinky)\.0\d\.[LR]$", bone), f"{joint} -> {bone}"
        side = classify(layout, joint)[0] if joint in rig.joint_names else ""
        assert not side or not bone_side(bone) or bone_side(bone) == side, f"{joint} -> {bone}"
