"""Fixtures for the engine tests: small random-weight models saved to disk."""

import numpy as np
import pytest

from lfm_engine.config import ModelConfig


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="session")
def small_config():
    return ModelConfig(d_model=32, n_layers=2, n_heads=4, mlp_ratio=2, fourier_features=16)


@pytest.fixture(scope="session")
def random_model(small_config):
    torch = pytest.importorskip("torch")
    from lfm_engine.model import LFMModel

    torch.manual_seed(0)
    model = LFMModel(small_config).eval()
    # Larger weights than the init so that outputs vary clearly with the inputs.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return model


@pytest.fixture(scope="session")
def weights_file(tmp_path_factory, small_config, random_model):
    from lfm_engine.weights import save_weights

    path = tmp_path_factory.mktemp("weights") / "random.safetensors"
    save_weights(path, small_config, random_model.state_dict(), training={"note": "random test weights"})
    return path
