"""The workflow config: one check for every entry point, messages naming the field, defaults from the option
classes, and config/schema.yaml generated from them."""

import copy

import pytest
import yaml

from forgetlab.config import ConfigError, load_config, merge_configs, missing_sections, resolve_config, schema_yaml
from forgetlab.evaluate.config import BACKENDS
from forgetlab.models import MODEL_SOURCES
from forgetlab.prompts import FORMATS
from forgetlab.rewards import REWARD_KINDS
from forgetlab.tasks import TASK_KINDS
from forgetlab.train.config import METHODS, StageConfig

from .conftest import ROOT, TEST_CONFIG

PRESETS = sorted((ROOT / "config").glob("paper-*.yaml"))


def _tiny():
    return yaml.safe_load(TEST_CONFIG.read_text())


@pytest.mark.parametrize("path", [ROOT / "config" / "config.yaml", TEST_CONFIG, *PRESETS], ids=lambda p: p.name)
def test_shipped_configs_resolve_and_resolving_again_changes_nothing(path):
    config = load_config(path)
    assert config["figures_only"] is False and config["device"] == "auto"  # defaults are filled in
    again, _ = resolve_config(copy.deepcopy(config))
    assert again == config


def test_the_methods_comparison_resolves_on_top_of_the_default():
    from snakemake.utils import update_config

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    update_config(config, yaml.safe_load((ROOT / "config" / "compare-methods.yaml").read_text()))
    resolved, _ = resolve_config(config)
    methods = {label: stage["method"] for label, stage in resolved["stages"].items()}
    assert sorted(methods.values()) == ["grpo", "grpo", "rloo", "sft", "sft"]
    assert resolved["stages"]["sft-replay-countdown"]["replay"] == {"task": "arithmetic", "ratio": 0.25}
    assert len(resolved["lineages"]) == 5


def test_configs_merge_as_snakemake_merges_several_configfiles():
    from snakemake.utils import update_config

    files = [ROOT / "config" / "config.yaml", ROOT / "config" / "compare-methods.yaml"]
    base, overlay = (yaml.safe_load(path.read_text()) for path in files)
    expected = copy.deepcopy(base)
    update_config(expected, overlay)
    merged = merge_configs(base, overlay)
    assert merged == expected
    merged["lineages"].append(["sft-countdown"])
    merged["models"]["other"] = {}
    assert [base, overlay] == [yaml.safe_load(path.read_text()) for path in files]  # the inputs stay as they were
    merged = merge_configs({"a": {"b": 1, "c": [1]}, "d": 1}, {"a": {"c": [2]}, "d": {"e": 2}}, None)
    assert merged == {"a": {"b": 1, "c": [2]}, "d": {"e": 2}}  # a list is replaced, not extended


def test_an_overlay_lacks_the_sections_without_a_default():
    assert missing_sections(_tiny()) == []
    assert missing_sections(yaml.safe_load((ROOT / "tests" / "config" / "analysis.yaml").read_text())) == [
        "models",
        "tasks",
        "evaluate",
    ]
    assert missing_sections({"models": {}, "evaluate": {}}) == ["tasks"]
    assert missing_sections(None) == ["models", "tasks", "evaluate"]


def test_the_schema_file_is_generated_from_the_option_classes():
    assert (ROOT / "config" / "schema.yaml").read_text() == schema_yaml(), (
        "run: forgetlab schema --out config/schema.yaml"
    )


def test_the_options_page_is_generated_from_the_schema():
    from forgetlab.config import config_schema
    from forgetlab.options_page import options_markdown

    page = options_markdown(config_schema())
    assert (ROOT / "docs" / "options.md").read_text() == page, "run: forgetlab schema --markdown --out docs/options.md"
    # every option class has its table, every stage option its row
    assert "## StageConfig" in page and "| `lr` | number | `1e-05` |" in page and "(> 0)" in page


def test_every_key_of_the_schema_is_described_and_every_optional_key_has_a_default():
    schema = yaml.safe_load(schema_yaml())
    undescribed, undefaulted = [], []

    def walk(node, path):
        if isinstance(node, dict):
            required = set(node.get("required", []))
            for key, sub in node.get("properties", {}).items():
                where = f"{path}.{key}"
                if not sub.get("description"):
                    undescribed.append(where)
                text = sub.get("description", "")
                if (
                    key not in required
                    and "default" not in sub
                    and "default per" not in text
                    and "(required)" not in text
                ):
                    undefaulted.append(where)
                walk(sub, where)
            for key, sub in node.items():
                if key != "properties":
                    walk(sub, f"{path}/{key}")

    walk(schema, "")
    assert undescribed == [] and undefaulted == []


