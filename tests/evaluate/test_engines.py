"""Generation engines: which one auto picks, and the clear error where vLLM cannot run."""

import pytest

from forgetlab.evaluate import resolve_backend


def test_auto_backend_picks_vllm_only_with_a_gpu_and_vllm_installed():
    assert resolve_backend("auto", vllm_installed=True, gpu=True) == "vllm"
    assert resolve_backend("auto", vllm_installed=True, gpu=False) == "hf"
    assert resolve_backend("auto", vllm_installed=False, gpu=True) == "hf"
    assert resolve_backend("hf", vllm_installed=True, gpu=True) == "hf"
    with pytest.raises(ValueError, match="vLLM is not installed"):
        resolve_backend("vllm", vllm_installed=False, gpu=True)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        resolve_backend("vllm", vllm_installed=True, gpu=False)
    with pytest.raises(ValueError, match="backend must be one of"):
        resolve_backend("tgi")


def test_generation_batch_follows_the_device_and_the_model_size():
    from types import SimpleNamespace

    from forgetlab.evaluate.engines import generation_batch_size

    def model(parameters):
        return SimpleNamespace(parameters=lambda: [SimpleNamespace(numel=lambda: parameters)])

    assert generation_batch_size(model(5e8), "cpu") == 64
    assert generation_batch_size(model(5e8), "cuda") == 256  # Qwen2.5-0.5B
    assert generation_batch_size(model(7e9), "cuda") == 64
    assert generation_batch_size(model(7e10), "cuda") == 16
