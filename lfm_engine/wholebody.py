"""Lifting MediaPipe's whole body (body, hands, face) as one skeleton or part by part, attached at the wrists and
the nose.

The whole-body layouts (``mediapipe_holistic553``, ``mediapipe_holistic543``, ``mediapipe_body_hands75``; parts at
the offsets of :data:`lfm_engine.layouts.HOLISTIC_PARTS`) can be lifted in two ways (:data:`MODES`):

* ``"whole"``: one :meth:`Lifter.lift` of every joint at once;
* ``"parts"``: the body (``mediapipe_pose33``), each hand (``mediapipe_hand21``) and the face
  (``mediapipe_facemesh468/478``) are lifted alone through the same pinhole camera, then each hand and the face is
  scaled about the camera centre until its anchor joint (the hand's wrist, the face's nose tip) has the depth of
  the body's (``left_wrist``, ``right_wrist``, ``nose``). Scaling about the camera centre keeps every point on its
  camera ray, so the attached parts still project exactly onto their keypoints.

``"parts"`` is the default. Measured with the shipped weights on 300 posed Rigify humans with MediaPipe's face mesh
(``training/diagnostics/wholebody_parts.py``, exact 2D): PA-MPJPE over all 543 joints 52.7 mm by parts against
81.9 mm whole (the body alone 161.9 against 189.7, the face alone 23.6 against 34.0, the hands equal at 24 mm);
the 468 face points swamp a whole-body lift. Without the face (75 joints) the two are close (156.9 against 158.6).
The shipped weights are weak: by parts is only at the level of the flat baseline (52.1 mm); see docs/DETECTION.md.

A frame where the body or a part has fewer than two visible joints takes that part (or, without a body, the whole
frame) from a whole-body lift of that frame, scaled to the body at the part's anchor.
"""

from __future__ import annotations

import numpy as np

from .layouts import FACEMESH_NOSE_TIP, HOLISTIC_PARTS, get_rig

#: How a whole-body layout is lifted (see the module docs).
MODES = ("parts", "whole")
#: The layouts :func:`lift_whole_body` splits into parts.
WHOLE_BODY_LAYOUTS = ("mediapipe_holistic553", "mediapipe_holistic543", "mediapipe_body_hands75")
#: Each attached part's anchor: (the body joint, the part's own joint index).
ANCHORS = {"left_hand": ("left_wrist", 0), "right_hand": ("right_wrist", 0), "face": ("nose", FACEMESH_NOSE_TIP)}


def part_slices(num_joints: int) -> dict[str, tuple[slice, str]]:
    """The parts of a whole-body layout with ``num_joints`` joints: name -> (its joints, its own layout)."""
    out = {}
    for name, (a, b) in HOLISTIC_PARTS.items():
        b = num_joints if b is None else b
        if b <= a:
            continue
        layout = {33: "mediapipe_pose33", 21: "mediapipe_hand21", 468: "mediapipe_facemesh468"}.get(b - a)
        out[name] = (slice(a, b), layout or "mediapipe_facemesh478")
    return out


def drop_missing_parts(kp):
    """``kp`` (a :class:`lfm_engine.io.Keypoints2D`) without the whole-body parts that are missing in every frame:
    without the face ``mediapipe_body_hands75``, without hands and face ``mediapipe_pose33``. Other keypoints, and
    whole-body ones with a face but no hands, are returned as they are."""
    from .io import Keypoints2D

    if kp.rig_name not in WHOLE_BODY_LAYOUTS:
        return kp
    seen = {name: bool(kp.mask[:, sl].any()) for name, (sl, _) in part_slices(kp.num_joints).items()}
    if seen.get("face", False):
        return kp
    hands = seen["left_hand"] or seen["right_hand"]
    layout = "mediapipe_body_hands75" if hands else "mediapipe_pose33"
    if layout == kp.rig_name:
        return kp
    rig = get_rig(layout)
    J = rig.num_joints
    return Keypoints2D(kp.points[:, :J], kp.confidence[:, :J], rig.joint_names, rig.edge_array(),
                       image_size=kp.image_size, fps=kp.fps, source=kp.source, rig_name=layout,
                       frame_ids=kp.frame_ids)  # fmt: skip


def _liftable(points: np.ndarray, visible: np.ndarray) -> np.ndarray:
    from .pipeline import liftable

    return liftable(points, visible)


def lift_whole_body(
    lifter,
    points: np.ndarray,
    visible: np.ndarray,
    rig_name: str,
    focal_length: float,
    principal_point: tuple[float, float],
    mode: str = "parts",
) -> np.ndarray:
    """Lift ``(T, J, 2)`` pixels of a whole-body layout to ``(T, J, 3)`` camera-frame points (pixels).

    Args:
        lifter: a :class:`lfm_engine.Lifter`.
        points: ``(T, J, 2)`` pixels; visible: ``(T, J)`` bool. Every frame must have two visible joints.
        rig_name: one of :data:`WHOLE_BODY_LAYOUTS`.
        focal_length, principal_point: the pinhole camera, pixels.
        mode: ``"parts"`` or ``"whole"`` (see the module docs).

    Returns:
        ``(T, J, 3)`` float32, like :meth:`Lifter.lift` with a focal length: visible joints project onto their
        keypoints.
    """
    if mode not in MODES:
        from .errors import InputError

        raise InputError(f"unknown whole-body mode {mode!r}; use one of {', '.join(MODES)}")
    rig = get_rig(rig_name)
    camera = {"focal_length": focal_length, "principal_point": principal_point}
    if mode == "whole":
        return lifter.lift(points, edges=rig, mask=visible, **camera)
    T, J = points.shape[:2]
    out = np.full((T, J, 3), np.nan, dtype=np.float32)
    parts = part_slices(J)
    need_whole = np.zeros(T, dtype=bool)
    body_sl, body_layout = parts.pop("body")
    body_ok = _liftable(points[:, body_sl], visible[:, body_sl])
    if body_ok.any():
        out[body_ok, body_sl] = lifter.lift(points[body_ok, body_sl], edges=get_rig(body_layout),
                                            mask=visible[body_ok, body_sl], **camera)  # fmt: skip
    need_whole |= ~body_ok
    body_names = get_rig(body_layout).joint_names
    part_ok = {}
    for name, (sl, layout) in parts.items():
        ok = _liftable(points[:, sl], visible[:, sl]) & body_ok
        part_ok[name] = ok
        need_whole |= ~ok
        if not ok.any():
            continue
        lifted = lifter.lift(points[ok, sl], edges=get_rig(layout), mask=visible[ok, sl], **camera)  # (n, P, 3)
        body_joint, own = ANCHORS[name]
        target = out[ok, body_sl.start + body_names.index(body_joint), 2]  # (n,) the body's anchor depth
        scale = target / lifted[:, own, 2]
        out[ok, sl] = lifted * scale[:, None, None]
    if need_whole.any():
        whole = lifter.lift(points[need_whole], edges=rig, mask=visible[need_whole], **camera)
        idx = np.flatnonzero(need_whole)
        for k, t in enumerate(idx):
            if not body_ok[t]:
                out[t] = whole[k]
                continue
            for name, (sl, _) in parts.items():
                if not part_ok[name][t]:  # the whole lift's part, scaled to the body lifted alone at the anchor
                    anchor = body_sl.start + body_names.index(ANCHORS[name][0])
                    out[t, sl] = whole[k, sl] * (out[t, anchor, 2] / whole[k, anchor, 2])
    return out


__all__ = ["ANCHORS", "MODES", "WHOLE_BODY_LAYOUTS", "drop_missing_parts", "lift_whole_body", "part_slices"]
