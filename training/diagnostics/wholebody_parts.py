"""Lift MediaPipe's whole body as one skeleton or part by part? (docs/DETECTION.md, "Whole body or parts")

3D ground truth in the MediaPipe whole-body layouts: Blender's Rigify human metarig posed at random
(``training/data/synthetic_rigify.py``: body and fingers, mapped to the 33 pose and 2 x 21 hand landmarks) with
MediaPipe's canonical face mesh (``../shared/data/face/canonical_face_model.obj``, 468 landmarks) fitted to the
metarig's face at rest and carried rigidly by its head. Each pose is seen through a pinhole camera (1200 px focal
length, 1080x1920 image, 4 m away, yaw within +-60 deg and pitch within +-15 deg of facing the camera), and the exact
2D points are lifted with the shipped weights both ways (:func:`lfm_engine.wholebody.lift_whole_body`):
``whole`` (one lift of every joint) and ``parts`` (body, hands and face alone, attached at the wrists and the nose),
next to the flat baseline (every joint at one depth).

Printed: PA-MPJPE in mm over every joint after one similarity alignment of the whole body (how well the parts sit
together), and of each part aligned alone (its own shape), for the 543-joint layout (with the face) and the
75-joint one (body and hands, what the Pose2Sim clip gives: its face is never found).

    .venv/bin/python training/diagnostics/wholebody_parts.py --poses 300 --seed 0
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from lfm_engine import Lifter, get_rig  # noqa: E402
from lfm_engine.geometry import apply_similarity, pa_mpjpe, similarity_procrustes  # noqa: E402
from lfm_engine.layouts import HOLISTIC_PARTS, MEDIAPIPE_HAND21_JOINTS, MEDIAPIPE_POSE33_JOINTS, _facemesh_data  # noqa: E402
from lfm_engine.wholebody import lift_whole_body, part_slices  # noqa: E402
from training.data.sources import face_set  # noqa: E402
from training.data.synthetic_rigify import generate  # noqa: E402

FACE_OBJ = os.path.join(os.path.dirname(ROOT), "shared", "data", "face", "canonical_face_model.obj")
FOCAL, SIZE, DISTANCE = 1200.0, (1080, 1920), 4.0

_FINGERS = {"thumb": "thumb", "index_finger": "f_index", "middle_finger": "f_middle", "ring_finger": "f_ring",
            "pinky": "f_pinky"}  # fmt: skip
_THUMB = {"cmc": "thumb.01", "mcp": "thumb.02", "ip": "thumb.03", "tip": "thumb.03.end"}
_FINGER = {"mcp": ".01", "pip": ".02", "dip": ".03", "tip": ".03.end"}


def _hand_map(side: str) -> list[list[str]]:
    """Metarig joints (averaged) for each mediapipe_hand21 landmark of side ``L``/``R``."""
    out = []
    for name in MEDIAPIPE_HAND21_JOINTS:
        if name == "wrist":
            out.append([f"hand.{side}"])
            continue
        finger, _, part = name.rpartition("_")
        bone = _THUMB[part] if finger == "thumb" else _FINGERS[finger] + _FINGER[part]
        out.append([f"{bone}.{side}"])
    return out


def _pose_map(rest: dict[str, np.ndarray]) -> list[list[str]]:
    """Metarig joints (averaged) for each mediapipe_pose33 landmark; eye corners are the eyelid points nearest
    to and farthest from the face's midline at rest."""
    lids = {s: [n for n in rest if n.startswith("lid.") and n.endswith(f".{s}")] for s in "LR"}
    corner = {s: sorted(lids[s], key=lambda n: abs(rest[n][0])) for s in "LR"}
    nose_tip = max((n for n in rest if n.startswith("nose")), key=lambda n: rest[n][2])
    table = {"nose": [nose_tip]}
    for side, s in (("left", "L"), ("right", "R")):
        table |= {
            f"{side}_eye_inner": [corner[s][0]], f"{side}_eye": lids[s], f"{side}_eye_outer": [corner[s][-1]],
            f"{side}_ear": [f"ear.{s}"], f"mouth_{side}": [f"lip.T.001.{s}", f"lip.B.001.{s}"],
            f"{side}_shoulder": [f"upper_arm.{s}"], f"{side}_elbow": [f"forearm.{s}"], f"{side}_wrist": [f"hand.{s}"],
            f"{side}_pinky": [f"f_pinky.01.{s}"], f"{side}_index": [f"f_index.01.{s}"],
            f"{side}_thumb": [f"thumb.03.{s}"], f"{side}_hip": [f"thigh.{s}"], f"{side}_knee": [f"shin.{s}"],
            f"{side}_ankle": [f"foot.{s}"], f"{side}_heel": [f"heel.02.{s}", f"heel.02.end.{s}"],
            f"{side}_foot_index": [f"toe.end.{s}"],
        }  # fmt: skip
    return [table[n] for n in MEDIAPIPE_POSE33_JOINTS]


def _canonical_face() -> np.ndarray:
    """``(468, 3)`` metres."""
    return np.asarray(face_set(FACE_OBJ).positions[0], dtype=np.float64)


