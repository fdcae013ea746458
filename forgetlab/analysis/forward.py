"""Forward passes over many sequences in right-padded batches, handing back each sequence's own slice.

Right padding leaves every real token at its own position and, attention being causal, never lets it see a
pad: each slice equals the sequence's forward pass alone. A prefix a batch shares (the chat template's system
turn: ~27 of an arithmetic prompt's ~45 tokens) runs once, its cache repeated over the batch, unless attention
maps are asked for (they are read whole).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from ..evaluate.prefix import prefix_pass, right_padded, shared_prefix

__all__ = ["forward_each"]


@torch.inference_mode()
def forward_each(
    model, sequences: list[list[int]], batch_size: int = 16, logits: bool = False, hidden: bool = False,
    attentions: bool = False,
) -> Iterator[dict]:  # fmt: skip
    """Per sequence, in order: ``logits`` [T, V], ``hidden`` (one [T, H] per layer, embeddings first) and
    ``attentions`` (one [heads, T, T] per layer) as asked, in float32."""
    for start in range(0, len(sequences), batch_size):
        batch = sequences[start : start + batch_size]
        shared = 0 if attentions else shared_prefix(batch)
        ids, mask = right_padded([sequence[shared:] for sequence in batch])
        asked = {"output_hidden_states": hidden, "output_attentions": attentions, "logits_to_keep": 0 if logits else 1}
        prefix, cached = None, {}
        if shared:
            prefix, cached = prefix_pass(model, batch[0][:shared], len(batch), **asked)
            mask = torch.cat([torch.ones(len(batch), shared, dtype=mask.dtype), mask], dim=1)  # the cached prefix
        output = model(input_ids=ids.to(model.device), attention_mask=mask.to(model.device), **asked, **cached)
        if attentions and (not output.attentions or output.attentions[0] is None):
            raise ValueError("the model returned no attention maps: load it with attn_implementation='eager'")
        for row, sequence in enumerate(batch):
            own, found = len(sequence) - shared, {}
            if logits:
                found["logits"] = _whole(prefix.logits if prefix is not None else None, output.logits, row, own)
            if hidden:
                before = prefix.hidden_states if prefix is not None else [None] * len(output.hidden_states)
                found["hidden"] = [_whole(b, a, row, own) for b, a in zip(before, output.hidden_states)]
            if attentions:
                found["attentions"] = [a[row, :, :own, :own].float() for a in output.attentions]
            yield found


def _whole(prefix: torch.Tensor | None, rest: torch.Tensor, row: int, own: int) -> torch.Tensor:
    """One sequence's slice in float32: the shared prefix's part (None: nothing shared), then its own tokens."""
    mine = rest[row, :own].float()
    return mine if prefix is None else torch.cat([prefix[0].float(), mine])
