"""Token-level likelihoods and KL between two policies, chunked over tokens.

Full-vocabulary log-probabilities are computed ``chunk`` positions at a time from the final hidden states,
so memory grows with chunk x vocab, not with sequence length x vocab: a 49k vocabulary and 512-token
completions stay well inside 2 GB on CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..progress import progress_of
from ..prompts import reference_completion, render_prompt
from ..stats import bootstrap_ci
from ..tasks import Task
from .config import EvaluateConfig, KLConfig
from .generation import prompt_text
from .prefix import final_hidden as _final_hidden
from .prefix import generate_ids, right_padded

__all__ = [
    "PolicySamples", "SequenceKL", "completion_logprob", "encode_prompt", "loglik_summary", "policy_kl",
    "reference_loglik", "reference_logliks", "right_padded", "sample_policy", "samples_kl", "sequence_kl",
]  # fmt: skip


def encode_prompt(
    tokenizer,
    text: str | list[dict],
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
) -> list[int]:
    """Token ids of the prompt exactly as ``generate`` feeds it (special tokens only for plain prompts)."""
    return tokenizer(prompt_text(tokenizer, text, chat, system_prompt), add_special_tokens=not chat)["input_ids"]


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
    return _sequence_kl(
        p_model, q_model, _final_hidden(p_model, [ids])[0], _final_hidden(q_model, [ids])[0], ids, start, chunk
    )


def _sequence_kl(p_model, q_model, p_hidden, q_hidden, ids, start: int, chunk: int) -> SequenceKL:
    """As ``sequence_kl``, from both models' final hidden states along the whole sequence."""
    scored = slice(start - 1, len(ids) - 1)  # the distribution at t-1 predicts token t
    return _scored_kl(p_model, q_model, p_hidden[scored], q_hidden[scored], ids[start:], chunk)


def _scored_kl(p_model, q_model, p_states, q_states, targets: torch.Tensor, chunk: int) -> SequenceKL:
    """KL(p || q) over the completion ``targets`` from both models' states at the positions predicting them."""
    targets = targets.to(p_states.device)
    positions = torch.arange(len(targets), device=targets.device)
    if len(positions) == 0:
        return SequenceKL(0.0, 0.0, 0)
    exact = log_ratio = 0.0
    chunks = zip(
        _log_softmax_chunks(p_model, p_states, positions, chunk),
        _log_softmax_chunks(q_model, q_states.to(p_states.device), positions, chunk),
    )
    for (part, log_p), (_, log_q) in chunks:
        exact += float((log_p.exp() * (log_p - log_q)).sum())
        picked = targets[part].unsqueeze(1)
        log_ratio += float((log_p.gather(1, picked) - log_q.gather(1, picked)).sum())
    return SequenceKL(exact, log_ratio, len(positions))


@torch.inference_mode()
def completion_logprob(model, ids: torch.Tensor, start: int, chunk: int = 64) -> float:
    """log p(ids[start:] | ids[:start]) under ``model``."""
    return _completion_logprob(model, _final_hidden(model, [ids])[0], ids, start, chunk)


def _completion_logprob(model, hidden, ids: torch.Tensor, start: int, chunk: int) -> float:
    ids = ids.to(hidden.device)
    positions = torch.arange(start - 1, len(ids) - 1, device=ids.device)
    total = 0.0
    for part, log_p in _log_softmax_chunks(model, hidden, positions, chunk):
        total += float(log_p.gather(1, ids[part + 1].unsqueeze(1)).sum())
    return total


def _summary(values: list[float], name: str) -> dict:
    low, high = bootstrap_ci(values)
    return {name: sum(values) / len(values), f"{name}_ci": [low, high]}


