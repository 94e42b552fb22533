"""lfm_engine.anatomy: the lifted armature of every standard layout is rooted at the pelvis, never hangs one side
from the other, names its bones for their segments and keeps the joint names."""

from __future__ import annotations

import re

import numpy as np
import pytest
from human_pose import HUMAN_LAYOUTS, classify, layout_points

from lfm_engine import Rig, get_rig, pipeline
from lfm_engine.anatomy import anatomy, standard_anatomies
from lfm_engine.io import Keypoints2D

F, W, H = 1200.0, 1280, 960
#: Segment names of the scheme (lfm_engine.anatomy's docs): the midline, sided segments, fingers.
SEGMENT = re.compile(r"^(pelvis|spine(\.\d{3})?|chest|neck(\.\d{3})?|head|nose|wrist|[a-z_]+\.[LR]"
                     r"|(thumb|index|middle|ring|pinky)\.0\d(\.[LR])?)$")  # fmt: skip
BODY = ("hip", "thigh", "shin", "shoulder", "upper_arm", "forearm")
PELVIS = ("pelvis", "MidHip", "hip", "root")


@pytest.fixture
def lifter(weights_file):
    return pipeline.load_lifter(weights_file, "numpy")


def _keypoints(layout: str, frames: int = 4) -> Keypoints2D:
    """The standing person of ``human_pose`` 4 m in front of a camera, swaying a little."""
    world = layout_points(layout)  # (J, 3) Z up, facing -Y
    sway = np.linspace(-0.05, 0.05, frames)[:, None, None] * np.array([1.0, 0.0, 0.0])
    world = world[None] + sway
    cam = np.stack([world[..., 0], 1.0 - world[..., 2], 4.0 + world[..., 1]], -1)  # x right, y down, z away
    uv = cam[..., :2] / cam[..., 2:] * F + [W / 2, H / 2]
    rig = get_rig(layout)
    return Keypoints2D(uv.astype(np.float32), None, rig.joint_names, rig.edge_array(), image_size=(W, H), fps=30.0,
                       rig_name=layout)  # fmt: skip


@pytest.mark.parametrize("layout", HUMAN_LAYOUTS)
def test_lifted_armature_is_anatomical(layout, lifter):
    result = pipeline.run(_keypoints(layout), pipeline.LiftSettings(rig=layout, focal_length=F, solve_clip=False),
                          lifter=lifter)  # fmt: skip
    anim, rig = result.armature, result.rig
    names = rig.joint_names
    # one root, at the pelvis: the layout's own pelvis joint or the hips' midpoint
    roots = np.flatnonzero(anim.is_root)
    assert len(roots) == 1 and names[roots[0]] in PELVIS, [names[r] for r in roots]
    root = int(roots[0])
    assert anim.bone_names[root] == "pelvis" and anim.joint_names[root] == names[root]
    rest_head = anim.rest_matrices[root, :3, 3] + anim.origin
    assert np.allclose(rest_head, anim.joints[anim.rest_frame, root])
    if names[root] == "pelvis" and "pelvis" not in get_rig(layout).joint_names:  # virtual: the hips' midpoint
        hips = [names.index(n) for n in names if classify(layout, n)[2] == "hip" and classify(layout, n)[0]]
        assert len(hips) == 2
        assert np.allclose(result.points2d[:, root], result.points2d[:, hips].mean(1), atol=1e-3)
        # lifted at the hips' mean depth, on the camera ray through that midpoint
        assert np.allclose(result.lifted[:, root, 2], result.lifted[:, hips, 2].mean(1), rtol=1e-5)
        assert np.allclose(result.camera.project(result.lifted[:, root]), result.points2d[:, root], atol=1e-2)
        near = np.abs(result.lifted[:, root] - result.lifted[:, hips].mean(1)).max()
        assert near < 0.01 * result.lifted[:, root, 2].max()  # close to the 3D midpoint
    # left and right never hang from each other
    sides = rig.sides()
    for j, p in enumerate(anim.parents.tolist()):
        assert p < 0 or sides[j] * sides[p] >= 0, f"{names[j]} hangs from {names[p]}"
    # segment names, joint names kept
    assert len(set(anim.bone_names)) == len(anim.bone_names)
    assert anim.joint_names == names
    assert {f"{b}.{s}" for b in BODY for s in "LR"} | {"pelvis"} <= set(anim.bone_names)
    for j, bone in enumerate(anim.bone_names):
        if j < get_rig(layout).num_joints and classify(layout, names[j])[1] == "face":
            assert bone == names[j]  # face points keep their names
        else:
            assert SEGMENT.match(bone), bone
    knee = next(j for j, n in enumerate(names) if classify(layout, n)[2] == "knee" and classify(layout, n)[0] == "L")
    assert anim.bone_names[knee] == "thigh.L" and anim.head_joint_names[knee] == names[anim.parents[knee]]


