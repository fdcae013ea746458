"""Turn checkpoints into numbers: generation accuracy, reference log-likelihood, KL to the base model.

The names below load on first use, so reading the evaluation config (forgetlab.evaluate.config) imports no torch.
"""

import importlib

_EXPORTS = {
    "HFEngine": "engines", "VLLMEngine": "engines", "open_engine": "engines", "resolve_backend": "engines",
    "evaluate_records": "generation", "generate": "generation", "policy_kl": "likelihood",
    "reference_loglik": "likelihood",
}  # fmt: skip
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
