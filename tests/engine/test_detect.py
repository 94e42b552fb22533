"""MediaPipe detection (lfm_engine.detect): the real Pose2Sim clip against its OpenPose keypoints, the astronaut
photo, image sequences, progress and cancellation, and clear errors for bad footage."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import SHARED_DATA

pytest.importorskip("mediapipe")
cv2 = pytest.importorskip("cv2")

from lfm_engine.detect import Detections, DetectSettings, detect, detect_steps, is_footage, load_detections  # noqa: E402
from lfm_engine.errors import InputError  # noqa: E402
from lfm_engine.io import read_keypoints  # noqa: E402

CLIP_DIR = SHARED_DATA / "footage" / "pose2sim_balancing"
VIDEO = CLIP_DIR / "cam01.mp4"
OPENPOSE = CLIP_DIR / "cam01_openpose_json"

#: BODY_25B joint -> MediaPipe pose landmark, the joints both detectors have.
SHARED_JOINTS = {
    "Nose": "nose", "LEye": "left_eye", "REye": "right_eye", "LEar": "left_ear", "REar": "right_ear",
    "LShoulder": "left_shoulder", "RShoulder": "right_shoulder", "LElbow": "left_elbow", "RElbow": "right_elbow",
    "LWrist": "left_wrist", "RWrist": "right_wrist", "LHip": "left_hip", "RHip": "right_hip",
    "LKnee": "left_knee", "RKnee": "right_knee", "LAnkle": "left_ankle", "RAnkle": "right_ankle",
    "LHeel": "left_heel", "RHeel": "right_heel", "LBigToe": "left_foot_index", "RBigToe": "right_foot_index",
}  # fmt: skip


@pytest.fixture(scope="session")
def clip_detections() -> Detections:
    """The whole real clip detected once (about 10 s on one core)."""
    if not VIDEO.is_file():
        pytest.skip(f"{VIDEO} is not present (../shared/data)")
    return detect(VIDEO)


@pytest.fixture(scope="session")
def astronaut(tmp_path_factory):
    data = pytest.importorskip("skimage.data")
    path = tmp_path_factory.mktemp("astronaut") / "astronaut.png"
    cv2.imwrite(str(path), data.astronaut()[..., ::-1])
    return path


# ---------------------------------------------------------------------- the real clip
def test_clip_person_found_in_95_percent_of_frames(clip_detections):
    det = clip_detections
    assert det.num_frames == 100
    assert det.layout == "mediapipe_holistic553"
    assert det.keypoints.points.shape == (100, 553, 2)
    assert det.found("body").mean() >= 0.95


def test_clip_body_agrees_with_openpose(clip_detections):
    op = read_keypoints(OPENPOSE)
    assert op.rig_name == "openpose_body25b"
    body = clip_detections.part("body")
    assert np.array_equal(op.frame_ids, body.frame_ids)
    oi = [op.joint_names.index(n) for n in SHARED_JOINTS]
    mi = [body.joint_names.index(n) for n in SHARED_JOINTS.values()]
    both = (op.confidence[:, oi] > 0.3) & body.mask[:, mi]
    height = np.nanmax(op.points[..., 1], 1) - np.nanmin(op.points[..., 1], 1)  # (T,) the person's image height
    dist = np.linalg.norm(op.points[:, oi] - body.points[:, mi], axis=-1) / height[:, None]
    assert both.sum() > 0.8 * both.size
    assert np.median(dist[both]) < 0.03  # measured 0.022
    # MediaPipe follows the participant, never the bystander at the back: every frame agrees (worst frame 0.030).
    per_frame = [np.median(d[b]) for d, b in zip(dist, both, strict=True) if b.any()]
    assert len(per_frame) >= 95 and max(per_frame) < 0.1


def test_clip_frames_times_and_sides(clip_detections):
    det = clip_detections
    kp = det.keypoints
    assert kp.fps == 60.0 and kp.image_size == (1080, 1920)
    assert np.array_equal(kp.frame_ids, np.arange(100))
    assert np.allclose(det.timestamps, np.arange(100) / 60.0, atol=1e-3)
    assert kp.source == str(VIDEO)
    # Hands found where they are found hang at the body's wrist of the same side.
    for side in ("left", "right"):
        hand = det.part(f"{side}_hand")
        seen = hand.mask[:, 0]
        assert seen.sum() >= 20
        wrist = det.part("body").points[seen, det.part("body").joint_names.index(f"{side}_wrist")]
        assert np.median(np.linalg.norm(hand.points[seen, 0] - wrist, axis=-1)) < 30.0  # px, of a 750 px person
    # Where a part is not found it is masked: NaN with confidence 0.
    face = det.part("face")
    assert face.rig_name == "mediapipe_facemesh478"
    lost = ~face.mask.any(-1)
    assert np.all(face.confidence[lost] == 0) and np.isnan(face.points[lost]).all()
    body = det.part("body")
    assert np.all((body.confidence >= 0) & (body.confidence <= 1))


def test_save_and_load_round_trip(clip_detections, tmp_path):
    path = clip_detections.save(tmp_path / "det")
    assert path.name == "det.npz"
    again = load_detections(path)
    assert np.array_equal(again.keypoints.points, clip_detections.keypoints.points, equal_nan=True)
    assert np.array_equal(again.timestamps, clip_detections.timestamps)
    assert again.keypoints.source == str(VIDEO) and again.layout == "mediapipe_holistic553"
    kp = read_keypoints(path)  # an ordinary keypoint file too
    assert kp.rig_name == "mediapipe_holistic553" and kp.fps == 60.0


# ---------------------------------------------------------------------- images
def test_astronaut_gives_33_body_landmarks(astronaut):
    det = detect(astronaut, DetectSettings(hands=False, face=False))
    kp = det.keypoints
    assert kp.rig_name == "mediapipe_pose33"
    assert kp.points.shape == (1, 33, 2) and kp.mask.all()
    w, h = kp.image_size
    assert (w, h) == (512, 512)
    seen = kp.confidence[0] > 0.5  # the legs, out of the picture, are guessed with low visibility
    assert seen[:13].all() and not seen[25:].any()  # the face and shoulders are seen, the legs are not
    assert np.all((kp.points[0, seen] >= 0) & (kp.points[0, seen] < w))
    names = kp.joint_names
    nose, ls, rs = (kp.points[0, names.index(n)] for n in ("nose", "left_shoulder", "right_shoulder"))
    assert nose[1] < ls[1] and nose[1] < rs[1]  # the head above the shoulders
    assert ls[0] > rs[0]  # facing the camera: her left shoulder is on the image's right


def test_astronaut_whole_body(astronaut):
    det = detect(astronaut)
    assert det.found("body").all() and det.found("face").all()
    assert det.timestamps.shape == (1,) and det.keypoints.fps is None
    face = det.part("face")
    assert face.mask.all() and face.num_joints == 478


def test_image_sequence_progress_and_cancel(astronaut, tmp_path):
    folder = tmp_path / "seq"
    folder.mkdir()
    img = cv2.imread(str(astronaut))
    for i in (1, 2, 10):  # numbered, not sorted as text
        cv2.imwrite(str(folder / f"frame_{i}.png"), img)
    assert is_footage(folder) and is_footage(astronaut) and not is_footage(tmp_path / "x.json")
    calls = []
    det = detect(folder, DetectSettings(face=False, fps=25.0), progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 3) and calls[-1] == (3, 3)
    assert np.array_equal(det.keypoints.frame_ids, [0, 1, 2])
    assert np.allclose(det.timestamps, [0, 0.04, 0.08]) and det.keypoints.fps == 25.0
    assert det.found("body").all() and not det.found("face").any()

    def stop(done, total):
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        detect(folder, DetectSettings(face=False), progress=stop)
    steps = detect_steps(folder, DetectSettings(face=False))
    assert next(steps) == (0, 3)
    steps.close()  # cancelling releases the model and the files


def test_mismatched_image_sequence(astronaut, tmp_path):
    img = cv2.imread(str(astronaut))
    cv2.imwrite(str(tmp_path / "a_0.png"), img)
    cv2.imwrite(str(tmp_path / "a_1.png"), img[:256])
    with pytest.raises(InputError, match=r"a_1\.png: image is 512x256"):
        detect(tmp_path, DetectSettings(hands=False, face=False))


# ---------------------------------------------------------------------- errors
def test_empty_video(tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.mp4: the video file is empty"):
        detect(path)


def test_unreadable_video(tmp_path):
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(InputError, match=r"corrupt\.mp4: (cannot open the video|the video has no readable frame)"):
        detect(path)


def test_video_without_frames(tmp_path):
    path = tmp_path / "noframes.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (64, 48))
    writer.release()
    with pytest.raises(InputError, match=r"noframes\.avi: "):
        detect(path)


def test_missing_and_bad_inputs(tmp_path, astronaut):
    with pytest.raises(InputError, match=r"nothing\.mp4: footage not found"):
        detect(tmp_path / "nothing.mp4")
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    with pytest.raises(InputError, match=r"empty_dir: no image files"):
        detect(empty)
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(InputError, match=r"bad\.png: cannot read the image"):
        detect(bad)
    with pytest.raises(InputError, match="model_complexity"):
        detect(astronaut, DetectSettings(model_complexity=3))
    with pytest.raises(InputError, match="start frame 5 is past the last frame"):
        detect(astronaut, DetectSettings(frame_start=5))
    det = detect(astronaut, DetectSettings(hands=False, face=False))
    with pytest.raises(InputError, match="only the body was detected"):
        det.part("face")


# ---------------------------------------------------------------------- footage through the lift pipeline
def test_pipeline_lifts_footage(weights_file, tmp_path):
    from lfm_engine.pipeline import LiftSettings, run

    if not VIDEO.is_file():
        pytest.skip(f"{VIDEO} is not present (../shared/data)")
    calls = []
    settings = LiftSettings(weights=str(weights_file), backend="numpy", focal_length=1681.0,
                            detection=DetectSettings(frame_end=9))  # fmt: skip
    result = run(VIDEO, settings, progress=lambda d, t: calls.append((d, t)))
    assert calls[:2] == [(0, 10), (1, 10)]  # detection, frame by frame, then the lift
    assert calls[-1][0] == calls[-1][1] and len(calls) > 11
    assert result.name == "cam01" and result.num_frames == 10 and result.fps == 60.0
    assert result.rig.name == "mediapipe_body_hands75"  # the face is never found in this clip: dropped
    assert result.camera.image_size == (1080, 1920)
    assert result.visible[:, :33].mean() > 0.5


def test_pipeline_lifts_detections(clip_detections, weights_file):
    from lfm_engine.pipeline import LiftSettings, run

    settings = LiftSettings(weights=str(weights_file), backend="numpy", frame_end=19, whole_body="whole")
    result = run(clip_detections.keypoints, settings)
    assert result.num_frames == 20 and result.rig.name == "mediapipe_body_hands75"
    kept = run(clip_detections.keypoints, LiftSettings(weights=str(weights_file), backend="numpy", frame_end=1,
                                                       rig="mediapipe_holistic553"))  # fmt: skip
    assert kept.rig.name == "mediapipe_holistic553"  # a rig given: nothing dropped
