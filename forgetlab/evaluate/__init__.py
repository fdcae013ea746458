"""Turn checkpoints into numbers: generation accuracy, reference log-likelihood, KL to the base model."""

from .generation import evaluate_records, generate
from .likelihood import policy_kl, reference_loglik

__all__ = ["evaluate_records", "generate", "policy_kl", "reference_loglik"]
