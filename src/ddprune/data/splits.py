"""The validation split: held out of the samples a dataset offers for training, stratified by
class and fixed by the study's split seed, so every choice the pipeline makes (the IT, the best
pruned round, the early-stopping epoch) has data of its own and the test set is only reported.

Why from the training pool and not from the test set: the test set stays the dataset's own
(comparable with published numbers), and a loader that subsamples its training set (Fashion-MNIST
takes 6,000 of 60,000 images) simply draws ``n_train + n_validation`` samples, so validation
costs no training sample. Digits has no test set of its own: its samples not drawn for training
or validation are the test set.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ddprune.data.base import Dataset


def stratified_take(labels: np.ndarray, n_take: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices of ``n_take`` samples with every class in proportion, and of the rest.

    Each class gets its quota's integer part, and the samples left over go to the classes with
    the largest remainders (the lower class among ties); within a class the samples are a
    permutation's first ones. Integers only, so the same samples on every CPU (scikit-learn's
    ``train_test_split`` would do the same, but importing it costs a short job a second).
    """
    labels = np.asarray(labels)
    if not 0 <= n_take <= len(labels):
        raise ValueError(f"cannot take {n_take} of {len(labels)} samples")
    classes, counts = np.unique(labels, return_counts=True)
    quota = n_take * counts / len(labels) if len(labels) else counts.astype(float)
    take = np.floor(quota).astype(int)
    by_remainder = np.lexsort((np.arange(len(classes)), -(quota - take)))
    take[by_remainder[: n_take - int(take.sum())]] += 1
    rng = np.random.default_rng(seed)
    chosen = np.concatenate(
        [
            rng.permutation(np.flatnonzero(labels == c))[:k]
            for c, k in zip(classes, take, strict=True)
        ]
        or [np.empty(0, dtype=int)]
    )
    mask = np.zeros(len(labels), dtype=bool)
    mask[chosen] = True
    return np.flatnonzero(mask), np.flatnonzero(~mask)


def hold_out_validation(dataset: Dataset, n_validation: float, split_seed: int) -> Dataset:
    """``dataset`` with ``n_validation`` of its training samples (a count, or a share below 1)
    moved to its validation split (stratified, by ``split_seed``).

    Its ``sha256`` stays the data's (a file's checksum stays the file's, which a user can
    check): the split is named by the options that make it, ``n_validation`` and
    ``split_seed``, which every job's spec records beside the checksum.
    """
    if n_validation == 0:
        return dataset
    if n_validation < 1:
        n_validation = max(1, round(n_validation * len(dataset.y_train)))
    n_validation = int(n_validation)
    if not 0 < n_validation < len(dataset.y_train):
        raise ValueError(
            f"{dataset.name}: n_validation {n_validation} must lie in [0, "
            f"{len(dataset.y_train) - 1}] (the samples offered for training)"
        )
    held, kept = (
        torch.from_numpy(indices)
        for indices in stratified_take(dataset.y_train.numpy(), n_validation, split_seed)
    )
    return dataclasses.replace(
        dataset,
        x_train=dataset.x_train[kept],
        y_train=dataset.y_train[kept],
        x_val=dataset.x_train[held],
        y_val=dataset.y_train[held],
    )
