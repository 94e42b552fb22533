"""The detection wheels bundled in the extension (build_wheels.py, build_addon.py --with-detection), without
network: fake wheel files in a cache folder, offline builds."""

from __future__ import annotations

import tomllib
import zipfile

import pytest

import build_addon  # the repository root is on sys.path (tests/conftest.py)
import build_wheels

#: One real file name per requirement and platform kind (as the registry names them).
FAKE = [
    "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl",
    "mediapipe-0.10.21-cp311-cp311-win_amd64.whl",
    "mediapipe-0.10.21-cp311-cp311-macosx_11_0_universal2.whl",
    "mediapipe-0.10.20-cp311-cp311-win_amd64.whl",  # another version: never taken
    "opencv_contrib_python-4.11.0.86-cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "opencv_contrib_python-4.11.0.86-cp37-abi3-win_amd64.whl",
    "opencv_contrib_python-4.11.0.86-cp37-abi3-macosx_13_0_arm64.whl",
    "opencv_contrib_python-4.11.0.86-cp37-abi3-macosx_13_0_x86_64.whl",
    "protobuf-4.25.9-cp37-abi3-manylinux2014_x86_64.whl",
    "protobuf-4.25.9-cp310-abi3-win_amd64.whl",
    "protobuf-4.25.9-cp37-abi3-macosx_10_9_universal2.whl",
    "protobuf-4.25.9-py3-none-any.whl",  # pure fallback: the platform wheels win
    "attrs-26.1.0-py3-none-any.whl",
    "matplotlib-3.11.2-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
    "matplotlib-3.11.2-cp311-cp311-win_amd64.whl",
    "matplotlib-3.11.2-cp311-cp311-macosx_11_0_arm64.whl",
    "matplotlib-3.11.2-cp311-cp311-macosx_10_13_x86_64.whl",
    "matplotlib-3.11.2-cp312-cp312-win_amd64.whl",  # another Python: never taken
    "cycler-0.12.1-py3-none-any.whl",
    "fonttools-4.68.0-py3-none-any.whl",
    "kiwisolver-1.5.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "kiwisolver-1.5.1-cp311-cp311-win_amd64.whl",
    "kiwisolver-1.5.1-cp311-cp311-macosx_11_0_arm64.whl",
    "kiwisolver-1.5.1-cp311-cp311-macosx_10_9_x86_64.whl",
    "packaging-26.3-py3-none-any.whl",
    "pillow-13.0.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
    "pillow-13.0.0-cp311-cp311-win_amd64.whl",
    "pillow-13.0.0-cp311-cp311-macosx_11_0_arm64.whl",
    "pillow-13.0.0-cp311-cp311-macosx_10_10_x86_64.whl",
    "pyparsing-3.3.3-py3-none-any.whl",
    "python_dateutil-4.0.0-py3-none-any.whl",
    "numpy-1.26.4-cp311-cp311-win_amd64.whl",  # Blender ships numpy: never bundled
    "not-a-wheel.txt",
]


@pytest.fixture
def cache(tmp_path):
    folder = tmp_path / "wheels"
    folder.mkdir()
    for name in FAKE:
        (folder / name).write_bytes(b"fake " + name.encode())
    return folder


def test_requirements_exclude_numpy_and_are_pinned():
    names = [r.split("==")[0] for r in build_wheels.DETECTION_REQUIREMENTS]
    assert "numpy" not in names and "mediapipe" in names and "opencv-contrib-python" in names
    assert all("==" in r for r in build_wheels.DETECTION_REQUIREMENTS)
    for unused in ("jax", "jaxlib", "sentencepiece", "sounddevice"):  # in mediapipe's metadata, never imported
        assert unused not in names


@pytest.mark.parametrize(
    ("platform", "mediapipe", "protobuf"),
    [
        ("linux-x64", "manylinux_2_28_x86_64", "manylinux2014_x86_64"),
        ("windows-x64", "win_amd64", "win_amd64"),
        ("macos-arm64", "macosx_11_0_universal2", "macosx_10_9_universal2"),
        ("macos-x64", "macosx_11_0_universal2", "macosx_10_9_universal2"),
    ],
)
def test_select_wheels_per_platform(cache, platform, mediapipe, protobuf):
    chosen = build_wheels.select_wheels(cache.iterdir(), platform)
    names = [p.name for p in chosen]
    assert len(names) == len(build_wheels.DETECTION_REQUIREMENTS)
    assert f"mediapipe-0.10.21-cp311-cp311-{mediapipe}.whl" in names
    assert any(n.startswith("protobuf-4.25.9") and n.endswith(f"{protobuf}.whl") for n in names)
    assert not any(n.startswith("numpy") or "cp312" in n or "0.10.20" in n for n in names)
    other_os = {"linux-x64": ("win", "macosx"), "windows-x64": ("linux", "macosx")}.get(platform, ("win", "linux"))
    assert not any(tag in n for n in names for tag in other_os)


