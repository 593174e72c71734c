"""Where the schemas live -- the config's, every table's, threshold.yaml's: in the workflow's
schemas folder (one place, read by people, by Snakemake and by this package) -- and how a
JSON-schema problem is told to a user: the field, what was found, what is allowed."""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMAS = Path(__file__).resolve().parents[3] / "workflow" / "schemas"


def schema_file(name: str) -> Path:
    """The schema of table ``name`` (``dense``, ``pruning``, ...) or of the ``config``."""
    path = SCHEMAS / f"{name}.schema.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"no schema {path}: ddprune reads its schemas from the checkout it is installed "
            "from (pip install -e .)"
        )
    return path


@functools.cache
def load_schema(path: str | os.PathLike) -> dict[str, Any]:
    """A schema file, parsed once per process."""
    return yaml.safe_load(Path(path).read_text())


def _extend_with_defaults(validator_class: type) -> type:
    """A validator that fills in each property's ``default`` while it validates."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": properties_with_defaults})


# Validates and, as it goes, fills in every default the schema gives (the config's one source).
FillingValidator = _extend_with_defaults(jsonschema.Draft202012Validator)


def section_defaults(section: str) -> dict[str, Any]:
    """Every default of one config section (``train``, ``prune``, ...), from the schema."""
    schema = load_schema(schema_file("config"))
    filled: dict[str, Any] = {}
    subschema = {**schema["properties"][section], "$defs": schema["$defs"]}
    for _ in FillingValidator(subschema).iter_errors(filled):
        pass  # validating an empty section only fills in its defaults
    return filled


def _field(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "<top level>"


def describe(error: jsonschema.ValidationError) -> str:
    """One line per problem: the field, what was found, and what is allowed."""
    field = _field(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return f"{field}: unknown key(s) {unknown}; allowed keys: {allowed}"
    if error.validator == "enum":
        return (
            f"{field}: {error.instance!r} is not allowed; allowed values: {error.validator_value}"
        )
    if error.validator == "required":
        return f"{field}: {error.message}"
    if error.validator == "type":
        return f"{field}: {error.instance!r} has the wrong type; expected {error.validator_value}"
    if error.validator in _BOUNDS:
        return f"{field}: {error.message} (allowed: {_allowed_range(schema)})"
    return f"{field}: {error.message}"


_BOUNDS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")


def _allowed_range(schema: Mapping[str, Any]) -> str:
    """A numeric field's range as a user reads it, e.g. ``0 < x <= 10``."""
    low = (
        f"{schema['minimum']} <= "
        if "minimum" in schema
        else f"{schema['exclusiveMinimum']} < "
        if "exclusiveMinimum" in schema
        else ""
    )
    high = (
        f" <= {schema['maximum']}"
        if "maximum" in schema
        else f" < {schema['exclusiveMaximum']}"
        if "exclusiveMaximum" in schema
        else ""
    )
    return f"{low}x{high}"


def problems(instance: Any, schema: Mapping[str, Any]) -> list[str]:
    """Every way ``instance`` breaks ``schema`` (JSON Schema 2020-12), one line each (in the
    order of the fields), or none."""
    errors = jsonschema.Draft202012Validator(schema).iter_errors(instance)
    return [describe(e) for e in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])]
