"""Model registry: a model family is built from a single width parameter.

Width is the knob that model-wise double descent sweeps (hidden units for the MLP; the base
channel count ``k`` for the convolutional families). Parameter counts are recorded with
every metric row so that curves can be drawn against capacity as well as against width.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ddprune.foundations.registry import Registry

Builder = Callable[[int, tuple[int, ...], int], nn.Module]
MODELS: Registry[Builder] = Registry("model")
register_model = MODELS.register
model_names = MODELS.names


def build_model(name: str, width: int, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """Build model ``name`` at ``width`` for inputs of ``input_shape`` (without the batch axis).

    A builder is ``builder(width, input_shape, num_classes) -> nn.Module``.
    """
    return MODELS[name](width, tuple(input_shape), num_classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_nonzero_parameters(model: nn.Module) -> int:
    return sum(int(p.count_nonzero()) for p in model.parameters())


@register_model("mlp")
def mlp(width: int, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """One hidden ReLU layer: inputs (flattened) -> width -> classes, PyTorch's default init."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(math.prod(input_shape), width),
        nn.ReLU(),
        nn.Linear(width, num_classes),
    )


def _image_shape(name: str, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """The (channels, height, width) of image inputs, or a clear error for other data."""
    if len(input_shape) != 3:
        raise ValueError(
            f"model {name!r} needs images (channels x height x width); the dataset gives "
            f"inputs of shape {input_shape}. Use model mlp, or a dataset of images."
        )
    return input_shape  # type: ignore[return-value]


class GlobalPool(nn.Module):
    """Average or max over all positions, N x C x H x W -> N x C, for any image size.

    A reduction rather than ``nn.AdaptiveAvgPool2d(1)`` / ``AdaptiveMaxPool2d(1)``, whose CUDA
    backward passes are not deterministic (atomic adds).
    """

    def __init__(self, reduce: str) -> None:
        super().__init__()
        self.reduce = reduce

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3)) if self.reduce == "mean" else x.amax(dim=(2, 3))

    def extra_repr(self) -> str:
        return self.reduce


class PreActBlock(nn.Module):
    """BN-ReLU-conv3x3 twice, with an identity (or 1x1-conv) shortcut (He et al. 2016)."""

    def __init__(self, channels_in: int, channels_out: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(channels_in)
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, 1, padding=1, bias=False)
        self.shortcut = None
        if stride != 1 or channels_in != channels_out:
            self.shortcut = nn.Conv2d(channels_in, channels_out, 1, stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(x))
        # The projection shortcut sees the pre-activated input, as in the reference model.
        shortcut = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv1(out)
        out = self.conv2(F.relu(self.bn2(out)))
        return out + shortcut


@register_model("resnet18k")
def resnet18k(width: int, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """Pre-activation ResNet18 with stage widths [k, 2k, 4k, 8k] (Nakkiran et al. 2019).

    k = 64 is the standard CIFAR ResNet18 (11.17M parameters for 10 classes): a 3x3 stem
    at full resolution, four stages of two blocks, strides 1, 2, 2, 2, global average
    pooling (over any size, so 64x64 Tiny-ImageNet works too) and a linear head.
    """
    channels, _, _ = _image_shape("resnet18k", input_shape)
    widths = [width, 2 * width, 4 * width, 8 * width]
    layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, 1, padding=1, bias=False)]
    previous = width
    for stage, stage_width in enumerate(widths):
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(PreActBlock(previous, stage_width, stride))
            previous = stage_width
    layers += [GlobalPool("mean"), nn.Linear(previous, num_classes)]
    return nn.Sequential(*layers)


@register_model("cnn5k")
def cnn5k(width: int, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """The 5-layer CNN of Nakkiran et al. 2019: four conv3x3-BN-ReLU layers of widths
    [k, 2k, 4k, 8k], 2x2 max pooling after the last three, a global max pool and a linear
    head (k = 64 reaches over 90% on CIFAR-10 with augmentation)."""
    channels, _, _ = _image_shape("cnn5k", input_shape)
    layers: list[nn.Module] = []
    previous = channels
    for index, layer_width in enumerate([width, 2 * width, 4 * width, 8 * width]):
        layers += [
            nn.Conv2d(previous, layer_width, 3, padding=1, bias=False),
            nn.BatchNorm2d(layer_width),
            nn.ReLU(),
        ]
        if index > 0:
            layers.append(nn.MaxPool2d(2))
        previous = layer_width
    layers += [GlobalPool("max"), nn.Linear(previous, num_classes)]
    return nn.Sequential(*layers)
