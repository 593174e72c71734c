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

from ddprune.catalog import source
from ddprune.data import builtin, image_datasets, mnist1d
from ddprune.data.array_files import load_array_file
from ddprune.data.base import Dataset
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
    """Load dataset ``name`` with its config ``options`` (e.g. ``{"n_train": 1000}``)."""
    options = dict(options or {})
    if "file" in options:
        return load_array_file(name, **options)
    builtin_name = source(name, options)
    options.pop("like", None)
    return DATASETS[builtin_name](**options)
