"""Camera defaults that do not trap users (issue 16): focal length units, the 55 degree default, and the image size,
frame rate and focal length taken from an OpenPose canvas or from the footage beside the keypoints."""

from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest
from helpers import stick_figure_names, stick_figure_parents, stick_figure_poses

from lfm_engine import InputError, pipeline
from lfm_engine import armature as arm
from lfm_engine.camera import DEFAULT_FIELD_OF_VIEW, FULL_FRAME_DIAGONAL_MM, focal_length_in, focal_length_px
from lfm_engine.footage import find_footage, footage_names, probe, read_quicktime
from lfm_engine.io import Keypoints2D, read_keypoints, write_keypoints_npz
from tests.conftest import SHARED_DATA

FOOTAGE = SHARED_DATA / "footage" / "pose2sim_balancing"


# ---------------------------------------------------------------------- units
@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)])
def test_focal_length_units_follow_blenders_camera(size):
    long_side = max(size)
    assert focal_length_px(1500.0, "px", size) == 1500.0
    # Millimetres: a Blender camera's lens, the sensor width across the larger side (sensor fit Auto).
    assert focal_length_px(36.0, "mm", size) == pytest.approx(long_side)
    assert focal_length_px(50.0, "mm", size, sensor_width=23.5) == pytest.approx(50.0 * long_side / 23.5)
    # A field of view across the larger side: 90 degrees is half the side.
    assert focal_length_px(90.0, "fov", size) == pytest.approx(long_side / 2)
    assert focal_length_px(DEFAULT_FIELD_OF_VIEW, "fov", size) == pytest.approx(0.9605 * long_side, rel=1e-4)
    # 35 mm equivalent: on the full-frame diagonal.
    assert focal_length_px(FULL_FRAME_DIAGONAL_MM, "mm35", size) == pytest.approx(math.hypot(*size))
    for unit, value in (("mm", 26.0), ("fov", 63.0), ("mm35", 24.0), ("px", 900.0)):
        px = focal_length_px(value, unit, size, sensor_width=30.0)
        assert focal_length_in(px, unit, size, sensor_width=30.0) == pytest.approx(value)


@pytest.mark.parametrize(
    "args, message",
    [
        ((50.0, "inch", (100, 100)), "unknown focal length unit 'inch'"),
        ((0.0, "mm", (100, 100)), "focal length must be a positive number"),
        ((float("nan"), "px", (100, 100)), "focal length must be a positive number"),
        ((180.0, "fov", (100, 100)), "between 0 and 180 degrees"),
        ((50.0, "mm", (0, 100)), "image size must be a positive number"),
        ((50.0, "mm", 100), r"image size must be \(width, height\)"),
    ],
)
def test_focal_length_units_refuse_bad_values(args, message):
    with pytest.raises(InputError, match=message):
        focal_length_px(*args)
    with pytest.raises(InputError, match="sensor width"):
        focal_length_px(50.0, "mm", (100, 100), sensor_width=-1)


# ---------------------------------------------------------------------- the default focal length
F_TRUE, W, H = 0.9 * 1280, 1280, 720


def _clip(tmp_path, rng, frames: int = 20, distance: float = 4.0, **kw):
    cam = stick_figure_poses(rng, frames) @ np.diag([1.0, -1.0, 1.0]) + [0.0, 0.0, distance]
    uv = cam[..., :2] / cam[..., 2:] * F_TRUE + [W / 2, H / 2]
    edges = [(p, j) for j, p in enumerate(stick_figure_parents()) if p >= 0]
    kp = Keypoints2D(uv, None, stick_figure_names(), edges, **({"image_size": (W, H), "fps": 30.0} | kw))
    return write_keypoints_npz(kp, tmp_path / "clip.npz"), cam


@pytest.fixture
def lifter(weights_file):
    return pipeline.load_lifter(weights_file, "numpy")


