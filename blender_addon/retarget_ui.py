"""The Retarget panel: settings, the editable mapping list, and its operators (propose, presets, bake, export).

Operators only translate: read the settings, call one function of :mod:`.retarget` (which calls the engine), write
the result, and report :class:`lfm_engine.LFMError` as an error that leaves the scene as it was.
"""

from __future__ import annotations

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)
from bpy.types import Operator, Panel, PropertyGroup, UIList

from . import retarget
from .engine import LFMError

END_ITEMS = [("HEAD", "Head", "The joint sits at the bone's head"),
             ("TAIL", "Tail", "The joint sits at the bone's tail (bones without children)")]  # fmt: skip


def _is_armature(_self, obj) -> bool:
    return obj.type == "ARMATURE"


def _preset_items(_self, _context):
    return [
        (name, name, f"The shipped '{name}' mapping preset") for name in retarget.retarget_engine.available_presets()
    ]


class LFM_RetargetPair(PropertyGroup):
    """One row of the mapping: lifted joint -> target bone end."""

    joint: StringProperty(name="Joint", description="Joint of the lifted armature")
    bone: StringProperty(name="Bone", description="Bone of the target armature (empty: not mapped)")
    end: EnumProperty(name="End", items=END_ITEMS, default="HEAD")


class LFM_RetargetSettings(PropertyGroup):
    """Settings of the Retarget panel, stored with the scene (``scene.lift_to_3d_retarget``)."""

    source: PointerProperty(name="Lifted", type=bpy.types.Object, poll=_is_armature,
                            description="The lifted armature whose motion is transferred")  # fmt: skip
    target: PointerProperty(name="Target", type=bpy.types.Object, poll=_is_armature,
                            description="Your character's armature, which receives the motion")  # fmt: skip
    pairs: CollectionProperty(type=LFM_RetargetPair)
    active_pair: IntProperty(name="Active Pair", default=0)
    ik_feet: BoolProperty(name="IK Feet", default=True, description="Feet reach the lifted ankles (two-bone IK)")
    ik_hands: BoolProperty(name="IK Hands", default=True, description="Hands reach the lifted wrists (two-bone IK)")
    ik_limit: FloatProperty(name="IK Limit", default=0.0, min=0.0, max=90.0, subtype="NONE",
                            description="Degrees an IK'd arm or leg segment may turn away from its lifted direction "
                            "(0: no limit; about 10 keeps the pose and brings hands and feet close)")  # fmt: skip
    preset: EnumProperty(name="Preset", items=_preset_items, description="A shipped mapping preset")
    export_path: StringProperty(name="Export", subtype="FILE_PATH", default="//retarget.bvh",
                                description="Export the target and its motion: .bvh, .fbx, .glb, .gltf")  # fmt: skip
    deform_only: BoolProperty(name="Deform Bones Only", default=False,
                              description="Export only the target's deform bones (glTF and FBX; BVH writes every "
                              "bone), e.g. a generated rig's DEF- bones without its controls")  # fmt: skip


def settings(context) -> LFM_RetargetSettings:
    return context.scene.lift_to_3d_retarget


def _fill(s: LFM_RetargetSettings, mapping, joint_names) -> None:
    """The list: every lifted joint, with its bone where mapped."""
    by_joint = {p.joint: p for p in mapping.pairs}
    s.pairs.clear()
    for joint in joint_names:
        item = s.pairs.add()
        item.joint = joint
        pair = by_joint.get(joint)
        if pair is not None:
            item.bone, item.end = pair.bone, pair.end.upper()
    s.active_pair = 0


def _ik(s: LFM_RetargetSettings) -> tuple[str, ...]:
    return tuple(k for k, on in (("wrist", s.ik_hands), ("ankle", s.ik_feet)) if on)


