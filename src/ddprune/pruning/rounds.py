"""Prune a trained checkpoint round by round, retraining after each round, resumably.

What a method does is its record (:mod:`ddprune.study.pruning_methods`): its masks come from
:func:`ddprune.pruning.scores.choose_masks`, the other axes' behaviour is here, one function
each: :func:`start_weights` and :func:`retraining_rates`. Retraining is the dense runs' loop
(:func:`ddprune.training.loop.train`) with the masks applied, so a pruned network is trained
exactly as the dense ones were.

Every method visits the same targets (sparsities, or counts with ``prune.budgets``), so their
rounds line up. Round 0 is the dense
checkpoint itself. After each round the masks, the weights and the rows so far are saved, and
within a round's retraining a resume point on the checkpoint schedule; a killed job resumes
where it stopped with the same numbers. A round whose retraining diverges is recorded
(``diverged``, empty metrics) and ends the job: sparser rounds would start from NaN weights.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ddprune.data.run_data import RunData
from ddprune.foundations.seeds import derive_seed
from ddprune.models import count_nonzero_parameters, count_parameters
from ddprune.pruning.masks import MaskedWeights, Masks, keep_count, prunable_weights
from ddprune.pruning.scores import Sources, Weights, choose_masks
from ddprune.study.config import ConfigSection
from ddprune.study.paths import RESUME_ROUND, ROUND, matching, round_checkpoint, round_resume_point
from ddprune.study.pruning_methods import PruneMethod
from ddprune.training.checkpoints import (
    drop_resume_points,
    resume_state,
    save_checkpoint,
    save_resume_point,
)
from ddprune.training.config import LrSchedule, TrainConfig
from ddprune.training.evaluation import evaluate
from ddprune.training.loop import Progress, SaveKind, train
from ddprune.training.platform import Platform

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PruneConfig(ConfigSection):
    """The ``prune`` section of a study (defaults: the config schema's)."""

    SECTION = "prune"

    methods: tuple[str, ...]
    scope: str
    prune_output_layer: bool
    fraction: float
    rounds: int
    sparsities: tuple[float, ...] | None
    budgets: tuple[int, ...] | None
    rewind_epoch: int
    epochs: int
    patience: int | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "methods", tuple(self.methods))
        for field in ("sparsities", "budgets"):
            if getattr(self, field) is not None:
                object.__setattr__(self, field, tuple(getattr(self, field)))

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


def start_weights(method: PruneMethod, sources: Sources) -> Weights | None:
    """The weights a round starts from before masking (None: the previous round's)."""
    return {"previous": None, "dense": sources.dense, "rewind": sources.rewind}[method.start]


def retraining_rates(
    method: PruneMethod, train: TrainConfig, source_epoch: int, rewind_epoch: int, n_train: int
) -> LrSchedule | None:
    """The learning rate of each retraining step (None: constant at ``train.lr``).

    The dense run took ``epoch x steps_per_epoch`` steps by any epoch, so the rates follow
    from the schedule: fine-tuning stays at the rate of the source checkpoint's next step;
    the rewinding methods run the schedule again from the rewind epoch's step.
    """
    dense_rate = train.lr_at()
    if dense_rate is None:
        return None
    per_epoch = train.steps_per_epoch(n_train)
    if method.rates == "rewind":
        start = rewind_epoch * per_epoch
        return lambda t: dense_rate(start + t)
    final = dense_rate(source_epoch * per_epoch)
    return lambda t: final


def _round_files(directory: Path) -> dict[tuple[int, int], Path]:
    """Finished rounds and the resume point inside the next one, keyed (round, epoch) so that
    the newest sorts last: a finished round r counts as epoch 0 of round r + 1."""
    finished = {(r + 1, 0): path for (r,), path in matching(directory, ROUND).items()}
    return {**finished, **matching(directory, RESUME_ROUND)}


