"""The checkpoints that pruning starts from: the threshold rule's selection
(``threshold.yaml``) and the periodic checkpoint files of a training run.

Torch-free, because the Snakefile reads both to plan the pruning jobs, and Snakemake
imports its helpers for every command (see :mod:`ddprune.catalog`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from ddprune.study import Run

PathLike = str | os.PathLike
_PERIODIC = re.compile(r"epoch(\d+)\.pt")


def periodic_path(directory: PathLike, epoch: int) -> Path:
    return Path(directory) / f"epoch{epoch:07d}.pt"


def list_periodic(directory: PathLike) -> dict[int, Path]:
    """Periodic checkpoints in ``directory`` by epoch (temporary files are not matched)."""
    directory = Path(directory)
    if not directory.is_dir():
        return {}
    return {int(m.group(1)): p for p in directory.iterdir() if (m := _PERIODIC.fullmatch(p.name))}


def periodic_checkpoints(checkpoint_template: str, run: Run) -> dict[int, Path]:
    """The periodic checkpoints beside a run's final checkpoint, by epoch."""
    return list_periodic(Path(checkpoint_template.format(**run.wildcards)).parent / "checkpoints")


def rewind_checkpoint(checkpoint_template: str, run: Run, epoch: int) -> str:
    """The periodic checkpoint that imp-rewind resets to, or a clear error if it is missing."""
    available = periodic_checkpoints(checkpoint_template, run)
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
        (Run(f["dataset"], f["model"], entry["width"], f["noise"], entry["seed"]), entry["epoch"])
        for f in threshold_document["families"]
        for entry in f["selection"]
    )


def selection_entry(document: dict[str, Any], run: Run, epoch: int) -> tuple[dict, dict]:
    """The family (with its IT) and the selection entry of (run, epoch)."""
    for family in document["families"]:
        if (family["dataset"], family["model"], family["noise"]) != (
            run.dataset,
            run.model,
            run.noise,
        ):
            continue
        for entry in family["selection"]:
            if (entry["width"], entry["seed"], entry["epoch"]) == (run.width, run.seed, epoch):
                return family, entry
    raise KeyError(f"{run} at epoch {epoch} is not in the threshold selection")


def selected_checkpoint(threshold_path: PathLike, run: Run, epoch: int) -> str:
    """The checkpoint file that the selection names for (run, epoch)."""
    return selection_entry(load_threshold(threshold_path), run, epoch)[1]["checkpoint"]
