"""A shared prompt prefix run once per batch: the same completions and hidden states as running every row whole."""

import pytest
import torch

from forgetlab.evaluate import prefix
from forgetlab.evaluate.generation import prompt_text
from forgetlab.models import load_model, load_tokenizer
from forgetlab.prompts import render_prompt
from forgetlab.tasks import make_task

TASK = make_task("countdown", {"kind": "countdown"})


@pytest.fixture(scope="module")
def loaded(tiny_model):
    return load_model(tiny_model, "cpu"), load_tokenizer(tiny_model)


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
    shared = prefix.generate_ids(model, prompts, tokenizer.pad_token_id, max_new_tokens=6, do_sample=False)
    monkeypatch.setattr(prefix, "shared_prefix", lambda sequences, min_tokens=0: 0)
    whole = prefix.generate_ids(model, prompts, tokenizer.pad_token_id, max_new_tokens=6, do_sample=False)
    assert shared == whole and len(shared) == len(prompts) and all(len(row) == 6 for row in shared)


def test_hidden_states_with_the_prefix_run_once_match_every_row_run_whole(loaded, monkeypatch):
    model, tokenizer = loaded
    sequences = [torch.tensor(prompt + [5, 6][: 1 + row % 2]) for row, prompt in enumerate(_prompts(tokenizer))]
    shared = prefix.final_hidden(model, sequences, batch_size=4)
    monkeypatch.setattr(prefix, "shared_prefix", lambda sequences, min_tokens=0: 0)
    whole = prefix.final_hidden(model, sequences, batch_size=4)
    assert [len(h) for h in shared] == [len(s) for s in sequences]
    for a, b in zip(shared, whole):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
