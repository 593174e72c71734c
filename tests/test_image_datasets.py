"""torchvision's datasets on small files written here in their real on-disk formats (CIFAR
pickle batches, FashionMNIST idx files): no downloads."""

from __future__ import annotations

import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from conftest import REPO, snakemake
from ddprune import download
from ddprune.data.datasets import load_dataset
from ddprune.data.image_datasets import DataMissingError
from ddprune.data.torchvision_compat import import_torchvision


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_cifar(root: Path, classes: int, per_batch: int, rng) -> dict[str, np.ndarray]:
    """CIFAR-10 (5 train batches + test batch + meta) or CIFAR-100 (train, test, meta)
    pickles in torchvision's layout; returns the images as N x 3 x 32 x 32 uint8."""
    label_key = "labels" if classes == 10 else "fine_labels"
    if classes == 10:
        folder, train_files, test_file = (
            "cifar-10-batches-py",
            [f"data_batch_{i}" for i in range(1, 6)],
            "test_batch",
        )
        meta_file, meta = "batches.meta", {"label_names": [f"c{i}" for i in range(10)]}
    else:
        folder, train_files, test_file = "cifar-100-python", ["train"], "test"
        meta_file, meta = "meta", {"fine_label_names": [f"c{i}" for i in range(100)]}
    directory = root / folder
    directory.mkdir(parents=True)
    images = {"train": [], "test": []}
    for split, names in (("train", train_files), ("test", [test_file])):
        for name in names:
            n = per_batch if split == "train" else per_batch // 2
            data = rng.integers(0, 256, size=(n, 3 * 32 * 32), dtype=np.uint8)
            labels = [int(i % classes) for i in range(n)]
            with open(directory / name, "wb") as handle:
                pickle.dump({"data": data, label_key: labels}, handle)
            images[split].append(data.reshape(n, 3, 32, 32))
    with open(directory / meta_file, "wb") as handle:
        pickle.dump(meta, handle)
    return {split: np.concatenate(parts) for split, parts in images.items()}


@pytest.fixture
def cifar_checksums(monkeypatch):
    """torchvision verifies each CIFAR file's MD5 against the official release; our small
    files get their own MD5s registered (the loading code itself is untouched)."""

    def register(name: str, root: Path) -> None:
        cls = getattr(import_torchvision().datasets, name)
        folder = root / cls.base_folder
        for attribute in ("train_list", "test_list"):
            listed = [[f, md5(folder / f)] for f, _ in getattr(cls, attribute)]
            monkeypatch.setattr(cls, attribute, listed)
        monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5(folder / cls.meta["filename"])})

    return register


@pytest.mark.parametrize(
    ("name", "torchvision_name", "classes"),
    [("cifar10", "CIFAR10", 10), ("cifar100", "CIFAR100", 100)],
)
def test_cifar_pickles_load_as_channels_first_uint8_pixels(
    tmp_path, cifar_checksums, name, torchvision_name, classes
):
    images = write_cifar(
        tmp_path, classes, per_batch=200 if classes == 100 else 40, rng=np.random.default_rng(0)
    )
    cifar_checksums(torchvision_name, tmp_path)
    data = load_dataset(name, {"root": str(tmp_path)})
    assert data.x_train.shape == (len(images["train"]), 3, 32, 32) and data.num_classes == classes
    assert data.x_train.dtype == data.x_test.dtype == torch.uint8
    np.testing.assert_array_equal(data.x_train.numpy(), images["train"])
    np.testing.assert_array_equal(data.x_test.numpy(), images["test"])
    assert data.y_train.tolist()[:3] == [0, 1, 2]


