"""ToolAlpaca tool use: given an API's function documentation and a user's request, write the first function call
to make. Data: the ToolAlpaca release's JSON (github.com/tangqiaoyu/ToolAlpaca, data/): a list of APIs, each with
``Name``, ``Description``, ``NLDocumentation`` (the functions in words) and either ``Instances`` (train_data.json:
``input``, ``output``, ``Final Thought``, ``intermediate_steps`` of [[action, action input (JSON text), thought
and action], observation]) or ``Instructions`` with ``Golden_Answers`` (eval_simulated.json, eval_real.json: per
instruction a list of {Action, Action_Input}). Each instance or instruction is one record; its reference is the
first action that is not getDetails (ToolAlpaca's ask-the-user tool), and it is dropped when it has none or its
input is not a JSON object. ToolAlpaca is not on the Hugging Face hub: with ``hub_id`` empty the release's
train_data.json (train) and eval_simulated.json (test) are read from GitHub; a hub copy in the same schema
(one API per row) is read with datasets.load_dataset.

The model answers with one JSON call, {"name": <function>, "arguments": {<argument>: <value>}} (in the <answer>
block when there is one, else the last JSON object of the text). It is parsed, never run, and correct when the
name and the arguments equal the reference's, after normalisation: keys stripped of spaces, and arguments left
empty ("" or null, as the golden answers fill unused optional arguments) dropped. ``correct_name`` (accuracy_name
in metrics) gives the partial credit of the right function."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from ..options import option
from ..parsing import extract_tag, has_answer_format
from .base import Score
from .files import HUB_CONFIG_HELP, HUB_ID_HELP, HeldOutTask, row_field

__all__ = ["RELEASE", "ToolAlpacaTask", "parse_call"]

RELEASE = "https://raw.githubusercontent.com/tangqiaoyu/ToolAlpaca/main/data/{}.json"
ASK_USER = "getDetails"
CALL_FORMAT = '{"name": "<function>", "arguments": {"<argument>": <value>, ...}}'


def parse_call(completion: str) -> dict | None:
    """The call a completion writes: the JSON object of its <answer> block, else its last JSON object with a name;
    None when there is none. Parsed with json, never evaluated."""
    tagged = extract_tag(completion)
    text = (tagged if tagged is not None else completion)[-4000:]
    decoder, end = json.JSONDecoder(), len(text)
    for _ in range(50):  # bounded: at most 50 candidate objects, each decoded in linear time
        start = text.rfind("{", 0, end)
        if start < 0:
            return None
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            value = None
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            arguments = value.get("arguments", {})
            if isinstance(arguments, str):  # some models send the arguments as JSON text
                try:
                    arguments = json.loads(arguments)
                except ValueError:
                    return None
            return {"name": value["name"].strip(), "arguments": arguments} if isinstance(arguments, dict) else None
        end = start
    return None


def normalised(value):
    """Arguments compared as the golden answers mean them: keys stripped, empty ("" or null) arguments dropped."""
    if isinstance(value, dict):
        return {str(key).strip(): normalised(item) for key, item in value.items() if item is not None and item != ""}
    if isinstance(value, list):
        return [normalised(item) for item in value]
    return value


def _call(action, action_input) -> str | None:
    """A reference call as JSON text (the SFT target's form); None when its input is not a JSON object."""
    try:
        arguments = json.loads(action_input) if isinstance(action_input, str) else action_input
    except ValueError:
        return None
    if not isinstance(arguments, dict):
        return None
    return json.dumps({"name": str(action).strip(), "arguments": arguments})


@dataclass(kw_only=True)
class ToolAlpacaTask(HeldOutTask):
    """ToolAlpaca tool use: the first function call for a request, scored on name and arguments (parsed JSON)."""

    tag = "toolalpaca"
    required_fields: ClassVar[dict] = {"question": (str,), "api": (str,), "tools": (str,), "answer": (str,)}
    extractions = ("name",)
    hub_id: str = option("", HUB_ID_HELP)
    hub_config: str | None = option(None, HUB_CONFIG_HELP)
    columns = ("Name",)
    hub_splits: ClassVar[dict] = {"train": "train_data", "test": "eval_simulated"}
    local_aliases: ClassVar[dict] = {"train": ("train_data",), "test": ("eval_simulated", "eval")}

    def load(self, split: str) -> list[tuple[str, list[dict]]]:
        if self.source or self.hub_id:
            return super().load(split)
        import fsspec  # a datasets dependency; the release's nested lists are no Arrow table

        url = RELEASE.format(self.hub_splits[split])
        with fsspec.open(url, "r", encoding="utf-8") as handle:
            return [(url, json.load(handle))]

    def records_of(self, row: dict, where: str) -> list[dict]:
        api = {
            "api": str(row_field(row, "Name", where)),
            "tools": f"{row.get('Description') or ''}\n{self._documentation(row, where)}".strip(),
        }
        if "Instances" in row:
            return [
                {**api, **record}
                for index, instance in enumerate(row["Instances"] or [])
                if (record := self._instance(instance, f"{where}: Instances[{index}]"))
            ]
        if "Instructions" not in row:
            raise ValueError(f"{where}: API has neither 'Instances' (train data) nor 'Instructions' (eval data)")
        instructions, answers = row["Instructions"] or [], row_field(row, "Golden_Answers", where)
        records = []
        for question, steps in zip(instructions, answers):
            first = next((step for step in steps if step.get("Action") != ASK_USER), None)
            call = first and _call(first.get("Action"), first.get("Action_Input"))
            if call:
                records.append({**api, "question": str(question).strip(), "answer": call})
        return records

    def _documentation(self, row: dict, where: str) -> str:
        for name in ("NLDocumentation", "Functions"):
            if isinstance(row.get(name), str) and row[name].strip():
                return row[name].strip()
        raise ValueError(f"{where}: API has no 'NLDocumentation' field (the functions in words)")

    def _instance(self, instance: dict, where: str) -> dict | None:
        question = str(row_field(instance, "input", where)).rsplit("\nHint: ", 1)[0].strip()
        for step in instance.get("intermediate_steps") or []:
            try:
                (action, action_input, *log), _observation = step
            except (TypeError, ValueError):
                return None  # a malformed step: no reference to score against
            if action == ASK_USER:
                continue
            call = _call(action, action_input)
            thought = log[0].split("\nAction:", 1)[0].strip() if log and isinstance(log[0], str) else ""
            return {"question": question, "answer": call, "thought": thought} if call else None
        return None

    def question(self, record: dict) -> str:
        return (
            f"You can call the functions of the {record['api']} API:\n{record['tools']}\n\n"
            f"Request: {record['question']}\n"
            f"Reply with the first function call to make, as JSON: {CALL_FORMAT}"
        )

    def reasoning(self, record: dict) -> str:
        return record.get("thought") or f"The first call to make is {record['answer']}."

    def natural_answer(self, record: dict) -> str:
        return f"The first call to make is {record['answer']}"

    def example(self) -> dict:
        return {
            "api": "Weather",
            "tools": "Current weather by city.\ngetWeather: Current weather of a city.\n"
            'Parameters: {"city": "Required. string. The city name.", "units": "string. One of: [metric, imperial]."}',
            "question": "How warm is it in Paris right now, in Celsius?",
            "answer": json.dumps({"name": "getWeather", "arguments": {"city": "Paris", "units": "metric"}}),
            "thought": "The user wants the current temperature in Paris in metric units.",
        }

    def score(self, record: dict, completion: str) -> Score:
        reference, call = json.loads(record["answer"]), parse_call(completion)
        name = call is not None and call["name"] == reference["name"]
        correct = name and normalised(call["arguments"]) == normalised(reference["arguments"])
        formatted = float(has_answer_format(completion))
        return Score(correct=float(correct), formatted=formatted, extractions={"name": float(name)})