def test_missing_wheels_are_named(cache):
    (cache / "mediapipe-0.10.21-cp311-cp311-win_amd64.whl").unlink()
    (cache / "pillow-13.0.0-cp311-cp311-win_amd64.whl").unlink()
    with pytest.raises(LookupError, match=r"no wheel for windows-x64 \(cp311\) of: mediapipe==0.10.21, pillow==13.0.0"):
        build_wheels.wheels_for(["windows-x64"], cache, offline=True)
    with pytest.raises(ValueError, match="unknown Blender platform 'amiga'"):
        build_wheels.select_wheels(cache.iterdir(), "amiga")


def test_offline_build_bundles_wheels_in_the_manifest(cache, tmp_path):
    platforms = ["linux-x64", "windows-x64"]
    wheels = build_wheels.wheels_for(platforms, cache, offline=True)
    assert len(wheels) == len({w.name for w in wheels})  # pure wheels once for both platforms
    out = build_addon.build(tmp_path / "dist", include_weights=False, wheels=wheels, platforms=platforms)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        meta = tomllib.loads(zf.read("blender_manifest.toml").decode())
        assert zf.read(f"wheels/{wheels[0].name}") == wheels[0].read_bytes()  # unmodified
    assert meta["platforms"] == platforms
    assert meta["wheels"] == [f"./wheels/{w.name}" for w in wheels]
    assert sorted(n for n in names if n.startswith("wheels/")) == [f"wheels/{w.name}" for w in wheels]
    assert meta["id"] == "lift_to_3d" and meta["permissions"]["files"]  # the rest of the manifest is kept
    assert "__init__.py" in names and "lfm_engine/detect.py" in names
    assert names.count("blender_manifest.toml") == 1


def _zip_wheels(path):
    with zipfile.ZipFile(path) as zf:
        meta = tomllib.loads(zf.read("blender_manifest.toml").decode())
        wheels = sorted(n for n in zf.namelist() if n.startswith("wheels/"))
    return meta, wheels


def test_split_platforms_one_zip_each_with_only_its_wheels(cache, tmp_path):
    by_platform = {p: build_wheels.wheels_for([p], cache, offline=True) for p in build_wheels.PLATFORMS}
    zips = build_addon.build_split_platforms(tmp_path / "dist", by_platform, include_weights=False)
    assert {p: z.name for p, z in zips.items()} == {
        "linux-x64": "lift_to_3d-0.1.0-linux_x64.zip",
        "windows-x64": "lift_to_3d-0.1.0-windows_x64.zip",
        "macos-arm64": "lift_to_3d-0.1.0-macos_arm64.zip",
        "macos-x64": "lift_to_3d-0.1.0-macos_x64.zip",
    }
    other_os = {"linux-x64": ("win_", "macosx_"), "windows-x64": ("linux", "macosx_")}
    for platform, path in zips.items():
        meta, wheels = _zip_wheels(path)
        names = [w.name for w in by_platform[platform]]
        assert meta["platforms"] == [platform]
        assert meta["wheels"] == [f"./wheels/{n}" for n in names]
        assert wheels == [f"wheels/{n}" for n in names]
        assert len(names) == len(build_wheels.DETECTION_REQUIREMENTS)
        assert not any(t in n for n in names for t in other_os.get(platform, ("win_", "linux")))
    # The two macOS zips share the universal2 wheels but not the per-architecture ones.
    arm, x64 = (set(_zip_wheels(zips[p])[1]) for p in ("macos-arm64", "macos-x64"))
    assert "wheels/mediapipe-0.10.21-cp311-cp311-macosx_11_0_universal2.whl" in arm & x64
    assert any("arm64" in n for n in arm - x64) and any("x86_64" in n for n in x64 - arm)


