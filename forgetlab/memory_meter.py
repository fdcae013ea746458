"""The memory of a training step measured: one step of the stage's loss run on a random-weight model built from
a config, each component a phase of its own, metered by the allocator that holds the tensors.

A phase's measure is in bytes above what was live when it started: ``live`` at its end (what it leaves: weights,
gradients, optimizer state) and ``peak`` along it (the training pass, the rollouts). On a GPU: torch.cuda's
allocator statistics. On the CPU, where torch keeps no statistics: the allocations and frees torch's profiler
records (``profile_memory``) of its CPU allocator. Neither counts the Python heap, library buffers or memory an
allocator keeps cached, so the process's resident memory is higher.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from .compat.torch import cpu_allocations
from .memory_profile import ProfileOptions, step_loss, step_tokens
from .train.config import RLStageConfig

__all__ = ["Phase", "measure_memory", "metered"]


@dataclass
class Phase:
    live: int = 0
    peak: int = 0


@contextlib.contextmanager
def metered(device: str):
    """A Phase filled in when the block ends: the bytes torch allocated in it and still holds, and their peak."""
    import torch

    phase = Phase()
    if device == "cuda":
        torch.cuda.synchronize()
        start = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        yield phase
        torch.cuda.synchronize()
        phase.live, phase.peak = torch.cuda.memory_allocated() - start, torch.cuda.max_memory_allocated() - start
        return
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as profiler:
        yield phase
    running = 0
    for size in cpu_allocations(profiler):  # frees are negative sizes
        running += size
        phase.peak = max(phase.peak, running)
    phase.live = running


def _optimizer(model, name: str, device: str):
    """The stage's optimizer as the trainer builds it (fused AdamW; bitsandbytes' 8-bit AdamW), or None where it
    cannot run here (8-bit without bitsandbytes or a GPU)."""
    import importlib.util

    import torch

    if name == "adamw":
        return torch.optim.AdamW(model.parameters(), fused=True)
    if device != "cuda" or importlib.util.find_spec("bitsandbytes") is None:
        return None
    import bitsandbytes

    manager = bitsandbytes.optim.GlobalOptimManager.get_instance()
    for module in model.modules():  # as transformers' Trainer: embeddings keep 32-bit states
        if isinstance(module, torch.nn.Embedding):
            manager.register_module_override(module, "weight", {"optim_bits": 32})
    return bitsandbytes.optim.AdamW(model.parameters(), optim_bits=8)


def measure_memory(config, options: ProfileOptions, device: str = "cpu", seed: int = 0) -> dict[str, int | None]:
    """Bytes per component of one step on ``device``: the weights a random-weight model of ``config`` holds, the
    gradients a backward allocates, the optimizer state a step leaves, the peak of the stage's forward and backward
    with those in place, and (GRPO) the peak of the rollouts through forgetlab's decode loop (prompts prefilled
    once per group, the cache repeated over its completions, none ending early). None: the 8-bit optimizer where
    it cannot run."""
    import torch
    from transformers import AutoModelForCausalLM

    from .evaluate.prefix import generate_ids

    torch.manual_seed(seed)
    with metered(device) as weights, torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, options.dtype))
    model.train()
    ids = step_tokens(options, config.vocab_size, device, torch.Generator().manual_seed(seed))
    with metered(device) as gradients:
        model(input_ids=ids[:1, :1]).logits.sum().backward()  # one token: the gradients, few activations
    optimizer, state = _optimizer(model, options.optimizer, device), None
    if optimizer is not None:
        with metered(device) as state:
            optimizer.step()
    model.zero_grad(set_to_none=False)  # the pass below accumulates into gradients already there
    with metered(device) as training:
        step_loss(model, options, ids).backward()
    measured = {
        "weights": weights.live, "gradients": gradients.live, "optimizer": None if state is None else state.live,
        "activations": training.peak, "rollouts": None,
    }  # fmt: skip
    if options.stage == "grpo":
        model.zero_grad(set_to_none=True)
        prompts = [row[: options.seq_len].tolist() for row in ids[:: options.generations]]
        with metered(device) as rollouts:
            generate_ids(
                model.eval(), [p for p in prompts for _ in range(options.generations)], 0, options.completion_len,
                temperature=RLStageConfig.temperature, eos_ids=[-1], option="completion_len",
            )  # fmt: skip
        measured["rollouts"] = rollouts.peak
    return measured
