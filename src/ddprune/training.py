"""Train one run, evaluating and checkpointing on a fixed schedule, resumably.

The hot loop (:func:`train_epoch`) is deliberately bare -- index into device-resident
tensors, forward, backward, step -- so that its throughput matches a hand-written PyTorch
loop (``benchmarks/train_step.py`` measures the ratio). Everything else (evaluation,
checkpoints, bookkeeping) happens between epochs.

Resuming: a checkpoint holds the model, the optimizer, every RNG the loop draws from and the
metric rows so far. A rerun of a killed job continues from the newest checkpoint and ends
with the same numbers as an uninterrupted run (wall seconds aside).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ddprune.augment import Augmentation
from ddprune.checkpoints import (
    CheckpointSchedule,
    drop_resume_points,
    list_resumable,
    resume_point_path,
    resume_state,
    save_checkpoint,
    save_resume_point,
)
from ddprune.data import RunData
from ddprune.evaluation import evaluate
from ddprune.feed import Feed
from ddprune.masks import MaskedWeights
from ddprune.models import build_model, count_nonzero_parameters, count_parameters
from ddprune.platform import Platform
from ddprune.seeds import derive_seed
from ddprune.selection import periodic_path

log = logging.getLogger(__name__)
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}


@dataclass(frozen=True)
class TrainConfig:
    """Training hyper-parameters (the ``train`` section of a study); part of run identity."""

    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.0
    weight_decay: float = 0.0
    batch_size: int | None = None
    max_epochs: int = 3000
    stop_at_train_error: float | None = 0.0
    eval_every: int = 50
    augment: tuple[str, ...] = ()
    crop_padding: int = 4
    lr_schedule: str = "constant"
    lr_decay_steps: int = 512
    precision: str = "float32"

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
        if self.precision not in PRECISIONS:
            raise ValueError(f"train.precision: {self.precision!r}; allowed: {list(PRECISIONS)}")
        return PRECISIONS[self.precision]

    def lr_at(self) -> Callable[[int], float] | None:
        """The learning rate of optimizer step t (from 0), or None when it is constant.

        ``inverse_sqrt`` is Nakkiran et al.'s schedule for the 5-layer CNN with SGD:
        lr / sqrt(1 + floor(t / lr_decay_steps)).
        """
        if self.lr_schedule == "constant":
            return None
        if self.lr_schedule == "inverse_sqrt":
            return lambda t: self.lr / math.sqrt(1 + t // self.lr_decay_steps)
        raise ValueError(
            f"train.lr_schedule: {self.lr_schedule!r}; allowed: constant, inverse_sqrt"
        )


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=config.lr,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
        )
    raise ValueError(f"train.optimizer: {config.optimizer!r}; allowed: adam, sgd")


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


def steps_per_epoch(n: int, batch_size: int | None) -> int:
    """Optimizer steps in one epoch of :func:`batch_indices` (so step = epoch x this)."""
    return 1 if batch_size is None or batch_size >= n else math.ceil(n / batch_size)


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int | None,
    generator: torch.Generator,
    feed: Feed,
    masks: MaskedWeights | None = None,
    lr_at: Callable[[int], float] | None = None,
    first_step: int = 0,
) -> int:
    """One pass over the training set; returns the number of optimizer steps taken.

    ``feed`` turns each stored batch into logits (augmenting it from ``generator``). With
    ``masks`` the pruned weights get no gradient and are zeroed after every step, so they
    are exactly zero whenever anyone looks (and their optimizer state stays zero). With
    ``lr_at`` step ``first_step + i`` runs at learning rate ``lr_at(first_step + i)``.
    """
    steps = 0
    for index in batch_indices(len(x), batch_size, generator, x.device):
        loss = F.cross_entropy(feed.logits(model, x[index], generator), y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if lr_at is not None:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(first_step + steps)
        if masks is not None:
            masks.apply_to_gradients()
        optimizer.step()
        if masks is not None:
            masks.apply_to_weights()
        steps += 1
    return steps


def fit(
    model: nn.Module,
    data: RunData,
    config: TrainConfig,
    max_epochs: int,
    generator: torch.Generator,
    feed: Feed,
    masks: MaskedWeights | None = None,
    lr_at: Callable[[int], float] | None = None,
    resume: dict[str, Any] | None = None,
    save: Callable[[dict[str, Any]], None] | None = None,
    schedule: CheckpointSchedule | None = None,
) -> tuple[int, int, dict[str, float]]:
    """Train with a fresh optimizer under the study's protocol: until the training labels are
    fit (``stop_at_train_error``, checked every ``eval_every`` epochs), ``max_epochs``, or
    divergence (``metrics["diverged"]``).

    Returns (epochs, steps, metrics of the returned model: the last evaluation always comes
    after the last step). Used to retrain pruned models, so that a pruned network is trained
    exactly as the dense ones were; ``lr_at`` gives the rate of each retraining step, as the
    pruning method asks (constant at ``config.lr`` when None). Retraining can take hours, so
    when ``schedule`` says so its state (everything but the model, which the caller holds)
    goes to ``save``, and ``resume`` continues from such a state with the same numbers.
    """
    optimizer = make_optimizer(model, config)
    if resume is None:
        epoch = steps = 0
        metrics = evaluate(model, data, feed)
    else:
        optimizer.load_state_dict(resume["optimizer"])
        generator.set_state(resume["rng_order"])
        epoch, steps, metrics = resume["epoch"], resume["steps"], resume["metrics"]
    while epoch < max_epochs and not _done(metrics, config):
        steps += train_epoch(
            model,
            optimizer,
            data.x_train,
            data.y_train,
            config.batch_size,
            generator,
            feed,
            masks,
            lr_at,
            steps,
        )
        epoch += 1
        if epoch % config.eval_every == 0 or epoch == max_epochs:
            metrics = evaluate(model, data, feed)
        ending = epoch >= max_epochs or _done(metrics, config)  # the caller saves the end
        if save and schedule and not ending and (schedule.periodic(epoch) or schedule.overdue()):
            save(
                {
                    "epoch": epoch,
                    "steps": steps,
                    "metrics": metrics,
                    "optimizer": optimizer.state_dict(),
                    "rng_order": generator.get_state(),
                }
            )
            schedule.saved()
    return epoch, steps, metrics


def _done(metrics: dict[str, Any], config: TrainConfig) -> bool:
    """Training stops once the labels are fit, or once it has diverged (nothing to gain)."""
    if metrics["diverged"]:
        return True
    return config.stop_at_train_error is not None and (
        metrics["train_error"] <= config.stop_at_train_error
    )


def train_run(
    spec: dict[str, Any],
    identity: dict[str, Any],
    width: int,
    model_name: str,
    seed: int,
    config: TrainConfig,
    platform: Platform,
    data: RunData,
    run_dir: str | os.PathLike,
    final_path: str | os.PathLike,
    keep_epochs: tuple[int, ...] = (),
) -> list[dict[str, Any]]:
    """Train (or resume) one run and return its metric rows, one per evaluation.

    ``spec`` is everything that determines the numbers (run, hyper-parameters, data
    options and checksum); checkpoints written under another spec are discarded (see
    :func:`~ddprune.checkpoints.resume_state`). ``identity`` holds the columns that every
    metric row carries. Checkpoints are kept every ``platform.checkpoint_every`` epochs and
    at ``keep_epochs`` (the rewind point of imp-rewind).
    """
    device = data.x_train.device
    checkpoint_dir = Path(run_dir) / "checkpoints"
    torch.manual_seed(derive_seed("init", seed))
    model = build_model(model_name, width, data.input_shape, data.num_classes).to(device)
    net, feed = platform.accelerate(model), config.feed(data, platform)
    optimizer = make_optimizer(model, config)
    order = torch.Generator().manual_seed(derive_seed("data-order", seed))
    n_params = count_parameters(model)

    epoch, step, wall, rows, finished = 0, 0, 0.0, [], False
    state = resume_state(
        list_resumable(checkpoint_dir), spec, device, on_bad_checkpoint=platform.on_bad_checkpoint
    )
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng_torch"])
        order.set_state(state["rng_order"])
        epoch, step, wall, rows = state["epoch"], state["step"], state["wall"], state["rows"]
        finished = state["finished"]

    def record() -> dict[str, Any]:
        nonzero = count_nonzero_parameters(model)
        row = {
            **identity,
            "epoch": epoch,
            "step": step,
            "lr": optimizer.param_groups[0]["lr"],
            **evaluate(net, data, feed),
            "n_params": n_params,
            "n_nonzero": nonzero,
            "sparsity": 1.0 - nonzero / n_params,
            "wall_seconds": wall + (time.perf_counter() - started),
        }
        rows.append(row)
        log.info(
            "epoch %d step %d: train_error %.4f test_error %.4f test_loss %.4f",
            epoch,
            step,
            row["train_error"],
            row["test_error"],
            row["test_loss"],
        )
        if row["diverged"]:
            log.warning("training diverged at epoch %d (loss is not finite); run stopped", epoch)
        return row

    def state() -> dict[str, Any]:
        return {
            "spec": spec,
            "epoch": epoch,
            "step": step,
            "wall": wall + (time.perf_counter() - started),
            "rows": rows,
            "finished": finished,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "rng_torch": torch.get_rng_state(),
            "rng_order": order.get_state(),
        }

    started = time.perf_counter()
    schedule = platform.schedule()
    lr_at = config.lr_at()
    if not rows:
        record()
        save_checkpoint(state(), periodic_path(checkpoint_dir, 0))  # the rewind point of IMP
    while not finished:
        step += train_epoch(
            net,
            optimizer,
            data.x_train,
            data.y_train,
            config.batch_size,
            order,
            feed,
            lr_at=lr_at,
            first_step=step,
        )
        epoch += 1
        if epoch % config.eval_every == 0 or epoch == config.max_epochs:
            finished = _done(record(), config) or epoch >= config.max_epochs
        if finished or schedule.periodic(epoch) or epoch in keep_epochs:
            save_checkpoint(state(), periodic_path(checkpoint_dir, epoch))
            schedule.saved()
        elif schedule.overdue():
            save_resume_point(state(), resume_point_path(checkpoint_dir, epoch))
            schedule.saved()
    save_checkpoint(state(), final_path)
    drop_resume_points(checkpoint_dir)
    return rows
