"""forgetlab memory: a training step's memory per component, estimated from shapes and measured on a random model."""

import re

import pytest
import torch
from transformers import AutoConfig, LlamaConfig

from forgetlab.cli import main
from forgetlab.memory_meter import measure_memory
from forgetlab.memory_profile import ProfileOptions, estimate_memory, saved_bytes

from .conftest import TEST_CONFIG

# 2 layers, hidden 16, 4 heads of 4 over 2 key-value heads, MLP 256, vocabulary 300, tied embeddings. Parameters:
# embedding 300 x 16 = 4800; per layer q 256, k 128, v 128, o 256, gate/up/down 4096 each, two norms 32 = 13088;
# final norm 16: 4800 + 2 x 13088 + 16 = 30992.
TINY = LlamaConfig(
    vocab_size=300, hidden_size=16, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, tie_word_embeddings=True, max_position_embeddings=64,
)  # fmt: skip
GRPO = {"stage": "grpo", "batch": 2, "seq_len": 8, "generations": 3, "completion_len": 4}


def test_the_estimate_of_a_tiny_config_is_its_bytes_counted_by_hand():
    fp32 = estimate_memory(TINY, ProfileOptions(**GRPO))
    assert (fp32["weights"], fp32["gradients"], fp32["optimizer"]) == (30992 * 4, 30992 * 4, 30992 * 2 * 4)
    # 2 (keys, values) x 2 layers x 2 kv heads x head_dim 4 x 6 sequences x 12 tokens x 4 bytes
    assert fp32["rollouts"] == 2 * 2 * 2 * 4 * 6 * 12 * 4 == 9216
    small = ProfileOptions(**GRPO, dtype="bfloat16", optimizer="adamw_8bit")
    bf16 = estimate_memory(TINY, small)
    assert (bf16["weights"], bf16["gradients"], bf16["rollouts"]) == (30992 * 2, 30992 * 2, 9216 // 2)
    # 8-bit: the six 4096-value MLP matrices a byte per moment and a float32 scale per 256 values of each moment;
    # the embedding and the small tensors (6416 values) two float32 moments
    assert bf16["optimizer"] == 6 * 2 * (4096 + 4 * 16) + 6416 * 8 == 101248
    sft = estimate_memory(TINY, ProfileOptions(stage="sft", batch=2, seq_len=8))
    assert sft["rollouts"] is None and sft["weights"] == fp32["weights"]


def test_estimated_activations_are_the_tensors_kept_for_the_backward():
    with torch.device("meta"):
        layer = torch.nn.Sequential(torch.nn.Linear(4, 8, bias=False), torch.nn.ReLU())
        x = torch.empty(3, 4)
    assert saved_bytes(layer, lambda: layer(x).sum()) == 3 * 4 * 4 + 3 * 8 * 4  # the input, the ReLU's output
    query = torch.empty(1, 2, 16, 8, device="meta", requires_grad=True)
    key = torch.empty(1, 1, 16, 8, device="meta", requires_grad=True)

    def attention():
        return torch.nn.functional.scaled_dot_product_attention(query, key, key, is_causal=True, enable_gqa=True)

    # the fused kernel's: query, key (also the values), output and log-sum-exp; no 16 x 16 attention weights
    assert saved_bytes(torch.nn.Module(), attention) == 1024 + 512 + 1024 + 2 * 16 * 4


@pytest.mark.parametrize("stage", ["sft", "grpo"])
def test_a_step_measured_on_the_tiny_model_is_near_its_estimate(tiny_model, stage):
    config = AutoConfig.from_pretrained(tiny_model)
    options = ProfileOptions(stage=stage, batch=1, seq_len=256, generations=4, completion_len=16)
    estimated, measured = estimate_memory(config, options), measure_memory(config, options)
    for name in ("weights", "gradients", "optimizer"):  # the same tensors (and rotary buffers, step counters)
        assert measured[name] == pytest.approx(estimated[name], rel=0.001), name
    # the measured peaks add the backward's temporaries and the decode loop's logits to the saved tensors and cache
    names = ["activations", "rollouts"] if stage == "grpo" else ["activations"]
    for name in names:
        assert estimated[name] <= measured[name] <= 10 * estimated[name], name
    assert measured["rollouts"] is None if stage == "sft" else measured["rollouts"] > 0


def table(out: str) -> dict[str, tuple[str, str]]:
    rows = [line.split() for line in out.splitlines()[2:] if re.match(r"\w+ +[-\d.]+ +[-\d.]+$", line)]
    return {name: (estimate, measure) for name, estimate, measure in rows}


def test_the_memory_command_prints_estimate_and_measure(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["memory", "--config", str(TEST_CONFIG), "--model", "tiny", "--stage", "grpo", "--batch", "1"]
    assert main([*args, "--seq-len", "64", "--threads", "1", "--device", "cpu"]) == 0
    out, err = capsys.readouterr()
    rows = table(out)
    assert out.startswith("tiny\ncomponent") and "model 'tiny' from" in err
    assert list(rows) == ["weights", "gradients", "optimizer", "activations", "rollouts", "total"]
    # the tiny model: embedding 49152 x 64, two layers of 4 x 64 x 64 + 3 x 64 x 256 + 2 x 64, a final norm of 64
    assert rows["weights"][0] == rows["weights"][1] == f"{(49152 * 64 + 2 * 65664 + 64) * 4 / 2**20:.1f}"
    assert main(["memory", "--shape", "smollm2-135m", "--dtype", "bfloat16", "--device", "cpu"]) == 0
    rows = table(capsys.readouterr().out)  # bfloat16 on the CPU: the estimate alone, unless --measure
    assert rows["weights"] == (f"{134515008 * 2 / 2**20:.1f}", "-") and "rollouts" not in rows


@pytest.mark.parametrize(
    "args, message",
    [
        ([], r"give exactly one of --model or --shape$"),
        (["--model", "x", "--shape", "smollm2-135m"], r"given: --model and --shape\)$"),
        (["--model", "tiyn", "--config", str(TEST_CONFIG)], r"neither a folder nor a model of .*did you mean 'tiny'"),
    ],
)
def test_model_or_shape_mistakes_end_in_one_line(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["memory", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and re.search(message, err.strip().splitlines()[-1]), err
