"""Retargeting in Blender: read armatures into arrays, call :mod:`lfm_engine.retarget`, bake, export.

Nothing here computes motion: :func:`read_target` and :func:`read_source` copy Blender data into arrays,
:func:`bake` writes the engine's keys into a new action on the target (bulk ``foreach_set`` writes through
:mod:`.blender_io`), :func:`export_motion` runs Blender's bundled BVH, FBX and glTF exporters.

No helper object or constraint is ever created (IK is solved by the engine), so there is nothing to clean up; a
failed bake removes the action it made and restores the target's previous action and rotation modes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import bpy
import numpy as np

from . import blender_io
from .engine import LFMError
from .engine import retarget as retarget_engine

TargetSkeleton = retarget_engine.TargetSkeleton
Mapping = retarget_engine.Mapping
Pair = retarget_engine.Pair
MappingError = retarget_engine.MappingError

#: File extensions :func:`export_motion` writes.
EXPORT_FORMATS = {".bvh": "BVH", ".fbx": "FBX", ".glb": "glTF binary", ".gltf": "glTF separate"}


# ---------------------------------------------------------------------- reading
def read_target(obj, prefix: str = "") -> TargetSkeleton:
    """The rest data of armature object ``obj`` (bones in an order with parents first).

    With ``prefix``, only the bones whose names start with it (a generated Rigify rig's ``ORG-`` bones, the copy of
    its metarig), each parented to its nearest such ancestor; a bone without one (Rigify hangs its ``ORG-spine.*``
    from control bones) is parented to the kept bone whose tail is at its head, as in the metarig.
    """
    if obj is None or obj.type != "ARMATURE":
        raise LFMError(f"{getattr(obj, 'name', obj)!r} is not an armature")
    bones = [b for b in obj.data.bones if b.name.startswith(prefix)]
    if not bones:
        raise MappingError(f"armature {obj.name!r} has no bones" + (f" named {prefix}..." if prefix else ""))
    kept = {b.name for b in bones}
    size = max(max(b.head_local.length, b.tail_local.length) for b in bones)
    parent = {}
    for bone in bones:
        p = bone.parent
        while p is not None and p.name not in kept:
            p = p.parent
        if p is None and bone.parent is not None:
            p = next((o for o in bones if o is not bone and (o.tail_local - bone.head_local).length < 1e-5 * size),
                     None)  # fmt: skip
        parent[bone.name] = p.name if p is not None else None
    children = {n: [] for n in kept}
    for bone in bones:
        if parent[bone.name] is not None:
            children[parent[bone.name]].append(bone.name)
    order = []

    def visit(name):
        order.append(name)
        for child in children[name]:
            visit(child)

    for bone in bones:
        if parent[bone.name] is None:
            visit(bone.name)
    if len(order) != len(bones):
        raise MappingError(f"armature {obj.name!r}: the {prefix} bones do not form a hierarchy")
    index = {n: k for k, n in enumerate(order)}
    data = obj.data.bones
    return TargetSkeleton(
        bone_names=tuple(order),
        parents=np.array([index[parent[n]] if parent[n] else -1 for n in order], dtype=np.int64),
        rest_matrices=np.array([np.array(data[n].matrix_local) for n in order], dtype=np.float64),
        lengths=np.array([data[n].length for n in order], dtype=np.float64),
        matrix_world=np.array(obj.matrix_world, dtype=np.float64),
        name=obj.name,
    )


def source_joint_names(obj) -> list[str]:
    """The joint each bone of lifted armature ``obj`` ends at, in pose-bone order: the bone's
    :data:`.blender_io.JOINT_KEY` property (bones are named for their segment, ``thigh.L``; the joint is e.g.
    ``left_knee``), else the bone's name (armatures lifted before the property, or made by hand)."""
    return [str(b.bone.get(blender_io.JOINT_KEY, b.name)) for b in obj.pose.bones]


