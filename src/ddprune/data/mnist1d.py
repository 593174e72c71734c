"""MNIST-1D (Greydanus & Kobak 2024), generated offline by its package and checked against a
fingerprint of the published arrays that every CPU's correct generation matches.

Why not a checksum of the bytes: numpy chooses the SIMD kernels of its float functions by CPU
at run time, and its AVX-512 kernels round differently in the last bits from its AVX2 ones, so
the pinned generator writes other bytes on other CPUs (measured on one machine, AVX-512 against
``NPY_DISABLE_CPU_FEATURES`` down to AVX2: 61,760 of 200,000 values differ, by at most
8.9e-16, and not one after the cast to the float32 that training uses). A byte checksum refused
every AVX-512 machine. What the data *are* is the labels, exactly, and the features up to
rounding: that is what the check compares.
"""

from __future__ import annotations

import functools
import hashlib
import math
from importlib import metadata
from pathlib import Path

import numpy as np

from ddprune.data.base import Dataset, recipe_sha256
from ddprune.data.builtin import kept_arrays

ARRAYS = ("x", "y", "x_test", "y_test")
PINNED_VERSION = "0.0.2.post1"  # pyproject.toml pins it

# The published arrays, i.e. what mnist1d 0.0.2's make_dataset(get_dataset_args()) generates
# (its defaults: 5,000 samples, 80% for training, seed 42), as the check sees them: the shape,
# the SHA-256 of the exact integer labels, and four sums of the float features (see
# feature_sums), measured on an AVX2 machine.
REFERENCE: dict[str, tuple[tuple[int, ...], str | tuple[float, ...]]] = {
    "x": (
        (4000, 40),
        (-51.78746787509555, 159248.2538653486, -107.95005597764175, 484.7028335469327),
    ),
    "y": ((4000,), "d97dc7aecec8ad6b5d8f143ba3e9c4bd7e25c420d7dfc2eb990591cfc0ed3e15"),
    "x_test": (
        (1000, 40),
        (51.78746787509181, 40751.74613465136, 61.14077663557714, 189.14944131342162),
    ),
    "y_test": ((1000,), "8de99be3ff9dab15ae0dc072c3d6ced7cf6b33d365888ce4a386fc944489452c"),
}

# How far a sum may lie from its reference. A correct generation on another CPU differs from
# the reference by last-bit rounding: at most 8.9e-16 a value measured, so at most
# 4,000 x 40 x 5.5 x 2 x 8.9e-16 = 1.6e-9 in a sum even if every error had the same sign
# (measured: 7.3e-12). A tolerance of 1e-6 is 600 times that bound, so no correct generation is
# refused. Every value enters the plain sum with weight one, so any one value changed by more
# than 1e-6 is refused (training sees float32, whose resolution at the largest feature, 5.5, is
# 4.8e-7); many changes that cancel in all four sums at once -- a shuffle of samples or of
# positions moves the weighted ones -- are no accident a generator or a damaged file makes.
TOLERANCE = 1e-6


def labels_sha256(labels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(labels, dtype=np.int64).tobytes()).hexdigest()


def feature_sums(x: np.ndarray) -> tuple[float, ...]:
    """Σx, Σx², Σx·(sample index/n), Σx·(position/length), each summed exactly (``math.fsum``,
    so the sum itself does not depend on a CPU's reduction order; the products are single
    IEEE roundings, the same everywhere)."""
    x = np.asarray(x, dtype=np.float64)
    n, length = x.shape
    sample = np.arange(n, dtype=np.float64)[:, None] / n
    position = np.arange(length, dtype=np.float64)[None, :] / length
    return tuple(math.fsum(v.ravel()) for v in (x, x * x, x * sample, x * position))


