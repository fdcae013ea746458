"""Episodes of tries in verl's rollouts (a task's ``verify_iter`` > 1; GeneralPoints as RL_Heals_SFT trains it),
as an agent loop of verl's: after a wrong answer the verifier's message is the next user turn and the model answers
again, until it is right or the tries run out. The episode is one response: the model's tokens (trained) and the
template's and verifier's between them (response mask 0, as verl's tool turns). The rewards score the last try.

verl finds the loop by the rows' ``agent_name`` in the agent loop file ``agent_loop_file`` writes. The task comes
from the reward spec the settings give the reward function: one file says what a stage's tasks are.
"""

from __future__ import annotations

import os
from uuid import uuid4

import yaml

from forgetlab.compat.verl import agent_loop_classes
from forgetlab.rewards import as_scored
from forgetlab.verl.data import record_of
from forgetlab.verl.names import AGENT_NAME
from forgetlab.verl.reward import FINAL, read_spec

__all__ = ["TriesAgentLoop", "write_agent_loops"]

AgentLoopBase, AgentLoopOutput = agent_loop_classes()


def write_agent_loops(path: str | os.PathLike) -> None:
    """verl's agent loop file (rollout.agent.agent_loop_config_path) naming this loop."""
    with open(path, "w") as handle:
        yaml.safe_dump([{"name": AGENT_NAME, "_target_": f"{__name__}.TriesAgentLoop"}], handle)


class TriesAgentLoop(AgentLoopBase):
    """One episode per prompt: up to the task's verify_iter tries, each after the verifier's feedback."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.response_length = self.rollout_config.response_length
        spec = self.config.reward.custom_reward_function.reward_kwargs.spec
        self.stage, tasks, _ = read_spec(spec)
        self.tasks = as_scored(self.stage, tasks)

    async def run(self, sampling_params: dict, **kwargs) -> AgentLoopOutput:
        messages = list(kwargs["raw_prompt"])
        record = record_of(kwargs["extra_info"])
        task = self.tasks.get(record.get("task") or self.stage.task, self.tasks[self.stage.task])
        ids = await self.ct_build_initial_tokens(messages)
        mask: list[int] = []
        logprobs: list[float] = []  # the sampled tokens' log-probabilities, when the server gives them (0: not sampled)
        server_fields: dict = {}  # what verl's server adds to a result (the policy's step), as its tool loop keeps it
        final, tries, request = "", 0, uuid4().hex  # one request id: the episode's tries share the server's cache
        while True:
            tries += 1
            # each try as long as a completion may be, the episode as long as the response
            room = min(self.stage.max_completion_length, self.response_length - len(mask))
            output = await self.server_manager.generate(
                request_id=request, prompt_ids=ids, sampling_params={**sampling_params, "max_tokens": room}
            )
            server_fields = _merge_server_fields(server_fields, output.extra_fields)
            merged, mask, aligned = await self.ct_merge_assistant_token(
                ids, output.token_ids, mask, logprobs if (logprobs or output.log_probs) else None,
                assistant_logprobs=output.log_probs or None,
            )  # fmt: skip
            logprobs = aligned or []
            ids = merged.token_ids
            final = self.tokenizer.decode(output.token_ids, skip_special_tokens=True)
            message = task.feedback(record, final) if tries < task.verify_iter else None
            if message is None or len(mask) >= self.response_length:
                break
            messages.append({"role": "assistant", "content": final})
            before = list(messages)
            messages.append({"role": "user", "content": message})
            merged, with_feedback, with_logprobs = await self.ct_merge_context_msg(
                before, messages, ids, mask, logprobs or None
            )
            if len(with_feedback) >= self.response_length:  # no room for another try: the episode ends here
                break
            ids, mask, logprobs = merged.token_ids, with_feedback, with_logprobs or []
        prompt = ids[: len(ids) - len(mask)]
        return AgentLoopOutput(
            prompt_ids=prompt, response_ids=ids[len(prompt) :][: self.response_length],
            response_mask=mask[: self.response_length],
            response_logprobs=logprobs[: self.response_length] if logprobs else None,
            num_turns=2 * tries, metrics={}, extra_fields={**server_fields, FINAL: final, "tries": tries},
        )  # fmt: skip


def _merge_server_fields(kept: dict, new: dict) -> dict:
    """The first try's server fields, the policy's latest step (max_global_steps) from each later one."""
    if not kept:
        return dict(new)
    latest = new.get("max_global_steps")
    return {**kept, "max_global_steps": latest} if latest else kept