def read_source(obj, frames) -> tuple[list[str], np.ndarray]:
    """World positions of a lifted armature's joints at ``frames``: the tail of each bone, the head of each root
    bone (how :func:`lfm_engine.armature.build_armature` places joints). Returns ``(joint names, (T, J, 3))``
    (:func:`source_joint_names`).

    The scene's current frame is restored afterwards.
    """
    if obj is None or obj.type != "ARMATURE":
        raise LFMError(f"{getattr(obj, 'name', obj)!r} is not an armature")
    scene = bpy.context.scene
    keep = scene.frame_current, scene.frame_subframe
    bones = list(obj.pose.bones)
    names = source_joint_names(obj)
    is_root = np.array([b.parent is None for b in bones])
    out = np.empty((len(frames), len(bones), 3))
    try:
        for t, frame in enumerate(frames):
            scene.frame_set(int(frame))
            m = np.array(obj.matrix_world)
            heads = np.array([b.head for b in bones])
            tails = np.array([b.tail for b in bones])
            local = np.where(is_root[:, None], heads, tails)
            out[t] = local @ m[:3, :3].T + m[:3, 3]
    finally:
        scene.frame_set(keep[0], subframe=keep[1])
    return names, out


def action_frames(obj) -> np.ndarray:
    """The whole frames the action of ``obj`` spans (its keys' range)."""
    ad = obj.animation_data
    if ad is None or ad.action is None:
        raise LFMError(f"armature {obj.name!r} has no animation to retarget")
    start, end = ad.action.frame_range
    return np.arange(round(start), round(end) + 1)


def mapping_from_items(items) -> Mapping:
    """A :class:`Mapping` from the panel's list (items with ``joint``, ``bone``, ``end``; empty bones skipped)."""
    return Mapping(tuple(Pair(i.joint, i.bone, i.end.lower()) for i in items if i.joint and i.bone))


# ---------------------------------------------------------------------- baking
def bake(context, target_obj, result, frames, *, name: str | None = None) -> bpy.types.Action:
    """Write ``result`` (:class:`lfm_engine.retarget.RetargetResult`) as a new action on ``target_obj``.

    Every bone gets ``rotation_quaternion`` keys (rotation mode set to quaternion), root bones also ``location``
    keys, one linear key per frame. The previous action stays in the file (unassigned, with a fake user).

    Returns the new action; on failure nothing is left changed.
    """
    pose = target_obj.pose.bones
    keys = {n: (result.quaternions[:, b], result.locations[:, b] if pose[n].parent is None else None)
            for b, n in enumerate(result.bone_names)}  # fmt: skip
    return bake_keys(target_obj, keys, frames, result.num_frames, name=name)


def bake_keys(target_obj, keys: dict, frames, num_frames: int, *, name: str | None = None) -> bpy.types.Action:
    """Write ``keys`` (bone name -> ``(quaternions (T, 4), locations (T, 3) or None)``) as a new action on
    ``target_obj``: ``rotation_quaternion`` keys (rotation mode set to quaternion) and ``location`` keys where given,
    one linear key per frame. The previous action stays in the file (unassigned, with a fake user).

    Returns the new action; on failure nothing is left changed.
    """
    frames = np.asarray(frames, dtype=np.float64)
    if len(frames) != num_frames:
        raise LFMError(f"{len(frames)} frames given for {num_frames} retargeted frames")
    pose = target_obj.pose.bones
    ad = target_obj.animation_data
    old_action = ad.action if ad is not None else None
    old_slot = getattr(ad, "action_slot", None) if ad is not None else None
    old_modes = {b.name: b.rotation_mode for b in pose}
    created = []
    try:
        action = blender_io._new_action(name or f"{target_obj.name}Action", target_obj, created)
        for bone_name, (quats, locs) in keys.items():
            pbone = pose[bone_name]
            pbone.rotation_mode = "QUATERNION"
            path = pbone.path_from_id("rotation_quaternion")
            for i in range(4):
                blender_io.write_keys(blender_io._fcurve(action, target_obj, path, i, bone_name), frames, quats[:, i])
            if locs is not None:
                path = pbone.path_from_id("location")
                for i in range(3):
                    blender_io.write_keys(blender_io._fcurve(action, target_obj, path, i, bone_name), frames,
                                          locs[:, i])  # fmt: skip
    except BaseException:
        for bone_name, mode in old_modes.items():
            pose[bone_name].rotation_mode = mode
        if target_obj.animation_data is not None:
            target_obj.animation_data.action = old_action
            if old_slot is not None and old_action is not None:
                target_obj.animation_data.action_slot = old_slot
        bpy.data.batch_remove(ids=[i for i in created if blender_io._alive(i)])
        raise
    if old_action is not None:
        old_action.use_fake_user = True
    return action


