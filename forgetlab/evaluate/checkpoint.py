"""One checkpoint scored as the workflow scores it: the same calls serve the rules and ``forgetlab eval`` / ``kl``."""

from __future__ import annotations

import os

from ..models import load_model, load_tokenizer, resolve_device
from ..tasks import Task
from .config import EvaluateConfig, KLConfig
from .engines import HFEngine, open_engine
from .generation import evaluate_records
from .likelihood import PolicySamples, loglik_summary, policy_kl, reference_logliks, sample_policy, samples_kl

__all__ = ["checkpoint_kl", "evaluate_checkpoint", "policy_samples"]


def evaluate_checkpoint(
    model_dir: str | os.PathLike,
    task: Task,
    records: list[dict],
    *,
    max_new_tokens: int = EvaluateConfig.max_new_tokens,
    batch_size: int | None = EvaluateConfig.batch_size,
    style: str | None = EvaluateConfig.format,
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
    oneshot_example: str = EvaluateConfig.oneshot_example,
    samples: int = EvaluateConfig.samples,
    temperature: float = EvaluateConfig.temperature,
    loglik_format: str | None = EvaluateConfig.loglik_format,
    backend: str = EvaluateConfig.backend,
    device: str = "auto",
) -> tuple[dict, list[dict]]:
    """(metrics, one row per completion): generation accuracy with intervals (mean@k and pass@k when sampled),
    in prompt format ``style`` (default: the task's), and the reference answers' log-likelihood in
    ``loglik_format`` (None: ``style``). Each row carries its item's log-likelihoods, for paired intervals."""
    device = resolve_device(device)
    tokenizer = load_tokenizer(model_dir)
    engine = open_engine(backend, model_dir, tokenizer, batch_size, device=device)
    metrics, rows = evaluate_records(
        engine, tokenizer, task, records, max_new_tokens, style, chat, system_prompt, oneshot_example, samples=samples,
        temperature=temperature, progress=True,
    )  # fmt: skip
    engine.close()
    # Reference log-likelihood moves long before accuracy does: cheap, and always through HF (exact log-probs).
    model = engine.model if isinstance(engine, HFEngine) else load_model(model_dir, device)
    logliks = reference_logliks(
        model, tokenizer, task, records, loglik_format or style, chat, system_prompt, oneshot_example, progress=True
    )
    metrics.update(loglik_summary(logliks))
    for index, row in enumerate(rows):  # rows come in record order, ``samples`` per record
        value, tokens = logliks[index // samples]
        row.update(ref_loglik=value, ref_loglik_per_token=value / max(tokens, 1))
    metrics["loglik_format"] = loglik_format or style or task.format
    return {**metrics, "backend": engine.name, "device": device}, rows


def policy_samples(
    model_dir: str | os.PathLike,
    task: Task,
    records: list[dict],
    *,
    max_new_tokens: int = KLConfig.max_new_tokens,
    seed: int = KLConfig.seed,
    style: str | None = EvaluateConfig.format,
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
    oneshot_example: str = EvaluateConfig.oneshot_example,
    source: str = KLConfig.source,
    device: str = "auto",
) -> PolicySamples:
    """Completions of ``records``' prompts sampled from the model in ``model_dir``, with its states along them: what
    ``checkpoint_kl`` needs of the base for the forward KL of every checkpoint, sampled once."""
    device = resolve_device(device)
    return sample_policy(
        load_model(model_dir, device), load_tokenizer(model_dir), task, records, max_new_tokens=max_new_tokens,
        seed=seed, style=style, chat=chat, system_prompt=system_prompt, oneshot_example=oneshot_example,
        progress=True, source=source,
    )  # fmt: skip


def checkpoint_kl(
    base_dir: str | os.PathLike,
    model_dir: str | os.PathLike,
    task: Task,
    records: list[dict],
    *,
    max_new_tokens: int = KLConfig.max_new_tokens,
    seed: int = KLConfig.seed,
    style: str | None = EvaluateConfig.format,
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
    oneshot_example: str = EvaluateConfig.oneshot_example,
    reverse: bool = False,
    source: str = KLConfig.source,
    device: str = "auto",
    samples: PolicySamples | None = None,
) -> dict:
    """KL(base || checkpoint) on ``records``' prompts over completions sampled from the base (forward KL), or
    KL(checkpoint || base) sampling from the checkpoint when ``reverse`` (its measures then named reverse_kl_mean,
    ..., so tables keep the two apart); nats per sequence with intervals. Forward KL reads the base's ``samples``
    (``policy_samples``) when given instead of sampling them again."""
    device = resolve_device(device)
    base, model = load_model(base_dir, device), load_model(model_dir, device)
    if samples is not None and not reverse:
        metrics = samples_kl(samples, base, model, progress=True)
    else:
        sampler, other = (model, base) if reverse else (base, model)
        metrics = policy_kl(
            sampler, other, load_tokenizer(base_dir), task, records, max_new_tokens=max_new_tokens, seed=seed,
            style=style, chat=chat, system_prompt=system_prompt, oneshot_example=oneshot_example, progress=True,
            source=source,
        )  # fmt: skip
    if reverse:
        metrics = {f"reverse_{k}" if k.startswith(("kl_", "log_ratio_")) else k: v for k, v in metrics.items()}
    return {**metrics, "direction": "reverse" if reverse else "forward", "device": device}
