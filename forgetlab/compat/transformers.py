"""transformers internals, written against transformers 5.23-5.25 (pyproject bounds it below 5.26)."""

from __future__ import annotations

import inspect

__all__ = ["cache_argument", "strip_gguf_quantizer"]


def cache_argument(model) -> str:
    """The keyword a model's forward takes its key-value cache by: 'cache' from transformers 5 on,
    'past_key_values' before."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def strip_gguf_quantizer(model) -> None:
    """GGUF weights load as plain fp32 but keep a quantizer marker (``model.hf_quantizer``, ``model.is_quantized``,
    ``config.quantization_config``) that blocks saving and training; should it move, saving fails naming it."""
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
