"""Label noise as in the double-descent literature, in its two forms.

Exactly ``round(rate * n)`` training samples -- so the rate is exact rather than only correct
in expectation -- have their label redrawn:

* ``incorrect-class`` (Nakkiran et al. 2019, the default): as a class drawn uniformly from
  the *other* classes, so every redrawn label is wrong and the realised rate is ``rate``;
* ``symmetric`` (He et al. 2022 and their OpenLTH fork, Quétu & Tartaglione's DSD²): as a
  class drawn uniformly from *all* K classes, so a redrawn label stays correct with
  probability 1/K and the realised rate is about ``rate * (K - 1) / K``.

The draw depends only on (dataset, rate, seed, kind), so every width of a sweep sees the same
labels; the mask of redrawn samples is returned to be recorded, and memorisation is measured
on the samples whose label actually changed. The validation labels get noise of the same rate
and kind, drawn apart from the training labels' (:func:`draw_noise`): a user who holds out
validation data from a noisy training set has noisy validation labels, and that is what every
choice made on validation must live with.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ddprune.catalog import DEFAULT_NOISE_KIND, NOISE_KINDS
from ddprune.data.base import Dataset
from ddprune.foundations.seeds import derive_seed


@dataclass(frozen=True)
class NoisyLabels:
    """Clean and noisy training labels and the mask of samples whose label was redrawn."""

    clean: torch.Tensor
    noisy: torch.Tensor
    is_noisy: torch.Tensor

    @property
    def realised_rate(self) -> float:
        return realised_rate(self.noisy, self.clean)


def realised_rate(noisy: torch.Tensor, clean: torch.Tensor) -> float:
    """The fraction of labels that differ from the clean ones (0 for no labels)."""
    return float((noisy != clean).double().mean()) if clean.numel() else 0.0


def corrupt_labels(
    labels: torch.Tensor,
    num_classes: int,
    rate: float,
    dataset: str,
    seed: int,
    kind: str = DEFAULT_NOISE_KIND,
) -> NoisyLabels:
    """Redraw exactly ``round(rate * len(labels))`` labels, as ``kind`` says (module doc)."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"noise rate must lie in [0, 1], got {rate}")
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise kind {kind!r} is not one of {list(NOISE_KINDS)}")
    if num_classes < 2 and rate > 0:
        raise ValueError("label noise needs at least two classes")
    labels = labels.to(torch.int64).cpu()
    n = labels.numel()
    # The default kind keeps the key it had before there was a choice (and so its draws).
    key = ("label-noise", dataset, rate, seed) + (() if kind == DEFAULT_NOISE_KIND else (kind,))
    generator = torch.Generator().manual_seed(derive_seed(*key))
    n_noisy = round(rate * n)
    chosen = torch.randperm(n, generator=generator)[:n_noisy]
    noisy = labels.clone()
    if kind == "symmetric":
        noisy[chosen] = torch.randint(0, max(num_classes, 1), (n_noisy,), generator=generator)
    else:
        # An offset in 1..C-1 added modulo C is uniform over the C-1 incorrect classes.
        offsets = torch.randint(1, max(num_classes, 2), (n_noisy,), generator=generator)
        noisy[chosen] = (labels[chosen] + offsets) % num_classes
    is_noisy = torch.zeros(n, dtype=torch.bool)
    is_noisy[chosen] = True
    return NoisyLabels(clean=labels, noisy=noisy, is_noisy=is_noisy)


SPLITS = ("train", "validation")  # the splits whose labels are noised (the test set is clean)


def draw_noise(
    dataset: Dataset, name: str, rate: float, seed: int, kind: str = DEFAULT_NOISE_KIND
) -> dict[str, NoisyLabels]:
    """The noisy labels of ``dataset``'s training and validation splits, by split; ``name`` is
    the study's name of the dataset (the training draw keeps the key it always had)."""
    return {
        split: corrupt_labels(
            labels,
            dataset.num_classes,
            rate,
            name if split == "train" else f"{name}/{split}",
            seed,
            kind,
        )
        for split, labels in zip(SPLITS, (dataset.y_train, dataset.y_val), strict=True)
    }
