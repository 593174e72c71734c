"""Runs and the study they belong to: what a validated config expands to.

Torch-free: Snakemake builds these for every command (dry runs, reports, lint).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ddprune.catalog import CLOSED_FORM_MODELS
from ddprune.study.pruning_methods import PRUNE_METHODS


@dataclass(frozen=True, order=True)
class Run:
    """One training run; its fields are the wildcards of every path that belongs to it."""

    dataset: str
    model: str
    width: int
    noise: float
    seed: int

    @property
    def noise_label(self) -> str:
        """The noise rate as it appears in paths: ``repr`` round-trips through ``float``."""
        return repr(float(self.noise))

    @property
    def wildcards(self) -> dict[str, str]:
        values = asdict(self)
        values["noise"] = self.noise_label
        return {k: str(v) for k, v in values.items()}

    @classmethod
    def from_wildcards(cls, wildcards: Mapping[str, str]) -> Run:
        return cls(
            dataset=wildcards["dataset"],
            model=wildcards["model"],
            width=int(wildcards["width"]),
            noise=float(wildcards["noise"]),
            seed=int(wildcards["seed"]),
        )


@dataclass(frozen=True)
class Study:
    """A validated configuration (with defaults filled in)."""

    config: dict[str, Any]

    @property
    def name(self) -> str:
        return self.config["study"]

    @property
    def runs(self) -> list[Run]:
        runs = []
        for grid in self.config["sweep"]:
            for width, noise, seed in itertools.product(
                grid["widths"], grid["noise"], grid["seeds"]
            ):
                runs.append(Run(grid["dataset"], grid["model"], width, float(noise), seed))
        return sorted(runs)

    @property
    def trained_runs(self) -> list[Run]:
        """Runs trained by SGD, one job each (the closed-form ones are solved per seed)."""
        return [run for run in self.runs if run.model not in CLOSED_FORM_MODELS]

    @property
    def solved_seeds(self) -> list[dict[str, str]]:
        """Wildcards of every closed-form job: one per (dataset, model, noise, seed)."""
        keys = {
            (run.dataset, run.model, run.noise_label, str(run.seed))
            for run in self.runs
            if run.model in CLOSED_FORM_MODELS
        }
        names = ("dataset", "model", "noise", "seed")
        return [dict(zip(names, key, strict=True)) for key in sorted(keys)]

    def widths(self, dataset: str, model: str, noise: float, seed: int) -> list[int]:
        """The widths of the runs that share (dataset, model, noise, seed)."""
        return sorted(
            run.width
            for run in self.runs
            if (run.dataset, run.model, run.noise, run.seed) == (dataset, model, noise, seed)
        )

    def dataset_options(self, dataset: str) -> dict[str, Any]:
        return dict(self.config["datasets"].get(dataset, {}))

    def kept_epochs(self) -> list[int]:
        """Epochs whose checkpoints training keeps besides the periodic ones: the rewind
        point of imp-rewind (He et al. rewind to an early epoch, between two periodic ones)."""
        prune = self.config["prune"]
        rewinds = any(PRUNE_METHODS[name].needs_rewind_checkpoint for name in prune["methods"])
        return [prune["rewind_epoch"]] if rewinds else []

    def dataset_files(self, dataset: str) -> list[str]:
        """The file a dataset is read from (none for a built-in one): an input of its jobs."""
        file = self.dataset_options(dataset).get("file")
        return [file] if file else []
