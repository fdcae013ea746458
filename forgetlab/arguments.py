"""The command line's arguments: value types, help that ends with each default, options whose help, default and
bounds come from the config classes, and the checks every command runs before it does any work (each output
writable, each model folder a model)."""

from __future__ import annotations

import argparse
import sys

from .options import field_default, validate_value

__all__ = [
    "HelpFormatter", "check_inputs", "config_setting", "describe_os_error", "field_help", "field_type", "note",
    "positive_int", "settings",
]  # fmt: skip


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {value}")
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


def field_type(cls, name: str, where: str, convert=str, items: bool = False):
    """An argparse type: ``convert`` the text, then check it against the option's schema (its items' schema when
    ``items``) as a config value is checked, so a bound is the same on the command line and in a config file and
    the error names the field ``where`` and the bound."""
    schema = cls.json_schema()["properties"][name]
    if items:
        schema = schema.get("items", {})

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


def config_setting(parser, flag: str, cls, name: str, section: str, convert=None, **kwargs) -> None:
    """An option whose help, default and bounds come from the config class; a config in use supplies its own
    value. ``convert`` (int, float, str) reads the text, then the option's schema checks it."""
    help_text, default = field_help(cls, name)
    help_text += f" (default: the config's {section}.{name}; {default!r} without one)"
    if convert is not None:
        kwargs["type"] = field_type(cls, name, f"{section}.{name}", convert, items="nargs" in kwargs)
    parser.add_argument(flag, dest=name, default=None, help=help_text, **kwargs)


def settings(args, config: dict | None, cls, section: str, names: list[str]) -> dict:
    """The value of each option: the command line's, else the config's ``section``, else the class default."""
    values = {}
    for name in names:
        given = getattr(args, name)
        if given is not None:
            values[name] = given
        elif config is not None:
            node = config
            for key in section.split("."):
                node = node[key]
            values[name] = node[name]
        else:
            values[name] = field_help(cls, name)[1]
    return values


def note(args, text: str) -> None:
    print(f"forgetlab {args.command}: {text}", file=sys.stderr)


def check_inputs(args) -> None:
    """Before any work: every output the command writes (``args.outputs``: argument names) can be written, then
    every model folder it reads (``args.models``) holds a model; a ValueError names the argument and the path."""
    from .io import check_writable
    from .models import check_model_dir

    for name in getattr(args, "outputs", ()):
        if getattr(args, name, None) is not None:
            check_writable(getattr(args, name), _flag(name))
    for name in getattr(args, "models", ()):
        check_model_dir(getattr(args, name), _flag(name))


def describe_os_error(error: OSError) -> str:
    """One line: the file and what went wrong with it."""
    return f"{error.filename}: {error.strerror}"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")
