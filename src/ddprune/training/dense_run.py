"""Train one dense run, recording a metric row at every evaluation, resumably.

Resuming: a checkpoint holds the model, the optimizer, every RNG the loop draws from and the
metric rows so far. A rerun of a killed job continues from the newest checkpoint and ends
with the same numbers as an uninterrupted run (wall seconds aside).
"""

from __future__ import annotations

import logging
import os
from functools import partial
from typing import Any

import torch

from ddprune.data.run_data import RunData
from ddprune.foundations.logs import progress_line
from ddprune.foundations.seeds import derive_seed
from ddprune.models import build_model, count_nonzero_parameters, count_parameters
from ddprune.study.hparams import Platform, TrainConfig
from ddprune.study.paths import periodic_checkpoint, resume_point
from ddprune.study.runs import Run
from ddprune.training.checkpoints import (
    drop_resume_points,
    list_resumable,
    resume_state,
    save_checkpoint,
)
from ddprune.training.components import checkpoint_schedule, lr_at, make_feed, make_optimizer
from ddprune.training.evaluation import evaluate
from ddprune.training.loop import Progress, train
from ddprune.training.platform import accelerate
from ddprune.training.session import SaveFiles, Session

log = logging.getLogger(__name__)


def _start(
    run: Run,
    config: TrainConfig,
    platform: Platform,
    data: RunData,
    spec: dict[str, Any],
    checkpoint_dir: str | os.PathLike,
) -> tuple[Session, list[dict[str, Any]]]:
    """The run's model (initialised from its seed), optimizer and data order -- resumed from
    its newest checkpoint saved under the same ``spec``, if any -- and the rows so far."""
    device = data.x_train.device
    torch.manual_seed(derive_seed("init", run.seed))
    model = build_model(run.model, run.width, data.input_shape, data.num_classes).to(device)
    order = torch.Generator().manual_seed(derive_seed("data-order", run.seed))
    session = Session(model, make_optimizer(config, model), order)
    state = resume_state(
        list_resumable(checkpoint_dir), spec, device, on_bad_checkpoint=platform.on_bad_checkpoint
    )
    if state:
        session.resume(state)
    return session, state["rows"] if state else []


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
    """Train (or resume) one run; its metric rows, one per evaluation, carry ``identity``.

    Checkpoints saved under another ``spec`` (what determines the numbers) are discarded,
    see :func:`~ddprune.training.checkpoints.resume_state`. They are kept every
    ``checkpoint_every`` epochs, at epoch 0 and at ``keep_epochs`` (rewind points of IMP).
    """
    session, rows = _start(run, config, platform, data, spec, checkpoint_dir)
    net, feed = accelerate(platform, session.model), make_feed(config, data, platform)

    def snapshot(session: Session) -> dict[str, Any]:
        return {"spec": spec, "rows": rows, **session.state()}

    def evaluated(progress: Progress) -> None:
        rows.append(_row(identity, session))
        _log(rows[-1], config.max_epochs)

    files = SaveFiles(
        partial(resume_point, checkpoint_dir), partial(periodic_checkpoint, checkpoint_dir)
    )
    save = session.saver(files, snapshot)
    if session.progress.metrics is None:  # a fresh start: record and keep the initialisation
        session.progress.evaluated(evaluate(net, data, feed))
        evaluated(session.progress)
        save(session.progress, "periodic")
    train(
        net,
        session.optimizer,
        data,
        config,
        feed,
        session.order,
        checkpoint_schedule(config, platform),
        session.progress,
        max_epochs=config.max_epochs,
        lr_at=lr_at(config),
        keep_epochs=keep_epochs,
        evaluated=evaluated,
        save=save,
    )
    save_checkpoint(snapshot(session), final_path)
    drop_resume_points(checkpoint_dir)
    return rows


def _row(identity: dict[str, Any], session: Session) -> dict[str, Any]:
    """The metric row of an evaluation of ``session``'s model."""
    model, progress = session.model, session.progress
    n_params, nonzero = count_parameters(model), count_nonzero_parameters(model)
    return {
        **identity,
        "epoch": progress.epoch,
        "step": progress.step,
        "lr": session.optimizer.param_groups[0]["lr"],
        **progress.metrics,
        "n_params": n_params,
        "n_nonzero": nonzero,
        "sparsity": 1.0 - nonzero / n_params,
        "wall_seconds": session.seconds(),
    }


def _log(row: dict[str, Any], max_epochs: int) -> None:
    log.info(
        "%s (step %d): train_error %.4f val_error %.4f test_error %.4f",
        progress_line(row["epoch"], max_epochs, row["wall_seconds"], "epoch"),
        row["step"],
        row["train_error"],
        row["val_error"],
        row["test_error"],
    )
    if row["diverged"]:
        log.warning("training diverged at epoch %d (loss is not finite); run stopped", row["epoch"])
