"""verl, written against verl 0.9.1 (requirements/verl.lock pins it). forgetlab reaches into none of verl's
internals: it writes keys of verl's ppo_trainer config (Hydra refuses one that is gone), rows in verl's RLHF
parquet schema, a custom reward function and an agent loop in verl's contracts, reads its file logger's rows and
runs its model merger. Another verl release may have moved any of them: a job names the difference first."""

from __future__ import annotations

import sys

from . import version

__all__ = ["WRITTEN_AGAINST", "agent_loop_classes", "check_version"]

WRITTEN_AGAINST = "0.9.1"


def check_version() -> str:
    """The installed verl's version; a warning in the job's log when it is not the one forgetlab was written
    against."""
    installed = version("verl")
    if installed != WRITTEN_AGAINST:
        print(f"warning: verl {installed} is installed; forgetlab's verl engine was written against verl "
              f"{WRITTEN_AGAINST} (requirements/verl.lock)", file=sys.stderr, flush=True)  # fmt: skip
    return installed


def agent_loop_classes() -> tuple[type, type]:
    """verl's agent loop base class and its output (verl.experimental.agent_loop in 0.9.1: the extension point for
    rollouts of one's own, experimental in name)."""
    from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopOutput

    return AgentLoopBase, AgentLoopOutput
