"""From stored samples to logits on the training device, a batch at a time.

Image datasets stay uint8 pixels on the device: a quarter of float32's memory (CIFAR-10's
50,000 training images take 150 MB, Tiny-ImageNet's 100,000 take 1.2 GB), so that even the
largest dataset here lives beside the model and a batch is an index, never a copy from the
host. Only the batch in hand becomes floats: augmented (training only), then standardised
per channel, then laid out as the platform asks, then fed under the run's precision.
Everything is batched tensor work; no per-sample Python runs in the hot loop.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field

import torch
from torch import nn

from ddprune.data.augment import Augmentation


@dataclass(frozen=True)
class PixelScale:
    """uint8 pixels to standardised floats: (x / 255 - mean) / std per channel, as one
    multiply-add with the statistics of the training images (never of the test set)."""

    scale: torch.Tensor  # 1 x C x 1 x 1
    shift: torch.Tensor  # 1 x C x 1 x 1

    @classmethod
    def of(cls, images: torch.Tensor, chunk: int = 4096) -> PixelScale:
        """The statistics of uint8 ``images`` (N x C x H x W), in float64 and in chunks, so
        that they are exact and independent of the device and of the dataset's size."""
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"pixels are uint8 N x C x H x W; got {images.dtype} {images.shape}")
        total = torch.zeros(images.shape[1], dtype=torch.float64)
        squares = torch.zeros_like(total)
        for start in range(0, len(images), chunk):
            block = images[start : start + chunk].to("cpu", torch.float64) / 255
            total += block.sum(dim=(0, 2, 3))
            squares += block.square().sum(dim=(0, 2, 3))
        count = images.numel() // images.shape[1]
        mean = total / count
        std = (squares / count - mean.square()).clamp_min(0).sqrt().clamp_min(1e-3)
        shape = (1, -1, 1, 1)
        return cls(
            scale=(1 / (255 * std)).float().view(shape), shift=(-mean / std).float().view(shape)
        )

    def to(self, device: torch.device) -> PixelScale:
        return PixelScale(self.scale.to(device), self.shift.to(device))

    def __call__(self, pixels: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.shift, pixels.float(), self.scale)


@dataclass(frozen=True)
class Feed:
    """How a model is fed: stored batch -> (augment) -> (standardise) -> (channels_last) ->
    model under (bfloat16 autocast) -> float32 logits.

    ``pixels`` comes from the data, ``augmentation`` and ``autocast`` from the training
    hyper-parameters (they change the numbers), ``channels_last`` and ``eval_batch_size``
    from the platform (they do not).
    """

    pixels: PixelScale | None = None
    augmentation: Augmentation = field(default_factory=Augmentation)
    channels_last: bool = False
    autocast: torch.dtype | None = None
    eval_batch_size: int = 4096

    def inputs(self, batch: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The model's input for a stored batch; augmented only when given the generator
        that the augmentation draws from (training)."""
        if generator is not None and self.augmentation:
            batch = self.augmentation(batch, generator)
        if self.pixels is not None:
            batch = self.pixels(batch)
        if self.channels_last and batch.dim() == 4:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch

    def logits(
        self, model: nn.Module, batch: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """The model's float32 logits for a stored batch (see :meth:`inputs`)."""
        precision = (
            torch.autocast(batch.device.type, dtype=self.autocast)
            if self.autocast is not None
            else nullcontext()
        )
        with precision:
            return model(self.inputs(batch, generator)).float()

    @torch.inference_mode()
    def predict(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Logits for all of ``x`` in large batches, in evaluation mode, unaugmented."""
        was_training = model.training
        model.eval()
        size = self.eval_batch_size
        logits = torch.cat([self.logits(model, x[i : i + size]) for i in range(0, len(x), size)])
        model.train(was_training)
        return logits
