"""Chunked KL and likelihoods against brute force on full logits; KL(pi, pi) = 0; the memory bound."""

import subprocess
import sys

import pytest
import torch

from forgetlab.evaluate.likelihood import completion_logprob, policy_kl, reference_loglik, sequence_kl
from forgetlab.models import load_model, load_tokenizer
from forgetlab.tasks import make_task


@pytest.fixture(scope="module")
def models(tiny_model):
    base = load_model(tiny_model)
    other = load_model(tiny_model)
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in other.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return base, other


def _brute_force(p, q, ids, start):
    with torch.no_grad():
        log_p = torch.log_softmax(p(ids[None]).logits[0].double(), -1)
        log_q = torch.log_softmax(q(ids[None]).logits[0].double(), -1)
    positions = torch.arange(start - 1, len(ids) - 1)
    exact = float((log_p[positions].exp() * (log_p[positions] - log_q[positions])).sum())
    picked = ids[positions + 1]
    return (
        exact,
        float((log_p[positions, picked] - log_q[positions, picked]).sum()),
        float(log_p[positions, picked].sum()),
    )


@pytest.mark.parametrize("chunk", [1, 3, 64])
def test_chunked_kl_matches_full_vocabulary_brute_force(models, chunk):
    base, other = models
    ids = torch.randint(0, 49152, (50,), generator=torch.Generator().manual_seed(0))
    exact, log_ratio, log_prob = _brute_force(base, other, ids, start=30)
    result = sequence_kl(base, other, ids, 30, chunk)
    assert result.tokens == 20
    assert result.exact == pytest.approx(exact, rel=1e-4) and result.exact > 0
    assert result.log_ratio == pytest.approx(log_ratio, rel=1e-4, abs=1e-4)
    assert completion_logprob(base, ids, 30, chunk) == pytest.approx(log_prob, rel=1e-5)


def test_kl_of_a_policy_with_itself_is_zero(models, tiny_model):
    base, _ = models
    task = make_task("countdown", {"kind": "countdown"})
    metrics = policy_kl(base, base, load_tokenizer(tiny_model), task, task.build("test", 4), max_new_tokens=8)
    assert metrics["n"] == 4 and metrics["tokens"] > 0
    assert abs(metrics["kl_mean"]) < 1e-6 and abs(metrics["log_ratio_mean"]) < 1e-6


def test_policy_kl_and_reference_loglik_report_intervals(models, tiny_model):
    base, other = models
    tokenizer = load_tokenizer(tiny_model)
    task = make_task("arithmetic", {"kind": "arithmetic"})
    records = task.build("test", 6)
    metrics = policy_kl(base, other, tokenizer, task, records, max_new_tokens=6, seed=3)
    assert metrics["kl_mean"] > 0 and metrics["kl_mean_ci"][1] > metrics["kl_mean_ci"][0]
    assert metrics == policy_kl(base, other, tokenizer, task, records, max_new_tokens=6, seed=3)  # seeded
    loglik = reference_loglik(base, tokenizer, task, records)
    assert loglik["n"] == 6 and loglik["ref_loglik"] < 0 and loglik["ref_loglik_per_token"] > loglik["ref_loglik"]


def test_kl_along_the_reference_completions_teacher_forces_them(models, tiny_model):
    from forgetlab.evaluate.likelihood import encode_prompt, sample_policy
    from forgetlab.prompts import reference_completion, render_prompt

    base, other = models
    tokenizer = load_tokenizer(tiny_model)
    task = make_task("arithmetic", {"kind": "arithmetic"})
    records = task.build("test", 3)
    samples = sample_policy(base, tokenizer, task, records, max_new_tokens=64, source="reference")
    for record, ids, start in zip(records, samples.sequences, samples.starts):
        prompt = encode_prompt(tokenizer, render_prompt(task, record, task.format), True, None)
        completion = tokenizer(reference_completion(task, record, task.format), add_special_tokens=False)["input_ids"]
        assert ids.tolist() == prompt + completion and start == len(prompt)
    # the same texts whatever the seed; the KL along them is the brute-force sum over their positions
    metrics = policy_kl(base, other, tokenizer, task, records, max_new_tokens=64, seed=5, source="reference")
    assert metrics == policy_kl(base, other, tokenizer, task, records, max_new_tokens=64, seed=9, source="reference")
    expected = [_brute_force(base, other, ids, start)[0] for ids, start in zip(samples.sequences, samples.starts)]
    assert metrics["kl_mean"] == pytest.approx(sum(expected) / 3, rel=1e-4)
    assert policy_kl(base, base, tokenizer, task, records, source="reference")["kl_mean"] == pytest.approx(0, abs=1e-6)


