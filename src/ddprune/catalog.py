"""Facts about the names a study uses, known without importing torch.

Snakemake imports the study module and the Snakefile's helpers for every command -- dry
runs, reports, lint -- to validate the config and plan the DAG; importing torch there
costs seconds per command and nothing in planning needs it. The registries that build
these things (:mod:`ddprune.exact`, :mod:`ddprune.datasets`) are checked against this
catalogue by the tests, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

CLOSED_FORM_MODELS = ("linear", "rff")  # solved per seed, not trained (ddprune.exact)
REGRESSION_DATASETS = ("gaussian-linear",)  # real-valued targets: no classes, no label noise


def source(name: str, options: dict[str, Any]) -> str:
    """The built-in dataset behind a name: itself, or what a declared variant is ``like``."""
    return options.get("like", name)


def is_regression(name: str, options: dict[str, Any]) -> bool:
    """Whether a dataset has real-valued targets (no classes, no label noise)."""
    return source(name, options) in REGRESSION_DATASETS
