"""The demo: lift a walking figure to an animated armature and render a preview, headless.

Usage::

    python blender_addon/demo.py --out demo_out [--input keypoints] [--weights w.safetensors] [--backend numpy]
    blender -b --python blender_addon/demo.py -- --out demo_out

Without ``--input`` it first makes its own input, ``<out>/walk_coco17.npz``: a COCO-17 figure walking in place
while turning (hip, knee, shoulder and elbow angles from sinusoids; 120 frames at 30 fps), projected by a pinhole
camera (f = 900 px, 1280x720, 4 m away), with the right wrist missing for a few frames. Then it runs the batch
script's pipeline (:func:`blender_addon.batch.lift_inputs`), adds a renderable octahedron mesh for the bones,
writes ``<out>/demo.blend`` and renders with Workbench (Cycles when Workbench has no GPU context) a few frames
through the footage camera and from the side, composed with the 2D input into ``<out>/preview.png``: one column
per frame; rows: 2D input, 3D through the footage camera, 3D from the side. When mediapipe, OpenCV and scikit-image
are importable (not with ``--no-detect``), a last row shows MediaPipe's detection (:mod:`lfm_engine.detect`: body,
hands, face) on scikit-image's astronaut photo, a real photo that ships with that package.

Needs the bpy module (or Blender) and numpy; OpenCV, when importable, only adds labels to the preview.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path

import numpy as np

#: The demo camera: focal length (px) and image size of the generated clip.
DEMO_FOCAL = 900.0
DEMO_SIZE = (1280, 720)
DEMO_FPS = 30.0
DEMO_FRAMES = 120
#: Clip frames shown in the preview.
PREVIEW_FRAMES = (0, 30, 60, 90)
TILE = (400, 225)


# ---------------------------------------------------------------------- the generated clip
def walking_figure(frames: int = DEMO_FRAMES, fps: float = DEMO_FPS) -> np.ndarray:
    """``(T, 17, 3)`` COCO-17 joints of a figure walking in place while turning, Blender world (Z up, metres), the
    figure 4 m in front of a camera at the origin looking along +Y, 1 m above the floor (z = -1)."""
    t = np.arange(frames) / fps  # (T,)
    phase = 2 * np.pi * t / 1.1  # one stride per 1.1 s
    yaw = 0.4 + 1.4 * t / t[-1] if frames > 1 else np.zeros(1)  # turns from front-ish to side-on
    fwd = np.stack([np.sin(yaw), -np.cos(yaw), np.zeros_like(yaw)], -1)  # (T, 3) faces the camera at yaw 0
    up = np.array([0.0, 0.0, 1.0])
    left = np.cross(up, fwd)  # (T, 3) the subject's left
    pelvis = np.array([0.0, 4.0, -1.0 + 0.95]) + 0.02 * np.cos(2 * phase)[:, None] * up  # (T, 3)

    def limb(start, angle, length, side=0.0):
        """A segment from ``start`` swung forward by ``angle`` (0 = straight down) in the sagittal plane."""
        d = np.sin(angle)[:, None] * fwd - np.cos(angle)[:, None] * up + side * left
        return start + length * d / np.linalg.norm(d, axis=-1, keepdims=True)

    joints = {}
    for name, sign in (("left", 1.0), ("right", -1.0)):
        p = phase if sign > 0 else phase + np.pi
        hip = pelvis + sign * 0.1 * left
        thigh = 0.4 * np.sin(p)
        knee = limb(hip, thigh, 0.45)
        ankle = limb(knee, thigh - (0.15 + 0.55 * np.clip(np.sin(p - 1.2), 0, None)), 0.43)
        shoulder = pelvis + 0.5 * up + sign * 0.18 * left
        swing = -0.35 * np.sin(p)
        elbow = limb(shoulder, swing, 0.3, side=sign * 0.08)
        wrist = limb(elbow, swing + 0.35 + 0.2 * (1 + np.sin(p)) / 2, 0.27, side=sign * 0.05)
        joints |= {f"{name}_hip": hip, f"{name}_knee": knee, f"{name}_ankle": ankle, f"{name}_shoulder": shoulder,
                   f"{name}_elbow": elbow, f"{name}_wrist": wrist}  # fmt: skip
    neck = pelvis + 0.55 * up
    nose = neck + 0.15 * up + 0.1 * fwd
    for name, sign in (("left", 1.0), ("right", -1.0)):
        joints[f"{name}_eye"] = nose + 0.035 * up - 0.02 * fwd + sign * 0.03 * left
        joints[f"{name}_ear"] = neck + 0.13 * up - 0.03 * fwd + sign * 0.075 * left
    joints["nose"] = nose
    from .engine import lfm_engine

    names = lfm_engine.get_rig("coco17").joint_names
    return np.stack([joints[n] for n in names], 1)  # (T, 17, 3)


def make_demo_input(path: str | Path) -> Path:
    """Write the demo clip (see the module docs) as our NPZ keypoints; returns the path written."""
    from .engine import armature, io, lfm_engine

    world = walking_figure()
    cam = armature.world_to_camera(world)  # (T, 17, 3) x right, y down, z away
    w, h = DEMO_SIZE
    uv = cam[..., :2] / cam[..., 2:3] * DEMO_FOCAL + np.array([w / 2, h / 2])  # (T, 17, 2)
    uv += np.random.default_rng(0).normal(scale=0.5, size=uv.shape)  # detector-like jitter
    rig = lfm_engine.get_rig("coco17")
    uv[40:46, rig.index("right_wrist")] = np.nan  # occluded for a moment
    kp = io.Keypoints2D(uv, None, rig.joint_names, rig.edge_array(), image_size=DEMO_SIZE, fps=DEMO_FPS,
                        source=str(path), rig_name="coco17")  # fmt: skip
    return io.write_keypoints_npz(kp, path)


# ---------------------------------------------------------------------- rendering
def _render_setup(scene, resolution: tuple[int, int]) -> None:
    import bpy

    world = bpy.data.worlds.new("DemoWorld")
    world.color = (0.05, 0.05, 0.06)
    scene.world = world
    scene.render.engine = "BLENDER_WORKBENCH"
    shading = scene.display.shading
    shading.light = "STUDIO"
    shading.color_type = "SINGLE"
    shading.single_color = (0.9, 0.55, 0.2)
    scene.render.resolution_x, scene.render.resolution_y = resolution
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"


def _side_camera(scene, target: np.ndarray, distance: float):
    import bpy
    from mathutils import Vector

    data = bpy.data.cameras.new("SideCamera")
    data.lens = 35.0
    obj = bpy.data.objects.new("SideCamera", data)
    scene.collection.objects.link(obj)
    pos = Vector(target.tolist()) + Vector((distance, 0.0, 0.2 * distance))
    obj.location = pos
    obj.rotation_euler = (Vector(target.tolist()) - pos).to_track_quat("-Z", "Y").to_euler()
    return obj


def _crop_box(points: np.ndarray, tile: tuple[int, int], margin: float = 1.25) -> tuple[float, float, float, float]:
    """``(x0, y0, width, height)`` in image pixels: the finite ``points`` ``(..., 2)`` with a margin, at the tile's
    aspect ratio."""
    p = points.reshape(-1, 2)
    p = p[np.isfinite(p).all(-1)]
    lo, hi = p.min(0), p.max(0)
    centre, size = (lo + hi) / 2, np.maximum((hi - lo) * margin, 1.0)
    aspect = tile[0] / tile[1]
    w = max(size[0], size[1] * aspect)
    return float(centre[0] - w / 2), float(centre[1] - w / aspect / 2), float(w), float(w / aspect)


def _crop_camera(scene, footage, camera, box, tile: tuple[int, int]):
    """A copy of the ``footage`` camera object whose view, at the tile's resolution, is the image region ``box``
    (x0, y0, w, h) of the footage (same pinhole, zoomed and shifted)."""
    import bpy

    x0, y0, bw, _ = box
    zoom = tile[0] / bw  # tile pixels per image pixel
    cx, cy = (np.asarray(camera.principal_point) - (x0, y0)) * zoom
    data = footage.data.copy()
    data.name = "CropCamera"
    data.lens = camera.focal_length * data.sensor_width / bw
    data.shift_x = (tile[0] / 2 - cx) / tile[0]  # in units of the fitted side (sensor_fit HORIZONTAL: width)
    data.shift_y = (cy - tile[1] / 2) / tile[0]
    obj = bpy.data.objects.new("CropCamera", data)
    obj.matrix_world = footage.matrix_world
    scene.collection.objects.link(obj)
    return obj


def _render(scene, camera, frame: int, path: Path) -> np.ndarray:
    """Render ``frame`` through ``camera``; ``(H, W, 3)`` float32 RGB in [0, 1], top row first."""
    import bpy

    scene.camera = camera
    scene.frame_set(frame)
    scene.render.filepath = str(path)
    try:
        bpy.ops.render.render(write_still=True)
    except RuntimeError:  # no GPU context for Workbench here: Cycles renders on the CPU
        scene.render.engine = "CYCLES"
        scene.cycles.samples = 8
        bpy.ops.render.render(write_still=True)
    image = bpy.data.images.load(str(path))
    w, h = image.size
    px = np.empty(w * h * image.channels, dtype=np.float32)
    image.pixels.foreach_get(px)
    bpy.data.images.remove(image)
    return px.reshape(h, w, -1)[::-1, :, :3]  # (H, W, 3) Blender stores the bottom row first


def _draw_2d(points: np.ndarray, edges: np.ndarray, box, tile: tuple[int, int]) -> np.ndarray:
    """The 2D keypoints ``(J, 2)`` (image pixels) in the image region ``box`` (x0, y0, w, h), drawn on a dark
    ``tile`` ``(H, W, 3)`` float32."""
    tw, th = tile
    out = np.full((th, tw, 3), 0.05, dtype=np.float32)
    p = (points - np.array(box[:2])) * (tw / box[2])  # (J, 2) tile pixels
    r = 1

    def dot(x, y, color, radius):
        xi, yi = round(float(x)), round(float(y))
        if not (0 <= xi < tw and 0 <= yi < th):
            return
        out[max(yi - radius, 0) : yi + radius + 1, max(xi - radius, 0) : xi + radius + 1] = color

    for a, b in edges:
        if np.isfinite(p[[a, b]]).all():
            n = int(np.linalg.norm(p[b] - p[a])) + 2
            for s in np.linspace(0.0, 1.0, n):
                dot(*(p[a] + s * (p[b] - p[a])), (0.3, 0.7, 1.0), r)
    for x, y in p[np.isfinite(p).all(-1)]:
        dot(x, y, (1.0, 1.0, 1.0), 2 * r)
    return out


def _save_png(rgb: np.ndarray, path: Path, labels: list[tuple[str, int, int]]) -> None:
    """Save ``(H, W, 3)`` float RGB as a PNG, with text labels when OpenCV is importable."""
    img = (np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    try:
        import cv2
    except ImportError:
        cv2 = None
    if cv2 is not None:
        bgr = np.ascontiguousarray(img[..., ::-1])
        for text, x, y in labels:
            cv2.putText(bgr, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        cv2.imwrite(str(path), bgr)
        return
    import bpy

    h, w, _ = img.shape
    image = bpy.data.images.new("preview", w, h, alpha=True)
    rgba = np.concatenate([rgb[::-1], np.ones((h, w, 1), dtype=np.float32)], -1)
    image.pixels.foreach_set(np.clip(rgba, 0, 1).astype(np.float32).ravel())
    image.filepath_raw = str(path)
    image.file_format = "PNG"
    image.save()
    bpy.data.images.remove(image)


def detection_row(out: Path, width: int, height: int) -> tuple[np.ndarray, str] | None:
    """MediaPipe detection (:mod:`lfm_engine.detect`) on scikit-image's astronaut photo, drawn over the photo: a
    ``(height, width, 3)`` float32 row for the preview and its label, or None when mediapipe, OpenCV or scikit-image
    is missing. The detections are saved to ``<out>/astronaut_detections.npz``."""
    try:
        import cv2
        import mediapipe  # noqa: F401 - only to know that detection can run
        from skimage import data
    except ImportError as exc:
        print(f"lift_to_3d demo: no detection row ({exc.name} is not installed)")
        return None
    from .engine import detect

    photo = out / "astronaut.png"
    cv2.imwrite(str(photo), data.astronaut()[..., ::-1])
    det = detect.detect(photo)
    det.save(out / "astronaut_detections.npz")
    img = cv2.imread(str(photo))
    scale = height / img.shape[0]
    img = cv2.resize(img, (round(img.shape[1] * scale), height), interpolation=cv2.INTER_AREA)
    colours = {"body": (255, 180, 80), "left_hand": (80, 255, 80), "right_hand": (80, 80, 255), "face": (255, 255, 255)}
    for part, colour in colours.items():
        sub = det.part(part)
        q = sub.points[0] * scale
        for a, b in sub.edges:
            if np.isfinite(q[[a, b]]).all():
                cv2.line(img, tuple(map(round, q[a])), tuple(map(round, q[b])), colour, 1, cv2.LINE_AA)
        for x, y in q[np.isfinite(q).all(-1)]:
            cv2.circle(img, (round(x), round(y)), 1 if part == "face" else 2, colour, -1, cv2.LINE_AA)
    row = np.full((height, width, 3), 0.05, dtype=np.float32)
    w = min(img.shape[1], width)
    row[:, :w] = img[:, :w, ::-1].astype(np.float32) / 255.0
    found = ", ".join(f"{part.replace('_', ' ')} {int(det.part(part).mask[0].sum())}" for part in colours)
    return row, f"MediaPipe on skimage astronaut (points found: {found})"


def render_preview(results, out: Path, frames=PREVIEW_FRAMES, tile: tuple[int, int] = TILE, extra_row=None) -> Path:
    """Render the first clip of ``results`` at clip ``frames`` and compose ``out`` (see the module docs);
    ``extra_row`` (an ``(H, W, 3)`` image and its label, from :func:`detection_row`) is added at the bottom."""
    import bpy

    result = results[0]
    scene = bpy.context.scene
    footage_camera = scene.camera
    frames = [f for f in frames if f < result.num_frames] or [0]
    centre = np.median(result.armature.joints.reshape(-1, 3), axis=0)
    side = _side_camera(scene, centre, distance=2.6 * result.height)
    box = _crop_box(result.points2d[frames], tile)
    crop = _crop_camera(scene, footage_camera, result.camera, box, tile)
    _render_setup(scene, tile)
    edges = result.rig.edge_array()
    scene_frames = result.scene_frames(1)
    rows: list[list[np.ndarray]] = [[], [], []]
    with tempfile.TemporaryDirectory() as tmp:
        for k in frames:
            rows[0].append(_draw_2d(result.points2d[k], edges, box, tile))
            rows[1].append(_render(scene, crop, int(scene_frames[k]), Path(tmp) / f"cam_{k}.png"))
            rows[2].append(_render(scene, side, int(scene_frames[k]), Path(tmp) / f"side_{k}.png"))
    scene.camera = footage_camera
    bpy.data.batch_remove(ids=[crop, crop.data, side, side.data])
    grid = np.concatenate([np.concatenate(r, 1) for r in rows], 0)  # (3 H, n W, 3)
    labels = [(f"frame {k}", i * tile[0] + 8, 18) for i, k in enumerate(frames)]
    labels += [("2D input", 8, tile[1] - 10), ("3D, footage camera", 8, 2 * tile[1] - 10),
               ("3D, side view", 8, 3 * tile[1] - 10)]  # fmt: skip
    if extra_row is not None:
        row, label = extra_row
        labels.append((label, min(row.shape[1], grid.shape[1]) // 3 + 8, grid.shape[0] + row.shape[0] // 2))
        grid = np.concatenate([grid, row[:, : grid.shape[1]]], 0)
    path = out / "preview.png"
    _save_png(grid, path, labels)
    return path


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    import bpy

    from . import batch, blender_io
    from .engine import LFMError, pipeline

    if argv is None:
        argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    ap = argparse.ArgumentParser(prog="lift_to_3d demo", description="Lift a clip and render a preview")
    ap.add_argument("--out", default="demo_out", help="output folder (default demo_out)")
    ap.add_argument("--input", help="keypoint file or folder (default: the generated walking clip)")
    ap.add_argument("--weights", help="model weights (default: the shipped weights)")
    ap.add_argument("--backend", choices=("auto", "numpy", "torch"), default="auto")
    ap.add_argument("--focal-length", type=float, help="focal length in px (default: the generated clip's)")
    ap.add_argument("--no-detect", action="store_true", help="leave out the MediaPipe detection on a real photo")
    args = ap.parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    source = args.input or str(make_demo_input(out / "walk_coco17.npz"))
    focal = args.focal_length or (None if args.input else DEMO_FOCAL)
    settings = pipeline.LiftSettings(focal_length=focal, weights=args.weights, backend=args.backend)
    try:
        lifter = pipeline.load_lifter(args.weights, args.backend)
    except LFMError as exc:
        print(f"lift_to_3d demo: error: {exc} (here: --weights PATH)", file=sys.stderr)
        return 1
    bpy.ops.wm.read_factory_settings(use_empty=True)
    results, failed = batch.lift_inputs([source], settings, lifter)
    if failed:
        return 1
    armature_obj = bpy.context.view_layer.objects.active
    blender_io.add_bone_mesh(armature_obj)
    blend = batch.save_blend(out / "demo.blend")
    extra = None if args.no_detect else detection_row(out, len(PREVIEW_FRAMES) * TILE[0], 2 * TILE[1])
    preview = render_preview(results, out, extra_row=extra)
    print(f"lift_to_3d demo: input {source}\nlift_to_3d demo: wrote {blend}\nlift_to_3d demo: wrote {preview}")
    return 0


def _run_as_script() -> int:
    here = Path(__file__).resolve().parent
    if str(here.parent) not in sys.path:
        sys.path.insert(0, str(here.parent))
    return importlib.import_module(f"{here.name}.demo").main()


if __name__ == "__main__":
    sys.exit(main() if __package__ else _run_as_script())
