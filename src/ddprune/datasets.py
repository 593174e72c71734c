"""Dataset registry: every dataset is loaded by name into tensors with a fixed split.

A loader returns the *clean* labels; label noise is applied afterwards by
:mod:`ddprune.noise`, identically for every dataset. New datasets plug in with
``@register_dataset("name")`` and an options block under ``datasets`` in the config schema
(a test keeps the two in step). Datasets that the config declares with a ``file`` are read
by :mod:`ddprune.array_files` instead.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ddprune.catalog import source
from ddprune.registry import Registry
from ddprune.seeds import derive_seed


@dataclass(frozen=True)
class Dataset:
    """A train/test split held as tensors (features float32, or images as uint8 pixels N x C
    x H x W; labels int64; float64 and real-valued targets for the regression datasets,
    whose ``num_classes`` is 0).

    ``sha256`` identifies the data: the checksum of the source file for a file dataset, of
    the split arrays for a built-in one. Runs record it with their metrics.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    sha256: str

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @classmethod
    def from_arrays(
        cls,
        name: str,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_test: np.ndarray,
        y_test: np.ndarray,
        num_classes: int,
        sha256: str | None = None,
    ) -> Dataset:
        """A split from numpy arrays (shared, not copied); ``sha256`` defaults to the arrays'
        checksum (:func:`arrays_sha256`)."""
        arrays = (x_train, y_train, x_test, y_test)
        tensors = (torch.from_numpy(array) for array in arrays)
        return cls(name, *tensors, num_classes, sha256 or arrays_sha256(*arrays))


DATASETS: Registry[Callable[..., Dataset]] = Registry("dataset")
register_dataset = DATASETS.register
dataset_names = DATASETS.names


def load_dataset(name: str, options: dict[str, Any] | None = None) -> Dataset:
    """Load dataset ``name`` with its config ``options`` (e.g. ``{"n_train": 1000}``)."""
    options = dict(options or {})
    if "file" in options:
        from ddprune.array_files import load_array_file  # it builds on this module

        return load_array_file(name, **options)
    builtin = source(name, options)
    options.pop("like", None)
    return DATASETS[builtin](**options)


def arrays_sha256(*arrays: np.ndarray) -> str:
    """A checksum of arrays' shapes, dtypes and bytes (for data that is not one file)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


@register_dataset("digits")
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


@register_dataset("gaussian-linear")
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


# Datasets defined in other modules register themselves when imported.
from ddprune import image_datasets  # noqa: E402, F401  (it builds on this module)
