import pytest
import torch
import yaml

from conftest import CONFIG_SCHEMA
from ddprune.datasets import dataset_names, load_dataset
from ddprune.exact import solver_names
from ddprune.models import build_model, count_nonzero_parameters, count_parameters, model_names


@pytest.mark.parametrize("width", [1, 2, 48, 512])
def test_mlp_parameter_count(width):
    model = build_model("mlp", width, (64,), 10)
    assert count_parameters(model) == 64 * width + width + width * 10 + 10
    assert count_nonzero_parameters(model) <= count_parameters(model)


def test_mlp_flattens_image_inputs():
    model = build_model("mlp", 8, (1, 8, 8), 10)
    assert model(torch.zeros(3, 1, 8, 8)).shape == (3, 10)


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
