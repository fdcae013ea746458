"""Config classes as the one source of options: schema, defaults, checks and messages from the fields."""

from dataclasses import dataclass
from typing import ClassVar

import pytest

from forgetlab.options import ConfigError, OptionError, Options, option, validate_schema


@dataclass(kw_only=True)
class Inner(Options):
    """A nested section."""

    depth: int = option(2, "how deep", minimum=1)


@dataclass(kw_only=True)
class Shape(Options):
    """A base whose `kind` picks the subclass."""

    discriminator: ClassVar[str] = "kind"
    discriminator_help: ClassVar[str] = "which shape"
    size: float = option(1.0, "edge length", exclusiveMinimum=0)
    inner: Inner = option(help="a nested section", factory=Inner)


@dataclass(kw_only=True)
class Square(Shape):
    tag: ClassVar[str] = "square"
    filled: bool = option(False, "filled or not")


@dataclass(kw_only=True)
class Circle(Shape):
    tag: ClassVar[str] = "circle"
    segments: int = option(32, "polygon segments", minimum=3)
    style: str | None = option(None, "line style", enum=["solid", "dashed"])

    def __post_init__(self):
        if self.segments % 2:
            raise OptionError("segments", f"{self.segments} is odd")


Shape.variants = {"square": Square, "circle": Circle}


def test_the_variant_named_by_the_discriminator_is_built_with_defaults():
    circle = Shape.from_dict({"kind": "circle", "inner": {"depth": 4}})
    assert isinstance(circle, Circle) and circle.segments == 32 and circle.inner == Inner(depth=4)
    assert circle.to_dict() == {"kind": "circle", "size": 1.0, "inner": {"depth": 4}, "segments": 32, "style": None}
    assert Shape.from_dict(circle.to_dict()) == circle


@pytest.mark.parametrize(
    "data, message",
    [
        ({"kind": "square", "segments": 8}, r"^shape.segments: not an option of kind 'square' \(an option of circle\)"),
        ({"kind": "circle", "segmnts": 8}, r"^shape.segmnts: unknown option 'segmnts'; did you mean 'segments'\?$"),
        ({"kind": "circel"}, r"^shape.kind: 'circel' is not one of \['circle', 'square'\]; did you mean 'circle'\?$"),
        ({"kind": "circle", "size": 0}, r"^shape.size: 0 is less than or equal to the minimum of 0$"),
        ({"kind": "circle", "size": "big"}, r"^shape.size: expected a number, not 'big'$"),
        ({"kind": "circle", "style": "dotted"}, r"^shape.style: 'dotted' is not one of \['solid', 'dashed', None\]$"),
        ({"kind": "circle", "inner": {"depth": 0}}, r"^shape.inner.depth: 0 is less than the minimum of 1$"),
        ({"kind": "circle", "segments": 9}, r"^shape.segments: 9 is odd$"),
        ({"size": 2.0}, r"^shape: 'kind' is required$"),
    ],
)
def test_every_mistake_names_its_field(data, message):
    with pytest.raises(ConfigError, match=message):
        Shape.from_dict(data, "shape")


def test_several_mistakes_are_reported_together():
    with pytest.raises(ConfigError) as raised:
        Shape.from_dict({"kind": "circle", "size": -1, "segments": 1}, "shape")
    assert str(raised.value).splitlines() == [
        "shape.segments: 1 is less than the minimum of 3",
        "shape.size: -1 is less than or equal to the minimum of 0",
    ]


def test_yaml_1_1_exponents_read_as_numbers_where_a_number_is_wanted():
    assert Shape.from_dict({"kind": "square", "size": "1e-3"}).size == 1e-3  # PyYAML reads 1e-3 as text
    assert validate_schema({"name": "1e5"}, {"properties": {"name": {"type": "string"}}}) == []


def test_the_schema_carries_help_defaults_constraints_and_the_variants_of_each_option():
    schema = Shape.json_schema()
    properties = schema["properties"]
    assert properties["kind"] == {"enum": ["circle", "square"], "description": "which shape"}
    assert properties["size"] == {"type": "number", "exclusiveMinimum": 0, "description": "edge length", "default": 1.0}
    assert properties["segments"]["description"] == "[circle] polygon segments"
    assert properties["style"]["enum"] == ["solid", "dashed", None]
    assert (
        properties["inner"]["$ref"] == "#/$defs/Inner"
        and schema["$defs"]["Inner"]["properties"]["depth"]["default"] == 2
    )
    assert schema["required"] == ["kind"] and schema["additionalProperties"] is False