class _NeedsArmatures:
    @classmethod
    def poll(cls, context):
        s = getattr(context.scene, "lift_to_3d_retarget", None)
        if s is None or s.source is None or s.target is None:
            cls.poll_message_set("Choose the lifted armature and the target armature first")
            return False
        if s.source == s.target:
            cls.poll_message_set("The lifted and the target armature must differ")
            return False
        if context.mode != "OBJECT":
            cls.poll_message_set("Switch to Object Mode first")
            return False
        return True


class LFM_OT_retarget_propose(_NeedsArmatures, Operator):
    """Propose the joint-to-bone mapping from the bone names and the rest poses"""

    bl_idname = "lfm.retarget_propose"
    bl_label = "Propose Mapping"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender's class attribute

    def execute(self, context):
        s = settings(context)
        try:
            names, points = retarget.read_source(s.source, retarget.action_frames(s.source))
            mapping = retarget.propose(names, points, s.target, retarget.source_parents(s.source))
        except LFMError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        _fill(s, mapping, names)
        self.report({"INFO"}, f"Mapped {len(mapping)} of {len(names)} joints onto {s.target.name}")
        return {"FINISHED"}


class LFM_OT_retarget_load_preset(_NeedsArmatures, Operator):
    """Fill the mapping from a preset: the shipped one chosen in the panel, or a JSON file"""

    bl_idname = "lfm.retarget_load_preset"
    bl_label = "Load Preset"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender's class attribute

    filepath: StringProperty(subtype="FILE_PATH", description="Preset file; empty: the shipped preset chosen")
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})
    from_file: BoolProperty(default=False, options={"HIDDEN", "SKIP_SAVE"},
                            description="Choose the preset file in a file browser")  # fmt: skip

    def invoke(self, context, event):
        if self.from_file:
            context.window_manager.fileselect_add(self)
            return {"RUNNING_MODAL"}
        return self.execute(context)

    def execute(self, context):
        s = settings(context)
        try:
            preset = retarget.retarget_engine.load_preset(
                bpy.path.abspath(self.filepath) if self.filepath else s.preset
            )
            target = retarget.read_target(s.target)
            names = retarget.source_joint_names(s.source)
            mapping = retarget.retarget_engine.apply_preset(preset, names, target)
        except LFMError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        _fill(s, mapping, names)
        self.report({"INFO"}, f"Preset {preset.name or self.filepath}: mapped {len(mapping)} of {len(names)} joints")
        return {"FINISHED"}


class LFM_OT_retarget_save_preset(Operator):
    """Save the mapping in the list as a JSON preset"""

    bl_idname = "lfm.retarget_save_preset"
    bl_label = "Save Preset"

    filepath: StringProperty(subtype="FILE_PATH")
    filter_glob: StringProperty(default="*.json", options={"HIDDEN"})

    @classmethod
    def poll(cls, context):
        s = getattr(context.scene, "lift_to_3d_retarget", None)
        return s is not None and any(p.bone for p in s.pairs)

    def invoke(self, context, event):
        if not self.filepath:
            self.filepath = "mapping.json"
        context.window_manager.fileselect_add(self)
        return {"RUNNING_MODAL"}

    def execute(self, context):
        s = settings(context)
        path = bpy.path.ensure_ext(bpy.path.abspath(self.filepath), ".json")
        mapping = retarget.mapping_from_items(s.pairs)
        try:
            named = retarget.Mapping(mapping.pairs, name=bpy.path.display_name_from_filepath(path))
            named.save(path)
        except OSError as exc:
            self.report({"ERROR"}, f"{path}: cannot write the preset: {exc}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Saved {len(mapping)} pairs to {path}")
        return {"FINISHED"}


class LFM_OT_retarget_bake(_NeedsArmatures, Operator):
    """Transfer the lifted motion onto the target armature and bake it into a new action"""

    bl_idname = "lfm.retarget_bake"
    bl_label = "Retarget"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 - Blender's class attribute

    def execute(self, context):
        s = settings(context)
        try:
            mapping = retarget.mapping_from_items(s.pairs) if any(p.bone for p in s.pairs) else None
            mapping, result, action = retarget.retarget_objects(context, s.source, s.target, mapping, ik=_ik(s),
                                                                ik_max_angle=s.ik_limit or None)  # fmt: skip
        except LFMError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        if not len(s.pairs):
            _fill(s, mapping, retarget.source_joint_names(s.source))
        self.report({"INFO"}, f"Baked {result.num_frames} frames onto {s.target.name} ({action.name}, "
                              f"{len(mapping)} joints mapped, scale {result.scale:.3f})")  # fmt: skip
        return {"FINISHED"}