def test_default_focal_length_puts_the_subject_at_a_plausible_distance(tmp_path, rng, lifter):
    """4 m in front of a 70 degree camera, lifted without a focal length: the 55 degree default puts the subject
    within 10 % of its distance; the long lens assumed before (5 x the larger side) put it 5.6 x as far."""
    path, cam = _clip(tmp_path, rng)
    size = arm.subject_extent(arm.camera_to_world(cam), vertical=False)  # the figure's own size, metres
    result = pipeline.run(path, pipeline.LiftSettings(solve_clip=False, height=size), lifter=lifter)
    assert result.camera.assumed and result.camera.field_of_view == pytest.approx(55.0)
    depth = np.median(arm.world_to_camera(result.world)[..., 2].mean(-1))
    truth = np.median(cam[..., 2].mean(-1))
    assert abs(depth / truth - 1) < 0.1, (depth, truth)
    # A focal length given in any unit is used as given.
    for unit, value in (("mm", F_TRUE * 36 / W), ("fov", 2 * math.degrees(math.atan(W / 2 / F_TRUE)))):
        given = pipeline.run(path, pipeline.LiftSettings(focal_length=value, focal_unit=unit, solve_clip=False),
                             lifter=lifter)  # fmt: skip
        assert given.camera.focal_length == pytest.approx(F_TRUE) and not given.camera.assumed
    with pytest.raises(InputError, match="unknown focal length unit"):
        pipeline.run(path, pipeline.LiftSettings(focal_length=1.0, focal_unit="inches"), lifter=lifter)


# ---------------------------------------------------------------------- OpenPose canvas
def _openpose_folder(folder, frames, scale=(1.0, 1.0), **extra):
    """BODY_25 frames of a stick person as OpenPose JSON (points divided by ``scale``), ``extra`` keys per file."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    base = np.stack([np.linspace(200, 300, 25), np.linspace(100, 500, 25)], -1)
    for t in range(frames):
        xy = (base + rng.normal(0, 2, base.shape)) / np.asarray(scale)
        values = np.concatenate([xy, np.full((25, 1), 0.9)], -1).ravel().tolist()
        doc = {"version": 1.3, "people": [{"pose_keypoints_2d": values}], **extra}
        (folder / f"cam01.{t:04d}.json").write_text(json.dumps(doc))
    return folder


def test_openpose_canvas_gives_the_image_size_and_scales_normalised_points(tmp_path):
    plain = read_keypoints(_openpose_folder(tmp_path / "plain", 3))
    assert plain.image_size is None  # OpenPose itself records no size
    pixels = read_keypoints(_openpose_folder(tmp_path / "px", 3, canvas_width=640, canvas_height=720))
    assert pixels.image_size == (640, 720)
    assert np.allclose(pixels.points, plain.points)  # pixel coordinates stay as they are
    # ControlNet's pose JSON: coordinates normalised to [0, 1] by the canvas.
    norm = read_keypoints(_openpose_folder(tmp_path / "norm", 3, (640, 720), canvas_width=640, canvas_height=720))
    assert norm.image_size == (640, 720)
    assert np.allclose(norm.points, plain.points, atol=1e-3)
    bad = _openpose_folder(tmp_path / "bad", 2, canvas_width=640, canvas_height="tall")
    with pytest.raises(InputError, match=r"cam01.0000.json: canvas_width and canvas_height must be positive"):
        read_keypoints(bad)
    mixed = _openpose_folder(tmp_path / "mixed", 2, canvas_width=640, canvas_height=720)
    doc = json.loads((mixed / "cam01.0001.json").read_text())
    (mixed / "cam01.0001.json").write_text(json.dumps(doc | {"canvas_width": 720}))
    with pytest.raises(InputError, match=r"720x720 canvas but cam01.0000.json has 640x720"):
        read_keypoints(mixed)


# ---------------------------------------------------------------------- footage
def _box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def write_mp4(path, size=(1920, 1080), fps=30.0, frames=90, rotate=False, focal_35mm=None, focal_type=21) -> None:
    """A minimal MP4 (boxes only, no picture): a video track of ``size`` turned a quarter by its matrix when
    ``rotate`` (a phone held upright), ``frames`` at ``fps``, and Apple's 35 mm-equivalent focal length."""
    one = 65536
    matrix = (0, one, 0, -one, 0, 0, 0, 0, 1 << 30) if rotate else (one, 0, 0, 0, one, 0, 0, 0, 1 << 30)
    tkhd = _box(b"tkhd", bytes(4), struct.pack(">5I", 0, 0, 1, 0, frames), bytes(16), struct.pack(">9i", *matrix),
                struct.pack(">II", size[0] * one, size[1] * one))  # fmt: skip
    timescale = 600 if fps == 30.0 else 1000 * round(fps)
    delta = round(timescale / fps)
    mdhd = _box(b"mdhd", bytes(4), struct.pack(">4I", 0, 0, timescale, frames * delta), bytes(4))
    hdlr = _box(b"hdlr", bytes(8), b"vide", bytes(12), b"VideoHandler\0")
    stts = _box(b"stts", bytes(4), struct.pack(">III", 1, frames, delta))
    trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, _box(b"minf", _box(b"stbl", stts))))
    meta = b""
    if focal_35mm is not None:
        key = b"com.apple.quicktime.camera.focal_length.35mm_equivalent"
        keys = _box(b"keys", bytes(4), struct.pack(">I", 1), struct.pack(">I4s", 8 + len(key), b"mdta") + key)
        value = str(focal_35mm).encode() + b"mm" if focal_type == 1 else struct.pack(">i", int(focal_35mm))
        data = _box(b"data", struct.pack(">I", focal_type), bytes(4), value)
        meta = _box(b"meta", _box(b"hdlr", bytes(8), b"mdta", bytes(13)), keys, _box(b"ilst", _box(b"\0\0\0\1", data)))
    path.write_bytes(_box(b"ftyp", b"isom", bytes(4), b"isommp41") + _box(b"mdat", bytes(64))
                     + _box(b"moov", _box(b"mvhd", bytes(100)), trak, meta))  # fmt: skip


