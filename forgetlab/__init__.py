"""forgetlab: which way of fine-tuning an LLM forgets what, and why."""

__version__ = "0.1.0"
