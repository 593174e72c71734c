"""MNIST-1D, generated offline by its package: every CPU's correct generation is accepted
(numpy's SIMD kernels round differently from CPU to CPU), a changed one is refused, and a
study stops before any job when the generator is missing or changed."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from ddprune.data import mnist1d
from ddprune.data.datasets import load_dataset
from ddprune.study import ConfigError, require_data


@pytest.fixture(scope="module")
def published() -> tuple[np.ndarray, ...]:
    mnist1d.mnist1d_arrays.cache_clear()
    return mnist1d.mnist1d_arrays()


@pytest.fixture(autouse=True)
def fresh_cache():
    yield
    mnist1d.mnist1d_arrays.cache_clear()


def simd_features() -> list[str]:
    """numpy's dispatched SIMD targets that this CPU has (its newest kernels)."""
    from numpy._core import _multiarray_umath as umath

    return [name for name in umath.__cpu_dispatch__ if umath.__cpu_features__.get(name)]


GENERATE = (
    "import hashlib, numpy as np; from ddprune.data import mnist1d; "
    "arrays = mnist1d.generate(); "
    "print(hashlib.sha256(b''.join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest())"
)


def test_every_cpus_generation_is_accepted():
    """Generated with numpy's newest kernels and with all of them disabled (the baseline
    kernels an older CPU runs): both pass the check, whether or not their bytes differ (on
    an AVX-512 machine they do)."""
    features = simd_features()
    if not features:
        pytest.skip("numpy dispatches no SIMD kernels beyond its baseline on this CPU")
    digests = []
    for disabled in ("", " ".join(features)):
        env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": disabled}
        done = subprocess.run(
            [sys.executable, "-c", GENERATE], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"NPY_DISABLE_CPU_FEATURES={disabled!r}:\n{done.stderr}"
        digests.append(done.stdout.strip())
    print(f"bytes with {features} / without: {digests} (differ: {digests[0] != digests[1]})")


def test_one_ulp_either_way_is_accepted(published):
    for direction in (np.inf, -np.inf):
        nudged = tuple(np.nextafter(a, direction) if a.dtype.kind == "f" else a for a in published)
        floats = zip(nudged[::2], published[::2], strict=True)
        assert all(not np.array_equal(a, b) for a, b in floats)
        assert mnist1d.differences(nudged) == []


def changed(published, name: str, change) -> tuple[np.ndarray, ...]:
    arrays = {key: a.copy() for key, a in zip(mnist1d.ARRAYS, published, strict=True)}
    change(arrays[name])
    return tuple(arrays[key] for key in mnist1d.ARRAYS)


def test_a_changed_value_sample_or_label_is_refused(published):
    def bump(x):
        x[17, 5] += 2e-6  # one value, just above the tolerance

    def swap(x):
        x[[3, 4]] = x[[4, 3]]  # two samples trade places

    def relabel(y):
        y[0] = (y[0] + 1) % 10

    (found,) = mnist1d.differences(changed(published, "x", bump))
    assert found.startswith("x: other features (a sum differs by ")
    assert mnist1d.differences(changed(published, "x_test", swap))[0].startswith("x_test: other")
    assert mnist1d.differences(changed(published, "y_test", relabel))[0].startswith(
        "y_test: other labels"
    )
    assert mnist1d.differences(published[:1] * 2 + published[2:]) == [
        "y: shape (4000, 40), expected (4000,)"
    ]


def test_a_different_generator_argument_is_refused(monkeypatch):
    import mnist1d.data as package

    defaults = package.get_dataset_args

    def changed_args():
        args = defaults()
        args.corr_noise_scale *= 1.01  # the same shapes, other features
        return args

    monkeypatch.setattr(package, "get_dataset_args", changed_args)
    with pytest.raises(mnist1d.Mnist1dError) as error:
        mnist1d.generate()
    message = str(error.value)
    assert "x: other features" in message and "x_test: other features" in message
    assert "this is the pinned version" in message  # not "install the version you have"


def test_mnist1d_loads_as_published():
    data = load_dataset("mnist1d", {})
    assert data.x_train.shape == (4_000, 40) and data.x_test.shape == (1_000, 40)
    assert data.x_train.dtype == torch.float32 and data.num_classes == 10
    assert data.sha256 == mnist1d.IDENTITY  # the same on every CPU
    subset = load_dataset("mnist1d", {"n_train": 1_000, "split_seed": 3})
    assert len(subset.y_train) == 1_000 and torch.equal(subset.x_test, data.x_test)
    assert subset.sha256 not in {data.sha256, load_dataset("mnist1d", {"n_train": 999}).sha256}
    expected = torch.bincount(data.y_train) / 4  # stratified: the full set's proportions
    assert (torch.bincount(subset.y_train) - expected).abs().max() <= 1


def test_mnist1d_is_kept_once_and_a_damaged_or_changed_copy_is_rebuilt(
    tmp_path, monkeypatch, published
):
    mnist1d.mnist1d_arrays(str(tmp_path))
    (kept,) = (tmp_path / "mnist1d").glob("*.npz")
    mnist1d.mnist1d_arrays.cache_clear()
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)  # jobs read it, never generate
    assert load_dataset("mnist1d", {"root": str(tmp_path)}).sha256 == mnist1d.IDENTITY
    monkeypatch.undo()

    def rebuilt() -> bool:
        mnist1d.mnist1d_arrays.cache_clear()
        arrays = mnist1d.mnist1d_arrays(str(tmp_path))
        with np.load(kept) as stored:  # rewritten with the published arrays
            return all(
                np.array_equal(a, b) and np.array_equal(stored[name], b)
                for name, a, b in zip(mnist1d.ARRAYS, arrays, published, strict=True)
            )

    with np.load(kept) as stored:
        arrays = {name: stored[name].copy() for name in mnist1d.ARRAYS}
        checksum = str(stored["sha256"])
    arrays["y"][0] = (arrays["y"][0] + 1) % 10
    np.savez(kept, sha256=checksum, **arrays)  # damaged: the bytes miss their checksum
    assert rebuilt()
    from ddprune.data.base import arrays_sha256

    np.savez(kept, sha256=arrays_sha256(*arrays.values()), **arrays)  # intact but changed
    assert rebuilt()
    kept.write_bytes(b"not a zip")
    assert rebuilt()


def sweep(dataset: str, root) -> dict:
    return {"sweep": [{"dataset": dataset}], "datasets": {dataset: {"root": str(root)}}}


def test_a_changed_mnist1d_generator_stops_the_study_before_any_job(monkeypatch, tmp_path):
    monkeypatch.setitem(mnist1d.REFERENCE, "y", ((4000,), "0" * 64))
    with pytest.raises(ConfigError, match=r"datasets.mnist1d: mnist1d .* generated other data"):
        require_data(sweep("mnist1d", tmp_path))


def test_a_missing_mnist1d_package_is_named(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)  # import fails as if absent
    with pytest.raises(ConfigError, match="pip install mnist1d"):
        require_data(sweep("mnist1d", tmp_path))
