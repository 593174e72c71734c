import math

import pytest
import torch
import yaml

from conftest import CONFIG_SCHEMA
from ddprune.catalog import DEFAULT_NOISE_KIND, NOISE_KINDS
from ddprune.data.noise import corrupt_labels
from ddprune.study import Run
from ddprune.study.runs import noise_wildcard, parse_noise_wildcard
from ddprune.training.evaluation import label_errors


def labels(n=1000, classes=10):
    return torch.arange(n) % classes


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.2, 0.37, 1.0])
def test_noise_rate_is_exact_and_only_changes_to_another_class(rate):
    clean = labels()
    result = corrupt_labels(clean, 10, rate, "digits", seed=3)
    assert int(result.is_noisy.sum()) == round(rate * len(clean))
    assert torch.equal(result.is_noisy, result.noisy != clean)  # every draw changes the class
    assert torch.equal(result.clean, clean)
    assert int(result.noisy.min()) >= 0 and int(result.noisy.max()) < 10


def test_noisy_labels_are_uniform_over_the_incorrect_classes():
    clean = torch.zeros(20000, dtype=torch.int64)
    noisy = corrupt_labels(clean, 5, 1.0, "digits", seed=0).noisy
    counts = torch.bincount(noisy, minlength=5)
    assert counts[0] == 0
    assert torch.all((counts[1:] - 5000).abs() < 300)


def test_draw_is_fixed_by_dataset_rate_and_seed():
    clean = labels()
    first = corrupt_labels(clean, 10, 0.2, "digits", seed=1)
    again = corrupt_labels(clean, 10, 0.2, "digits", seed=1)
    other_seed = corrupt_labels(clean, 10, 0.2, "digits", seed=2)
    other_data = corrupt_labels(clean, 10, 0.2, "other", seed=1)
    assert torch.equal(first.noisy, again.noisy)
    assert not torch.equal(first.is_noisy, other_seed.is_noisy)
    assert not torch.equal(first.is_noisy, other_data.is_noisy)


def test_rate_outside_unit_interval_is_rejected():
    with pytest.raises(ValueError, match="noise rate"):
        corrupt_labels(labels(), 10, 1.5, "digits", seed=0)


@pytest.mark.parametrize("seed", range(5))
def test_symmetric_noise_keeps_a_label_with_probability_one_in_k(seed):
    """Exactly round(p n) labels are redrawn from all K classes: the realised rate is
    p (K - 1) / K within its binomial standard error, and about 1/K of the redrawn keep
    their class."""
    n, classes, rate = 20_000, 10, 0.2
    clean = labels(n, classes)
    result = corrupt_labels(clean, classes, rate, "digits", seed, kind="symmetric")
    redrawn = round(rate * n)
    assert int(result.is_noisy.sum()) == redrawn
    changed = result.noisy != clean
    assert not changed[~result.is_noisy].any()  # only redrawn labels change
    stay = 1 / classes
    standard_error = math.sqrt(redrawn * stay * (1 - stay)) / n
    assert abs(result.realised_rate - rate * (classes - 1) / classes) <= 3 * standard_error
    assert result.realised_rate < rate  # some redraws kept their class
    counts = torch.bincount(result.noisy[result.is_noisy], minlength=classes)
    assert torch.all((counts - redrawn / classes).abs() < 4 * math.sqrt(redrawn / classes))


def test_the_draw_is_fixed_by_dataset_rate_seed_and_kind():
    clean = labels()
    default = corrupt_labels(clean, 10, 0.2, "digits", seed=1)
    named = corrupt_labels(clean, 10, 0.2, "digits", seed=1, kind="incorrect-class")
    symmetric = corrupt_labels(clean, 10, 0.2, "digits", seed=1, kind="symmetric")
    again = corrupt_labels(clean, 10, 0.2, "digits", seed=1, kind="symmetric")
    assert torch.equal(default.noisy, named.noisy) and torch.equal(symmetric.noisy, again.noisy)
    assert not torch.equal(default.is_noisy, symmetric.is_noisy)  # its own draw
    assert default.realised_rate == 0.2
    with pytest.raises(ValueError, match=r"noise kind 'uniform' is not one of"):
        corrupt_labels(clean, 10, 0.2, "digits", seed=1, kind="uniform")


def test_memorisation_counts_only_labels_that_changed():
    clean = torch.tensor([0, 1, 2, 3])
    noisy = torch.tensor([1, 1, 2, 3])  # sample 1 was redrawn to its own class: unchanged
    predicted = torch.tensor([1, 0, 2, 3])
    errors = label_errors(predicted, noisy, clean)
    assert errors["memorization"] == 1.0  # of the one changed label, one reproduced
    assert math.isnan(label_errors(predicted, clean, clean)["memorization"])


@pytest.mark.parametrize(
    "rate, kind, text",
    [
        (0.2, "incorrect-class", "0.2"),
        (0.2, "symmetric", "0.2-symmetric"),
        (0.0, "symmetric", "0.0-symmetric"),
        (1e-05, "incorrect-class", "1e-05"),
        (1e-05, "symmetric", "1e-05-symmetric"),
    ],
)
def test_the_noise_wildcard_names_the_kind_only_where_it_is_not_the_default(rate, kind, text):
    assert noise_wildcard(rate, kind) == text
    assert parse_noise_wildcard(text) == (rate, kind)
    run = Run("digits", "mlp", 8, rate, 0, kind)
    assert Run.from_wildcards(run.wildcards) == run


def test_the_schema_offers_the_noise_kinds_the_code_draws():
    schema = yaml.safe_load(CONFIG_SCHEMA.read_text())
    noise_kind = schema["properties"]["sweep"]["items"]["properties"]["noise_kind"]
    assert tuple(noise_kind["enum"]) == NOISE_KINDS
    assert noise_kind["default"] == DEFAULT_NOISE_KIND
    shared = yaml.safe_load((CONFIG_SCHEMA.parent / "columns.yaml").read_text())["columns"]
    assert tuple(shared["noise_kind"]["allowed"]) == NOISE_KINDS  # every table's noise_kind
