"""A group's prompt run once: the same log-probabilities, entropies and gradients as TRL's pass over every row, and
rollouts through forgetlab's decode loop."""

import pytest
import torch
from trl import GRPOTrainer

from forgetlab.compat.trl import labelled_positions_only
from forgetlab.models import load_model, load_tokenizer
from forgetlab.train import StageConfig
from forgetlab.train.common import trainer_defaults
from forgetlab.train.grpo import build_trainer
from forgetlab.train.rl import rl_arguments
from forgetlab.train.shared import decode_rollouts
from tests.conftest import perturbed_copy

TASK_NAME = "countdown"


@pytest.fixture(scope="module")
def trainer(tiny_model, tmp_path_factory):
    from forgetlab.tasks import make_task

    task = make_task(TASK_NAME, {"kind": "countdown"})
    folder = perturbed_copy(tiny_model, tmp_path_factory.mktemp("varied"), scale=0.2, seed=0)
    stage = StageConfig.from_dict({"method": "grpo", "task": TASK_NAME, "steps": 1, "batch_size": 2,
                                   "num_generations": 3, "max_completion_length": 6})  # fmt: skip
    labelled_positions_only()
    arguments = trainer_defaults(stage, str(tmp_path_factory.mktemp("trainer")), "cpu")
    model = load_model(folder, device="cpu", dtype="float32")
    tokenizer = load_tokenizer(folder, padding_side="left")
    return build_trainer(stage, {TASK_NAME: task}, task.build("train", 8, seed=0), model, tokenizer, arguments)


def _batch(pad: int):
    """Two prompts of different lengths (left-padded), three completions each of different lengths (right-padded),
    laid out as TRL lays out a step: prompt columns, then completion columns."""
    prompts = [[5, 9, 14, 3, 8, 21], [7, 2, 30]]
    completions = [[40, 41, 42, 43], [44, 45], [46, 47, 48], [50], [51, 52, 53, 54], [55, 56]]
    width, length = max(map(len, prompts)), max(map(len, completions))
    ids, mask = [], []
    for row, completion in enumerate(completions):
        prompt = prompts[row // 3]
        ids.append([pad] * (width - len(prompt)) + prompt + completion + [pad] * (length - len(completion)))
        mask.append(
            [0] * (width - len(prompt)) + [1] * (len(prompt) + len(completion)) + [0] * (length - len(completion))
        )
    return torch.tensor(ids), torch.tensor(mask), length


def test_a_pass_with_each_prompt_run_once_matches_trls_pass_over_every_row(trainer):
    ids, mask, keep = _batch(trainer.processing_class.pad_token_id)
    results = {}
    for name, method in (("shared", type(trainer)), ("trl", GRPOTrainer)):
        trainer.model.zero_grad()
        logps, entropies, _ = method._get_per_token_logps_and_entropies(
            trainer, trainer.model, ids, mask, keep, compute_entropy=True
        )
        (logps * mask[:, -keep:]).sum().backward()
        grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
        results[name] = (logps.detach() * mask[:, -keep:], entropies * mask[:, -keep:], grads)
    (logps, entropies, grads), (want_logps, want_entropies, want_grads) = results["shared"], results["trl"]
    torch.testing.assert_close(logps, want_logps, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(entropies, want_entropies, rtol=1e-4, atol=1e-4)
    assert grads.keys() == want_grads.keys() and len(grads) > 10
    for name in grads:
        torch.testing.assert_close(grads[name], want_grads[name], rtol=1e-3, atol=1e-5)


def test_rollouts_end_at_eos_and_keep_the_prompts_as_trl_tokenizes_them(trainer):
    prompts = [[{"role": "user", "content": text}] for text in ("Add 2 and 3.", "Add 2 and 3.", "Name a prime.")]
    torch.manual_seed(0)
    trainer.model.train()
    out = decode_rollouts(prompts, trainer)
    assert out["prompt_ids"] == trainer._tokenize_prompts(prompts)[0] and out["logprobs"] is None
    assert len(out["completion_ids"]) == 3 and trainer.model.training  # train mode back
    eos = set(trainer.eos_token_ids)
    for completion in out["completion_ids"]:
        assert 1 <= len(completion) <= trainer.max_completion_length
        assert not eos & set(completion[:-1])  # nothing after an EOS


def test_the_cpu_trains_a_step_in_one_pass_and_a_gpu_one_group_per_pass():
    stage = StageConfig.from_dict({"method": "grpo", "task": TASK_NAME, "batch_size": 4, "num_generations": 3})
    cpu = rl_arguments(stage, trainer_defaults(stage, "out", "cpu"), [1.0])
    gpu = rl_arguments(stage, trainer_defaults(stage, "out", "cuda"), [1.0])
    assert (cpu["per_device_train_batch_size"], cpu["gradient_accumulation_steps"]) == (12, 1)
    assert (gpu["per_device_train_batch_size"], gpu["gradient_accumulation_steps"]) == (3, 4)
