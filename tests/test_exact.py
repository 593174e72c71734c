"""Closed-form models: exact least squares, its known risk, the IT at p = n, and pruning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import CONFIG_SCHEMA
from ddprune.analysis.threshold.detection import CheckpointFiles, detect
from ddprune.closed_form.solver import (
    build_problem,
    metrics,
    min_norm_solve,
    sampled_test_risk,
    solve_run,
)
from ddprune.closed_form.theory import risk_isotropic
from ddprune.data.datasets import load_dataset
from ddprune.foundations.tables import read_table
from ddprune.jobs.dense import solve
from ddprune.study import ConfigError, load_study
from ddprune.study.hparams import ClosedFormConfig, ThresholdConfig

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
    """The exact population risk sigma^2 + ||theta - beta*||^2 (Sigma = I) averaged over 400
    training sets: sigma^2 (1 + p / (n - p - 1)) below the threshold, within its standard
    error (and the closed form above it)."""
    risks = []
    for seed in range(400):
        data = gaussian(width, seed)
        problem = build_problem("linear", width, seed, data, None)
        theta = min_norm_solve(problem.phi_train, problem.y_train, None)
        risks.append(metrics(problem, theta)["test_error"])
    expected = 0.5**2 + risk_isotropic(width, 50, 0.5, 1.0)
    if width < 50 - 1:
        assert expected == pytest.approx(0.5**2 * (1 + width / (50 - width - 1)))
    standard_error = np.std(risks) / np.sqrt(len(risks))
    assert abs(np.mean(risks) - expected) < 3 * standard_error


def solve_to_tables(tmp_path, dataset, options, model, widths, seeds, closed_form):
    config = {
        "study": "t",
        "datasets": {dataset: options},
        "sweep": [{"dataset": dataset, "model": model, "widths": widths, "seeds": list(seeds)}],
        "closed_form": closed_form,
    }
    dense, compression = tmp_path / "dense.parquet", tmp_path / "compression.parquet"
    study = load_study(config)
    solve(study, dataset, model, 0.0, "incorrect-class", [], dense, compression)
    return read_table(dense, "dense"), read_table(compression, "compression")


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


BLOCK = {"d": 120, "n_train": 50, "n_test": 500, "sigma": 0.5, "signal_norm": 1.0}
BLOCK["blocks"] = [{"count": 5, "variance": 4.0, "signal": 1.0}]


@pytest.mark.parametrize("correlation", [{}, {"kind": "equicorrelated", "rho": 0.5}])
def test_refitting_on_the_oracle_support_is_training_on_the_oracle_features(tmp_path, correlation):
    """Refitting on the support is the same regression as the small model, whatever Sigma:
    a model that sees every informative feature keeps exactly them by the oracle score."""
    options = {**BLOCK, "correlation": correlation}
    widths = [3, 5, 20, 60, 120]
    _, rows = solve_to_tables(
        tmp_path, "gaussian-linear", options, "linear", widths, [0, 1], {"keep": None}
    )
    assert (rows["keep"] == 5).all()  # null: the informative features' count
    rows = rows.set_index(["seed", "width", "variant", "score"])["test_error"]
    for seed in (0, 1):
        by_width = rows.loc[seed]
        small = by_width.xs("small", level="variant")
        assert small.nunique() == 1  # the small model does not depend on p
        refit = by_width.xs(("refit", "oracle"), level=("variant", "score"))
        assert list(refit.index) == [20, 60, 120]  # widths above keep are pruned
        assert np.allclose(refit.to_numpy(), small.iloc[0], rtol=1e-9)


def test_the_oracle_follows_the_signal_into_correlated_features():
    """A model that misses the informative features: with independent features its oracle
    sees no signal, with AR(1) features it finds their neighbours -- and then refitting on
    its support is no longer the small model."""
    options = {"d": 60, "n_train": 80, "n_test": 10, "sigma": 0.5, "seed": 0}
    options["blocks"] = [{"count": 40}, {"count": 5, "signal": 1.0}]
    independent = load_dataset("gaussian-linear", options)
    assert torch.equal(independent.design.support, torch.arange(40, 45))
    assert build_problem("linear", 40, 0, independent, None).oracle.abs().max() == 0
    correlated = load_dataset(
        "gaussian-linear", {**options, "correlation": {"kind": "ar1", "rho": 0.8}}
    )
    oracle = build_problem("linear", 40, 0, correlated, None).oracle
    assert int(oracle.argmax()) == 39  # the feature next to the signal
    config = ClosedFormConfig.of(keep=5)
    _, rows = solve_run(
        "g", {**options, "like": "gaussian-linear"}, "linear", [40], 0, config, None
    )
    by = {(r["variant"], r["score"]): r["test_error"] for r in rows}
    assert by[("refit", "oracle")] != pytest.approx(by[("small", None)], rel=1e-3)


def test_the_population_risk_is_what_a_test_sample_estimates():
    options = {**BLOCK, "n_test": 20000, "correlation": {"kind": "ar1", "rho": 0.6}, "seed": 3}
    data = load_dataset("gaussian-linear", options)
    problem = build_problem("linear", 30, 0, data, None)
    theta = min_norm_solve(problem.phi_train, problem.y_train, None)
    squared = (problem.phi_test @ theta - problem.y_test) ** 2
    standard_error = float(squared.std()) / np.sqrt(len(squared))
    assert abs(sampled_test_risk(problem, theta) - data.design.risk(theta)) < 3 * standard_error
    assert metrics(problem, theta)["test_error"] == data.design.risk(theta)


def test_the_null_predictor_risks_the_noise_and_the_whole_signal():
    options = {**BLOCK, "correlation": {"kind": "equicorrelated", "rho": 0.3}, "seed": 1}
    data = load_dataset("gaussian-linear", options)
    design = data.design
    expected = design.sigma**2 + float(design.beta @ design.covariance @ design.beta)
    _, rows = solve_run(
        "g", {**options, "like": "gaussian-linear"}, "linear", [10], 1, ClosedFormConfig.of(), None
    )
    (null,) = [r for r in rows if r["variant"] == "null"]
    assert null["test_error"] == expected
    # equicorrelated: every pair of the 5 equal coefficients adds rho * variance * beta_i^2
    assert expected == pytest.approx(0.25 + 4.0 * (1 + 0.3 * 4), rel=1e-12)


def test_the_tuned_ridge_small_model_never_loses_to_least_squares_on_validation():
    options = {**BLOCK, "sigma": 2.0, "seed": 2, "like": "gaussian-linear"}
    _, rows = solve_run("g", options, "linear", [10], 2, ClosedFormConfig.of(), None)
    by = {r["variant"]: r for r in rows if r["score"] is None}
    assert by["small-ridge"]["val_error"] <= by["small"]["val_error"] + 1e-12
    assert by["small-ridge"]["penalty"] > 0


def test_random_relu_features_nest_across_widths_and_interpolate_past_n():
    data = load_dataset("digits", {"n_train": 200, "n_validation": 100})
    from ddprune.data.noise import draw_noise

    labels = draw_noise(data, "digits", 0.2, 0)
    narrow = build_problem("rff", 50, 0, data, labels)
    wide = build_problem("rff", 400, 0, data, labels)
    assert torch.allclose(wide.phi_train[:, :50], narrow.phi_train)  # one model, grown
    rows, _ = solve_run(
        "digits",
        {"n_train": 200, "n_validation": 100},
        "rff",
        [50, 400],
        0,
        ClosedFormConfig.of(keep=10),
        labels,
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
        (
            study({"model": "linear"}, blocks=[{"count": 10, "signal": 0.5}]),
            "datasets.g: gaussian-linear: the blocks' signal shares sum to 0.5, not 1",
        ),
        (
            study({"model": "linear"}, blocks=[{"count": 300, "signal": 1.0}]),
            "datasets.g: gaussian-linear: the blocks hold 300 features, d is 200",
        ),
        (
            study({"model": "linear"}, d=None, blocks=[{"count": 3, "signal": 1.0}]),
            "datasets.g.blocks: needs a fixed d",
        ),
        (
            study({"model": "linear"}, correlation={"kind": "equicorrelated", "rho": -0.2}),
            "correlation.rho -0.2 is outside its range for equicorrelated",
        ),
        (
            {
                "study": "s",
                "sweep": [{"dataset": "digits", "model": "rff", "widths": [10]}],
                "closed_form": {"keep": None},
            },
            "closed_form.keep: null for 'digits', whose informative features are unknown",
        ),
        (
            {**study({"model": "linear"}), "closed_form": {"keep": {"digits": 5}}},
            "closed_form.keep: ['digits'] are not swept with a closed-form model",
        ),
    ],
)
def test_closed_form_config_errors_name_the_field(config, expected):
    with pytest.raises(ConfigError) as error:
        load_study(config, CONFIG_SCHEMA)
    assert expected in str(error.value), str(error.value)
