"""Turn checkpoints into numbers: generation accuracy per task."""

from .generation import evaluate_records, generate

__all__ = ["evaluate_records", "generate"]
