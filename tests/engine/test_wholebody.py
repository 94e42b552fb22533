"""Whole-body lifting (lfm_engine.wholebody): parts attached at the wrists and the nose keep every visible joint on
its keypoint; parts missing in a frame come from a whole-body lift; parts never seen are dropped."""

from __future__ import annotations

import numpy as np
import pytest

from lfm_engine import Lifter, get_rig
from lfm_engine.errors import InputError
from lfm_engine.io import Keypoints2D
from lfm_engine.layouts import HOLISTIC_PARTS
from lfm_engine.wholebody import drop_missing_parts, lift_whole_body, part_slices

F, PP = 1000.0, (540.0, 960.0)


@pytest.fixture(scope="module")
def lifter(weights_file):
    return Lifter.from_pretrained(weights_file, backend="numpy")


def _whole_body_2d(rng, T: int, J: int) -> np.ndarray:
    """``(T, J, 2)`` pixels of a plausible whole body: a body, hands at its wrists and a face at its nose."""
    pts = np.empty((T, J, 2))
    pts[:, :33] = rng.normal([540, 960], [120, 300], (T, 33, 2))
    for name, (sl, _) in part_slices(J).items():
        if name == "body":
            continue
        anchor = {"left_hand": 15, "right_hand": 16, "face": 0}[name]
        n = sl.stop - sl.start
        size = 40.0 if name == "face" else 25.0
        pts[:, sl] = pts[:, anchor, None] + rng.normal(0, size, (T, n, 2))
    return pts


def test_part_slices():
    assert {k: (v[0].start, v[0].stop, v[1]) for k, v in part_slices(553).items()} == {
        "body": (0, 33, "mediapipe_pose33"),
        "left_hand": (33, 54, "mediapipe_hand21"),
        "right_hand": (54, 75, "mediapipe_hand21"),
        "face": (75, 553, "mediapipe_facemesh478"),
    }
    assert part_slices(543)["face"][1] == "mediapipe_facemesh468"
    assert set(part_slices(75)) == {"body", "left_hand", "right_hand"}
    assert HOLISTIC_PARTS["face"][0] == 75


@pytest.mark.parametrize("layout", ["mediapipe_holistic543", "mediapipe_body_hands75"])
def test_parts_attached_project_onto_keypoints(lifter, rng, layout):
    J = get_rig(layout).num_joints
    pts = _whole_body_2d(rng, 4, J)
    vis = np.ones((4, J), dtype=bool)
    vis[1, 33:54] = False  # the left hand lost in frame 1
    vis[2, 60] = False
    out = lift_whole_body(lifter, pts, vis, layout, F, PP, mode="parts")
    assert out.shape == (4, J, 3) and np.isfinite(out).all()
    assert (out[..., 2] > 0).all()
    proj = out[..., :2] / out[..., 2:] * F + np.asarray(PP)
    assert np.abs(proj - pts)[vis].max() < 1e-2  # px: every visible joint on its camera ray
    # Each attached part's anchor has the depth of the body's joint it hangs from.
    seen = [0, 2, 3]  # frame 1 lost the left hand
    assert np.allclose(out[seen, 33, 2], out[seen, 15, 2], rtol=1e-5)
    assert np.allclose(out[:, 54, 2], out[:, 16, 2], rtol=1e-5)
    if J > 75:
        assert np.allclose(out[:, 76, 2], out[:, 0, 2], rtol=1e-5)
    # The body is the body lifted alone.
    body = lifter.lift(pts[:, :33], edges=get_rig("mediapipe_pose33"), focal_length=F, principal_point=PP)
    assert np.allclose(out[:, :33], body, rtol=1e-4, atol=1e-3)
    # The lost hand comes from the whole-body lift, scaled to the body at the wrist.
    whole = lift_whole_body(lifter, pts, vis, layout, F, PP, mode="whole")
    assert np.allclose(out[1, 33:54], whole[1, 33:54] * (out[1, 15, 2] / whole[1, 15, 2]), rtol=1e-4)
    assert not np.allclose(out[0, 33:54], whole[0, 33:54] * (out[0, 15, 2] / whole[0, 15, 2]), rtol=1e-3)


def test_whole_mode_is_one_lift(lifter, rng):
    pts = _whole_body_2d(rng, 2, 75)
    vis = np.ones((2, 75), dtype=bool)
    out = lift_whole_body(lifter, pts, vis, "mediapipe_body_hands75", F, PP, mode="whole")
    ref = lifter.lift(pts, edges=get_rig("mediapipe_body_hands75"), focal_length=F, principal_point=PP)
    assert np.allclose(out, ref)
    with pytest.raises(InputError, match="unknown whole-body mode 'both'"):
        lift_whole_body(lifter, pts, vis, "mediapipe_body_hands75", F, PP, mode="both")


def _kp(points: np.ndarray, layout: str) -> Keypoints2D:
    rig = get_rig(layout)
    return Keypoints2D(points, None, rig.joint_names, rig.edge_array(), rig_name=layout, source="det.npz")


def test_drop_missing_parts(rng):
    pts = _whole_body_2d(rng, 3, 553)
    assert drop_missing_parts(_kp(pts, "mediapipe_holistic553")).rig_name == "mediapipe_holistic553"
    no_face = pts.copy()
    no_face[:, 75:] = np.nan
    kp = drop_missing_parts(_kp(no_face, "mediapipe_holistic553"))
    assert kp.rig_name == "mediapipe_body_hands75" and kp.num_joints == 75 and kp.source == "det.npz"
    assert np.array_equal(kp.points, pts[:, :75].astype(np.float32))
    assert kp.rig() is get_rig("mediapipe_body_hands75")
    body_only = no_face.copy()
    body_only[:, 33:] = np.nan
    assert drop_missing_parts(_kp(body_only, "mediapipe_holistic553")).rig_name == "mediapipe_pose33"
    one_hand = body_only.copy()
    one_hand[1, 40] = pts[1, 40]  # one point of one hand in one frame keeps the hands
    assert drop_missing_parts(_kp(one_hand, "mediapipe_holistic553")).rig_name == "mediapipe_body_hands75"
    coco = _kp(rng.normal(size=(2, 17, 2)), "coco17")
    assert drop_missing_parts(coco) is coco


def test_frame_without_a_body_comes_from_the_whole_lift(lifter, rng):
    pts = _whole_body_2d(rng, 3, 75)
    vis = np.ones((3, 75), dtype=bool)
    vis[1, :32] = False  # one body joint left in frame 1: the body cannot be lifted alone there
    out = lift_whole_body(lifter, pts, vis, "mediapipe_body_hands75", F, PP, mode="parts")
    whole = lift_whole_body(lifter, pts, vis, "mediapipe_body_hands75", F, PP, mode="whole")
    assert np.allclose(out[1], whole[1])
    assert not np.allclose(out[0], whole[0])
    proj = out[..., :2] / out[..., 2:] * F + np.asarray(PP)
    assert np.abs(proj - pts)[vis].max() < 1e-2