def prune_run(
    model: nn.Module,
    data: RunData,
    method: PruneMethod,
    *,
    config: PruneConfig,
    train_config: TrainConfig,
    platform: Platform,
    rewind_state: Weights | None,
    identity: dict[str, Any],
    seed: int,
    directory: str | os.PathLike,
    spec: dict[str, Any] | None = None,
    source_epoch: int,
) -> list[dict[str, Any]]:
    """Prune ``model`` (loaded with the dense checkpoint of ``source_epoch``) by ``method``;
    one row per round.

    ``spec`` (what determines the numbers) is stored with every round; rounds saved under
    another spec are discarded (see :func:`~ddprune.training.checkpoints.resume_state`).
    """
    if method.needs_rewind_checkpoint and rewind_state is None:
        raise ValueError(f"{method.name} needs the weights of the rewind checkpoint")
    directory = Path(directory)
    device = data.x_train.device
    sources = Sources({k: v.detach().clone() for k, v in model.state_dict().items()}, rewind_state)
    weights = prunable_weights(model, config.prune_output_layer)
    n_prunable = sum(w.numel() for w in weights.values())
    n_params = count_parameters(model)
    targets = config.schedule(n_prunable)
    if targets and targets[-1][1] < 1:
        raise ValueError(
            f"prune: the last target sparsity {targets[-1][0]:.6g} keeps no weight of the "
            f"{n_prunable} prunable ones of {identity.get('model')} width {identity.get('width')}; "
            "lower prune.rounds (or prune.sparsities)"
        )

    net, feed = platform.accelerate(model), train_config.feed(data, platform)
    rates = retraining_rates(
        method, train_config, source_epoch, config.rewind_epoch, len(data.y_train)
    )
    rows: list[dict[str, Any]] = []
    masks: Masks | None = None
    state = resume_state(
        _round_files(directory), spec, device, on_bad_checkpoint=platform.on_bad_checkpoint
    )
    if state is not None:
        model.load_state_dict(state["model"])
        masks, rows = state["masks"], state["rows"]
    start = len(rows)
    inside_round = state.get("fit") if state else None  # resumed within round ``start``

    def record(round_index: int, target: float, progress: Progress, seconds: float) -> None:
        kept = sum(int(w.count_nonzero()) for w in weights.values())
        nonzero = count_nonzero_parameters(model)
        rows.append(
            {
                **identity,
                "method": method.name,
                "scope": config.scope,
                "round": round_index,
                "target_sparsity": target,
                "epochs": progress.epoch,
                "step": progress.step,
                **progress.metrics,
                "n_params": n_params,
                "n_nonzero": nonzero,
                "n_prunable": n_prunable,
                "n_prunable_nonzero": kept,
                "sparsity": 1.0 - nonzero / n_params,
                "remaining_fraction": nonzero / n_params,
                "wall_seconds": seconds,
            }
        )
        log.info(
            "%s round %d: sparsity %.4f test_error %.4f train_error %.4f (%d epochs)",
            method.name,
            round_index,
            1 - kept / n_prunable,
            progress.metrics["test_error"],
            progress.metrics["train_error"],
            progress.epoch,
        )

    for round_index in range(start, len(targets) + 1):
        if rows and rows[-1]["diverged"]:
            break
        started = time.perf_counter()
        if round_index == 0:
            record(0, 0.0, Progress(metrics=evaluate(net, data, feed)), 0.0)
        else:
            target, keep = targets[round_index - 1]
            if inside_round is None:
                generator = torch.Generator().manual_seed(
                    derive_seed("random-mask", seed, round_index)
                )
                masks = choose_masks(method, weights, sources, masks, keep, config.scope, generator)
                if (start_from := start_weights(method, sources)) is not None:
                    model.load_state_dict(start_from)
            masked = MaskedWeights(model, masks)
            masked.apply_to_weights()
            optimizer = train_config.optimizer_for(model)
            order = torch.Generator().manual_seed(derive_seed("prune-order", seed, round_index))
            progress = Progress()
            if inside_round is not None:
                optimizer.load_state_dict(inside_round["optimizer"])
                order.set_state(inside_round["rng_order"])
                progress = Progress(
                    inside_round["epoch"],
                    inside_round["steps"],
                    inside_round["metrics"],
                    inside_round["best"],
                )

            def save(
                progress: Progress,
                kind: SaveKind,
                round_index: int = round_index,
                masks: Masks = masks,
                optimizer: torch.optim.Optimizer = optimizer,
                order: torch.Generator = order,
            ) -> None:
                if kind == "end":
                    return  # the round's checkpoint follows at once
                fit_state = {
                    "epoch": progress.epoch,
                    "steps": progress.step,
                    "metrics": progress.metrics,
                    "best": progress.best,
                    "optimizer": optimizer.state_dict(),
                    "rng_order": order.get_state(),
                }
                save_resume_point(
                    {
                        "model": model.state_dict(),
                        "masks": masks,
                        "rows": rows,
                        "spec": spec,
                        "fit": fit_state,
                    },
                    round_resume_point(directory, round_index, progress.epoch),
                )

            progress = train(
                net,
                optimizer,
                data,
                train_config,
                feed,
                order,
                train_config.schedule(platform),
                progress,
                max_epochs=config.epochs,
                patience=config.patience,
                masks=masked,
                lr_at=rates,
                save=save,
            )
            inside_round = None
            record(round_index, target, progress, time.perf_counter() - started)
        save_checkpoint(
            {
                "round": round_index,
                "model": model.state_dict(),
                "masks": masks or {},
                "rows": rows,
                "spec": spec,
            },
            round_checkpoint(directory, round_index),
        )
        drop_resume_points(directory)
    return rows
