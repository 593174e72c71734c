"""``threshold.yaml`` -- written and read checked against its schema -- and the checkpoints
that pruning starts from: the threshold rule's selection and the periodic checkpoint files
of a training run.

Torch-free, because the Snakefile reads both to plan the pruning jobs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ddprune.foundations.atomic import write_text
from ddprune.foundations.schemas import load_schema, problems, schema_file
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


class ThresholdFileError(ValueError):
    """threshold.yaml does not match its schema; the message names the file, the fields and
    how to rebuild it."""


def check_threshold(document: Any, where: PathLike) -> dict[str, Any]:
    """``document`` if it matches ``workflow/schemas/threshold.schema.yaml``, else a
    ThresholdFileError listing every problem."""
    found = problems(document, load_schema(schema_file("threshold")))
    if found:
        lines = "\n".join(f"  - {problem}" for problem in found)
        raise ThresholdFileError(
            f"{os.fspath(where)} is not a valid threshold file ({len(found)} problem(s)):\n"
            f"{lines}\nrebuild it with: snakemake --forcerun threshold --cores N"
        )
    return document


def write_threshold(document: dict[str, Any], path: PathLike) -> None:
    """Write threshold.yaml, checked first: a malformed one never reaches the pruning stage."""
    write_text(path, yaml.safe_dump(check_threshold(document, path), sort_keys=False))


def load_threshold(path: PathLike) -> dict[str, Any]:
    """threshold.yaml, checked against its schema (it drives the DAG: the Snakefile plans
    the pruning jobs from it, and every pruning job reads its entry)."""
    try:
        document = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as error:
        raise ThresholdFileError(
            f"{os.fspath(path)} is not readable YAML ({error}); rebuild it with: "
            "snakemake --forcerun threshold --cores N"
        ) from None
    return check_threshold(document, path)


def _family_run(family: dict[str, Any], entry: dict[str, Any]) -> Run:
    return Run(
        family["dataset"],
        family["model"],
        entry["width"],
        family["noise"],
        entry["seed"],
        family["noise_kind"],
    )


@dataclass(frozen=True)
class Selected:
    """One selected checkpoint, as a pruning job needs it: the run and epoch, its place
    around the IT, the file, and the IT it was selected around."""

    run: Run
    epoch: int
    role: str
    offset: int
    axis: str
    checkpoint: str
    it_width: int
    it_criterion: str


def selected_runs(document: dict[str, Any]) -> list[tuple[Run, int]]:
    """Every (run, epoch) that the threshold rule selected, in a stable order."""
    return sorted(
        (_family_run(family, entry), entry["epoch"])
        for family in document["families"]
        for entry in family["selection"]
    )


def selection_entry(document: dict[str, Any], run: Run, epoch: int) -> Selected:
    """The selection entry of (run, epoch), with the IT of its family."""
    for family in document["families"]:
        for entry in family["selection"]:
            if (_family_run(family, entry), entry["epoch"]) == (run, epoch):
                return Selected(
                    run=run,
                    epoch=epoch,
                    role=entry["role"],
                    offset=entry["offset"],
                    axis=entry["axis"],
                    checkpoint=entry["checkpoint"],
                    it_width=family["it"]["width"],
                    it_criterion=family["it"]["criterion"],
                )
    raise KeyError(f"{run} at epoch {epoch} is not in the threshold selection")


def selected_checkpoint(threshold_path: PathLike, run: Run, epoch: int) -> str:
    """The checkpoint file that the selection names for (run, epoch)."""
    return selection_entry(load_threshold(threshold_path), run, epoch).checkpoint