def test_offline_command_line(cache, tmp_path, capsys):
    args = ["--out", str(tmp_path / "d"), "--no-weights", "--with-detection", "--offline", "--wheel-cache", str(cache),
            "--platforms", "macos-arm64"]  # fmt: skip
    assert build_addon.main(args) == 0
    out = capsys.readouterr().out
    assert "lift_to_3d-0.1.0.zip" in out and "no detection" in out
    assert "lift_to_3d-0.1.0-macos_arm64.zip" in out and "12 wheels for macos-arm64" in out
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["lift_to_3d-0.1.0-macos_arm64.zip",
                                                                  "lift_to_3d-0.1.0.zip"]  # fmt: skip
    meta, wheels = _zip_wheels(tmp_path / "d" / "lift_to_3d-0.1.0.zip")
    assert not wheels and "wheels" not in meta and "platforms" not in meta  # the small zip: no detection wheels
    with pytest.raises(SystemExit, match="no wheel for linux-x64"):
        build_addon.main([*args[:-1], "linux-x64", "--wheel-cache", str(tmp_path / "empty")])


INSTALL_AND_DETECT = r"""
import importlib.machinery, json, sys, sysconfig
SITE = sysconfig.get_paths()["purelib"]
BUNDLED = {"mediapipe", "cv2", "matplotlib", "google", "attr", "attrs", "PIL", "kiwisolver", "fontTools", "cycler",
           "pyparsing", "dateutil", "mpl_toolkits"}


class HideTestCopies:
    # The bundled packages' top-level modules are looked up everywhere but this environment's site-packages.
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if "." in name or name not in BUNDLED:
            return None
        return importlib.machinery.PathFinder.find_spec(name, [p for p in sys.path if not p.startswith(SITE)])


sys.meta_path.insert(0, HideTestCopies)
import bpy
zip_path, image = sys.argv[1:3]
bpy.ops.wm.read_factory_settings(use_empty=True)
installed = bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
assert installed == {"FINISHED"}, installed
s = bpy.context.scene.lift_to_3d_detect
s.movie_path = image
outcome = bpy.ops.lfm.detect()
import mediapipe, cv2, matplotlib
tracks = [t.name for t in s.clip.tracking.objects["Lift to 3D"].tracks]
print("RESULT " + json.dumps({"outcome": sorted(outcome), "tracks": tracks, "mediapipe": mediapipe.__file__,
      "cv2": cv2.__file__, "matplotlib": matplotlib.__file__}))
"""


def test_cached_linux_wheels_install_and_detect_in_a_fresh_blender(tmp_path):
    """With the Linux wheels in build/wheels (from one real ``--with-detection`` build; never downloaded here):
    the extension installs its wheels and Detect runs on them, not on this environment's packages."""
    import json
    import os
    import subprocess
    import sys

    pytest.importorskip("bpy")
    data = pytest.importorskip("skimage.data")
    cv2 = pytest.importorskip("cv2")
    try:
        wheels = build_wheels.wheels_for(["linux-x64"], build_wheels.DEFAULT_CACHE, offline=True)
    except LookupError as exc:
        pytest.skip(f"build/wheels lacks the Linux wheels ({exc}); run build_addon.py --with-detection once")
    out = build_addon.build_split_platforms(tmp_path / "dist", {"linux-x64": wheels}, include_weights=False)
    out = out["linux-x64"]
    image = tmp_path / "astronaut.png"
    cv2.imwrite(str(image), data.astronaut()[..., ::-1])
    env = {**os.environ, "BLENDER_USER_RESOURCES": str(tmp_path / "user"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", INSTALL_AND_DETECT, str(out), str(image)], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=500)  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(lines[-1][len("RESULT ") :])
    assert result["outcome"] == ["FINISHED"]
    assert len(result["tracks"]) == 33 + 478 and "nose" in result["tracks"]  # body and face found, no hands
    site = str(tmp_path / "user" / "extensions" / ".local")
    for module in ("mediapipe", "cv2", "matplotlib"):
        assert result[module].startswith(site), result[module]


def test_the_add_on_knows_the_platforms_with_a_detection_zip():
    """The add-on's advice for a missing MediaPipe (blender_addon/extension.py) names the zips build_addon.py makes."""
    from blender_addon import extension

    assert tuple(build_wheels.PLATFORMS) == extension.DETECTION_PLATFORMS
