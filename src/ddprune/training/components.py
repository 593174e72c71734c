"""What a study's :class:`~ddprune.study.hparams.TrainConfig` names, as torch objects: the
optimizer, the learning rate of every step, the precision, the feed and the checkpoint
schedule.

The choices (optimizers, schedules, precisions) are registries whose names a test keeps
equal to the config schema's lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from ddprune.data.augment import Augmentation
from ddprune.data.feed import Feed
from ddprune.data.run_data import RunData
from ddprune.foundations.registry import Registry
from ddprune.study.hparams import Platform, TrainConfig
from ddprune.training.checkpoints import CheckpointSchedule

OPTIMIZERS: Registry[Callable[[nn.Module, TrainConfig], torch.optim.Optimizer]] = Registry(
    "optimizer"
)


def _fused(model: nn.Module) -> bool:
    """Fused optimizer kernels (one per parameter instead of a dozen element-wise passes:
    16-20% of a small network's step on a CPU) where torch has them."""
    return all(p.device.type in ("cpu", "cuda") for p in model.parameters())


OPTIMIZERS.add(
    "adam",
    lambda model, c: torch.optim.Adam(
        model.parameters(), lr=c.lr, weight_decay=c.weight_decay, fused=_fused(model)
    ),
)
OPTIMIZERS.add(
    "sgd",
    lambda model, c: torch.optim.SGD(
        model.parameters(),
        lr=c.lr,
        momentum=c.momentum,
        weight_decay=c.weight_decay,
        fused=_fused(model),
    ),
)
PRECISIONS: Registry[torch.dtype | None] = Registry("precision")
PRECISIONS.add("float32", None)
PRECISIONS.add("bfloat16", torch.bfloat16)
LrSchedule = Callable[[int], float]
# Each schedule, given the config, returns the rate of optimizer step t (None: constant).
LR_SCHEDULES: Registry[Callable[[TrainConfig], LrSchedule | None]] = Registry("lr_schedule")
LR_SCHEDULES.add("constant", lambda c: None)
LR_SCHEDULES.add("inverse_sqrt", lambda c: lambda t: c.lr / math.sqrt(1 + t // c.lr_decay_steps))


def make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    return OPTIMIZERS[config.optimizer](model, config)


def lr_at(config: TrainConfig) -> LrSchedule | None:
    """The learning rate of optimizer step t (from 0), or None when it is constant.

    ``inverse_sqrt`` is Nakkiran et al.'s schedule for the 5-layer CNN with SGD:
    lr / sqrt(1 + floor(t / lr_decay_steps)).
    """
    return LR_SCHEDULES[config.lr_schedule](config)


def autocast(config: TrainConfig) -> torch.dtype | None:
    """bfloat16: forward passes under autocast (weights and optimizer stay float32)."""
    return PRECISIONS[config.precision]


def make_feed(config: TrainConfig, data: RunData, platform: Platform) -> Feed:
    """How a run's model is fed its data on ``platform``."""
    return Feed(
        pixels=data.pixels,
        augmentation=Augmentation.from_config(config.augment, config.crop_padding),
        channels_last=platform.channels_last,
        autocast=autocast(config),
        eval_batch_size=platform.eval_batch_size,
    )


def checkpoint_schedule(config: TrainConfig, platform: Platform) -> CheckpointSchedule:
    """When a loop saves: every ``checkpoint_every`` epochs (part of the run) and, between
    them, every ``platform.checkpoint_minutes`` (resume points only)."""
    return CheckpointSchedule(config.checkpoint_every, platform.checkpoint_minutes)
