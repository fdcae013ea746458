"""Turn checkpoints into numbers: generation accuracy, reference log-likelihood, KL to the base model."""

from .engines import HFEngine, VLLMEngine, open_engine, resolve_backend
from .generation import evaluate_records, generate
from .likelihood import policy_kl, reference_loglik

__all__ = [
    "HFEngine", "VLLMEngine", "evaluate_records", "generate", "open_engine", "policy_kl", "reference_loglik",
    "resolve_backend",
]  # fmt: skip
