"""Real TRL trainers on the tiny random Llama: parameters move, step logs are written, failures leave nothing."""

import pytest
import torch
from safetensors.torch import load_file

from forgetlab.io import read_jsonl
from forgetlab.tasks import make_task
from forgetlab.train import StageConfig, train_stage
from forgetlab.train.advantages import ADVANTAGE_EDGES, HISTOGRAM_KEY, ZERO_GROUPS_KEY, advantage_summary

TASK = make_task("countdown", {"kind": "countdown"})
RECORDS = TASK.build("train", 16, seed=0)


def _weights(folder):
    return load_file(str(folder / "model.safetensors"))


def _changed(before, after):
    return any(not torch.equal(before[name], after[name]) for name in before)


def test_sft_moves_parameters_and_logs_every_step(tiny_model, tmp_path):
    stage = StageConfig.from_dict({"method": "sft", "task": "countdown", "lr": 1e-3, "steps": 2, "batch_size": 2})
    out = train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "sft", tmp_path / "log.jsonl")
    assert _changed(_weights(tiny_model), _weights(out))
    steps = [row for row in read_jsonl(tmp_path / "log.jsonl") if "loss" in row]
    assert [row["step"] for row in steps] == [1, 2]


def test_grpo_with_kl_penalty_logs_reward_kl_and_advantages(tiny_model, tmp_path):
    stage = StageConfig.from_dict(
        {"method": "grpo", "task": "countdown", "lr": 1e-3, "steps": 1, "batch_size": 2, "num_generations": 2,
         "max_completion_length": 6, "beta": 0.1}
    )  # fmt: skip
    train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "grpo", tmp_path / "log.jsonl")
    first = read_jsonl(tmp_path / "log.jsonl")[0]
    assert {"reward", "kl", "rewards/correct/mean", "rewards/format/mean", "completions/mean_length"} <= set(first)
    # the step's 2 prompts x 2 completions, each advantage in one bin; two groups: zero share 0, 0.5 or 1
    assert sum(first[HISTOGRAM_KEY]) == 4 and len(first[HISTOGRAM_KEY]) == len(ADVANTAGE_EDGES) - 1
    assert first[ZERO_GROUPS_KEY] in (0.0, 0.5, 1.0)
    assert (tmp_path / "grpo" / "model.safetensors").exists()


def test_advantage_histogram_bins_and_zero_groups():
    summary = advantage_summary([0.0, 0.0, 0.0, 0.0, 1.5, -1.5, 0.5, -0.5, 9.0, -9.0, 0.0, 0.0], group_size=4)
    counts = summary[HISTOGRAM_KEY]
    centre = len(counts) // 2  # exact zeros have the middle bin to themselves
    assert counts[centre] == 6 and counts[centre + 6] == 1 and counts[centre - 2] == 1
    assert counts[-1] == 1 and counts[0] == 1  # beyond ±3: the outermost bins
    assert summary[ZERO_GROUPS_KEY] == pytest.approx(1 / 3)  # the first of three groups; the third has ±9
    assert advantage_summary([0.0] * 4 + [1.0, -1.0, 0.0, 0.0], 4)[ZERO_GROUPS_KEY] == 0.5
    assert advantage_summary([], 4) == {}


def test_a_failing_stage_leaves_no_target_behind(tiny_model, tmp_path, monkeypatch):
    from transformers import Trainer

    def killed(self, *args, **kwargs):
        raise RuntimeError("the job was killed")

    monkeypatch.setattr(Trainer, "train", killed)
    stage = StageConfig.from_dict({"method": "sft", "task": "countdown", "steps": 1, "save_every": 0})
    with pytest.raises(RuntimeError, match="killed"):
        train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "sft", tmp_path / "log.jsonl", tmp_path / "steps")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.jsonl.partial"]  # the steps so far, not a target


def test_intermediate_checkpoints_are_kept_every_k_steps(tiny_model, tmp_path):
    stage = StageConfig.from_dict(
        {"method": "sft", "task": "countdown", "lr": 1e-3, "steps": 3, "batch_size": 2, "save_every": 1}
    )
    assert stage.checkpoint_steps == [1, 2]  # the final step is the model itself
    out = train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "sft", tmp_path / "log.jsonl", tmp_path / "steps")
    assert sorted(p.name for p in (tmp_path / "steps").iterdir()) == ["1", "2"]
    first, second, final = _weights(tmp_path / "steps/1"), _weights(tmp_path / "steps/2"), _weights(out)
    assert _changed(first, second) and _changed(second, final) and _changed(_weights(tiny_model), first)
    assert (tmp_path / "steps/1/tokenizer.json").exists()
    assert not (out / "training_args.bin").exists() and not (tmp_path / "steps/1/training_args.bin").exists()


