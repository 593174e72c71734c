"""Training throughput of ResNet18-k on CIFAR-shaped data: ddprune's device-resident
pipeline vs a torchvision DataLoader with per-sample transforms, on the same model.

* ddprune: the training set is one tensor on the training device; each batch is indexed,
  then cropped (padding 4) and flipped on the device in one batched call
  (:mod:`ddprune.augment`), inside :func:`ddprune.training.train_epoch`.
* DataLoader: the usual recipe -- uint8 HWC images, torchvision's RandomCrop(32, padding=4),
  RandomHorizontalFlip and ToTensor per sample in ``--workers`` worker processes, batches
  copied to the device (pinned memory on CUDA).

Both run the same number of optimizer steps of Adam on the same model and batch size,
alternating, ``--repeats`` times each; the ratio of the median images per second is printed
per k (goals: >= 3x on a GPU, >= 1.5x on a CPU). Usage:

    python benchmarks/data_pipeline.py [--ks 1 4 16] [--images 2048] [--batch-size 128]
        [--epochs 1] [--repeats 3] [--workers 2] [--device auto]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from ddprune.augment import Augmentation
from ddprune.models import build_model
from ddprune.platform import resolve_device
from ddprune.torchvision_compat import import_torchvision
from ddprune.training import train_epoch


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


def dataloader_seconds(model, images, labels, device, batch_size, epochs, workers) -> float:
    transforms = import_torchvision().transforms
    transform = transforms.Compose(
        [
            transforms.ToPILImage(),
            transforms.RandomCrop(32, padding=4),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
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
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    next(iter(loader))  # start the workers before timing
    synchronize(device)
    started = time.perf_counter()
    for _ in range(epochs):
        for x, y in loader:
            x = x.to(device, non_blocking=True)
            y = y.to(device, non_blocking=True)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    synchronize(device)
    return time.perf_counter() - started


def resident_seconds(model, images, labels, device, batch_size, epochs) -> float:
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255).to(device)
    y = torch.from_numpy(labels).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    augment = Augmentation(crop=True, flip=True, padding=4)
    synchronize(device)
    started = time.perf_counter()
    for _ in range(epochs):
        train_epoch(model, optimizer, x, y, batch_size, generator, augment=augment)
    synchronize(device)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--device", default="auto")
    arguments = parser.parse_args()
    device = resolve_device(arguments.device)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(arguments.images, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=arguments.images)
    seen = arguments.images * arguments.epochs
    print(
        f"device {device}, torch threads {torch.get_num_threads()}, {arguments.images} images "
        f"x {arguments.epochs} epochs, batch {arguments.batch_size}, {arguments.workers} workers"
    )
    print(f"{'k':>4} {'DataLoader img/s':>18} {'ddprune img/s':>15} {'ratio':>7}")
    for k in arguments.ks:
        torch.manual_seed(0)
        model = build_model("resnet18k", k, (3, 32, 32), 10).to(device)
        common = (images, labels, device, arguments.batch_size, arguments.epochs)
        loader, resident = [], []
        for _ in range(arguments.repeats):
            loader.append(dataloader_seconds(copy.deepcopy(model), *common, arguments.workers))
            resident.append(resident_seconds(copy.deepcopy(model), *common))
        slow, fast = statistics.median(loader), statistics.median(resident)
        print(f"{k:>4} {seen / slow:>18.0f} {seen / fast:>15.0f} {slow / fast:>7.2f}")


if __name__ == "__main__":
    main()