def source_parents(obj) -> list[int]:
    """Parent index of each of a lifted armature's joints, in :func:`read_source`'s order (-1 for roots)."""
    bones = list(obj.pose.bones)
    index = {b.name: i for i, b in enumerate(bones)}
    return [index[b.parent.name] if b.parent is not None else -1 for b in bones]


def propose(names, points, target_obj, parents=None) -> Mapping:
    """The proposed mapping of lifted joints ``names`` (world points ``(T, J, 3)``, parent indices ``parents``)
    onto ``target_obj``: for a generated Rigify rig the ``rigify_generated`` preset (its ORG- bones), else
    ``propose_mapping``."""
    from . import retarget_rigify

    if retarget_rigify.is_generated(target_obj):
        return retarget_rigify.default_mapping(names, target_obj)
    return retarget_engine.propose_mapping(names, points, read_target(target_obj), joint_parents=parents)


def retarget_objects(context, source_obj, target_obj, mapping: Mapping | None = None, *, ik: bool = True,
                     frames=None, ik_max_angle: float | None = None):  # fmt: skip
    """Propose (when ``mapping`` is None), transfer and bake the motion of lifted armature ``source_obj`` onto
    ``target_obj``. Returns ``(mapping, result, action)``. ``ik_max_angle``: see :func:`lfm_engine.retarget.retarget`.

    A generated Rigify rig is driven through its FK controls (:mod:`.retarget_rigify`)."""
    from . import retarget_rigify

    if retarget_rigify.is_generated(target_obj):
        return retarget_rigify.retarget_objects(context, source_obj, target_obj, mapping, ik=ik, frames=frames,
                                                ik_max_angle=ik_max_angle)  # fmt: skip
    target = read_target(target_obj)
    frames = action_frames(source_obj) if frames is None else np.asarray(frames)
    names, points = read_source(source_obj, frames)
    if mapping is None:
        mapping = retarget_engine.propose_mapping(names, points, target, joint_parents=source_parents(source_obj))
    result = retarget_engine.retarget(points, names, target, mapping, ik=ik, ik_max_angle=ik_max_angle)
    action = bake(context, target_obj, result, frames, name=f"{target_obj.name}_{source_obj.name}Action")
    return mapping, result, action


