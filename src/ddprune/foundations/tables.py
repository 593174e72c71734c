"""Tidy Parquet tables whose columns and dtypes are fixed by a schema file.

The schemas live in ``workflow/schemas/<table>.schema.yaml`` (one place, read by people and
by this module, which finds them by the table's name). Every table is validated when it is
written *and* when it is read, so a table that drifted from its contract fails loudly at the
boundary instead of corrupting a figure three rules later.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ddprune.foundations.atomic import atomic_path
from ddprune.foundations.schemas import schema_file

_DTYPE_CHECKS = {
    "string": pd.api.types.is_string_dtype,
    "int64": lambda s: s.dtype == "int64",
    "float64": lambda s: s.dtype == "float64",
    "bool": lambda s: s.dtype == "bool",
}


class SchemaError(ValueError):
    """A table does not match its schema."""


class DamagedFile(ValueError):
    """A result file cannot be read (truncated or corrupted); ``path`` names it, so that the
    job's failure can say which file to rebuild."""

    def __init__(self, path: str | os.PathLike, error: Exception) -> None:
        super().__init__(f"{os.fspath(path)} is unreadable (truncated or corrupted?): {error}")
        self.path = os.fspath(path)


class OutdatedTable(DamagedFile):
    """A result file that reads but does not match its table's schema: written by another
    version of ddprune (a column added or renamed since), so rebuilt like a damaged one."""

    def __init__(self, path: str | os.PathLike, error: Exception) -> None:
        ValueError.__init__(
            self,
            f"{os.fspath(path)} does not match this version of ddprune ({error}); it was "
            "written by another version",
        )
        self.path = os.fspath(path)


@dataclass(frozen=True)
class TableSchema:
    """Columns (in order) with dtype, optional range and nullability, plus the row key."""

    name: str
    columns: dict[str, dict[str, Any]]
    key: tuple[str, ...]

    @classmethod
    def named(cls, name: str) -> TableSchema:
        """The schema of table ``name`` (``dense``, ``pruning``, ...), read once."""
        return _named(name)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TableSchema:
        spec = yaml.safe_load(Path(path).read_text())
        spec["columns"] = {
            column: _shared(rules, path) for column, rules in spec["columns"].items()
        }
        if "extends" in spec:  # another table's columns first, then this one's
            base = TableSchema.load(Path(path).parent / f"{spec['extends']}.schema.yaml")
            spec["columns"] = {**base.columns, **spec["columns"]}
        for column, rules in spec["columns"].items():
            if rules.get("dtype") not in _DTYPE_CHECKS:
                raise SchemaError(
                    f"{path}: column {column!r} has dtype {rules.get('dtype')!r}; "
                    f"allowed: {sorted(_DTYPE_CHECKS)}"
                )
        return cls(name=spec["title"], columns=spec["columns"], key=tuple(spec.get("key", ())))


def _shared(rules: dict[str, Any], path: str | os.PathLike) -> dict[str, Any]:
    """A column's rules; ``{like: <name>}`` takes the shared definition of ``<name>`` from
    ``columns.yaml`` beside the schema (the identifying columns of every table), whose
    description the column may override."""
    if "like" not in rules:
        return rules
    shared = _shared_columns(os.fspath(Path(path).parent / "columns.yaml"))
    if rules["like"] not in shared or set(rules) - {"like", "description"}:
        raise SchemaError(
            f"{path}: {rules} must name a column of columns.yaml ({sorted(shared)}) and may "
            "override only its description"
        )
    return {**shared[rules["like"]], **{k: v for k, v in rules.items() if k != "like"}}


@functools.cache
def _shared_columns(path: str) -> dict[str, dict[str, Any]]:
    return yaml.safe_load(Path(path).read_text())["columns"]


@functools.cache
def _named(name: str) -> TableSchema:
    return TableSchema.load(schema_file(name))


Table = str | TableSchema  # a table's name, or its schema


def _schema(table: Table) -> TableSchema:
    return TableSchema.named(table) if isinstance(table, str) else table


def validate_table(df: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Return ``df`` with columns in schema order, or raise a SchemaError naming the problem."""
    schema = _schema(table)
    where = f"table {schema.name!r}"
    missing = [c for c in schema.columns if c not in df.columns]
    extra = [c for c in df.columns if c not in schema.columns]
    if missing or extra:
        raise SchemaError(f"{where}: missing columns {missing}, unexpected columns {extra}")
    problems = []
    for column, rules in schema.columns.items():
        series = df[column]
        if not _DTYPE_CHECKS[rules["dtype"]](series):
            problems.append(
                f"column {column!r} has dtype {series.dtype}, expected {rules['dtype']}"
            )
            continue
        if series.isna().any() and not rules.get("nullable", False):
            problems.append(f"column {column!r} has missing values but is not nullable")
        values = series.dropna()
        if "minimum" in rules and len(values) and values.min() < rules["minimum"]:
            problems.append(f"column {column!r} has {values.min()} < minimum {rules['minimum']}")
        if "maximum" in rules and len(values) and values.max() > rules["maximum"]:
            problems.append(f"column {column!r} has {values.max()} > maximum {rules['maximum']}")
        if "allowed" in rules and not values.isin(rules["allowed"]).all():
            bad = sorted(set(values[~values.isin(rules["allowed"])].astype(str)))
            problems.append(f"column {column!r} has {bad}; allowed: {rules['allowed']}")
    if schema.key and not problems and df.duplicated(list(schema.key)).any():
        problems.append(f"rows are not unique by key {list(schema.key)}")
    if problems:
        raise SchemaError(f"{where}: " + "; ".join(problems))
    return df[list(schema.columns)]


def frame(rows: list[dict[str, Any]], table: Table) -> pd.DataFrame:
    """Build a DataFrame from records, casting each column to the schema's dtype."""
    schema = _schema(table)
    df = pd.DataFrame.from_records(rows, columns=list(schema.columns))
    for column, rules in schema.columns.items():
        if rules["dtype"] == "string":
            df[column] = df[column].astype("str")
        elif rules["dtype"] == "float64":
            df[column] = df[column].map(lambda v: math.nan if v is None else v).astype("float64")
        else:
            df[column] = df[column].astype(rules["dtype"])
    return df


def write_table(df: pd.DataFrame, path: str | os.PathLike, table: Table) -> None:
    """Validate ``df`` against its schema and write it as Parquet, atomically."""
    df = validate_table(df, table)
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def read_table(path: str | os.PathLike, table: Table) -> pd.DataFrame:
    """Read a Parquet table and validate it against its schema; a file that exists but cannot
    be read is a :class:`DamagedFile`, one that does not match the schema an
    :class:`OutdatedTable`."""
    try:
        df = pd.read_parquet(path)
    except FileNotFoundError:
        raise
    except Exception as error:  # pyarrow raises several types for truncated or foreign files
        raise DamagedFile(path, error) from error
    try:
        return validate_table(df, table)
    except SchemaError as error:
        raise OutdatedTable(path, error) from error


def concat_tables(paths: list[str | os.PathLike], table: Table) -> pd.DataFrame:
    """Read and concatenate many tables of one schema (e.g. per-run metrics into a sweep)."""
    frames = [read_table(p, table) for p in paths]
    if not frames:  # e.g. an empty selection: a table with no rows, not a missing file
        return frame([], table)
    return validate_table(pd.concat(frames, ignore_index=True), table)
