"""FashionMNIST, CIFAR-10, CIFAR-100 (torchvision) and Tiny-ImageNet (an ImageFolder
layout), from a data directory.

Compute nodes are often offline, so jobs never download: a missing file stops the study when
it starts, before any job, with the files it expects and the command that fetches them (with
torchvision's checksums) on a machine that is online --
``python -m ddprune.download NAME --root DIR``.

Images stay uint8 pixels, N x C x H x W (a quarter of float32's memory; they become
standardised floats a batch at a time on the device, :mod:`ddprune.data.feed`). The official
test set (Tiny-ImageNet: its validation set, arranged by class from its annotations file)
is the test set; the training set can be subsampled (``n_train``, stratified by
``split_seed``) for sample-wise studies. Label noise is drawn afterwards, exactly as for
every other dataset.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ddprune.data.base import Dataset
from ddprune.data.torchvision_compat import import_torchvision


@dataclass(frozen=True)
class TorchvisionSource:
    """Where torchvision keeps a dataset under its root, and what it needs there."""

    torchvision_class: str
    files: tuple[str, ...]
    num_classes: int


def _under(folder: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{folder}/{name}" for name in names)


SOURCES = {
    "fashion-mnist": TorchvisionSource(
        "FashionMNIST",
        _under(
            "FashionMNIST/raw",
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ),
        10,
    ),
    "cifar10": TorchvisionSource(
        "CIFAR10",
        _under(
            "cifar-10-batches-py",
            *(f"data_batch_{i}" for i in range(1, 6)),
            "test_batch",
            "batches.meta",
        ),
        10,
    ),
    "cifar100": TorchvisionSource(
        "CIFAR100", _under("cifar-100-python", "train", "test", "meta"), 100
    ),
}


TINY_IMAGENET = "tiny-imagenet-200"
# Every dataset's required files (relative to its root), checked before any job starts.
REQUIRED = {
    **{name: source.files for name, source in SOURCES.items()},
    "tiny-imagenet": _under(TINY_IMAGENET, "wnids.txt", "val/val_annotations.txt"),
}


class DataMissingError(FileNotFoundError):
    """A dataset's files are not in its data directory."""


def missing_files(name: str, root: str | Path) -> list[Path]:
    return [Path(root) / f for f in REQUIRED[name] if not (Path(root) / f).is_file()]


def require_files(name: str, root: str | Path) -> None:
    """Raise a :class:`DataMissingError` naming the missing files and how to fetch them."""
    missing = missing_files(name, root)
    if missing:
        listed = ", ".join(str(p) for p in missing)
        raise DataMissingError(
            f"{name}: {len(missing)} file(s) missing under {root}: {listed}. Fetch them on a "
            f"machine with internet (e.g. a login node): python -m ddprune.download {name} "
            f"--root {root}"
        )


def load_torchvision(
    name: str, root: str = "data", n_train: int | None = None, split_seed: int = 0
) -> Dataset:
    """Load ``name`` from ``root`` (torchvision's layout), never downloading."""
    require_files(name, root)
    source = SOURCES[name]
    loader = getattr(import_torchvision().datasets, source.torchvision_class)
    train, test = (loader(root, train=split, download=False) for split in (True, False))
    train_split = (_images(train.data), np.asarray(train.targets, dtype=np.int64))
    test_split = (_images(test.data), np.asarray(test.targets, dtype=np.int64))
    return _dataset(name, train_split, test_split, source.num_classes, n_train, split_seed)


def load_tiny_imagenet(
    root: str = "data", n_train: int | None = None, split_seed: int = 0
) -> Dataset:
    """Tiny-ImageNet (200 classes, 64x64): train/ and the validation images arranged by
    class, both read as torchvision ImageFolders with the same class indices."""
    require_files("tiny-imagenet", root)
    datasets = import_torchvision().datasets
    base = Path(root) / TINY_IMAGENET
    train = datasets.ImageFolder(base / "train")
    val = datasets.ImageFolder(arrange_validation_by_class(base))
    if val.class_to_idx != train.class_to_idx:
        raise ValueError(f"tiny-imagenet: the classes of {base}/val differ from those of train")
    return _dataset(
        "tiny-imagenet", _read(train), _read(val), len(train.classes), n_train, split_seed
    )


def arrange_validation_by_class(base: Path) -> Path:
    """``val/by_class/<wnid>/<image>`` links, from ``val/val_annotations.txt`` (once).

    Built in a private folder and renamed into place, so that jobs that start together
    never see a half-built tree.
    """
    target = base / "val" / "by_class"
    if target.is_dir():
        return target
    building = Path(tempfile.mkdtemp(prefix=".by_class.", dir=base / "val"))
    for line in (base / "val" / "val_annotations.txt").read_text().splitlines():
        image, wnid = line.split("\t")[:2]
        (building / wnid).mkdir(exist_ok=True)
        (building / wnid / image).symlink_to(os.path.join("..", "..", "images", image))
    try:
        building.rename(target)
    except OSError:  # another job got there first
        shutil.rmtree(building)
    return target


def _read(folder) -> tuple[np.ndarray, np.ndarray]:
    """An ImageFolder's images (RGB, uint8, N x C x H x W) and class indices."""
    images = [np.asarray(folder.loader(path).convert("RGB")) for path, _ in folder.samples]
    return _images(np.stack(images)), np.asarray(folder.targets, dtype=np.int64)


def _dataset(
    name: str,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
    num_classes: int,
    n_train: int | None,
    split_seed: int,
) -> Dataset:
    (x_train, y_train), (x_test, y_test) = train, test
    if n_train is not None:
        x_train, y_train = _subsample(name, x_train, y_train, n_train, split_seed)
    return Dataset.from_arrays(name, x_train, y_train, x_test, y_test, num_classes)


def _images(data: np.ndarray | torch.Tensor) -> np.ndarray:
    """torchvision's uint8 images (N x H x W, or N x H x W x C for CIFAR) as N x C x H x W."""
    array = np.asarray(data, dtype=np.uint8)
    if array.ndim == 3:
        return array[:, None]
    return np.ascontiguousarray(array.transpose(0, 3, 1, 2))


def _subsample(
    name: str, x: np.ndarray, y: np.ndarray, n_train: int, split_seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A stratified subset of ``n_train`` training samples, fixed by ``split_seed``."""
    from sklearn.model_selection import train_test_split

    if n_train > len(y):
        raise ValueError(f"{name}: n_train {n_train} exceeds the {len(y)} training samples")
    if n_train == len(y):
        return x, y
    keep, _ = train_test_split(
        np.arange(len(y)), train_size=n_train, stratify=y, random_state=split_seed
    )
    keep = np.sort(keep)
    return x[keep], y[keep]
