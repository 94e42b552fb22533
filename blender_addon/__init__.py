"""Lift to 3D: animated 3D skeletons in Blender from 2D keypoints of any rig (3D-LFM).

The add-on is a thin Blender layer over the engine ``lfm_engine`` (see :mod:`.engine`): :mod:`.properties`
(settings), :mod:`.operators` (``LFM_OT_lift``), :mod:`.panels` (the sidebar panel), :mod:`.detection` (MediaPipe
detection in footage: ``LFM_OT_detect`` and its panel) and :mod:`.blender_io` (writing the engine's arrays into
Blender); :mod:`.retarget` and :mod:`.retarget_ui` put lifted motion on another armature and export it.
:mod:`.batch` runs the same pipeline from the command line.
"""

from __future__ import annotations

import bpy

from . import contacts_ui, detection, operators, panels, properties, retarget_ui

# Registration order is the panels' order in the tab too (with their bl_order): Detect, Lift (and its Foot
# Contacts sub-panel), Retarget.
CLASSES = (
    *properties.CLASSES,
    *operators.CLASSES,
    *detection.CLASSES,
    *panels.CLASSES,
    *contacts_ui.CLASSES,
    *retarget_ui.CLASSES,
)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.register_properties()
    detection.register_properties()
    retarget_ui.register_properties()


def unregister() -> None:
    retarget_ui.unregister_properties()
    detection.unregister_properties()
    properties.unregister_properties()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