def _rl(method, **options):
    return StageConfig.from_dict(
        {"method": method, "task": "countdown", "lr": 1e-3, "steps": 1, "batch_size": 2, "num_generations": 2,
         "max_completion_length": 6, **options}
    )  # fmt: skip


def test_rloo_trains_with_the_same_rewards_and_advantage_log(tiny_model, tmp_path):
    out = train_stage(_rl("rloo"), TASK, RECORDS, tiny_model, tmp_path / "rloo", tmp_path / "log.jsonl")
    first = read_jsonl(tmp_path / "log.jsonl")[0]
    assert {"reward", "rewards/correct/mean", "rewards/format/mean", HISTOGRAM_KEY} <= set(first)
    assert sum(first[HISTOGRAM_KEY]) == 4
    assert (out / "model.safetensors").exists()


@pytest.mark.parametrize("method", ["grpo", "rloo"])
def test_each_batch_of_rollouts_trains_num_iterations_steps(method, tiny_model, tmp_path, monkeypatch):
    from trl import GRPOTrainer, RLOOTrainer

    from forgetlab.train import shared

    trainer_class = {"grpo": GRPOTrainer, "rloo": RLOOTrainer}[method]
    generate, logps_pass = trainer_class._generate_and_score_completions, shared._shared_pass
    generations, frozen_passes = [], []  # a pass without gradients: the old log-probabilities the ratio is to

    def counted_generation(self, *args):
        generations.append(1)
        return generate(self, *args)

    def counted_pass(*args):
        frozen_passes.append(not torch.is_grad_enabled())
        return logps_pass(*args)

    monkeypatch.setattr(trainer_class, "_generate_and_score_completions", counted_generation)
    monkeypatch.setattr(shared, "_shared_pass", counted_pass)
    stage = _rl(method, steps=4, num_iterations=2)
    train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "m", tmp_path / "log.jsonl")
    assert [row["step"] for row in read_jsonl(tmp_path / "log.jsonl") if "loss" in row] == [1, 2, 3, 4]
    assert len(generations) == 2 and stage.examples == 4  # 2 batches of 2 prompts, each trained twice
    assert frozen_passes.count(True) == 2


def test_a_nan_reward_stops_training_naming_the_step_and_reward(tiny_model, tmp_path, monkeypatch):
    from forgetlab.rewards import CorrectnessReward

    monkeypatch.setattr(CorrectnessReward, "value", lambda self, task, record, completion: float("nan"))
    with pytest.raises(FloatingPointError, match=r"step 1: reward 'correct' is nan for completion 0"):
        train_stage(_rl("grpo"), TASK, RECORDS, tiny_model, tmp_path / "grpo", tmp_path / "log.jsonl")
    assert not (tmp_path / "grpo").exists() and not (tmp_path / "log.jsonl").exists()


def test_a_nan_loss_stops_training_at_that_step(tiny_model, tmp_path, monkeypatch):
    from transformers import Trainer

    training_step = Trainer.training_step

    def diverging(self, *args, **kwargs):
        loss = training_step(self, *args, **kwargs)
        return loss * float("nan") if self.state.global_step == 1 else loss  # the second step diverges

    monkeypatch.setattr(Trainer, "training_step", diverging)
    stage = StageConfig.from_dict({"method": "sft", "task": "countdown", "lr": 1e-3, "steps": 3, "batch_size": 2})
    with pytest.raises(FloatingPointError, match=r"step 2: loss is nan"):
        train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "sft", tmp_path / "log.jsonl")
    assert not (tmp_path / "sft").exists()


def test_lora_writes_a_merged_model_and_keeps_the_adapter(tiny_model, tmp_path):
    from forgetlab.models import load_model

    stage = StageConfig.from_dict(
        {"method": "sft", "task": "countdown", "lr": 1e-2, "steps": 2, "batch_size": 2,
         "lora": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]}}
    )  # fmt: skip
    out = train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "sft", tmp_path / "log.jsonl")
    before, after = _weights(tiny_model), _weights(out)
    assert sorted(after) == sorted(before)  # a full folder in the base's layout, no adapter tensors
    moved = {name for name in before if not torch.equal(before[name], after[name])}
    assert moved and all(("q_proj" in name or "v_proj" in name) for name in moved)
    assert (out / "adapter" / "adapter_config.json").exists() and (out / "tokenizer.json").exists()
    assert load_model(out, "cpu") is not None