# ---------------------------------------------------------------------- export
def export_motion(context, obj, path: str | os.PathLike, frames=None, *, deform_only: bool = False) -> Path:
    """Export armature ``obj`` and its action to ``path`` (.bvh, .fbx, .glb or .gltf, by extension).

    Only ``obj`` and only its active action (the retargeted motion) are written: the glTF exporter's
    ``export_animation_mode='ACTIVE_ACTIONS'`` and ``export_anim_single_armature=False`` (its defaults, ``'ACTIONS'``
    and True, also write every other armature action of the file onto the armature, such as the lifted armature's,
    with a "not found" warning per channel of a missing bone; Blender 4.2 even with ``'ACTIVE_ACTIONS'``), the
    animation named after the action; the FBX exporter's ``bake_anim_use_all_actions=False``. ``deform_only``: only
    the deform bones (glTF ``export_def_bones``, FBX ``use_armature_deform_only``; BVH writes every bone). Nothing of
    the scene is changed for it.

    The file is written beside its destination and moved into place, so a failed export leaves no partial file.
    The selection and active object are restored.
    """
    out = Path(path).resolve()
    ext = out.suffix.lower()
    if ext not in EXPORT_FORMATS:
        raise LFMError(f"{out}: cannot export {ext or 'files without an extension'}; use one of "
                       f"{', '.join(EXPORT_FORMATS)}")  # fmt: skip
    if obj is None or obj.type != "ARMATURE":
        raise LFMError(f"{out}: nothing to export: {getattr(obj, 'name', obj)!r} is not an armature")
    scene = context.scene
    view_layer = context.view_layer
    if frames is None:
        frames = action_frames(obj) if obj.animation_data and obj.animation_data.action else [scene.frame_current]
    start, end = int(np.min(frames)), int(np.max(frames))
    selected = [o for o in view_layer.objects if o.select_get()]
    active = view_layer.objects.active
    keep_range = scene.frame_start, scene.frame_end
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out.stem}.", dir=out.parent))
    try:
        for o in selected:
            o.select_set(False)
        obj.select_set(True)
        view_layer.objects.active = obj
        scene.frame_start, scene.frame_end = start, end
        tmp = tmp_dir / out.name
        if ext == ".bvh":
            res = bpy.ops.export_anim.bvh(filepath=str(tmp), frame_start=start, frame_end=end, rotate_mode="NATIVE")
        elif ext == ".fbx":
            res = bpy.ops.export_scene.fbx(
                filepath=str(tmp), use_selection=True, object_types={"ARMATURE"}, add_leaf_bones=False,
                bake_anim=True, bake_anim_use_all_actions=False, bake_anim_use_nla_strips=False,
                bake_anim_force_startend_keying=True, use_armature_deform_only=deform_only,
            )  # fmt: skip
        else:
            action = obj.animation_data.action if obj.animation_data is not None else None
            res = bpy.ops.export_scene.gltf(
                filepath=str(tmp), use_selection=True, export_format="GLB" if ext == ".glb" else "GLTF_SEPARATE",
                export_animations=True, export_frame_range=True, export_animation_mode="ACTIVE_ACTIONS",
                export_anim_single_armature=False,
                export_nla_strips_merged_animation_name=action.name if action is not None else "Animation",
                export_def_bones=deform_only,
            )  # fmt: skip
        if "FINISHED" not in res or not tmp.is_file():
            raise LFMError(f"{out}: Blender's {EXPORT_FORMATS[ext]} exporter did not write the file")
        for extra in tmp_dir.iterdir():  # .gltf writes a .bin (and textures) beside it
            os.replace(extra, out.parent / extra.name) if extra != tmp else None
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        scene.frame_start, scene.frame_end = keep_range
        obj.select_set(False)
        for o in selected:
            if blender_io._alive(o):
                o.select_set(True)
        view_layer.objects.active = active if blender_io._alive(active) else None
    return out


# ---------------------------------------------------------------------- batch
def load_target(spec: str, name: str = ""):
    """The target armature of ``--retarget-to``, added to the current scene. Returns ``(object, preset or None)``.

    ``spec`` is a ``.blend`` file (its armature, or ``file.blend:Object`` to pick one; the objects of the file come
    along, so a character's meshes follow its armature), a shipped preset name or a preset ``.json`` whose
    ``metarig`` names a Rigify metarig to create (``rigify_human``, ``rigify_basic_human``), or to create and
    generate (``rigify_generated``: the rig Rigify generates from the human metarig, its metarig removed).
    """
    path, _, pick = spec.partition(".blend:")
    if pick or spec.lower().endswith(".blend"):
        blend = Path(path + ".blend" if pick else spec)
        if not blend.is_file():
            raise LFMError(f"{blend}: no such .blend file to retarget to")
        try:
            with bpy.data.libraries.load(str(blend), link=False) as (src, dst):
                dst.objects = list(src.objects)
        except OSError as exc:
            raise LFMError(f"{blend}: cannot read the .blend file ({exc})") from None
        objects = [o for o in dst.objects if o is not None]
        arms = [o for o in objects if o.type == "ARMATURE" and (not pick or o.name == pick)]
        if len(arms) != 1:
            bpy.data.batch_remove(ids=objects)
            found = ", ".join(o.name for o in objects if o.type == "ARMATURE") or "none"
            what = f"no armature {pick!r}" if pick else f"{len(arms)} armatures"
            raise LFMError(f"{blend}: {what} to retarget to (armatures: {found}); pick one with {blend}:<name>")
        coll = bpy.data.collections.new(name or blend.stem)
        bpy.context.scene.collection.children.link(coll)
        for o in objects:
            coll.objects.link(o)
        return arms[0], None
    preset = retarget_engine.load_preset(spec)
    if not preset.metarig:
        raise LFMError(f"preset {preset.name or spec!r} names no rig to create; give your rig's .blend to "
                       f"--retarget-to and this preset to --retarget-preset")  # fmt: skip
    import addon_utils

    addon_utils.enable("rigify", default_set=True)
    op = getattr(bpy.ops.object, f"armature_{preset.metarig}_metarig_add", None)
    if op is None:
        raise LFMError(f"preset {preset.name!r}: Rigify has no {preset.metarig!r} metarig")
    op()
    obj = bpy.context.view_layer.objects.active
    if preset.controls is not None and preset.controls.generate:  # e.g. rigify_generated: the generated rig
        from . import retarget_rigify

        try:
            obj = retarget_rigify.generate(obj)
        except BaseException:
            if blender_io._alive(obj):
                bpy.data.batch_remove(ids=[obj])
            raise
    if name:
        obj.name = name
    return obj, preset


