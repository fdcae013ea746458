"""Forward passes over many sequences in right-padded batches, handing back each sequence's own slice.

Right padding leaves every real token at its own position and, attention being causal, never lets it see a
pad: each slice equals the sequence's forward pass alone.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from ..evaluate.likelihood import right_padded

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
        ids, mask = right_padded(batch)
        output = model(
            input_ids=ids.to(model.device), attention_mask=mask.to(model.device), output_hidden_states=hidden,
            output_attentions=attentions, logits_to_keep=0 if logits else 1,
        )  # fmt: skip
        if attentions and (not output.attentions or output.attentions[0] is None):
            raise ValueError("the model returned no attention maps: load it with attn_implementation='eager'")
        for row, sequence in enumerate(batch):
            n, found = len(sequence), {}
            if logits:
                found["logits"] = output.logits[row, :n].float()
            if hidden:
                found["hidden"] = [h[row, :n].float() for h in output.hidden_states]
            if attentions:
                found["attentions"] = [a[row, :, :n, :n].float() for a in output.attentions]
            yield found
