"""Build the installable Blender extension: ``dist/lift_to_3d-<version>.zip``, and with ``--with-detection`` one
zip per Blender platform, ``dist/lift_to_3d-<version>-<platform>.zip`` (``linux_x64``, ``windows_x64``,
``macos_arm64``, ``macos_x64``), each holding only its platform's wheels.

Layout of the zip (what Blender's *Install from Disk* and ``bpy.ops.extensions.package_install_files`` expect)::

    blender_manifest.toml, __init__.py, ...   the files of blender_addon/ at the top
    lfm_engine/...                            the engine, vendored in the add-on package (blender_addon/engine.py)
    lfm_engine/weights/*.safetensors          the trained weights, when present in lfm_engine/weights/
    lfm_engine/weights/LICENSE.md             their licence and attribution (lfm_v2: CC BY-SA 3.0, from HDM05)

The version is the manifest's. Entries are sorted and time-stamped 1980-01-01, so the same sources give the same
zip. Inside Blender the engine runs its NumPy backend without extra packages and uses PyTorch (CUDA when available)
when Blender's Python can import it.

Usage: ``python build_addon.py [--out dist] [--no-weights] [--validate] [--with-detection [--platforms P ...]
[--wheel-cache DIR] [--offline]]`` (``--validate`` runs Blender's own extension validator from the bpy package on
each zip; ``--with-detection`` also writes the per-platform zips with the mediapipe and OpenCV wheels for MediaPipe
detection, see ``build_wheels.py``). As ``blender --command extension build --split-platforms`` does, each
platform's manifest lists only that platform's wheels and sets ``platforms = ["<platform>"]``, so Blender offers
each user the one zip that fits their machine.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
ADDON = ROOT / "blender_addon"
ENGINE = ROOT / "lfm_engine"
#: Files of the engine that the add-on does not need.
ENGINE_EXCLUDE = {"layouts/make_facemesh_json.py"}
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo", ".tmp", ".blend1"}
_EPOCH = (1980, 1, 1, 0, 0, 0)


def manifest(path: Path = ADDON / "blender_manifest.toml") -> dict:
    """The add-on's ``blender_manifest.toml``."""
    with open(path, "rb") as f:
        return tomllib.load(f)


def _files(folder: Path, exclude: set[str] = frozenset()) -> list[Path]:
    out = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if not p.is_file() or _SKIP_DIRS & set(rel.parts) or p.suffix in _SKIP_SUFFIXES or rel.as_posix() in exclude:
            continue
        out.append(p)
    return out


def zip_entries(include_weights: bool = True) -> list[tuple[str, Path]]:
    """``(name in the zip, file)`` pairs, sorted by name."""
    entries = [(p.relative_to(ADDON).as_posix(), p) for p in _files(ADDON)]
    for p in _files(ENGINE, ENGINE_EXCLUDE):
        rel = p.relative_to(ENGINE).as_posix()
        if rel.startswith("weights/") and not (include_weights and p.suffix in (".safetensors", ".md")):
            continue  # the weights and their licence text (weights/LICENSE.md)
        if p.suffix not in (".py", ".json", ".safetensors") and not rel.startswith("weights/"):
            continue
        entries.append((f"lfm_engine/{rel}", p))
    names = [n for n, _ in entries]
    if len(set(names)) != len(names):
        raise SystemExit("build_addon: blender_addon/ must not hold its own lfm_engine/ (it is vendored at build)")
    return sorted(entries)


def zip_name(platform: str | None = None) -> str:
    """``<id>-<version>.zip``, or ``<id>-<version>-<platform>.zip`` with ``-`` in the platform written ``_`` (the
    names of Blender's ``extension build --split-platforms``)."""
    meta = manifest()
    tail = f"-{platform.replace('-', '_')}" if platform else ""
    return f"{meta['id']}-{meta['version']}{tail}.zip"


