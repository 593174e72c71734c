"""Every dataset by name: the built-in ones registered here, explicitly, and those a config
declares with a ``file`` (read by :mod:`ddprune.data.array_files`).

A loader returns the *clean* labels; label noise is applied afterwards by
:mod:`ddprune.data.noise`, identically for every dataset. A new dataset is one line below
and an options block under ``datasets`` in the config schema (a test keeps the two in step).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ddprune.catalog import is_regression, source
from ddprune.data import builtin, image_datasets, mnist1d
from ddprune.data.array_files import load_array_file
from ddprune.data.base import Dataset
from ddprune.data.splits import hold_out_validation
from ddprune.foundations.registry import Registry

DATASETS: Registry[Callable[..., Dataset]] = Registry("dataset")
DATASETS.add("digits", builtin.load_digits)
DATASETS.add("gaussian-linear", builtin.gaussian_linear)
DATASETS.add("mnist1d", mnist1d.load_mnist1d)
for _name in image_datasets.SOURCES:
    DATASETS.add(_name, functools.partial(image_datasets.load_torchvision, _name))
DATASETS.add("tiny-imagenet", image_datasets.load_tiny_imagenet)
dataset_names = DATASETS.names


def load_dataset(name: str, options: dict[str, Any] | None = None) -> Dataset:
    """Load dataset ``name`` with its config ``options`` (e.g. ``{"n_train": 1000}``).

    ``n_validation`` samples are held out of what the loader offers for training; where the
    loader subsamples (``n_train``), it is asked for ``n_train + n_validation``, so that
    ``n_train`` stays the size of the training set (:mod:`ddprune.data.splits`). Regression
    data are generated, and draw a validation sample of their own.
    """
    options = dict(options or {})
    if is_regression(name, options):
        return DATASETS[source(name, options)](**without(options, "like"))
    n_validation = options.pop("n_validation", 0)
    if n_validation >= 1 and options.get("n_train") is not None:
        options["n_train"] += n_validation
    if "file" in options:
        dataset = load_array_file(name, **options)
    else:
        dataset = DATASETS[source(name, options)](**without(options, "like"))
    return hold_out_validation(dataset, n_validation, options.get("split_seed", 0))


def without(options: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k != key}
