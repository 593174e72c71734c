"""Training hyper-parameters (the ``train`` section of a study): part of a run's identity.

Defaults and allowed values are the config schema's (:class:`ConfigSection`); the choices
below (optimizers, schedules, precisions) are registries whose names a test keeps equal to
the schema's lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ddprune.data.augment import Augmentation
from ddprune.data.feed import Feed
from ddprune.data.run_data import RunData
from ddprune.foundations.registry import Registry
from ddprune.study.config import ConfigSection
from ddprune.training.checkpoints import CheckpointSchedule
from ddprune.training.platform import Platform

OPTIMIZERS: Registry[Callable[[nn.Module, TrainConfig], torch.optim.Optimizer]] = Registry(
    "optimizer"
)
OPTIMIZERS.add(
    "adam",
    lambda model, c: torch.optim.Adam(model.parameters(), lr=c.lr, weight_decay=c.weight_decay),
)
OPTIMIZERS.add(
    "sgd",
    lambda model, c: torch.optim.SGD(
        model.parameters(), lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay
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


@dataclass(frozen=True)
class TrainConfig(ConfigSection):
    SECTION = "train"

    optimizer: str
    lr: float
    momentum: float
    weight_decay: float
    batch_size: int | None
    max_epochs: int
    stop_at_train_error: float | None
    eval_every: int
    checkpoint_every: int
    augment: tuple[str, ...]
    crop_padding: int
    lr_schedule: str
    lr_decay_steps: int
    precision: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "augment", tuple(self.augment))

    def feed(self, data: RunData, platform: Platform) -> Feed:
        """How this run's model is fed its data on ``platform``."""
        return Feed(
            pixels=data.pixels,
            augmentation=Augmentation.from_config(self.augment, self.crop_padding),
            channels_last=platform.channels_last,
            autocast=self.autocast(),
            eval_batch_size=platform.eval_batch_size,
        )

    def autocast(self) -> torch.dtype | None:
        """bfloat16: forward passes under autocast (weights and optimizer stay float32)."""
        return PRECISIONS[self.precision]

    def lr_at(self) -> LrSchedule | None:
        """The learning rate of optimizer step t (from 0), or None when it is constant.

        ``inverse_sqrt`` is Nakkiran et al.'s schedule for the 5-layer CNN with SGD:
        lr / sqrt(1 + floor(t / lr_decay_steps)).
        """
        return LR_SCHEDULES[self.lr_schedule](self)

    def optimizer_for(self, model: nn.Module) -> torch.optim.Optimizer:
        return OPTIMIZERS[self.optimizer](model, self)

    def schedule(self, platform: Platform) -> CheckpointSchedule:
        """When a loop saves: every ``checkpoint_every`` epochs (part of the run) and, between
        them, every ``platform.checkpoint_minutes`` (resume points only)."""
        return CheckpointSchedule(self.checkpoint_every, platform.checkpoint_minutes)

    def steps_per_epoch(self, n: int) -> int:
        """Optimizer steps in one epoch over ``n`` samples (so step = epoch x this)."""
        return (
            1 if self.batch_size is None or self.batch_size >= n else math.ceil(n / self.batch_size)
        )
