"""The command line's arguments and inputs: value types, help that ends with each default, options whose help,
default and bounds come from the config classes, the checks every command runs before it does any work (each
output writable, each model folder a model), and the config, task, stage and records a command reads."""

from __future__ import annotations

import argparse
import os
import re
import sys

from .options import did_you_mean, field_default, validate_value
from .prompts import FORMATS

DEFAULT_CONFIG = "config/config.yaml"

__all__ = [
    "DEFAULT_CONFIG",
    "INPUTS",
    "PROMPT_OPTIONS",
    "HelpFormatter",
    "add_inputs",
    "add_options",
    "analysis_flags",
    "check_inputs",
    "command_config",
    "command_records",
    "command_stage",
    "command_task",
    "describe_os_error",
    "device_of",
    "emit",
    "field_help",
    "field_type",
    "index_int",
    "layer_span",
    "note",
    "one_of",
    "option_flag",
    "positive_int",
    "prompting_of",
    "set_threads",
    "settings",
    "style_of",
]


def positive_int(text: str) -> int:
    return _int_from(text, 1, "a positive integer")


def index_int(text: str) -> int:
    """An argparse type: a position in a list, from 0."""
    return _int_from(text, 0, "an index (0 or more)")


def _int_from(text: str, least: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, not {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"expected {what}, not {value}")
    return value


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every optional argument's help ends with its default."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "%(default)" in text or "default:" in text or action.required or action.default is argparse.SUPPRESS:
            return text
        if action.option_strings and action.nargs != 0:
            return f"{text} (default: %(default)s)"
        return text


def field_help(cls, name: str) -> tuple[str, object]:
    """(help, default) of a config class's option: the one source of both. The help is plain text, so a ``%`` in it
    is escaped from argparse's formatting."""
    field = cls.option_fields()[name]
    return field.metadata["help"].replace("%", "%%"), field_default(field)


def _convert(schema: dict):
    kinds = schema.get("type", "string")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return int if "integer" in kinds else float if "number" in kinds else str


def field_type(cls, name: str, where: str, items: bool = False):
    """An argparse type: read the text as the option's schema types it (its items' schema when ``items``), then
    check it as a config value is checked, so a bound is the same on the command line and in a config file and
    the error names the field ``where`` and the bound."""
    schema = cls.json_schema()["properties"][name]
    if items:
        schema = schema.get("items", {})
    convert = _convert(schema)

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            kind = {int: "an integer", float: "a number"}.get(convert, "a value")
            raise argparse.ArgumentTypeError(f"{where}: expected {kind}, not {text!r}") from None
        value, messages = validate_value(value, schema, where)
        if messages:
            raise argparse.ArgumentTypeError("; ".join(messages))
        return value

    return parse


def option_flag(cls, name: str, where: str) -> dict:
    """argparse keywords of a config option, from its schema: a switch (--x/--no-x) for a boolean, choices for a
    fixed set, several values for a list, else one value read and bounded as the config checks it."""
    schema = cls.json_schema()["properties"][name]
    if schema.get("type") in ("boolean", ["boolean", "null"]):
        return {"action": argparse.BooleanOptionalAction}
    if "enum" in schema:
        return {"choices": [value for value in schema["enum"] if value is not None]}
    items = schema.get("type") == "array"
    return {**({"nargs": "+"} if items else {}), "type": field_type(cls, name, where, items)}


def add_options(parser, cls, section: str, names, *, config: bool = True) -> None:
    """A flag for each of ``cls``'s options ``names``, its help, choices, bounds and default the class's. ``config``:
    when the flag is not given the command takes the config's ``section.name`` (``settings``)."""
    for name in names:
        help_text, default = field_help(cls, name)
        if config:
            help_text += f" (default: the config's {section}.{name}; {default!r} without one)".replace(" .", " ")
        flag = option_flag(cls, name, f"{section}.{name}".lstrip("."))
        parser.add_argument(_flag(name), dest=name, default=None if config else default, help=help_text, **flag)


def settings(args, config: dict | None, cls, section: str, names: list[str]) -> dict:
    """The value of each option: the command line's, else the config's ``section``, else the class default."""
    values = {}
    for name in names:
        given = getattr(args, name)
        if given is not None:
            values[name] = given
        elif config is not None:
            node = config
            for key in filter(None, section.split(".")):
                node = node[key]
            values[name] = node[name]
        else:
            values[name] = field_help(cls, name)[1]
    return values


def note(args, text: str) -> None:
    print(f"forgetlab {args.command}: {text}", file=sys.stderr)


def check_inputs(args) -> None:
    """Before any work: every output the command writes (``args.outputs``: argument names) can be written, then
    every model folder it reads (``args.models``, or a function of the arguments) holds a model; a ValueError names
    the argument and the path."""
    from .io import check_writable
    from .models import check_model_dir

    for name in getattr(args, "outputs", ()):
        if getattr(args, name, None) is not None:
            check_writable(getattr(args, name), _flag(name))
    models = getattr(args, "models", ())
    for name in models(args) if callable(models) else models:
        check_model_dir(getattr(args, name), _flag(name))


def one_of(args, names: str) -> str:
    """The one argument of ``names`` (space-separated) given; a ValueError naming the choice when none or several
    are."""
    given = [name for name in names.split() if getattr(args, name) is not None]
    if len(given) != 1:
        choice = " or ".join(_flag(name) for name in names.split())
        raise ValueError(
            f"give exactly one of {choice}" + (f" (given: {' and '.join(map(_flag, given))})" if given else "")
        )
    return given[0]


def describe_os_error(error: OSError) -> str:
    """One line: the file and what went wrong with it."""
    return f"{error.filename}: {error.strerror}"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


# -- configs, tasks, inputs of a command ---------------------------------------------------------------------
def command_config(args, required: bool = False) -> tuple[dict | None, str | None]:
    """(resolved config, its path) from --config or config/config.yaml here; (None, None) when there is none."""
    from .config import load_config

    path = args.config or (DEFAULT_CONFIG if os.path.exists(DEFAULT_CONFIG) else None)
    if path is None:
        if required:
            raise ValueError(f"no config: give --config FILE (there is no {DEFAULT_CONFIG} in {os.getcwd()})")
        return None, None
    return load_config(path), path


def command_task(args, config: dict | None, path: str | None, name: str):
    """The task called ``name``: the config's entry when it has one, else the task kind of that name with its
    defaults. Says on stderr which it took."""
    from .tasks import TASK_KINDS, make_task

    tasks = (config or {}).get("tasks", {})
    if name in tasks:
        note(args, f"task {name!r} from {path}")
        return make_task(name, tasks[name])
    if args.config:
        raise ValueError(
            f"task {name!r} is not defined in {args.config} (defined: {sorted(tasks)}){did_you_mean(name, tasks)}"
        )
    if name not in TASK_KINDS:
        known = sorted({*tasks, *TASK_KINDS})
        raise ValueError(
            f"task {name!r} is neither defined in a config nor a task kind (known: {known}){did_you_mean(name, known)}"
        )
    where = f"not defined in {path}" if path else f"no config (no --config, no {DEFAULT_CONFIG} in {os.getcwd()})"
    note(args, f"task {name!r}: {where}; the {name} kind with its defaults")
    return make_task(name, {"kind": name})


def command_records(args, task, n: int | None) -> list[dict]:
    """``--data`` records (checked for the fields the task needs), or the task's test split; the first ``n``."""
    from .data import read_records

    records = read_records(task, args.data) if args.data else task.build("test", n)
    return records[:n] if n is not None else records


def set_threads(args) -> None:
    from .threads import limit_threads

    limit_threads(args.threads)


def emit(result: dict) -> None:
    from .io import json_text

    print(json_text(result))


def device_of(args, config: dict | None) -> str:
    from .config import WorkflowConfig

    return settings(args, config, WorkflowConfig, "", ["device"])["device"]


# How a prompt is put to the model besides its format: options of the evaluate section that every command
# prompting a model takes as flags.
PROMPT_OPTIONS = ["chat", "system_prompt", "oneshot_example"]


def prompting_of(args, config: dict | None) -> dict:
    """chat, system_prompt and oneshot_example, each the command line's, else the config's evaluate section's;
    --no-chat alone drops the config's system prompt and example turns (a plain prompt has no turns), --no-chat with
    --system-prompt or --oneshot-example turns is refused."""
    from .evaluate.config import EvaluateConfig
    from .prompts import check_oneshot_example, check_system_prompt

    values = settings(args, config, EvaluateConfig, "evaluate", PROMPT_OPTIONS)
    if args.chat is False:
        if args.system_prompt is None:
            values["system_prompt"] = None
        if args.oneshot_example is None:
            values["oneshot_example"] = "user"
    check_system_prompt(values["chat"], values["system_prompt"])
    check_oneshot_example(values["chat"], values["oneshot_example"])
    return values


def style_of(args, config: dict | None) -> str | None:
    """The prompt format: --format, else the config's evaluate.format (None: each task's own)."""
    from .evaluate.config import EvaluateConfig

    return settings(args, config, EvaluateConfig, "evaluate", ["format"])["format"]


# -- arguments several commands take ---------------------------------------------------------------------------
# Each described once; a command names those it takes (``add_inputs``), with a help of its own where it reads more.
INPUTS = {
    "config": {
        "help": f"workflow config: its tasks, stages, models and settings (default: {DEFAULT_CONFIG} in the "
        "current folder, when there is one)"
    },
    "threads": {"type": positive_int, "default": os.cpu_count() or 1, "help": "CPU threads of torch"},
    "task": {"help": "a task of the config, or a task kind"},
    "model": {"help": "the checkpoint (HF folder)"},
    "reference": {"help": "the reference model (HF folder), e.g. the base"},
    "data": {"help": "records of the task (JSONL; default: the task's test split)"},
    "n": {"type": positive_int, "help": "the first n records (default: all)"},
    "format": {"choices": FORMATS, "help": "prompt format (default: the config's evaluate.format, else the task's)"},
}


def add_inputs(parser, required: str = "", optional: str = "", **own) -> None:
    """The arguments named in ``required`` and ``optional`` (space-separated), described by ``INPUTS`` or by ``own``
    (a help text, or argparse keywords and ``aliases``) where this command describes one its own way."""
    for names, needed in ((required, True), (optional, False)):
        for name in names.split():
            spec = own.get(name, INPUTS.get(name))
            spec = {**INPUTS.get(name, {}), "help": spec} if isinstance(spec, str) else dict(spec)
            parser.add_argument(_flag(name), *spec.pop("aliases", ()), required=needed, **spec)


def command_stage(config: dict, path: str, name: str) -> dict:
    """The entry of the stage ``name`` in the config read from ``path``; a swept stage's error lists its variants."""
    stages = config["stages"]
    if name in stages:
        return stages[name]
    variants = sorted(label for label in stages if label.startswith(f"{name}-"))
    if variants:
        raise ValueError(f"stage {name!r} is swept in {path}: name one of its variants: {variants}")
    raise ValueError(f"stage {name!r} is not defined in {path} (defined: {sorted(stages)}){did_you_mean(name, stages)}")


def layer_span(text: str) -> tuple[int, int]:
    """An argparse type: a layer range first-last (0-7), as the restore config's ``layers`` spell it."""
    from .analysis.config import SPAN

    if not re.match(SPAN, text):
        raise argparse.ArgumentTypeError(f"expected a range first-last, e.g. 0-7, not {text!r}")
    first, _, last = text.partition("-")
    return int(first), int(last)


def analysis_flags(parser) -> None:
    """Each registered analysis' command-line options (``Analysis.flags``), helped and defaulted by its option class;
    an option several analyses take is one flag (read and bounded as their schema says when they agree, else
    checked when the analysis runs)."""
    from .analysis.registry import ANALYSES

    owners: dict[str, list] = {}
    for analysis in ANALYSES.values():
        for name in analysis.flags:
            owners.setdefault(name, []).append(analysis)
    for name, analyses in owners.items():
        help_text = field_help(analyses[0].options, name)[0]
        defaults = ", ".join(f"{a.name} {field_help(a.options, name)[1]!r}" for a in analyses)
        schemas = [a.options.json_schema()["properties"][name] for a in analyses]
        if all(schema == schemas[0] for schema in schemas):
            flag = option_flag(analyses[0].options, name, f"analysis.{analyses[0].name}.{name}")
        else:
            flag = {"nargs": "+"} if schemas[0].get("type") == "array" else {"type": _convert(schemas[0])}
        help_text += f" ({'/'.join(a.name for a in analyses)}; default: the config's analysis.<analysis>.{name}; "
        help_text += f"without one {defaults})"
        parser.add_argument(_flag(name), dest=name, help=help_text, **flag)
