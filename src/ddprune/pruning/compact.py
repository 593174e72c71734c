"""A pruned MLP retrained as the smaller network it equals.

A hidden unit whose outgoing weights are all pruned contributes nothing to the output, and
an input feature whose outgoing weights are all pruned is never used: the compact network
drops both (it gathers only the live features), so a round at 125 of 37,888 weights costs
what 125 weights cost, not what the full masked network does. The weights it keeps are the
full network's, in the same places; its masks are the full masks at those places (zeros
scattered among live units stay masked, as before).

Exact in real arithmetic, and up to float rounding in practice (the products sum the same
non-zero terms, in other blocks): the dropped parameters get a gradient of exactly zero in
the masked network (no path reaches the loss), so with a fresh optimizer every round they
never move there either -- unless weight decay pulls them, which is why a run with
``train.weight_decay > 0`` is not compacted (the masked network's dead weights would decay,
and the next round's magnitude ranking would see that). ``write_back`` puts the trained
weights into the full network, whose checkpoints, masks and counts are those of the masked
path.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ddprune.pruning.masks import Masks

# Compact only where the compact network has at most this fraction of the full one's weights:
# gathering the live features costs a copy of the inputs every step, which a network that
# drops little does not earn back (benchmarks/train_step.py, part 3).
WORTH = 0.5


class Gather(nn.Module):
    """Flatten the inputs and keep the live features (the compact network's first step)."""

    def __init__(self, index: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("index", index)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1).index_select(1, self.index)


@dataclass
class Compact:
    """The compact network of a masked MLP (``model``: the same parameter names), its masks,
    and for each linear layer the kept rows (outputs) and columns (inputs) of the full one."""

    full: nn.Module
    model: nn.Module
    masks: Masks
    kept: dict[str, tuple[torch.Tensor, torch.Tensor]]  # layer name -> (rows, columns)

    @torch.no_grad()
    def write_back(self) -> None:
        """The compact network's weights into their places in the full network."""
        for name, (rows, columns) in self.kept.items():
            full, small = self.full.get_submodule(name), self.model.get_submodule(name)
            full.weight[rows.unsqueeze(1), columns] = small.weight
            full.bias[rows] = small.bias


def _chain(model: nn.Module) -> list[tuple[str, nn.Linear]] | None:
    """The linear layers of an MLP as ddprune builds them (Flatten, then Linear layers with
    ReLUs between), or None for any other architecture."""
    if not isinstance(model, nn.Sequential) or not isinstance(model[0], nn.Flatten):
        return None
    layers = []
    for name, module in list(model.named_children())[1:]:
        if isinstance(module, nn.Linear) and module.bias is not None:
            layers.append((name, module))
        elif not isinstance(module, nn.ReLU):
            return None
    return layers or None


def _live_inputs(layer: nn.Linear, mask: torch.Tensor | None) -> torch.Tensor:
    """The inputs of ``layer`` with at least one unpruned weight."""
    if mask is None:
        return torch.arange(layer.in_features, device=layer.weight.device)
    return mask.any(dim=0).nonzero().flatten()


def compact(model: nn.Module, masks: Masks) -> Compact | None:
    """The compact network of ``model`` under ``masks`` (already applied to its weights), or
    None where it would not be much smaller (:data:`WORTH`) or the architecture is not an
    MLP."""
    layers = _chain(model)
    if layers is None:
        return None
    mask_of = {name: masks.get(f"{name}.weight") for name, _ in layers}
    columns = [_live_inputs(layer, mask_of[name]) for name, layer in layers]
    last = layers[-1][1]
    rows = [*columns[1:], torch.arange(last.out_features, device=last.weight.device)]
    full_size = sum(layer.weight.numel() for _, layer in layers)
    if sum(len(r) * len(c) for r, c in zip(rows, columns, strict=True)) > WORTH * full_size:
        return None
    small = nn.Sequential(*[Gather(columns[0]) if i == 0 else m for i, m in enumerate(model)])
    kept, compact_masks = {}, {}
    for (name, layer), r, c in zip(layers, rows, columns, strict=True):
        piece = nn.Linear(1, 1)  # its parameters are replaced by the kept ones
        piece.weight = nn.Parameter(layer.weight.detach()[r.unsqueeze(1), c])
        piece.bias = nn.Parameter(layer.bias.detach()[r])
        piece.in_features, piece.out_features = len(c), len(r)
        small[int(name)] = piece
        kept[name] = (r, c)
        if mask_of[name] is not None:
            compact_masks[f"{name}.weight"] = mask_of[name][r.unsqueeze(1), c]
    return Compact(model, small, compact_masks, kept)
