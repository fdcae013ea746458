"""Evaluation with tries (a task's ``verify_iter`` > 1; GeneralPoints as RL_Heals_SFT runs it): after a wrong answer
the verifier's message becomes the next user turn and the model answers again, until it is right or the tries run
out. An episode counts as solved when any try is right, which is the last one it made."""

from __future__ import annotations

from ..prompts import as_prompt, next_try

__all__ = ["render", "run_episodes"]


def render(tokenizer, conversation, chat: bool) -> str:
    """What the model reads for ``conversation`` (chat turns in its template, ready for the reply, or plain text)."""
    if not chat:
        return conversation
    return tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)


def run_episodes(
    engine, tokenizer, task, records, prompts, max_new_tokens, temperature, chat, system_prompt, samples, progress=None
) -> list[list[dict]]:
    """The turns after the question of each episode (``samples`` per record, in order): the model's answers and the
    verifier's messages between them. Each try generates the episodes still running as one engine call;
    ``progress`` counts the first."""
    conversations = [as_prompt(prompt, chat, system_prompt) for prompt in prompts for _ in range(samples)]
    turns: list[list[dict]] = [[] for _ in conversations]
    running = list(range(len(conversations)))
    for attempt in range(1, task.verify_iter + 1):
        texts = [render(tokenizer, conversations[i], chat) for i in running]
        extra = {"progress": progress} if progress is not None and attempt == 1 else {}
        completions = engine(texts, max_new_tokens, temperature, chat, **extra)
        still = []
        for i, completion in zip(running, completions):
            turns[i].append({"role": "assistant", "content": completion})
            message = task.feedback(records[i // samples], completion)
            if message is not None and attempt < task.verify_iter:
                turns[i].append({"role": "user", "content": message})
                conversations[i] = next_try(conversations[i], completion, message)
                still.append(i)
        running = still
        if not running:
            break
    return turns
