"""Exact pruning masks over a model's prunable weights.

A mask is a boolean tensor per prunable weight. Masks are applied in place -- to the weights
when a round starts, to the gradients before every optimizer step -- so a pruned weight is
exactly zero after every step, its optimizer state stays zero, and the model remains a plain
dense module whose state_dict loads anywhere. (``torch.nn.utils.prune`` keeps a dense
``weight_orig`` plus a recomputed ``weight`` in every forward pass; OpenLTH multiplies the
weights by their masks before every forward pass. ``benchmarks/train_step.py`` times all three.)
Keep counts are exact: ties in the scores are broken by position, never by chance.
"""

from __future__ import annotations

import torch
from torch import nn

PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
Masks = dict[str, torch.Tensor]


def prunable_weights(model: nn.Module, include_output: bool = False) -> dict[str, nn.Parameter]:
    """Weights of linear and convolutional layers; biases and norm layers are never pruned.

    The last such layer is the output layer, pruned only with ``include_output``.
    """
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, PRUNABLE)]
    if not include_output:
        layers = layers[:-1]
    return {f"{name}.weight": module.weight for name, module in layers}


class MaskedWeights:
    """Masks bound to a model's parameters, applied in place: to the weights when a round
    starts (:meth:`apply_to_weights`), to the gradients before every optimizer step
    (:meth:`apply_to_gradients`) -- one multiply per step.

    Masked gradients alone keep pruned weights at exactly zero: an element whose weight,
    gradient and optimizer state are zero gets an update of exactly zero from every
    registered optimizer (SGD with momentum and weight decay, Adam: all element-wise), so its
    state stays zero too. That needs the optimizer's state zero at the pruned weights when
    masking starts: every round builds a fresh optimizer (tests/test_pruning.py checks each
    optimizer, and that the survivors train to the same bits as with the weights masked after
    every step as well). Masking the weights after the step instead costs the same but lets
    the pruned weights' optimizer state drift. With the fused optimizers a masked step costs
    what a dense one does (the element-wise Adam's ``sqrt`` of second moments that stay
    exactly zero was 5x slower than of positive numbers; ``benchmarks/train_step.py``); an MLP
    with many dead units trains as its compact network instead (:mod:`.compact`).
    """

    def __init__(self, model: nn.Module, masks: Masks) -> None:
        parameters = dict(model.named_parameters())
        self.weights = [parameters[name] for name in masks]
        self.masks = [mask.to(dtype=self.weights[0].dtype) for mask in masks.values()]

    @torch.no_grad()
    def apply_to_weights(self) -> None:
        torch._foreach_mul_(self.weights, self.masks)

    @torch.no_grad()
    def apply_to_gradients(self) -> None:
        grads = [weight.grad for weight in self.weights]
        if all(grad is not None for grad in grads):
            torch._foreach_mul_(grads, self.masks)
        else:  # a weight that took no part in the loss has no gradient to mask
            for grad, mask in zip(grads, self.masks, strict=True):
                if grad is not None:
                    grad.mul_(mask)
