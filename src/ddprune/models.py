"""Model registry: a model family is built from a single width parameter.

Width is the knob that model-wise double descent sweeps (hidden units for the MLP; the base
channel count ``k`` for the convolutional families). Parameter counts are recorded with
every metric row so that curves can be drawn against capacity as well as against width.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from torch import nn

from ddprune.registry import Registry

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