class LFM_OT_retarget_export(Operator):
    """Export the target armature and its retargeted motion alone (BVH, FBX or glTF, by the file's extension)"""

    bl_idname = "lfm.retarget_export"
    bl_label = "Export"

    @classmethod
    def poll(cls, context):
        s = getattr(context.scene, "lift_to_3d_retarget", None)
        if s is None or s.target is None or not s.export_path:
            cls.poll_message_set("Choose the target armature and the export file first")
            return False
        return context.mode == "OBJECT"

    def execute(self, context):
        s = settings(context)
        try:
            path = bpy.path.abspath(s.export_path)
            out = retarget.export_motion(context, s.target, path, deform_only=s.deform_only)
        except LFMError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Exported {s.target.name} to {out}")
        return {"FINISHED"}


class LFM_UL_retarget_pairs(UIList):
    """The mapping: one row per lifted joint, its target bone (searchable) and which end of it."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index=0):
        target = data.target
        row = layout.row(align=True)
        row.label(text=item.joint, icon="BONE_DATA")
        if target is not None:
            row.prop_search(item, "bone", target.data, "bones", text="")
        else:
            row.prop(item, "bone", text="")
        sub = row.row(align=True)
        sub.scale_x = 0.6
        sub.prop(item, "end", text="")


class LFM_PT_retarget(Panel):
    bl_label = "Retarget"
    bl_idname = "LFM_PT_retarget"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Lift to 3D"
    bl_order = 2  # after Detect in Footage (0) and Lift to 3D (1): panels.ORDER
    bl_options = {"DEFAULT_CLOSED"}  # noqa: RUF012 - Blender's class attribute

    def draw(self, context):
        s = settings(context)
        layout = self.layout
        col = layout.column()
        col.use_property_split = True
        col.use_property_decorate = False
        col.prop(s, "source")
        col.prop(s, "target")
        row = layout.row(align=True)
        row.operator("lfm.retarget_propose", icon="AUTOMERGE_ON")
        row = layout.row(align=True)
        row.prop(s, "preset", text="")
        row.operator("lfm.retarget_load_preset", text="", icon="IMPORT").filepath = ""
        row.operator("lfm.retarget_load_preset", text="", icon="FILE_FOLDER").from_file = True
        row.operator("lfm.retarget_save_preset", text="", icon="EXPORT")
        layout.template_list("LFM_UL_retarget_pairs", "", s, "pairs", s, "active_pair", rows=6)
        row = layout.row(align=True)
        row.prop(s, "ik_feet", toggle=True)
        row.prop(s, "ik_hands", toggle=True)
        row.prop(s, "ik_limit")
        layout.operator("lfm.retarget_bake", icon="ACTION")
        row = layout.row(align=True)
        row.prop(s, "export_path", text="")
        row.operator("lfm.retarget_export", text="", icon="EXPORT")
        layout.prop(s, "deform_only")


def register_properties() -> None:
    bpy.types.Scene.lift_to_3d_retarget = PointerProperty(type=LFM_RetargetSettings)


def unregister_properties() -> None:
    del bpy.types.Scene.lift_to_3d_retarget


CLASSES = (
    LFM_RetargetPair,
    LFM_RetargetSettings,
    LFM_OT_retarget_propose,
    LFM_OT_retarget_load_preset,
    LFM_OT_retarget_save_preset,
    LFM_OT_retarget_bake,
    LFM_OT_retarget_export,
    LFM_UL_retarget_pairs,
    LFM_PT_retarget,
)
