"""Train one dense run, recording a metric row at every evaluation, resumably.

Resuming: a checkpoint holds the model, the optimizer, every RNG the loop draws from and the
metric rows so far. A rerun of a killed job continues from the newest checkpoint and ends
with the same numbers as an uninterrupted run (wall seconds aside).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import torch

from ddprune.data.run_data import RunData
from ddprune.foundations.seeds import derive_seed
from ddprune.models import build_model, count_nonzero_parameters, count_parameters
from ddprune.study.paths import periodic_checkpoint, resume_point
from ddprune.study.runs import Run
from ddprune.training.checkpoints import (
    drop_resume_points,
    list_resumable,
    resume_state,
    save_checkpoint,
    save_resume_point,
)
from ddprune.training.config import TrainConfig
from ddprune.training.evaluation import evaluate
from ddprune.training.loop import Progress, SaveKind, train
from ddprune.training.platform import Platform

log = logging.getLogger(__name__)


def train_run(
    run: Run,
    config: TrainConfig,
    platform: Platform,
    data: RunData,
    *,
    spec: dict[str, Any],
    identity: dict[str, Any],
    checkpoint_dir: str | os.PathLike,
    final_path: str | os.PathLike,
    keep_epochs: tuple[int, ...] = (),
) -> list[dict[str, Any]]:
    """Train (or resume) one run and return its metric rows, one per evaluation.

    ``spec`` is everything that determines the numbers (run, hyper-parameters, data
    options and checksum); checkpoints written under another spec are discarded (see
    :func:`~ddprune.training.checkpoints.resume_state`). ``identity`` holds the columns that
    every metric row carries. Checkpoints are kept every ``config.checkpoint_every`` epochs,
    at epoch 0 (the rewind point of IMP) and at ``keep_epochs`` (another rewind point).
    """
    device = data.x_train.device
    torch.manual_seed(derive_seed("init", run.seed))
    model = build_model(run.model, run.width, data.input_shape, data.num_classes).to(device)
    net, feed = platform.accelerate(model), config.feed(data, platform)
    optimizer = config.optimizer_for(model)
    order = torch.Generator().manual_seed(derive_seed("data-order", run.seed))
    n_params = count_parameters(model)

    progress, wall, rows = Progress(), 0.0, []
    state = resume_state(
        list_resumable(checkpoint_dir), spec, device, on_bad_checkpoint=platform.on_bad_checkpoint
    )
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng_torch"])
        order.set_state(state["rng_order"])
        progress = Progress(state["epoch"], state["step"], state["metrics"])
        wall, rows = state["wall"], state["rows"]
    started = time.perf_counter()

    def record(progress: Progress) -> None:
        nonzero = count_nonzero_parameters(model)
        row = {
            **identity,
            "epoch": progress.epoch,
            "step": progress.step,
            "lr": optimizer.param_groups[0]["lr"],
            **progress.metrics,
            "n_params": n_params,
            "n_nonzero": nonzero,
            "sparsity": 1.0 - nonzero / n_params,
            "wall_seconds": wall + (time.perf_counter() - started),
        }
        rows.append(row)
        log.info(
            "epoch %d step %d: train_error %.4f test_error %.4f test_loss %.4f",
            progress.epoch,
            progress.step,
            row["train_error"],
            row["test_error"],
            row["test_loss"],
        )
        if row["diverged"]:
            log.warning(
                "training diverged at epoch %d (loss is not finite); run stopped", progress.epoch
            )

    def snapshot(progress: Progress) -> dict[str, Any]:
        return {
            "spec": spec,
            "epoch": progress.epoch,
            "step": progress.step,
            "metrics": progress.metrics,
            "wall": wall + (time.perf_counter() - started),
            "rows": rows,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "rng_torch": torch.get_rng_state(),
            "rng_order": order.get_state(),
        }

    def save(progress: Progress, kind: SaveKind) -> None:
        if kind == "resume":
            save_resume_point(snapshot(progress), resume_point(checkpoint_dir, progress.epoch))
        else:  # periodic checkpoints, and the last epoch's, are kept
            save_checkpoint(snapshot(progress), periodic_checkpoint(checkpoint_dir, progress.epoch))

    schedule = config.schedule(platform)
    if progress.metrics is None:  # a fresh start: record and keep the initialisation
        progress.metrics = evaluate(net, data, feed)
        record(progress)
        save(progress, "periodic")
    progress = train(
        net,
        optimizer,
        data,
        config,
        feed,
        order,
        schedule,
        progress,
        max_epochs=config.max_epochs,
        lr_at=config.lr_at(),
        keep_epochs=keep_epochs,
        evaluated=record,
        save=save,
    )
    save_checkpoint(snapshot(progress), final_path)
    drop_resume_points(checkpoint_dir)
    return rows
