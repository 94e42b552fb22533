"""Lift keypoint files to animated armatures in a new .blend, from the command line.

Usage (the arguments after ``--``)::

    python blender_addon/batch.py -- --input clip_openpose_json/ other.npz --output out.blend [options]
    blender -b --python blender_addon/batch.py -- --input ... --output out.blend [options]

Each input (a keypoint file, a folder of OpenPose ``.json`` files, or footage: a video, an image or a folder of
images, run through MediaPipe detection first, with the footage as the camera's background) becomes one armature
(or one set of empties) with its own camera, in a scene that starts empty. The scene takes the first input's
resolution, frame rate and camera, and a frame range covering every clip. The .blend is written to a temporary file
beside ``--output`` and moved into place, so a failed run never leaves a half-written file.

With ``--retarget-to RIG`` (a .blend, or a preset naming a Rigify metarig) each clip's motion is also baked onto its
own copy of that rig (:mod:`.retarget`), and ``--export OUT.bvh|.fbx|.glb`` writes the rig and its motion.

An input that fails prints one line ``lift_to_3d: error: <input>: <what is wrong>`` on stderr and the others go on;
the .blend then holds those that succeeded (none is written with ``--strict``, or when all fail). Exit status: 0
when every input was lifted, 1 when one failed (or the weights cannot be loaded), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

PROG = "lift_to_3d"
#: The option that sets each assumed value (:attr:`lfm_engine.pipeline.LiftWarning.setting`).
FLAGS = {"image_size": "--image-size W H", "fps": "--fps FPS"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options; ``argv`` defaults to ``sys.argv`` after ``--`` (or all of it when there is no ``--``)."""
    if argv is None:
        argv = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    ap = argparse.ArgumentParser(prog=PROG, description="Lift 2D keypoint files to animated 3D armatures in a .blend")
    ap.add_argument(
        "--input",
        "-i",
        nargs="+",
        action="extend",
        required=True,
        metavar="PATH",
        help="keypoint files (.json .csv .h5 .npz), folders of OpenPose .json, or footage (a video, an image or a "
        "folder of images: MediaPipe detects the body, hands and face first); one armature each",
    )
    ap.add_argument("--output", "-o", required=True, metavar="OUT.blend", help="the .blend file to write")
    ap.add_argument(
        "--rig",
        help="a standard layout name (lfm_engine.available_rigs()) or a JSON rig file; "
        "default: the file's own skeleton",
    )
    ap.add_argument("--height", type=float, help="subject height in metres (default: 1.75 for people, by category)")
    ap.add_argument("--weights", help="model weights (.safetensors); default: the shipped weights")
    ap.add_argument("--backend", choices=("auto", "numpy", "torch"), default="auto")
    ap.add_argument("--smoothing", choices=("none", "one_euro", "savgol"), default="none")
    ap.add_argument("--smoothing-strength", type=float, default=0.5, metavar="0..1")
    ap.add_argument(
        "--confidence",
        type=float,
        default=0.1,
        metavar="C",
        help="joints scoring at or below C are missing (default 0.1)",
    )
    focal = ap.add_mutually_exclusive_group()
    focal.add_argument(
        "--focal-length",
        type=float,
        metavar="PX",
        help="focal length in pixels (default: the footage's metadata, else a 55 degree field of view)",
    )
    focal.add_argument(
        "--focal-mm",
        type=float,
        metavar="MM",
        help="focal length in millimetres on a --sensor-width sensor across the image's larger side "
        "(a Blender camera's lens; a phone's 35 mm-equivalent figure with the default 36)",
    )
    focal.add_argument("--fov", type=float, metavar="DEG", help="field of view in degrees across the larger side")
    ap.add_argument(
        "--sensor-width", type=float, default=36.0, metavar="MM", help="sensor width for --focal-mm (default 36)"
    )
    ap.add_argument(
        "--image-size",
        type=int,
        nargs=2,
        metavar=("W", "H"),
        help="image size in pixels (default: the file's, else its footage's, else guessed, with a warning)",
    )
    ap.add_argument(
        "--fps", type=float, help="frames per second (default: the file's, else its footage's, else 24, with a warning)"
    )
    ap.add_argument(
        "--footage",
        metavar="VIDEO",
        help="the video or image folder the keypoints come from (its size, rate and focal length are used "
        "where the options and the file give none); default: one named like the keypoints beside them",
    )
    ap.add_argument("--start", type=int, default=0, help="first clip frame to lift (0-based)")
    ap.add_argument("--end", type=int, help="last clip frame to lift (0-based, inclusive)")
    ap.add_argument("--scene-start", type=int, default=1, help="scene frame of each clip's first frame")
    ap.add_argument(
        "--whole-body",
        choices=("parts", "whole"),
        default="parts",
        help="MediaPipe whole-body keypoints: lift body, hands and face alone and attach them (default), or whole",
    )
    ap.add_argument(
        "--no-clip-solver",
        dest="clip_solver",
        action="store_false",
        help="place each frame on its own instead of solving the whole clip (constant bone lengths, smooth motion, "
        "planted feet, a ground plane)",
    )
    ap.add_argument(
        "--contacts",
        choices=("auto", "always", "never"),
        default="auto",
        help="when the clip solver plants the feet (default auto: where they are low and still)",
    )
    ap.add_argument(
        "--in-place",
        action="store_true",
        help="keep the subject's pelvis above the origin (the camera moves the other way) instead of root motion",
    )
    ap.add_argument("--empties", action="store_true", help="one empty per joint instead of an armature")
    ap.add_argument("--strict", action="store_true", help="write nothing when any input fails")
    ap.add_argument(
        "--retarget-to",
        metavar="RIG",
        help="retarget each clip onto a rig: a .blend (file.blend:Object "
        "to pick an armature) or a preset that names a Rigify metarig (rigify_human, rigify_basic_human; "
        "rigify_generated: the rig generated from the human metarig, keyed on its FK controls)",
    )
    ap.add_argument(
        "--retarget-preset", metavar="PRESET", help="mapping preset (name or .json) instead of the automatic mapping"
    )
    ap.add_argument(
        "--ik",
        choices=("both", "feet", "hands", "none"),
        default="both",
        help="which lifted end points the retargeted rig reaches by IK (default both)",
    )
    ap.add_argument(
        "--ik-max-angle",
        type=float,
        metavar="DEG",
        help="limit the IK: each arm or leg segment turns at most DEG degrees from its lifted direction",
    )
    ap.add_argument(
        "--export",
        metavar="OUT.bvh|.fbx|.glb",
        help="export the retargeted rig (the lifted armature "
        "without --retarget-to) with its motion; several inputs give OUT_<clip>.ext",
    )
    ap.add_argument(
        "--deform-only",
        action="store_true",
        help="export only the deform bones (glTF and FBX; e.g. a generated Rigify rig's DEF- bones)",
    )
    ap.add_argument("--verbose", action="store_true", help="print tracebacks of unexpected errors")
    return ap.parse_args(argv)  # fmt: skip


