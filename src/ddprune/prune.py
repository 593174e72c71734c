"""Prune a trained checkpoint round by round, retraining after each round, resumably.

Methods (He et al. 2022; Frankle & Carbin 2019):

* ``imp-finetune``  -- iterative magnitude pruning; keep the surviving weights and fine-tune;
* ``imp-rewind``    -- iterative magnitude pruning; rewind the survivors to their values at
  ``rewind_epoch`` (the lottery-ticket procedure) and retrain;
* ``imp-lr-rewind`` -- iterative magnitude pruning; keep the weights, rewind only the learning
  rate schedule (Renda et al. 2020);
* ``oneshot``       -- from the dense checkpoint straight to each target sparsity by magnitude,
  then fine-tune;
* ``random``        -- random masks with the same per-layer counts as ``oneshot``'s, applied to
  the dense checkpoint, then fine-tune (the control for magnitude).

Fine-tuning trains at the final learning rate of the dense run (the rate its next step
would have taken); both rewinding methods replay the schedule from ``rewind_epoch``'s step
(:func:`retraining_rates`). Under a constant schedule, as in Nakkiran et al.'s Adam runs,
``imp-lr-rewind`` therefore trains exactly like ``imp-finetune``.

Every method visits the same target sparsities, so their rounds line up. Round 0 is the dense
checkpoint itself. After each round the masks, the weights and the rows so far are saved, and
within a round's retraining a resume point on the platform's checkpoint schedule; a killed job
resumes where it stopped with the same numbers. A round whose retraining diverges is recorded
(``diverged``, empty metrics) and ends the job: sparser rounds would start from NaN weights.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ddprune.checkpoints import (
    drop_resume_points,
    resume_state,
    save_checkpoint,
    save_resume_point,
)
from ddprune.data import RunData
from ddprune.evaluation import evaluate
from ddprune.masks import (
    MaskedWeights,
    Masks,
    magnitude_masks,
    prunable_weights,
    random_masks,
)
from ddprune.models import count_nonzero_parameters, count_parameters
from ddprune.platform import Platform
from ddprune.seeds import derive_seed
from ddprune.training import TrainConfig, fit, steps_per_epoch

log = logging.getLogger(__name__)
METHODS = ("imp-finetune", "imp-rewind", "imp-lr-rewind", "oneshot", "random")
_ROUND = re.compile(r"round(\d+)\.pt")
_RESUME = re.compile(r"resume-round(\d+)-epoch(\d+)\.pt")


@dataclass(frozen=True)
class PruneConfig:
    """The ``prune`` section of a study."""

    methods: tuple[str, ...] = ("imp-finetune", "imp-rewind", "oneshot", "random")
    scope: str = "global"
    prune_output_layer: bool = False
    fraction: float = 0.2
    rounds: int = 10
    sparsities: tuple[float, ...] | None = None
    rewind_epoch: int = 0
    epochs: int = 3000

    def targets(self) -> list[float]:
        """Target sparsity (of the prunable weights) after each round."""
        if self.sparsities:
            return [float(s) for s in self.sparsities]
        return [1.0 - (1.0 - self.fraction) ** r for r in range(1, self.rounds + 1)]


def retraining_rates(
    method: str,
    train: TrainConfig,
    source_epoch: int,
    rewind_epoch: int,
    n_train: int,
) -> Callable[[int], float] | None:
    """The learning rate of each retraining step (None: constant at ``train.lr``).

    The dense run took ``epoch x steps_per_epoch`` steps by any epoch, so the rates follow
    from the schedule: fine-tuning stays at the rate of the source checkpoint's next step;
    the rewinding methods run the schedule again from the rewind epoch's step.
    """
    dense_rate = train.lr_at()
    if dense_rate is None:
        return None
    per_epoch = steps_per_epoch(n_train, train.batch_size)
    if method in ("imp-rewind", "imp-lr-rewind"):
        start = rewind_epoch * per_epoch
        return lambda t: dense_rate(start + t)
    final = dense_rate(source_epoch * per_epoch)
    return lambda t: final


def _round_files(directory: Path) -> dict[tuple[int, int], Path]:
    """Finished rounds and the resume point inside the next one, keyed (round, epoch) so that
    the newest sorts last: a finished round r counts as epoch 0 of round r + 1."""
    if not directory.is_dir():
        return {}
    files = {}
    for path in directory.iterdir():
        if m := _ROUND.fullmatch(path.name):
            files[(int(m.group(1)) + 1, 0)] = path
        elif m := _RESUME.fullmatch(path.name):
            files[(int(m.group(1)), int(m.group(2)))] = path
    return files


def prune_run(
    model: nn.Module,
    data: RunData,
    method: str,
    config: PruneConfig,
    train: TrainConfig,
    platform: Platform,
    rewind_state: dict[str, torch.Tensor] | None,
    identity: dict[str, Any],
    seed: int,
    directory: str | os.PathLike,
    spec: dict[str, Any] | None = None,
    *,
    source_epoch: int,
) -> list[dict[str, Any]]:
    """Prune ``model`` (loaded with the dense checkpoint of ``source_epoch``) by ``method``;
    one row per round.

    ``spec`` (what determines the numbers) is stored with every round; rounds saved under
    another spec are discarded (see :func:`~ddprune.checkpoints.resume_state`).
    """
    if method not in METHODS:
        raise ValueError(f"prune.methods: {method!r}; allowed: {list(METHODS)}")
    if method == "imp-rewind" and rewind_state is None:
        raise ValueError("imp-rewind needs the weights of the rewind checkpoint")
    directory = Path(directory)
    device = data.x_train.device
    dense_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    weights = prunable_weights(model, config.prune_output_layer)
    n_prunable = sum(w.numel() for w in weights.values())
    n_params = count_parameters(model)
    targets = config.targets()

    net, feed = platform.accelerate(model), train.feed(data, platform)
    rates = retraining_rates(method, train, source_epoch, config.rewind_epoch, len(data.y_train))
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

    def record(
        round_index: int,
        target: float,
        epochs: int,
        steps: int,
        seconds: float,
        metrics: dict[str, float],
    ) -> None:
        kept = sum(int(w.count_nonzero()) for w in weights.values())
        nonzero = count_nonzero_parameters(model)
        rows.append(
            {
                **identity,
                "method": method,
                "scope": config.scope,
                "round": round_index,
                "target_sparsity": target,
                "epochs": epochs,
                "step": steps,
                **metrics,
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
            method,
            round_index,
            1 - kept / n_prunable,
            metrics["test_error"],
            metrics["train_error"],
            epochs,
        )

    for round_index in range(start, len(targets) + 1):
        if rows and rows[-1]["diverged"]:
            break
        started = time.perf_counter()
        if round_index == 0:
            record(0, 0.0, 0, 0, 0.0, evaluate(net, data, feed))
        else:
            target = targets[round_index - 1]
            if inside_round is None:
                masks = _next_masks(
                    method,
                    config,
                    weights,
                    dense_state,
                    masks,
                    target,
                    derive_seed("random-mask", seed, round_index),
                )
                _reset_weights(method, model, dense_state, rewind_state)
            masked = MaskedWeights(model, masks)
            masked.apply_to_weights()
            order = torch.Generator().manual_seed(derive_seed("prune-order", seed, round_index))

            def save_inside(
                fit_state: dict[str, Any], round_index: int = round_index, masks: Masks = masks
            ) -> None:
                save_resume_point(
                    {
                        "model": model.state_dict(),
                        "masks": masks,
                        "rows": rows,
                        "spec": spec,
                        "fit": fit_state,
                    },
                    directory / f"resume-round{round_index:03d}-epoch{fit_state['epoch']:07d}.pt",
                )

            epochs, steps, metrics = fit(
                net,
                data,
                train,
                config.epochs,
                order,
                feed,
                masked,
                rates,
                resume=inside_round,
                save=save_inside,
                schedule=platform.schedule(),
            )
            inside_round = None
            record(round_index, target, epochs, steps, time.perf_counter() - started, metrics)
        save_checkpoint(
            {
                "round": round_index,
                "model": model.state_dict(),
                "masks": masks or {},
                "rows": rows,
                "spec": spec,
            },
            directory / f"round{round_index:03d}.pt",
        )
        drop_resume_points(directory)
    return rows


def _next_masks(
    method: str,
    config: PruneConfig,
    weights: dict[str, nn.Parameter],
    dense_state: dict[str, torch.Tensor],
    current: Masks | None,
    target: float,
    random_seed: int,
) -> Masks:
    remaining = 1.0 - target
    if method.startswith("imp"):
        return magnitude_masks(weights, remaining, config.scope, current or None)
    dense = {name: dense_state[name] for name in weights}
    magnitude = magnitude_masks(dense, remaining, config.scope)
    if method == "oneshot":
        return magnitude
    generator = torch.Generator().manual_seed(random_seed)
    return random_masks(magnitude, generator)


def _reset_weights(
    method: str,
    model: nn.Module,
    dense_state: dict[str, torch.Tensor],
    rewind_state: dict[str, torch.Tensor] | None,
) -> None:
    """Where each round starts from before masking: see the module docstring."""
    if method == "imp-rewind":
        model.load_state_dict(rewind_state)
    elif method in ("oneshot", "random"):
        model.load_state_dict(dense_state)
    # imp-finetune and imp-lr-rewind keep the weights of the previous round.