def test_the_schemas_names_come_from_the_registries():
    definitions = yaml.safe_load(schema_yaml())["$defs"]
    assert definitions["Task"]["properties"]["kind"]["enum"] == sorted(TASK_KINDS)
    assert definitions["StageConfig"]["properties"]["method"]["enum"] == sorted(METHODS)
    assert definitions["ModelSpec"]["properties"]["source"]["enum"] == sorted(MODEL_SOURCES)
    assert definitions["Task"]["properties"]["format"]["enum"] == list(FORMATS)
    assert definitions["EvaluateConfig"]["properties"]["backend"]["enum"] == list(BACKENDS)
    assert definitions["StageConfig"]["properties"]["rewards"]["propertyNames"]["enum"] == list(REWARD_KINDS)


BAD = [
    (
        lambda c: c["tasks"]["arithmetic"].update(numbers=3),
        r"tasks.arithmetic.numbers: not an option of kind 'arithmetic'",
    ),
    (
        lambda c: c["stages"]["sft-countdown"].update(beta=0.1),
        r"stages.sft-countdown.beta: not an option of method 'sft' \(an option of grpo, ppo, rloo\)",
    ),
    (
        lambda c: c["stages"]["grpo-countdown"].update(num_generation=4),
        r"stages.grpo-countdown.num_generation: unknown option 'num_generation'; did you mean 'num_generations'\?",
    ),
    (
        lambda c: c["stages"]["sft-countdown"].update(lr="fast"),
        r"stages.sft-countdown.lr: expected a number, not 'fast'",
    ),
    (
        lambda c: c["stages"]["sft-countdown"].update(steps="many"),
        r"stages.sft-countdown.steps: expected an integer, not 'many'",
    ),
    (lambda c: c["stages"]["sft-countdown"].update(method="dpo"), r"stages.sft-countdown.method: 'dpo' is not one of"),
    (
        lambda c: c["stages"]["grpo-countdown"].update(rewards={"novelty": 1.0}),
        r"stages.grpo-countdown.rewards: 'novelty' is not one of \['correct', 'format', 'length', 'boxed_format', ",
    ),
    (
        lambda c: c["stages"]["grpo-countdown"].update(rewards={"correct": 0}),
        r"stages.grpo-countdown.rewards: at least one reward needs a non-zero weight",
    ),
    (lambda c: c["tasks"]["countdown"].update(kind="sudoku"), r"tasks.countdown.kind: 'sudoku' is not one of"),
    (
        lambda c: c["tasks"]["countdown"].update(n_test=500),
        r"tasks.countdown.n_test: 500 exceeds test_pool_size \(200\)",
    ),
    (lambda c: c.update(evaluat={}), r"^evaluat: unknown option 'evaluat'; did you mean 'evaluate'\?"),
    (lambda c: c["models"].update(tiny={"source": "hub"}), r"models.tiny: 'id' is required \(source 'hub'\)"),
    (
        lambda c: c["models"]["tiny"].update(id="Qwen/Qwen2.5-0.5B"),
        r"models.tiny.id: not an option of source 'tiny-random' \(an option of hub\)",
    ),
    (
        lambda c: c["stages"].update({"eval": {"method": "sft", "task": "countdown"}}),
        r"stages.eval: 'eval' is a folder name of the results",
    ),
    (
        lambda c: c["lineages"].append(["sft-countdown", "grpo-countdwn"]),
        r"lineages\[3\]\[1\]: stage 'grpo-countdwn' is not defined .*; did you mean 'grpo-countdown'\?",
    ),
    (
        lambda c: c["stages"]["sft-countdown"].update(task="gsm8k"),
        r"stages.sft-countdown.task: task 'gsm8k' is not defined",
    ),
    (lambda c: c["evaluate"]["tasks"].append("mmlu"), r"evaluate.tasks\[2\]: task 'mmlu' is not defined"),
    (
        lambda c: c["evaluate"]["kl"].update(tasks=["arithmetc"]),
        r"evaluate.kl.tasks\[0\]: task 'arithmetc' is not defined .*did you mean 'arithmetic'\?",
    ),
    (lambda c: c["evaluate"].update(samples=4), r"evaluate.samples: 4 samples per prompt need temperature > 0"),
    (
        lambda c: c["evaluate"].update(chat=False, system_prompt="you're a helpful assistant."),
        r"evaluate.system_prompt: system_prompt needs chat: true \(chat: false is a plain",
    ),
    (
        lambda c: c["stages"]["grpo-countdown"].update(chat=False, system_prompt="You are a puzzle solver."),
        r"stages.grpo-countdown.system_prompt: system_prompt needs chat: true",
    ),
    (lambda c: c["evaluate"].update(system_prompt=""), r"evaluate.system_prompt: '' should be non-empty"),
    (
        lambda c: c["evaluate"].update(chat=False, oneshot_example="turns"),
        r"evaluate.oneshot_example: oneshot_example: turns needs chat: true \(chat: false is a plain",
    ),
    (
        lambda c: c["stages"]["sft-countdown"].update(chat=False, format="oneshot", oneshot_example="turns"),
        r"stages.sft-countdown.oneshot_example: oneshot_example: turns needs chat: true",
    ),
    (lambda c: c["stages"]["sft-countdown"].update(oneshot_example="system"), r"oneshot_example: 'system' is not one"),
    (lambda c: c["stages"]["sft-countdown"].update(curriculum="per_batch"), r"curriculum: 'per_batch' is not one of"),
    (lambda c: c["evaluate"].update(formats=["chatty"]), r"evaluate.formats\[0\]: 'chatty' is not one of"),
    (lambda c: c["figures"].update(prior_task="aritmetic"), r"figures.prior_task: task 'aritmetic' is not defined"),
    (
        lambda c: c["resources"]["train"].update(gpus=2),
        r"resources.train.gpus: unknown option 'gpus'; did you mean 'gpu'\?",
    ),
    (lambda c: c.update(device="gpu"), r"device: 'gpu' is not one of \['auto', 'cpu', 'cuda'\]"),
    (
        lambda c: c["stages"]["sft-countdown"].update(replay={"task": "arithmetc", "ratio": 0.2}),
        r"stages.sft-countdown.replay.task: task 'arithmetc' is not defined .*did you mean 'arithmetic'\?",
    ),
    (
        lambda c: c["stages"]["sft-countdown"].update(replay={"task": "countdown"}),
        r"stages.sft-countdown.replay.task: 'countdown' is the stage's own task",
    ),
    (
        lambda c: c["stages"]["sft-countdown"].update(replay={"task": "arithmetic", "ratio": 1.0}),
        r"stages.sft-countdown.replay.ratio: 1.0 is greater than or equal to the maximum of 1",
    ),
    (
        lambda c: c["stages"]["grpo-countdown"].update(sweep={"replay.ratio": [0.1]}),
        r"stages.grpo-countdown.sweep.replay.ratio: the stage sets no replay to sweep",
    ),
    (
        lambda c: c.update(recovery={"from_steps": [2]}),
        r"recovery.from_steps\[0\]: stage 'sft-countdown' keeps no checkpoint at step 2 \(kept: \[1\]\); set "
        r"stages.sft-countdown.save_every",
    ),
    (
        lambda c: c.update(lineages=[["sft-countdown"]], recovery={"from_steps": [1]}),
        r"recovery.from_steps: no lineage of two or more stages",
    ),
    (lambda c: c.update(sweep={"learning_rate": [1e-5]}), r"sweep.learning_rate: no stage takes this option"),
    (lambda c: c.update(sweep={"lr": [1e-5, "fast"]}), r"sweep.lr\[1\]: expected a number, not 'fast'"),
    (
        lambda c: c["stages"]["sft-countdown"].update(sweep={"beta": [0.1]}),
        r"stages.sft-countdown.sweep.beta: not an option of method 'sft'",
    ),
    (
        lambda c: c["stages"]["sft-countdown"].update(sweep={"task": ["arithmetic"]}),
        r"stages.sft-countdown.sweep: 'task' is not allowed here",
    ),
    (
        lambda c: c["stages"]["sft-countdown"].update(epochs=1),
        r"stages.sft-countdown.epochs: steps \(2\) and epochs \(1.0\) are both given; give one of them",
    ),
    (
        lambda c: c["stages"]["grpo-countdown"].update(epochs=1, steps=StageConfig.steps, sweep={"steps": [3]}),
        r"stages.grpo-countdown-steps3.epochs: steps \(3\) and epochs \(1.0\) are both given",
    ),
]


