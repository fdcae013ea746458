"""Stage options reach TRL: the trainers' configs carry them, and the optimizers and collators use them."""

import sys
import types

import pytest
from transformers import Trainer

from forgetlab.train import StageConfig
from forgetlab.train.common import trainer_defaults
from forgetlab.train.config import OPTIMIZERS
from forgetlab.train.rl import rl_arguments

ADAM = {"adam_beta1": 0.8, "adam_beta2": 0.95, "adam_epsilon": 1e-6}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_adam_options_reach_the_optimizer_the_stage_picks(optimizer, monkeypatch, tmp_path):
    from trl import SFTConfig

    # bitsandbytes needs a GPU: a stand-in module receives what transformers would build its 8-bit AdamW with
    monkeypatch.setitem(sys.modules, "bitsandbytes", types.ModuleType("bitsandbytes"))
    stand_in = types.ModuleType("bitsandbytes.optim")
    stand_in.AdamW = stand_in.Lion = stand_in.RMSprop = object
    monkeypatch.setitem(sys.modules, "bitsandbytes.optim", stand_in)
    monkeypatch.setattr("transformers.trainer_optimizer.is_bitsandbytes_available", lambda: True)

    stage = StageConfig.from_dict({"method": "sft", "task": "t", "optimizer": optimizer, **ADAM})
    args = SFTConfig(**trainer_defaults(stage, str(tmp_path), "cpu"))
    assert (args.adam_beta1, args.adam_beta2, args.adam_epsilon, args.optim) == (0.8, 0.95, 1e-6, OPTIMIZERS[optimizer])
    _, kwargs = Trainer.get_optimizer_cls_and_kwargs(args)
    assert kwargs["betas"] == (0.8, 0.95) and kwargs["eps"] == 1e-6


@pytest.mark.parametrize("method", ["grpo", "rloo"])
def test_rollout_sampling_and_iterations_reach_the_rl_configs(method, tmp_path):
    from trl import GRPOConfig, RLOOConfig

    stage = StageConfig.from_dict(
        {"method": method, "task": "t", "top_p": 0.9, "top_k": 50, "num_iterations": 3, "num_generations": 2, **ADAM}
    )
    config = {"grpo": GRPOConfig, "rloo": RLOOConfig}[method]
    args = config(**rl_arguments(stage, trainer_defaults(stage, str(tmp_path), "cpu"), [1.0]))
    assert (args.top_p, args.top_k, args.num_iterations, args.adam_beta2) == (0.9, 50, 3, 0.95)


@pytest.mark.parametrize("completion_only", [True, False])
def test_completion_only_loss_false_trains_on_the_prompt_tokens_too(completion_only, tiny_model, tmp_path):
    from forgetlab.models import load_model, load_tokenizer
    from forgetlab.tasks import make_task
    from forgetlab.train.sft import build_trainer

    task = make_task("countdown", {"kind": "countdown"})
    records = task.build("train", 2, seed=0)
    stage = StageConfig.from_dict(
        {"method": "sft", "task": "countdown", "batch_size": 2, "completion_only_loss": completion_only}
    )
    model, tokenizer = load_model(tiny_model, device="cpu", dtype="float32"), load_tokenizer(tiny_model)
    arguments = trainer_defaults(stage, str(tmp_path), "cpu")
    trainer = build_trainer(stage, {"countdown": task}, records, model, tokenizer, arguments)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    labelled = batch["labels"] != -100
    for row, record in enumerate(records):
        text = tokenizer.decode(batch["input_ids"][row][labelled[row]])
        assert task.reference(record) in text
        assert (task.question(record) in text) is not completion_only
    assert completion_only or labelled.sum() == batch["attention_mask"].sum()  # every token of the text
