"""Config classes whose fields carry their own help, default and constraints: the one source of every option.

A config class is a dataclass deriving from :class:`Options`, each field declared with :func:`option`. From the
classes come the JSON schema (``forgetlab schema``, config/schema.yaml), the defaults, and the validation of a
config, with messages that name the field and suggest the nearest name for a typo. A base class with a
``discriminator`` (a stage's ``method``, a task's ``kind``, a model's ``source``) builds the subclass its value
names, and accepts only that subclass's options.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import MISSING
from typing import Any, ClassVar

from .validation import ConfigError, did_you_mean, join_path, raise_errors, validate_schema, validate_value

__all__ = [
    "ConfigError", "OptionError", "Options", "did_you_mean", "field_default", "option", "raise_errors", "summary",
    "validate_schema", "validate_value",
]  # fmt: skip


class OptionError(ValueError):
    """Raised by a config class's checks: ``field`` is the option at fault, relative to the class."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def option(default=MISSING, help: str = "", *, factory=MISSING, **schema) -> Any:
    """A dataclass field with its help text and JSON-schema constraints (``minimum``, ``enum``, ...)."""
    return dataclasses.field(default=default, default_factory=factory, metadata={"help": help, "schema": schema})


def summary(cls) -> str:
    """The first paragraph of a class's docstring on one line (schema descriptions, help texts)."""
    return " ".join((cls.__doc__ or "").split("\n\n")[0].split()).replace("``", "`")


class Options:
    """Base of config dataclasses: ``from_dict`` (validated, defaults filled), ``to_dict``, ``json_schema``."""

    # A field of the class that is not a config option (a task's name is its key in the config).
    internal: ClassVar[tuple[str, ...]] = ()
    # Set on a base class whose subclasses are picked by one key (e.g. "method"); ``variants`` maps its values.
    discriminator: ClassVar[str | None] = None
    variants: ClassVar[dict[str, type]] = {}
    # The discriminator's value of a concrete subclass (its ``method``, ``kind`` or ``source``).
    tag: ClassVar[str | None] = None
    discriminator_help: ClassVar[str] = ""

    # -- building --
    @classmethod
    def from_dict(cls, data: dict, where: str = "", **internal) -> Options:
        """The config object for ``data`` (a config entry), checked against the class's schema first."""
        raise_errors(validate_schema(data, cls.json_schema(), where))
        return cls._build(data, where, **internal)

    @classmethod
    def _build(cls, data: dict, where: str, **internal) -> Options:
        if cls.discriminator and cls.variants and cls.tag is None:
            return cls._variant(data, where)._build(data, where, **internal)
        own = cls.option_fields()
        data = {k: v for k, v in data.items() if k != cls.discriminator}
        for key in data:
            if key not in own:
                raise ConfigError(f"{join_path(where, key)}: {cls._unknown(key)}")
        for key, field in own.items():
            if key not in data and field_default(field) is MISSING:
                which = f" ({cls.discriminator} {cls.tag!r})" if cls.tag else ""
                raise ConfigError(f"{where or 'config'}: {key!r} is required{which}")
        hints = _hints(cls)
        values = {key: _build_value(hints[key], value, join_path(where, key)) for key, value in data.items()}
        try:
            return cls(**values, **internal)
        except OptionError as error:
            raise ConfigError(f"{join_path(where, error.field)}: {error}") from None

    @classmethod
    def _variant(cls, data: dict, where: str) -> type[Options]:
        tag = data.get(cls.discriminator)
        if tag is None:
            raise ConfigError(f"{where}: missing {cls.discriminator!r} (one of {sorted(cls.variants)})")
        if tag not in cls.variants:
            raise ConfigError(
                f"{join_path(where, cls.discriminator)}: unknown {cls.discriminator} {tag!r}; known: "
                f"{sorted(cls.variants)}{did_you_mean(tag, cls.variants)}"
            )
        return cls.variants[tag]

    @classmethod
    def _unknown(cls, key: str) -> str:
        """Why ``key`` is refused: a typo (nearest name) or an option of a sibling variant."""
        own = list(cls.option_fields())
        owners = [tag for tag, variant in cls._siblings().items() if key in variant.option_fields()]
        if owners and cls.tag is not None:
            return (
                f"not an option of {cls.discriminator} {cls.tag!r} (an option of {', '.join(sorted(owners))}); "
                f"{cls.tag} takes {sorted(own)}"
            )
        return f"unknown option {key!r}{did_you_mean(key, own)}"

    @classmethod
    def _siblings(cls) -> dict[str, type]:
        for base in cls.__mro__[1:]:
            if getattr(base, "variants", None) and base.discriminator:
                return base.variants
        return {}

    @classmethod
    def option_fields(cls) -> dict[str, dataclasses.Field]:
        return {f.name: f for f in dataclasses.fields(cls) if f.init and f.name not in cls.internal}

    def __post_init__(self):
        """Checks across options; a subclass raises OptionError naming the option at fault."""

    # -- writing back --
    def to_dict(self) -> dict:
        """The resolved entry (every option with its value), as plain JSON-ready data."""
        data = {self.discriminator: self.tag} if self.discriminator and self.tag else {}
        for name in self.option_fields():
            data[name] = _plain(getattr(self, name))
        return data

    # -- the schema --
    @classmethod
    def json_schema(cls) -> dict:
        return _schema_of(cls)


