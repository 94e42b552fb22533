"""Retargeting: lifted motion onto an animator's own armature (pure numpy, no ``bpy``).

* :mod:`.names`: sides, aliases, and the body point a joint or bone name stands for;
* :mod:`.assignment`: an exact rectangular assignment solver (Jonker-Volgenant) with "no match";
* :mod:`.mapping`: the joint-to-bone mapping, proposed from names and rest geometry, and JSON presets;
* :mod:`.transfer`: rotations in each bone's rest frame, root motion scaled by leg length, two-bone IK;
* :mod:`.controls`: the controls of a generated rig (Rigify FK) from a retarget on its skeleton.

>>> target = TargetSkeleton(bone_names, parents, rest_matrices, lengths)
>>> mapping = propose_mapping(joint_names, points_world, target)        # or load_preset("rigify_human")
>>> result = retarget(points_world, joint_names, target, mapping)      # result.quaternions (T, B, 4)
"""

from .assignment import assign_with_threshold, linear_sum_assignment
from .controls import Control, ControlRig, ControlRigError, Switch, control_poses
from .mapping import (
    Mapping,
    MappingError,
    Pair,
    TargetSkeleton,
    apply_preset,
    available_presets,
    check_mapping,
    load_preset,
    propose_mapping,
)
from .transfer import RetargetResult, retarget, retarget_errors

__all__ = [
    "Control",
    "ControlRig",
    "ControlRigError",
    "Mapping",
    "MappingError",
    "Pair",
    "RetargetResult",
    "Switch",
    "TargetSkeleton",
    "apply_preset",
    "assign_with_threshold",
    "available_presets",
    "check_mapping",
    "control_poses",
    "linear_sum_assignment",
    "load_preset",
    "propose_mapping",
    "retarget",
    "retarget_errors",
]
