import sys
from itertools import pairwise

import numpy as np
import pytest
import torch
import yaml

from conftest import CONFIG_SCHEMA
from ddprune.catalog import (
    CLOSED_FORM_MODELS,
    DENSE_FIGURES,
    PRUNING_FIGURES,
    REGRESSION_DATASETS,
    SOLVED_FIGURES,
    TRAINED_FIGURES,
    TRAINING_POOLS,
)
from ddprune.closed_form.solver import solver_names
from ddprune.data import builtin
from ddprune.data.datasets import dataset_names, load_dataset
from ddprune.jobs.report import DRAW
from ddprune.models import build_model, count_nonzero_parameters, count_parameters, model_names
from ddprune.training.components import LR_SCHEDULES, OPTIMIZERS, PRECISIONS


@pytest.mark.parametrize("width", [1, 2, 48, 512])
def test_mlp_parameter_count(width):
    model = build_model("mlp", width, (64,), 10)
    assert count_parameters(model) == 64 * width + width + width * 10 + 10
    assert count_nonzero_parameters(model) <= count_parameters(model)


def test_mlp_flattens_image_inputs():
    model = build_model("mlp", 8, (1, 8, 8), 10)
    assert model(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


def resnet18k_parameters(k: int, channels: int, classes: int) -> int:
    """Counted by hand: stem, four stages of two pre-activation blocks, linear head."""

    def block(c_in: int, c_out: int) -> int:
        shortcut = c_in * c_out if c_in != c_out else 0
        return 2 * c_in + 9 * c_in * c_out + 2 * c_out + 9 * c_out * c_out + shortcut

    widths = [k, 2 * k, 4 * k, 8 * k]
    stages = sum(block(c_in, c_out) + block(c_out, c_out) for c_in, c_out in pairwise([k, *widths]))
    return 9 * channels * k + stages + 8 * k * classes + classes


def cnn5k_parameters(k: int, channels: int, classes: int) -> int:
    widths = [k, 2 * k, 4 * k, 8 * k]
    convs = sum(9 * c_in * c_out + 2 * c_out for c_in, c_out in pairwise([channels, *widths]))
    return convs + 8 * k * classes + classes


@pytest.mark.parametrize("k", [1, 3, 8, 64])
def test_convolutional_parameter_counts(k):
    resnet = build_model("resnet18k", k, (3, 32, 32), 10)
    assert count_parameters(resnet) == resnet18k_parameters(k, 3, 10)
    cnn = build_model("cnn5k", k, (3, 32, 32), 100)
    assert count_parameters(cnn) == cnn5k_parameters(k, 3, 100)
    if k == 64:  # the standard CIFAR ResNet18 (pre-activation)
        assert count_parameters(resnet) == 11_171_146


@pytest.mark.parametrize("name", ["resnet18k", "cnn5k"])
@pytest.mark.parametrize("shape", [(3, 32, 32), (1, 28, 28), (3, 64, 64)])
def test_convolutional_models_take_every_image_size(name, shape):
    model = build_model(name, 2, shape, 7)
    assert model(torch.zeros(4, *shape)).shape == (4, 7)


def test_convolutional_models_refuse_vector_data_by_name():
    with pytest.raises(ValueError, match=r"'resnet18k' needs images.*\(64,\)"):
        build_model("resnet18k", 2, (64,), 10)


def test_unknown_names_list_the_registered_ones():
    with pytest.raises(KeyError, match="registered"):
        build_model("resnet", 2, (64,), 10)
    with pytest.raises(KeyError, match="digits"):
        load_dataset("nope")


def test_registries_match_the_config_schema():
    schema = yaml.safe_load(CONFIG_SCHEMA.read_text())
    grid = schema["properties"]["sweep"]["items"]["properties"]
    assert sorted(schema["properties"]["datasets"]["properties"]) == dataset_names()
    assert sorted(grid["model"]["enum"]) == sorted(model_names() + solver_names())
    variants = schema["$defs"]["variant"]["properties"]["like"]["enum"]
    assert sorted(variants) == dataset_names()
    assert solver_names() == sorted(CLOSED_FORM_MODELS), "the catalogue planning reads"
    assert set(REGRESSION_DATASETS) <= set(dataset_names())
    assert all(load_dataset(name).num_classes == 0 for name in REGRESSION_DATASETS)
    train = schema["properties"]["train"]["properties"]
    pools = set(TRAINING_POOLS) | set(REGRESSION_DATASETS)
    assert pools == set(dataset_names()), "every built-in dataset's training pool is known"
    assert sorted(train["optimizer"]["enum"]) == OPTIMIZERS.names()
    assert sorted(train["lr_schedule"]["enum"]) == LR_SCHEDULES.names()
    assert sorted(train["precision"]["enum"]) == PRECISIONS.names()


def test_every_figure_the_workflow_asks_for_has_a_drawing():
    kinds = DENSE_FIGURES + TRAINED_FIGURES + SOLVED_FIGURES + PRUNING_FIGURES
    assert sorted(kinds) == sorted(DRAW)


def test_the_digits_split_is_kept_read_without_scikit_learn_and_rebuilt_when_damaged(
    tmp_path, monkeypatch
):
    options = {"n_train": 1000, "split_seed": 0}
    expected = load_dataset("digits", options).sha256
    load_dataset("digits", {**options, "root": str(tmp_path)})
    (kept,) = (tmp_path / "digits").glob("*.npz")
    with monkeypatch.context() as blocked:  # a job reads the kept split, never sklearn
        blocked.setitem(sys.modules, "sklearn.datasets", None)
        assert load_dataset("digits", {**options, "root": str(tmp_path)}).sha256 == expected
        with pytest.raises(ImportError):
            load_dataset("digits", {"n_train": 900, "root": str(tmp_path)})  # another split
    with np.load(kept) as stored:
        arrays = {name: stored[name].copy() for name in stored.files}
    arrays["y_train"][0] = (arrays["y_train"][0] + 1) % 10
    np.savez(kept, **arrays)  # damaged: its arrays no longer match their checksum
    assert load_dataset("digits", {**options, "root": str(tmp_path)}).sha256 == expected
    kept.write_bytes(b"not a zip file")
    assert load_dataset("digits", {**options, "root": str(tmp_path)}).sha256 == expected
    with np.load(kept) as stored:  # rewritten
        assert builtin.arrays_sha256(*(stored[n] for n in builtin.DIGITS_ARRAYS)) == str(
            stored["sha256"]
        )


def test_digits_split_is_fixed_stratified_and_disjoint():
    data = load_dataset("digits", {"n_train": 1000, "split_seed": 0})
    again = load_dataset("digits", {"n_train": 1000, "split_seed": 0})
    assert data.x_train.shape == (1000, 64) and data.x_test.shape == (797, 64)
    assert torch.equal(data.x_train, again.x_train) and torch.equal(data.y_test, again.y_test)
    assert float(data.x_train.max()) <= 1.0 and float(data.x_train.min()) >= 0.0
    train_counts = torch.bincount(data.y_train, minlength=10)
    full_counts = train_counts + torch.bincount(data.y_test, minlength=10)
    expected = 1000 * full_counts / full_counts.sum()  # stratified: class shares are kept
    assert torch.all((train_counts - expected).abs() <= 1)
    train_rows = {tuple(r) for r in data.x_train.tolist()}
    test_rows = {tuple(r) for r in data.x_test.tolist()}
    # digits has a few duplicate images, but the split itself must not copy samples
    assert len(train_rows & test_rows) < 10