@pytest.mark.parametrize("mutate, message", BAD, ids=[message.split(":")[0].strip("^") for _, message in BAD])
def test_a_bad_config_stops_naming_the_field(mutate, message):
    config = _tiny()
    mutate(config)
    with pytest.raises(ConfigError, match=message):
        resolve_config(config)


def test_yaml_exponents_without_a_dot_are_numbers():
    config = _tiny()
    config["stages"]["sft-countdown"]["lr"] = "1e-5"  # how YAML 1.1 reads 1e-5
    assert resolve_config(config)[0]["stages"]["sft-countdown"]["lr"] == 1e-5


def test_stages_resolve_to_their_methods_options_with_defaults():
    config, _ = resolve_config(_tiny())
    sft, grpo = config["stages"]["sft-countdown"], config["stages"]["grpo-countdown"]
    assert sft["max_length"] == 256 and "beta" not in sft and "sweep" not in sft
    assert grpo["rewards"] == {"correct": 1.0, "format": 0.1} and "max_length" not in grpo
    assert sft["save_every"] == 1 and grpo["save_every"] == 0  # its own, else evaluate.every_steps (unset: none)
    assert config["evaluate"]["kl"]["tasks"] == ["countdown"] and config["evaluate"]["harness"]["tasks"] == []


def test_every_steps_fills_the_stages_without_their_own_save_every():
    config = _tiny()
    config["evaluate"]["every_steps"] = 2
    resolved, _ = resolve_config(config)
    assert (
        resolved["stages"]["grpo-countdown"]["save_every"] == 2
        and resolved["stages"]["sft-countdown"]["save_every"] == 1
    )


