"""Turn checkpoints into numbers: generation accuracy, reference log-likelihood, KL to the base model.

The names below load on first use, so reading the evaluation config (forgetlab.evaluate.config) imports no torch.
"""

from ..lazy import lazy_exports

_EXPORTS = {
    "HFEngine": "engines", "VLLMEngine": "engines", "open_engine": "engines", "resolve_backend": "engines",
    "evaluate_records": "generation", "generate": "generation", "policy_kl": "likelihood",
    "reference_loglik": "likelihood",
}  # fmt: skip
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports(__name__, _EXPORTS)
