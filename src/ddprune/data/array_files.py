"""Bring your own data: a dataset read from arrays in a ``.npz`` or Parquet file.

A study names the file under ``datasets.<name>.file``; from then on ``<name>`` is a dataset
like the built-in ones (label noise, splits, models and every rule treat it the same). The
file is checked completely -- shapes, labels, finiteness, classes per split -- when the
config is loaded, so a bad file fails before any job starts, with a message that names the
file and the problem. Each run records the file's SHA-256 beside its metrics.

Layouts:

- ``.npz``: arrays ``x_train``, ``y_train`` and optionally ``x_test``, ``y_test``.
- Parquet: one row per sample; a label column, feature columns (every other column unless
  listed), and optionally a split column whose values are ``train`` and ``test``.

Inputs are flat vectors (NxD) or images (NxHxW, stored as Nx1xHxW, or NxCxHxW). Labels are
integer classes 0..C-1 with C = 1 + the largest label. Without test arrays (or a split
column), a stratified split with ``test_size`` and ``split_seed`` makes the test set.
Float features are used as stored (no scaling): normalise them before writing the file.
uint8 images are pixels: they stay uint8 and are standardised per channel on the device,
with the training images' statistics, as the torchvision datasets are.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ddprune.data.base import Dataset

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
FORMATS = (".npz", ".parquet")


class DataFileError(ValueError):
    """A data file cannot be used; the message names the file and the problem."""


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_array_file(
    name: str,
    file: str,
    label_column: str = "label",
    feature_columns: list[str] | None = None,
    split_column: str | None = None,
    shape: list[int] | None = None,
    test_size: float | int = 0.2,
    split_seed: int = 0,
) -> Dataset:
    """Load and check dataset ``name`` from ``file`` (options as in the config schema)."""
    path = Path(file)
    if path.suffix not in FORMATS:
        raise DataFileError(f"{file}: unknown format {path.suffix!r}; allowed: {list(FORMATS)}")
    if not path.is_file():
        raise DataFileError(f"{file}: no such file (paths are relative to the working directory)")
    if path.suffix == ".npz":
        arrays = _read_npz(path)
    else:
        arrays = _read_parquet(path, label_column, feature_columns, split_column, shape)
    x_train, y_train = _features(path, arrays, "x_train"), _labels(path, arrays, "y_train")
    _check_length(path, x_train, y_train, "train")
    if "x_test" in arrays:
        x_test, y_test = _features(path, arrays, "x_test"), _labels(path, arrays, "y_test")
        _check_length(path, x_test, y_test, "test")
        if x_test.shape[1:] != x_train.shape[1:]:
            raise DataFileError(
                f"{file}: x_test samples have shape {x_test.shape[1:]}, "
                f"x_train samples {x_train.shape[1:]}"
            )
    else:
        x_train, x_test, y_train, y_test = _split(path, x_train, y_train, test_size, split_seed)
    largest = int(max(y_train.max(), y_test.max()))
    if largest >= len(y_train):  # every class needs a training sample: C <= n_train
        raise DataFileError(
            f"{file}: the largest label is {largest}, but the training split has only "
            f"{len(y_train)} samples; labels must be 0..C-1 with every class in the training split"
        )
    num_classes = largest + 1
    if num_classes < 2:
        raise DataFileError(f"{file}: labels hold {num_classes} class; at least 2 are needed")
    missing = np.setdiff1d(np.arange(num_classes), y_train)
    if len(missing):
        raise DataFileError(
            f"{file}: {len(missing)} of the classes 0..{num_classes - 1} have no training "
            f"sample (the first: {missing[:5].tolist()}); labels must be 0..C-1 with every "
            "class in the training split"
        )
    return Dataset.from_arrays(
        name, x_train, y_train, x_test, y_test, num_classes, sha256=file_sha256(path)
    )


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except Exception as error:  # numpy raises several types for damaged archives
        # numpy calls any file that is not a zip "pickled data"; say what was expected.
        raise DataFileError(
            f"{path}: not a readable .npz archive (a zip of arrays, as numpy.savez writes)"
        ) from error
    required = {"x_train", "y_train"}
    if not required <= arrays.keys():
        raise DataFileError(
            f"{path}: missing array(s) {sorted(required - arrays.keys())}; found "
            f"{sorted(arrays)}; expected x_train, y_train and optionally x_test, y_test"
        )
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise DataFileError(f"{path}: x_test and y_test come together; found {sorted(arrays)}")
    unknown = sorted(arrays.keys() - set(NPZ_KEYS))
    if unknown:
        raise DataFileError(f"{path}: unknown array(s) {unknown}; allowed: {list(NPZ_KEYS)}")
    return arrays


def _read_parquet(
    path: Path,
    label_column: str,
    feature_columns: list[str] | None,
    split_column: str | None,
    shape: list[int] | None,
) -> dict[str, np.ndarray]:
    import pandas as pd

    try:
        table = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several types for damaged files
        raise DataFileError(f"{path}: not a readable Parquet file ({error})") from error
    named = [label_column, *([split_column] if split_column else []), *(feature_columns or [])]
    absent = [column for column in named if column not in table.columns]
    if absent:
        raise DataFileError(
            f"{path}: missing column(s) {absent}; found {list(table.columns)} "
            "(see datasets.<name>.label_column, feature_columns, split_column)"
        )
    features = feature_columns or [
        c for c in table.columns if c not in (label_column, split_column)
    ]
    if not features:
        raise DataFileError(f"{path}: no feature columns beside the label column")
    not_numeric = [c for c in features if not pd.api.types.is_numeric_dtype(table[c])]
    if not_numeric:
        raise DataFileError(f"{path}: feature column(s) {not_numeric} are not numeric")
    x = table[features].to_numpy()
    if shape is not None:
        if int(np.prod(shape)) != len(features):
            raise DataFileError(
                f"{path}: shape {shape} holds {int(np.prod(shape))} values per sample, "
                f"but there are {len(features)} feature columns"
            )
        x = x.reshape(len(x), *shape)
    y = table[label_column].to_numpy()
    if split_column is None:
        return {"x_train": x, "y_train": y}
    split = table[split_column].astype(str)
    unknown = sorted(set(split) - {"train", "test"})
    if unknown:
        raise DataFileError(
            f"{path}: column {split_column!r} holds {unknown}; allowed: ['train', 'test']"
        )
    train, test = (split == "train").to_numpy(), (split == "test").to_numpy()
    return {"x_train": x[train], "y_train": y[train], "x_test": x[test], "y_test": y[test]}


def _features(path: Path, arrays: dict[str, np.ndarray], key: str) -> np.ndarray:
    x = arrays[key]
    if np.issubdtype(x.dtype, np.complexfloating) or not (
        np.issubdtype(x.dtype, np.number) or x.dtype == bool
    ):
        raise DataFileError(f"{path}: {key} has dtype {x.dtype}; features must be real numbers")
    if x.ndim not in (2, 3, 4):
        raise DataFileError(
            f"{path}: {key} has shape {x.shape}; allowed: NxD (vectors), NxHxW or NxCxHxW (images)"
        )
    if len(x) == 0:
        raise DataFileError(f"{path}: {key} holds no samples")
    if x.dtype == np.uint8 and x.ndim in (3, 4):  # pixels
        return x[:, None] if x.ndim == 3 else x
    bad = int(np.count_nonzero(~np.isfinite(x)))
    if bad:
        raise DataFileError(f"{path}: {key} holds {bad} non-finite value(s) (NaN or inf)")
    huge = int(np.count_nonzero(np.abs(x) > np.finfo(np.float32).max))
    if huge:
        raise DataFileError(
            f"{path}: {key} holds {huge} value(s) beyond float32's range (|x| > 3.4e38), "
            "which the models compute in"
        )
    x = x.astype(np.float32)
    return x[:, None] if x.ndim == 3 else x  # NxHxW images get their one channel


def _labels(path: Path, arrays: dict[str, np.ndarray], key: str) -> np.ndarray:
    y = np.asarray(arrays[key])
    if y.ndim != 1:
        raise DataFileError(f"{path}: {key} has shape {y.shape}; labels must be one per sample")
    if not np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.complexfloating):
        raise DataFileError(f"{path}: {key} has dtype {y.dtype}; labels must be integers")
    if np.issubdtype(y.dtype, np.floating):
        fractional = y[~np.isfinite(y) | (y != np.round(y))]
        if len(fractional):
            raise DataFileError(
                f"{path}: {key} holds non-integer label(s), e.g. {fractional[0].item()!r}; "
                "labels must be integer classes 0..C-1"
            )
    if len(y) and y.min() < 0:
        raise DataFileError(
            f"{path}: {key} holds negative label(s), e.g. {y.min().item()!r}; labels must be 0..C-1"
        )
    return y.astype(np.int64)


def _check_length(path: Path, x: np.ndarray, y: np.ndarray, split: str) -> None:
    if len(x) != len(y):
        raise DataFileError(
            f"{path}: x_{split} has {len(x)} samples but y_{split} has {len(y)} labels"
        )


def _split(
    path: Path, x: np.ndarray, y: np.ndarray, test_size: float | int, seed: int
) -> tuple[np.ndarray, ...]:
    """A stratified train/test split that depends only on ``seed`` (fixed per study)."""
    from sklearn.model_selection import train_test_split

    classes, counts = np.unique(y, return_counts=True)
    if (counts < 2).any():
        single = classes[counts < 2]
        raise DataFileError(
            f"{path}: {len(single)} class(es) have a single sample (the first: "
            f"{single[:5].tolist()}); a "
            "stratified train/test split needs at least 2 per class (or give x_test, y_test)"
        )
    try:
        return tuple(train_test_split(x, y, test_size=test_size, stratify=y, random_state=seed))
    except ValueError as error:  # e.g. a test set smaller than the number of classes
        raise DataFileError(f"{path}: cannot split with test_size={test_size}: {error}") from error
