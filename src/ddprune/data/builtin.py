"""The built-in datasets that need no files: scikit-learn's digits and synthetic regression."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ddprune.data.base import Dataset, arrays_sha256
from ddprune.foundations.seeds import derive_seed


def load_digits(n_train: int = 1000, split_seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1,797 images, 10 classes), pixels scaled to [0, 1].

    The stratified split depends only on ``split_seed``, never on the run's seed, so every
    run of a study is evaluated on the same test set.
    """
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    if not 10 <= n_train <= len(y) - 10:
        raise ValueError(f"digits: n_train must lie in [10, {len(y) - 10}], got {n_train}")
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, train_size=n_train, stratify=y, random_state=split_seed
    )
    return Dataset.from_arrays("digits", x_tr, y_tr, x_te, y_te, num_classes=10)


@dataclass(frozen=True)
class GaussianLinear(Dataset):
    """A regression dataset y = x^T beta + sigma * noise with its ground truth.

    ``beta`` and ``feature_variance`` (the diagonal of Sigma) are what the oracle pruning
    score and the train-small baseline need; targets are float64 of shape (n,).
    """

    beta: torch.Tensor
    feature_variance: torch.Tensor


def gaussian_linear(
    d: int | None = 200,
    n_train: int = 100,
    n_test: int = 5000,
    sigma: float = 0.5,
    informative: int | None = None,
    signal_norm: float = 1.0,
    strong: int = 0,
    strong_variance: float = 1.0,
    seed: int = 0,
) -> GaussianLinear:
    """x ~ N(0, Sigma) in ``d`` dimensions, y = x^T beta* + sigma * eps, in float64.

    beta* has ``informative`` equal non-zero coordinates, the first ones, with norm
    ``signal_norm`` (all ``d`` when null); Sigma is the identity except for the first
    ``strong`` features, whose variance is ``strong_variance``. Every run draws its own
    training and test samples from ``seed`` (the run's seed, set by the solver), so averaging
    over seeds averages over training sets, as the theory's expected risk does. ``d`` null
    means "the model's width" and is resolved by the solver (the well-specified sweep).
    """
    if d is None:
        raise ValueError("gaussian-linear: d is null (the model's width); the solver sets it")
    s = d if informative is None else informative
    if not 1 <= s <= d or strong > d:
        raise ValueError(f"gaussian-linear: need 1 <= informative <= d and strong <= d ({d})")
    beta = torch.zeros(d, dtype=torch.float64)
    beta[:s] = signal_norm / math.sqrt(s)
    variance = torch.ones(d, dtype=torch.float64)
    variance[:strong] = strong_variance
    generator = torch.Generator().manual_seed(derive_seed("gaussian-linear", d, seed))

    def sample(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(n, d, generator=generator, dtype=torch.float64) * variance.sqrt()
        return x, x @ beta + sigma * torch.randn(n, generator=generator, dtype=torch.float64)

    x_train, y_train = sample(n_train)
    x_test, y_test = sample(n_test)
    return GaussianLinear(
        name="gaussian-linear",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        num_classes=0,
        sha256=arrays_sha256(*(t.numpy() for t in (x_train, y_train, x_test, y_test))),
        beta=beta,
        feature_variance=variance,
    )
