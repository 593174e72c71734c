"""The verification job (workflow/rules/threshold.smk): every selected checkpoint must
reproduce its recorded metrics before anything is pruned from it."""

from __future__ import annotations

import os
from dataclasses import asdict

from ddprune.foundations.tables import frame, read_table, write_table
from ddprune.jobs.common import load_model, run_data
from ddprune.models import count_parameters
from ddprune.study.paths import PathLike
from ddprune.study.runs import Run, Study
from ddprune.study.threshold_file import load_threshold
from ddprune.training.checkpoints import CheckpointError
from ddprune.training.components import autocast, make_feed
from ddprune.training.evaluation import VERIFIED, disagreements, evaluate
from ddprune.training.platform import accelerate, configure


def verify_selected(
    study: Study,
    run: Run,
    epoch: int,
    *,
    threshold: PathLike,
    checkpoint: PathLike,
    metrics: PathLike,
    labels: PathLike,
    output: PathLike,
    threads: int | None = None,
) -> None:
    """Reload a selected ``checkpoint`` and check that it reproduces the run's recorded
    ``metrics`` at ``epoch``; write its row of the selection table to ``output``.

    Pruning starts from these files, so a checkpoint that does not reproduce the dense table
    (a changed dataset split, a corrupted file) stops the study here, loudly.
    """
    selected = load_threshold(threshold).entry(run, epoch)
    platform, config = study.platform, study.train
    data = run_data(study, run, labels, configure(platform, threads))
    model = load_model(run, data, checkpoint)
    measured = evaluate(accelerate(platform, model), data, make_feed(config, data, platform))
    recorded = read_table(metrics, "dense")
    at_epoch = recorded[recorded["epoch"] == epoch]
    if at_epoch.empty:
        raise ValueError(f"{metrics} has no evaluation at epoch {epoch} to verify against")
    off = disagreements(measured, at_epoch.iloc[0].to_dict(), data.x_train.device, autocast(config))
    if off:
        raise CheckpointError(
            f"{checkpoint} does not reproduce its recorded metrics (measured, recorded): {off}"
        )
    row = {
        "study": study.name,
        **asdict(run),
        "role": selected.role,
        "offset": selected.offset,
        "it_criterion": selected.it_criterion,
        "it_width": selected.it_width,
        "epoch": epoch,
        "axis": selected.axis,
        "checkpoint": os.fspath(checkpoint),
        "n_params": count_parameters(model),
        **{k: measured[k] for k in [*VERIFIED, "val_loss", "memorization"]},
    }
    write_table(frame([row], "selection"), output, "selection")
