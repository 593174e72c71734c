"""``threshold.yaml`` -- written and read checked against its schema -- and the checkpoints
that pruning starts from: the threshold rule's selection and the periodic checkpoint files
of a training run.

Torch-free, because the Snakefile reads both to plan the pruning jobs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ddprune.foundations.atomic import write_text
from ddprune.foundations.schemas import load_schema, problems, schema_file
from ddprune.study.it_criteria import choosable_names, it_criteria
from ddprune.study.paths import PERIODIC, Layout, PathLike, fill, matching
from ddprune.study.pruning_methods import PRUNE_METHODS
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
    found = problems(document, load_schema(schema_file("threshold"))) or _criteria_problems(
        document
    )
    if found:
        lines = "\n".join(f"  - {problem}" for problem in found)
        raise ThresholdFileError(
            f"{os.fspath(where)} is not a valid threshold file ({len(found)} problem(s)):\n"
            f"{lines}\nrebuild it with: snakemake --forcerun threshold --cores N"
        )
    return document


def _criteria_problems(document: dict[str, Any]) -> list[str]:
    """The criteria of every family are the registered ones, and the IT's may choose."""
    names, choosable = [c.name for c in it_criteria()], choosable_names()
    found = []
    for index, family in enumerate(document["families"]):
        if sorted(family["criteria"]) != sorted(names):
            found.append(
                f"families[{index}].criteria: {sorted(family['criteria'])}; allowed: "
                f"exactly the registered IT criteria {names}"
            )
        if family["it"]["criterion"] not in choosable:
            found.append(
                f"families[{index}].it.criterion: {family['it']['criterion']!r} is not "
                f"allowed; allowed values: {choosable}"
            )
    return found


def write_threshold(document: dict[str, Any], path: PathLike) -> None:
    """Write threshold.yaml, checked first: a malformed one never reaches the pruning stage."""
    write_text(path, yaml.safe_dump(check_threshold(document, path), sort_keys=False))


@dataclass(frozen=True)
class Entry:
    """One selected checkpoint, pruned by every method: a (width, seed) run at ``epoch``, its
    ``role`` around the IT, ``offset`` grid steps from it along ``axis`` (width or epoch)."""

    width: int
    seed: int
    role: str
    offset: int
    epoch: int
    checkpoint: str
    axis: str


@dataclass(frozen=True)
class ThresholdIT:
    """The IT of one family: ``status`` ok with the ``width`` its ``criterion`` gives, or
    undefined with the ``reason``; ``bootstrap`` is the seed bootstrap's interval (a mapping
    with ``status``, ``low``, ``high``), empty where none was computed."""

    status: str
    criterion: str
    width: int | None = None
    fallback_used: bool = False
    reason: str | None = None
    n_params: int | None = None
    criteria_agree: bool | None = None
    grid_steps_from_it: Mapping[str, int] = field(default_factory=dict)
    bootstrap: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class FamilyThreshold:
    """Everything the threshold stage found for one (dataset, model, noise, noise kind)
    family. ``criteria`` maps each IT criterion's name to what it found (a mapping with
    ``status`` and, when ok, ``width``; its other numbers depend on the criterion);
    ``epochwise`` is the epoch-wise peak of one width, where the config asks for it."""

    dataset: str
    model: str
    noise: float
    noise_kind: str
    widths: tuple[int, ...]
    seeds: tuple[int, ...]
    n_train: int | None
    criteria: Mapping[str, Mapping[str, Any]]
    notes: tuple[str, ...]
    selection: tuple[Entry, ...]
    it: ThresholdIT
    epochwise: Mapping[str, Any] | None = None

    @classmethod
    def from_dict(cls, family: Mapping[str, Any]) -> FamilyThreshold:
        return cls(
            dataset=family["dataset"],
            model=family["model"],
            noise=float(family["noise"]),
            noise_kind=family["noise_kind"],
            widths=tuple(family["widths"]),
            seeds=tuple(family["seeds"]),
            n_train=family.get("n_train"),
            criteria=family["criteria"],
            notes=tuple(family["notes"]),
            selection=tuple(Entry(**entry) for entry in family["selection"]),
            it=ThresholdIT(**family["it"]),
            epochwise=family.get("epochwise"),
        )

    @property
    def key(self) -> tuple[str, str, float, str]:
        """(dataset, model, noise, noise kind): the family's identifying columns in tables."""
        return self.dataset, self.model, self.noise, self.noise_kind

    def run(self, entry: Entry) -> Run:
        return Run(self.dataset, self.model, entry.width, self.noise, entry.seed, self.noise_kind)


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


@dataclass(frozen=True)
class ThresholdDocument:
    """threshold.yaml as records: the study, the threshold config that produced it, and
    every family's IT and selection."""

    study: str
    config: Mapping[str, Any]
    families: tuple[FamilyThreshold, ...]

    def of(self, dataset: str, model: str) -> list[FamilyThreshold]:
        """The entries of one (dataset, model) family (one per noise level and kind)."""
        return [f for f in self.families if (f.dataset, f.model) == (dataset, model)]

    def selected_runs(self) -> list[tuple[Run, int]]:
        """Every (run, epoch) that the threshold rule selected, in a stable order."""
        return sorted(
            (family.run(entry), entry.epoch)
            for family in self.families
            for entry in family.selection
        )

    def pruning_jobs(self, methods: Sequence[str]) -> list[tuple[Run, int, str]]:
        """Every (run, epoch, method) the study prunes: each method from every selected
        checkpoint, except that a method pruned at the IT only (a fixed-budget twin) skips
        the other sources."""
        it_only = {m for m in methods if PRUNE_METHODS[m].it_only}
        return sorted(
            (family.run(entry), entry.epoch, method)
            for family in self.families
            for entry in family.selection
            for method in methods
            if method not in it_only or (entry.role, entry.axis) == ("at", "width")
        )

    def it_runs(self) -> list[Run]:
        """Every seed's run at its family's IT width (none where the IT is undefined): where
        the dense baselines are tuned."""
        return sorted(
            Run(f.dataset, f.model, f.it.width, f.noise, seed, f.noise_kind)
            for f in self.families
            if f.it.ok and f.selection
            for seed in f.seeds
        )

    def entry(self, run: Run, epoch: int) -> Selected:
        """The selection entry of (run, epoch), with the IT of its family."""
        for family in self.families:
            for entry in family.selection:
                if (family.run(entry), entry.epoch) == (run, epoch):
                    return Selected(
                        run=run,
                        epoch=epoch,
                        role=entry.role,
                        offset=entry.offset,
                        axis=entry.axis,
                        checkpoint=entry.checkpoint,
                        it_width=family.it.width,
                        it_criterion=family.it.criterion,
                    )
        raise KeyError(f"{run} at epoch {epoch} is not in the threshold selection")


def load_threshold(path: PathLike) -> ThresholdDocument:
    """threshold.yaml, checked against its schema, as records (it drives the DAG: the
    Snakefile plans the pruning jobs from it, and every pruning job reads its entry)."""
    try:
        document = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as error:
        raise ThresholdFileError(
            f"{os.fspath(path)} is not readable YAML ({error}); rebuild it with: "
            "snakemake --forcerun threshold --cores N"
        ) from None
    checked = check_threshold(document, path)
    return ThresholdDocument(
        study=checked["study"],
        config=checked["config"],
        families=tuple(FamilyThreshold.from_dict(f) for f in checked["families"]),
    )
