"""A training loop's resumable state, and how it is saved: one implementation for the dense
runs and for every retraining round.

A :class:`Session` is what :func:`ddprune.training.loop.train` works on -- the model, its
optimizer, the data-order generator and the :class:`~ddprune.training.loop.Progress` -- plus
the wall time spent so far. :meth:`Session.state` is everything resuming needs, and
:meth:`Session.resume` puts it back, so a killed job continues with the same numbers as an
uninterrupted one. A job (a dense run, a pruning job) adds what it keeps besides (its spec,
its rows, its masks) and says where each kind of save goes (:class:`SaveFiles`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ddprune.training.checkpoints import save_checkpoint, save_resume_point
from ddprune.training.loop import Progress, SaveKind

Snapshot = Callable[["Session"], dict[str, Any]]


@dataclass
class Session:
    """One training loop's state; see the module docstring."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    order: torch.Generator
    progress: Progress = field(default_factory=Progress)
    wall: float = 0.0  # seconds spent before this process took over
    # The model of the lowest validation error so far, with its metrics, epoch and step, kept
    # by :meth:`keep_best` (early stopping on validation: what a retraining round reports).
    best: dict[str, Any] | None = None
    _started: float = field(default_factory=time.perf_counter, repr=False)

    def seconds(self) -> float:
        """Wall seconds spent on this loop, across resumes."""
        return self.wall + time.perf_counter() - self._started

    def state(self) -> dict[str, Any]:
        """Everything the loop needs to continue, as tensors and plain values."""
        progress = self.progress
        return {
            "epoch": progress.epoch,
            "step": progress.step,
            "metrics": progress.metrics,
            "best": progress.best,
            "best_model": self.best,
            "wall": self.seconds(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng_torch": torch.get_rng_state(),
            "rng_order": self.order.get_state(),
        }

    def keep_best(self, progress: Progress) -> None:
        """The loop's ``evaluated`` hook for early stopping: keep a copy of the model (weights
        and buffers) whenever its validation error is a new low."""
        if progress.at_best:
            self.best = {
                "model": {k: v.detach().clone() for k, v in self.model.state_dict().items()},
                "metrics": dict(progress.metrics),
                "epoch": progress.epoch,
                "step": progress.step,
            }

    def resume(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state` (a dense checkpoint written before ``best`` was saved
        has none: only retraining's validation stop reads it)."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng_torch"])
        self.order.set_state(state["rng_order"])
        best = state.get("best")
        self.progress = Progress(
            state["epoch"], state["step"], state["metrics"], tuple(best) if best else None
        )
        self.best = state.get("best_model")
        self.wall, self._started = state["wall"], time.perf_counter()

    def saver(self, files: SaveFiles, snapshot: Snapshot) -> Callable[[Progress, SaveKind], None]:
        """The loop's ``save`` hook: ``snapshot(self)`` (the job's state around this
        session's) written where ``files`` sends that kind of save."""

        def save(progress: Progress, kind: SaveKind) -> None:
            if kind == "resume" or (kind == "periodic" and files.kept is None):
                save_resume_point(snapshot(self), files.resume(progress.epoch))
            elif files.kept is not None:  # periodic checkpoints, and the last epoch's
                save_checkpoint(snapshot(self), files.kept(progress.epoch))

        return save


@dataclass(frozen=True)
class SaveFiles:
    """Where a loop's saves go, by epoch: ``resume`` points (only the newest is kept) and
    ``kept`` checkpoints -- the periodic ones and the last epoch's, part of a dense run's
    record. Without ``kept`` (retraining rounds) periodic saves are resume points and the
    end of the loop saves nothing: the round's own checkpoint follows at once."""

    resume: Callable[[int], Path]
    kept: Callable[[int], Path] | None = None