def test_key_order_in_the_file_does_not_change_the_resolved_config():
    config = _tiny()
    reordered = yaml.safe_load(yaml.safe_dump(config, sort_keys=True))
    reordered["stages"]["grpo-countdown"]["rewards"] = {"format": 0.1, "correct": 1.0}
    config["stages"]["grpo-countdown"]["rewards"] = {"correct": 1.0, "format": 0.1}
    assert repr(resolve_config(reordered)[0]) == repr(resolve_config(config)[0])


def test_a_partial_resource_family_keeps_the_other_defaults():
    config = _tiny()
    config["resources"] = {"train": {"gpu": 2}}
    resources = resolve_config(config)[0]["resources"]
    assert resources["train"] == {"gpu": 2, "nodes": 1, "mem_mb": 32000, "runtime": 240, "cpus_per_task": 8}
    assert resources["prepare"]["gpu"] == 0


def test_sweeps_expand_stages_and_pair_seeds_along_lineages():
    config = _tiny()
    config["stages"]["grpo-countdown"]["sweep"] = {"lr": [1e-5, "3e-5"]}
    config["sweep"] = {"seed": [0, 1], "beta": [0.0]}  # beta: only the stages that take it
    resolved, groups = resolve_config(config)
    assert sorted(resolved["stages"]) == [
        "grpo-countdown-beta0-lr1e-5-s0", "grpo-countdown-beta0-lr1e-5-s1", "grpo-countdown-beta0-lr3e-5-s0",
        "grpo-countdown-beta0-lr3e-5-s1", "sft-countdown-s0", "sft-countdown-s1",
    ]  # fmt: skip
    assert resolved["stages"]["grpo-countdown-beta0-lr3e-5-s1"]["lr"] == 3e-5
    recovery = [lineage for lineage in resolved["lineages"] if len(lineage) == 2]
    assert len(recovery) == 4 and all(a[-2:] == b[-2:] for a, b in recovery)  # seed s from seed s, not 2 x 2 x 2
    assert len(resolved["lineages"]) == 2 + 4 + 4
    assert groups["grpo-countdown-beta0-lr1e-5-s1"] == "grpo-countdown-beta0-lr1e-5"


def test_a_swept_replay_ratio_makes_one_variant_per_ratio():
    config = _tiny()
    config["stages"]["sft-countdown"]["replay"] = {"task": "arithmetic"}
    config["sweep"] = {"replay.ratio": [0.1, 0.5]}  # only the stage that replays takes it
    resolved, _ = resolve_config(config)
    labels = ["grpo-countdown", "sft-countdown-replayratio0.1", "sft-countdown-replayratio0.5"]
    assert sorted(resolved["stages"]) == labels
    assert resolved["stages"]["sft-countdown-replayratio0.5"]["replay"] == {"task": "arithmetic", "ratio": 0.5}
    config["sweep"] = {"replay.ratio": [0.1, 2]}
    with pytest.raises(ConfigError, match=r"stages.sft-countdown-replayratio2.replay.ratio: 2 is greater than or"):
        resolve_config(config)


