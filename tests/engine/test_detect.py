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


# ---------------------------------------------------------------------- frame ranges
class _Capture:
    """A cv2.VideoCapture counting its grab and read calls; ``seek=False`` makes it refuse to seek."""

    def __init__(self, path, counts, seek):
        self._cap, self._counts, self._seek = cv2.VideoCapture(path), counts, seek

    def __getattr__(self, name):
        return getattr(self._cap, name)

    def grab(self):
        self._counts["grab"] += 1
        return self._cap.grab()

    def read(self):
        self._counts["read"] += 1
        return self._cap.read()

    def set(self, prop, value):
        return self._seek and self._cap.set(prop, value)


def _counting_cv2(monkeypatch, seek=True):
    from lfm_engine import detect as module

    counts = {"grab": 0, "read": 0}

    class Cv2:
        def __getattr__(self, name):
            return getattr(cv2, name)

        def VideoCapture(self, path):
            return _Capture(path, counts, seek)

    monkeypatch.setattr(module, "_cv2", Cv2)
    return counts


@pytest.fixture(scope="module")
def numbered_video(tmp_path_factory):
    """40 frames of MPEG-4 part 2 (key frames 12 apart), each unlike the others: a grey level and a square that
    move with the frame number."""
    path = tmp_path_factory.mktemp("numbered") / "numbered.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (96, 64))
    for k in range(40):
        img = np.full((64, 96, 3), 10 + 6 * k, np.uint8)
        img[10:30, k : k + 20] = 255
        writer.write(img)
    writer.release()
    return path


@pytest.mark.parametrize("seek", [True, False])
def test_video_frame_range_is_seeked_not_decoded(numbered_video, monkeypatch, seek):
    from lfm_engine.detect import _video_frames, footage_info

    info = footage_info(numbered_video)
    every = list(_video_frames(info, 0, None))
    assert [i for i, _, _ in every] == list(range(40))
    counts = _counting_cv2(monkeypatch, seek)
    some = list(_video_frames(info, 23, 26))
    assert [i for i, _, _ in some] == [23, 24, 25, 26]
    for (i, t, frame), (j, u, expected) in zip(some, every[23:27], strict=False):
        assert i == j and t == pytest.approx(u) == pytest.approx(i / 30.0)
        assert np.array_equal(frame, expected)  # the very frame a decode from the start gives
    # Seeking: only the 4 frames are read, none skipped one by one; without seeking, the 23 before are grabbed.
    assert counts == ({"grab": 0, "read": 4} if seek else {"grab": 23, "read": 4})


def test_clip_frame_range_detected_alone(monkeypatch):
    if not VIDEO.is_file():
        pytest.skip(f"{VIDEO} is not present (../shared/data)")
    counts = _counting_cv2(monkeypatch)
    calls = []
    det = detect(VIDEO, DetectSettings(hands=False, face=False, frame_start=40, frame_end=49),
                 progress=lambda d, t: calls.append((d, t)))  # fmt: skip
    assert counts["read"] == 10 + 1 and counts["grab"] == 0  # the first frame read by footage_info, then 40..49
    assert calls == [(k, 10) for k in range(11)]
    assert np.array_equal(det.keypoints.frame_ids, np.arange(40, 50))
    assert np.allclose(det.timestamps, np.arange(40, 50) / 60.0, atol=1e-3)
    assert det.found("body").all()


def test_pipeline_detects_only_the_frames_lifted(weights_file):
    from lfm_engine.pipeline import LiftSettings, run

    if not VIDEO.is_file():
        pytest.skip(f"{VIDEO} is not present (../shared/data)")
    calls = []
    settings = LiftSettings(weights=str(weights_file), backend="numpy", focal_length=1681.0, frame_start=60,
                            frame_end=64, detection=DetectSettings(face=False))  # fmt: skip
    result = run(VIDEO, settings, progress=lambda d, t: calls.append((d, t)))
    assert calls[:6] == [(k, 5) for k in range(6)]  # 5 frames detected, not 100
    assert result.num_frames == 5
    assert result.frame_indices.tolist() == result.frame_ids.tolist() == [60, 61, 62, 63, 64]  # the footage's
    assert result.frame_offsets.tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(InputError, match=r"cam01\.mp4: no frame to detect \(start frame 200"):
        run(VIDEO, LiftSettings(weights=str(weights_file), backend="numpy", frame_start=200))


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