def test_body25b_roots_at_the_pelvis_not_a_hip():
    """The reported case: BODY_25B rooted at LHip, RHip under LHip and RShoulder under RHip."""
    body = anatomy(get_rig("openpose_body25b"))
    names, par = body.rig.joint_names, body.rig.parents
    parent = {names[j]: (names[p] if p >= 0 else None) for j, p in enumerate(par)}
    assert parent["pelvis"] is None and parent["LHip"] == parent["RHip"] == "pelvis"
    assert parent["LShoulder"] == parent["RShoulder"] == "neck" and parent["neck"] == "pelvis"
    assert parent["UpperNeck"] == "neck" and parent["HeadTop"] == "UpperNeck"
    assert body.virtual == ((names.index("LHip"), names.index("RHip")),
                            (names.index("LShoulder"), names.index("RShoulder")))  # fmt: skip


@pytest.mark.parametrize("layout", ["openpose_hand21", "mediapipe_hand21"])
def test_hands_root_at_the_wrist_and_name_the_fingers(layout):
    body = anatomy(get_rig(layout))
    roots = [j for j, p in enumerate(body.rig.parents) if p < 0]
    assert len(roots) == 1 and body.rig.joint_names[roots[0]].lower() == "wrist"
    assert body.bone_names[roots[0]] == "wrist" and not body.virtual
    fingers = sorted(b for b in body.bone_names if b != "wrist")
    assert fingers == sorted(f"{f}.{k:02d}" for f in ("thumb", "index", "middle", "ring", "pinky") for k in range(4))


def test_every_standard_layout_of_people_and_hands_has_an_anatomy():
    from lfm_engine import available_rigs

    missing = [n for n in available_rigs() if get_rig(n).category in ("human", "hand") and n not in
               standard_anatomies()]  # fmt: skip
    assert not missing


def test_other_rigs_keep_their_tree_and_joint_names():
    custom = Rig.from_edges(["a", "b", "c"], [(0, 1), (1, 2)], name="coco17")  # a custom rig named like a layout
    for rig in (custom, get_rig("openpose_face70"), get_rig("mediapipe_facemesh468")):
        body = anatomy(rig)
        assert body.rig is rig and body.bone_names == rig.joint_names and not body.virtual
        assert body.extend(np.zeros((2, rig.num_joints, 3))).shape == (2, rig.num_joints, 3)


def test_virtual_joints_are_midpoints_visible_where_both_are():
    body = anatomy(get_rig("coco17"))
    J = 17
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(3, J, 2))
    pts[1, 11] = np.nan  # left hip missing in frame 1
    vis = np.isfinite(pts).all(-1)
    conf = rng.uniform(size=(3, J))
    out = body.extend(pts)
    assert out.shape == (3, J + 2, 2)
    pelvis = body.rig.joint_names.index("pelvis")
    assert np.allclose(out[0, pelvis], (pts[0, 11] + pts[0, 12]) / 2) and np.isnan(out[1, pelvis]).all()
    assert body.extend_visible(vis)[:, pelvis].tolist() == [True, False, True]
    assert np.allclose(body.extend_confidence(conf)[:, pelvis], np.minimum(conf[:, 11], conf[:, 12]))
