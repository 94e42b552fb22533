"""Control rigs (lfm_engine.retarget.controls): control poses from a skeleton's pose, and the preset section."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import random_rotations

from lfm_engine.retarget import ControlRig, ControlRigError, Mapping, MappingError, control_poses, load_preset


def _poses(rng, n):
    m = np.tile(np.eye(4), (n, 1, 1))
    m[:, :3, :3] = random_rotations(rng, n)
    m[:, :3, 3] = rng.normal(size=(n, 3))
    return m


def test_a_control_moves_as_if_rigidly_attached_to_the_bone_it_follows():
    rng = np.random.default_rng(0)
    rest_o, rest_c = _poses(rng, 3), _poses(rng, 3)
    pose = _poses(rng, 5 * 3).reshape(5, 3, 4, 4)
    got = control_poses(pose, rest_o, rest_c)
    # the control's pose relative to the followed bone's pose is their rest relation, in every frame
    rel_rest = np.linalg.inv(rest_o) @ rest_c
    assert np.allclose(np.linalg.inv(pose) @ got, rel_rest[None], atol=1e-9)
    # at rest, each control stays at its rest pose
    assert np.allclose(control_poses(rest_o[None], rest_o, rest_c)[0], rest_c, atol=1e-9)


def test_an_aimed_control_points_its_tail_at_the_aim_and_keeps_its_head():
    rng = np.random.default_rng(1)
    rest_o, rest_c = _poses(rng, 2), _poses(rng, 2)
    pose = _poses(rng, 4 * 2).reshape(4, 2, 4, 4)
    lengths = np.array([0.5, 2.0])
    aims = rng.normal(size=(4, 2, 3))
    aims[:, 1] = np.nan  # the second control has no aim
    got = control_poses(pose, rest_o, rest_c, lengths, aims)
    plain = control_poses(pose, rest_o, rest_c)
    assert np.allclose(got[..., :3, 3], plain[..., :3, 3])  # heads unchanged
    to_aim = aims[:, 0] - got[:, 0, :3, 3]
    cos = (got[:, 0, :3, 1] * to_aim).sum(-1) / np.linalg.norm(to_aim, axis=-1)
    assert np.allclose(cos, 1.0)
    assert np.allclose(got[:, 1], plain[:, 1])
    assert np.allclose(np.linalg.det(got[..., :3, :3]), 1.0)


def test_the_rigify_generated_preset_carries_its_controls_and_round_trips(tmp_path):
    preset = load_preset("rigify_generated")
    rig = preset.controls
    assert preset.metarig == "human" and rig.generate and rig.skeleton_prefix == "ORG-"
    assert all(p.bone.startswith("ORG-") for p in preset.pairs)
    by_bone = {c.bone: c for c in rig.controls}
    assert by_bone["torso"].location and not by_bone["hand_fk.L"].location
    assert by_bone["upper_arm_fk.R"].follows == "ORG-upper_arm.R" and by_bone["neck"].aim == "ORG-spine.006"
    assert {(s.bone, s.property, s.value) for s in rig.switches} == {
        (f"{b}_parent.{s}", "IK_FK", 1.0) for b in ("upper_arm", "thigh") for s in "LR"
    }
    assert set(rig.rest) == {"hips", "chest"}
    again = Mapping.load(preset.save(tmp_path / "copy.json"))
    assert again.controls == rig and again.pairs == preset.pairs
    # a plain mapping has no controls, and writes none
    assert "controls" not in Mapping(preset.pairs).to_dict() and load_preset("rigify_human").controls is None


@pytest.mark.parametrize(
    ("controls", "message"),
    [
        ({"bones": []}, "non-empty 'bones'"),
        ({"bones": [{"bone": "torso"}]}, "control 0 needs a 'bone' and a 'follows'"),
        ({"skeleton_prefix": "ORG-", "bones": [{"bone": "torso", "follows": "DEF-spine"}]}, "not skeleton bones"),
        ({"bones": [{"bone": "a", "follows": "b"}], "properties": [{"bone": "a", "value": "x"}]}, "property 0"),
        ({"bones": [{"bone": "a", "follows": "b"}], "rest": "hips"}, "'rest' must be a list"),
    ],
)
def test_bad_control_sections_name_the_file(tmp_path, controls, message):
    path = tmp_path / "rig.json"
    path.write_text(json.dumps({"format": "lift_to_3d.retarget_mapping", "version": 1, "controls": controls,
                                "pairs": [{"joint": "a", "bone": "b"}]}))  # fmt: skip
    with pytest.raises((ControlRigError, MappingError), match=rf"rig\.json: .*{message}"):
        Mapping.load(path)
    assert issubclass(ControlRigError, ValueError)
    assert ControlRig.from_dict({"bones": [{"bone": "a", "follows": "b"}]}).controls[0].aim == ""
