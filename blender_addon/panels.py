"""The Lift to 3D panel in the 3D viewport's sidebar (N panel, tab "Lift to 3D")."""

from __future__ import annotations

from bpy.types import Panel

from .properties import RIG_CUSTOM


class LFM_PT_main(Panel):
    bl_label = "Lift to 3D"
    bl_idname = "LFM_PT_main"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Lift to 3D"

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
        col.prop(settings, "focal_length")
        col.prop(settings, "image_width")
        col.prop(settings, "image_height")
        col.prop(settings, "fps")

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
        layout.prop(settings, "weights_path")
        layout.separator()
        layout.operator("lfm.lift", icon="ARMATURE_DATA")


CLASSES = (LFM_PT_main,)
