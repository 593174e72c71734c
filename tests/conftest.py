"""Shared fixtures: repository paths, schemas and a small run set up on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddprune.tables import TableSchema

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "workflow" / "schemas"
CONFIG_SCHEMA = SCHEMAS / "config.schema.yaml"


@pytest.fixture
def dense_schema() -> TableSchema:
    return TableSchema.load(SCHEMAS / "dense.schema.yaml")


@pytest.fixture
def labels_schema() -> TableSchema:
    return TableSchema.load(SCHEMAS / "labels.schema.yaml")
