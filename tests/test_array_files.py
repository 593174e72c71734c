"""Bring-your-own data: .npz and Parquet files round-trip, and every bad file is named."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import CONFIG_SCHEMA
from ddprune.data.datasets import load_dataset
from ddprune.study import ConfigError, load_study


def blobs(n: int, shape: tuple[int, ...], classes: int = 3, seed: int = 0):
    """Separable data: class c is centred at c along every feature."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.normal(size=(n, *shape)).astype(np.float32) * 0.3
    x += y.reshape(-1, *[1] * len(shape))
    return x, y


def study_with(options: dict) -> dict:
    return {
        "study": "mine",
        "datasets": {"mine": options},
        "sweep": [{"dataset": "mine", "model": "mlp", "widths": [4]}],
    }


def test_npz_vectors_with_a_test_set_round_trip(tmp_path):
    x_train, y_train = blobs(60, (5,))
    x_test, y_test = blobs(30, (5,), seed=1)
    path = tmp_path / "vectors.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    data = load_dataset("mine", {"file": str(path)})
    assert torch.equal(data.x_train, torch.from_numpy(x_train))
    assert torch.equal(data.y_test, torch.from_numpy(y_test))
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert data.num_classes == 3 and data.input_shape == (5,)
    assert data.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("shape, stored", [((6, 6), (1, 6, 6)), ((3, 4, 4), (3, 4, 4))])
def test_npz_images_without_a_test_set_get_a_seeded_stratified_split(tmp_path, shape, stored):
    x, y = blobs(100, shape, classes=4)
    path = tmp_path / "images.npz"
    np.savez(path, x_train=x.astype(np.float64), y_train=y.astype(np.int32))
    options = {"file": str(path), "test_size": 0.2, "split_seed": 3}
    data = load_dataset("mine", options)
    assert data.input_shape == stored and len(data.y_train) == 80 and len(data.y_test) == 20
    assert torch.bincount(data.y_test).tolist() == [5, 5, 5, 5]  # stratified
    again = load_dataset("mine", options)
    assert torch.equal(data.x_test, again.x_test)
    other = load_dataset("mine", {**options, "split_seed": 4})
    assert not torch.equal(data.x_test, other.x_test)
    everything = torch.cat([data.x_train, data.x_test]).reshape(100, -1)
    original = torch.from_numpy(x.astype(np.float32)).reshape(100, -1)
    assert torch.equal(everything.sort(dim=0).values, original.sort(dim=0).values)


@pytest.mark.parametrize(
    "shape, dtype, stored",
    [((40, 5, 5), torch.uint8, (1, 5, 5)), ((40, 7), torch.float32, (7,))],
)
def test_uint8_images_are_kept_as_pixels_and_uint8_vectors_become_floats(
    tmp_path, shape, dtype, stored
):
    rng = np.random.default_rng(0)
    path = tmp_path / "data.npz"
    np.savez(path, x_train=rng.integers(0, 256, shape, dtype=np.uint8), y_train=np.arange(40) % 2)
    data = load_dataset("mine", {"file": str(path), "test_size": 10})
    assert data.x_train.dtype == data.x_test.dtype == dtype and data.input_shape == stored


def test_parquet_vectors_split_by_test_size(tmp_path):
    x, y = blobs(50, (3,), classes=2)
    table = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "target": y})
    path = tmp_path / "table.parquet"
    table.to_parquet(path)
    data = load_dataset("mine", {"file": str(path), "label_column": "target", "test_size": 10})
    assert data.input_shape == (3,) and len(data.y_test) == 10 and data.num_classes == 2
    row = data.x_train[0]
    match = table[(table[["a", "b", "c"]].to_numpy() == row.numpy()).all(axis=1)]
    assert len(match) == 1 and match["target"].item() == data.y_train[0].item()


def test_parquet_images_with_a_split_column_and_chosen_features(tmp_path):
    x, y = blobs(40, (2, 2), classes=2)
    table = pd.DataFrame(x.reshape(40, 4), columns=["p0", "p1", "p2", "p3"])
    table["label"] = y
    table["split"] = ["train"] * 30 + ["test"] * 10
    table["note"] = "ignored"  # not a feature: the features are listed
    path = tmp_path / "images.parquet"
    table.to_parquet(path)
    options = {
        "file": str(path),
        "feature_columns": ["p0", "p1", "p2", "p3"],
        "split_column": "split",
        "shape": [1, 2, 2],
    }
    data = load_dataset("mine", options)
    assert data.input_shape == (1, 2, 2)
    assert torch.equal(data.x_test.reshape(10, 4), torch.from_numpy(x[30:].reshape(10, 4)))
    assert torch.equal(data.y_train, torch.from_numpy(y[:30]))


def npz(**arrays):
    def write(path):
        np.savez(path, **arrays)

    return write