def test_read_quicktime_gives_size_rotation_rate_and_focal_length(tmp_path):
    path = tmp_path / "a.mp4"
    write_mp4(path, (1920, 1080), 30.0, focal_35mm=26)
    info = read_quicktime(path)
    assert info.image_size == (1920, 1080) and info.fps == 30.0 and info.focal_length_35mm == 26.0
    write_mp4(path, (1920, 1080), 59.94, rotate=True, focal_35mm=28, focal_type=1)  # text "28mm"
    info = read_quicktime(path)
    assert info.image_size == (1080, 1920) and info.fps == pytest.approx(60.0, abs=0.1)
    assert info.focal_length_35mm == 28.0
    write_mp4(path)
    assert read_quicktime(path).focal_length_35mm is None
    (tmp_path / "b.mp4").write_bytes(b"RIFF\0\0\0\0AVI LIST")  # not an ISO base media file
    assert read_quicktime(tmp_path / "b.mp4") is None
    with pytest.raises(InputError, match="footage not found"):
        probe(tmp_path / "missing.mp4")


@pytest.mark.skipif(not FOOTAGE.is_dir(), reason=f"{FOOTAGE} is not present (../shared/data)")
def test_the_real_clip_finds_its_video_beside_it():
    keypoints = FOOTAGE / "cam01_openpose_json"
    assert footage_names(keypoints) == ["cam01", "cam01_openpose_json"]
    assert find_footage(keypoints) == FOOTAGE / "cam01.mp4"
    info = read_quicktime(FOOTAGE / "cam01.mp4")  # without OpenCV
    assert info.image_size == (1080, 1920) and info.fps == 60.0 and info.focal_length_35mm is None