def whole_body_ground_truth(n: int, seed: int) -> np.ndarray:
    """``(n, 543, 3)`` metres, Y up, the subject facing +Z (layout ``mediapipe_holistic543``)."""
    d = generate("human", n, seed, face=True)
    names = [str(x) for x in d["joint_names"]]
    idx = {name: i for i, name in enumerate(names)}
    rest = {name: d["rest_positions"][i].astype(np.float64) for name, i in idx.items()}
    pos = d["positions"].astype(np.float64)  # (n, J, 3)

    def gather(groups):
        return np.stack([pos[:, [idx[g] for g in group]].mean(1) for group in groups], axis=1)

    body = gather(_pose_map(rest))
    hands = [gather(_hand_map(s)) for s in "LR"]
    # The canonical face fitted to the metarig's face at rest (nose tip, eyes, mouth), carried by the head.
    face = _canonical_face()
    conn = _facemesh_data()["connections"]
    ring = {s: sorted({i for e in conn[f"{s}_eye"] for i in e}) for s in ("left", "right")}
    src = np.stack([face[1], face[ring["left"]].mean(0), face[ring["right"]].mean(0), face[[13, 14]].mean(0)])
    pm = _pose_map(rest)
    p33 = {n: np.mean([rest[g] for g in grp], 0) for n, grp in zip(MEDIAPIPE_POSE33_JOINTS, pm, strict=True)}
    dst = np.stack([p33["nose"], p33["left_eye"], p33["right_eye"], (p33["mouth_left"] + p33["mouth_right"]) / 2])
    s, R, t = similarity_procrustes(src, dst)
    face_rest = apply_similarity(s, R, t, face)
    fit = np.linalg.norm(apply_similarity(s, R, t, src) - dst, axis=-1).max()
    head = [i for n, i in idx.items() if n.split(".")[0] in ("forehead", "temple", "ear", "nose", "brow", "cheek")]
    head_rest = np.stack([rest[names[i]] for i in head])
    s2, R2, t2 = similarity_procrustes(np.broadcast_to(head_rest, pos[:, head].shape), pos[:, head], scale=False)
    faces = apply_similarity(s2, R2, t2, np.broadcast_to(face_rest, (n, *face_rest.shape)))
    print(f"canonical face fitted to the metarig's face: worst of 4 landmarks {1000 * fit:.1f} mm off")
    return np.concatenate([body, *hands, faces], axis=1)


def project(gt: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Camera-frame points ``(n, J, 3)`` (x right, y down, z away, metres) and their pixels ``(n, J, 2)``."""
    n = len(gt)
    yaw = np.radians(rng.uniform(-60, 60, n))
    pitch = np.radians(rng.uniform(-15, 15, n))
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    Ry = np.zeros((n, 3, 3))
    Ry[:, 0, 0], Ry[:, 0, 2], Ry[:, 1, 1], Ry[:, 2, 0], Ry[:, 2, 2] = cy, sy, 1, -sy, cy
    Rx = np.zeros((n, 3, 3))
    Rx[:, 0, 0], Rx[:, 1, 1], Rx[:, 1, 2], Rx[:, 2, 1], Rx[:, 2, 2] = 1, cp, -sp, sp, cp
    centred = gt - gt[:, 23:25].mean(1, keepdims=True)  # about the hips' midpoint
    world = centred @ (Rx @ Ry).swapaxes(-1, -2)
    cam = world * np.array([1.0, -1.0, -1.0]) + np.array([0.0, 0.0, DISTANCE])  # facing the camera at +Z
    pix = FOCAL * cam[..., :2] / cam[..., 2:] + np.array(SIZE) / 2
    return cam, pix


def report(name: str, pred: np.ndarray, cam: np.ndarray) -> dict[str, float]:
    """PA-MPJPE (mm) over all joints with one alignment, then per part aligned alone."""
    J = pred.shape[1]
    out = {"all (one alignment)": float(np.mean(pa_mpjpe(pred, cam * 1000.0)))}
    for part, (sl, _) in part_slices(J).items():
        out[f"{part} alone"] = float(np.mean(pa_mpjpe(pred[:, sl], cam[:, sl] * 1000.0)))
    print(f"  {name:6s} " + "  ".join(f"{k} {v:6.1f}" for k, v in out.items()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--poses", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights", default=None, help="weights file (default: the shipped weights)")
    args = ap.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    if not os.path.isfile(FACE_OBJ):
        sys.exit(f"{FACE_OBJ} is missing (../shared/data)")
    t0 = time.time()
    gt = whole_body_ground_truth(args.poses, args.seed)
    cam, pix = project(gt, np.random.default_rng(args.seed))
    lifter = Lifter.from_pretrained(args.weights)
    camera = {"focal_length": FOCAL, "principal_point": (SIZE[0] / 2, SIZE[1] / 2)}
    print(f"{args.poses} posed Rigify humans, exact 2D, shipped weights; PA-MPJPE in mm")
    for layout in ("mediapipe_holistic543", "mediapipe_body_hands75"):
        J = get_rig(layout).num_joints
        print(f"{layout} ({J} joints):")
        vis = np.ones((len(pix), J), dtype=bool)
        flat = np.concatenate([pix[:, :J] - camera["principal_point"], np.full((len(pix), J, 1), FOCAL)], -1)
        report("flat", flat, cam[:, :J])  # every joint at one depth: the baseline a lift must beat
        results = {}
        for mode in ("whole", "parts"):
            pred = lift_whole_body(lifter, pix[:, :J], vis, layout, mode=mode, **camera)
            results[mode] = report(mode, pred, cam[:, :J])
        ratio = results["parts"]["all (one alignment)"] / results["whole"]["all (one alignment)"]
        print(f"  parts / whole, all joints: {ratio:.2f}")
    print(f"({time.time() - t0:.0f} s; face offset {HOLISTIC_PARTS['face'][0]})")


if __name__ == "__main__":
    main()
