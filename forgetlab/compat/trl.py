"""TRL internals, written against TRL 1.16 (pyproject bounds trl below 1.17). Each function names the private or
version-specific name it uses; the fast paths among them report to ``forgetlab.compat`` whether they took effect."""

from __future__ import annotations

import contextlib
import inspect
import os

from . import fell_back, switched_off, took_effect

__all__ = [
    "CPU_HEAD_TILE",
    "cpu_head_tiles",
    "fused_head_logps",
    "labelled_positions_only",
    "latest_advantages",
    "logps_pass_override",
    "quiet_rollout_func_warning",
    "reads_globals",
    "rollout_eos_ids",
    "rollout_func_argument",
    "rollout_func_missing",
    "tokenize_prompts",
]

# vocabulary columns per tile of TRL's chunked LM head on the CPU (see cpu_head_tiles)
CPU_HEAD_TILE = 4096

# The stock values, kept so that fast_paths: false (or a later job in the same process) restores them.
_STOCK: dict[str, object] = {}


def reads_globals(function, *names: str) -> bool:
    """Whether ``function`` or a function nested in it reads each of ``names`` as a global at call time: then a
    patched module attribute reaches it (a name bound at import would not)."""
    codes, read = [function.__code__], set()
    while codes:
        code = codes.pop()
        read.update(code.co_names)
        codes.extend(const for const in code.co_consts if inspect.iscode(const))
    return set(names) <= read


def _patch_utils(name: str, attribute: str, value, on: bool) -> None:
    """Set ``trl.trainer.utils.<attribute>`` (the fast path ``name``) or put TRL's own value back. It takes effect
    only where ``add_fused_lm_head``'s forward reads the attribute as a module global, as TRL 1.16 does."""
    from trl.trainer import utils

    if not hasattr(utils, attribute):
        _STOCK.pop(attribute, None)
        return fell_back(name, f"trl.trainer.utils.{attribute} is gone")
    _STOCK.setdefault(attribute, getattr(utils, attribute))
    if not on:
        setattr(utils, attribute, _STOCK[attribute])
        return switched_off(name)
    fused = getattr(utils, "add_fused_lm_head", None)
    if fused is None or not reads_globals(fused, attribute):
        setattr(utils, attribute, _STOCK[attribute])
        return fell_back(name, f"TRL's fused LM head no longer reads trl.trainer.utils.{attribute}")
    setattr(utils, attribute, value)
    took_effect(name)


def labelled_positions_only(on: bool = True) -> None:
    """Make TRL's fused LM head score only the positions that carry a label on the CPU, as it does on CUDA.

    Off Triton devices TRL scores every position (fixed tile shapes for graph compilers) and masks the prompt's
    afterwards: on the CPU that is the vocabulary projection, its backward and the softmax over the whole prompt
    for nothing (SFT steps of the embedded default take twice as long). The log-probabilities are the same.
    TRL decides this in one place, ``trl.trainer.utils._use_triton``; its kernels keep their own reference.
    """
    from trl.trainer import utils

    decide = _STOCK.get("_use_triton", getattr(utils, "_use_triton", None))

    def compact(device) -> bool:
        return device.type == "cpu" or decide(device)

    _patch_utils("labelled-positions", "_use_triton", compact, on)


def cpu_head_tiles(on: bool = True) -> None:
    """Make TRL's chunked LM head work in tiles of ``CPU_HEAD_TILE`` vocabulary columns (TRL: 32768), through
    ``trl.trainer.utils._CHUNKED_LOGPROB_CHUNK_SIZE``.

    Off Triton devices its backward runs a tile as a handful of elementwise torch ops, each allocating a fresh
    positions x tile tensor: at 32768 columns that is ~50 MB a temporary on the default's GRPO step, out of cache
    and page-faulted anew every time. Smaller tiles stay in cache: GRPO steps of the default 16 -> 13 s, SFT steps
    6.4 -> 6.1 s, the same values (tiles only split the logsumexp and the gradient GEMMs). Only for a CPU training
    process: TRL reads the module constant at every call.
    """
    from trl.trainer import utils

    stock = _STOCK.get("_CHUNKED_LOGPROB_CHUNK_SIZE", getattr(utils, "_CHUNKED_LOGPROB_CHUNK_SIZE", CPU_HEAD_TILE))
    _patch_utils("cpu-head-tiles", "_CHUNKED_LOGPROB_CHUNK_SIZE", min(stock, CPU_HEAD_TILE), on)


