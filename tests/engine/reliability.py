"""The contract the reliability suites (tests/engine/test_reliability_*.py) hold every input to.

Each input gets either a valid result or the project's own error (:class:`lfm_engine.errors.LFMError`) whose
message names what it is about; never another exception, a hang or a NaN in an output. :func:`outcome` runs one
case under a hard time limit and records what happened as a hypothesis ``event`` (``pytest
--hypothesis-show-statistics`` prints how many cases each suite tried and how they ended).
"""

from __future__ import annotations

import contextlib
import signal
import threading

import numpy as np
from hypothesis import HealthCheck, event, settings

from lfm_engine.errors import LFMError

#: One profile for every reliability suite: reproducible (derandomized, no example database), bounded in time.
RELIABILITY = settings(
    derandomize=True,
    database=None,
    deadline=None,  # the hard limit below stops a hang; hypothesis' deadline would flake on a loaded machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    print_blob=True,
)
#: Seconds one case may take before it counts as a hang.
CASE_LIMIT_S = 20


class Hang(AssertionError):
    """A case ran past :data:`CASE_LIMIT_S`."""


@contextlib.contextmanager
def hard_limit(seconds: float = CASE_LIMIT_S):
    """Raise :class:`Hang` in the main thread when the block runs longer than ``seconds`` (SIGALRM; a no-op where
    there is no SIGALRM or off the main thread)."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise Hang(f"the case ran longer than {seconds} s (a hang)")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def outcome(fn, *args, must_name: tuple[str, ...] = (), **kwargs):
    """``fn(*args, **kwargs)`` under :func:`hard_limit`: the result, or None when it raised an :class:`LFMError`.

    Any other exception propagates (the suite fails with it). An LFMError's message must be non-empty and contain
    one of ``must_name`` (e.g. the file name) when given. The outcome is recorded as a hypothesis event.
    """
    try:
        with hard_limit():
            result = fn(*args, **kwargs)
    except LFMError as exc:
        message = str(exc)
        assert message.strip(), f"{type(exc).__name__} without a message"
        if must_name:
            assert any(n in message for n in must_name), f"the message {message!r} names none of {must_name}"
        event(f"error: {type(exc).__name__}")
        return None
    event("valid result")
    return result


def assert_keypoints_valid(kp) -> None:
    """``kp`` (a :class:`lfm_engine.io.Keypoints2D`) keeps every promise of the readers."""
    pts, conf = kp.points, kp.confidence
    assert pts.dtype == np.float32 and pts.ndim == 3 and pts.shape[-1] == 2
    T, J, _ = pts.shape
    assert T >= 1 and J >= 1
    assert not np.isinf(pts).any(), "infinite coordinates"
    assert np.array_equal(np.isnan(pts[..., 0]), np.isnan(pts[..., 1])), "half-missing points"
    assert conf.shape == (T, J) and conf.dtype == np.float32
    assert np.isfinite(conf).all() and (conf >= 0).all() and (conf <= 1).all()
    assert (conf[np.isnan(pts[..., 0])] == 0).all(), "missing points with a confidence"
    assert len(kp.joint_names) == J and len(set(kp.joint_names)) == J
    assert all(isinstance(n, str) and n.strip() for n in kp.joint_names)
    e = kp.edges
    assert e.dtype == np.int64 and e.ndim == 2 and e.shape[1] == 2
    assert ((e >= 0) & (e < J)).all() and (e[:, 0] != e[:, 1]).all()
    if kp.image_size is not None:
        assert all(isinstance(v, int) and v > 0 for v in kp.image_size)
    if kp.fps is not None:
        assert np.isfinite(kp.fps) and kp.fps > 0
    if kp.frame_ids is not None:
        assert kp.frame_ids.shape == (T,)


def assert_finite(name: str, arr) -> None:
    """No NaN or inf anywhere in ``arr``."""
    a = np.asarray(arr)
    bad = ~np.isfinite(a)
    assert not bad.any(), f"{name} has {int(bad.sum())} non-finite values (first at {np.argwhere(bad)[0].tolist()})"
