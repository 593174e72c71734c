"""Pruning methods as records: each is a choice along four axes, not a string to dispatch on.

A method says

* how each weight is scored (``score``, a name in :data:`ddprune.pruning.scores.SCORES`): by
  magnitude among the survivors of the previous round (``magnitude``), by magnitude of the
  dense checkpoint, straight to the round's count (``dense-magnitude``), or at random
  (``random``);
* whose per-layer counts the selection keeps (``counts_like``): none (``prune.scope``
  decides), or another score's selection (the random control keeps one-shot magnitude's);
  or (``counts_from``) another method's job on the same source, round by round, read from its
  rounds table -- the only way to match an *iterative* method's counts, which depend on its
  whole trajectory;
* which weights a round starts from before masking (``start``): those of the previous round
  (``previous``), the dense checkpoint's (``dense``), or the rewind checkpoint's (``rewind``);
* which learning rates retraining replays (``rates``): the dense run's final rate
  (``final``: fine-tuning) or its schedule from ``prune.rewind_epoch``'s step (``rewind``);
* how long a round trains (``stop``): as the study says (``prune.stop``: by default until
  validation stops improving, reporting the validation-best model), or its full budget,
  reporting its last epoch (``fixed``).

Methods (He et al. 2022; Frankle & Carbin 2019; Renda et al. 2020):

* ``imp-finetune``  -- iterative magnitude pruning; keep the surviving weights and fine-tune;
* ``imp-rewind``    -- iterative magnitude pruning; rewind the survivors to their values at
  ``rewind_epoch`` (the lottery-ticket procedure) and retrain;
* ``imp-lr-rewind`` -- iterative magnitude pruning; keep the weights, rewind only the learning
  rate schedule;
* ``oneshot``       -- from the dense checkpoint straight to each target sparsity by magnitude,
  then fine-tune;
* ``random``        -- random masks with the same per-layer counts as ``oneshot``'s, applied to
  the dense checkpoint, then fine-tune (the control for magnitude, with the dense weights);
* ``random-rewind`` -- random masks with the same per-layer counts as ``imp-rewind``'s at every
  round, survivors rewound to ``rewind_epoch`` and retrained as ``imp-rewind``'s are: the
  control that separates the IT's mask from a random one when neither keeps its weights.

Every method has a fixed-budget twin, ``<name>-fixed``, pruned from the IT model only: the
other row of the 2 x 2 {dense, pruned} x {early-stopped, full budget}, where the pruned IT
model trained to its full budget meets the final dense model, which is not early-stopped
either (without the twin, question 1 compares an early-stopped pruned model with a dense one
that is not). Its random-mask control keeps the twin's counts (``random-rewind-fixed`` keeps
``imp-rewind-fixed``'s).

Torch-free, so that planning (which checkpoints a job needs) reads the same records that
pruning runs by; the scores live in :mod:`ddprune.pruning.scores`, the other axes'
behaviour in :mod:`ddprune.pruning.rounds`. A new method is one more record; the config
schema names this registry (``x-registry: pruning-methods``), so it accepts the new name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from ddprune.foundations.registry import Registry

StartRule = Literal["previous", "dense", "rewind"]
RateRule = Literal["final", "rewind"]
StopRule = Literal["study", "fixed"]
FIXED = "-fixed"  # the suffix of a method's fixed-budget twin


@dataclass(frozen=True)
class PruneMethod:
    name: str
    score: str
    start: StartRule
    rates: RateRule
    counts_like: str | None = None
    counts_from: str | None = None  # another method, whose job's per-layer counts it keeps
    stop: StopRule = "study"
    it_only: bool = False  # pruned from the IT model only, not from the other sources

    @property
    def needs_rewind_checkpoint(self) -> bool:
        """Whether its jobs read the run's checkpoint of ``prune.rewind_epoch``."""
        return self.start == "rewind"

    def fixed_twin(self) -> PruneMethod:
        """The same method trained to its full budget every round, at the IT model only."""
        counts_from = self.counts_from and self.counts_from + FIXED
        return replace(
            self, name=self.name + FIXED, counts_from=counts_from, stop="fixed", it_only=True
        )


PRUNE_METHODS: Registry[PruneMethod] = Registry("pruning method")
for _method in (
    PruneMethod("imp-finetune", score="magnitude", start="previous", rates="final"),
    PruneMethod("imp-rewind", score="magnitude", start="rewind", rates="rewind"),
    PruneMethod("imp-lr-rewind", score="magnitude", start="previous", rates="rewind"),
    PruneMethod("oneshot", score="dense-magnitude", start="dense", rates="final"),
    PruneMethod(
        "random", score="random", start="dense", rates="final", counts_like="dense-magnitude"
    ),
    PruneMethod(
        "random-rewind", score="random", start="rewind", rates="rewind", counts_from="imp-rewind"
    ),
):
    PRUNE_METHODS.add(_method.name, _method)
    PRUNE_METHODS.add(_method.name + FIXED, _method.fixed_twin())
