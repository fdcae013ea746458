"""Checking config data against the JSON schema of the config classes, with messages that name the field's path
and suggest the nearest name for a typo; the exceptions a wrong config raises."""

from __future__ import annotations

import difflib
import re

__all__ = ["ConfigError", "did_you_mean", "join_path", "raise_errors", "validate_schema", "validate_value"]

# YAML 1.1 (PyYAML, Snakemake) reads 1e-5 (no dot) as text; a number field accepts that spelling.
EXPONENT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


class ConfigError(ValueError):
    """A config value is wrong; the message starts with the field's path (``stages.sft.lr: ...``)."""


def did_you_mean(name: str, choices) -> str:
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def join_path(where: str, key) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else str(key)


def _is_number(schema: dict) -> bool:
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return "number" in kinds


def _exponents_to_numbers(validator_class):
    """Validators that read YAML 1.1's text '1e-5' as the number it means where the schema asks for a number."""
    check_properties = validator_class.VALIDATORS["properties"]
    check_items = validator_class.VALIDATORS["items"]

    def properties(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if isinstance(instance.get(key), str) and _is_number(sub) and EXPONENT.match(instance[key]):
                    instance[key] = float(instance[key])
        yield from check_properties(validator, properties, instance, schema)

    def items(validator, items, instance, schema):
        if isinstance(instance, list) and isinstance(items, dict) and _is_number(items):
            instance[:] = [float(v) if isinstance(v, str) and EXPONENT.match(v) else v for v in instance]
        yield from check_items(validator, items, instance, schema)

    from jsonschema import validators

    return validators.extend(validator_class, {"properties": properties, "items": items})


def validate_schema(data, schema: dict, where: str = "") -> list[str]:
    """Messages for every way ``data`` breaks ``schema``, each starting with the field's path."""
    from jsonschema import Draft202012Validator

    validator = _exponents_to_numbers(Draft202012Validator)(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return [_message(error, where) for error in errors]


def validate_value(value, schema: dict, where: str):
    """(``value`` with a YAML 1.1 exponent read as a number where ``schema`` wants one, messages naming ``where``)."""
    box = {"value": value}
    messages = validate_schema(box, {"type": "object", "properties": {"value": schema}})
    return box["value"], [where + message[len("value") :] for message in messages]


def raise_errors(messages: list[str]) -> None:
    if messages:
        shown = messages[:10] + ([f"... and {len(messages) - 10} more"] if len(messages) > 10 else [])
        raise ConfigError("\n".join(shown))


def _message(error, where: str) -> str:
    path = where
    for key in error.absolute_path:
        path = join_path(path, key)
    value, schema = error.instance, error.schema
    if error.validator == "anyOf" and value is not None and error.context:
        # an optional section (anyOf [its schema, null]) that is set: what is wrong inside it
        inner = [e for e in error.context if e.validator != "type" or e.validator_value != "null"]
        if inner:
            return "\n".join(_message(e, where) for e in inner)
    if error.validator == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        extra = [key for key in value if key not in allowed]
        return "\n".join(f"{join_path(path, key)}: unknown option {key!r}{did_you_mean(key, allowed)}" for key in extra)
    path = path or "config"
    if error.validator == "enum":
        return f"{path}: {value!r} is not one of {schema['enum']}{did_you_mean(value, schema['enum'])}"
    if error.validator == "type":
        wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return f"{path}: expected {' or '.join(_ARTICLES.get(t, t) for t in wanted)}, not {value!r}"
    if error.validator == "required":
        return f"{path}: {error.message.replace(' is a required property', ' is required')}"
    if error.validator == "not":
        return f"{path}: {value!r} is not allowed here"
    return f"{path}: {error.message}"


_ARTICLES = {
    "integer": "an integer", "number": "a number", "string": "text", "boolean": "true or false",
    "array": "a list", "object": "a mapping", "null": "null",
}  # fmt: skip
