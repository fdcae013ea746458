import pickle

import pytest

from forgetlab.rewards import (
    BoxedFormatReward,
    CorrectnessReward,
    FormatReward,
    LengthReward,
    TagCreditReward,
    XmlReward,
    completion_text,
    task_rewards,
)
from forgetlab.tasks import make_task

TASK = make_task("countdown", {"kind": "countdown"})
COLUMNS = {"numbers": [[3, 5, 2], [3, 5, 2], [1, 2, 3]], "target": [16, 16, 6], "answer": ["", "", ""]}


def _chat(text):
    return [{"role": "assistant", "content": text}]


def test_rewards_follow_trls_keyword_contract_with_chat_completions():
    completions = [_chat("<answer>(3 + 5) * 2</answer>"), _chat("(3 + 5) * 2"), _chat("<answer>1 + 2</answer>")]
    kwargs = dict(prompts=[None] * 3, completions=completions, completion_ids=[[0]] * 3, **COLUMNS)
    assert CorrectnessReward(TASK)(**kwargs) == [1.0, 0.0, 0.0]
    assert FormatReward(TASK)(**kwargs) == [1.0, 0.0, 1.0]


def test_plain_string_completions():
    assert completion_text("abc") == "abc"
    assert completion_text(_chat("x") + [{"role": "user", "content": "ignored"}]) == "x"


def test_weights_select_and_name_rewards():
    funcs, weights = task_rewards(TASK, {"correct": 1.0, "format": 0.1})
    assert [f.__name__ for f in funcs] == ["correct", "format"] and weights == [1.0, 0.1]
    funcs, weights = task_rewards(TASK, {"correct": 1.0, "format": 0})
    assert [f.__name__ for f in funcs] == ["correct"]
    with pytest.raises(ValueError, match="unknown reward"):
        task_rewards(TASK, {"novelty": 1.0})
    with pytest.raises(ValueError, match="non-zero"):
        task_rewards(TASK, {"correct": 0})


def test_rewards_are_picklable():
    reward = pickle.loads(pickle.dumps(CorrectnessReward(TASK)))
    assert reward(prompts=[None], completions=["<answer>2 * 3 * 1</answer>"], numbers=[[1, 2, 3]], target=[6]) == [1.0]


def test_boxed_format_reward_is_seed_000s_strict_format_reward():
    completions = [_chat("so \\boxed{16}"), _chat("boxed{16}"), _chat("\\boxed{16"), _chat("<answer>16</answer>")]
    assert BoxedFormatReward()(prompts=[None] * 4, completions=completions) == [1.0, 1.0, 0.0, 0.0]
    funcs, weights = task_rewards(TASK, {"correct": 2.0, "boxed_format": 1.0})
    assert [f.__name__ for f in funcs] == ["correct", "boxed_format"] and weights == [2.0, 1.0]
    assert pickle.loads(pickle.dumps(funcs[1]))(prompts=[None], completions=["\\boxed{1}"]) == [1.0]


def test_the_countdown_seeds_reward_replaces_the_tag_credit_when_correct():
    completions = [
        "<think>8 * 2</think><answer>(3 + 5) * 2</answer>",  # correct: 1.0, not 1.2
        "<think>hmm</think><answer>3 + 5 + 2</answer>",  # both tags, wrong: 0.2
        "<answer>3 * 5</answer>",  # one tag: 0.1
        "(3 + 5) * 2",  # right value, no tags: the countdown scorer needs the tags, so 0.0
    ]
    columns = {key: [value[0]] * 4 for key, value in COLUMNS.items()}
    assert TagCreditReward(TASK)(prompts=[None] * 4, completions=completions, **columns) == pytest.approx(
        [1.0, 0.2, 0.1, 0.0]
    )


