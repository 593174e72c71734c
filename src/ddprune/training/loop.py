"""The one training loop: dense runs and the retraining of pruned networks both go through
:func:`train`, so that a pruned network is trained exactly as the dense ones were, by
construction.

The hot loop (:func:`train_epoch`) is deliberately bare -- index into device-resident
tensors, forward, backward, step -- so that its throughput matches a hand-written PyTorch
loop (``benchmarks/train_step.py`` measures the ratio). Everything else happens between
epochs, in :func:`train`: the evaluation cadence, the stop test and the save schedule are
decided there, once; what an evaluation records and what a save writes are the caller's
hooks (as in OpenLTH's ``training/train.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from ddprune.data.feed import Feed
from ddprune.data.run_data import RunData
from ddprune.study.hparams import TrainConfig
from ddprune.training.checkpoints import CheckpointSchedule
from ddprune.training.components import LrSchedule
from ddprune.training.evaluation import evaluate

SaveKind = Literal["periodic", "resume", "end"]


class Masking(Protocol):
    """Exact masks on a model's weights (:class:`ddprune.pruning.masks.MaskedWeights`),
    already applied to the weights: the loop masks the gradients before every step."""

    def apply_to_gradients(self) -> None: ...


@dataclass
class Progress:
    """Where a training loop stands; with the model, the optimizer and the data-order
    generator it is all that resuming needs. ``metrics`` are those of the last evaluation
    (None before the first); ``best`` is the lowest validation error evaluated so far and its
    epoch (the earliest among ties: what early stopping chooses and ``patience`` measures a
    stall from)."""

    epoch: int = 0
    step: int = 0
    metrics: dict[str, Any] | None = None
    best: tuple[float, int] | None = None

    def evaluated(self, metrics: dict[str, Any]) -> None:
        """Record an evaluation of the model as it is at ``epoch`` (a NaN validation error,
        of a diverged model, is never a new low)."""
        self.metrics = metrics
        error = metrics["val_error"]
        if not math.isnan(error) and (self.best is None or error < self.best[0]):
            self.best = (error, self.epoch)

    @property
    def at_best(self) -> bool:
        """Whether the model as it is now is the lowest validation error so far."""
        return self.best is not None and self.best[1] == self.epoch

    def finished(self, config: TrainConfig, max_epochs: int, patience: int | None = None) -> bool:
        """The budget is spent, the training labels are fit, training diverged, or (with
        ``patience``) the validation error has not reached a new low for that many epochs."""
        metrics = self.metrics
        if self.epoch >= max_epochs or metrics["diverged"]:
            return True
        stop = config.stop_at_train_error
        if stop is not None and metrics["train_error"] <= stop:
            return True
        best = self.best
        return patience is not None and best is not None and self.epoch - best[1] >= patience


# AVX-512 CPUs: torch's log-softmax over a last dimension that is not a multiple of 16 takes
# 150 us for 1,000 x 10 logits against 16 us for 1,000 x 16 (and 19 us with its AVX2 kernels):
# at ten classes it was a third of a small network's training step. Padded with -inf columns
# (exp(-inf) = 0) the loss and the gradients of the real logits are the same up to rounding.
LANES = 16


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The training loss: cross-entropy, its logits padded on the CPU to a multiple of
    :data:`LANES` classes (see there)."""
    classes = logits.shape[-1]
    if logits.device.type == "cpu" and classes % LANES:
        logits = F.pad(logits, (0, LANES - classes % LANES), value=float("-inf"))
    return F.cross_entropy(logits, targets)


def batch_indices(
    n: int, batch_size: int | None, generator: torch.Generator, device: torch.device
) -> Iterator[slice | torch.Tensor]:
    """One epoch of batch indices: the whole set for full batch, else a seeded permutation."""
    if batch_size is None or batch_size >= n:
        yield slice(None)
        return
    order = torch.randperm(n, generator=generator).to(device)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int | None,
    generator: torch.Generator,
    feed: Feed,
    masks: Masking | None = None,
    lr_at: LrSchedule | None = None,
    first_step: int = 0,
) -> int:
    """One pass over the training set; returns the number of optimizer steps taken.

    ``feed`` turns each stored batch into logits (augmenting it from ``generator``). With
    ``masks`` (the weights masked, the optimizer's state zero there) the pruned weights get
    no gradient, so they and their optimizer state stay exactly zero. With
    ``lr_at`` step ``first_step + i`` runs at learning rate ``lr_at(first_step + i)``.
    """
    steps = 0
    for index in batch_indices(len(x), batch_size, generator, x.device):
        loss = cross_entropy(feed.logits(model, x[index], generator), y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if lr_at is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(first_step + steps)
        if masks is not None:
            masks.apply_to_gradients()
        optimizer.step()
        steps += 1
    return steps


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: RunData,
    config: TrainConfig,
    feed: Feed,
    order: torch.Generator,
    schedule: CheckpointSchedule,
    progress: Progress,
    *,
    max_epochs: int,
    patience: int | None = None,
    masks: Masking | None = None,
    lr_at: LrSchedule | None = None,
    keep_epochs: tuple[int, ...] = (),
    evaluated: Callable[[Progress], None] = lambda progress: None,
    save: Callable[[Progress, SaveKind], None] = lambda progress, kind: None,
) -> Progress:
    """Train under the study's protocol until :meth:`Progress.finished`; returns the progress
    (its metrics are those of the returned model: the last evaluation follows the last step).

    ``patience`` (retraining rounds' ``prune.patience``) also ends training once the
    validation error has stalled. A fresh ``progress`` (no metrics) evaluates the starting
    point first. Every ``config.eval_every`` epochs, and at ``max_epochs``, the model is
    evaluated and ``evaluated`` called. After an epoch, ``save`` is called with ``end`` when
    training has finished, ``periodic`` on the checkpoint schedule (or at ``keep_epochs``),
    ``resume`` when the schedule's wall-time allowance has passed since the last save.
    """
    if progress.metrics is None:
        progress.evaluated(evaluate(model, data, feed))
        evaluated(progress)
    while not progress.finished(config, max_epochs, patience):
        progress.step += train_epoch(
            model,
            optimizer,
            data.x_train,
            data.y_train,
            config.batch_size,
            order,
            feed,
            masks,
            lr_at,
            progress.step,
        )
        progress.epoch += 1
        if progress.epoch % config.eval_every == 0 or progress.epoch == max_epochs:
            progress.evaluated(evaluate(model, data, feed))
            evaluated(progress)
        if progress.finished(config, max_epochs, patience):
            kind = "end"
        elif schedule.periodic(progress.epoch) or progress.epoch in keep_epochs:
            kind = "periodic"
        elif schedule.overdue():
            kind = "resume"
        else:
            continue
        save(progress, kind)
        schedule.saved()
    return progress
