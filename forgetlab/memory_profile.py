"""Peak memory of one training step, per component: the weights, their gradients, the optimizer's state, the
activations of a forward and backward pass, and (GRPO) the rollouts' key-value cache.

Each is estimated from the model config's shapes (a model built on the meta device: shapes, no memory) and can be
measured by running the step on a random-weight model built from the same config (forgetlab.memory_meter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .compat.torch import fused_attention
from .options import Options, option
from .train.config import OPTIMIZERS, RLStageConfig, SFTStageConfig, StageConfig

__all__ = [
    "COMPONENTS", "DTYPE_BYTES", "SHAPES", "ProfileOptions", "estimate_memory", "memory_notes", "memory_table",
    "meta_model", "shape_config", "source_config", "step_loss", "step_tokens",
]  # fmt: skip

COMPONENTS = ("weights", "gradients", "optimizer", "activations", "rollouts")
DTYPE_BYTES = {"float32": 4, "bfloat16": 2}
# Known architectures, built with random weights from these config values (transformers' defaults for the rest).
SHAPES = {
    "qwen2.5-0.5b": {
        "model_type": "qwen2", "hidden_size": 896, "num_hidden_layers": 24, "num_attention_heads": 14,
        "num_key_value_heads": 2, "intermediate_size": 4864, "vocab_size": 151936, "tie_word_embeddings": True,
        "max_position_embeddings": 32768,
    },
    "smollm2-135m": {
        "model_type": "llama", "hidden_size": 576, "num_hidden_layers": 30, "num_attention_heads": 9,
        "num_key_value_heads": 3, "intermediate_size": 1536, "vocab_size": 49152, "tie_word_embeddings": True,
        "max_position_embeddings": 8192,
    },
}  # fmt: skip
# bitsandbytes' 8-bit AdamW: tensors below this many values keep float32 moments; the others one byte per moment
# and value plus a float32 scale per block of each moment
BNB_MIN_8BIT, BNB_BLOCK = 4096, 256
MIB = 2**20


@dataclass(kw_only=True)
class ProfileOptions(Options):
    """One training step whose memory `forgetlab memory` reports."""

    stage: str = option(
        "sft",
        "training method: sft (batch sequences of seq_len tokens) or grpo (batch prompts of seq_len tokens, "
        "generations completions of completion_len tokens each)",
        enum=["sft", "grpo"],
    )
    batch: int = option(StageConfig.batch_size, "sequences (sft) or prompts (grpo) of the step", minimum=1)
    seq_len: int = option(SFTStageConfig.max_length, "tokens of a sequence (sft) or of a prompt (grpo)", minimum=1)
    generations: int = option(RLStageConfig.num_generations, "grpo: completions per prompt", minimum=1)
    completion_len: int = option(RLStageConfig.max_completion_length, "grpo: tokens per completion", minimum=1)
    dtype: str = option(
        "float32",
        "dtype of the weights, gradients, activations and key-value cache (the AdamW moments are estimated in "
        "float32 either way; torch's AdamW keeps a bfloat16 model's in bfloat16). forgetlab itself trains "
        "float32 weights, under bfloat16 autocast on a GPU",
        enum=list(DTYPE_BYTES),
    )
    optimizer: str = option(
        StageConfig.optimizer,
        "the stage's optimizer: adamw (two float32 moments per weight) or adamw_8bit (bitsandbytes; measured only "
        "with bitsandbytes on a GPU)",
        enum=list(OPTIMIZERS),
    )
    measure: bool | None = option(
        None,
        "also run the step on a random-weight model and measure each component: on a GPU torch.cuda's allocator "
        "statistics, on the CPU the allocations torch's profiler records; either counts the tensors torch "
        "allocates, not the process's resident memory; null: unless bfloat16 on the CPU (no hardware support: "
        "very slow)",
    )

    @property
    def rows(self) -> int:
        """Sequences of the training pass: every completion runs with its prompt (GRPO)."""
        return self.batch * (self.generations if self.stage == "grpo" else 1)


def shape_config(name: str):
    """The transformers config of a known shape (``SHAPES``)."""
    from transformers import AutoConfig

    values = dict(SHAPES[name])
    return AutoConfig.for_model(values.pop("model_type"), **values)


def source_config(spec: dict):
    """The transformers config of a model entry of a workflow config, read without the weights where the source
    keeps it apart (a GGUF file's header, a folder's or hub repository's config.json)."""
    from transformers import AutoConfig

    from .models import ModelSpec, gguf_package_file

    model = ModelSpec.from_dict(spec, "model")
    if model.tag == "gguf-package":
        path = gguf_package_file(model.package, model.file)
        return AutoConfig.from_pretrained(path.parent, gguf_file=path.name)
    if model.tag == "hub":
        return AutoConfig.from_pretrained(model.id, **({"revision": model.revision} if model.revision else {}))
    if model.tag == "local":
        return AutoConfig.from_pretrained(model.path)
    return model.load()[0].config  # tiny-random: its config is built with the model


def meta_model(config, dtype: str):
    """The model of ``config`` on the meta device: every parameter's shape and dtype, no memory."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype))


def step_tokens(options: ProfileOptions, vocab: int, device="cpu", generator=None):
    """Random token ids of the training pass: rows x (seq_len, plus completion_len for GRPO)."""
    import torch

    length = options.seq_len + (options.completion_len if options.stage == "grpo" else 0)
    if device == "meta":
        return torch.zeros(options.rows, length, dtype=torch.long, device=device)
    return torch.randint(vocab, (options.rows, length), generator=generator).to(device)


def step_loss(model, options: ProfileOptions, ids):
    """The stage's loss on ``ids``: SFT's cross-entropy over every position; GRPO's policy-gradient term, the
    completions' log-probabilities (TRL's selective_log_softmax over logits of the completion positions only)
    times their advantages."""
    import torch

    if options.stage == "sft":
        return model(input_ids=ids, labels=ids).loss
    from trl.trainer.utils import selective_log_softmax

    length = options.completion_len
    logits = model(input_ids=ids, logits_to_keep=length + 1).logits[:, :-1]
    advantages = torch.ones(len(ids), 1, device=ids.device)
    return -(selective_log_softmax(logits, ids[:, -length:]) * advantages).mean()


def saved_bytes(model, loss) -> int:
    """Bytes of the tensors autograd keeps for the backward of ``loss()``, each storage once, the weights aside."""
    import torch
    from torch.multiprocessing.reductions import StorageWeakRef

    saved = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        saved[StorageWeakRef(storage).cdata] = (tensor, storage.nbytes())  # the tensor held: its key stays its own
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor), fused_attention():
        loss()
    weights = {StorageWeakRef(p.untyped_storage()).cdata for p in model.parameters()}
    return sum(size for key, (_, size) in saved.items() if key not in weights)


def _optimizer_bytes(model, optimizer: str) -> int:
    """AdamW's two moments: float32 each; 8-bit: one byte each plus a float32 scale per block, except small tensors
    and embeddings (transformers' Trainer keeps those in 32 bits)."""
    import torch

    embeddings = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    total = 0
    for parameter in model.parameters():
        n = parameter.numel()
        if optimizer == "adamw_8bit" and n >= BNB_MIN_8BIT and id(parameter) not in embeddings:
            total += 2 * (n + 4 * math.ceil(n / BNB_BLOCK))
        else:
            total += 2 * 4 * n
    return total


def estimate_memory(config, options: ProfileOptions) -> dict[str, int | None]:
    """Bytes per component from ``config``'s shapes: parameters x dtype bytes for the weights and their gradients,
    the optimizer's moments, the tensors saved for the backward (activations: a lower bound of the pass's peak, which
    adds the backward's temporaries), and for GRPO the rollouts' key-value cache, 2 x layers x kv_heads x head_dim
    x tokens x dtype bytes. Tied weights count once."""
    model = meta_model(config, options.dtype)
    parameters = sum(p.numel() for p in model.parameters())
    size = DTYPE_BYTES[options.dtype]
    ids = step_tokens(options, config.vocab_size, "meta")
    estimate = {
        "weights": parameters * size,
        "gradients": parameters * size,
        "optimizer": _optimizer_bytes(model, options.optimizer),
        "activations": saved_bytes(model, lambda: step_loss(model.train(), options, ids)),
        "rollouts": None,
    }
    if options.stage == "grpo":
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        tokens = options.rows * (options.seq_len + options.completion_len)
        estimate["rollouts"] = 2 * config.num_hidden_layers * config.num_key_value_heads * head_dim * tokens * size
    return estimate


def peak_total(values: dict[str, int | None]) -> int | None:
    """The step's peak: the weights and optimizer state throughout, and the larger of the training pass (gradients
    and activations) and the rollouts (generated between steps, when the trainer holds no gradients)."""
    if any(values[name] is None for name in COMPONENTS[:4]):
        return None
    training = values["gradients"] + values["activations"]
    return values["weights"] + values["optimizer"] + max(training, values["rollouts"] or 0)


def memory_table(estimated: dict, measured: dict | None) -> str:
    """Component, estimated MiB, measured MiB (- where not measured), and the step's total."""
    rows = [(name, estimated[name], (measured or {}).get(name)) for name in COMPONENTS]
    rows = [row for row in rows if row[1] is not None or row[2] is not None]
    rows.append(("total", peak_total(estimated), peak_total(measured) if measured else None))
    shown = [("component", "estimated MiB", "measured MiB")]
    shown += [(name, *("-" if v is None else f"{v / MIB:.1f}" for v in values)) for name, *values in rows]
    widths = [max(len(row[column]) for row in shown) for column in range(3)]
    return "\n".join(
        f"{name:<{widths[0]}}  {estimate:>{widths[1]}}  {measure:>{widths[2]}}" for name, estimate, measure in shown
    )


def memory_notes(config, options: ProfileOptions, estimated: dict, measured_on: str | None) -> list[str]:
    """What was profiled, and what each number counts, beneath the table."""
    parameters = estimated["weights"] // DTYPE_BYTES[options.dtype]
    step = f"sft, {options.batch} x {options.seq_len} tokens"
    if options.stage == "grpo":
        step = f"grpo, {options.batch} x {options.generations} completions of {options.seq_len} + "
        step += f"{options.completion_len} tokens"
    notes = [
        f"{config.model_type}, {parameters / 1e6:.1f}M parameters; {step}; {options.dtype}, {options.optimizer}",
        "activations: estimated, the tensors saved for the backward (a lower bound: the backward adds temporaries); "
        "measured, the peak of the forward and backward above the weights, gradients and optimizer state",
    ]
    if options.stage == "grpo":
        notes.append(
            f"rollouts: estimated, the key-value cache of {options.rows} sequences of "
            f"{options.seq_len + options.completion_len} tokens; measured, the peak of forgetlab's decode loop"
        )
    if options.optimizer == "adamw_8bit":
        notes.append(
            "optimizer: bitsandbytes 8-bit AdamW, a byte per moment and a float32 scale per 256 values; embeddings "
            f"and tensors under {BNB_MIN_8BIT} values keep float32 moments"
        )
    notes.append("total: weights + optimizer + the larger of gradients + activations and rollouts")
    if measured_on == "cpu":
        notes.append("measured on the CPU: the tensors torch's CPU allocator allocated, as its profiler records")
    elif measured_on:
        notes.append("measured on the GPU: torch.cuda.memory_allocated and max_memory_allocated")
    return notes
