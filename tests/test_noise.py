import pytest
import torch

from ddprune.data.noise import corrupt_labels


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
