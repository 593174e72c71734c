"""Pruning in two steps, as Torch-Pruning's ``Importance`` objects split it: a *score* for
every prunable weight, then one :func:`select` that keeps exactly the ``keep`` best.

A score is a function ``(weights, sources, current, generator) -> Scores``: the weights as the
round starts, the weights the job can start rounds from (:class:`Sources`), the previous
round's masks (None before the first) and a generator seeded per round for scores that draw.
Registered in :data:`SCORES` under a name, it is what a pruning method record names as its
``score`` (:mod:`ddprune.study.pruning_methods`): a new criterion is one function here and one
record there. Counts and ties belong to :func:`select` alone, so every score keeps exactly as
many weights as the round's target, broken by position, never by chance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from ddprune.foundations.registry import Registry
from ddprune.pruning.masks import Masks
from ddprune.study.pruning_methods import PruneMethod

Weights = dict[str, torch.Tensor]
Scores = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Sources:
    """The weights a pruning job can start a round from."""

    dense: Weights  # the checkpoint being pruned
    rewind: Weights | None  # the run's checkpoint of prune.rewind_epoch, where needed


class Score(Protocol):
    def __call__(
        self,
        weights: Weights,
        sources: Sources,
        current: Masks | None,
        generator: torch.Generator,
    ) -> Scores: ...


SCORES: Registry[Score] = Registry("pruning score")
PRUNED = -1.0  # below every magnitude: a weight that a previous round pruned stays pruned


@SCORES.register("magnitude")
def magnitude(weights: Weights, sources: Sources, current: Masks | None, generator) -> Scores:
    """|w| of the weights as the round starts, among the survivors of the previous round
    (iterative magnitude pruning)."""
    return {
        name: torch.where(current[name], w.detach().abs(), PRUNED) if current else w.detach().abs()
        for name, w in weights.items()
    }


@SCORES.register("dense-magnitude")
def dense_magnitude(weights: Weights, sources: Sources, current: Masks | None, generator) -> Scores:
    """|w| of the dense checkpoint: every round goes straight to its count (one-shot)."""
    return {name: sources.dense[name].detach().abs() for name in weights}


@SCORES.register("random")
def uniform(weights: Weights, sources: Sources, current: Masks | None, generator) -> Scores:
    """Uniform random scores, drawn on the CPU so that a seed gives the same masks on every
    device."""
    return {
        name: torch.rand(w.shape, generator=generator).to(w.device) for name, w in weights.items()
    }


def _top(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Boolean mask of the ``k`` largest scores; ties go to the earlier position."""
    mask = torch.zeros(scores.numel(), dtype=torch.bool, device=scores.device)
    if k > 0:
        order = torch.argsort(scores.flatten(), descending=True, stable=True)
        mask[order[:k]] = True
    return mask.view_as(scores)


def layer_counts(sizes: list[int], keep: int) -> list[int]:
    """``keep`` weights shared among layers of ``sizes`` in proportion to their sizes, exactly.

    Largest remainders (ties to the earlier layer) make the counts sum to ``keep``: rounding
    each layer on its own would miss the round's count by up to a weight per layer.
    """
    total = sum(sizes)
    counts = [size * keep // total for size in sizes]
    by_remainder = sorted(range(len(sizes)), key=lambda i: (-(sizes[i] * keep % total), i))
    for i in by_remainder[: keep - sum(counts)]:
        counts[i] += 1
    return counts


def select(scores: Scores, keep: int, scope: str, counts: dict[str, int] | None = None) -> Masks:
    """Keep the ``keep`` highest scores, exactly; ties go to the earlier position.

    ``scope`` is ``global`` (one ranking over all prunable weights) or ``layer`` (each layer
    keeps its share of ``keep``, in proportion to its size: :func:`layer_counts`); ``counts``
    fixes how many each layer keeps instead (another selection's, see :func:`choose_masks`).
    """
    if counts is not None:
        return {name: _top(s, counts[name]) for name, s in scores.items()}
    if scope == "layer":
        shares = layer_counts([s.numel() for s in scores.values()], keep)
        return {n: _top(s, k) for (n, s), k in zip(scores.items(), shares, strict=True)}
    if scope != "global":
        raise ValueError(f"prune.scope: {scope!r}; allowed: global, layer")
    kept = _top(torch.cat([s.flatten() for s in scores.values()]), keep)
    masks, start = {}, 0
    for name, s in scores.items():
        masks[name] = kept[start : start + s.numel()].view_as(s)
        start += s.numel()
    return masks


def choose_masks(
    method: PruneMethod,
    weights: Weights,
    sources: Sources,
    current: Masks | None,
    keep: int,
    scope: str,
    generator: torch.Generator,
    counts: dict[str, int] | None = None,
) -> Masks:
    """The masks of one round of ``method``: its score, selected to ``keep`` weights -- per
    layer ``counts`` where given (another job's, for ``method.counts_from``), or as many as
    ``method.counts_like``'s selection keeps, where it names one (the random control keeps
    one-shot magnitude's per-layer counts, so that only *which* weights differ).
    """
    scores = SCORES[method.score](weights, sources, current, generator)
    if counts is not None:
        if sum(counts.values()) != keep or set(counts) != set(weights):
            raise ValueError(
                f"{method.name}: the per-layer counts {counts} do not keep {keep} weights of "
                f"the layers {list(weights)}"
            )
    elif method.counts_like is not None:
        like = SCORES[method.counts_like](weights, sources, current, generator)
        counts = {name: int(mask.sum()) for name, mask in select(like, keep, scope).items()}
    return select(scores, keep, scope, counts)