def _plain(value):
    if isinstance(value, Options):
        return value.to_dict()
    if isinstance(value, dict):  # key-sorted: the resolved config does not depend on the file's key order
        return {k: _plain(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@functools.cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _build_value(hint, value, where: str):
    """Nested config classes (and dicts or lists of them) from plain data; other values as they are."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return value if value is None else _build_value(inner[0], value, where)
    if isinstance(hint, type) and issubclass(hint, Options):
        return hint._build(value, where)
    if origin is dict and len(args) == 2:
        if isinstance(args[1], type) and issubclass(args[1], Options) and "name" in args[1].internal:
            return {key: args[1]._build(item, join_path(where, key), name=key) for key, item in value.items()}
        return {key: _build_value(args[1], item, join_path(where, key)) for key, item in value.items()}
    if hint is float and isinstance(value, (int, str)) and not isinstance(value, bool):
        return float(value)
    if origin is list and args and args[0] is float:
        return [float(v) for v in value]
    return value


# -- JSON schema from the classes ------------------------------------------------------------------------
def _type_schema(hint) -> dict:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        schema = _type_schema(inner[0])
        if type(None) in args:
            schema = _nullable(schema)
        return schema
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is str:
        return {"type": "string"}
    if isinstance(hint, type) and issubclass(hint, Options):
        return {"$ref": f"#/$defs/{_def_name(hint)}"}
    if hint is list or origin is list:
        return {"type": "array", **({"items": _type_schema(args[0])} if args else {})}
    if hint is dict or origin is dict:
        return {"type": "object", **({"additionalProperties": _type_schema(args[1])} if len(args) == 2 else {})}
    if hint is Any:
        return {}
    raise TypeError(f"no JSON schema for type {hint!r}")


def _nullable(schema: dict) -> dict:
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    if isinstance(schema.get("type"), str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def field_default(field: dataclasses.Field):
    if field.default is not MISSING:
        return _plain(field.default)
    if field.default_factory is not MISSING:
        return _plain(field.default_factory())
    return MISSING


def _field_schema(cls, field: dataclasses.Field) -> dict:
    hint = _hints(cls)[field.name]
    schema = _type_schema(hint)
    extra = dict(field.metadata.get("schema", {}))
    if "enum" in extra or "$ref" in extra:  # a fixed set of values, or a shared definition, replaces the type
        schema = {key: extra.pop(key) for key in ("enum", "$ref") if key in extra}
        if type(None) in typing.get_args(hint):
            schema = _nullable(schema)
    schema.update(extra)
    schema["description"] = field.metadata.get("help", "")
    default = field_default(field)
    if default is not MISSING:
        schema["default"] = default
    return schema


def _def_name(cls) -> str:
    return getattr(cls, "schema_name", None) or cls.__name__


@functools.cache
def _schema_of(cls) -> dict:
    """A self-contained schema for ``cls`` (its nested classes under ``$defs``)."""
    definitions: dict[str, dict] = {}
    root = _definition(cls, definitions)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **root, "$defs": definitions}


def _definition(cls, definitions: dict) -> dict:
    """The object schema of ``cls``; nested config classes are added to ``definitions``."""
    for name in cls.option_fields():
        for nested in _nested_classes(_hints(cls)[name]):
            name = _def_name(nested)
            if name not in definitions:
                definitions[name] = {}  # placeholder: recursion guard
                definitions[name] = _definition(nested, definitions)
    if cls.discriminator and cls.variants and cls.tag is None:
        return _union(cls, definitions)
    fields = cls.option_fields()
    properties = {}
    if cls.discriminator and cls.tag is not None:
        properties[cls.discriminator] = {"const": cls.tag, "description": cls.discriminator_help}
    properties.update({name: _field_schema(cls, field) for name, field in fields.items()})
    required = [name for name, field in fields.items() if field_default(field) is MISSING]
    schema = {"type": "object", "additionalProperties": False}
    if cls.__doc__:
        schema["description"] = summary(cls)
    if required:
        schema["required"] = required
    schema["properties"] = properties
    return schema


def _nested_classes(hint) -> list[type]:
    if isinstance(hint, type) and issubclass(hint, Options):
        return [hint]
    return [found for arg in typing.get_args(hint) for found in _nested_classes(arg)]


def _union(base, definitions: dict) -> dict:
    """One object schema for every variant of ``base``: each option once, marked with the variants that take it."""
    properties: dict[str, dict] = {}
    owners: dict[str, list[str]] = {}
    defaults: dict[str, dict[str, Any]] = {}
    required: dict[str, set] = {}
    for tag, variant in sorted(base.variants.items()):
        own = _definition(variant, definitions)
        required[tag] = set(own.get("required", []))
        for name, schema in own["properties"].items():
            if name == base.discriminator:
                continue
            bare = {k: v for k, v in schema.items() if k != "default"}
            if name in properties:
                known = {k: v for k, v in properties[name].items() if k != "default"}
                if known != bare:  # one option, one meaning: the same type, constraints and help in every variant
                    raise TypeError(f"option {name!r} differs between {base.__name__} variants: {known} vs {bare}")
            else:
                properties[name] = dict(schema)
            owners.setdefault(name, []).append(tag)
            if "default" in schema:
                defaults.setdefault(name, {})[tag] = schema["default"]
    everyone = sorted(base.variants)
    for name, schema in properties.items():
        schema.pop("default", None)
        values = defaults.get(name, {})
        if values and len({repr(v) for v in values.values()}) == 1:
            schema["default"] = next(iter(values.values()))
        elif values:
            listed = "; ".join(f"{tag}: {value!r}" for tag, value in values.items())
            schema["description"] += f"; default per {base.discriminator}: {listed}"
        if owners[name] != everyone:
            needed = " (required)" if all(name in required[tag] for tag in owners[name]) else ""
            schema["description"] = f"[{', '.join(owners[name])}]{needed} {schema['description']}"
    schema = {"type": "object", "additionalProperties": False}
    schema["required"] = [base.discriminator, *sorted(set.intersection(*required.values()))]
    if base.__doc__:
        schema["description"] = summary(base)
    tag_schema = {"enum": everyone, "description": base.discriminator_help}
    schema["properties"] = {base.discriminator: tag_schema, **properties}
    return schema
