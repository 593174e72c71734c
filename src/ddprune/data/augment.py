"""Data augmentation on the training device, a whole batch at a time.

Nakkiran et al. train ResNet18-k and CNN-k with random crops (padding 4) and horizontal
flips. A torchvision DataLoader does that per sample in Python worker processes; here the
batch never leaves the device: one pad, one gather with per-sample offsets, one masked flip.

The random draws come from the run's data-order generator (a CPU generator, so the same
seed gives the same crops on every device), whose state is in every checkpoint: a resumed
run augments exactly as an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

AUGMENTATIONS = ("crop", "flip")


@dataclass(frozen=True)
class Augmentation:
    """Which augmentations to apply (``train.augment``) and the crop's zero padding."""

    crop: bool = False
    flip: bool = False
    padding: int = 4

    @classmethod
    def from_config(cls, names: tuple[str, ...] | list[str], padding: int) -> Augmentation:
        unknown = sorted(set(names) - set(AUGMENTATIONS))
        if unknown:
            raise ValueError(f"train.augment: {unknown}; allowed: {list(AUGMENTATIONS)}")
        return cls(crop="crop" in names, flip="flip" in names, padding=padding)

    def __bool__(self) -> bool:
        return self.crop or self.flip

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A randomly cropped and/or flipped copy of ``images`` (N x C x H x W), per sample."""
        if images.dim() != 4:
            raise ValueError(
                f"train.augment needs images (N x C x H x W); got a batch of shape "
                f"{tuple(images.shape)}. Remove train.augment for vector data."
            )
        if self.crop:
            images = random_crop(images, self.padding, generator)
        if self.flip:
            images = random_flip(images, generator)
        return images


def random_crop(images: torch.Tensor, padding: int, generator: torch.Generator) -> torch.Tensor:
    """Each image zero-padded by ``padding`` and cropped back to its size at its own offset."""
    n, channels, height, width = images.shape
    offsets = torch.randint(0, 2 * padding + 1, (2, n), generator=generator).to(images.device)
    padded = F.pad(images, (padding, padding, padding, padding))
    rows = (offsets[0, :, None] + torch.arange(height, device=images.device))[:, None, :, None]
    cols = (offsets[1, :, None] + torch.arange(width, device=images.device))[:, None, None, :]
    samples = torch.arange(n, device=images.device)[:, None, None, None]
    planes = torch.arange(channels, device=images.device)[None, :, None, None]
    return padded[samples, planes, rows, cols]


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image mirrored left-right with probability 1/2."""
    flip = torch.rand(len(images), generator=generator).to(images.device) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(-1), images)
