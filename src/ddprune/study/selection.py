"""The checkpoints that pruning starts from: the threshold rule's selection
(``threshold.yaml``) and the periodic checkpoint files of a training run.

Torch-free, because the Snakefile reads both to plan the pruning jobs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ddprune.study.paths import PERIODIC, Layout, PathLike, fill, matching
from ddprune.study.runs import Run


def list_periodic(directory: PathLike) -> dict[int, Path]:
    """Periodic checkpoints in ``directory`` by epoch."""
    return {epoch: path for (epoch,), path in matching(directory, PERIODIC).items()}


def periodic_checkpoints(layout: Layout, run: Run) -> dict[int, Path]:
    """The periodic checkpoints of a run, by epoch."""
    return list_periodic(fill(layout.checkpoints, run))


def rewind_checkpoint(layout: Layout, run: Run, epoch: int) -> str:
    """The periodic checkpoint that imp-rewind resets to, or a clear error if it is missing."""
    available = periodic_checkpoints(layout, run)
    if epoch not in available:
        raise FileNotFoundError(
            f"prune.rewind_epoch {epoch}: {run} has no checkpoint for that epoch; "
            f"available epochs: {sorted(available)}"
        )
    return os.fspath(available[epoch])


def load_threshold(path: PathLike) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text())


def selected_runs(threshold_document: dict[str, Any]) -> list[tuple[Run, int]]:
    """Every (run, epoch) that the threshold rule selected, in a stable order."""
    return sorted(
        (
            Run(
                f["dataset"], f["model"], entry["width"], f["noise"], entry["seed"], f["noise_kind"]
            ),
            entry["epoch"],
        )
        for f in threshold_document["families"]
        for entry in f["selection"]
    )


def selection_entry(document: dict[str, Any], run: Run, epoch: int) -> tuple[dict, dict]:
    """The family (with its IT) and the selection entry of (run, epoch)."""
    for family in document["families"]:
        if (family["dataset"], family["model"], family["noise"], family["noise_kind"]) != (
            run.dataset,
            run.model,
            run.noise,
            run.noise_kind,
        ):
            continue
        for entry in family["selection"]:
            if (entry["width"], entry["seed"], entry["epoch"]) == (run.width, run.seed, epoch):
                return family, entry
    raise KeyError(f"{run} at epoch {epoch} is not in the threshold selection")


def selected_checkpoint(threshold_path: PathLike, run: Run, epoch: int) -> str:
    """The checkpoint file that the selection names for (run, epoch)."""
    return selection_entry(load_threshold(threshold_path), run, epoch)[1]["checkpoint"]
