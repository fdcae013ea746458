"""ToolAlpaca: records from the release's train and eval layouts, the call parsed as JSON and scored on name and
arguments, with the name's partial credit beside it."""

import json

import pytest

from forgetlab.evaluate.generation import score_rows
from forgetlab.tasks import make_task
from forgetlab.tasks.toolalpaca import parse_call

DOCS = (
    "searchImages: Search axolotl images.\n"
    'Parameters: {"color": "string. One of: [wild, albino].", "size": "string.", "page": "integer."}\n'
    "getFacts: Facts about axolotls.\n"
    'Parameters: {"category": "string.", "limit": "integer."}'
)


def _step(action, action_input, thought="I should look this up."):
    log = f" {thought}\nAction: {action}\nAction Input: {action_input}"
    return [[action, action_input, log], "Observation text"]


def _api(**fields):
    return {
        "Name": "Axolotl",
        "Description": "Collection of axolotl pictures and facts",
        "Category": "Animals",
        "NLDocumentation": DOCS,
        "Function_Description": {"searchImages": "...", "getFacts": "...", "components": ""},
        **fields,
    }


TRAIN = _api(
    Instances=[
        {
            "input": "Show me three albino axolotls.\nHint: use searchImages",
            "output": "Here they are.",
            "Final Thought": "I have the images.",
            "intermediate_steps": [_step("searchImages", '{"color": "albino", "page": 1}', "Albino images.")],
        },
        {  # the first step asks the user (getDetails): the reference is the next call
            "input": "Tell me some facts.",
            "output": "Facts.",
            "intermediate_steps": [
                _step("getDetails", '{"Question": "Which category?"}'),
                _step("getFacts", '{"category": "habitat", "limit": 3}'),
            ],
        },
        {"input": "A request that failed.", "output": {"error": "timeout"}},  # no steps: no record
        {"input": "Bad input.", "output": "", "intermediate_steps": [_step("getFacts", "not json")]},  # dropped
    ]
)
EVAL = _api(
    Instructions=["Find me a wild axolotl picture.", "Give me one fact about habits."],
    Golden_Answers=[
        [{"Action": "searchImages", "Action_Input": '{"color": "wild", "size": "", "page": 1}'}],
        [{"Action": "getFacts", "Action_Input": '{"category": "habits", "limit": 1}'}],
    ],
)


@pytest.fixture
def release(tmp_path):
    (tmp_path / "train_data.json").write_text(json.dumps([TRAIN]))
    (tmp_path / "eval_simulated.json").write_text(json.dumps([EVAL]))
    return tmp_path


def test_train_instances_become_records_of_their_first_real_call(release):
    task = make_task("tools", {"kind": "toolalpaca", "source": str(release)})
    records = task.build("train")
    assert [(r["question"], json.loads(r["answer"])) for r in records] == [
        ("Show me three albino axolotls.", {"name": "searchImages", "arguments": {"color": "albino", "page": 1}}),
        ("Tell me some facts.", {"name": "getFacts", "arguments": {"category": "habitat", "limit": 3}}),
    ]
    assert records[0]["api"] == "Axolotl" and records[0]["thought"] == "Albino images."
    prompt = records[0]["prompt"]
    assert "functions of the Axolotl API" in prompt and "getFacts: Facts" in prompt
    assert '{"name": "<function>", "arguments": {"<argument>": <value>, ...}}' in prompt
    think = make_task("tools", {"kind": "toolalpaca", "source": str(release), "format": "think"})
    assert think.reference(records[0]).startswith("<think>Albino images.</think>\n<answer>{")


def test_eval_instructions_become_records_of_their_golden_answers(release):
    task = make_task("tools", {"kind": "toolalpaca", "source": str(release)})
    records = task.build("test")
    assert [json.loads(r["answer"])["name"] for r in records] == ["searchImages", "getFacts"]
    for record in records:
        assert task.score(record, task.reference(record)).correct == 1.0


GOLD = {"question": "q", "api": "A", "tools": "t", "answer": json.dumps(
    {"name": "searchImages", "arguments": {"color": "wild", "size": "", "page": 1}})}  # fmt: skip


@pytest.mark.parametrize(
    "completion, correct, name",
    [
        ('<answer>{"name": "searchImages", "arguments": {"color": "wild", "page": 1}}</answer>', 1, 1),
        ('<answer>{"arguments": {"page": 1, " color ": "wild", "size": null}, "name": "searchImages"}</answer>', 1, 1),
        ('I will call {"name": "searchImages", "arguments": {"color": "wild", "page": 1}} now.', 1, 1),
        ('<answer>{"name": "searchImages", "arguments": "{\\"color\\": \\"wild\\", \\"page\\": 1}"}</answer>', 1, 1),
        ('<answer>{"name": "searchImages", "arguments": {"color": "albino", "page": 1}}</answer>', 0, 1),
        ('<answer>{"name": "searchImages", "arguments": {"color": "wild", "page": "1"}}</answer>', 0, 1),
        ('<answer>{"name": "searchImages", "arguments": {"color": "wild"}}</answer>', 0, 1),
        ('<answer>{"name": "getFacts", "arguments": {"color": "wild", "page": 1}}</answer>', 0, 0),
        ("<answer>searchImages(color='wild', page=1)</answer>", 0, 0),
        ('<answer>{"name": "searchImages", "arguments": {"color": "wild", "page": 1}</answer>', 0, 0),
        ("", 0, 0),
    ],
)
def test_calls_are_parsed_and_scored_on_name_and_arguments(completion, correct, name):
    score = make_task("tools", {"kind": "toolalpaca"}).score(GOLD, completion)
    assert (score.correct, score.extractions) == (correct, {"name": name})


def test_the_name_credit_is_reported_beside_accuracy():
    task = make_task("tools", {"kind": "toolalpaca"})
    rows = [
        {**GOLD, "completion": '<answer>{"name": "searchImages", "arguments": {"color": "wild", "page": 1}}</answer>'},
        {**GOLD, "completion": '<answer>{"name": "searchImages", "arguments": {}}</answer>'},
    ]
    metrics, _ = score_rows(task, rows)
    assert (metrics["accuracy"], metrics["accuracy_name"]) == (0.5, 1.0)


def test_parse_call_reads_json_only():
    assert parse_call('{"name": "f", "arguments": {"x": [1, 2]}}') == {"name": "f", "arguments": {"x": [1, 2]}}
    assert parse_call('{"name": "f"}') == {"name": "f", "arguments": {}}
    assert parse_call('{"arguments": {}}') is None and parse_call("{" * 10_000) is None


def test_an_instance_without_its_input_is_named(tmp_path):
    broken = _api(Instances=[{"output": "x", "intermediate_steps": [_step("getFacts", "{}")]}])
    (tmp_path / "train_data.json").write_text(json.dumps([TRAIN, broken]))
    with pytest.raises(ValueError, match=r"train_data.json:2: Instances\[0\]: row has no 'input' field"):
        make_task("tools", {"kind": "toolalpaca", "source": str(tmp_path / "train_data.json")}).build("train")


def test_an_api_without_documentation_is_named(tmp_path):
    broken = {key: value for key, value in TRAIN.items() if key != "NLDocumentation"}
    (tmp_path / "train_data.json").write_text(json.dumps([broken]))
    with pytest.raises(ValueError, match=r"train_data.json:1: API has no 'NLDocumentation' field"):
        make_task("tools", {"kind": "toolalpaca", "source": str(tmp_path)}).build("train")
