"""The validation split: held out of the training pool, disjoint from train and test, fixed by
the split seed, stratified, and noised like the training labels."""

import numpy as np
import pytest
import torch

from ddprune.data.base import Dataset
from ddprune.data.datasets import load_dataset
from ddprune.data.noise import draw_noise
from ddprune.data.splits import hold_out_validation, stratified_take


def test_stratified_take_is_disjoint_complete_proportional_and_fixed_by_its_seed():
    labels = np.repeat(np.arange(4), [50, 30, 15, 5])
    take, rest = stratified_take(labels, 20, seed=3)
    assert len(take) == 20 and len(np.intersect1d(take, rest)) == 0
    assert sorted(np.concatenate([take, rest])) == list(range(len(labels)))
    assert np.bincount(labels[take], minlength=4).tolist() == [10, 6, 3, 1]
    assert np.array_equal(take, stratified_take(labels, 20, seed=3)[0])
    assert not np.array_equal(take, stratified_take(labels, 20, seed=4)[0])


def test_largest_remainders_fill_the_quota_exactly():
    labels = np.repeat(np.arange(3), [10, 10, 10])
    take, _ = stratified_take(labels, 10, seed=0)  # 3.33 each: one class gets the fourth
    assert sorted(np.bincount(labels[take]).tolist()) == [3, 3, 4]


def test_hold_out_moves_training_samples_and_leaves_test_alone():
    ids = torch.arange(100)
    data = Dataset("ids", ids[:, None], ids % 5, ids[:10, None] + 1000, ids[:10] % 5, 5, "x")
    held = hold_out_validation(data, 25, split_seed=1)
    train, val = set(held.x_train[:, 0].tolist()), set(held.x_val[:, 0].tolist())
    assert len(val) == 25 and len(train) == 75 and not train & val
    assert train | val == set(range(100))
    assert torch.equal(held.x_test, data.x_test)
    assert torch.equal(held.y_val, held.x_val[:, 0] % 5)  # labels travel with their samples
    assert held.sha256 == data.sha256  # the data's; the split is named by its options
    with pytest.raises(ValueError, match="n_validation 100"):
        hold_out_validation(data, 100, split_seed=1)


def test_digits_splits_are_disjoint_and_n_train_keeps_its_meaning():
    data = load_dataset("digits", {"n_train": 1000, "n_validation": 300, "split_seed": 0})
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (1000, 300, 497)
    rows = {
        split: {x.numpy().tobytes() for x in xs}
        for split, xs in (("train", data.x_train), ("val", data.x_val), ("test", data.x_test))
    }
    # digits holds a few duplicate images; disjoint as samples means (nearly) disjoint as
    # images, and the three together are all of digits' distinct images.
    assert len(rows["train"] & rows["val"]) + len(rows["val"] & rows["test"]) < 5
    again = load_dataset("digits", {"n_train": 1000, "n_validation": 300, "split_seed": 0})
    assert torch.equal(again.x_val, data.x_val) and again.sha256 == data.sha256


def test_validation_labels_are_noised_like_the_training_labels_but_drawn_apart():
    data = load_dataset("digits", {"n_train": 1000, "n_validation": 300})
    labels = draw_noise(data, "digits", 0.2, seed=0)
    assert labels["train"].realised_rate == pytest.approx(0.2)
    assert labels["validation"].realised_rate == pytest.approx(0.2)
    assert torch.equal(labels["validation"].clean, data.y_val)
    assert torch.equal(
        draw_noise(data, "digits", 0.2, seed=0)["validation"].noisy, labels["validation"].noisy
    )
