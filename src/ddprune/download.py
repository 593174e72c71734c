"""Fetch a dataset into its data directory, with torchvision's checksums.

Meant for a machine with internet (a cluster's login node), before the study runs on
compute nodes that may be offline; jobs themselves never download::

    python -m ddprune.download cifar10 --root data

Fashion-MNIST also installs from a local directory, offline, verified by content
(:mod:`ddprune.data.fashion_mnist_files`); without ``--from`` it takes Debian's
``dataset-fashion-mnist`` package when that is installed::

    python -m ddprune.download fashion-mnist --from DIR --root data
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ddprune.data import fashion_mnist_files
from ddprune.data.image_datasets import (
    REQUIRED,
    SOURCES,
    TINY_IMAGENET,
    arrange_validation_by_class,
    missing_files,
)
from ddprune.data.torchvision_compat import import_torchvision

# The Stanford CS231n release (not in torchvision), checked by its MD5.
TINY_IMAGENET_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
TINY_IMAGENET_MD5 = "90528d7ca1a48142e341f4ef8d21d0de"


def download(name: str, root: str) -> None:
    """Download (and verify) ``name`` under ``root``; a no-op when it is there."""
    torchvision = import_torchvision()
    if name == "tiny-imagenet":
        if missing_files(name, root):
            torchvision.datasets.utils.download_and_extract_archive(
                TINY_IMAGENET_URL, root, md5=TINY_IMAGENET_MD5
            )
        arrange_validation_by_class(Path(root) / TINY_IMAGENET)
        return
    loader = getattr(torchvision.datasets, SOURCES[name].torchvision_class)
    for train in (True, False):
        loader(root, train=train, download=True)


def local_source(name: str, directory: str | None) -> Path | None:
    """The local directory to install ``name`` from: ``--from``, or Debian's package's."""
    if directory is not None:
        if name != "fashion-mnist":
            raise SystemExit(f"--from: only fashion-mnist installs from a directory, not {name}")
        return Path(directory)
    if name == "fashion-mnist" and fashion_mnist_files.DEBIAN_DIRECTORY.is_dir():
        return fashion_mnist_files.DEBIAN_DIRECTORY
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ddprune.download",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", choices=sorted(REQUIRED))
    parser.add_argument("--root", default="data", help="data directory (default: data)")
    parser.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        help="install fashion-mnist's four idx files (.gz or not) from DIR, offline",
    )
    arguments = parser.parse_args(argv)
    source = local_source(arguments.name, arguments.source)
    if source is not None:
        print(f"{arguments.name}: installing the files of {source} (checked by content)")
        try:
            fashion_mnist_files.install(source, arguments.root)
        except fashion_mnist_files.FashionMnistFileError as error:
            print(f"{arguments.name}: {error}", file=sys.stderr)
            return 2
        print(f"{arguments.name}: all files present under {arguments.root}")
        return 0
    try:
        download(arguments.name, arguments.root)
    except OSError as error:  # urllib's URLError included: no route to the dataset's host
        print(
            f"{arguments.name}: download failed ({error}); is this machine online?", file=sys.stderr
        )
        return 2
    missing = missing_files(arguments.name, arguments.root)
    if missing:
        print(f"still missing after the download: {missing}", file=sys.stderr)
        return 1
    print(f"{arguments.name}: all files present under {arguments.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
