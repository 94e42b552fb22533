"""Writing a lifted clip (:class:`lfm_engine.pipeline.ClipResult`) into Blender: camera, armature or empties, keys.

Everything is computed by the engine; this module only copies arrays into Blender data:

* a **collection** named after the clip holding everything below;
* a **camera** matching the footage: ``sensor_fit = 'AUTO'`` (Blender's default: the 36 mm sensor spans the image's
  larger side), ``lens = f_px * sensor_width / max(width, height)`` (:attr:`lfm_engine.pipeline.CameraModel.lens_mm`,
  what the panel's millimetres mean), the principal point as lens shift (in units of the larger side); without a
  known focal length the engine's 55 degree field of view. It is placed by the result's
  ``camera_matrix``: at the world origin looking along +Y (Z up) without the clip solver, above the ground at the
  solved height and tilt with it; in place (``camera_locations``) its location is keyed so that it follows the
  subject and the footage still lines up;
* an **armature** (bones made in edit mode from the engine's rest matrices, named by the engine: for the standard
  layouts after their body segment, ``thigh.L``, :mod:`lfm_engine.anatomy`) with one action holding
  ``rotation_quaternion`` keys for every bone and ``location`` keys for root bones, or **empties**, one per joint
  (``<clip>_<joint>``), with ``location`` keys (the lifted points as they are, without the constant-length fit).
  Each bone holds the names of the joints at its ends as custom properties (:data:`JOINT_KEY`: the joint it ends
  at, its tail or a root bone's head; :data:`HEAD_JOINT_KEY`: the joint at its head), which the retarget reads.

Keys are written in bulk (``keyframe_points.add`` + ``foreach_set`` + ``FCurve.update``), never with
``keyframe_insert``. F-curves are made through ``Action.fcurve_ensure_for_datablock`` on layered actions (Blender
4.4+, the only kind in 5.0) and ``Action.fcurves.new`` on legacy actions (4.2, 4.3), chosen by feature detection.

:func:`write_clip` creates nothing it does not return, and removes all it created (and restores the scene
settings it changed) when anything fails midway.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import bpy
import numpy as np
from mathutils import Matrix

from .engine import pipeline

#: Key interpolation: linear between the per-frame keys (no overshoot).
INTERPOLATION = "LINEAR"
#: Custom property marking the data-blocks a lift made, with the clip's base name as its value (what
#: ``replace=True`` may remove; data-blocks without it, the user's own, are never touched).
TAG = "lift_to_3d"
#: Foot contacts (the clip solver's planted feet, :mod:`.contacts`): one keyed 0/1 custom property per foot on the
#: armature or root empty, named this prefix + the foot's first joint (``"Contact LAnkle"``); the object also keeps
#: the property names (in the solver's order), the scene frame of each lifted frame and the keypoint source.
CONTACT_PREFIX = "Contact "
CONTACT_FEET = "lfm_feet"
CONTACT_FRAMES = "lfm_frames"
CONTACT_SOURCE = "lfm_source"
#: Custom property of each bone of a lifted armature: the joint the bone ends at (its tail; a root bone's head).
JOINT_KEY = "lift_to_3d_joint"
#: Custom property of each bone of a lifted armature: the joint at its head (a root bone's own joint).
HEAD_JOINT_KEY = "lift_to_3d_head_joint"


def write_clip(
    context,
    result,
    *,
    output: str = "ARMATURE",
    scene_start: int = 1,
    set_scene: bool = True,
    name: str | None = None,
    replace: bool = False,
) -> list[bpy.types.ID]:
    """Create the camera and the armature (or empties) of ``result`` in ``context.scene``.

    Args:
        context: a Blender context whose scene and view layer receive the objects (object mode).
        result: a :class:`lfm_engine.pipeline.ClipResult`.
        output: ``"ARMATURE"`` or ``"EMPTIES"``.
        scene_start: scene frame of the first lifted frame.
        set_scene: also set the scene's camera, resolution, frame rate and frame range to the clip's.
        name: base name of the new data (default: the clip's name).
        replace: once the new data is made, remove the data-blocks of every earlier lift with this base name
            (those tagged :data:`TAG`; never the user's own) and give the new ones the plain names they were made
            with (``<clip>``, ``<clip>Camera``, ``<clip>Action``: not the ``.001`` Blender gave them beside the
            earlier lift). Otherwise an earlier lift is kept and the new data-blocks get Blender's ``.001``
            suffixes: nothing existing is overwritten.

    Returns:
        The data-blocks created (collection, camera, objects, armature, actions); the armature or root empty
        object is the active object.

    Raises:
        Any exception from Blender, after removing everything created and restoring the scene settings.
    """
    scene = context.scene
    view_layer = context.view_layer
    base = name or result.name
    frames = result.scene_frames(scene_start).astype(np.float64)  # (T,)
    created = _Created()
    saved = _scene_state(scene, view_layer)
    try:
        coll = _new(created, bpy.data.collections, base)
        scene.collection.children.link(coll)
        camera = _camera(result, base, coll, created)
        _camera_keys(result, camera, base, frames, created)
        if output == "ARMATURE":
            top = _armature(view_layer, result, base, coll, frames, created)
        elif output == "EMPTIES":
            top = _empties(result, base, coll, frames, created)
        else:
            raise ValueError(f"unknown output {output!r}: use 'ARMATURE' or 'EMPTIES'")
        _contacts(top, result, frames, base, created)
        if set_scene:
            _set_scene(scene, result, camera, frames)
        for idblock in created:
            idblock[TAG] = base
        if replace:
            _replace_previous(created, base, view_layer)
    except BaseException:
        _restore_scene(scene, view_layer, saved)
        bpy.data.batch_remove(ids=[i for i in created if _alive(i)])
        raise
    for obj in view_layer.objects:
        obj.select_set(False)
    view_layer.objects.active = top
    top.select_set(True)
    return created


# ---------------------------------------------------------------------- camera
def _camera(result, base: str, coll, created: list) -> bpy.types.Object:
    cam = result.camera
    w, h = cam.image_size
    data = _new(created, bpy.data.cameras, f"{base}Camera")
    data.sensor_fit = "AUTO"
    data.sensor_width = pipeline.SENSOR_WIDTH_MM
    data.lens = cam.lens_mm
    # Lens shift is in units of the fitted sensor side: with the Auto fit, the image's larger side.
    side = max(w, h)
    data.shift_x = (w / 2.0 - cam.principal_point[0]) / side
    data.shift_y = (cam.principal_point[1] - h / 2.0) / side
    matrix = getattr(result, "camera_matrix", None)
    where = np.zeros(3) if matrix is None else np.asarray(matrix)[:3, 3]
    far = float(np.nanmax(np.linalg.norm(result.world - where, axis=-1)))
    data.clip_end = max(data.clip_end, 4.0 * far)
    obj = _new(created, bpy.data.objects, f"{base}Camera", data)
    if matrix is None:
        obj.rotation_euler = (math.pi / 2, 0.0, 0.0)  # looks along +Y with +Z up
    else:
        obj.matrix_basis = Matrix(np.asarray(matrix).tolist())  # no parent: the world matrix
    coll.objects.link(obj)
    return obj


def _camera_keys(result, camera, base: str, frames: np.ndarray, created: list) -> None:
    """In place (``result.camera_locations``): key the camera's location so that it follows the subject."""
    moving = getattr(result, "camera_locations", None)
    if moving is None:
        return
    action = _new_action(f"{base}CameraAction", camera, created)
    for i in range(3):
        write_keys(_fcurve(action, camera, "location", i, "Camera"), frames, np.asarray(moving)[:, i])


# ---------------------------------------------------------------------- armature
def _armature(view_layer, result, base: str, coll, frames: np.ndarray, created: list) -> bpy.types.Object:
    anim = result.armature
    data = _new(created, bpy.data.armatures, base)
    obj = _new(created, bpy.data.objects, base, data)
    coll.objects.link(obj)
    obj.location = anim.origin.tolist()
    obj.show_in_front = True
    names = list(anim.bone_names)
    view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        bones = data.edit_bones
        for j in anim.order.tolist():
            bone = bones.new(names[j])
            names[j] = bone.name  # Blender may shorten or de-duplicate a name
            bone.head = (0.0, 0.0, 0.0)
            bone.tail = (0.0, float(anim.lengths[j]), 0.0)
            bone.matrix = Matrix(anim.rest_matrices[j].tolist())
            parent = int(anim.parents[j])
            if parent >= 0:
                bone.parent = bones[names[parent]]
                bone.use_connect = bool(anim.connected[j])
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
    joints = anim.joint_names or anim.bone_names
    for bone_name, joint, head in zip(names, joints, anim.head_joint_names, strict=True):
        bone = data.bones[bone_name]
        bone[JOINT_KEY] = joint
        bone[HEAD_JOINT_KEY] = head
    pose = obj.pose.bones
    action = _new_action(f"{base}Action", obj, created)
    channels = []
    for j, bone_name in enumerate(names):
        pbone = pose[bone_name]
        pbone.rotation_mode = "QUATERNION"
        channels.append((pbone.path_from_id("rotation_quaternion"), anim.quaternions[:, j], bone_name))
        if anim.is_root[j]:
            channels.append((pbone.path_from_id("location"), anim.locations[:, j], bone_name))
    for path, values, group in channels:
        for i in range(values.shape[1]):
            write_keys(_fcurve(action, obj, path, i, group), frames, values[:, i])
    return obj


# ---------------------------------------------------------------------- empties
def _empties(result, base: str, coll, frames: np.ndarray, created: list) -> bpy.types.Object:
    size = 0.02 * result.height
    root = _new(created, bpy.data.objects, base, None)
    root.empty_display_type = "PLAIN_AXES"
    root.empty_display_size = 5 * size
    coll.objects.link(root)
    shared = None
    for j, joint in enumerate(result.joint_names):
        obj = _new(created, bpy.data.objects, f"{base}_{joint}", None)
        obj.empty_display_type = "SPHERE"
        obj.empty_display_size = size
        obj.parent = root
        coll.objects.link(obj)
        # Layered actions animate many objects through one action (a slot each); legacy ones need one each.
        if shared is None:
            shared = _new_action(f"{base}Action", obj, created)
            if not _layered(shared):
                _rename(created, shared, f"{base}_{joint}Action")
        elif _layered(shared):
            obj.animation_data_create().action = shared
        else:
            shared = _new_action(f"{base}_{joint}Action", obj, created)
        for i in range(3):
            write_keys(_fcurve(shared, obj, "location", i, joint), frames, result.world[:, j, i])
    return root


def _replace_previous(created: _Created, base: str, view_layer) -> None:
    """Remove the data-blocks tagged ``base`` that are not in ``created`` (every earlier lift of the clip), then
    give each new data-block the name it was asked for (``X``, not the ``X.001`` Blender gave it while the earlier
    lift had ``X``). A name the user's own data-block has stays taken: Blender suffixes the new one then."""
    mine = {i.as_pointer() for i in created}
    kinds = (bpy.data.collections, bpy.data.objects, bpy.data.armatures, bpy.data.cameras, bpy.data.actions)
    old = [i for kind in kinds for i in kind if i.get(TAG) == base and i.as_pointer() not in mine]
    if not old:
        return
    bpy.data.batch_remove(ids=old)
    view_layer.update()  # drop the removed objects' bases
    for i in created:
        asked = created.asked.get(i.as_pointer())
        if asked is not None and i.name != asked:
            i.name = asked


class _Created(list):
    """The data-blocks one :func:`write_clip` made, in order, with the name each was asked for (``asked``: pointer
    -> name; Blender suffixes a name already taken)."""

    def __init__(self):
        super().__init__()
        self.asked: dict[int, str] = {}


def _new(created: list, kind, name: str, *args):
    """``kind.new(name, *args)`` (``bpy.data.objects``, ``.actions``, ...), recorded in ``created``."""
    idblock = kind.new(name, *args)
    created.append(idblock)
    if isinstance(created, _Created):
        created.asked[idblock.as_pointer()] = name
    return idblock


def _rename(created: list, idblock, name: str) -> None:
    idblock.name = name
    if isinstance(created, _Created):
        created.asked[idblock.as_pointer()] = name


def _contacts(obj, result, frames: np.ndarray, base: str, created: list) -> None:
    """Key ``result``'s planted feet on ``obj``: one 0/1 property per foot (:data:`CONTACT_PREFIX`), a key on every
    lifted frame, constant interpolation, in the object's action (a new one for a root empty). Nothing without the
    clip solver."""
    solution = result.solution
    if solution is None or not solution.feet:
        return
    names = result.rig.joint_names
    keys = [CONTACT_PREFIX + names[foot.joints[0]] for foot in solution.feet]
    obj[CONTACT_FEET] = keys
    obj[CONTACT_FRAMES] = [int(f) for f in frames]
    obj[CONTACT_SOURCE] = str(result.source)
    has_action = obj.animation_data is not None and obj.animation_data.action is not None
    action = obj.animation_data.action if has_action else _new_action(f"{base}ContactsAction", obj, created)
    for k, key in enumerate(keys):
        planted = solution.contacts[:, k].astype(np.float64)  # (T,) 1 planted, 0 not
        obj[key] = int(planted[0])
        obj.id_properties_ui(key).update(
            min=0, max=1, description="1: the foot is planted on this frame (keyed: edit the keys, then Re-solve Clip)"
        )
        fcurve = _fcurve(action, obj, f'["{key}"]', 0, "Foot Contacts")
        write_keys(fcurve, frames, planted, "CONSTANT")  # a contact is on or off between its keys


# ---------------------------------------------------------------------- keys
def _layered(action) -> bool:
    return hasattr(action, "fcurve_ensure_for_datablock")


def _new_action(name: str, obj, created: list) -> bpy.types.Action:
    action = _new(created, bpy.data.actions, name)
    obj.animation_data_create().action = action
    return action


def _fcurve(action, obj, data_path: str, index: int, group: str) -> bpy.types.FCurve:
    """The F-curve ``data_path[index]`` of ``obj`` in ``action`` (assigned to ``obj``), made if needed."""
    if _layered(action):  # Blender 4.4+: layered actions with slots
        return action.fcurve_ensure_for_datablock(obj, data_path, index=index, group_name=group)
    return action.fcurves.new(data_path, index=index, action_group=group)  # Blender 4.2, 4.3


def write_keys(fcurve, frames: Sequence[float], values: Sequence[float], interpolation: str = INTERPOLATION) -> None:
    """Replace the keys of ``fcurve`` with ``(frames[k], values[k])``, in one bulk write; ``interpolation`` is a
    ``Keyframe.interpolation`` item (default :data:`INTERPOLATION`)."""
    co = np.empty((len(frames), 2), dtype=np.float32)  # (n, 2) frame, value
    co[:, 0] = frames
    co[:, 1] = values
    points = fcurve.keyframe_points
    if len(points):
        points.clear()
    points.add(len(co))
    points.foreach_set("co", co.ravel())
    interp = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items[interpolation].value
    points.foreach_set("interpolation", np.full(len(co), interp, dtype=np.int32))
    fcurve.update()


# ---------------------------------------------------------------------- scene
def _scene_state(scene, view_layer) -> dict:
    r = scene.render
    return {
        "camera": scene.camera, "resolution": (r.resolution_x, r.resolution_y, r.resolution_percentage),
        "aspect": (r.pixel_aspect_x, r.pixel_aspect_y), "fps": (r.fps, r.fps_base),
        "range": (scene.frame_start, scene.frame_end), "active": view_layer.objects.active,
    }  # fmt: skip


def _restore_scene(scene, view_layer, saved: dict) -> None:
    r = scene.render
    scene.camera = saved["camera"] if _alive(saved["camera"]) else None
    r.resolution_x, r.resolution_y, r.resolution_percentage = saved["resolution"]
    r.pixel_aspect_x, r.pixel_aspect_y = saved["aspect"]
    r.fps, r.fps_base = saved["fps"]
    scene.frame_start, scene.frame_end = saved["range"]
    view_layer.objects.active = saved["active"] if _alive(saved["active"]) else None


def _set_scene(scene, result, camera, frames: np.ndarray) -> None:
    r = scene.render
    w, h = result.camera.image_size
    r.resolution_x, r.resolution_y, r.resolution_percentage = w, h, 100
    r.pixel_aspect_x = r.pixel_aspect_y = 1.0
    if result.fps:
        r.fps = max(1, round(result.fps))
        r.fps_base = r.fps / result.fps
    scene.frame_start = int(frames.min())
    scene.frame_end = int(frames.max())
    scene.camera = camera


def _alive(idblock) -> bool:
    """False for None and for data-blocks already removed."""
    if idblock is None:
        return False
    try:
        idblock.name  # noqa: B018 - raises ReferenceError once removed
    except ReferenceError:
        return False
    return True


# ---------------------------------------------------------------------- preview geometry
_OCTAHEDRON = ((0, 1, 2), (0, 2, 3), (0, 3, 4), (0, 4, 1), (5, 2, 1), (5, 3, 2), (5, 4, 3), (5, 1, 4))


def add_bone_mesh(armature_obj, width: float = 0.1, name: str | None = None) -> bpy.types.Object:
    """A renderable stand-in for the bones (armatures do not render): one octahedron per bone in its rest pose,
    deformed rigidly by it (vertex group + Armature modifier). Returns the mesh object, parented to the armature
    and linked to the armature's collections.

    Args:
        armature_obj: an armature object made by :func:`write_clip`.
        width: half-width of each octahedron as a fraction of its bone's length (at least 5 mm), like Blender's
            octahedral bone display.
    """
    arm = armature_obj.data
    verts, faces, groups = [], [], []
    for bone in arm.bones:
        m = np.array(bone.matrix_local)  # (4, 4) armature space
        length = bone.length
        r = max(width * length, 0.005)
        local = np.array([[0, 0, 0], [r, 0.2 * length, 0], [0, 0.2 * length, r], [-r, 0.2 * length, 0],
                          [0, 0.2 * length, -r], [0, length, 0]], dtype=np.float64)  # fmt: skip
        world = local @ m[:3, :3].T + m[:3, 3]  # (6, 3)
        base = len(verts)
        verts.extend(world.tolist())
        faces.extend([(base + a, base + b, base + c) for a, b, c in _OCTAHEDRON])
        groups.append((bone.name, range(base, base + 6)))
    mesh = bpy.data.meshes.new(name or f"{armature_obj.name}Mesh")
    mesh.from_pydata(verts, [], faces)
    mesh.update()
    obj = bpy.data.objects.new(mesh.name, mesh)
    for coll in armature_obj.users_collection:
        coll.objects.link(obj)
    obj.parent = armature_obj
    for bone_name, idx in groups:
        obj.vertex_groups.new(name=bone_name).add(list(idx), 1.0, "REPLACE")
    obj.modifiers.new("Armature", "ARMATURE").object = armature_obj
    return obj