def test_epochs_resolve_to_steps_once_for_every_reader_of_the_config():
    from forgetlab.targets import evaluated_checkpoints

    config = _tiny()  # countdown: 32 train records
    for stage in config["stages"].values():
        del stage["steps"]
    config["stages"]["grpo-countdown"]["num_iterations"] = 2
    config["sweep"] = {"epochs": [0.25, 0.5]}  # sft: batch_size 2; grpo: batch_size 1, 2 steps a batch
    resolved, _ = resolve_config(config)
    steps = {label: (stage["steps"], stage["epochs"]) for label, stage in resolved["stages"].items()}
    assert steps == {
        "sft-countdown-epochs0.25": (4, None),
        "sft-countdown-epochs0.5": (8, None),
        "grpo-countdown-epochs0.25": (16, None),
        "grpo-countdown-epochs0.5": (32, None),
    }
    assert resolve_config(copy.deepcopy(resolved))[0] == resolved
    kept = [c.step for c in evaluated_checkpoints(resolved) if c.lineage == "base/sft-countdown-epochs0.5"]
    assert kept == [1, 2, 3, 4, 5, 6, 7, 8]  # save_every 1, then the final model


def test_load_config_names_the_file_for_bad_yaml_and_a_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("models:\n  tiny: {source: tiny-random\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML at line 3, column 1"):
        load_config(bad)
    with pytest.raises(ConfigError, match=r"nothere.yaml: no such config file"):
        load_config(tmp_path / "nothere.yaml")
    bad.write_text(TEST_CONFIG.read_text().replace("lr: 1.0e-4", "lr: fast"))
    with pytest.raises(ConfigError, match=r"bad.yaml: stages.sft-countdown.lr: expected a number, not 'fast'"):
        load_config(bad)


def test_a_task_named_like_a_benchmark_is_refused():
    raw = yaml.safe_load(TEST_CONFIG.read_text())
    raw["tasks"]["mmlu"] = {"kind": "arithmetic"}
    raw["evaluate"]["evalscope"] = {"tasks": ["mmlu"]}
    with pytest.raises(ConfigError, match=r"tasks\.mmlu: 'mmlu' is also a benchmark of evaluate"):
        resolve_config(raw)


def test_an_evalscope_benchmark_that_does_not_exist_is_named_before_any_job():
    raw = yaml.safe_load(TEST_CONFIG.read_text())
    raw["evaluate"]["evalscope"] = {"tasks": ["gsm8k", "mmlu_pr"]}
    with pytest.raises(ConfigError, match=r"evaluate\.evalscope\.tasks\[1\]: 'mmlu_pr' is not a benchmark of evalscope "
                       r"1\.10\.0; did you mean 'mmlu_pro'\?"):  # fmt: skip
        resolve_config(raw)


def test_an_evalscope_generation_setting_it_would_ignore_is_named_before_any_job():
    """evalscope keeps a generation_config key it does not know and ignores it (transformers' max_new_tokens: its
    default length would run instead)."""
    raw = yaml.safe_load(TEST_CONFIG.read_text())
    raw["evaluate"]["evalscope"] = {"tasks": ["mmlu"], "generation_config": {"max_new_tokens": 512}}
    message = (
        r"evaluate\.evalscope\.generation_config\.max_new_tokens: 'max_new_tokens' is not a generation setting "
        r"of evalscope 1\.10\.0; did you mean 'max_tokens'\?"
    )
    with pytest.raises(ConfigError, match=message):
        resolve_config(raw)
    raw["evaluate"]["evalscope"]["generation_config"] = {"max_tokens": 512, "do_sample": False}
    resolve_config(raw)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"rollouts": "vllm"}, r"stages.rl-gp.rollouts: task 'gp' takes 5 tries \(verify_iter\), .* hf or auto"),
        ({"method": "rloo"}, r"stages.rl-gp.method: task 'gp' takes 5 tries \(verify_iter\), which train with grpo"),
    ],
)
def test_episodes_of_tries_train_with_grpo_in_hf_rollouts_only(change, message):
    """In TRL, that is: in verl any RL method trains them (forgetlab's agent loop for verl)."""
    config = yaml.safe_load((ROOT / "config" / "paper-ood-recovery.yaml").read_text())
    config["stages"]["rl-gp"] = {"method": "grpo", "task": "gp", "steps": 10, "rewards": {"graded": 1.0}, **change}
    with pytest.raises(ConfigError, match=message):
        resolve_config(config)
    config["stages"]["rl-gp"] |= {"engine": "verl", "rollouts": "vllm"}
    resolve_config(config)
