"""The tensors one run trains and evaluates on, placed on its device once.

Keeping the whole dataset resident on the device removes the data loader from the hot loop:
a batch is an index into tensors that already live where the model does. Images stay uint8
there; :mod:`ddprune.data.feed` turns a batch into standardised floats when it is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from ddprune.data.base import Dataset
from ddprune.data.feed import PixelScale
from ddprune.data.noise import NoisyLabels, realised_rate


@dataclass(frozen=True)
class RunData(Dataset):
    """A dataset on the run's device, trained on noisy labels.

    ``y_train`` holds the labels the model is trained on (noisy); the clean ones are kept
    beside them for the metrics. ``pixels`` standardises uint8 images (None for float
    features, which are used as stored).
    """

    y_train_clean: torch.Tensor
    pixels: PixelScale | None = None

    @property
    def noise_realised(self) -> float:
        return realised_rate(self.y_train, self.y_train_clean)

    @classmethod
    def build(cls, dataset: Dataset, labels: NoisyLabels, device: torch.device) -> RunData:
        if not torch.equal(labels.clean, dataset.y_train):
            raise ValueError(
                f"{dataset.name}: the recorded clean labels differ from the dataset's training "
                "labels; the split changed since the labels were drawn (rerun the labels rule)"
            )
        return cls(
            name=dataset.name,
            x_train=dataset.x_train.to(device),
            y_train=labels.noisy.to(device),
            y_train_clean=labels.clean.to(device),
            x_test=dataset.x_test.to(device),
            y_test=dataset.y_test.to(device),
            num_classes=dataset.num_classes,
            sha256=dataset.sha256,
            pixels=PixelScale.of(dataset.x_train).to(device)
            if dataset.x_train.dtype == torch.uint8
            else None,
        )


def labels_table(
    labels: NoisyLabels, study: str, dataset: str, noise: float, noise_kind: str, seed: int
) -> list:
    """Rows recording one draw of label noise (one per training sample)."""
    return [
        {
            "study": study,
            "dataset": dataset,
            "noise": float(noise),
            "noise_kind": noise_kind,
            "seed": int(seed),
            "index": i,
            "label_clean": int(c),
            "label_noisy": int(n),
            "is_noisy": bool(m),
        }
        for i, (c, n, m) in enumerate(
            zip(labels.clean.tolist(), labels.noisy.tolist(), labels.is_noisy.tolist(), strict=True)
        )
    ]


def labels_from_table(table: pd.DataFrame) -> NoisyLabels:
    """The inverse of :func:`labels_table` (rows sorted by sample index)."""
    table = table.sort_values("index")
    return NoisyLabels(
        clean=torch.tensor(table["label_clean"].to_numpy(), dtype=torch.int64),
        noisy=torch.tensor(table["label_noisy"].to_numpy(), dtype=torch.int64),
        is_noisy=torch.tensor(table["is_noisy"].to_numpy(), dtype=torch.bool),
    )