def write_idx(path: Path, array: np.ndarray) -> None:
    """An idx file as LeCun's MNIST format (magic: 0x08 = uint8, then the dimension count)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_idx_files_load_with_a_stratified_subsample(tmp_path):
    rng = np.random.default_rng(1)
    raw = tmp_path / "FashionMNIST" / "raw"
    train_images = rng.integers(0, 256, size=(300, 28, 28), dtype=np.uint8)
    write_idx(raw / "train-images-idx3-ubyte", train_images)
    write_idx(raw / "train-labels-idx1-ubyte", np.arange(300) % 10)
    write_idx(raw / "t10k-images-idx3-ubyte", rng.integers(0, 256, size=(50, 28, 28)))
    write_idx(raw / "t10k-labels-idx1-ubyte", np.arange(50) % 10)

    full = load_dataset("fashion-mnist", {"root": str(tmp_path)})
    assert full.x_train.shape == (300, 1, 28, 28) and full.x_test.shape == (50, 1, 28, 28)
    np.testing.assert_array_equal(full.x_train[:, 0].numpy(), train_images)

    options = {"root": str(tmp_path), "n_train": 100, "split_seed": 3}
    subset, again = load_dataset("fashion-mnist", options), load_dataset("fashion-mnist", options)
    assert len(subset.y_train) == 100 and np.bincount(subset.y_train.numpy()).tolist() == [10] * 10
    assert subset.sha256 == again.sha256 != full.sha256
    other = load_dataset("fashion-mnist", {**options, "split_seed": 4})
    assert other.sha256 != subset.sha256
    assert subset.x_test.equal(full.x_test), "the test set is the official one, whole"


def test_missing_files_stop_a_run_before_any_job_but_not_a_dry_run(tmp_path):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["study"] = "cifar"
    config["datasets"] = {"cifar10": {"root": "data"}}
    config["sweep"][0].update(dataset="cifar10", model="cnn5k", widths=[1, 2])
    configfile = tmp_path / "cifar.yaml"
    configfile.write_text(yaml.safe_dump(config))
    planned = snakemake(tmp_path, "--cores", "1", "--dry-run", configfile=configfile)
    assert planned.returncode == 0, planned.stderr[-3000:]
    assert "train" in planned.stdout
    result = snakemake(tmp_path, "--cores", "1", configfile=configfile)
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "datasets.cifar10" in message and "data_batch_1" in message
    assert "python -m ddprune.download cifar10 --root data" in message
    assert not (tmp_path / "results").exists(), "no job ran"
    with pytest.raises(DataMissingError, match="7 file"):
        load_dataset("cifar10", {"root": str(tmp_path)})


def test_the_download_command_says_when_the_machine_is_offline(tmp_path, monkeypatch, capsys):
    def offline(name, root):
        raise OSError("[Errno -2] Name or service not known")

    monkeypatch.setattr(download, "download", offline)
    assert download.main(["cifar100", "--root", str(tmp_path)]) == 2
    assert "is this machine online?" in capsys.readouterr().err


def write_tiny_imagenet(root: Path, wnids: list[str], per_class: int) -> None:
    """The released layout: train/<wnid>/images/*.JPEG, val/images/*.JPEG and
    val/val_annotations.txt (image, wnid, box). Each class has its own flat colour."""
    from PIL import Image

    base = root / "tiny-imagenet-200"
    (base / "val" / "images").mkdir(parents=True)
    (base / "wnids.txt").write_text("\n".join(wnids) + "\n")
    annotations = []
    for index, wnid in enumerate(wnids):
        colour = (60 * index, 255 - 60 * index, 128)
        (base / "train" / wnid / "images").mkdir(parents=True)
        for i in range(per_class):
            image = Image.new("RGB", (64, 64), colour)
            image.save(base / "train" / wnid / "images" / f"{wnid}_{i}.JPEG")
        name = f"val_{index}.JPEG"
        Image.new("RGB", (64, 64), colour).save(base / "val" / "images" / name)
        annotations.append(f"{name}\t{wnid}\t0\t0\t63\t63")
    # Annotations in another order than the classes, as in the release.
    (base / "val" / "val_annotations.txt").write_text("\n".join(reversed(annotations)) + "\n")


def test_tiny_imagenet_validation_images_are_arranged_by_class_from_the_annotations(tmp_path):
    wnids = ["n01443537", "n01629819", "n01641577"]
    write_tiny_imagenet(tmp_path, wnids, per_class=4)
    data = load_dataset("tiny-imagenet", {"root": str(tmp_path)})
    assert data.x_train.shape == (12, 3, 64, 64) and data.x_test.shape == (3, 3, 64, 64)
    assert data.num_classes == 3 and data.y_train.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    # each validation image carries the label of its annotated class: the colour agrees
    for image, label in zip(data.x_test, data.y_test.tolist(), strict=True):
        red = float(image[0].float().mean())
        assert abs(red - 60 * label) < 4, (label, red)
    by_class = tmp_path / "tiny-imagenet-200" / "val" / "by_class"
    assert sorted(p.name for p in by_class.iterdir()) == wnids
    again = load_dataset("tiny-imagenet", {"root": str(tmp_path)})  # the tree is reused
    assert again.sha256 == data.sha256
