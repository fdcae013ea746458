"""The evaluation config (``evaluate:``), field by field: generation, KL to the base, standard benchmarks.

``forgetlab eval`` and ``forgetlab kl`` take their defaults from the same fields, so a single checkpoint scored
by hand is scored as the workflow scores it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..options import OptionError, Options, option, summary
from ..prompts import (
    FORMATS,
    ONESHOT_EXAMPLE_HELP,
    ONESHOT_EXAMPLES,
    SYSTEM_PROMPT_HELP,
    check_oneshot_example,
    check_system_prompt,
)

__all__ = ["BACKENDS", "MAX_NEW_TOKENS", "EvalscopeConfig", "EvaluateConfig", "HarnessConfig", "KLConfig"]

BACKENDS = ("auto", "hf", "vllm")  # generation engines (forgetlab.evaluate.engines)
# The longest generation any option asks for (evaluation, KL samples, RL rollouts): a typo's 10^8 tokens is refused
# when the config is read; a model's own context (max_position_embeddings) bounds it further at run time.
MAX_NEW_TOKENS = 32768


@dataclass(kw_only=True)
class KLConfig(Options):
    """KL of every trained checkpoint to its base model, on completions sampled from the base."""

    source: str = option(
        "samples",
        "what the KL is measured along: samples (completions sampled from the base; the checkpoint's for reverse "
        "KL) or reference (the task's reference completions, teacher-forced, as RL's Razor's notebook measures it)",
        enum=["samples", "reference"],
    )

    tasks: list[str] | None = option(None, "tasks to measure it on (null: evaluate.tasks)")
    n: int = option(16, "prompts per task (the first n of its test split)", minimum=1)
    max_new_tokens: int = option(32, "longest sampled completion in tokens", minimum=1, maximum=MAX_NEW_TOKENS)
    seed: int = option(0, "seed of the sampling")
    reverse: bool = option(
        False,
        "also KL(checkpoint || base), sampling from the checkpoint, as kl/<task>.reverse.json (a candidate "
        "predictor of forgetting)",
    )


@dataclass(kw_only=True)
class HarnessConfig(Options):
    """Prior-task benchmarks through lm-evaluation-harness, on every checkpoint."""

    tasks: list[str] = option(help="lm-eval task names (hellaswag, mmlu, ...)", factory=list)
    limit: int | None = option(None, "items per task (null: all)", minimum=1)
    num_fewshot: int | None = option(None, "few-shot examples (null: each task's default)", minimum=0)
    chat: bool = option(False, "apply the chat template")
    include_path: str | None = option(None, "folder of extra task YAMLs (local data, offline)")
    max_length: int | None = option(
        None, "longest context in tokens the model is given (lm-eval's HFLM max_length; null: the model's)", minimum=1
    )
    gen_kwargs: dict | None = option(
        None, "generation settings of the generative tasks, over each task's own (e.g. {max_gen_toks: 256})"
    )


@dataclass(kw_only=True)
class EvalscopeConfig(Options):
    """Benchmarks through evalscope instead, on every checkpoint; in an environment of its own (--sdm conda, or
    Snakemake under .venvs/evalscope's python)."""

    tasks: list[str] = option(help="evalscope dataset names (mmlu, gsm8k, ...)", factory=list)
    limit: int | None = option(
        None, "items per subset of each task, as evalscope counts (MMLU: per subject; null: all)", minimum=1
    )
    batch_size: int = option(8, "evalscope's evaluation batch size", minimum=1)
    few_shot: int | None = option(None, "few-shot examples of every task (null: each dataset's default)", minimum=0)
    dataset_dir: str | None = option(
        None, "a folder holding each task's data as <dir>/<task> (offline; null: evalscope downloads it)"
    )
    generation_config: dict | None = option(
        None, "evalscope's generation settings (e.g. {max_tokens: 512, do_sample: false}; null: its defaults)"
    )

    def __post_init__(self):
        from ..validation import did_you_mean
        from .evalscope_benchmarks import EVALSCOPE_BENCHMARKS, EVALSCOPE_GENERATION_SETTINGS, EVALSCOPE_VERSION

        for i, name in enumerate(self.tasks):
            if name not in EVALSCOPE_BENCHMARKS:
                message = f"{name!r} is not a benchmark of evalscope {EVALSCOPE_VERSION}"
                raise OptionError(f"tasks[{i}]", message + did_you_mean(name, EVALSCOPE_BENCHMARKS))
        # evalscope would keep an unknown key and ignore it: its default would run instead of the setting
        for name in self.generation_config or {}:
            if name not in EVALSCOPE_GENERATION_SETTINGS:
                message = f"{name!r} is not a generation setting of evalscope {EVALSCOPE_VERSION}"
                message += did_you_mean(name, EVALSCOPE_GENERATION_SETTINGS)
                raise OptionError(f"generation_config.{name}", message)


@dataclass(kw_only=True)
class EvaluateConfig(Options):
    """How every checkpoint (the base included) is evaluated."""

    tasks: list[str] = option(help="tasks every checkpoint is evaluated on (their test split)", minItems=1)
    max_new_tokens: int = option(64, "longest generated completion in tokens", minimum=1, maximum=MAX_NEW_TOKENS)
    batch_size: int | None = option(
        None,
        "prompts per generation batch; null: by model size and device (CPU 64, ~20% faster than 16 on one "
        "thread; GPU 256 below 1B parameters, 64 below 10B, 16 above)",
        minimum=1,
    )
    format: str | None = option(None, "prompt format of every evaluation (null: each task's)", enum=list(FORMATS))
    formats: list[str] = option(
        help="further prompt formats each task is evaluated in, as eval/<task>.<format>.json",
        factory=list,
        items={"enum": list(FORMATS)},
    )
    format_tasks: list[str] | None = option(
        None, "tasks evaluated in the further formats (null: every task of evaluate.tasks)"
    )
    every_steps: int | None = option(
        None, "keep and evaluate a checkpoint every K steps of each stage (a stage's save_every overrides)", minimum=1
    )
    backend: str = option(
        "auto", "generation engine; auto: vLLM when installed and a GPU is visible", enum=list(BACKENDS)
    )
    chat: bool = option(True, "true: the model's chat template; false: a plain 'Question: ... Answer:' prompt")
    system_prompt: str | None = option(None, SYSTEM_PROMPT_HELP, minLength=1)
    oneshot_example: str = option("user", ONESHOT_EXAMPLE_HELP, enum=list(ONESHOT_EXAMPLES))
    loglik_format: str | None = option(
        "natural",
        "prompt format the reference answers' log-likelihood is read in (null: the evaluation's). "
        "natural (the question alone, 'The answer is ...') is how a base model answers, so a stage that only "
        "teaches another format (tags) does not show as a gain",
        enum=list(FORMATS),
    )
    samples: int = option(1, "completions per prompt: more than 1 reports mean@k and pass@k", minimum=1)
    temperature: float = option(0.0, "sampling temperature; 0 is greedy", minimum=0)
    kl: KLConfig = option(help=summary(KLConfig), factory=KLConfig)
    harness: HarnessConfig = option(help=summary(HarnessConfig), factory=HarnessConfig)
    evalscope: EvalscopeConfig = option(help=summary(EvalscopeConfig), factory=EvalscopeConfig)

    def __post_init__(self):
        check_system_prompt(self.chat, self.system_prompt)
        check_oneshot_example(self.chat, self.oneshot_example)
        if self.samples > 1 and self.temperature <= 0:
            raise OptionError(
                "samples", f"{self.samples} samples per prompt need temperature > 0 (it is {self.temperature})"
            )
        if self.kl.tasks is None:
            self.kl.tasks = list(self.tasks)
        unknown = [task for task in self.format_tasks or [] if task not in self.tasks]
        if unknown:
            raise OptionError("format_tasks", f"{unknown} not in evaluate.tasks {self.tasks}")
        if self.format_tasks is None:
            self.format_tasks = list(self.tasks)
