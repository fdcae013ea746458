"""Token-level likelihoods and KL between two policies, chunked over tokens.

Full-vocabulary log-probabilities are computed ``chunk`` positions at a time from the final hidden states,
so memory grows with chunk x vocab, not with sequence length x vocab: a 49k vocabulary and 512-token
completions stay well inside 2 GB on CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..prompts import plain_prompt, render_prompt
from ..stats import bootstrap_ci
from ..tasks import Task

__all__ = ["SequenceKL", "sequence_kl", "completion_logprob", "policy_kl", "reference_loglik", "encode_prompt"]


def encode_prompt(tokenizer, text: str, chat: bool = True) -> list[int]:
    if chat:
        rendered = tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True)
        return tokenizer(rendered, add_special_tokens=False)["input_ids"]
    return tokenizer(plain_prompt(text))["input_ids"]


def _final_hidden(model, ids: torch.Tensor) -> torch.Tensor:
    """Last-layer hidden states [T, H] (after the final norm), without materialising T x vocab logits."""
    return model.base_model(input_ids=ids.unsqueeze(0)).last_hidden_state[0]


def _log_softmax_chunks(model, hidden: torch.Tensor, positions: torch.Tensor, chunk: int):
    """Yield (positions slice, log-probs [c, V]) for the next-token distributions at ``positions``."""
    head = model.get_output_embeddings()
    for start in range(0, len(positions), chunk):
        part = positions[start : start + chunk]
        yield part, torch.log_softmax(head(hidden[part]).float(), dim=-1)


@dataclass(frozen=True)
class SequenceKL:
    exact: float  # sum over completion tokens of KL(p || q) over the full vocabulary
    log_ratio: float  # sum over completion tokens of log p(y_t) - log q(y_t): the sampled estimate
    tokens: int


@torch.inference_mode()
def sequence_kl(p_model, q_model, ids: torch.Tensor, start: int, chunk: int = 64) -> SequenceKL:
    """KL(p || q) along one sequence ``ids`` whose completion begins at index ``start`` (sampled from p)."""
    positions = torch.arange(start - 1, len(ids) - 1)  # the distribution at t-1 predicts token t
    if len(positions) == 0:
        return SequenceKL(0.0, 0.0, 0)
    p_hidden, q_hidden = _final_hidden(p_model, ids), _final_hidden(q_model, ids)
    exact = log_ratio = 0.0
    chunks = zip(_log_softmax_chunks(p_model, p_hidden, positions, chunk), _log_softmax_chunks(q_model, q_hidden, positions, chunk))
    for (part, log_p), (_, log_q) in chunks:
        exact += float((log_p.exp() * (log_p - log_q)).sum())
        targets = ids[part + 1].unsqueeze(1)
        log_ratio += float((log_p.gather(1, targets) - log_q.gather(1, targets)).sum())
    return SequenceKL(exact, log_ratio, len(positions))


@torch.inference_mode()
def completion_logprob(model, ids: torch.Tensor, start: int, chunk: int = 64) -> float:
    """log p(ids[start:] | ids[:start]) under ``model``."""
    positions = torch.arange(start - 1, len(ids) - 1)
    hidden = _final_hidden(model, ids)
    total = 0.0
    for part, log_p in _log_softmax_chunks(model, hidden, positions, chunk):
        total += float(log_p.gather(1, ids[part + 1].unsqueeze(1)).sum())
    return total


def _summary(values: list[float], name: str) -> dict:
    low, high = bootstrap_ci(values)
    return {name: sum(values) / len(values), f"{name}_ci": [low, high]}


def policy_kl(
    sample_model,
    other_model,
    tokenizer,
    task: Task,
    records: list[dict],
    max_new_tokens: int = 64,
    seed: int = 0,
    chunk: int = 64,
    style: str | None = None,
    chat: bool = True,
) -> dict:
    """E_x KL(pi_sample(.|x) || pi_other(.|x)) in nats per sequence, over completions sampled from
    ``sample_model`` at temperature 1 (no top-k/top-p): forward KL to the base when the base samples."""
    if not records:
        raise ValueError(f"no records for task {task.name!r}")
    torch.manual_seed(seed)
    exact, ratio, tokens = [], [], 0
    for record in records:
        prompt = torch.tensor(encode_prompt(tokenizer, render_prompt(task, record, style or task.format), chat))
        with torch.inference_mode():
            ids = sample_model.generate(
                prompt.unsqueeze(0), attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                max_new_tokens=max_new_tokens, do_sample=True, temperature=1.0, top_k=0, top_p=1.0,
                pad_token_id=tokenizer.pad_token_id,
            )[0]  # fmt: skip
        kl = sequence_kl(sample_model, other_model, ids, len(prompt), chunk)
        exact.append(kl.exact)
        ratio.append(kl.log_ratio)
        tokens += kl.tokens
    return {
        "task": task.name,
        "n": len(records),
        "tokens": tokens,
        **_summary(exact, "kl_mean"),
        **_summary(ratio, "log_ratio_mean"),
        "kl_per_token": sum(exact) / max(tokens, 1),
    }


def reference_loglik(model, tokenizer, task: Task, records: list[dict], style: str | None = None, chat: bool = True, chunk: int = 64) -> dict:
    """Mean log-likelihood of each record's reference completion (per sequence and per token)."""
    style = style or task.format
    per_sequence, per_token = [], []
    for record in records:
        prompt = encode_prompt(tokenizer, render_prompt(task, record, style), chat)
        answer = tokenizer(task.reference(record, "think" if style == "oneshot" else style), add_special_tokens=False)["input_ids"]
        ids = torch.tensor(prompt + answer)
        value = completion_logprob(model, ids, len(prompt), chunk)
        per_sequence.append(value)
        per_token.append(value / max(len(answer), 1))
    return {"n": len(records), **_summary(per_sequence, "ref_loglik"), **_summary(per_token, "ref_loglik_per_token")}
