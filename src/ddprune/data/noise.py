"""Label noise as in the double-descent literature (Nakkiran et al. 2019).

A fraction ``rate`` of the training labels -- exactly ``round(rate * n)`` samples, so the
rate is exact rather than only correct in expectation -- is replaced by a class drawn
uniformly from the *other* classes. The draw depends only on (dataset, rate, seed), so every
width of a sweep sees the same corrupted labels, and the mask of corrupted samples is
returned so that memorisation can be measured and the draw recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ddprune.foundations.seeds import derive_seed


@dataclass(frozen=True)
class NoisyLabels:
    """Clean and noisy training labels and the mask of samples whose label was changed."""

    clean: torch.Tensor
    noisy: torch.Tensor
    is_noisy: torch.Tensor


def corrupt_labels(
    labels: torch.Tensor, num_classes: int, rate: float, dataset: str, seed: int
) -> NoisyLabels:
    """Replace exactly ``round(rate * len(labels))`` labels by a uniformly random wrong class."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"noise rate must lie in [0, 1], got {rate}")
    if num_classes < 2 and rate > 0:
        raise ValueError("label noise needs at least two classes")
    labels = labels.to(torch.int64).cpu()
    n = labels.numel()
    generator = torch.Generator().manual_seed(derive_seed("label-noise", dataset, rate, seed))
    n_noisy = round(rate * n)
    chosen = torch.randperm(n, generator=generator)[:n_noisy]
    # An offset in 1..C-1 added modulo C is uniform over the C-1 incorrect classes.
    offsets = torch.randint(1, max(num_classes, 2), (n_noisy,), generator=generator)
    noisy = labels.clone()
    noisy[chosen] = (labels[chosen] + offsets) % num_classes
    is_noisy = torch.zeros(n, dtype=torch.bool)
    is_noisy[chosen] = True
    return NoisyLabels(clean=labels, noisy=noisy, is_noisy=is_noisy)