def settings_from_args(args: argparse.Namespace):
    """The :class:`lfm_engine.pipeline.LiftSettings` of the command line."""
    from .engine import pipeline

    unit, focal = next(((u, v) for u, v in (("px", args.focal_length), ("mm", args.focal_mm), ("fov", args.fov))
                        if v is not None), ("px", None))  # fmt: skip
    return pipeline.LiftSettings(
        rig=args.rig, confidence_threshold=args.confidence, smoothing=args.smoothing,
        smoothing_strength=args.smoothing_strength, height=args.height, focal_length=focal, focal_unit=unit,
        sensor_width=args.sensor_width, footage=args.footage,
        image_size=tuple(args.image_size) if args.image_size else None, fps=args.fps, frame_start=args.start,
        frame_end=args.end, weights=args.weights, backend=args.backend, whole_body=args.whole_body,
        solve_clip=args.clip_solver, contact_mode=args.contacts, root_motion=not args.in_place,
    )  # fmt: skip


def _error(source, message: str) -> None:
    text = " ".join(str(message).split())
    where = "" if str(source) in text else f"{source}: "
    print(f"{PROG}: error: {where}{text}", file=sys.stderr)


def save_blend(path: str | os.PathLike) -> Path:
    """Save the current file as ``path`` atomically: to a temporary file in the same folder, then renamed."""
    import bpy

    out = Path(path).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{out.stem}.", dir=out.parent))
    try:
        tmp = tmp_dir / out.name
        bpy.ops.wm.save_as_mainfile(filepath=str(tmp), copy=True, check_existing=False)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return out