def test_8bit_adam_on_the_cpu_is_refused_before_training(tiny_model, tmp_path):
    stage = StageConfig.from_dict({"method": "sft", "task": "countdown", "steps": 1, "optimizer": "adamw_8bit"})
    with pytest.raises(ValueError, match="optimizer adamw_8bit: bitsandbytes' 8-bit AdamW runs on a GPU only"):
        train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "sft", tmp_path / "log.jsonl", device="cpu")
    assert not (tmp_path / "sft").exists()


def test_sft_prompts_that_fill_max_length_alone_are_refused_before_training(tiny_model, tmp_path):
    """A one-shot countdown prompt (~260 tokens) fills SFT's default max_length 256: TRL would drop its examples."""
    stage = StageConfig.from_dict({"method": "sft", "task": "countdown", "steps": 1, "format": "oneshot"})
    with pytest.raises(ValueError, match=r"max_length 256: 16 of 16 training prompts fill it alone \(the longest"):
        train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "sft", tmp_path / "log.jsonl", device="cpu")
    assert not (tmp_path / "sft").exists()


def test_a_verl_stage_is_refused_by_a_trl_job_naming_where_it_runs(tiny_model, tmp_path):
    spec = {"method": "ppo", "engine": "verl", "task": "countdown", "steps": 1, "num_generations": 1}
    with pytest.raises(ValueError, match="engine: verl: ppo trains in verl's environment, through the workflow's "):
        train_stage(StageConfig.from_dict(spec), TASK, RECORDS, tiny_model, tmp_path / "ppo", tmp_path / "log.jsonl")
    assert not (tmp_path / "ppo").exists()


def test_replay_mixes_an_exact_share_of_the_prior_task():
    from forgetlab.train.common import training_prompts
    from forgetlab.train.replay import mix_replay

    prior = make_task("arithmetic", {"kind": "arithmetic"})
    mixed = mix_replay(RECORDS, prior.build("train", 3, seed=0), ratio=0.25, count=20, seed=1)
    assert len(mixed) == 20 and sum(r["task"] == "arithmetic" for r in mixed) == 5
    stage = StageConfig.from_dict({"method": "sft", "task": "countdown", "replay": {"task": "arithmetic"}})
    prompts = training_prompts(stage, {"countdown": TASK, "arithmetic": prior}, mixed)
    for record, prompt, _, task in prompts:
        assert task.name == record["task"] and task.question(record) in prompt


@pytest.mark.parametrize("method", ["sft", "grpo"])
def test_a_replay_stage_trains_on_both_tasks(method, tiny_model, tmp_path):
    prior = make_task("arithmetic", {"kind": "arithmetic"})
    extra = {"num_generations": 2, "max_completion_length": 6} if method == "grpo" else {}
    stage = StageConfig.from_dict({"method": method, "task": "countdown", "lr": 1e-3, "steps": 2, "batch_size": 2,
                                   "replay": {"task": "arithmetic", "ratio": 0.5}, **extra})  # fmt: skip
    replay = (prior, prior.build("train", 4, seed=0))
    out = train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "m", tmp_path / "log.jsonl", replay=replay)
    assert [row["step"] for row in read_jsonl(tmp_path / "log.jsonl") if "loss" in row] == [1, 2]
    if method == "sft":  # a random model's GRPO groups score alike: no advantage, no change
        assert _changed(_weights(tiny_model), _weights(out))
    with pytest.raises(ValueError, match="replay of task 'arithmetic': its training records were not given"):
        train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "n", tmp_path / "log2.jsonl")


def test_rollouts_go_to_vllm_where_it_can_run_and_stop_early_where_it_cannot(tiny_model, tmp_path):
    from forgetlab.train.rl import rollout_arguments

    stage = StageConfig.from_dict({"method": "grpo", "task": "countdown", "vllm_gpu_memory_utilization": 0.4})
    assert rollout_arguments(stage, "cpu", vllm_installed=True) == {}  # auto: no GPU, HF generate
    assert rollout_arguments(stage, "cuda", vllm_installed=False) == {}  # auto: vLLM not installed
    assert rollout_arguments(stage, "cuda", vllm_installed=True, tries=True) == {}  # auto: episodes of tries
    assert rollout_arguments(stage, "cuda", vllm_installed=True) == {
        "use_vllm": True,
        "vllm_mode": "colocate",
        "vllm_gpu_memory_utilization": 0.4,
    }
    hf = StageConfig.from_dict({"method": "rloo", "task": "countdown", "rollouts": "hf"})
    assert rollout_arguments(hf, "cuda", vllm_installed=True) == {}
    server = StageConfig.from_dict({"method": "grpo", "task": "countdown", "rollouts": "vllm", "vllm_mode": "server"})
    assert rollout_arguments(server, "cuda", vllm_installed=True)["vllm_mode"] == "server"
    with pytest.raises(ValueError, match="rollouts: vllm cannot run here: no CUDA GPU"):
        rollout_arguments(server, "cpu", vllm_installed=True)
    with pytest.raises(ValueError, match="rollouts: vllm cannot run here"):  # in the job, before any model loads
        train_stage(server, TASK, RECORDS, tiny_model, tmp_path / "model", tmp_path / "log.jsonl", device="cpu")
    assert not (tmp_path / "model").exists()


