"""Prune a trained checkpoint round by round, retraining after each round, resumably.

What a method does is its record (:mod:`ddprune.study.pruning_methods`): its masks come from
:func:`ddprune.pruning.scores.choose_masks`, the other axes' behaviour is here, one function
each: :func:`start_weights` and :func:`retraining_rates`. Retraining is the dense runs' loop
(:func:`ddprune.training.loop.train`) with the masks applied, so a pruned network is trained
exactly as the dense ones were.

The job reads as OpenLTH's lottery runner does: for each round, prune (:meth:`Rounds.prune`),
retrain (:meth:`Rounds.retrain`), save -- and a round whose file exists is not run again.
Every method visits the same targets (sparsities, or counts with ``prune.budgets``), so their
rounds line up. Round 0 is the dense checkpoint itself. After each round the masks, the
weights and the rows so far are saved, and within a round's retraining a resume point on the
checkpoint schedule (the dense runs' mechanics, :class:`~ddprune.training.session.Session`);
a killed job resumes where it stopped with the same numbers. A round whose retraining
diverges is recorded (``diverged``, empty metrics) and ends the job: sparser rounds would
start from NaN weights.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ddprune.data.run_data import RunData
from ddprune.foundations.logs import progress_line
from ddprune.foundations.seeds import derive_seed
from ddprune.models import count_nonzero_parameters, count_parameters
from ddprune.pruning.compact import compact
from ddprune.pruning.masks import MaskedWeights, Masks, prunable_weights
from ddprune.pruning.scores import Sources, Weights, choose_masks
from ddprune.study.hparams import Platform, PruneConfig, TrainConfig
from ddprune.study.paths import RESUME_ROUND, ROUND, matching, round_checkpoint, round_resume_point
from ddprune.study.pruning_methods import PruneMethod
from ddprune.training.checkpoints import drop_resume_points, resume_state, save_checkpoint
from ddprune.training.components import (
    LrSchedule,
    checkpoint_schedule,
    lr_at,
    make_feed,
    make_optimizer,
)
from ddprune.training.evaluation import evaluate
from ddprune.training.loop import Progress, train
from ddprune.training.platform import accelerate
from ddprune.training.session import SaveFiles, Session

log = logging.getLogger(__name__)


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
    dense_rate = lr_at(train)
    if dense_rate is None:
        return None
    per_epoch = train.steps_per_epoch(n_train)
    if method.rates == "rewind":
        start = rewind_epoch * per_epoch
        return lambda t: dense_rate(start + t)
    final = dense_rate(source_epoch * per_epoch)
    return lambda t: final


@dataclass(frozen=True)
class PruneJob:
    """What one pruning job is given besides its model and data: the method and the study's
    sections, the dense checkpoint's epoch and seed, the columns of every row
    (``identity``), what determines its numbers (``spec``: rounds saved under another are
    discarded, see :func:`~ddprune.training.checkpoints.resume_state`) and its folder."""

    method: PruneMethod
    prune: PruneConfig
    train: TrainConfig
    platform: Platform
    source_epoch: int
    seed: int
    identity: dict[str, Any]
    spec: dict[str, Any]
    directory: Path
    # For a method with ``counts_from``: that job's per-layer kept counts by round.
    layer_counts: dict[int, dict[str, int]] | None = None

    @property
    def validation_stop(self) -> bool:
        """Whether a round stops on validation and reports its validation-best model: as
        ``prune.stop`` says, unless the method trains every round to its full budget."""
        return self.prune.validation_stop and self.method.stop != "fixed"


def _round_files(directory: Path) -> dict[tuple[int, int], Path]:
    """Finished rounds and the resume point inside the next one, keyed (round, epoch) so that
    the newest sorts last: a finished round r counts as epoch 0 of round r + 1."""
    finished = {(r + 1, 0): path for (r,), path in matching(directory, ROUND).items()}
    return {**finished, **matching(directory, RESUME_ROUND)}


@dataclass
class Rounds:
    """A pruning job between rounds: the model (its prunable ``weights`` are views of its
    parameters), the masks and the rows so far -- what a round's checkpoint holds."""

    job: PruneJob
    model: nn.Module
    data: RunData
    sources: Sources
    masks: Masks | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.weights = prunable_weights(self.model, self.job.prune.prune_output_layer)
        self.n_prunable = sum(w.numel() for w in self.weights.values())
        self.net = accelerate(self.job.platform, self.model)
        self.feed = make_feed(self.job.train, self.data, self.job.platform)

    def targets(self) -> list[tuple[float, int]]:
        """(target sparsity, weights kept) of rounds 1, 2, ..., or a clear error when the
        last keeps no weight."""
        targets = self.job.prune.schedule(self.n_prunable)
        if targets and targets[-1][1] < 1:
            identity = self.job.identity
            raise ValueError(
                f"prune: the last target sparsity {targets[-1][0]:.6g} keeps no weight of the "
                f"{self.n_prunable} prunable ones of {identity.get('model')} width "
                f"{identity.get('width')}; lower prune.rounds (or prune.sparsities)"
            )
        return targets

    def resume(self) -> dict[str, Any] | None:
        """Continue from the newest saved round; the retraining state when that is a resume
        point inside a round (None: the next round starts afresh)."""
        job = self.job
        state = resume_state(
            _round_files(job.directory),
            job.spec,
            self.data.x_train.device,
            on_bad_checkpoint=job.platform.on_bad_checkpoint,
        )
        if state is None:
            return None
        self.masks, self.rows = state["masks"] or None, state["rows"]
        self.model.load_state_dict(state["model"])
        return state.get("fit")

    @property
    def diverged(self) -> bool:
        return bool(self.rows) and self.rows[-1]["diverged"]

    def evaluate_source(self) -> None:
        """Round 0: the dense checkpoint itself."""
        self.record(0, 0.0, Progress(metrics=evaluate(self.net, self.data, self.feed)), 0.0)

    def prune(self, index: int, keep: int) -> None:
        """Round ``index``'s masks (``keep`` weights), and the weights it starts from."""
        method = self.job.method
        generator = torch.Generator().manual_seed(derive_seed("random-mask", self.job.seed, index))
        counts = self.job.layer_counts[index] if method.counts_from else None
        self.masks = choose_masks(
            method,
            self.weights,
            self.sources,
            self.masks,
            keep,
            self.job.prune.scope,
            generator,
            counts,
        )
        if (start := start_weights(method, self.sources)) is not None:
            self.model.load_state_dict(start)

    def retrain(self, index: int, target: float, resumed: dict[str, Any] | None) -> None:
        """Retrain round ``index`` under its masks by the dense runs' loop (from ``resumed``,
        a resume point's state, where given), then record it. An MLP is retrained as its
        compact network where ``platform.compact`` allows (:mod:`ddprune.pruning.compact`)."""
        job = self.job
        MaskedWeights(self.model, self.masks).apply_to_weights()
        small = compact(self.model, self.masks) if self._compacts() else None
        net, masks = (small.model, small.masks) if small else (self.model, self.masks)
        order = torch.Generator().manual_seed(derive_seed("prune-order", job.seed, index))
        session = Session(net, make_optimizer(job.train, net), order)
        if resumed is not None:
            if resumed.get("compact", False) != bool(small):
                raise ValueError(
                    f"the resume point of round {index} in {job.directory} was saved with "
                    f"platform.compact: {not small}; set it back to resume, or delete the "
                    "resume point to rerun the round"
                )
            session.resume(resumed)
        files = SaveFiles(resume=lambda epoch: round_resume_point(job.directory, index, epoch))

        def snapshot(session: Session) -> dict[str, Any]:
            if small:
                small.write_back()
            fit = {**session.state(), "compact": bool(small)}
            return {**self._saved(index), "model": self.model.state_dict(), "fit": fit}

        n_train = len(self.data.y_train)
        validation_stop = job.validation_stop
        train(
            accelerate(job.platform, net) if small else self.net,
            session.optimizer,
            self.data,
            job.train,
            self.feed,
            order,
            checkpoint_schedule(job.train, job.platform),
            session.progress,
            max_epochs=job.prune.budget(job.train),
            patience=job.prune.stop_patience if validation_stop else None,
            masks=MaskedWeights(net, masks),
            lr_at=retraining_rates(
                job.method, job.train, job.source_epoch, job.prune.rewind_epoch, n_train
            ),
            evaluated=session.keep_best if validation_stop else lambda progress: None,
            save=session.saver(files, snapshot),
        )
        chosen = session.progress
        if validation_stop and session.best and not chosen.metrics["diverged"]:
            # Early stopping, as the dense baseline is chosen: the round is its model of lowest
            # validation error, so the next round prunes *those* weights -- pruning the last
            # epoch's would hand the next round a model this round's own choice rejected.
            net.load_state_dict(session.best["model"])
            best = session.best
            chosen = Progress(best["epoch"], best["step"], best["metrics"])
        if small:
            small.write_back()
        self.record(index, target, chosen, session.seconds(), spent=session.progress.epoch)

    def _compacts(self) -> bool:
        return self.job.platform.compact and self.job.train.weight_decay == 0

    def save(self, index: int) -> None:
        """Round ``index`` is done: its checkpoint replaces the resume points inside it."""
        save_checkpoint(
            {**self._saved(index), "model": self.model.state_dict()},
            round_checkpoint(self.job.directory, index),
        )
        drop_resume_points(self.job.directory)

    def _saved(self, index: int) -> dict[str, Any]:
        return {"round": index, "masks": self.masks or {}, "rows": self.rows, "spec": self.job.spec}

    def record(
        self, index: int, target: float, progress: Progress, seconds: float, spent: int = 0
    ) -> None:
        """The row of round ``index``: the model it reports (``progress``: its epoch, step and
        evaluation) after ``spent`` epochs of retraining."""
        model, job = self.model, self.job
        kept = sum(int(w.count_nonzero()) for w in self.weights.values())
        n_params, nonzero = count_parameters(model), count_nonzero_parameters(model)
        self.rows.append(
            {
                **job.identity,
                "method": job.method.name,
                "scope": job.prune.scope,
                "round": index,
                "target_sparsity": target,
                "epochs": progress.epoch,
                "epochs_spent": spent,
                "step": progress.step,
                **progress.metrics,
                "n_params": n_params,
                "n_nonzero": nonzero,
                "n_prunable": self.n_prunable,
                "n_prunable_nonzero": kept,
                "layer_counts": json.dumps(
                    {name: int(w.count_nonzero()) for name, w in self.weights.items()}
                ),
                "sparsity": 1.0 - nonzero / n_params,
                "remaining_fraction": nonzero / n_params,
                "wall_seconds": seconds,
            }
        )
        metrics = progress.metrics
        so_far = sum(row["wall_seconds"] for row in self.rows)
        log.info(
            "%s %s: sparsity %.4f train_error %.4f val_error %.4f test_error %.4f (epoch %d of %d)",
            job.method.name,
            progress_line(index, len(job.prune.schedule(self.n_prunable)), so_far, "round"),
            1 - kept / self.n_prunable,
            metrics["train_error"],
            metrics["val_error"],
            metrics["test_error"],
            progress.epoch,
            spent,
        )


