"""What the rows of a training pass share, run through the model once: a prefix every row starts with (the chat
template's system turn: ~27 of an SFT example's ~90 tokens on the embedded default), and an RL group's prompt, in
the rollouts (sampling) and in the trainer's log-probability passes (forward and backward).

A group is ``num_generations`` completions of one prompt. TRL's HF path runs the whole prompt again for every
completion, in generation and in every training forward/backward; on the embedded default that is ~78 prompt tokens
against ~21 completion tokens per row. Here a pass runs each distinct prompt once, repeats its key-value cache over
the rows that share it (the repeat is differentiable, so the backward sums the rows' gradients into the one prompt
pass) and runs only the completions on top. The log-probabilities are the same as TRL's to float rounding.
"""

from __future__ import annotations

import functools

import torch

from .. import compat
from ..compat import trl as trl_compat
from ..compat.transformers import cache_argument
from ..evaluate.prefix import generate_ids, shared_prefix
from .common import world_size

__all__ = [
    "decode_rollouts",
    "rollout_function",
    "run_shared_prefix_once",
    "shared_prompt_logps",
    "with_shared_prompt_passes",
]


def run_shared_prefix_once(model, expected: bool = True) -> None:
    """Make ``model``'s backbone run a prefix that every row of a training pass starts with once, its key-value cache
    repeated over the rows (differentiable: the backward sums the rows' gradients into the one prefix pass), and
    the rest of each row on top; the hidden states are the same as the whole rows' to float rounding.

    Only in training (grad enabled, train mode) on plain calls: no cache or position ids given, no per-layer
    outputs asked, the prefix unpadded in every row. Anything else, and evaluation, runs the backbone as it was.
    ``expected``: a job that never shares a prefix says so (SFT rows share the chat template's system turn; RL
    passes share whole prompts instead, see with_shared_prompt_passes).
    """
    backbone = model.base_model
    forward, key = backbone.forward, cache_argument(backbone)
    if expected:
        compat.expect("shared-prefix", "no training pass reached the backbone with a prefix every row shares")

    @functools.wraps(forward)
    def shared_forward(input_ids=None, attention_mask=None, **kwargs):
        shared = 0
        training = backbone.training and torch.is_grad_enabled() and input_ids is not None and len(input_ids) > 1
        given = any(kwargs.get(name) is not None for name in (key, "position_ids", "inputs_embeds"))
        per_layer = kwargs.get("output_hidden_states") or kwargs.get("output_attentions")
        if training and not given and not per_layer:
            shared = shared_prefix(input_ids.tolist())
            if shared and attention_mask is not None and not bool(attention_mask[:, :shared].all()):
                shared = 0
        if not shared:
            return forward(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        compat.took_effect("shared-prefix")
        prefix = forward(input_ids=input_ids[:1, :shared], use_cache=True)
        cache = getattr(prefix, key)
        cache.batch_repeat_interleave(len(input_ids))
        kwargs.pop("use_cache", None)
        kwargs.pop(key, None)  # None here (checked above); a causal LM's forward passes it on
        rest = forward(
            input_ids=input_ids[:, shared:], attention_mask=attention_mask, use_cache=True, **{key: cache}, **kwargs
        )
        hidden = torch.cat([prefix.last_hidden_state.expand(len(input_ids), -1, -1), rest.last_hidden_state], dim=1)
        return type(rest)(last_hidden_state=hidden, **{key: cache})

    backbone.forward = shared_forward


def decode_rollouts(prompts: list, trainer) -> dict:
    """GRPO's rollouts through forgetlab's decode loop (``evaluate.prefix.generate_ids``) instead of HF
    ``generate``: a group's prompt is prefilled once for all its completions, the prefix every prompt shares once,
    and a finished completion leaves the batch. Tokenized by TRL's own code (chat template and its arguments);
    completions end at the first of TRL's EOS tokens, kept, as on TRL's HF path. No sampling log-probabilities:
    TRL reads those only for vLLM's importance-sampling correction."""
    compat.took_effect("decode-rollouts")
    prompt_ids = trl_compat.tokenize_prompts(trainer, prompts)
    model = trainer.model
    training = model.training
    model.eval()  # activation checkpointing (train mode only) would turn the cache off
    try:
        completions = generate_ids(
            model, prompt_ids, trainer.processing_class.pad_token_id, trainer.max_completion_length,
            trainer.temperature, eos_ids=trl_compat.rollout_eos_ids(trainer), option="max_completion_length",
        )  # fmt: skip
    finally:
        model.train(training)
    return {"prompt_ids": prompt_ids, "completion_ids": completions, "logprobs": None}


def rollout_function(args, trainer_class, on: bool = True):
    """``decode_rollouts`` when it can stand in for TRL's HF ``generate``: fast paths on, one process (several shard
    or wrap the model, which TRL's path gathers), no vLLM, plain temperature sampling, and a trainer that takes it;
    else None (TRL generates)."""
    if not on:
        return compat.switched_off("decode-rollouts")
    if args.use_vllm or world_size() > 1:
        return None  # TRL's own engines: nothing forgetlab's loop would save
    if args.top_p != 1.0 or args.top_k or args.min_p is not None or args.repetition_penalty != 1.0:
        return compat.fell_back("decode-rollouts", "the stage samples with top_p, top_k, min_p or a repetition penalty")
    missing = trl_compat.rollout_func_missing(trainer_class, args)
    if missing:
        return compat.fell_back("decode-rollouts", missing)
    compat.expect("decode-rollouts", "TRL never called rollout_func in the first step")
    return decode_rollouts


def shared_prompt_logps(
    trainer, model, input_ids, attention_mask, logits_to_keep: int, batch_size=None, compute_entropy: bool = False
):
    """(per-token log-probabilities, entropies or None) of the last ``logits_to_keep`` tokens of each row, as TRL's
    ``_get_per_token_logps_and_entropies`` computes them, with each distinct prompt run once per chunk of
    ``batch_size`` rows. The prompt is all but the last ``logits_to_keep`` columns (left-padded, as TRL lays it out);
    its last token is run with the completion, whose first token it predicts. Positions count from the first
    column, as in TRL's pass (RoPE sees only their differences)."""
    context = input_ids.size(1) - logits_to_keep - 1
    logps, entropies = [], []
    batch_size = batch_size or len(input_ids)
    backbone = trainer.accelerator.unwrap_model(model).base_model
    key = cache_argument(backbone)
    for start in range(0, len(input_ids), batch_size):
        ids, mask = input_ids[start : start + batch_size], attention_mask[start : start + batch_size]
        keys = torch.cat([ids[:, :context], mask[:, :context]], dim=1)  # a prompt: its tokens and its padding
        prompts, rows = torch.unique(keys, dim=0, return_inverse=True)
        with trainer.accelerator.autocast():
            prompt = backbone(input_ids=prompts[:, :context], attention_mask=prompts[:, context:], use_cache=True)
            cache = getattr(prompt, key)
            cache.batch_select_indices(rows)
            tail = ids[:, context:]
            labels = tail.masked_fill(mask[:, context:] == 0, -100)
            labels[:, :-logits_to_keep] = -100
            log_probs, entropy = trl_compat.fused_head_logps(model, tail, mask, labels, **{key: cache})
        logps.append(log_probs[:, -logits_to_keep:])
        if compute_entropy:
            entropies.append(entropy[:, -logits_to_keep:])
    return torch.cat(logps), torch.cat(entropies) if compute_entropy else None


def _shared_pass(
    trainer, model, input_ids, attention_mask, logits_to_keep, batch_size, compute_entropy, compute_aux_loss, multimodal
):
    """``shared_prompt_logps``'s result where rows share prompts and nothing else is in the way (one process, no
    images or MoE auxiliary loss, no activation checkpointing: it drops the cache, no PEFT wrapper); else None."""
    inner = trainer.accelerator.unwrap_model(model)
    context = input_ids.size(1) - logits_to_keep - 1
    declined = [
        (compute_aux_loss or any(value is not None for value in multimodal.values()), "images or an auxiliary loss"),
        (getattr(inner, "is_activation_checkpointing", False), "activation checkpointing drops the cache"),
        (hasattr(inner, "peft_config"), "a PEFT model"),
        (world_size() > 1, "several processes"),
        (context <= 0 or len(torch.unique(input_ids[:, :context], dim=0)) == len(input_ids), "rows share no prompt"),
    ]
    why = next((why for refused, why in declined if refused), None)
    if why:
        compat.expect("shared-prompt-passes", why)
        return None
    compat.took_effect("shared-prompt-passes")
    return (
        *shared_prompt_logps(trainer, model, input_ids, attention_mask, logits_to_keep, batch_size, compute_entropy),
        None,
    )


def with_shared_prompt_passes(trainer_class, on: bool = True):
    """TRL's GRPO or RLOO trainer whose log-probability passes run each distinct prompt once where rows share it
    (``shared_prompt_logps``); with fast paths off, TRL's trainer as it is."""
    if not on:
        compat.switched_off("shared-prompt-passes")
        return trainer_class
    compat.expect("shared-prompt-passes", "TRL never called its log-probability pass in the first step")
    return trl_compat.logps_pass_override(trainer_class, _shared_pass)
