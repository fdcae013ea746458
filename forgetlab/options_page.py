"""docs/options.md: every config option, its type, default and bounds, as a page generated from the config's JSON
schema (itself generated from the option classes), so the reference never drifts from the code."""

from __future__ import annotations

import json

__all__ = ["options_markdown"]

HEADER = """# Config options

Every key of a forgetlab config, generated from the option classes (the same source as `config/schema.yaml`):
edit those, then run `forgetlab schema --markdown --out docs/options.md`. A task option marked `[kind, ...]`
applies to those task kinds only.
"""
_BOUNDS = {
    "minimum": "≥ {}", "exclusiveMinimum": "> {}", "maximum": "≤ {}", "exclusiveMaximum": "< {}",
    "minItems": "≥ {} items", "minProperties": "≥ {} entries", "pattern": "matches `{}`",
}  # fmt: skip


def _ref(schema: dict) -> str | None:
    """The $defs name a property refers to (directly, through anyOf with null, or as its map's values)."""
    for candidate in (schema, *schema.get("anyOf", ()), schema.get("additionalProperties") or {}):
        if isinstance(candidate, dict) and "$ref" in candidate:
            return candidate["$ref"].rsplit("/", 1)[-1]
    return None


def _type(schema: dict, defs: dict) -> str:
    if "enum" in schema:
        return " | ".join(f"`{json.dumps(value)}`" for value in schema["enum"])
    name = _ref(schema)
    if name:
        link = f"[{name}](#{name.lower()})"
        return f"label → {link}" if "additionalProperties" in schema else link
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    if "array" in kinds and isinstance(schema.get("items"), dict):
        inner = _type(schema["items"], defs)
        kinds = [f"list of {inner}" if k == "array" else k for k in kinds]
    return " or ".join(kinds)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rows(properties: dict, required: list, defs: dict) -> list[str]:
    lines = ["| option | type | default | description |", "|---|---|---|---|"]
    for name, schema in properties.items():
        bounds = [form.format(schema[key]) for key, form in _BOUNDS.items() if key in schema]
        default = "required" if name in required else ""
        if "default" in schema and name not in required and not _ref(schema):  # a section's: its own table
            default = f"`{json.dumps(schema['default'])}`"
        description = schema.get("description", "") + (f" ({', '.join(bounds)})" if bounds else "")
        lines.append(f"| `{name}` | {_cell(_type(schema, defs))} | {_cell(default)} | {_cell(description)} |")
    return lines


def options_markdown(schema: dict) -> str:
    """The options page of a config JSON schema: the top-level keys, then one table per option class."""
    defs = schema["$defs"]
    parts = [HEADER, "## Top level", "", *_rows(schema["properties"], schema.get("required", []), defs)]
    for name, definition in defs.items():
        parts += ["", f"## {name}", "", _cell(definition.get("description", "")), ""]
        parts += _rows(definition.get("properties", {}), definition.get("required", []), defs)
    return "\n".join(parts) + "\n"
