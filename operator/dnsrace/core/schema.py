"""Resources defined once, in code: a field's type, meaning, bounds, enum, default and the CEL
rules the API server checks live on one dataclass field, and from there go both into the CRD
(`openapi`, rendered to crds/ by `python -m dnsrace.crds --write`) and into the typed object an
operator works with (`parse`, at the edge: defaults filled in, nested objects typed, no
`.get(key, default)` further in).

Why dataclasses and this small module, not pydantic: a CRD needs a Kubernetes structural
schema (no `$ref`, no `anyOf` for an optional field, `x-kubernetes-*` extensions, CEL rules on
the node they judge), which pydantic's JSON Schema is not; translating it would take as much
code as this, and its validation would be a second judge beside the API server's. Here the API
server alone validates (strictly: `dnsrace.stores.kube.STRICT`), and `parse` only types and
defaults what it admitted. Field names are the API's (camelCase), so a spec maps one to one."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Rule:
    """A CEL rule (x-kubernetes-validations): `message` says what to write instead."""

    rule: str
    message: str
    field_path: str = ""

    def openapi(self) -> dict[str, Any]:
        out = {"rule": self.rule, "message": self.message}
        if self.field_path:
            out["fieldPath"] = self.field_path
        return out


@dataclass(frozen=True)
class Facts:
    """What the API server checks of one field (or of a list's items, `item`)."""

    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    format: str | None = None
    enum: tuple[str, ...] | None = None
    min_items: int | None = None
    max_items: int | None = None
    max_properties: int | None = None
    list_type: str | None = None
    map_keys: tuple[str, ...] = ()
    nullable: bool = False
    preserve_unknown: bool = False
    rules: tuple[Rule, ...] = ()
    item: Facts | None = None
    required: bool = False
    default: Any = None  # the API server's default (None: none)


def field(description: str, *, default: Any = None, required: bool = False, **facts: Any) -> Any:
    """A resource field: its meaning, its default (filled in by the API server and by `parse`),
    and the facts the API server checks (Facts' names)."""
    meta = Facts(description=description, required=required, default=default, **facts)
    if required:
        return dataclasses.field(metadata={"schema": meta})
    return dataclasses.field(default=default, metadata={"schema": meta})


def item(**facts: Any) -> Facts:
    """The facts of each item of a list of strings or numbers."""
    return Facts(**facts)


class Object:
    """Base of a resource's object types: class-level CEL rules in `rules`."""

    rules: ClassVar[tuple[Rule, ...]] = ()


def _facts(node: dict[str, Any], f: Facts) -> None:
    if f.description:
        node["description"] = f.description
    pairs = (
        ("format", f.format),
        ("enum", list(f.enum) if f.enum is not None else None),
        ("minimum", f.minimum),
        ("exclusiveMinimum", True if f.exclusive_minimum else None),
        ("maximum", f.maximum),
        ("exclusiveMaximum", True if f.exclusive_maximum else None),
        ("minLength", f.min_length),
        ("maxLength", f.max_length),
        ("pattern", f.pattern),
        ("minItems", f.min_items),
        ("maxItems", f.max_items),
        ("maxProperties", f.max_properties),
        ("default", f.default),
        ("nullable", True if f.nullable else None),
        ("x-kubernetes-list-type", f.list_type),
        ("x-kubernetes-list-map-keys", list(f.map_keys) or None),
        ("x-kubernetes-preserve-unknown-fields", True if f.preserve_unknown else None),
    )
    for key, value in pairs:
        if value is not None:
            node[key] = value
    if f.rules:
        node["x-kubernetes-validations"] = [r.openapi() for r in f.rules]


_PRIMITIVE = {int: "integer", float: "number", str: "string", bool: "boolean"}


def _unwrap(hint: Any) -> Any:
    """`X | None` -> X."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0]
    return hint


def _schema(hint: Any, f: Facts) -> dict[str, Any]:
    hint = _unwrap(hint)
    origin = typing.get_origin(hint)
    node: dict[str, Any] = {}
    if origin is list:
        (inner,) = typing.get_args(hint)
        node["type"] = "array"
        _facts(node, f)
        node["items"] = _schema(inner, f.item or Facts())
        return node
    if origin is dict:
        _, inner = typing.get_args(hint)
        node["type"] = "object"
        _facts(node, f)
        if inner is not Any:
            node["additionalProperties"] = _schema(inner, Facts())
        return node
    if dataclasses.is_dataclass(hint):
        node.update(openapi(typing.cast(type, hint), f))
        return node
    if hint is Any:
        node["type"] = "object"
        _facts(node, f)
        return node
    node["type"] = _PRIMITIVE[hint]
    _facts(node, f)
    return node


def openapi(cls: type, facts: Facts | None = None) -> dict[str, Any]:
    """The structural schema of the object type `cls` (a dataclass of `field`s)."""
    node: dict[str, Any] = {"type": "object"}
    if facts is not None:
        _facts(node, facts)
    hints = typing.get_type_hints(cls)
    required = [
        fl.name for fl in dataclasses.fields(cls) if fl.metadata.get("schema", Facts()).required
    ]
    if required:
        node["required"] = required
    rules = [r.openapi() for r in getattr(cls, "rules", ())]
    if rules:
        node["x-kubernetes-validations"] = [*node.get("x-kubernetes-validations", []), *rules]
    props = {}
    for fl in dataclasses.fields(cls):
        props[fl.name] = _schema(hints[fl.name], fl.metadata.get("schema", Facts()))
    if props:
        node["properties"] = props
    return node


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    """Each field's name and type hint (resolved once: an operator parses its spec per move)."""
    hints = typing.get_type_hints(cls)
    return tuple((fl.name, hints[fl.name]) for fl in dataclasses.fields(cls))


def parse(cls: type[T], raw: Mapping[str, Any] | None) -> T:
    """The object the API server admitted, typed: absent fields take their defaults, nested
    objects and lists of objects become their types. Unknown keys are left out (the API server
    refuses them when asked strictly; kopf adds none to a spec)."""
    raw = raw or {}
    values = {
        name: _value(hint, raw[name])
        for name, hint in _fields(typing.cast(type, cls))
        if name in raw and raw[name] is not None
    }
    return cls(**values)


def _value(hint: Any, raw: Any) -> Any:
    hint = _unwrap(hint)
    origin = typing.get_origin(hint)
    if origin is list:
        (inner,) = typing.get_args(hint)
        return [_value(inner, x) for x in raw]
    if origin is dict:
        _, inner = typing.get_args(hint)
        return {k: _value(inner, v) for k, v in raw.items()}
    if dataclasses.is_dataclass(hint):
        return parse(hint, raw)  # type: ignore[arg-type]
    if hint is float:
        return float(raw)
    if hint is int:
        return int(raw)
    return raw