def test_memory_rs_format_rewards_in_its_units():
    strict = "<reasoning>\n2 + 2 = 4\n</reasoning>\n<answer>\n4\n</answer>\n"
    multiline = "<reasoning>\nfirst\nthen\n</reasoning>\n<answer>\n4\n</answer>\n"
    trailing = "<reasoning>\nx\n</reasoning>\n<answer>\n4\n</answer>\nabc"
    texts = [strict, multiline, trailing, "<reasoning>2 + 2</reasoning> <answer>4</answer>"]

    def scores(kind):
        return XmlReward(kind)(prompts=[None] * 4, completions=[_chat(t) for t in texts])

    # each tag where it belongs: 0.125; three characters after the answer cost 0.003 twice (both closing checks)
    assert scores("xml_count") == pytest.approx([0.5, 0.5, 0.5 - 0.003 - 0.003, 0.0])
    # no DOTALL: the soft check passes only a reasoning block on one line, as in the study's code
    assert scores("soft_format") == [0.0, 0.0, 0.0, 0.5]
    assert scores("strict_format") == [0.5, 0.0, 0.0, 0.0]  # one line of reasoning, nothing after the answer
    assert scores("integer_answer") == [0.5, 0.5, 0.5, 0.5]
    funcs, weights = task_rewards(TASK, {"correct": 1.0, "xml_count": 1.0, "strict_format": 1.0})
    assert [f.__name__ for f in funcs] == ["correct", "xml_count", "strict_format"] and weights == [1.0, 1.0, 1.0]
    assert pickle.loads(pickle.dumps(funcs[1]))(prompts=[None], completions=[strict]) == [0.5]


def test_length_reward():
    reward = LengthReward(max_length=10)
    assert reward(prompts=[None, None], completions=["a", "b"], completion_ids=[[1] * 2, [1] * 12]) == [0.8, 0.0]


def test_replayed_records_are_scored_as_their_own_task():
    arithmetic = make_task("arithmetic", {"kind": "arithmetic"})
    record = arithmetic.build("train", 1, seed=0)[0]
    answer = f"<answer>{record['answer']}</answer>"
    columns = {key: [COLUMNS[key][0] if key in COLUMNS else None, record.get(key)] for key in {*COLUMNS, *record}}
    columns["task"] = ["countdown", "arithmetic"]
    reward = CorrectnessReward(TASK, {"arithmetic": arithmetic})
    completions = [_chat("<answer>(3 + 5) * 2</answer>"), _chat(answer)]
    assert reward(prompts=[None] * 2, completions=completions, **columns) == [1.0, 1.0]


def test_an_episode_of_tries_is_scored_by_its_last_try():
    episode = "<answer>1 + 2</answer>user\nYou failed this trial because your formula is incorrect.\nassistant\n"
    final = ["<answer>(3 + 5) * 2</answer>", "(3 + 5) * 2", "<answer>1 + 2 + 3</answer>"]
    kwargs = dict(prompts=[None] * 3, completions=[episode] * 3, final_completion=final, **COLUMNS)
    assert CorrectnessReward(TASK)(**kwargs) == [1.0, 0.0, 1.0]
    assert FormatReward(TASK)(**kwargs) == [1.0, 0.0, 1.0]


def test_the_graded_reward_is_the_tasks_own_and_named_where_a_task_has_none():
    from forgetlab.rewards import GradedReward

    gp = make_task("gp", {"kind": "generalpoints"})
    record = {"cards": ["10", "2", "2", "A"], "numbers": [10, 2, 2, 1], "target": 24, "answer": "(10 + 2) * 2 * 1"}
    columns = {key: [value] * 2 for key, value in record.items()}
    completions = ["<answer>(10 + 2) * 2 * 1</answer>", "<answer>10 * 2</answer>"]  # right; three cards unused
    assert GradedReward(gp)(prompts=[None] * 2, completions=completions, **columns) == [5.0, -2.0]
    with pytest.raises(ValueError, match="task 'countdown' \\(countdown\\) has no graded reward"):
        GradedReward(TASK)(prompts=[None], completions=["x"], numbers=[[1]], target=[1], answer=["1"])
