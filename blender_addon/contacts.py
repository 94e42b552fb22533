"""Foot contacts in Blender: read and edited on a lift (written by :func:`.blender_io.write_clip`), solved again.

The clip solver decides on which frames each foot is planted (:mod:`lfm_engine.solver.contacts`). After a lift
with the solver, the armature (or root empty) carries one keyed custom property per foot, ``"Contact <ankle>"``
(e.g. ``"Contact LAnkle"``): 1 on the frames the foot was planted, 0 elsewhere, with constant interpolation. They
show in the Dope Sheet and the Graph Editor like any other channel, and in the panel's "Foot Contacts" sub-panel
at the current frame.

To change them, key the property (the panel's Plant / Release buttons set and key it on the current frame, or on
a range of frames; any key edit in the Dope Sheet works too), then press "Re-solve Clip": ``LFM_OT_resolve_contacts``
lifts the clip again with the panel's settings and those contacts as per-frame overrides
(``LiftSettings.contact_overrides``), replacing the earlier lift. Engine errors (say, the panel now points at other
keypoints) are reported and leave the scene as it was.
"""

from __future__ import annotations

import numpy as np
from bpy_extras import anim_utils

from . import blender_io
from .engine import LFMError, solver

PREFIX, FEET_KEY, FRAMES_KEY, SOURCE_KEY = (blender_io.CONTACT_PREFIX, blender_io.CONTACT_FEET,
                                           blender_io.CONTACT_FRAMES, blender_io.CONTACT_SOURCE)  # fmt: skip


def _fcurve_of(obj, data_path: str):
    ad = obj.animation_data
    if ad is None or ad.action is None:
        return None
    action = ad.action
    if hasattr(action, "fcurves") and not blender_io._layered(action):  # Blender 4.2, 4.3
        return action.fcurves.find(data_path)
    bag = anim_utils.action_get_channelbag_for_slot(action, ad.action_slot)
    return None if bag is None else bag.fcurves.find(data_path)


def read_contacts(obj) -> np.ndarray:
    """``(T, F)`` int overrides (:data:`lfm_engine.solver.ALWAYS` / :data:`~lfm_engine.solver.NEVER`) from
    ``obj``'s keyed contact properties at its lifted frames (a property without keys: its value on every frame).

    Raises:
        LFMError: ``obj`` carries no contacts (not a lift made with the clip solver).
    """
    if FEET_KEY not in obj or FRAMES_KEY not in obj:
        raise LFMError(f"'{obj.name}' has no foot contacts: select an armature lifted with the Clip Solver on")
    frames = np.asarray(obj[FRAMES_KEY], dtype=np.float64)  # (T,)
    out = np.empty((len(frames), len(obj[FEET_KEY])), dtype=np.int8)
    for k, key in enumerate(obj[FEET_KEY]):
        fcurve = _fcurve_of(obj, f'["{key}"]')
        values = (np.array([fcurve.evaluate(f) for f in frames]) if fcurve is not None
                  else np.full(len(frames), float(obj.get(key, 0))))  # fmt: skip
        out[:, k] = np.where(values >= 0.5, solver.ALWAYS, solver.NEVER)
    return out


def set_contact(obj, key: str, planted: bool, first: int, last: int) -> int:
    """Set and key foot property ``key`` of ``obj`` to ``planted`` on its lifted frames in ``[first, last]``; the
    number of frames changed.

    Raises:
        LFMError: ``key`` is not one of ``obj``'s feet, or no lifted frame lies in the range.
    """
    if key not in obj.get(FEET_KEY, ()):
        raise LFMError(f"'{obj.name}' has no foot contact {key!r}")
    frames = [f for f in obj[FRAMES_KEY] if first <= f <= last]
    if not frames:
        raise LFMError(f"no lifted frame of '{obj.name}' lies in frames {first} to {last}")
    fcurve = _fcurve_of(obj, f'["{key}"]')
    if fcurve is None:
        obj[key] = int(planted)
        return len(frames)
    points = fcurve.keyframe_points
    at = {round(p.co[0]): p for p in points}
    for f in frames:
        if f in at:
            at[f].co[1] = float(planted)
        else:
            p = points.insert(f, float(planted))
            p.interpolation = "CONSTANT"
    fcurve.update()
    return len(frames)


def lifted_object(context):
    """The active object when it is a lift with foot contacts, else None."""
    obj = context.active_object
    return obj if obj is not None and FEET_KEY in obj else None
