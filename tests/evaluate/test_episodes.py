"""Evaluation with tries (verify_iter > 1): the verifier's message is the next user turn, an episode counts as
solved when any try is right."""

from forgetlab.evaluate import HFEngine, evaluate_records
from forgetlab.models import load_model, load_tokenizer
from forgetlab.tasks import make_task

TASK = make_task("gp", {"kind": "generalpoints", "verify_iter": 3, "format": "answer"})
RECORDS = TASK.build("test", 2, seed=0)
INCORRECT = "You failed this trial because your formula is incorrect."


def test_an_episode_right_on_the_second_try_counts_solved_and_took_two_tries():
    read = []

    def engine(texts, *_):  # wrong first (all four numbers, summed), then the reference
        read.append(texts)
        if len(read) == 1:
            return ["<answer>" + " + ".join(map(str, r["numbers"])) + "</answer>" for r in RECORDS]
        return [TASK.reference(r) for r in RECORDS]

    metrics, rows = evaluate_records(engine, None, TASK, RECORDS, chat=False)
    assert (metrics["accuracy"], metrics["solved_first_try"], metrics["mean_tries"]) == (1.0, 0.0, 2.0)
    assert len(read) == 2 and all(text.endswith(f"{INCORRECT}\nAnswer:") for text in read[1])
    assert [turn["role"] for turn in rows[0]["turns"]] == ["assistant", "user", "assistant"]
    assert rows[0]["turns"][1]["content"] == INCORRECT and rows[0]["completion"] == TASK.reference(RECORDS[0])


def test_an_episode_solved_at_once_takes_one_try():
    engine = lambda texts, *_: [TASK.reference(r) for r in RECORDS]  # noqa: E731
    metrics, rows = evaluate_records(engine, None, TASK, RECORDS, chat=False)
    assert (metrics["accuracy"], metrics["solved_first_try"], metrics["mean_tries"]) == (1.0, 1.0, 1.0)
    assert [len(row["turns"]) for row in rows] == [1, 1]


def test_the_tiny_model_gets_the_feedback_in_its_chat_template_until_the_tries_run_out(tiny_model):
    tokenizer = load_tokenizer(tiny_model)
    engine, read = HFEngine(load_model(tiny_model), tokenizer, batch_size=4), []

    def reading(texts, *args, **kwargs):
        read.append(texts)
        return engine(texts, *args, **kwargs)

    metrics, rows = evaluate_records(reading, tokenizer, TASK, RECORDS, max_new_tokens=4)
    assert {"solved_first_try", "mean_tries", "verify_iter", "accuracy"} <= set(metrics)
    assert metrics["accuracy"] == 0.0 and metrics["mean_tries"] == 3.0  # random weights: never right
    assert [len(row["turns"]) for row in rows] == [5, 5] and len(read) == 3
    for row, text in zip(rows, read[2]):
        assert row["turns"][1]["content"].startswith("You failed this trial because")
        assert text.count("You failed this trial because") == 2 and text.count("<|im_start|>assistant") == 3
        assert tokenizer.apply_chat_template(
            [{"role": "user", "content": row["prompt"]}, *row["turns"][:-1]], tokenize=False,
            add_generation_prompt=True,
        ) == text  # fmt: skip