@dataclass
class PolicySamples:
    """Completions sampled from one policy with its final hidden states at the positions that predict them: all a
    KL measurement needs of the sampling policy besides its output head, so it is sampled and run once per task
    and read by every checkpoint's measurement (forward KL: the base samples)."""

    task: str
    sequences: list[torch.Tensor]  # prompt + completion token ids
    starts: list[int]  # where each completion begins
    states: list[torch.Tensor]  # [completion tokens, hidden]: the sampler's states predicting each token

    def save(self, path) -> None:
        torch.save({"task": self.task, "sequences": self.sequences, "starts": self.starts, "states": self.states}, path)

    @classmethod
    def load(cls, path) -> PolicySamples:
        return cls(**torch.load(path, weights_only=True))  # tensors, numbers and strings only: nothing executed


def sample_policy(
    model,
    tokenizer,
    task: Task,
    records: list[dict],
    max_new_tokens: int = KLConfig.max_new_tokens,
    seed: int = KLConfig.seed,
    style: str | None = None,
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
    oneshot_example: str = EvaluateConfig.oneshot_example,
    batch_size: int = 8,
    progress: bool = False,
    source: str = KLConfig.source,
) -> PolicySamples:
    """One completion per record's prompt sampled from ``model`` at temperature 1 (no top-k/top-p), seeded, with
    the model's states along it; with ``source`` 'reference', the record's reference completion (at most
    ``max_new_tokens`` of it) instead of a sample. ``progress``: a line on stderr per batch sampled."""
    if not records:
        raise ValueError(f"no records for task {task.name!r}")
    prompts = [
        encode_prompt(
            tokenizer, render_prompt(task, record, style or task.format, oneshot_example), chat, system_prompt
        )
        for record in records
    ]
    if source == "reference":
        texts = [reference_completion(task, record, style or task.format) for record in records]
        ends = [_tokens(tokenizer, text)[:max_new_tokens] for text in texts]
        sequences = [torch.tensor(prompt + end) for prompt, end in zip(prompts, ends)]
    else:
        torch.manual_seed(seed)
        sequences = []
        tracker = progress_of(progress, f"sample {task.name}", len(prompts))
        for start in range(0, len(prompts), batch_size):
            sequences += _sample(model, tokenizer, prompts[start : start + batch_size], max_new_tokens)
            if tracker is not None:
                tracker.advance(len(sequences) - tracker.done)
    with torch.inference_mode():
        hidden = _final_hidden(model, sequences, batch_size)
    starts = [len(prompt) for prompt in prompts]
    states = [h[start - 1 : len(ids) - 1].cpu().clone() for h, ids, start in zip(hidden, sequences, starts)]
    return PolicySamples(task.name, [ids.cpu() for ids in sequences], starts, states)


@torch.inference_mode()
def samples_kl(
    samples: PolicySamples, sample_model, other_model, chunk: int = 64, batch_size: int = 8, progress: bool = False
) -> dict:
    """E_x KL(pi_sample(.|x) || pi_other(.|x)) in nats per sequence over ``samples`` of the sampling policy, whose
    output head ``sample_model`` provides. ``progress``: a line on stderr per batch scored."""
    tracker = progress_of(progress, f"kl {samples.task}", len(samples.sequences))
    other = _final_hidden(other_model, samples.sequences, batch_size, tracker)
    results = [
        _scored_kl(sample_model, other_model, p, q[start - 1 : len(ids) - 1], ids[start:], chunk)
        for p, q, ids, start in zip(samples.states, other, samples.sequences, samples.starts)
    ]
    exact, ratio = [r.exact for r in results], [r.log_ratio for r in results]
    tokens = sum(r.tokens for r in results)
    return {
        "task": samples.task,
        "n": len(results),
        "tokens": tokens,
        **_summary(exact, "kl_mean"),
        **_summary(ratio, "log_ratio_mean"),
        "kl_per_token": sum(exact) / max(tokens, 1),
    }