def test_liger_kernels_on_the_cpu_are_refused_before_training(tiny_model, tmp_path):
    stage = StageConfig.from_dict({"method": "sft", "task": "countdown", "liger_kernel": True})
    with pytest.raises(ValueError, match=r"liger_kernel: .*no GPU"):
        train_stage(stage, TASK, RECORDS, tiny_model, tmp_path / "model", tmp_path / "log.jsonl", device="cpu")


def _shown(batch, tokenizer) -> list[str]:
    """The prompts of a training batch: GRPO's rows (each prompt's turns) or SFT's tokenized examples, as text."""
    if isinstance(batch, list):
        return [row["prompt"][-1]["content"] for row in batch]
    return tokenizer.batch_decode(batch["input_ids"])


@pytest.mark.parametrize("method", ["sft", "grpo"])
def test_a_per_step_curriculum_reaches_the_trainer_one_whole_step_at_a_time(method, tiny_model, tmp_path):
    import itertools

    from forgetlab.models import load_model, load_tokenizer
    from forgetlab.train.common import trainer_defaults, training_prompts
    from forgetlab.train.stage import trainer_builder

    # a one-shot countdown example (the seed's worked example) is ~260 tokens: past SFT's default max_length
    extra = {"num_generations": 2} if method == "grpo" else {"max_length": 512}
    stage = StageConfig.from_dict({"method": method, "task": "countdown", "steps": 6, "batch_size": 2,
                                   "mix_oneshot": 1.0, "curriculum": "per_step", "seed": 3, **extra})  # fmt: skip
    tokenizer = load_tokenizer(tiny_model, padding_side="left")
    model = load_model(tiny_model, device="cpu", dtype="float32")
    arguments = trainer_defaults(stage, str(tmp_path), "cpu")
    trainer = trainer_builder(method)(stage, {"countdown": TASK}, RECORDS, model, tokenizer, arguments)
    steps = [_shown(batch, tokenizer) for batch in itertools.islice(trainer.get_train_dataloader(), stage.steps)]
    oneshot = [["Example:" in text for text in step] for step in steps]
    assert all(len(set(step)) == 1 for step in oneshot)  # a step's prompts share the decision
    assert oneshot[0][0] and not oneshot[-1][0]  # m = 1: from one-shot at the first step to none at the last
    laid_out = [style == "oneshot" for _, _, style, _ in training_prompts(stage, {"countdown": TASK}, RECORDS)]
    assert [step[0] for step in oneshot] == laid_out[:: stage.batch_size]  # in order: no sampler shuffled it


@pytest.mark.parametrize("method", ["sft", "grpo"])
def test_the_trainer_reads_a_prompt_in_the_tokens_evaluation_shows_with_the_system_turn(method, tiny_model, tmp_path):
    from forgetlab.compat.trl import tokenize_prompts
    from forgetlab.evaluate.likelihood import encode_prompt
    from forgetlab.models import load_model, load_tokenizer
    from forgetlab.prompts import render_prompt
    from forgetlab.train.common import trainer_defaults
    from forgetlab.train.stage import trainer_builder

    system = "You are a mathematical puzzle solver."
    extra = {"num_generations": 2} if method == "grpo" else {}
    stage = StageConfig.from_dict({"method": method, "task": "countdown", "system_prompt": system, **extra})
    tokenizer = load_tokenizer(tiny_model, padding_side="left")
    model = load_model(tiny_model, device="cpu", dtype="float32")
    arguments = trainer_defaults(stage, str(tmp_path), "cpu")
    trainer = trainer_builder(method)(stage, {"countdown": TASK}, RECORDS[:2], model, tokenizer, arguments)
    first = trainer.train_dataset[0]
    if method == "grpo":
        trained = tokenize_prompts(trainer, [first["prompt"]])[0]
    else:  # the example's tokens before the first one its loss is on (the completion's)
        trained = first["input_ids"][: next(i for i, label in enumerate(first["labels"]) if label != -100)]
    shown = encode_prompt(tokenizer, render_prompt(TASK, RECORDS[0], TASK.format), True, system)
    assert list(trained) == shown
    text = tokenizer.decode(shown)
    assert system in text and "SmolLM" not in text  # the template's own default system turn is replaced


