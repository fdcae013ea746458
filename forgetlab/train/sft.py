"""Supervised fine-tuning on the task's reference completions (TRL SFTTrainer, prompt-completion data); a record
with a ``demonstration`` (the re-alignment test's examples: forgetlab.analysis.realign) trains on that instead."""

from __future__ import annotations

from datasets import Dataset
from trl import SFTConfig, SFTTrainer

from ..prompts import as_prompt, prompt_ids
from .common import as_completion, split_batch, training_prompts
from .config import SFTStageConfig


def build_trainer(
    stage: SFTStageConfig, tasks, records, model, tokenizer, arguments: dict, peft_config=None, fast_paths=True
) -> SFTTrainer:
    """TRL's SFTTrainer (its fast paths are set up by train_stage: ``fast_paths`` changes nothing here)."""
    dataset = Dataset.from_list(
        [
            {
                "prompt": as_prompt(prompt, stage.chat, stage.system_prompt),
                "completion": as_completion(record.get("demonstration") or task.reference(record, style), stage.chat),
            }
            for record, prompt, style, task in training_prompts(stage, tasks, records)
        ]
    )
    refuse_cut_completions(dataset["prompt"], tokenizer, stage.max_length)
    args = SFTConfig(
        **arguments,
        per_device_train_batch_size=split_batch(stage.batch_size, "batch_size"),
        max_length=stage.max_length,
        completion_only_loss=stage.completion_only_loss,
    )
    return SFTTrainer(
        model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config
    )


def refuse_cut_completions(prompts: list, tokenizer, max_length: int) -> None:
    """Stop before training when a prompt alone fills max_length: truncation would leave its example no completion
    token, and TRL drops such examples without a word."""
    sizes = [len(prompt_ids(tokenizer, prompt)) for prompt in prompts]
    cut = [size for size in sizes if size >= max_length]
    if cut:
        raise ValueError(
            f"max_length {max_length}: {len(cut)} of {len(sizes)} training prompts fill it alone (the longest "
            f"{max(cut)} tokens), so their completions would be cut off entirely: raise the stage's max_length"
        )