def test_find_footage_rule(tmp_path):
    shot = tmp_path / "shot"
    keypoints = _openpose_folder(shot / "cam01_openpose_json", 2)
    assert find_footage(keypoints) is None
    (shot / "other.mp4").write_bytes(b"")
    (shot / "frames").mkdir()
    assert find_footage(keypoints) is None  # no matching name
    (shot / "cam01").mkdir()
    (shot / "cam01" / "0001.png").write_bytes(b"")
    assert find_footage(keypoints) == shot / "cam01"  # an image sequence named like the frames
    (shot / "CAM01.MOV").write_bytes(b"")
    assert find_footage(keypoints) == shot / "CAM01.MOV"  # a video before an image folder, any case
    (keypoints / "cam01.avi").write_bytes(b"")
    assert find_footage(keypoints) == keypoints / "cam01.avi"  # inside the folder first
    # OpenPose's own naming: video_000000000000_keypoints.json in a folder named anything.
    out = tmp_path / "out"
    out.mkdir()
    (out / "video_000000000000_keypoints.json").write_text("{}")
    (tmp_path / "video.mp4").write_bytes(b"")
    assert footage_names(out) == ["video", "out"] and find_footage(out) == tmp_path / "video.mp4"
    # A keypoint file: the video of its name beside it.
    (tmp_path / "walk.npz").write_bytes(b"")
    (tmp_path / "walk.mkv").write_bytes(b"")
    assert find_footage(tmp_path / "walk.npz") == tmp_path / "walk.mkv"


def test_pipeline_takes_size_rate_and_focal_length_from_the_footage(tmp_path, rng, lifter):
    shot = tmp_path / "shot"
    keypoints = _openpose_folder(shot / "cam01_openpose_json", 6)
    # Nothing to go by: the size guessed, 24 fps assumed, each a warning naming its setting; 55 degrees.
    alone = pipeline.run(keypoints, pipeline.LiftSettings(solve_clip=False), lifter=lifter)
    assert [w.setting for w in alone.warnings] == ["image_size", "fps"]
    assert "assumed 24 fps" in str(alone.warnings[1]) and "no footage given or found" in str(alone.warnings[1])
    assert alone.fps is None and alone.camera.assumed and not alone.camera.image_size_known
    # The video beside the keypoints: its size, rate and focal length, and no warning.
    write_mp4(shot / "cam01.mp4", (1920, 1080), 50.0, rotate=True, focal_35mm=26)
    found = pipeline.run(keypoints, pipeline.LiftSettings(solve_clip=False), lifter=lifter)
    assert found.warnings == () and found.footage == shot / "cam01.mp4"
    assert found.camera.image_size == (1080, 1920) and found.fps == 50.0 and not found.camera.assumed
    assert found.camera.focal_length == pytest.approx(26 * math.hypot(1080, 1920) / FULL_FRAME_DIAGONAL_MM)
    assert any("image size and frame rate from the footage" in n for n in found.notes)
    assert any("26 mm (35 mm equivalent)" in n for n in found.notes)
    # The settings come first, then the file, then the footage.
    settings = pipeline.LiftSettings(solve_clip=False, image_size=(720, 1280), fps=25.0, focal_length=40.0,
                                     focal_unit="mm")  # fmt: skip
    given = pipeline.run(keypoints, settings, lifter=lifter)
    assert given.camera.image_size == (720, 1280) and given.fps == 25.0 and given.footage is None
    assert given.camera.focal_length == pytest.approx(40.0 * 1280 / 36.0)
    # Footage named in the settings, for keypoints whose footage is elsewhere.
    elsewhere = tmp_path / "elsewhere.mp4"
    write_mp4(elsewhere, (640, 480), 30.0)
    named = pipeline.run(keypoints, pipeline.LiftSettings(solve_clip=False, footage=str(elsewhere)), lifter=lifter)
    assert named.camera.image_size == (640, 480) and named.fps == 30.0 and named.camera.assumed
    with pytest.raises(InputError, match="footage not found"):
        pipeline.run(keypoints, pipeline.LiftSettings(footage=str(tmp_path / "nope.mp4")), lifter=lifter)


