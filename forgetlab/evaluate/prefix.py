"""A prompt prefix every sequence of a batch shares (the chat template's system turn, a task's fixed opening)
run through the model once per batch instead of once per sequence.

Its key-value cache is computed on one row and repeated over the batch. Generation pads *between* the prefix
and each prompt's own tokens (the attention mask hides the gap and position ids skip it), so the cached prefix
sits at the same positions in every row; a likelihood pass pads on the right as before. On SmolLM2's template
the shared part is ~27 of countdown's ~78 prompt tokens and ~27 of arithmetic's ~45.
"""

from __future__ import annotations

import inspect

import torch

__all__ = ["MIN_SHARED", "final_hidden", "generate_ids", "right_padded", "shared_prefix"]

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


def _cache_argument(model) -> str:
    """The keyword a model's forward takes its key-value cache by ('cache' from transformers 5 on)."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _prefix_cache(model, prefix: list[int], rows: int):
    """The prefix's cache repeated over ``rows`` and its final hidden states [prefix, hidden]."""
    ids = torch.tensor([prefix], device=model.device)
    output = model.base_model(input_ids=ids, use_cache=True)
    cache = output.cache if _cache_argument(model.base_model) == "cache" else output.past_key_values
    cache.batch_repeat_interleave(rows)
    return cache, output.last_hidden_state[0]


@torch.inference_mode()
def generate_ids(model, prompts: list[list[int]], pad_id: int, **settings) -> list[list[int]]:
    """The new tokens ``model.generate`` appends to each prompt (token ids), up to ``max_new_tokens`` of
    ``settings``; a shared prefix runs once and the rest is padded between it and each prompt's own tokens."""
    shared = shared_prefix(prompts)
    width = max(len(prompt) for prompt in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros(len(prompts), width, dtype=torch.long)
    ids[:, :shared], mask[:, :shared] = torch.tensor(prompts[0][:shared]), 1
    for row, prompt in enumerate(prompts):
        own = prompt[shared:]
        ids[row, width - len(own) :], mask[row, width - len(own) :] = torch.tensor(own), 1
    if shared:
        cache, _ = _prefix_cache(model, prompts[0][:shared], len(prompts))
        settings[_cache_argument(model)] = cache
    output = model.generate(
        input_ids=ids.to(model.device), attention_mask=mask.to(model.device), pad_token_id=pad_id, **settings
    )
    return output[:, width:].tolist()


@torch.inference_mode()
def final_hidden(model, sequences: list[torch.Tensor], batch_size: int = 8) -> list[torch.Tensor]:
    """Last-layer hidden states [T_i, H] per sequence (after the final norm), in right-padded batches, a shared
    prefix run once per batch; no length x vocab logits are materialised."""
    hidden = []
    for start in range(0, len(sequences), batch_size):
        batch = [torch.as_tensor(sequence) for sequence in sequences[start : start + batch_size]]
        shared = shared_prefix([sequence.tolist() for sequence in batch])
        ids, own_mask = right_padded([sequence[shared:] for sequence in batch])
        mask = torch.cat([torch.ones(len(batch), shared, dtype=torch.long), own_mask], dim=1)  # cached prefix first
        extra = {}
        if shared:
            cache, prefix_states = _prefix_cache(model, batch[0][:shared].tolist(), len(batch))
            extra = {_cache_argument(model.base_model): cache}
        states = model.base_model(
            input_ids=ids.to(model.device), attention_mask=mask.to(model.device), **extra
        ).last_hidden_state
        for row, sequence in enumerate(batch):
            own = states[row, : len(sequence) - shared]
            hidden.append(torch.cat([prefix_states, own]) if shared else own)
    return hidden
