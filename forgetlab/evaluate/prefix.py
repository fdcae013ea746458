"""A prompt prefix every sequence of a batch shares (the chat template's system turn, a task's fixed opening)
run through the model once per batch instead of once per sequence.

Its key-value cache is computed on one row and repeated over the batch. Generation pads *between* the prefix
and each prompt's own tokens (the attention mask hides the gap and position ids skip it), so the cached prefix
sits at the same positions in every row; a likelihood pass pads on the right as before. On SmolLM2's template
the shared part is ~27 of countdown's ~78 prompt tokens and ~27 of arithmetic's ~45.
"""

from __future__ import annotations

import torch

from ..compat.transformers import cache_argument

__all__ = [
    "MIN_SHARED", "check_context", "final_hidden", "generate_ids", "prefix_pass", "right_padded", "shared_prefix",
]  # fmt: skip

# below this many shared tokens the extra forward call costs more than it saves
MIN_SHARED = 8


def shared_prefix(sequences: list, min_tokens: int = MIN_SHARED) -> int:
    """Length of the token prefix all ``sequences`` share, leaving every sequence at least one token of its own
    (generation and scoring need a position past the cache); 0 when fewer than ``min_tokens`` or one sequence."""
    if len(sequences) < 2:
        return 0
    rows = [list(sequence) for sequence in sequences]
    limit = min(len(row) for row in rows) - 1
    length = 0
    while length < limit and all(row[length] == rows[0][length] for row in rows[1:]):
        length += 1
    return length if length >= min_tokens else 0


def right_padded(batch: list) -> tuple[torch.Tensor, torch.Tensor]:
    """(input ids, attention mask) of token sequences (lists or tensors) padded on the right to the longest."""
    width = max(len(sequence) for sequence in batch)
    ids = torch.zeros(len(batch), width, dtype=torch.long)
    mask = torch.zeros(len(batch), width, dtype=torch.long)
    for row, sequence in enumerate(batch):
        ids[row, : len(sequence)], mask[row, : len(sequence)] = torch.as_tensor(sequence), 1
    return ids, mask


def prefix_pass(model, prefix, rows: int, **asked):
    """(``model``'s output over ``prefix`` on one row, with what ``asked`` asks of it; the keyword and the prefix's
    key-value cache repeated over ``rows``, to pass on to the rest of the batch)."""
    key = cache_argument(model)
    output = model(input_ids=torch.as_tensor([list(prefix)], device=model.device), use_cache=True, **asked)
    cache = getattr(output, key)
    cache.batch_repeat_interleave(rows)
    return output, {key: cache}


def _unique(prompts: list[list[int]]) -> tuple[list[list[int]], list[int]]:
    """The distinct prompts in first-seen order, and each prompt's index among them."""
    index: dict[tuple, int] = {}
    rows = [index.setdefault(tuple(prompt), len(index)) for prompt in prompts]
    return [list(prompt) for prompt in index], rows


