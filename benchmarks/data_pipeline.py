"""Training throughput of ResNet18-k on CIFAR-shaped data: ddprune's device-resident
pipeline vs a torchvision DataLoader with per-sample transforms, on the same model.

* ddprune: the training set is one uint8 tensor on the training device; each batch is
  indexed, cropped (padding 4), flipped and standardised on the device in batched calls
  (:mod:`ddprune.data.feed`), inside :func:`ddprune.training.loop.train_epoch`.
* DataLoader: the usual recipe -- uint8 HWC images, torchvision's RandomCrop(32, padding=4),
  RandomHorizontalFlip, ToTensor and Normalize per sample in ``--workers`` worker processes,
  batches copied to the device (pinned memory on CUDA).

Both run the same number of optimizer steps of Adam on the same model and batch size,
alternating, ``--repeats`` times each; the ratio of the median images per second is printed
per k (goals: >= 3x on a GPU, >= 1.5x on a CPU). ``--channels-last``, ``--bf16`` and
``--compile`` apply the platform's speed switches to both pipelines' model. Usage:

    python benchmarks/data_pipeline.py [--ks 1 4 16] [--images 2048] [--batch-size 128]
        [--epochs 1] [--repeats 3] [--workers 2] [--device auto]
        [--channels-last] [--bf16] [--compile]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ddprune.data.augment import Augmentation
from ddprune.data.feed import Feed, PixelScale
from ddprune.data.torchvision_compat import import_torchvision
from ddprune.models import build_model
from ddprune.study.hparams import Platform
from ddprune.training.loop import train_epoch
from ddprune.training.platform import accelerate, resolve_device


class UInt8Images(torch.utils.data.Dataset):
    """CIFAR-like storage (N x 32 x 32 x 3 uint8, as torchvision's CIFAR10.data) + a transform."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform) -> None:
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        return self.transform(self.images[index]), int(self.labels[index])


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def dataloader_seconds(model, images, labels, device, feed, batch_size, epochs, workers) -> float:
    """Seconds for ``epochs`` of the DataLoader recipe; ``feed`` only lays out the batch
    and sets the precision, as the same switches would in a hand-written loop."""
    transforms = import_torchvision().transforms
    mean = images.reshape(-1, 3).mean(axis=0) / 255
    std = images.reshape(-1, 3).std(axis=0) / 255
    transform = transforms.Compose(
        [
            transforms.ToPILImage(),
            transforms.RandomCrop(32, padding=4),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            transforms.Normalize(mean.tolist(), std.tolist()),
        ]
    )
    loader = torch.utils.data.DataLoader(
        UInt8Images(images, labels, transform),
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=workers > 0,
        generator=torch.Generator().manual_seed(0),
    )
    plain = Feed(channels_last=feed.channels_last, autocast=feed.autocast)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    next(iter(loader))  # start the workers before timing
    synchronize(device)
    started = time.perf_counter()
    for _ in range(epochs):
        for x, y in loader:
            x = x.to(device, non_blocking=True)
            y = y.to(device, non_blocking=True)
            loss = F.cross_entropy(plain.logits(model, x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    synchronize(device)
    return time.perf_counter() - started


def resident_seconds(model, x, y, feed, batch_size, epochs) -> float:
    """Seconds for ``epochs`` of ddprune's loop on the device-resident uint8 images ``x``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    synchronize(x.device)
    started = time.perf_counter()
    for _ in range(epochs):
        train_epoch(model, optimizer, x, y, batch_size, generator, feed)
    synchronize(x.device)
    return time.perf_counter() - started


@dataclass(frozen=True)
class ImageData:
    """The same random CIFAR-shaped images in both pipelines' forms."""

    images: np.ndarray  # N x 32 x 32 x 3 uint8, as torchvision's CIFAR10.data
    labels: np.ndarray
    x: torch.Tensor  # N x 3 x 32 x 32 uint8 on the device
    y: torch.Tensor
    feed: Feed

    @classmethod
    def random(cls, n: int, device: torch.device, channels_last: bool, bf16: bool) -> ImageData:
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n)
        x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous().to(device)
        feed = Feed(
            pixels=PixelScale.of(x).to(device),
            augmentation=Augmentation(crop=True, flip=True, padding=4),
            channels_last=channels_last,
            autocast=torch.bfloat16 if bf16 else None,
        )
        return cls(images, labels, x, torch.from_numpy(labels).to(device), feed)


def median_seconds(
    k: int,
    data: ImageData,
    platform: Platform,
    batch_size: int,
    epochs: int,
    repeats: int,
    workers: int,
) -> tuple[float, float]:
    """Median seconds of the DataLoader recipe and of ddprune's loop, alternating, on copies
    of one ResNet18-k."""
    device = data.x.device
    torch.manual_seed(0)
    model = build_model("resnet18k", k, (3, 32, 32), 10).to(device)
    loader, resident = [], []
    for _ in range(repeats):
        copies = [accelerate(platform, copy.deepcopy(model)) for _ in range(2)]
        common = (data.feed, batch_size, epochs)
        loader.append(
            dataloader_seconds(copies[0], data.images, data.labels, device, *common, workers)
        )
        resident.append(resident_seconds(copies[1], data.x, data.y, *common))
    return statistics.median(loader), statistics.median(resident)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--compile", action="store_true")
    arguments = parser.parse_args()
    device = resolve_device(arguments.device)
    platform = Platform.of(channels_last=arguments.channels_last, compile=arguments.compile)
    data = ImageData.random(arguments.images, device, arguments.channels_last, arguments.bf16)
    seen = arguments.images * arguments.epochs
    print(
        f"device {device}, torch threads {torch.get_num_threads()}, {arguments.images} images "
        f"x {arguments.epochs} epochs, batch {arguments.batch_size}, {arguments.workers} workers, "
        f"channels_last {arguments.channels_last}, bf16 {arguments.bf16}, "
        f"compile {arguments.compile}"
    )
    print(f"{'k':>4} {'DataLoader img/s':>18} {'ddprune img/s':>15} {'ratio':>7}")
    for k in arguments.ks:
        slow, fast = median_seconds(
            k,
            data,
            platform,
            arguments.batch_size,
            arguments.epochs,
            arguments.repeats,
            arguments.workers,
        )
        print(f"{k:>4} {seen / slow:>18.0f} {seen / fast:>15.0f} {slow / fast:>7.2f}")


if __name__ == "__main__":
    main()
