"""Fashion-MNIST's four idx files, installed from a local directory and verified by content.

Offline machines still have the real data: Debian's ``dataset-fashion-mnist`` package ships
the official files, recompressed -- so the ``.gz`` checksums that torchvision checks when it
downloads differ, while the decompressed bytes are the official ones. This module checks
those bytes (SHA-256 pinned below, then the idx shapes and the 6,000 + 1,000 images per class)
before it writes anything, and writes each file atomically where torchvision's
``FashionMNIST`` reads it (``ROOT/FashionMNIST/raw``).
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np

from ddprune.foundations.atomic import atomic_path

DEBIAN_DIRECTORY = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"
RAW = "FashionMNIST/raw"

# SHA-256 of each decompressed file (Zalando's release, as shipped by Debian's package):
# (sha256, number of samples).
FILES = {
    "train-images-idx3-ubyte": (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        60_000,
    ),
    "train-labels-idx1-ubyte": (
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        60_000,
    ),
    "t10k-images-idx3-ubyte": (
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        10_000,
    ),
    "t10k-labels-idx1-ubyte": (
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        10_000,
    ),
}
CLASSES = 10


class FashionMnistFileError(ValueError):
    """A Fashion-MNIST source file is missing, truncated or not the official one."""


def source_files(directory: str | Path) -> dict[str, Path]:
    """The four files in ``directory``, each found as ``NAME`` or ``NAME.gz``."""
    directory = Path(directory)
    found, missing = {}, []
    for name in FILES:
        candidates = [directory / name, directory / f"{name}.gz"]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            missing.append(name)
        else:
            found[name] = path
    if missing:
        raise FashionMnistFileError(
            f"{directory}: no {', '.join(missing)} (or .gz); point --from at the directory that "
            f"holds the four idx files, or install Debian's {DEBIAN_PACKAGE} "
            f"(apt-get install {DEBIAN_PACKAGE}), which puts them in {DEBIAN_DIRECTORY}"
        )
    return found


def _content(path: Path) -> bytes:
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        return gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as error:
        raise FashionMnistFileError(f"{path}: not a readable gzip file ({error})") from None


def _check_idx(name: str, content: bytes, samples: int) -> None:
    """Shape and class counts, so a file that is merely different says how."""
    images = "images" in name
    header = 16 if images else 8
    expected = header + samples * (28 * 28 if images else 1)
    if len(content) != expected:
        raise FashionMnistFileError(
            f"{name}: {len(content)} bytes, expected {expected} ({samples} "
            f"{'28x28 images' if images else 'labels'}): truncated or another dataset"
        )
    if not images:
        counts = np.bincount(np.frombuffer(content, np.uint8, offset=header), minlength=CLASSES)
        if len(counts) != CLASSES or set(counts) != {samples // CLASSES}:
            raise FashionMnistFileError(
                f"{name}: class counts {counts.tolist()}, expected {samples // CLASSES} of each"
            )


def verified_content(name: str, path: Path) -> bytes:
    """The decompressed bytes of ``path``, if they are the official file ``name``."""
    content = _content(path)
    sha256, samples = FILES[name]
    _check_idx(name, content, samples)
    if hashlib.sha256(content).hexdigest() != sha256:
        raise FashionMnistFileError(
            f"{path}: the decompressed content is not the official {name} (SHA-256 "
            f"{hashlib.sha256(content).hexdigest()}, expected {sha256}); reinstall it from "
            f"{DEBIAN_PACKAGE} or Zalando's release"
        )
    return content


def install(directory: str | Path, root: str | Path) -> list[Path]:
    """Verify all four files of ``directory``, then write them under ``root``.

    Nothing is written unless every file is the official one, so a bad source never leaves
    a half-installed data directory behind.
    """
    files = source_files(directory)
    contents = {name: verified_content(name, path) for name, path in files.items()}
    written = []
    for name, content in contents.items():
        target = Path(root) / RAW / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            Path(tmp).write_bytes(content)
        written.append(target)
    return written