@pytest.mark.parametrize("method", ["sft", "grpo"])
def test_a_one_shot_example_in_turns_is_trained_on_as_evaluation_shows_it(method, tiny_model, tmp_path):
    from forgetlab.compat.trl import tokenize_prompts
    from forgetlab.evaluate.likelihood import encode_prompt
    from forgetlab.models import load_model, load_tokenizer
    from forgetlab.prompts import render_prompt
    from forgetlab.train.common import trainer_defaults
    from forgetlab.train.stage import trainer_builder

    system = "You are a mathematical puzzle solver."
    extra = {"num_generations": 2} if method == "grpo" else {"max_length": 512}  # one-shot: ~260 prompt tokens
    stage = StageConfig.from_dict(
        {"method": method, "task": "countdown", "format": "oneshot", "system_prompt": system,
         "oneshot_example": "turns", **extra}
    )  # fmt: skip
    tokenizer = load_tokenizer(tiny_model, padding_side="left")
    model = load_model(tiny_model, device="cpu", dtype="float32")
    arguments = trainer_defaults(stage, str(tmp_path), "cpu")
    trainer = trainer_builder(method)(stage, {"countdown": TASK}, RECORDS[:2], model, tokenizer, arguments)
    first = trainer.train_dataset[0]
    turns = render_prompt(TASK, RECORDS[0], "oneshot", "turns")
    if method == "grpo":  # the dataset's prompt: the system turn, the example asked and answered, the question
        assert first["prompt"] == [{"role": "system", "content": system}, *turns]
        trained = tokenize_prompts(trainer, [first["prompt"]])[0]
    else:  # the example's tokens before the first one its loss is on: the example's answer is context, not a target
        trained = first["input_ids"][: next(i for i, label in enumerate(first["labels"]) if label != -100)]
    shown = encode_prompt(tokenizer, turns, True, system)
    assert list(trained) == shown
    text = tokenizer.decode(shown)
    example = TASK.reference(TASK.example(), "think")
    places = [text.index(part) for part in (system, TASK.question(TASK.example()), example, TASK.question(RECORDS[0]))]
    assert places == sorted(places) and "Example:" not in text


@pytest.mark.parametrize("chat", [True, False])
def test_grpo_trains_episodes_of_tries_with_the_feedback_masked_out(chat, tiny_model, tmp_path, monkeypatch):
    from forgetlab.models import load_tokenizer
    from forgetlab.rewards import CorrectnessReward
    from forgetlab.train.episodes import EpisodeRollouts

    task = make_task("gp", {"kind": "generalpoints", "verify_iter": 2})
    rollout, captured = EpisodeRollouts.__call__, []

    def capturing(self, prompts, trainer):
        captured.append(rollout(self, prompts, trainer))
        return captured[-1]

    scored, read = CorrectnessReward.__call__, []

    def reading(self, prompts, completions, **columns):
        read.append(columns.get("final_completion"))
        return scored(self, prompts, completions, **columns)

    monkeypatch.setattr(EpisodeRollouts, "__call__", capturing)
    monkeypatch.setattr(CorrectnessReward, "__call__", reading)
    stage = _rl("grpo", task="gp", steps=2, chat=chat)
    train_stage(stage, task, task.build("train", 8, seed=0), tiny_model, tmp_path / "m", tmp_path / "log.jsonl")
    assert [row["step"] for row in read_jsonl(tmp_path / "log.jsonl") if "loss" in row] == [1, 2]
    tokenizer = load_tokenizer(tiny_model)
    assert len(captured) == 2 and len(captured[0]["completion_ids"]) == 4  # 2 prompts x 2 completions per step
    assert read == [rollout["final_completion"] for rollout in captured]  # the reward scores the last try
    for ids, mask, final in zip(
        captured[0]["completion_ids"], captured[0]["env_mask"], captured[0]["final_completion"]
    ):
        # random weights never answer right: two tries, the verifier's turn between them, masked out
        first_env, last_env = mask.index(0), len(mask) - mask[::-1].index(0)
        assert set(mask[first_env:last_env]) == {0} and 1 in mask[:first_env] and 1 in mask[last_env:]
        assert "You failed this trial because" in tokenizer.decode(ids[first_env:last_env])
        assert final == tokenizer.decode(ids[last_env:], skip_special_tokens=True)
