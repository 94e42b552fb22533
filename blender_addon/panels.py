"""The Lift to 3D panel in the 3D viewport's sidebar (N panel, tab "Lift to 3D"), second after Detect in Footage
(:data:`ORDER`)."""

from __future__ import annotations

import bpy
from bpy.types import Panel

from .properties import FOCAL_UNITS, RIG_CUSTOM, legacy_weights

#: The order of the tab's panels, the steps in turn: Detect in Footage, Lift to 3D, Retarget.
ORDER = {"LFM_PT_detect": 0, "LFM_PT_main": 1, "LFM_PT_retarget": 2}


class LFM_PT_main(Panel):
    bl_label = "Lift to 3D"
    bl_idname = "LFM_PT_main"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Lift to 3D"
    bl_order = ORDER["LFM_PT_main"]

    def draw(self, context):
        settings = context.scene.lift_to_3d
        layout = self.layout
        layout.use_property_split = True
        layout.use_property_decorate = False
        layout.prop(settings, "source_path")
        layout.prop(settings, "rig")
        if settings.rig == RIG_CUSTOM:
            layout.prop(settings, "rig_file")
        layout.prop(settings, "confidence_threshold")
        layout.prop(settings, "whole_body")

        col = layout.column(heading="Camera", align=True)
        col.prop(settings, "focal_unit")
        col.prop(settings, FOCAL_UNITS[settings.focal_unit][1])
        if settings.focal_unit == "MILLIMETRES":
            col.prop(settings, "sensor_width")
        col.prop(settings, "image_width")
        col.prop(settings, "image_height")
        col.prop(settings, "fps")
        col.prop(settings, "footage_path")

        col = layout.column(heading="Frames", align=True)
        col.prop(settings, "clip_start")
        col.prop(settings, "clip_end")
        col.prop(settings, "scene_start")

        layout.prop(settings, "solve_clip")
        if settings.solve_clip:
            col = layout.column(align=True)
            col.prop(settings, "contact_mode")
            col.prop(settings, "motion")
        layout.prop(settings, "smoothing")
        if settings.smoothing != "NONE":
            layout.prop(settings, "smoothing_strength")
        layout.prop(settings, "height")
        layout.prop(settings, "output", expand=True)
        layout.prop(settings, "set_scene")
        layout.prop(settings, "replace_previous")
        old = legacy_weights(settings)
        if old:  # a scene from an older version names its own weights; they are set in the preferences now
            layout.label(text=f"Scene weights (older version): {bpy.path.basename(old)}", icon="ERROR")
        layout.separator()
        layout.operator("lfm.lift", icon="ARMATURE_DATA")


CLASSES = (LFM_PT_main,)
