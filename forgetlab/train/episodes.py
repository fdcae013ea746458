"""RL rollouts with tries (a task's ``verify_iter`` > 1; GeneralPoints as RL_Heals_SFT trains it): a completion is
an episode. After a wrong answer the verifier's message is appended as a user turn and the model answers again,
until it is right or the tries run out. TRL gets the episode as one completion: the model's turns and the
environment's tokens between them (the feedback turn in the chat template), the latter marked 0 in ``env_mask`` so
the loss skips them. The rewards score the last try (``final_completion``)."""

from __future__ import annotations

import json

from ..compat import trl as trl_compat
from ..evaluate.prefix import generate_ids
from ..prompts import next_try, plain_prompt
from ..rewards import as_scored
from .common import world_size

__all__ = ["EpisodeRollouts", "episode_rollouts", "feedback_ids"]


def feedback_ids(tokenize, conversation: list[dict], reply: list[int], eos_ids) -> list[int]:
    """The tokens after the model's ``reply`` that bring the context to ``conversation`` (ending in the assistant's
    reply and the verifier's user turn) in the chat template, ready for the next reply: the end of the assistant's
    turn where the reply was cut short, the user turn, the next assistant header. ``tokenize`` renders a list of
    conversations with the generation prompt (TRL's own tokenization). The model's tokens stay as sampled; the
    template's are taken from a fresh rendering of the whole conversation."""
    before, full = tokenize([conversation[:-2], conversation])
    end = next((j for j in range(len(before), len(full)) if full[j] in eos_ids), None)  # the assistant turn closes
    if end is None:
        raise ValueError("the chat template closes the assistant's turn with none of the rollouts' EOS tokens")
    return full[end + 1 :] if reply and reply[-1] in eos_ids else full[end:]


def prompt_key(prompt) -> str:
    return json.dumps(prompt, sort_keys=True)


class EpisodeRollouts:
    """TRL's ``rollout_func`` for episodes of tries. ``records`` (prompt key -> record) and ``tasks`` (name ->
    task as scored in the stage's format) find each prompt's record and verifier; a record of a task without tries
    (replay) gets one."""

    def __init__(self, tasks: dict, records: dict, own: str):
        self.tasks, self.records, self.own = tasks, records, own

    def verifier(self, prompt):
        record = self.records[prompt_key(prompt)]
        return record, self.tasks.get(record.get("task") or self.own, self.tasks[self.own])

    def __call__(self, prompts: list, trainer) -> dict:
        def tokenize(conversations):
            return trl_compat.tokenize_prompts(trainer, conversations)

        eos, model, tokenizer = trl_compat.rollout_eos_ids(trainer), trainer.model, trainer.processing_class
        prompt_ids = tokenize(prompts)
        contexts, conversations = [list(ids) for ids in prompt_ids], list(prompts)
        completions, masks, finals = [[] for _ in prompts], [[] for _ in prompts], [""] * len(prompts)
        verifiers = [self.verifier(prompt) for prompt in prompts]
        running, attempt = list(range(len(prompts))), 0
        training = model.training
        model.eval()  # activation checkpointing (train mode only) would turn the cache off
        try:
            while running:
                attempt += 1
                replies = generate_ids(
                    model, [contexts[i] for i in running], tokenizer.pad_token_id, trainer.max_completion_length,
                    trainer.temperature, eos_ids=eos, option="max_completion_length",
                )  # fmt: skip
                still = []
                for i, reply, text in zip(running, replies, tokenizer.batch_decode(replies, skip_special_tokens=True)):
                    completions[i] += reply
                    masks[i] += [1] * len(reply)
                    finals[i] = text
                    record, task = verifiers[i]
                    message = task.feedback(record, text) if attempt < task.verify_iter else None
                    if message is None:
                        continue
                    conversations[i] = next_try(conversations[i], text, message)
                    if isinstance(conversations[i], str):  # a plain prompt: the next question and answer cue
                        env = tokenizer(f"\n{plain_prompt(message)}", add_special_tokens=False)["input_ids"]
                    else:
                        env = feedback_ids(tokenize, conversations[i], reply, eos)
                    completions[i] += env
                    masks[i] += [0] * len(env)
                    contexts[i] += reply + env
                    still.append(i)
                running = still
        finally:
            model.train(training)
        return {
            "prompt_ids": prompt_ids, "completion_ids": completions, "logprobs": None, "env_mask": masks,
            "final_completion": finals,
        }  # fmt: skip


def episode_rollouts(stage, tasks: dict, dataset, args, trainer_class) -> EpisodeRollouts | None:
    """The rollout function when the stage's task takes several tries, else None. Its loop is forgetlab's HF decode
    loop in one process: anything else is refused before training rather than trained single-turn."""
    task = tasks[stage.task]
    if task.verify_iter == 1:
        return None
    missing = trl_compat.rollout_func_missing(trainer_class, args)
    refused = [
        (args.use_vllm, "vLLM rollouts"),
        (world_size() > 1, "several processes"),
        (
            args.top_p != 1.0 or args.top_k or args.min_p is not None or args.repetition_penalty != 1.0,
            "top_p, top_k, min_p or a repetition penalty",
        ),
        (missing is not None, missing),
    ]
    why = next((why for refuse, why in refused if refuse), None)
    if why:
        raise ValueError(f"tasks.{stage.task}.verify_iter > 1 trains episodes in forgetlab's rollouts, not with {why}")
    return EpisodeRollouts(as_scored(stage, tasks), {prompt_key(row["prompt"]): row for row in dataset}, stage.task)
