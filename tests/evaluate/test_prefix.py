"""A shared prompt prefix run once per batch: the same completions and hidden states as running every row whole."""

import pytest
import torch

from forgetlab.evaluate import prefix
from forgetlab.evaluate.generation import prompt_text
from forgetlab.models import load_model, load_tokenizer
from forgetlab.prompts import render_prompt
from forgetlab.tasks import make_task
from tests.conftest import perturbed_copy

TASK = make_task("countdown", {"kind": "countdown"})


@pytest.fixture(scope="module")
def loaded(tiny_model):
    return load_model(tiny_model, "cpu"), load_tokenizer(tiny_model)


@pytest.fixture(scope="module")
def varied(tiny_model, tmp_path_factory):
    """The tiny model with its weights moved enough that greedy decoding does not repeat one token."""
    folder = perturbed_copy(tiny_model, tmp_path_factory.mktemp("varied"), scale=0.2, seed=0)
    return load_model(folder, "cpu"), load_tokenizer(folder)


def _prompts(tokenizer, n=6):
    texts = [prompt_text(tokenizer, render_prompt(TASK, record, TASK.format)) for record in TASK.build("test", n)]
    return tokenizer(texts, add_special_tokens=False)["input_ids"]


def test_shared_prefix_leaves_every_sequence_a_token_of_its_own():
    assert prefix.shared_prefix([[1] * 9 + [2], [1] * 9 + [3, 4]], min_tokens=8) == 9
    assert prefix.shared_prefix([[1] * 10, [1] * 10], min_tokens=8) == 9  # identical rows keep their last token
    assert prefix.shared_prefix([[1] * 5 + [2], [1] * 5 + [3]], min_tokens=8) == 0  # too short to pay
    assert prefix.shared_prefix([[1] * 20]) == 0  # nothing to share with


def test_generation_with_the_prefix_run_once_matches_every_row_run_whole(loaded, monkeypatch):
    model, tokenizer = loaded
    prompts = _prompts(tokenizer)
    assert prefix.shared_prefix(prompts) >= prefix.MIN_SHARED  # the chat template's system turn, at least
    shared = prefix.generate_ids(model, prompts, tokenizer.pad_token_id, 6, eos_ids=[])
    monkeypatch.setattr(prefix, "shared_prefix", lambda sequences, min_tokens=0: 0)
    whole = prefix.generate_ids(model, prompts, tokenizer.pad_token_id, 6, eos_ids=[])
    assert shared == whole and len(shared) == len(prompts) and all(len(row) == 6 for row in shared)


def test_greedy_generation_matches_hf_generate_per_prompt_with_rows_ending_early_and_repeated_prompts(varied):
    model, tokenizer = varied
    prompts = _prompts(tokenizer, 4)
    free = prefix.generate_ids(model, prompts, tokenizer.pad_token_id, 8, eos_ids=[])
    stop = next(token for token in free[0][1:] if not all(token in row for row in free))  # ends row 0, not all
    batch = [prompts[0], prompts[1], prompts[0], prompts[2], prompts[3], prompts[1]]
    got = prefix.generate_ids(model, batch, tokenizer.pad_token_id, 8, eos_ids=[stop])
    for prompt, tokens in zip(batch, got):
        ids = torch.tensor([prompt])
        reference = model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, do_sample=False,
            eos_token_id=stop, pad_token_id=tokenizer.pad_token_id,
        )[0, len(prompt) :].tolist()  # fmt: skip
        cut = reference.index(stop) + 1 if stop in reference else len(reference)
        assert tokens == reference[:cut]
    assert len(got[0]) < 8 and got[0][-1] == stop and any(len(tokens) == 8 for tokens in got)


def test_sampling_draws_from_the_tempered_softmax():
    torch.manual_seed(0)
    logits = torch.tensor([[2.0, 1.0, 0.0]]).repeat(20000, 1)
    counts = torch.bincount(prefix._pick(logits, temperature=0.5), minlength=3).float() / len(logits)
    torch.testing.assert_close(counts, torch.softmax(logits[0] / 0.5, dim=0), atol=0.01, rtol=0)
    assert prefix._pick(logits[:2], temperature=0.0).tolist() == [0, 0]


def test_hidden_states_with_the_prefix_run_once_match_every_row_run_whole(loaded, monkeypatch):
    model, tokenizer = loaded
    sequences = [torch.tensor(prompt + [5, 6][: 1 + row % 2]) for row, prompt in enumerate(_prompts(tokenizer))]
    shared = prefix.final_hidden(model, sequences, batch_size=4)
    monkeypatch.setattr(prefix, "shared_prefix", lambda sequences, min_tokens=0: 0)
    whole = prefix.final_hidden(model, sequences, batch_size=4)
    assert [len(h) for h in shared] == [len(s) for s in sequences]
    for a, b in zip(shared, whole):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_a_generation_longer_than_the_context_is_refused_naming_its_option(loaded):
    model, tokenizer = loaded
    prompts = _prompts(tokenizer, 2)
    longest = max(map(len, prompts))
    room = model.config.max_position_embeddings - longest
    assert len(prefix.generate_ids(model, prompts, tokenizer.pad_token_id, 2)[0]) <= 2
    with pytest.raises(ValueError, match=rf"^max_completion_length {room + 1} does not fit .* at most {room} are left"):
        prefix.generate_ids(model, prompts, tokenizer.pad_token_id, room + 1, option="max_completion_length")
