"""Episodes of tries in GRPO rollouts: the verifier's turn is appended in the chat template, token for token what a
fresh rendering of the whole conversation gives, and only the model's tokens train."""

import pytest

from forgetlab.models import load_tokenizer
from forgetlab.prompts import as_prompt, next_try
from forgetlab.train.episodes import feedback_ids

FEEDBACK = "You failed this trial because your formula is incorrect."


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    return load_tokenizer(tiny_model)


def _tokenize(tokenizer):
    def tokenize(conversations):
        return [
            tokenizer.apply_chat_template(c, tokenize=True, add_generation_prompt=True, return_dict=False)
            for c in conversations
        ]

    return tokenize


@pytest.mark.parametrize("ended", [True, False])
def test_the_feedback_turn_makes_the_context_a_fresh_rendering_of_the_conversation(tokenizer, ended):
    tokenize, eos = _tokenize(tokenizer), [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    first = as_prompt("Cards: 3, 3, 8, 8. Reach 24.", system_prompt="Be brief.")
    once = next_try(first, "<answer>8 + 8 + 3 + 3</answer>", FEEDBACK)
    twice = next_try(once, "<answer>8 * 3</answer>", FEEDBACK)
    (prompt,) = tokenize([first])
    context = list(prompt)
    for conversation in (once, twice):
        reply = tokenizer(conversation[-2]["content"], add_special_tokens=False)["input_ids"] + eos[: int(ended)]
        env = feedback_ids(tokenize, conversation, reply, eos)
        context += reply + env
        assert context == tokenize([conversation])[0]
        assert tokenizer.decode(env).count(FEEDBACK) == 1
    assert (eos[0] in env) and (env[0] == eos[0]) != ended  # a reply cut short gets its turn closed for it