def differences(arrays: tuple[np.ndarray, ...]) -> list[str]:
    """What keeps ``arrays`` (in ARRAYS' order) from being the published MNIST-1D: one line per
    difference, none when they are it up to rounding."""
    found = []
    for name, array in zip(ARRAYS, arrays, strict=True):
        shape, expected = REFERENCE[name]
        if array.shape != shape:
            found.append(f"{name}: shape {array.shape}, expected {shape}")
        elif isinstance(expected, str):
            if array.dtype.kind not in "iu" or labels_sha256(array) != expected:
                found.append(f"{name}: other labels (SHA-256 {labels_sha256(array)[:12]}...)")
        else:
            gaps = [abs(a - b) for a, b in zip(feature_sums(array), expected, strict=True)]
            if max(gaps) > TOLERANCE:
                found.append(
                    f"{name}: other features (a sum differs by {max(gaps):.3g}, "
                    f"rounding differs by at most {TOLERANCE:g})"
                )
    return found


# What identifies the data in every row and checkpoint spec: the same on every CPU, as the
# check that admits the arrays is (their bytes are not).
IDENTITY = recipe_sha256("mnist1d", PINNED_VERSION, REFERENCE)


class Mnist1dError(RuntimeError):
    """MNIST-1D cannot be generated as published here."""


@functools.cache
def mnist1d_arrays(root: str | None = None) -> tuple[np.ndarray, ...]:
    """MNIST-1D's published split, generated offline (never downloaded) and checked.

    ``mnist1d.data.get_dataset`` would download a pickle; ``make_dataset`` builds the same
    data from the package's default arguments, but takes seconds with its imports (10 s
    measured on a busy 2-core machine). So the first caller (Snakemake's ``onstart``, before
    any job) keeps the arrays under ``root/mnist1d/`` and every job reads them from there; a
    kept copy that is damaged or that the check refuses is rebuilt, never trusted.
    """
    cache = Path(root, "mnist1d", f"mnist1d-{IDENTITY[:16]}.npz") if root else None
    return kept_arrays(cache, ARRAYS, generate, accept=lambda arrays: not differences(arrays))


def generate() -> tuple[np.ndarray, ...]:
    """The arrays as this machine's mnist1d generates them, or an Mnist1dError saying how
    they differ from the published ones and what to do."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise Mnist1dError(
            "datasets.mnist1d needs the mnist1d package: pip install mnist1d"
        ) from None
    data = make_dataset(get_dataset_args())
    arrays = tuple(data[name] for name in ARRAYS)
    if found := differences(arrays):
        version = metadata.version("mnist1d")
        advice = (
            f"install the version that ddprune pins: pip install 'mnist1d=={PINNED_VERSION}'"
            if version != PINNED_VERSION
            else "this is the pinned version, so its generator or what it imports (numpy, "
            "scipy) changed more than rounding: please report it with `pip list`"
        )
        raise Mnist1dError(
            f"mnist1d {version} generated other data than the published MNIST-1D "
            f"({'; '.join(found)}): {advice}"
        )
    return arrays


def load_mnist1d(
    n_train: int | None = None, split_seed: int = 0, root: str | None = None
) -> Dataset:
    """MNIST-1D: 4,000 training and 1,000 test sequences of 40 values, 10 classes, as
    published; ``n_train`` takes a stratified subset of the training set (by ``split_seed``),
    the test set stays whole; ``root`` keeps the generated arrays."""
    x_train, y_train, x_test, y_test = mnist1d_arrays(root)
    identity = IDENTITY
    if n_train is not None and n_train < len(y_train):
        from sklearn.model_selection import train_test_split

        x_train, _, y_train, _ = train_test_split(
            x_train, y_train, train_size=n_train, stratify=y_train, random_state=split_seed
        )  # chosen from the exact labels alone, so the same samples on every CPU
        identity = recipe_sha256(IDENTITY, n_train, split_seed)
    return Dataset.from_arrays(
        "mnist1d",
        x_train.astype(np.float32),
        y_train.astype(np.int64),
        x_test.astype(np.float32),
        y_test.astype(np.int64),
        num_classes=10,
        sha256=identity,
    )