def _pick(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """The next token of each row: the argmax, or a draw from softmax(logits / temperature) as HF samples."""
    if temperature <= 0:
        return logits.argmax(-1)
    return torch.multinomial(torch.softmax(logits.float() / temperature, dim=-1), 1).squeeze(1)


def check_context(model, prompt_tokens: int, new_tokens: int, option: str = "max_new_tokens") -> None:
    """ValueError, naming ``option`` and the bound, when a prompt of ``prompt_tokens`` and ``new_tokens`` more do
    not fit the model's context (its config's max_position_embeddings)."""
    limit = getattr(model.config, "max_position_embeddings", None)
    if not limit or prompt_tokens + new_tokens <= limit:
        return
    context = f"the model's context of {limit} tokens (max_position_embeddings)"
    if prompt_tokens >= limit:
        raise ValueError(f"the longest prompt, {prompt_tokens} tokens, fills {context}: no token can be generated")
    raise ValueError(
        f"{option} {new_tokens} does not fit {context}: after the longest prompt's {prompt_tokens} tokens at most "
        f"{limit - prompt_tokens} are left"
    )


@torch.inference_mode()
def generate_ids(
    model,
    prompts: list[list[int]],
    pad_id: int,
    max_new_tokens: int,
    temperature: float = 0.0,
    eos_ids=None,
    option: str = "max_new_tokens",
) -> list[list[int]]:
    """The new tokens of each prompt (token ids, up to and including the first EOS), greedy or sampled at
    ``temperature`` without top-k/top-p truncation.

    A decode loop of its own rather than ``model.generate``: a prefix the prompts share runs once; identical
    prompts (a GRPO group) are prefilled once and their cache repeated; the rest of each prompt is padded between
    the prefix and its own tokens; and a row that has ended leaves the batch, so the remaining steps run only the
    rows still generating. ``eos_ids``: the model's generation config's when None. A ``max_new_tokens`` beyond the
    model's context is refused first, naming ``option`` (the setting it came from).
    """
    check_context(model, max(len(prompt) for prompt in prompts), max_new_tokens, option)
    if eos_ids is None:
        eos_ids = model.generation_config.eos_token_id
    eos = torch.tensor([eos_ids] if isinstance(eos_ids, int) else list(eos_ids), device=model.device)
    unique, rows = _unique(prompts)
    shared = shared_prefix(unique)
    width = max(len(prompt) for prompt in unique)
    ids = torch.full((len(unique), width), pad_id, dtype=torch.long)
    mask = torch.zeros(len(unique), width, dtype=torch.long)
    mask[:, :shared] = 1  # the prefix itself runs from its own cache (prefix_pass)
    for row, prompt in enumerate(unique):
        own = prompt[shared:]
        ids[row, width - len(own) :], mask[row, width - len(own) :] = torch.tensor(own), 1
    ids, mask = ids.to(model.device), mask.to(model.device)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    key, cached = cache_argument(model), {}
    if shared:  # the prefix on one row, its cache repeated over the distinct prompts
        _, cached = prefix_pass(model, unique[0][:shared], len(unique), logits_to_keep=1)
    output = model(
        input_ids=ids[:, shared:], attention_mask=mask, position_ids=positions[:, shared:], use_cache=True,
        logits_to_keep=1, **cached,
    )  # fmt: skip
    cache, logits = getattr(output, key), output.logits[:, -1]
    alive = torch.tensor(rows, device=model.device)  # the prompts' rows among the distinct ones, then the survivors
    cache.batch_select_indices(alive)
    logits, mask, position = logits[alive], mask[alive], positions[alive, -1]
    alive = torch.arange(len(prompts), device=model.device)  # which prompt each remaining row generates for
    new_tokens: list[list[int]] = [[] for _ in prompts]
    for step in range(max_new_tokens):
        tokens = _pick(logits, temperature)
        for row, token in zip(alive.tolist(), tokens.tolist()):
            new_tokens[row].append(token)
        going = ~torch.isin(tokens, eos)
        if step == max_new_tokens - 1 or not going.any():
            break
        if not going.all():
            keep = going.nonzero().squeeze(1)
            cache.batch_select_indices(keep)
            alive, tokens, mask, position = alive[keep], tokens[keep], mask[keep], position[keep]
        mask = torch.cat([mask, mask.new_ones(len(alive), 1)], dim=1)
        position = position + 1
        output = model(
            input_ids=tokens[:, None], attention_mask=mask, position_ids=position[:, None], use_cache=True,
            **{key: cache},
        )  # fmt: skip
        logits = output.logits[:, -1]
    return new_tokens


@torch.inference_mode()
def final_hidden(model, sequences: list[torch.Tensor], batch_size: int = 8, progress=None) -> list[torch.Tensor]:
    """Last-layer hidden states [T_i, H] per sequence (after the final norm), in right-padded batches, a shared
    prefix run once per batch; no length x vocab logits are materialised. ``progress`` (forgetlab.progress.Progress)
    advances after each batch."""
    hidden = []
    for start in range(0, len(sequences), batch_size):
        batch = [torch.as_tensor(sequence) for sequence in sequences[start : start + batch_size]]
        shared = shared_prefix([sequence.tolist() for sequence in batch])
        ids, own_mask = right_padded([sequence[shared:] for sequence in batch])
        mask = torch.cat([torch.ones(len(batch), shared, dtype=torch.long), own_mask], dim=1)  # cached prefix first
        cached = {}
        if shared:
            prefix, cached = prefix_pass(model.base_model, batch[0][:shared].tolist(), len(batch))
            prefix_states = prefix.last_hidden_state[0]
        states = model.base_model(
            input_ids=ids.to(model.device), attention_mask=mask.to(model.device), **cached
        ).last_hidden_state
        for row, sequence in enumerate(batch):
            own = states[row, : len(sequence) - shared]
            hidden.append(torch.cat([prefix_states, own]) if shared else own)
        if progress is not None:
            progress.advance(len(batch))
    return hidden