def policy_kl(
    sample_model,
    other_model,
    tokenizer,
    task: Task,
    records: list[dict],
    max_new_tokens: int = KLConfig.max_new_tokens,
    seed: int = KLConfig.seed,
    chunk: int = 64,
    style: str | None = None,
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
    oneshot_example: str = EvaluateConfig.oneshot_example,
    batch_size: int = 8,
    progress: bool = False,
    source: str = KLConfig.source,
) -> dict:
    """E_x KL(pi_sample(.|x) || pi_other(.|x)) in nats per sequence, over completions sampled from
    ``sample_model`` at temperature 1 (no top-k/top-p), or along the reference completions (``source``): forward KL
    to the base when the base samples. ``progress``: lines on stderr as batches are sampled and scored."""
    samples = sample_policy(
        sample_model, tokenizer, task, records, max_new_tokens, seed, style, chat, system_prompt, oneshot_example,
        batch_size, progress, source,
    )  # fmt: skip
    return samples_kl(samples, sample_model, other_model, chunk, batch_size, progress)


@torch.inference_mode()
def _sample(model, tokenizer, prompts: list[list[int]], max_new_tokens: int) -> list[torch.Tensor]:
    """Prompt + one completion sampled at temperature 1, per prompt, ending at the first EOS (batched
    generation; anything after EOS is cut off)."""
    completions = generate_ids(model, prompts, tokenizer.pad_token_id, max_new_tokens, temperature=1.0)
    stops = {tokenizer.eos_token_id}
    sequences = []
    for prompt, completion in zip(prompts, completions):
        cut = next((i + 1 for i, token in enumerate(completion) if token in stops), len(completion))
        sequences.append(torch.tensor(prompt + completion[:cut]))
    return sequences


@torch.inference_mode()
def reference_logliks(
    model,
    tokenizer,
    task: Task,
    records: list[dict],
    style: str | None = None,
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
    oneshot_example: str = EvaluateConfig.oneshot_example,
    chunk: int = 64,
    progress: bool = False,
) -> list[tuple[float, int]]:
    """(log-likelihood, answer tokens) of each record's reference answer given the prompt.

    Only the answer content is scored: the reference completion up to its last occurrence of the answer
    (tags, worked reasoning) is conditioning context. ``progress``: a line on stderr per batch.
    """
    style = style or task.format
    contexts, answers = [], []
    for record in records:
        reference = task.reference(record, style)
        answer = task.answer_text(record)
        cut = reference.rfind(answer)
        prefix = reference[:cut] if cut >= 0 else reference + " "
        prompt = encode_prompt(tokenizer, render_prompt(task, record, style, oneshot_example), chat, system_prompt)
        contexts.append(prompt + _tokens(tokenizer, prefix))
        answers.append(_tokens(tokenizer, answer))
    sequences = [torch.tensor(context + answer) for context, answer in zip(contexts, answers)]
    hidden = _final_hidden(model, sequences, progress=progress_of(progress, f"loglik {task.name}", len(sequences)))
    return [
        (_completion_logprob(model, h, ids, len(context), chunk), len(answer))
        for h, ids, context, answer in zip(hidden, sequences, contexts, answers)
    ]


def loglik_summary(values: list[tuple[float, int]]) -> dict:
    """Mean log-likelihood per answer and per answer token, with bootstrap intervals."""
    return {
        **_summary([value for value, _ in values], "ref_loglik"),
        **_summary([value / max(tokens, 1) for value, tokens in values], "ref_loglik_per_token"),
    }


def reference_loglik(
    model,
    tokenizer,
    task: Task,
    records: list[dict],
    style: str | None = None,
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
    oneshot_example: str = EvaluateConfig.oneshot_example,
    chunk: int = 64,
) -> dict:
    """Mean log-likelihood of the records' reference answers (see ``reference_logliks``)."""
    logliks = reference_logliks(model, tokenizer, task, records, style, chat, system_prompt, oneshot_example, chunk)
    return {"n": len(records), **loglik_summary(logliks)}


def _tokens(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"] if text else []
