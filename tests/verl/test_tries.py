"""Episodes of tries in verl's rollouts: forgetlab's agent loop inside verl's agent loop machinery (its token
builder, the real tokenizer and chat template), the LLM server replaced by replies written here (verl's servers
are vLLM or SGLang on a GPU)."""

import pytest

from .conftest import VERL_ONLY

pytest.importorskip("verl", reason=VERL_ONLY)
from transformers import AutoTokenizer
from verl.experimental.agent_loop.agent_loop import DictConfigWrap
from verl.utils.dataset.rl_dataset import RLHFDataset
from verl.workers.rollout.replica import TokenOutput

from forgetlab.prompts import reference_completion
from forgetlab.tasks import make_task
from forgetlab.verl.data import verl_rows
from forgetlab.verl.names import AGENT_NAME
from forgetlab.verl.reward import compute_score, write_spec
from forgetlab.verl.settings import response_length, verl_settings
from forgetlab.verl.tries import TriesAgentLoop, write_agent_loops

from .conftest import verl_stage
from .test_settings import compose_verl

GP = {"kind": "generalpoints", "format": "think", "verify_iter": 3}


class WrittenReplies:
    """verl's LLM server client, answering with the given texts in turn, with what its servers add to a result:
    each token's log-probability (-0.5 here) and the policy's step (one more per reply); it keeps what it was
    asked."""

    def __init__(self, tokenizer, texts):
        self.tokenizer, self.texts, self.requests = tokenizer, list(texts), []

    async def generate(self, request_id, prompt_ids, sampling_params, **_):
        self.requests.append((request_id, list(prompt_ids), dict(sampling_params)))
        ids = self.tokenizer(self.texts.pop(0), add_special_tokens=False)["input_ids"]
        step = len(self.requests)
        fields = {"min_global_steps": step, "max_global_steps": step}
        return TokenOutput(token_ids=ids, log_probs=[-0.5] * len(ids), extra_fields=fields)


@pytest.fixture
def episode(tiny_model, files, tmp_path):
    task = make_task("gp", GP)
    stage = verl_stage("ppo", task="gp", rewards={"correct": 1.0}, max_completion_length=48, num_generations=1)
    record = task.build("train", 1, seed=0)[0]
    row = verl_rows(stage, {"gp": task}, [record])[0]
    write_spec(stage.to_dict(), {"gp": GP}, str(tiny_model), files.reward_spec)
    files = files.__class__(**{**files.__dict__, "agent_loops": str(tmp_path / "loops.yaml")})
    write_agent_loops(files.agent_loops)
    config = compose_verl(verl_settings(stage, files, rows=4, max_prompt_length=512, gpus=1, tries=3))
    return task, record, row, config, files


def _loop(config, tokenizer, server):
    return TriesAgentLoop(trainer_config=DictConfigWrap(config), server_manager=server, tokenizer=tokenizer,
                          processor=None, dataset_cls=RLHFDataset, data_config=DictConfigWrap(config.data))  # fmt: skip


def test_a_wrong_try_gets_the_verifiers_feedback_and_another(episode, tiny_model):
    task, record, row, config, files = episode
    assert row["agent_name"] == AGENT_NAME and config.data.max_response_length == 3 * 48 + 2 * 128
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    wrong, right = "<think>guess</think>\n<answer>1 + 1</answer>", reference_completion(task, record, "think")
    server = WrittenReplies(tokenizer, [wrong, right])
    loop = _loop(config, tokenizer, server)
    output = loop.loop.run_until_complete(
        loop.run({"temperature": 1.0}, raw_prompt=row["prompt"], extra_info=row["extra_info"])
    )
    assert output.extra_fields["tries"] == 2 and output.extra_fields["final_completion"] == right
    # the model's tokens are trained (mask 1), the template's and the verifier's between the tries are not
    trained = [t for t, m in zip(output.response_ids, output.response_mask) if m]
    assert tokenizer.decode(trained) == wrong + right
    between = tokenizer.decode([t for t, m in zip(output.response_ids, output.response_mask) if not m])
    assert task.feedback(record, wrong) in between
    # the second try sees the first, its end of turn and the feedback turn: the episode so far
    second = output.response_mask.index(1, output.response_mask.index(0))
    assert server.requests[1][1] == output.prompt_ids + output.response_ids[:second]
    assert server.requests[0][0] == server.requests[1][0]  # one request id: the server keeps the episode's cache
    # the sampled tokens' log-probabilities line up with the response (0 where the model did not sample), and the
    # server's fields are kept as verl's own loops keep them: the first try's, the latest policy step
    assert [p for p, m in zip(output.response_logprobs, output.response_mask) if m] == [-0.5] * len(trained)
    assert len(output.response_logprobs) == len(output.response_ids)
    assert (output.extra_fields["min_global_steps"], output.extra_fields["max_global_steps"]) == (1, 2)
    assert [params["max_tokens"] for *_, params in server.requests] == [48, 48]
    # the reward scores the episode's last try, as forgetlab's TRL rollouts do
    info = {**row["extra_info"], **output.extra_fields}
    score = compute_score("gp", tokenizer.decode(output.response_ids), "", info, spec=files.reward_spec)
    assert score["correct"] == 1.0


def test_an_episode_stops_at_the_tasks_tries(episode, tiny_model):
    task, _, row, config, _ = episode
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    server = WrittenReplies(tokenizer, ["<answer>1</answer>"] * 5)
    loop = _loop(config, tokenizer, server)
    output = loop.loop.run_until_complete(loop.run({}, raw_prompt=row["prompt"], extra_info=row["extra_info"]))
    assert output.extra_fields["tries"] == task.verify_iter == len(server.requests) == 3
    assert len(output.response_ids) == len(output.response_mask) <= response_length(verl_stage("ppo"), 3)