def lift_inputs(sources, settings, lifter, *, empties: bool = False, scene_start: int = 1, verbose: bool = False):
    """Lift each of ``sources`` into the current scene (one armature or set of empties each).

    Returns ``(results, failed)``: the :class:`~lfm_engine.pipeline.ClipResult` of each input lifted, and the
    inputs that failed (each reported on stderr in one line). The scene takes the first clip's camera, resolution
    and frame rate, and a frame range covering all clips.
    """
    import bpy

    from . import blender_io, detection
    from .engine import LFMError, pipeline

    context = bpy.context
    scene = context.scene
    results, failed = [], []
    for source in sources:
        try:
            result = pipeline.run(source, settings, lifter=lifter)
            created = blender_io.write_clip(context, result, output="EMPTIES" if empties else "ARMATURE",
                                            scene_start=scene_start, set_scene=not results)  # fmt: skip
            detection.attach_footage(result, created, scene_start=scene_start)  # footage behind the camera
        except LFMError as exc:
            _error(source, exc)
            failed.append(source)
            continue
        except Exception as exc:  # one bad input must not stop the others; reported, and the exit status says so
            _error(source, f"unexpected {type(exc).__name__}: {exc}")
            if verbose:
                traceback.print_exc()
            failed.append(source)
            continue
        frames = result.scene_frames(scene_start)
        if results:
            scene.frame_start = min(scene.frame_start, int(frames.min()))
            scene.frame_end = max(scene.frame_end, int(frames.max()))
        results.append(result)
        notes = f" ({'; '.join(result.notes)})" if result.notes else ""
        print(f"{PROG}: {source}: {result.num_frames} frames, {result.rig.num_joints} joints{notes}")
        for warning in result.warnings:
            flag = FLAGS.get(warning.setting)
            how = f"; set it with {flag} (or --footage VIDEO)" if flag else ""
            print(f"{PROG}: warning: {source}: {warning.message}{how}", file=sys.stderr)
    return results, failed


def main(argv: list[str] | None = None) -> int:
    """Run the batch; returns the exit status (see the module docs)."""
    import bpy

    from .engine import LFMError, pipeline

    args = parse_args(argv)
    settings = settings_from_args(args)
    try:
        lifter = pipeline.load_lifter(args.weights, args.backend)
    except LFMError as exc:
        _error(args.weights or "weights", exc)
        return 1
    bpy.ops.wm.read_factory_settings(use_empty=True)
    results, failed = lift_inputs(args.input, settings, lifter, empties=args.empties, scene_start=args.scene_start,
                                  verbose=args.verbose)  # fmt: skip
    if results and (args.retarget_to or args.export):
        from . import retarget

        done, more = retarget.batch(results, args, _error)
        results, failed = done, failed + more
    if results and not (failed and args.strict):
        out = save_blend(args.output)
        print(f"{PROG}: wrote {out} ({len(results)} of {len(args.input)} inputs)")
    else:
        print(f"{PROG}: nothing written ({len(failed)} of {len(args.input)} inputs failed)", file=sys.stderr)
    return 1 if failed else 0


def _run_as_script() -> int:
    """Entry point of ``python batch.py`` / ``blender --python batch.py``: import this file's package first, so that
    the add-on's relative imports work, and run its ``main``."""
    here = Path(__file__).resolve().parent
    if str(here.parent) not in sys.path:
        sys.path.insert(0, str(here.parent))
    return importlib.import_module(f"{here.name}.batch").main()


def _exit(status: int) -> None:
    """``sys.exit(status)``; but Blender 4.2 as a Python module (pip's ``bpy``) segfaults at exit once a Python UI
    class has been registered (Rigify, which ``--retarget-to`` enables): its space types free them after Python has
    finalised. The .blend is saved by then, so there the process ends without that teardown, with ``status``."""
    import bpy

    if bpy.app.version[:2] == (4, 2) and not bpy.app.binary_path:  # the module, not the Blender executable
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    _exit(main() if __package__ else _run_as_script())
