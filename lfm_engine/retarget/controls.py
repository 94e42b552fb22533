"""Control rigs: the animator's controls of a generated rig (Rigify's FK controls) from a retarget on its skeleton.

A generated Rigify rig has ~700 bones. Its deform (``DEF-``) bones follow constraints, and the ``ORG-`` bones are a
copy of the metarig (same names after the prefix, same rest pose) that copy the transforms of the active FK or IK
controls. The motion is therefore solved on the ``ORG-`` bones as on any armature (:func:`.transfer.retarget` on
the sub-skeleton of the bones with :attr:`ControlRig.skeleton_prefix`), and then carried onto the controls the
animator keys: each :class:`Control` takes the rotation (and, for the root control, the position) that the bone it
follows gets, relative to its own rest pose (:func:`control_poses`). The rig's switches (``IK_FK`` = 1: FK) are
set so that the keyed FK controls are the ones that drive it.

A preset carries this as data (``"controls"`` in the JSON, see ``presets/rigify_generated.json``)::

    "controls": {"skeleton_prefix": "ORG-", "generate": true,
                 "bones": [{"bone": "torso", "follows": "ORG-spine", "location": true},
                           {"bone": "upper_arm_fk.L", "follows": "ORG-upper_arm.L"}, ...],
                 "properties": [{"bone": "upper_arm_parent.L", "property": "IK_FK", "value": 1.0}, ...]}

Everything here is pure numpy; turning the control poses into keys through the rig's own constraints is Blender's
part (``blender_addon/retarget_rigify.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import LFMError


class ControlRigError(LFMError, ValueError):
    """A preset's control section is malformed, or names bones or properties the rig lacks."""


@dataclass(frozen=True)
class Control:
    """Control bone ``bone`` carries the motion of skeleton bone ``follows`` (``location``: also its position;
    ``aim``: a skeleton bone whose head the control's tail then points at, for a control that spans several skeleton
    bones, such as Rigify's neck over ``spine.004`` and ``spine.005``, which cannot bend between them as the
    skeleton does)."""

    bone: str
    follows: str
    location: bool = False
    aim: str = ""


@dataclass(frozen=True)
class Switch:
    """Custom property ``property`` of pose bone ``bone`` is set to ``value`` (e.g. Rigify's ``IK_FK`` = 1, FK)."""

    bone: str
    property: str
    value: float


@dataclass(frozen=True)
class ControlRig:
    """How a generated rig is driven: the skeleton to solve on, the controls to key, the switches to set."""

    skeleton_prefix: str
    controls: tuple[Control, ...]
    switches: tuple[Switch, ...] = ()
    #: The batch script's ``--retarget-to`` makes this rig by generating the preset's metarig (Rigify).
    generate: bool = False
    #: Controls keyed at their rest pose (Rigify's ``hips`` and ``chest``, whose motion the FK spine carries).
    rest: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"skeleton_prefix": self.skeleton_prefix, "generate": self.generate, "rest": list(self.rest),
                "bones": [{"bone": c.bone, "follows": c.follows, "location": c.location, "aim": c.aim}
                          for c in self.controls],
                "properties": [{"bone": s.bone, "property": s.property, "value": s.value}
                               for s in self.switches]}  # fmt: skip

    @classmethod
    def from_dict(cls, data, source: str = "preset") -> ControlRig:
        if not isinstance(data, dict) or not isinstance(data.get("bones"), list) or not data["bones"]:
            raise ControlRigError(f"{source}: 'controls' needs a non-empty 'bones' list")
        controls, switches = [], []
        for k, item in enumerate(data["bones"]):
            if not isinstance(item, dict) or not item.get("bone") or not item.get("follows"):
                raise ControlRigError(f"{source}: control {k} needs a 'bone' and a 'follows', got {item!r}")
            controls.append(Control(str(item["bone"]), str(item["follows"]), bool(item.get("location", False)),
                                    str(item.get("aim", ""))))  # fmt: skip
        for k, item in enumerate(data.get("properties", [])):
            try:
                switches.append(Switch(str(item["bone"]), str(item["property"]), float(item["value"])))
            except (KeyError, TypeError, ValueError):
                raise ControlRigError(f"{source}: property {k} needs a 'bone', a 'property' and a numeric "
                                      f"'value', got {item!r}") from None  # fmt: skip
        prefix = str(data.get("skeleton_prefix", ""))
        outside = [b for c in controls for b in (c.follows, c.aim) if b and not b.startswith(prefix)]
        if outside:
            raise ControlRigError(f"{source}: controls follow {outside[:3]}, which are not skeleton bones "
                                  f"(prefix {prefix!r})")  # fmt: skip
        rest = data.get("rest", [])
        if not isinstance(rest, list) or not all(isinstance(b, str) and b for b in rest):
            raise ControlRigError(f"{source}: 'rest' must be a list of bone names, got {rest!r}")
        return cls(prefix, tuple(controls), tuple(switches), bool(data.get("generate", False)), tuple(rest))


def control_poses(
    pose_matrices: np.ndarray,
    skeleton_rest: np.ndarray,
    control_rest: np.ndarray,
    control_lengths: np.ndarray | None = None,
    aims: np.ndarray | None = None,
) -> np.ndarray:
    """Where each control should be: the motion of the bone it follows, applied to the control's own rest pose.

    Args:
        pose_matrices: ``(T, C, 4, 4)`` armature-space pose matrices of the followed skeleton bones (from
            :attr:`.transfer.RetargetResult.pose_matrices`).
        skeleton_rest: ``(C, 4, 4)`` their rest matrices (``Bone.matrix_local``).
        control_rest: ``(C, 4, 4)`` the controls' rest matrices.
        control_lengths: ``(C,)`` the controls' lengths (needed with ``aims``).
        aims: ``(T, C, 3)`` armature-space points the controls' tails should point at (NaN rows: none).

    Returns:
        ``(T, C, 4, 4)`` armature-space pose matrices of the controls: ``pose_o @ inv(rest_o) @ rest_c`` (the control
        turns and moves with the bone it follows, as if rigidly attached to it), then, where an aim is given, turned
        about its head by the smallest rotation that points it at the aim.
    """
    rel = np.linalg.inv(np.asarray(skeleton_rest, dtype=np.float64)) @ np.asarray(control_rest, dtype=np.float64)
    out = np.asarray(pose_matrices, dtype=np.float64) @ rel[None]
    if aims is not None:
        from .transfer import min_rotation

        aims = np.asarray(aims, dtype=np.float64)
        has = np.isfinite(aims).all(-1)  # (T, C)
        y = out[..., :3, 1] * np.asarray(control_lengths, dtype=np.float64)[None, :, None]
        turn = min_rotation(y, np.where(has[..., None], aims - out[..., :3, 3], y))
        out[..., :3, :3] = turn @ out[..., :3, :3]
    return out