def test_unreadable_footage_is_a_warning_not_an_error(tmp_path, lifter, monkeypatch):
    """Footage that cannot be read (no OpenCV inside plain Blender, for an .avi) leaves the assumptions and says
    why in the warning."""
    from lfm_engine import detect
    from lfm_engine.errors import DependencyError

    shot = tmp_path / "shot"
    keypoints = _openpose_folder(shot / "cam01_openpose_json", 4)
    (shot / "cam01.avi").write_bytes(b"RIFF\0\0\0\0AVI LIST")

    def no_cv2():
        raise DependencyError("detection needs OpenCV: No module named 'cv2'", package="cv2", extra="detect")

    monkeypatch.setattr(detect, "_cv2", no_cv2)
    result = pipeline.run(keypoints, pipeline.LiftSettings(solve_clip=False), lifter=lifter)
    assert [w.setting for w in result.warnings] == ["image_size", "fps"]
    assert "nor in the footage cam01.avi; reading it needs OpenCV" in str(result.warnings[0])


# ---------------------------------------------------------------------- retarget placement
def test_retarget_follows_the_lifted_subject_where_it_is_in_the_world():
    """The lifted person walks 4 m in front of the camera (the camera world); the target armature object stands
    elsewhere (moved, turned, scaled like an FBX rig in centimetres) and is 1.1 x taller. The default root placement
    puts the target's hips where the lifted hips are, scaled by the leg ratio about the lifted ground under them in
    the first frame; ``"target"`` keeps the motion over the target's own rest position (the behaviour before)."""
    import dataclasses

    from test_retarget import identity_mapping, make_rig, motion, person

    from lfm_engine.retarget import retarget

    names, _, rest = person()
    rig = make_rig({k: 1.1 * v for k, v in zip(names, rest, strict=True)})
    turn = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    world = np.eye(4)
    world[:3, :3], world[:3, 3] = 0.01 * turn, [2.0, -1.0, 0.0]
    rest_cm = rig.rest_matrices.copy()
    rest_cm[:, :3, 3] /= 0.01
    rig = dataclasses.replace(rig, matrix_world=world, rest_matrices=rest_cm, lengths=rig.lengths / 0.01)
    _, pts = motion(seed=3)
    pts = pts + np.array([0.4, 4.0, 0.0])  # in front of the camera, off its axis
    mapping = identity_mapping(names)
    result = retarget(pts, names, rig, mapping, ik=())
    assert result.scale == pytest.approx(1.1)  # target armature units per lifted unit in armature space
    hips = names.index("pelvis")
    k = next(i for i, p in enumerate(mapping.pairs) if p.joint == "pelvis")
    got = rig.to_world(result.pair_positions()[:, k])  # (T, 3) the target's hips, world
    ground = np.median(pts[..., 2].min(axis=1))
    pivot = np.array([*pts[0, [names.index("left_hip"), names.index("right_hip")], :2].mean(0), ground])
    assert np.abs(got - (pivot + 1.1 * (pts[:, hips] - pivot))).max() < 1e-6
    assert np.abs(got[0, :2] - pts[0, hips, :2]).max() < 0.01  # over the lifted hips in the first frame
    assert np.all(got[:, 1] > 3.0)  # in front of the camera, not at the target's place (y = -1)
    old = rig.to_world(retarget(pts, names, rig, mapping, ik=(), root_placement="target").pair_positions()[:, k])
    assert np.abs(old[0, :2] - [2.0, -1.0]).max() < 0.05  # over the rig's own place
    with pytest.raises(InputError, match="unknown root placement"):
        retarget(pts, names, rig, mapping, root_placement="camera")