def retarget_clip(context, source_obj, spec: str, *, preset: str | None = None, ik=("wrist", "ankle"),
                  ik_max_angle: float | None = None):  # fmt: skip
    """``--retarget-to spec`` for one lifted armature: load or make the target, map (the given preset, the target
    preset's, or a proposal), bake. Returns ``(target object, mapping, result)``; on failure the target is removed.
    """
    kinds = ("objects", "collections", "armatures", "meshes", "actions")
    before = {kind: set(getattr(bpy.data, kind)) for kind in kinds}
    try:
        target, own = load_target(spec, name=f"{source_obj.name}_target")
        mapping = None
        chosen = retarget_engine.load_preset(preset) if preset else own
        if chosen is not None:
            names = source_joint_names(source_obj)
            mapping = retarget_engine.apply_preset(chosen, names, read_target(target))
        mapping, result, _ = retarget_objects(context, source_obj, target, mapping, ik=ik, ik_max_angle=ik_max_angle)
    except BaseException:  # remove what loading or making the target added (a generated rig's widgets too)
        bpy.data.batch_remove(ids=[i for kind in kinds for i in getattr(bpy.data, kind) if i not in before[kind]])
        raise
    return target, mapping, result


IK_CHOICES = {"both": ("wrist", "ankle"), "feet": ("ankle",), "hands": ("wrist",), "none": ()}


def batch(results, args, report) -> tuple[list, list]:
    """The batch script's ``--retarget-to`` and ``--export`` for the lifted clips ``results``.

    Returns ``(results that succeeded, sources that failed)``; each failure is passed to ``report(source, message)``
    and leaves nothing of its own in the scene.
    """
    done, failed = [], []
    for result in results:
        source = bpy.data.objects.get(result.name)
        try:
            obj = source
            if args.retarget_to:
                obj, mapping, moved = retarget_clip(bpy.context, source, args.retarget_to, preset=args.retarget_preset,
                                                    ik=IK_CHOICES[args.ik],
                                                    ik_max_angle=getattr(args, "ik_max_angle", None))  # fmt: skip
                print(f"lift_to_3d: {result.source}: retargeted onto {obj.name} ({len(mapping)} joints mapped, "
                      f"scale {moved.scale:.3f})")  # fmt: skip
            if args.export:
                out = Path(args.export)
                if len(results) > 1:
                    out = out.with_name(f"{out.stem}_{result.name}{out.suffix}")
                written = export_motion(bpy.context, obj, out, frames=result.scene_frames(args.scene_start),
                                        deform_only=getattr(args, "deform_only", False))  # fmt: skip
                print(f"lift_to_3d: {result.source}: exported {obj.name} to {written}")
        except LFMError as exc:
            report(result.source, exc)
            failed.append(result.source)
            continue
        done.append(result)
    return done, failed
