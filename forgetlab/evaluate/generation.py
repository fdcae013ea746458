"""Task accuracy from batched greedy (or sampled) generation."""

from __future__ import annotations

from ..progress import progress_of
from ..prompts import as_prompt, check_oneshot_example, render_prompt
from ..stats import bootstrap_ci
from ..tasks import Task
from .config import EvaluateConfig
from .engines import HFEngine
from .episodes import run_episodes

__all__ = ["evaluate_records", "generate", "prompt_text", "score_rows", "summarise"]


def prompt_text(
    tokenizer,
    text: str | list[dict],
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
) -> str:
    """What the model reads for ``text`` (``render_prompt``'s: the user message, or the turns before the answer): the
    turns training gives TRL (``as_prompt``: the system turn, then the user's) in the model's chat template, ready
    for the reply; or a plain prompt."""
    prompt = as_prompt(text, chat, system_prompt)
    return tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True) if chat else prompt


def generate(
    model,
    tokenizer,
    prompts: list[str],
    max_new_tokens: int = EvaluateConfig.max_new_tokens,
    batch_size: int = 16,
    temperature: float = EvaluateConfig.temperature,
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
) -> list[str]:
    """One HF-generated completion per prompt, in input order; ``chat`` applies the model's chat template (with
    ``system_prompt`` as its system turn)."""
    texts = [prompt_text(tokenizer, p, chat, system_prompt) for p in prompts]
    return HFEngine(model, tokenizer, batch_size)(texts, max_new_tokens, temperature, chat)


def evaluate_records(
    engine,
    tokenizer,
    task: Task,
    records: list[dict],
    max_new_tokens: int = EvaluateConfig.max_new_tokens,
    style: str | None = None,
    chat: bool = EvaluateConfig.chat,
    system_prompt: str | None = EvaluateConfig.system_prompt,
    oneshot_example: str = EvaluateConfig.oneshot_example,
    samples: int = EvaluateConfig.samples,
    temperature: float = EvaluateConfig.temperature,
    progress: bool = False,
) -> tuple[dict, list[dict]]:
    """Accuracy of the model behind ``engine`` (see ``engines``) on ``records`` in prompt format ``style``
    (default: the task's), in the chat template with ``system_prompt`` as its system turn unless ``chat`` is false;
    a one-shot prompt's example where ``oneshot_example`` puts it.

    Greedy by default; with ``samples`` = k > 1 at ``temperature`` > 0 it reports mean@k (``accuracy``, the
    mean over all samples) and pass@k (a prompt counts when any sample is right). Intervals resample prompts.
    With the task's ``verify_iter`` > 1 each completion is an episode of tries (``episodes``): ``correct`` counts it
    solved within the tries, and the metrics add ``solved_first_try`` and ``mean_tries``; its row holds every turn.
    Returns (metrics, one row per completion with the prompt actually shown). ``progress``: a line on stderr per
    batch (forgetlab.progress).
    """
    if not records:
        raise ValueError(f"no evaluation records for task {task.name!r}")
    if samples > 1 and temperature <= 0:
        raise ValueError("several samples per prompt need temperature > 0")
    check_oneshot_example(chat, oneshot_example)
    style = style or task.format
    prompts = [render_prompt(task, record, style, oneshot_example) for record in records]
    tracker = progress_of(progress, f"eval {task.name}", len(prompts) * samples)
    scorer = task.for_format(style)
    if task.verify_iter > 1:
        episodes = run_episodes(
            engine, tokenizer, scorer, records, prompts, max_new_tokens, temperature, chat, system_prompt, samples,
            tracker,
        )  # fmt: skip
    else:
        texts = [prompt_text(tokenizer, p, chat, system_prompt) for p in prompts for _ in range(samples)]
        completions = engine(texts, max_new_tokens, temperature, chat, **({"progress": tracker} if tracker else {}))
        episodes = [[{"role": "assistant", "content": completion}] for completion in completions]
    rows = []
    for index, turns in enumerate(episodes):
        record, prompt = records[index // samples], prompts[index // samples]
        completion = turns[-1]["content"]
        score = scorer.score(record, completion).fields()
        row = {**record, "prompt": prompt, "sample": index % samples, "completion": completion, **score}
        if task.verify_iter > 1:
            tries = (len(turns) + 1) // 2
            row.update(turns=turns, tries=tries, solved_first_try=float(tries == 1 and bool(score["correct"])))
        rows.append(row)
    per_prompt = [rows[i : i + samples] for i in range(0, len(rows), samples)]
    merged = [{**group[0], **{f: sum(r[f] for r in group) / samples for f in score}} for group in per_prompt]
    metrics = summarise(task.name, merged, task.group_field, task.extractions)
    if samples > 1:
        passed = [float(any(r["correct"] for r in group)) for group in per_prompt]
        low, high = bootstrap_ci(passed)
        metrics.update({f"pass@{samples}": sum(passed) / len(passed), f"pass@{samples}_ci": [low, high]})
    if task.verify_iter > 1:
        metrics.update(
            verify_iter=task.verify_iter,
            solved_first_try=sum(row["solved_first_try"] for row in rows) / len(rows),
            mean_tries=sum(row["tries"] for row in rows) / len(rows),
        )
    shown = {"format": style, "chat": chat, "system_prompt": system_prompt, "oneshot_example": oneshot_example}
    return {**metrics, **shown, "samples": samples, "temperature": temperature}, rows


def score_rows(task: Task, rows: list[dict], source: str = "input") -> tuple[dict, list[dict]]:
    """Score rows holding a task record plus ``completion``: (metrics, per-row scores)."""
    scored = []
    for number, row in enumerate(rows, 1):
        where = f"{source}:{number}"
        if "completion" not in row:
            raise ValueError(f"{where}: row has no 'completion' field")
        task.check_record(row, where)
        score = task.score(row, str(row["completion"]))
        scored.append({"id": row.get("id", number - 1), **score.fields()})
    if not scored:
        raise ValueError(f"{source}: no rows to score")
    return summarise(task.name, scored, extractions=task.extractions), scored


def summarise(
    task_name: str, samples: list[dict], group_field: str | None = None, extractions: tuple[str, ...] = ()
) -> dict:
    """Accuracy and format rate (with bootstrap CIs) of scored sample rows, and the accuracy under each answer
    extraction the task scores side by side (accuracy_<name>, from the rows' correct_<name>); per group when asked."""
    named = [(f"accuracy_{name}", f"correct_{name}") for name in extractions]
    metrics = {"task": task_name, "n": len(samples)}
    for name, field in (("accuracy", "correct"), ("format_rate", "formatted"), *named):
        values = [s[field] for s in samples]
        low, high = bootstrap_ci(values)
        metrics[name] = sum(values) / len(values)
        metrics[f"{name}_ci"] = [low, high]
    if group_field:
        groups: dict[str, list[float]] = {}
        for sample in samples:
            groups.setdefault(str(sample.get(group_field, "")), []).append(sample["correct"])
        metrics[f"by_{group_field}"] = {
            g: {"n": len(v), "accuracy": sum(v) / len(v)} for g, v in sorted(groups.items())
        }
    return metrics