X, Y = blobs(30, (4,))
X_NAN = X.copy()
X_NAN[3, 1] = np.nan
X_INF = X.copy()
X_INF[0, 0] = np.inf


@pytest.mark.parametrize(
    "write, expected",
    [
        (None, "no such file"),
        (npz(x=X, y=Y), r"missing array\(s\) \['x_train', 'y_train'\]; found \['x', 'y'\]"),
        (npz(x_train=X, y_train=Y[:-1]), "x_train has 30 samples but y_train has 29 labels"),
        (npz(x_train=X, y_train=Y, x_test=X), "x_test and y_test come together"),
        (npz(x_train=X, y_train=Y + 0.5), r"non-integer label\(s\), e.g. 0.5"),
        (npz(x_train=X, y_train=Y - 1), r"negative label\(s\)"),
        (npz(x_train=X, y_train=Y.astype(str)), "labels must be integers"),
        (npz(x_train=X_NAN, y_train=Y), r"x_train holds 1 non-finite value\(s\)"),
        (npz(x_train=X_INF, y_train=Y), r"x_train holds 1 non-finite value\(s\)"),
        (npz(x_train=X, y_train=np.zeros(30, int)), "at least 2 are needed"),
        (npz(x_train=X, y_train=np.where(Y == 1, 2, Y)), r"1 of the classes 0..2 have no .*\[1\]"),
        (
            npz(x_train=X, y_train=Y % 2, x_test=X[:6], y_test=np.arange(6) % 3),
            r"1 of the classes 0..2 have no training sample \(the first: \[2\]\)",
        ),
        # A huge class number is refused at once (no list of a million missing classes).
        (
            npz(x_train=X, y_train=np.r_[Y[:-2], 10**6, 2**40], x_test=X[:6], y_test=Y[:6]),
            "largest label is 1099511627776, but the training split has only 30 samples",
        ),
        (
            npz(x_train=X, y_train=np.r_[Y[:-1], 25], x_test=X[:6], y_test=Y[:6]),
            r"22 of the classes 0..25 have no training sample \(the first: \[3, 4, 5, 6, 7\]\)",
        ),
        (npz(x_train=X + 1j, y_train=Y), "complex64; features must be real numbers"),
        (npz(x_train=X, y_train=Y + 0j), "labels must be integers"),
        (
            npz(x_train=np.r_[X[:-1], X[-1:].astype(float) * 1e300], y_train=Y),
            r"4 value\(s\) beyond float32",
        ),
        (lambda path: path.write_bytes(bytes(range(256)) * 4), r"not a readable \.npz archive"),
        (npz(x_train=X[:, 0], y_train=Y), r"shape \(30,\); allowed: NxD"),
        (npz(x_train=X, y_train=Y, x_test=X[:, :3], y_test=Y), "x_test samples have shape"),
        (npz(x_train=X, y_train=np.r_[Y[:-1], 3]), r"1 class\(es\) have a single sample \(.*\[3\]"),
    ],
)
def test_a_bad_npz_file_is_named_with_its_problem_before_any_job(tmp_path, write, expected):
    path = tmp_path / "bad.npz"
    if write is not None:
        write(path)
    with pytest.raises(ConfigError, match=expected) as error:
        load_study(study_with({"file": str(path)}), CONFIG_SCHEMA)
    assert f"datasets.mine.file: {path}" in str(error.value)


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"label_column": "y"}, "missing column(s) ['y']"),
        ({"feature_columns": ["a", "zz"]}, "missing column(s) ['zz']"),
        ({"feature_columns": ["a", "name"]}, "feature column(s) ['name'] are not numeric"),
        ({"feature_columns": ["a", "b"], "shape": [3]}, "shape [3] holds 3 values per sample"),
        ({"feature_columns": ["a"], "split_column": "name"}, "allowed: ['train', 'test']"),
    ],
)
def test_a_bad_parquet_file_is_named_with_its_problem(tmp_path, options, expected):
    path = tmp_path / "bad.parquet"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "name": "x", "label": Y}).to_parquet(path)
    with pytest.raises(ConfigError, match=re.escape(f"{path}: ")) as error:
        load_study(study_with({"file": str(path), **options}), CONFIG_SCHEMA)
    assert expected in str(error.value)


def test_config_names_declared_datasets_and_checks_the_file_format(tmp_path):
    config = study_with({"file": str(tmp_path / "data.csv")})
    with pytest.raises(ConfigError, match=r"datasets.mine.file.*does not match"):
        load_study(config, CONFIG_SCHEMA)
    config = study_with({"file": "x.npz"})
    config["sweep"][0]["dataset"] = "yours"
    with pytest.raises(ConfigError, match=r"'yours' is not allowed; allowed values: .*'mine'"):
        load_study(config, CONFIG_SCHEMA)
