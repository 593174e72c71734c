"""Closed-form models: exact least squares, its known risk, the IT at p = n, and pruning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import CONFIG_SCHEMA
from ddprune.analysis.detection import CheckpointFiles, detect
from ddprune.analysis.theory import risk_isotropic
from ddprune.closed_form import build_problem, min_norm_solve, solve_run
from ddprune.data.datasets import load_dataset
from ddprune.foundations.tables import read_table
from ddprune.jobs.dense import solve
from ddprune.study import ConfigError, load_study
from ddprune.study.hparams import ClosedFormConfig, ThresholdConfig
from ddprune.study.paths import Layout

ISOTROPIC = {"d": None, "n_train": 50, "n_test": 1, "sigma": 0.5, "signal_norm": 1.0}


def gaussian(width: int, seed: int, **options):
    return load_dataset("gaussian-linear", {**ISOTROPIC, "d": width, "seed": seed, **options})


def test_min_norm_interpolates_above_n_and_is_least_squares_below():
    data = gaussian(80, seed=0)
    wide = build_problem("linear", 80, 0, data, None)
    theta = min_norm_solve(wide.phi_train, wide.y_train, None)
    assert torch.allclose(wide.phi_train @ theta, wide.y_train, atol=1e-9)
    # Of all interpolators, it is the one in the row space of the features (least norm).
    projection = torch.linalg.pinv(wide.phi_train) @ wide.phi_train
    assert torch.allclose(projection @ theta, theta, atol=1e-9)
    narrow = build_problem("linear", 20, 0, data, None)
    ols = torch.linalg.lstsq(narrow.phi_train, narrow.y_train).solution
    assert torch.allclose(min_norm_solve(narrow.phi_train, narrow.y_train, None), ols, atol=1e-10)


@pytest.mark.parametrize("width", [20, 100])
def test_measured_risk_matches_the_closed_form(width):
    """Excess risk ||theta - beta*||^2 (Sigma = I), averaged over 400 training sets."""
    risks = []
    for seed in range(400):
        data = gaussian(width, seed)
        problem = build_problem("linear", width, seed, data, None)
        theta = min_norm_solve(problem.phi_train, problem.y_train, None)[:, 0]
        risks.append(float(((theta - data.beta) ** 2).sum()))
    expected = risk_isotropic(width, 50, 0.5, 1.0)
    assert np.mean(risks) == pytest.approx(expected, rel=0.05)


def solve_to_tables(tmp_path, dataset, options, model, widths, seeds, closed_form):
    config = {
        "study": "t",
        "datasets": {dataset: options},
        "sweep": [{"dataset": dataset, "model": model, "widths": widths, "seeds": list(seeds)}],
        "closed_form": closed_form,
    }
    layout = Layout(str(tmp_path))
    wildcards = {"dataset": dataset, "model": model, "noise": "0.0"}
    for seed in seeds:
        solve(load_study(config), layout, dataset, model, 0.0, "incorrect-class", seed)
    tables = {}
    for name, pattern in (
        ("dense", layout.solved_dense),
        ("compression", layout.solved_compression),
    ):
        paths = [pattern.format(**wildcards, seed=seed) for seed in seeds]
        tables[name] = pd.concat([read_table(p, name) for p in paths], ignore_index=True)
    return tables["dense"], tables["compression"]


def test_the_threshold_rule_puts_the_it_at_p_equals_n(tmp_path):
    widths = [10, 20, 30, 35, 40, 45, 50, 60, 80, 120, 160]
    options = {**ISOTROPIC, "n_train": 40, "n_test": 2000}
    dense, _ = solve_to_tables(tmp_path, "gaussian-linear", options, "linear", widths, range(8), {})
    assert (dense["error_metric"] == "mean_squared_error").all() and (dense["epoch"] == 0).all()
    assert (dense.loc[dense["width"] > 40, "train_error"] < 1e-20).all()  # interpolation
    files = CheckpointFiles(final=lambda run: "", periodic=lambda run: {})
    (family,) = detect(dense, ThresholdConfig.of(bootstrap=50), files, frozenset({"linear"}))
    assert family["it"]["status"] == "ok"
    assert abs(widths.index(family["it"]["width"]) - widths.index(40)) <= 1
    assert family["selection"] == []  # nothing to prune by SGD: no checkpoints


def test_refitting_on_the_oracle_support_is_training_on_the_oracle_features(tmp_path):
    options = {**ISOTROPIC, "d": 120, "informative": 5, "n_test": 500, "strong": 5}
    options["strong_variance"] = 4.0
    widths = [3, 5, 20, 60, 120]
    config = {"keep": 5}
    _, rows = solve_to_tables(
        tmp_path, "gaussian-linear", options, "linear", widths, [0, 1], config
    )
    rows = rows.set_index(["seed", "width", "variant", "score"])["test_error"]
    for seed in (0, 1):
        by_width = rows.loc[seed]
        small = by_width.xs("small", level="variant")
        assert small.nunique() == 1  # the small model does not depend on p
        refit = by_width.xs(("refit", "oracle"), level=("variant", "score"))
        assert list(refit.index) == [20, 60, 120]  # widths above keep are pruned
        assert np.allclose(refit.to_numpy(), small.iloc[0], rtol=1e-9)


def test_random_relu_features_nest_across_widths_and_interpolate_past_n():
    data = load_dataset("digits", {"n_train": 200})
    from ddprune.data.noise import draw_noise

    labels = draw_noise(data, "digits", 0.2, 0)
    narrow = build_problem("rff", 50, 0, data, labels)
    wide = build_problem("rff", 400, 0, data, labels)
    assert torch.allclose(wide.phi_train[:, :50], narrow.phi_train)  # one model, grown
    rows, _ = solve_run(
        "digits", {"n_train": 200}, "rff", [50, 400], 0, ClosedFormConfig.of(), labels
    )
    assert rows[0]["train_error"] > 0.05 and rows[1]["train_error"] == 0.0
    assert rows[1]["memorization"] == 1.0  # interpolation memorises every noisy label


def study(sweep: dict, **dataset_options) -> dict:
    return {
        "study": "s",
        "datasets": {"g": {"like": "gaussian-linear", **dataset_options}},
        "sweep": [{"dataset": "g", "widths": [10], **sweep}],
    }


@pytest.mark.parametrize(
    "config, expected",
    [
        (study({"model": "mlp"}), "sweep[0].model: 'mlp' cannot fit the regression dataset"),
        (study({"model": "linear", "noise": [0.1]}), "regression data allows [0.0] only"),
        (study({"model": "rff"}, d=None), "datasets.g.d: null (d = width) needs model 'linear'"),
        (study({"model": "linear", "widths": [10, 300]}), "[300] exceed datasets.g.d = 200"),
        (study({"model": "linear"}, n_train=1000, D=3), "datasets.g: unknown key(s) ['D']"),
    ],
)
def test_closed_form_config_errors_name_the_field(config, expected):
    with pytest.raises(ConfigError) as error:
        load_study(config, CONFIG_SCHEMA)
    assert expected in str(error.value), str(error.value)
