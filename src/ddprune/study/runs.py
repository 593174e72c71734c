"""Runs and the study they belong to: what a validated config expands to.

Torch-free: Snakemake builds these for every command (dry runs, reports, lint).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ddprune.catalog import CLOSED_FORM_MODELS, DEFAULT_NOISE_KIND, NOISE_KINDS
from ddprune.study.hparams import (
    AnswerConfig,
    BaselinesConfig,
    ClosedFormConfig,
    Platform,
    PruneConfig,
    ThresholdConfig,
    TrainConfig,
)
from ddprune.study.pruning_methods import PRUNE_METHODS


def noise_wildcard(rate: float, kind: str = DEFAULT_NOISE_KIND) -> str:
    """Label noise as it appears in paths: the rate (``repr`` round-trips through ``float``),
    then the kind where it is not the default -- ``0.2``, ``0.2-symmetric`` -- so that the
    paths of studies from before there was a choice stay what they were."""
    return repr(float(rate)) + ("" if kind == DEFAULT_NOISE_KIND else f"-{kind}")


def parse_noise_wildcard(text: str) -> tuple[float, str]:
    """The (rate, kind) of :func:`noise_wildcard`'s text."""
    for kind in NOISE_KINDS[1:]:
        if text.endswith(f"-{kind}"):
            return float(text.removesuffix(f"-{kind}")), kind
    return float(text), DEFAULT_NOISE_KIND


# What Snakemake may match for {noise}: a rate such as 0.2, and a kind's suffix.
NOISE_PATTERN = r"[0-9]+\.[0-9]+(e-?[0-9]+)?" + f"(-({'|'.join(NOISE_KINDS[1:])}))?"


@dataclass(frozen=True, order=True)
class Run:
    """One training run; its fields are the wildcards of every path that belongs to it (the
    noise rate and kind together make the ``noise`` wildcard)."""

    dataset: str
    model: str
    width: int
    noise: float
    seed: int
    noise_kind: str = DEFAULT_NOISE_KIND

    @property
    def noise_label(self) -> str:
        return noise_wildcard(self.noise, self.noise_kind)

    @property
    def wildcards(self) -> dict[str, str]:
        values = asdict(self)
        del values["noise_kind"]
        values["noise"] = self.noise_label
        return {k: str(v) for k, v in values.items()}

    @classmethod
    def from_wildcards(cls, wildcards: Mapping[str, str]) -> Run:
        noise, noise_kind = parse_noise_wildcard(wildcards["noise"])
        return cls(
            dataset=wildcards["dataset"],
            model=wildcards["model"],
            width=int(wildcards["width"]),
            noise=noise,
            seed=int(wildcards["seed"]),
            noise_kind=noise_kind,
        )


@dataclass(frozen=True)
class Study:
    """A validated configuration (with defaults filled in); its sections as typed records,
    built once."""

    config: dict[str, Any]

    @property
    def name(self) -> str:
        return self.config["study"]

    @functools.cached_property
    def train(self) -> TrainConfig:
        return TrainConfig.of(self.config["train"])

    def with_train(self, **values: Any) -> Study:
        """The study with some ``train`` values replaced (a tuned baseline's run)."""
        return Study({**self.config, "train": {**self.config["train"], **values}})

    @functools.cached_property
    def prune(self) -> PruneConfig:
        return PruneConfig.of(self.config["prune"])

    @functools.cached_property
    def platform(self) -> Platform:
        return Platform.of(self.config["platform"])

    @functools.cached_property
    def threshold(self) -> ThresholdConfig:
        return ThresholdConfig.of(self.config["threshold"])

    @functools.cached_property
    def baselines(self) -> BaselinesConfig:
        return BaselinesConfig.of(self.config["baselines"])

    @functools.cached_property
    def answer(self) -> AnswerConfig:
        return AnswerConfig.of(self.config["answer"])

    @functools.cached_property
    def closed_form(self) -> ClosedFormConfig:
        return ClosedFormConfig.of(self.config["closed_form"])

    @property
    def runs(self) -> list[Run]:
        runs = []
        for grid in self.config["sweep"]:
            for width, noise, seed in itertools.product(
                grid["widths"], grid["noise"], grid["seeds"]
            ):
                runs.append(
                    Run(
                        grid["dataset"],
                        grid["model"],
                        width,
                        float(noise),
                        seed,
                        grid.get("noise_kind", DEFAULT_NOISE_KIND),
                    )
                )
        return sorted(runs)

    @property
    def trained_runs(self) -> list[Run]:
        """Runs trained by SGD, one job each (the closed-form ones are solved per family)."""
        return [run for run in self.runs if run.model not in CLOSED_FORM_MODELS]

    @property
    def solved_families(self) -> list[dict[str, str]]:
        """Wildcards of every closed-form job: one per (dataset, model, noise), all its
        seeds (a solve takes milliseconds, a job's start seconds)."""
        keys = {
            (run.dataset, run.model, run.noise_label)
            for run in self.runs
            if run.model in CLOSED_FORM_MODELS
        }
        names = ("dataset", "model", "noise")
        return [dict(zip(names, key, strict=True)) for key in sorted(keys)]

    def seeds(self, dataset: str, model: str, noise_label: str) -> list[int]:
        """The seeds of one (dataset, model, noise) family."""
        return sorted(
            {
                run.seed
                for run in self.runs
                if (run.dataset, run.model, run.noise_label) == (dataset, model, noise_label)
            }
        )

    def widths(
        self, dataset: str, model: str, noise: float, noise_kind: str, seed: int
    ) -> list[int]:
        """The widths of the runs that share (dataset, model, noise, noise kind, seed)."""
        family = (dataset, model, noise, noise_kind, seed)
        return sorted(
            run.width
            for run in self.runs
            if (run.dataset, run.model, run.noise, run.noise_kind, run.seed) == family
        )

    def dataset_options(self, dataset: str) -> dict[str, Any]:
        return dict(self.config["datasets"].get(dataset, {}))

    def kept_epochs(self) -> list[int]:
        """Epochs whose checkpoints training keeps besides the periodic ones: the rewind
        point of imp-rewind (He et al. rewind to an early epoch, between two periodic ones)."""
        prune = self.prune
        rewinds = any(PRUNE_METHODS[name].needs_rewind_checkpoint for name in prune.methods)
        return [prune.rewind_epoch] if rewinds else []

    def dataset_files(self, dataset: str) -> list[str]:
        """The file a dataset is read from (none for a built-in one): an input of its jobs."""
        file = self.dataset_options(dataset).get("file")
        return [file] if file else []