def rollout_func_missing(trainer_class, args) -> str | None:
    """Why TRL cannot take forgetlab's rollouts (``rollout_func``, TRL >= 0.25, experimental) on this trainer, or
    None: the trainer must tokenize prompts where they can be reached (``_tokenize_prompts``, TRL 1.x) and know
    its EOS tokens (``eos_token_ids``, TRL 1.1x)."""
    if "rollout_func" not in inspect.signature(trainer_class.__init__).parameters:
        return f"{trainer_class.__name__} takes no rollout_func"
    if not hasattr(trainer_class, "_tokenize_prompts"):
        return f"{trainer_class.__name__}._tokenize_prompts is gone"
    if args.generation_kwargs:
        return "generation_kwargs are set (TRL's generate honours them)"
    return None


def tokenize_prompts(trainer, prompts: list) -> list:
    """Token ids of ``prompts`` as TRL tokenizes them for generation (chat template and its arguments)."""
    return trainer._tokenize_prompts(prompts)[0]


def rollout_eos_ids(trainer) -> list[int]:
    """The tokens that end a rollout in TRL (``trainer.eos_token_ids``, TRL 1.1x)."""
    return trainer.eos_token_ids


def rollout_func_argument(function) -> dict:
    """The GRPO trainer's keyword for rollouts generated elsewhere (``rollout_func``, experimental in TRL 1.x)."""
    return {"rollout_func": function} if function is not None else {}


@contextlib.contextmanager
def quiet_rollout_func_warning():
    """TRL warns that ``rollout_func`` is experimental on every trainer built with it, unless
    ``TRL_EXPERIMENTAL_SILENCE`` is 1 (TRL 1.x); forgetlab's is tested against TRL's own generation."""
    before = os.environ.get("TRL_EXPERIMENTAL_SILENCE")
    os.environ["TRL_EXPERIMENTAL_SILENCE"] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ["TRL_EXPERIMENTAL_SILENCE"]
        else:
            os.environ["TRL_EXPERIMENTAL_SILENCE"] = before


def logps_pass_override(trainer_class, shared_pass):
    """A subclass of TRL's ``trainer_class`` whose log-probability pass (``_get_per_token_logps_and_entropies``,
    TRL 1.16's signature) calls ``shared_pass(trainer, model, input_ids, attention_mask, logits_to_keep,
    batch_size, compute_entropy, compute_aux_loss, multimodal)``, which returns the pass's result, or None to run
    TRL's own."""
    name = "_get_per_token_logps_and_entropies"
    if not hasattr(trainer_class, name):
        fell_back("shared-prompt-passes", f"{trainer_class.__name__}.{name} is gone")
        return trainer_class

    def passes(self, model, input_ids, attention_mask, logits_to_keep, batch_size=None, compute_entropy=False,
               compute_aux_loss=False, **multimodal):  # fmt: skip
        result = shared_pass(self, model, input_ids, attention_mask, logits_to_keep, batch_size, compute_entropy,
                             compute_aux_loss, multimodal)  # fmt: skip
        if result is not None:
            return result
        return getattr(super(subclass, self), name)(
            model, input_ids, attention_mask, logits_to_keep, batch_size=batch_size, compute_entropy=compute_entropy,
            compute_aux_loss=compute_aux_loss, **multimodal,
        )  # fmt: skip

    subclass = type(trainer_class.__name__, (trainer_class,), {name: passes, "__module__": trainer_class.__module__})
    return subclass


def fused_head_logps(model, input_ids, attention_mask, labels, **cache):
    """(log-probabilities, entropies) of ``labels`` through TRL's fused LM head (``fused_lm_head=True``, which
    ``trl.trainer.utils.add_fused_lm_head`` adds to the model's forward in TRL 1.1x)."""
    output = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels, fused_lm_head=True, **cache)
    return output.log_probs, output.entropy


def latest_advantages(trainer) -> list[float] | None:
    """The advantages of the latest generation batch, which GRPO and RLOO keep in ``trainer._logs['advantages']``
    (TRL 1.x); None where that is gone."""
    logs = getattr(trainer, "_logs", None)
    if not isinstance(logs, dict) or "advantages" not in logs:
        return None
    return list(logs["advantages"])
