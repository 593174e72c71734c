"""The hyper-parameters of a study: one frozen record per config section, in one place.

Torch-free (like OpenLTH's ``foundations/hparams.py``): a record holds the values of its
section and the arithmetic that follows from them alone; what they turn into -- optimizers,
feeds, devices -- is built where torch is (``training/components.py``,
``training/platform.py``). Defaults and allowed values are the config schema's
(``workflow/schemas/config.schema.yaml``): :meth:`ConfigSection.of` fills in what a section
leaves out, so a record in a test and a record of a validated study agree.
``Study.train``, ``Study.prune`` ... give a study's records.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Self

from ddprune.foundations.schemas import section_defaults


class ConfigSection:
    """A config section as a frozen dataclass whose defaults are the schema's (one source).

    ``of(values, **overrides)`` fills in what ``values`` (a validated section, or nothing in
    a test) leaves out. Sequences are stored as tuples, so records are hashable and compare
    by value.
    """

    SECTION: ClassVar[str]

    @classmethod
    def of(cls, values: Mapping[str, Any] | None = None, /, **overrides: Any) -> Self:
        return cls(**{**section_defaults(cls.SECTION), **(values or {}), **overrides})

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))

    def as_dict(self) -> dict[str, Any]:
        """The section as plain YAML/JSON values (tuples as lists): what a checkpoint's spec
        and threshold.yaml record."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class TrainConfig(ConfigSection):
    """The ``train`` section: how every network is trained; part of a run's identity."""

    SECTION = "train"

    optimizer: str
    lr: float
    momentum: float
    weight_decay: float
    batch_size: int | None
    max_epochs: int
    stop_at_train_error: float | None
    eval_every: int
    checkpoint_every: int
    augment: tuple[str, ...]
    crop_padding: int
    lr_schedule: str
    lr_decay_steps: int
    precision: str

    def steps_per_epoch(self, n: int) -> int:
        """Optimizer steps in one epoch over ``n`` samples (so step = epoch x this)."""
        if self.batch_size is None or self.batch_size >= n:
            return 1
        return math.ceil(n / self.batch_size)


@dataclass(frozen=True)
class Platform(ConfigSection):
    """The ``platform`` section: where and how a job runs. None of it changes the numbers
    beyond floating-point rounding, so none of it is part of a run's identity."""

    SECTION = "platform"

    device: str
    threads: int
    runs_per_gpu: int
    eval_batch_size: int
    checkpoint_minutes: float | None
    on_bad_checkpoint: str
    channels_last: bool
    compile: bool
    compact: bool


def keep_count(total: int, remaining: float) -> int:
    """Weights kept of ``total`` at ``remaining`` fraction (exact, rounded to the weight)."""
    return round(total * remaining)


@dataclass(frozen=True)
class PruneConfig(ConfigSection):
    """The ``prune`` section: the methods, their schedule of targets, their retraining."""

    SECTION = "prune"

    methods: tuple[str, ...]
    scope: str
    prune_output_layer: bool
    fraction: float
    rounds: int
    sparsities: tuple[float, ...] | None
    budgets: tuple[int, ...] | None
    rewind_epoch: int
    epochs: int | None
    stop: str
    patience: int | None

    def job_values(self) -> dict[str, Any]:
        """What one pruning job's numbers depend on: every field but ``methods``. Which other
        methods the study prunes changes nothing in this job's rounds (its own method is its
        wildcard), so adding a method neither reruns nor discards the others' rounds."""
        return {k: v for k, v in self.as_dict().items() if k != "methods"}

    def budget(self, train: TrainConfig) -> int:
        """Epochs a retraining round may train: ``epochs``, or the dense runs' budget."""
        return train.max_epochs if self.epochs is None else self.epochs

    @property
    def validation_stop(self) -> bool:
        """Whether a round reports (and the next round prunes) its validation-best model."""
        return self.stop == "validation"

    @property
    def stop_patience(self) -> int | None:
        """The patience that ends a round and reads the early-stopped dense references: None
        without a validation stop (the config refuses one with ``stop: fixed``)."""
        return self.patience if self.validation_stop else None

    def schedule(self, n_prunable: int) -> list[tuple[float, int]]:
        """(target sparsity, prunable weights kept) after each round of a model with
        ``n_prunable`` prunable weights.

        ``budgets`` are counts, the same for every source, so that sources of different
        widths meet at equal parameter counts; a source visits the budgets below its own
        size. Otherwise the targets are sparsities, the same fractions for every source.
        """
        if self.budgets:
            return [(1.0 - b / n_prunable, b) for b in self.budgets if b < n_prunable]
        if self.sparsities:
            targets = [float(s) for s in self.sparsities]
        else:
            targets = [1.0 - (1.0 - self.fraction) ** r for r in range(1, self.rounds + 1)]
        return [(t, keep_count(n_prunable, 1.0 - t)) for t in targets]


@dataclass(frozen=True)
class ThresholdConfig(ConfigSection):
    """The ``threshold`` section: how the IT is found and which checkpoints around it are
    pruned."""

    SECTION = "threshold"

    criterion: str
    fallback: str
    interpolation_tolerance: float
    smoothing: int
    min_prominence: dict[str, float]
    bootstrap: int
    bootstrap_seed: int
    neighbours: int
    controls: tuple[str, ...]
    epochwise: dict[str, Any]


@dataclass(frozen=True)
class BaselinesConfig(ConfigSection):
    """The ``baselines`` section: the dense baselines tuned beside the sweep."""

    SECTION = "baselines"

    weight_decay: tuple[float, ...]


@dataclass(frozen=True)
class AnswerConfig(ConfigSection):
    """The ``answer`` section: the primary comparison, the test level, the equivalence
    margin and the t intervals' coverage."""

    SECTION = "answer"

    primary: dict[str, str]
    alpha: float
    margin: float
    level: float

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(
            self, "primary", {**section_defaults("answer")["primary"], **self.primary}
        )


@dataclass(frozen=True)
class ClosedFormConfig(ConfigSection):
    """The ``closed_form`` section: how the closed-form models are fit and pruned."""

    SECTION = "closed_form"

    keep: int | Mapping[str, int | None] | None
    scores: tuple[str, ...]
    rcond: float | None

    def keep_for(self, dataset: str) -> int | None:
        """Coordinates kept for ``dataset`` (None: its informative features' count)."""
        if isinstance(self.keep, Mapping):
            return self.keep.get(dataset)
        return self.keep