def prune_run(
    model: nn.Module, data: RunData, job: PruneJob, rewind_state: Weights | None = None
) -> list[dict[str, Any]]:
    """Prune ``model`` (loaded with the dense checkpoint of ``job.source_epoch``) by
    ``job.method``, round by round; one row per round. ``rewind_state``: the weights of the
    rewind checkpoint, for the methods that start from them."""
    if job.method.needs_rewind_checkpoint and rewind_state is None:
        raise ValueError(f"{job.method.name} needs the weights of the rewind checkpoint")
    if job.method.counts_from and job.layer_counts is None:
        raise ValueError(f"{job.method.name} needs {job.method.counts_from}'s per-layer counts")
    dense = {k: v.detach().clone() for k, v in model.state_dict().items()}
    rounds = Rounds(job, model, data, Sources(dense, rewind_state))
    targets = rounds.targets()
    resumed = rounds.resume()
    counted = job.layer_counts
    for index in range(len(rounds.rows), len(targets) + 1):
        if rounds.diverged:
            break
        if index > 0 and counted is not None and index not in counted:
            log.info(
                "%s: no round %d of %s to match; done",
                job.method.name,
                index,
                job.method.counts_from,
            )
            break
        if index == 0:
            rounds.evaluate_source()
        else:
            target, keep = targets[index - 1]
            if resumed is None:
                rounds.prune(index, keep)
            rounds.retrain(index, target, resumed)
            resumed = None
        rounds.save(index)
    return rounds.rows