def test_kl_samples_and_analyses_read_the_prompt_with_the_system_turn_evaluation_shows(models, tiny_model):
    from forgetlab.analysis.base import AnalysisInputs
    from forgetlab.analysis.run import analysis_rows
    from forgetlab.analysis.svd import SVDConfig
    from forgetlab.evaluate.generation import prompt_text
    from forgetlab.evaluate.likelihood import sample_policy

    tokenizer, task = load_tokenizer(tiny_model), make_task("arithmetic", {"kind": "arithmetic"})
    records, system = task.build("test", 2), "you're a helpful assistant."
    shown = [tokenizer(prompt_text(tokenizer, r["prompt"], True, system), add_special_tokens=False) for r in records]
    shown = [encoded["input_ids"] for encoded in shown]
    samples = sample_policy(models[0], tokenizer, task, records, max_new_tokens=2, system_prompt=system)
    assert [ids[:start].tolist() for ids, start in zip(samples.sequences, samples.starts)] == shown
    rows = analysis_rows(task, records, None, 2)
    inputs = AnalysisInputs(tiny_model, tiny_model, SVDConfig(), task, rows, chat=True, system_prompt=system)
    assert inputs.prompts(rows) == shown


def test_kl_samples_and_analyses_read_a_one_shot_example_in_turns_as_evaluation_shows_it(models, tiny_model):
    from forgetlab.analysis.base import AnalysisInputs
    from forgetlab.analysis.run import analysis_rows
    from forgetlab.analysis.svd import SVDConfig
    from forgetlab.evaluate.generation import prompt_text
    from forgetlab.evaluate.likelihood import sample_policy
    from forgetlab.prompts import render_prompt

    tokenizer, task = load_tokenizer(tiny_model), make_task("arithmetic", {"kind": "arithmetic"})
    records, system = [{k: v for k, v in r.items() if k != "prompt"} for r in task.build("test", 2)], "Be brief."
    turns = [render_prompt(task, record, "oneshot", "turns") for record in records]
    shown = [tokenizer(prompt_text(tokenizer, t, True, system), add_special_tokens=False)["input_ids"] for t in turns]
    samples = sample_policy(
        models[0], tokenizer, task, records, max_new_tokens=2, style="oneshot", system_prompt=system,
        oneshot_example="turns",
    )  # fmt: skip
    assert [ids[:start].tolist() for ids, start in zip(samples.sequences, samples.starts)] == shown
    rows = analysis_rows(task, records, "oneshot", 2, "turns")
    assert [row["prompt"] for row in rows] == turns
    inputs = AnalysisInputs(tiny_model, tiny_model, SVDConfig(), task, rows, chat=True, system_prompt=system)
    assert inputs.prompts(rows) == shown


MEMORY_PROBE = """
import resource, sys, torch
from forgetlab.evaluate.likelihood import sequence_kl
from forgetlab.models import load_model
torch.set_num_threads(1)
model = load_model(sys.argv[1])
ids = torch.randint(0, 49152, (600,))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = sequence_kl(model, model, ids, start=88)  # 512 completion tokens x 49,152-token vocabulary
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * 1024, result.tokens)
"""


def test_kl_memory_stays_bounded_for_long_completions_and_a_49k_vocabulary(tiny_model):
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(tiny_model)], capture_output=True, text=True, timeout=300
    )
    grown, tokens = map(int, out.stdout.split())
    assert tokens == 512
    # Full logits for both models would be 2 x 512 x 49,152 x 4 B = 200 MB before softmax copies.
    assert grown < 2 * 1024**3
    assert grown < 250 * 1024**2  # measured ~120 MB; both full logit tensors alone take ~380 MB
