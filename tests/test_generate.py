"""forgetlab generate: one completion of a model folder; a task's item prompted, generated and scored as the
evaluation does it."""

import re

import pytest

from forgetlab.cli import main
from forgetlab.evaluate.checkpoint import evaluate_checkpoint
from forgetlab.evaluate.generation import generate
from forgetlab.models import load_model, load_tokenizer
from forgetlab.tasks import make_task

from .conftest import perturbed_copy

TASK = make_task("countdown", {"kind": "countdown"})


@pytest.fixture(scope="module")
def varied(tiny_model, tmp_path_factory):
    """The tiny model with its weights moved enough that its greedy completions differ from prompt to prompt."""
    return perturbed_copy(tiny_model, tmp_path_factory.mktemp("varied"), scale=0.2, seed=0)


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config/config.yaml: the task kind's defaults, as evaluate_checkpoint's
    return tmp_path


def forgetlab(capsys, *args):
    code = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    return code, out, err


SYSTEM = "You are a mathematical puzzle solver."


@pytest.mark.parametrize(
    "flags, style, chat, system",
    [
        ([], None, True, None),
        (["--no-chat", "--format", "natural"], "natural", False, None),
        (["--system-prompt", SYSTEM, "--format", "boxed"], "boxed", True, SYSTEM),
    ],
)
def test_a_task_item_gets_the_evaluations_completion_and_score(here, capsys, varied, flags, style, chat, system):
    records = TASK.build("test", 3)
    _, rows = evaluate_checkpoint(
        varied, TASK, records, max_new_tokens=8, style=style, chat=chat, system_prompt=system, device="cpu"
    )
    assert len({row["completion"] for row in rows}) == 3  # each item its own completion: the prompt matters
    for item, (record, row) in enumerate(zip(records, rows)):
        code, out, err = forgetlab(
            capsys, "generate", "--model", varied, "--task", "countdown", "--item", item, "--max-new-tokens", 8,
            "--device", "cpu", "--threads", 1, *flags,
        )  # fmt: skip
        assert code == 0, err
        assert out == (
            f"completion: {row['completion']}\nreference: {record['answer']}\n"
            f"correct: {row['correct']:g}, formatted: {row['formatted']:g}\n"
        )


def test_a_prompt_gets_the_completion_evaluation_generates_in_or_out_of_the_chat_template(here, capsys, varied):
    model, tokenizer = load_model(varied, "cpu"), load_tokenizer(varied)
    ways = {(): (True, None), ("--no-chat",): (False, None), ("--system-prompt", SYSTEM): (True, SYSTEM)}
    expected = {
        flags: generate(model, tokenizer, ["What is 3 + 4?"], max_new_tokens=8, chat=chat, system_prompt=system)[0]
        for flags, (chat, system) in ways.items()
    }
    assert len(set(expected.values())) == 3  # the template and its system turn change what the model reads
    for flags in ways:
        code, out, err = forgetlab(
            capsys, "generate", "--model", varied, "--prompt", "What is 3 + 4?", "--max-new-tokens", 8, "--device",
            "cpu", *flags,
        )  # fmt: skip
        assert code == 0 and out == expected[flags] + "\n", err


@pytest.mark.parametrize(
    "args, message",
    [
        ([], r"give exactly one of --prompt or --task$"),
        (["--prompt", "hi", "--task", "countdown", "--item", "0"], r"given: --prompt and --task\)$"),
        (["--task", "countdown"], r"--task needs --item N"),
        (["--prompt", "hi", "--item", "0"], r"--item and --data pick a task's item"),
        (["--task", "countdown", "--item", "999"], r"--item 999: task 'countdown' has 32 items \(0 to 31\)"),
        (["--prompt", "hi", "--no-chat", "--system-prompt", "x"], r"system_prompt needs chat: true"),
    ],
)
def test_prompt_or_task_mistakes_end_in_one_line(here, capsys, tiny_model, args, message):
    code, out, err = forgetlab(capsys, "generate", "--model", tiny_model, *args)
    assert code == 2 and out == "" and "Traceback" not in err
    assert re.search(message, err.strip().splitlines()[-1]), err
