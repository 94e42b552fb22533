"""Weights files: round trip, compatibility with the reference safetensors package, clear errors."""

import json
import struct

import numpy as np
import pytest
import safetensors.numpy

from lfm_engine.config import ModelConfig
from lfm_engine.errors import WeightsError
from lfm_engine.weights import load_weights, read_safetensors, save_weights, write_safetensors


def test_round_trip(weights_file, small_config, random_model):
    w = load_weights(weights_file)
    assert w.config == small_config
    assert json.loads(w.metadata["training"]) == {"note": "random test weights"}
    for name, tensor in random_model.state_dict().items():
        np.testing.assert_array_equal(w.tensors[name], tensor.numpy())
    np.testing.assert_array_equal(w.tensors["tpe.frequencies"], small_config.fourier_frequencies())


def test_reference_package_reads_ours_and_we_read_theirs(tmp_path, weights_file):
    theirs = safetensors.numpy.load_file(str(weights_file))
    ours, meta = read_safetensors(weights_file)
    assert set(theirs) == set(ours)
    for k in ours:
        np.testing.assert_array_equal(theirs[k], ours[k])
    path = tmp_path / "ref.safetensors"
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(4, dtype=np.float16)}
    safetensors.numpy.save_file(arrays, str(path), metadata={"k": "v"})
    back, meta = read_safetensors(path)
    assert meta == {"k": "v"}
    np.testing.assert_array_equal(back["a"], arrays["a"])
    np.testing.assert_array_equal(back["b"], arrays["b"])


def test_missing_default_weights_says_how_to_get_them(monkeypatch, tmp_path):
    import lfm_engine.weights as weights

    monkeypatch.setattr(weights, "DEFAULT_WEIGHTS", tmp_path / "nothing.safetensors")
    with pytest.raises(WeightsError, match=r"no weights file at .*make train"):
        load_weights()


def test_missing_file(tmp_path):
    with pytest.raises(WeightsError, match=r"not found.*nope\.safetensors"):
        load_weights(tmp_path / "nope.safetensors")


def _tamper(tmp_path, weights_file, *, tensors=None, metadata=None):
    t, m = read_safetensors(weights_file)
    t = tensors(t) if tensors else t
    m = metadata(m) if metadata else m
    path = tmp_path / "tampered.safetensors"
    write_safetensors(path, t, m)
    return path


def test_truncated_and_garbage_files(tmp_path, weights_file):
    data = weights_file.read_bytes()
    cases = {
        "short.safetensors": data[:5],
        "truncated.safetensors": data[: len(data) // 2],
        "garbage.safetensors": struct.pack("<Q", 20) + b"{not json at all....",
        "huge_header.safetensors": struct.pack("<Q", 10**12) + b"{}",
    }
    for name, blob in cases.items():
        path = tmp_path / name
        path.write_bytes(blob)
        with pytest.raises(WeightsError, match=name):
            load_weights(path)


@pytest.mark.parametrize(
    "change,message",
    [
        (dict(metadata=lambda m: {**m, "format": "other"}), "not an lfm_engine weights file"),
        (dict(metadata=lambda m: {**m, "format_version": "99"}), "format version '99'"),
        (dict(metadata=lambda m: {k: v for k, v in m.items() if k != "config"}), "no model config"),
        (dict(metadata=lambda m: {**m, "config": "{broken"}), "not valid JSON"),
        (
            dict(metadata=lambda m: {**m, "config": json.dumps({"d_model": 32, "colour": 1})}),
            "unknown model config",
        ),
        (
            dict(tensors=lambda t: {k: v for k, v in t.items() if k != "mask_token"}),
            "missing tensors.*mask_token",
        ),
        (dict(tensors=lambda t: {**t, "extra.weight": np.ones(3, np.float32)}), "unexpected tensors.*extra"),
        (dict(tensors=lambda t: {**t, "mask_token": np.ones(5, np.float32)}), "'mask_token' has shape"),
        (dict(tensors=lambda t: {**t, "norm.bias": t["norm.bias"] * np.nan}), "'norm.bias' holds NaN"),
    ],
)
def test_invalid_contents_are_named(tmp_path, weights_file, change, message):
    with pytest.raises(WeightsError, match=message):
        load_weights(_tamper(tmp_path, weights_file, **change))


def test_save_refuses_tensors_that_do_not_match_the_config(tmp_path, random_model):
    with pytest.raises(WeightsError, match="missing tensors"):
        save_weights(tmp_path / "x.safetensors", ModelConfig(), random_model.state_dict())
