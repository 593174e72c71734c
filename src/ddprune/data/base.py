"""What every dataset is: train, validation and test splits held as tensors, and its checksum.

The leaf of :mod:`ddprune.data`: loaders build on it, and :mod:`ddprune.data.datasets`
registers them by name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass(frozen=True)
class Dataset:
    """Train, validation and test splits held as tensors (features float32, or images as uint8
    pixels N x C x H x W; labels int64; float64 and real-valued targets for the regression
    datasets, whose ``num_classes`` is 0).

    The validation split is held out of the samples a loader offers for training
    (:func:`ddprune.data.splits.hold_out_validation`); it is empty until then, and for the
    closed-form regression data, which know their population and need none.

    ``sha256`` identifies the data, the same on every CPU: the checksum of the source file for
    a file dataset, of the split arrays for exact built-in ones, of the recipe for generated
    float data (:func:`recipe_sha256`). Runs record it with their metrics.
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    sha256: str
    x_val: torch.Tensor | None = field(default=None, kw_only=True)
    y_val: torch.Tensor | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        # No validation split given: an empty one, shaped like the training split.
        if self.x_val is None:
            object.__setattr__(self, "x_val", self.x_train[:0])
            object.__setattr__(self, "y_val", self.y_train[:0])

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


def arrays_sha256(*arrays: np.ndarray) -> str:
    """A checksum of arrays' shapes, dtypes and bytes, for data that is not one file and whose
    values are exact on every CPU (integers, pixels, digits' sixteenths): float values that a
    computation produced differ in their last bits between CPU types, and so would this."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def recipe_sha256(*parts: object) -> str:
    """A checksum of the recipe that generated data (the generator and its arguments, by their
    ``repr``): what identifies generated float data, whose bytes differ between CPU types
    while the data, up to rounding, do not."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()
