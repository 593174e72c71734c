"""The built-in datasets that need no data files: scikit-learn's digits, MNIST-1D (generated
by its package) and synthetic regression."""

from __future__ import annotations

import functools
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ddprune.data.base import Dataset, arrays_sha256
from ddprune.foundations.atomic import atomic_path
from ddprune.foundations.seeds import derive_seed


DIGITS_ARRAYS = ("x_train", "x_test", "y_train", "y_test")  # train_test_split's order


def load_digits(n_train: int = 1000, split_seed: int = 0, root: str | None = None) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1,797 images, 10 classes), pixels scaled to [0, 1].

    The stratified split depends only on ``split_seed``, never on the run's seed, so every
    run of a study is evaluated on the same test set. With ``root`` the split is kept under
    ``root/digits/`` and later jobs read it: importing scikit-learn takes over a second, a
    third of a short job's start-up, and the default study starts a hundred such jobs.
    """
    if not 10 <= n_train <= 1797 - 10:
        raise ValueError(f"digits: n_train must lie in [10, {1797 - 10}], got {n_train}")

    def split() -> tuple[np.ndarray, ...]:
        from sklearn.datasets import load_digits as sk_load_digits
        from sklearn.model_selection import train_test_split

        bunch = sk_load_digits()
        x = (bunch.data / 16.0).astype(np.float32)
        y = bunch.target.astype(np.int64)
        return tuple(
            train_test_split(x, y, train_size=n_train, stratify=y, random_state=split_seed)
        )

    cache = Path(root, "digits", f"digits-n{n_train}-split{split_seed}.npz") if root else None
    x_tr, x_te, y_tr, y_te = kept_arrays(cache, DIGITS_ARRAYS, split)
    return Dataset.from_arrays("digits", x_tr, y_tr, x_te, y_te, num_classes=10)


def kept_arrays(
    cache: Path | None,
    names: tuple[str, ...],
    build: Callable[[], tuple[np.ndarray, ...]],
    expected_sha256: str | None = None,
) -> tuple[np.ndarray, ...]:
    """Arrays read from ``cache`` (a ``.npz`` holding them and their checksum), or built and
    kept there when it is missing or damaged -- a copy whose arrays do not match the
    checksum (``expected_sha256``, else the one stored with them) is rebuilt, never used."""
    if cache is not None and cache.exists():
        try:
            with np.load(cache) as stored:
                arrays = tuple(stored[name] for name in names)
                expected = expected_sha256 or str(stored["sha256"])
            if arrays_sha256(*arrays) == expected:
                return arrays
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            pass  # unreadable: rebuilt below
    arrays = build()
    if cache is not None:
        with atomic_path(cache) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, sha256=arrays_sha256(*arrays), **dict(zip(names, arrays, strict=True)))
    return arrays


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


# The arrays that mnist1d 0.0.2's make_dataset(get_dataset_args()) generates (its published
# defaults: 5,000 samples, 80% for training, seed 42); a different checksum means the
# generator changed, and the study would silently run on other data.
MNIST1D_SHA256 = "d251d782c1acd94a4d11026b6e8a4e57589771139da62a989d61b6740b8ffae4"


class Mnist1dError(RuntimeError):
    """MNIST-1D cannot be generated as published here."""


MNIST1D_ARRAYS = ("x", "y", "x_test", "y_test")


@functools.cache
def mnist1d_arrays(root: str | None = None) -> tuple[np.ndarray, ...]:
    """MNIST-1D's published split, generated offline (never downloaded) and checked.

    ``mnist1d.data.get_dataset`` would download a pickle; ``make_dataset`` builds the same
    data from the package's default arguments, identically every time (the checksum proves
    it), but takes seconds with its imports (10 s measured on a busy 2-core machine). So the
    first caller (Snakemake's ``onstart``, before any job) keeps the arrays under
    ``root/mnist1d/`` and every job reads them from there; a cache whose checksum differs is
    ignored and rebuilt, never trusted.
    """
    cache = Path(root, "mnist1d", f"mnist1d-{MNIST1D_SHA256[:16]}.npz") if root else None
    return kept_arrays(cache, MNIST1D_ARRAYS, _generate_mnist1d, MNIST1D_SHA256)


def _generate_mnist1d() -> tuple[np.ndarray, ...]:
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise Mnist1dError(
            "datasets.mnist1d needs the mnist1d package: pip install mnist1d"
        ) from None
    data = make_dataset(get_dataset_args())
    arrays = tuple(data[name] for name in MNIST1D_ARRAYS)
    if (found := arrays_sha256(*arrays)) != MNIST1D_SHA256:
        raise Mnist1dError(
            f"mnist1d generated other data than the published MNIST-1D (arrays SHA-256 "
            f"{found}, expected {MNIST1D_SHA256}): install the mnist1d version that "
            "ddprune pins (pip install 'mnist1d==0.0.2.post1')"
        )
    return arrays


def load_mnist1d(
    n_train: int | None = None, split_seed: int = 0, root: str | None = None
) -> Dataset:
    """MNIST-1D (Greydanus & Kobak 2024): 4,000 training and 1,000 test sequences of 40
    values, 10 classes, as published; ``n_train`` takes a stratified subset of the training
    set (by ``split_seed``), the test set stays whole; ``root`` keeps the generated arrays."""
    x_train, y_train, x_test, y_test = mnist1d_arrays(root)
    if n_train is not None and n_train < len(y_train):
        from sklearn.model_selection import train_test_split

        x_train, _, y_train, _ = train_test_split(
            x_train, y_train, train_size=n_train, stratify=y_train, random_state=split_seed
        )
    return Dataset.from_arrays(
        "mnist1d",
        x_train.astype(np.float32),
        y_train.astype(np.int64),
        x_test.astype(np.float32),
        y_test.astype(np.int64),
        num_classes=10,
    )
