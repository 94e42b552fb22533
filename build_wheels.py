"""The Python wheels the extension bundles for MediaPipe detection, per Blender platform (``build_addon.py
--with-detection``).

Blender extensions carry their dependencies as unmodified wheels listed in ``blender_manifest.toml``
(``wheels = ["./wheels/<file>.whl", ...]``, with ``platforms = [...]``); Blender installs them into the extension's
own site-packages, so users never pip-install into Blender. Blender 4.2 to 5.0 run CPython 3.11 and ship numpy,
which is left out.

:data:`DETECTION_REQUIREMENTS` is the minimal runtime set of ``mediapipe.solutions`` (pose, hands, face mesh,
holistic) and OpenCV. mediapipe's metadata also asks for jax, jaxlib, sentencepiece, sounddevice, absl-py and
flatbuffers, which ``mp.solutions`` never imports (sounddevice is imported inside ``try``, for the audio tasks only):
checked by running Holistic with a ``sys.path`` holding only these packages (numpy and the standard library
besides). matplotlib comes in because ``mediapipe/python/solutions/drawing_utils.py`` imports ``matplotlib.pyplot``.
Versions are the project's pinned stack (constraints.txt and the tested virtual environment).

Wheels are downloaded at build time only (``pip download --only-binary=:all: --no-deps --python-version 3.11
--implementation cp --abi cp311 --abi abi3 --abi none --platform <tag> ...``, every compatible tag of the platform
named, as pip does not expand them) into a cache folder (``build/wheels`` by default, ignored by
git) and reused from there; ``offline=True`` never downloads and fails, naming what is missing, when the cache
lacks a wheel.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import canonicalize_name, parse_wheel_filename

#: ``name==version`` of every wheel bundled for detection (numpy excluded: Blender ships it).
DETECTION_REQUIREMENTS: tuple[str, ...] = (
    "mediapipe==0.10.21",
    "opencv-contrib-python==4.11.0.86",
    "protobuf==4.25.9",
    "attrs==26.1.0",
    "matplotlib==3.11.2",
    "cycler==0.12.1",
    "fonttools==4.68.0",
    "kiwisolver==1.5.1",
    "packaging==26.3",
    "pillow==13.0.0",
    "pyparsing==3.3.3",
    "python-dateutil==4.0.0",
)
#: Packages never bundled: Blender ships numpy.
EXCLUDED = ("numpy",)
#: Blender's platform names -> the newest pip platform tag to ask for (older compatible ones are accepted too).
PLATFORMS: dict[str, str] = {
    "linux-x64": "manylinux_2_28_x86_64",
    "windows-x64": "win_amd64",
    "macos-arm64": "macosx_14_0_arm64",
    "macos-x64": "macosx_14_0_x86_64",
}
PYTHON = (3, 11)
DEFAULT_CACHE = Path(__file__).resolve().parent / "build" / "wheels"


def platform_tags(platform: str) -> list[str]:
    """Every pip platform tag a wheel for Blender's ``platform`` may carry, newest first."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown Blender platform {platform!r}; known: {', '.join(PLATFORMS)}")
    tag = PLATFORMS[platform]
    if tag.startswith("manylinux_"):
        _, major, minor, arch = tag.split("_", 3)
        tags = [f"manylinux_{major}_{m}_{arch}" for m in range(int(minor), 16, -1)]
        return [*tags, f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]
    if tag.startswith("macosx_"):
        _, major, minor, arch = tag.split("_", 3)
        return list(mac_platforms((int(major), int(minor)), arch))
    return [tag]


def supported_tags(platform: str) -> list[Tag]:
    """Wheel tags CPython 3.11 accepts on ``platform``, most specific first."""
    plats = platform_tags(platform)
    return [*cpython_tags(PYTHON, abis=["cp311"], platforms=plats), *compatible_tags(PYTHON, "cp311", plats)]


def select_wheels(
    files: Iterable[Path], platform: str, requirements: Sequence[str] = DETECTION_REQUIREMENTS
) -> list[Path]:
    """For each requirement, the best wheel among ``files`` for ``platform`` (most specific tag).

    Raises:
        LookupError: a requirement has no matching wheel; the message lists every one missing.
    """
    ranks = {tag: i for i, tag in enumerate(supported_tags(platform))}
    best: dict[str, tuple[int, Path]] = {}
    wanted = {canonicalize_name(Requirement(r).name): Requirement(r) for r in requirements}
    for f in files:
        f = Path(f)
        if f.suffix != ".whl":
            continue
        try:
            name, version, _, tags = parse_wheel_filename(f.name)
        except ValueError:
            continue
        req = wanted.get(name)
        if req is None or name in EXCLUDED or version not in req.specifier:
            continue
        rank = min((ranks[t] for t in tags if t in ranks), default=None)
        if rank is not None and (name not in best or rank < best[name][0]):
            best[name] = (rank, f)
    missing = [str(r) for n, r in wanted.items() if n not in best]
    if missing:
        raise LookupError(f"no wheel for {platform} (cp311) of: {', '.join(missing)}")
    return sorted((p for _, p in best.values()), key=lambda p: p.name)


def download(platform: str, cache: Path, requirements: Sequence[str] = DETECTION_REQUIREMENTS) -> None:
    """``pip download`` the wheels of ``requirements`` for ``platform`` into ``cache`` (only what is missing)."""
    cache.mkdir(parents=True, exist_ok=True)
    for req in requirements:
        try:
            select_wheels(cache.glob("*.whl"), platform, [req])
            continue  # cached
        except LookupError:
            pass
        plats = [arg for tag in platform_tags(platform) for arg in ("--platform", tag)]  # pip does not expand them all
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--no-deps",
               "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311", "--abi", "abi3", "--abi", "none",
               *plats, "--dest", str(cache), req]  # fmt: skip
        done = subprocess.run(cmd, check=False)
        if done.returncode:
            raise SystemExit(f"build_wheels: pip could not download {req} for {platform} (see above)")


def wheels_for(platforms: Sequence[str], cache: Path = DEFAULT_CACHE, offline: bool = False) -> list[Path]:
    """The wheels to bundle for ``platforms`` (union, sorted by file name), downloaded first unless ``offline``.

    Raises:
        LookupError: offline, and the cache lacks a wheel (the message names the platform and the packages).
    """
    chosen: set[Path] = set()
    for platform in platforms:
        if not offline:
            download(platform, cache)
        chosen.update(select_wheels(cache.glob("*.whl"), platform))
    return sorted(chosen, key=lambda p: p.name)


def manifest_with_wheels(text: str, wheels: Sequence[Path], platforms: Sequence[str]) -> str:
    """``blender_manifest.toml`` text with ``platforms`` and ``wheels`` (``./wheels/<file>``) set."""
    lines = [ln for ln in text.splitlines() if not ln.startswith(("wheels =", "platforms ="))]
    cut = next((i for i, ln in enumerate(lines) if ln.startswith("[")), len(lines))  # before the first table
    extra = [
        f"platforms = [{', '.join(repr(p).replace(chr(39), chr(34)) for p in platforms)}]",
        "wheels = [",
        *(f'  "./wheels/{w.name}",' for w in wheels),
        "]",
        "",
    ]
    return "\n".join([*lines[:cut], *extra, *lines[cut:]]) + "\n"


__all__ = [
    "DEFAULT_CACHE",
    "DETECTION_REQUIREMENTS",
    "EXCLUDED",
    "PLATFORMS",
    "manifest_with_wheels",
    "platform_tags",
    "select_wheels",
    "supported_tags",
    "wheels_for",
]
