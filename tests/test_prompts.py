"""Prompt formats: every format renders and its reference scores; the one-shot curriculum."""

import pytest

from forgetlab.prompts import curriculum_formats, render_prompt
from forgetlab.tasks import make_task


@pytest.mark.parametrize(
    "name, spec",
    [("countdown", {"kind": "countdown"}), ("arithmetic", {"kind": "arithmetic"}), ("gp", {"kind": "generalpoints"})],
)
@pytest.mark.parametrize("style", ["answer", "think", "oneshot", "natural"])
def test_every_format_renders_and_its_reference_scores(name, spec, style):
    task = make_task(name, spec)
    record = task.build("test", 1, seed=0)[0]
    prompt = render_prompt(task, record, style)
    assert task.question(record) in prompt
    assert ("<answer>" in prompt) == (style != "natural")
    reference = task.reference(record, "think" if style == "oneshot" else style)
    assert task.for_format(style).score(record, reference).correct == 1.0


def test_one_shot_curriculum_decays_linearly():
    styles = curriculum_formats(2000, "think", 0.8, seed=0)
    first, last = styles[:200].count("oneshot") / 200, styles[-200:].count("oneshot") / 200
    assert 0.65 < first < 0.85 and last < 0.1
    assert styles == curriculum_formats(2000, "think", 0.8, seed=0)
    assert set(curriculum_formats(50, "answer", 0.0)) == {"answer"}