def build(
    out_dir: str | Path = ROOT / "dist",
    include_weights: bool = True,
    wheels: list[Path] | tuple = (),
    platforms: list[str] | tuple = (),
    name: str | None = None,
) -> Path:
    """Write the extension zip ``out_dir/name`` (default :func:`zip_name`); returns its path. ``wheels`` (for
    detection, see :mod:`build_wheels`) go to ``wheels/`` and into the manifest with ``platforms``."""
    out = Path(out_dir) / (name or zip_name())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".zip.tmp")
    entries = zip_entries(include_weights)
    if wheels:
        import build_wheels

        text = build_wheels.manifest_with_wheels((ADDON / "blender_manifest.toml").read_text(), wheels, platforms)
        entries = sorted([*((n, p) for n, p in entries if n != "blender_manifest.toml"),
                          *((f"wheels/{w.name}", w) for w in wheels)])  # fmt: skip
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED if path.suffix in (".safetensors", ".whl") else zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
        if wheels:
            info = zipfile.ZipInfo("blender_manifest.toml", date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            zf.writestr(info, text, compress_type=zipfile.ZIP_DEFLATED)
    tmp.replace(out)
    return out


def build_split_platforms(
    out_dir: str | Path, wheels_by_platform: dict[str, list[Path]], include_weights: bool = True
) -> dict[str, Path]:
    """One zip per platform (:func:`zip_name` of the platform), each with only ``wheels_by_platform[platform]`` and a
    manifest whose ``platforms`` is that platform alone; returns ``{platform: zip path}``."""
    return {
        platform: build(out_dir, include_weights, wheels=wheels, platforms=[platform], name=zip_name(platform))
        for platform, wheels in wheels_by_platform.items()
    }


def validate(zip_path: Path) -> None:
    """Run Blender's extension validator (``bl_pkg/cli/blender_ext.py validate``) from the bpy package."""
    import importlib.util

    spec = importlib.util.find_spec("bpy")
    if spec is None or spec.origin is None:
        raise SystemExit("build_addon: --validate needs the bpy package")
    tools = sorted(Path(spec.origin).parent.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not tools:
        raise SystemExit("build_addon: Blender's extension validator was not found in the bpy package")
    done = subprocess.run([sys.executable, str(tools[-1]), "validate", str(zip_path)], check=False)
    if done.returncode:
        raise SystemExit(f"build_addon: {zip_path} failed Blender's extension validation (see above)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "dist"), help="output folder (default: dist/)")
    ap.add_argument("--no-weights", action="store_true", help="leave the weights out")
    ap.add_argument("--validate", action="store_true", help="validate the zip with Blender's extension tool")
    ap.add_argument(
        "--with-detection",
        action="store_true",
        help="bundle the mediapipe and OpenCV wheels (downloaded at build time, see build_wheels.py)",
    )
    ap.add_argument(
        "--platforms",
        nargs="+",
        default=None,
        metavar="P",
        help="Blender platforms, one zip each (default: linux-x64 windows-x64 macos-arm64 macos-x64)",
    )
    ap.add_argument("--wheel-cache", default=None, help="wheel cache folder (default: build/wheels)")
    ap.add_argument("--offline", action="store_true", help="use only cached wheels, never download")
    args = ap.parse_args(argv)
    wheels_by_platform: dict[str, list[Path]] = {}
    if args.with_detection:
        import build_wheels

        cache = Path(args.wheel_cache) if args.wheel_cache else build_wheels.DEFAULT_CACHE
        try:
            for platform in dict.fromkeys(args.platforms or build_wheels.PLATFORMS):
                wheels_by_platform[platform] = build_wheels.wheels_for([platform], cache, offline=args.offline)
        except (LookupError, ValueError) as exc:
            raise SystemExit(f"build_addon: {exc}") from None
    include_weights = not args.no_weights
    weights = [n for n, _ in zip_entries(include_weights) if n.endswith(".safetensors")]
    written = [(build(args.out, include_weights=include_weights), "no detection")]
    split = build_split_platforms(args.out, wheels_by_platform, include_weights)
    written += [(out, f"{len(wheels_by_platform[p])} wheels for {p}") for p, out in split.items()]
    for out, what in written:
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB; {what}; weights: {', '.join(weights) or 'none'})")
    if args.validate:
        for out, _ in written:
            validate(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
