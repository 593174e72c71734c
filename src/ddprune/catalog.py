"""Facts about the names a study uses, known without importing torch.

Snakemake imports the study module and the Snakefile's helpers for every command -- dry
runs, reports, lint -- to validate the config and plan the DAG; importing torch there
costs seconds per command and nothing in planning needs it. The registries that build
these things (:mod:`ddprune.closed_form.solver`, :mod:`ddprune.data.datasets`) are checked
against this catalogue by the tests, so the two cannot drift apart.
"""

from __future__ import annotations

import math
from typing import Any

CLOSED_FORM_MODELS = (
    "linear",
    "rff",
)  # solved per family, not trained (ddprune.closed_form.solver)
REGRESSION_DATASETS = ("gaussian-linear",)  # real-valued targets: no classes, no label noise
# How noisy labels are drawn (ddprune.data.noise); the first is the default, which paths and
# seeds leave unnamed so that studies from before the choice existed keep theirs.
NOISE_KINDS = ("incorrect-class", "symmetric")
DEFAULT_NOISE_KIND = NOISE_KINDS[0]


# Samples each built-in classification dataset offers for training (digits: all but the ten a
# test set needs at least); n_train + n_validation must fit in them.
TRAINING_POOLS = {
    "digits": 1787,
    "mnist1d": 4000,
    "fashion-mnist": 60000,
    "cifar10": 50000,
    "cifar100": 50000,
    "tiny-imagenet": 100000,
}


def source(name: str, options: dict[str, Any]) -> str:
    """The built-in dataset behind a name: itself, or what a declared variant is ``like``."""
    return options.get("like", name)


def is_regression(name: str, options: dict[str, Any]) -> bool:
    """Whether a dataset has real-valued targets (no classes, no label noise)."""
    return source(name, options) in REGRESSION_DATASETS


def dims_follow_width(dataset: str, options: dict[str, Any]) -> bool:
    """gaussian-linear with ``d`` null has as many dimensions as the model has features."""
    return source(dataset, options) == "gaussian-linear" and options.get("d") is None


# The figures of each (dataset, model) family, by what they draw: the Snakefile asks for
# them, the report job draws them (a test keeps its drawings equal to these names).
DENSE_FIGURES = ("double_descent",)  # every family
TRAINED_FIGURES = ("epochwise_heatmap",)  # families trained by SGD
SOLVED_FIGURES = ("prune_vs_small",)  # closed-form families
PRUNING_FIGURES = ("sparse_double_descent", "backwards_walk", "memorization")


CORRELATIONS = ("independent", "equicorrelated", "ar1")  # ddprune.data.gaussian_design


def design_problem(
    d: int, signal_norm: float, blocks: list[dict[str, Any]] | None, correlation: dict | None
) -> str | None:
    """What is wrong with a gaussian-linear world's options (None: it can be built): blocks
    that do not fit in d, signal shares that do not sum to 1, rho outside its kind's range."""
    counts = sum(block["count"] for block in blocks or [])
    if counts > d:
        return f"the blocks hold {counts} features, d is {d}"
    shares = sum(block.get("signal", 0.0) for block in blocks or [{"signal": 1.0}])
    if signal_norm > 0 and not math.isclose(shares, 1.0, abs_tol=1e-9):
        return f"the blocks' signal shares sum to {shares:g}, not 1"
    kind = (correlation or {}).get("kind", "independent")
    rho = (correlation or {}).get("rho", 0.0)
    if kind not in CORRELATIONS:
        return f"correlation.kind {kind!r}; allowed: {list(CORRELATIONS)}"
    if (kind == "equicorrelated" and not 0 <= rho < 1) or (kind == "ar1" and not -1 < rho < 1):
        return f"correlation.rho {rho} is outside its range for {kind}"
    return None
