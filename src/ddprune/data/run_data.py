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
from ddprune.data.noise import SPLITS, NoisyLabels, realised_rate


@dataclass(frozen=True)
class RunData(Dataset):
    """A dataset on the run's device, trained on noisy labels.

    ``y_train`` holds the labels the model is trained on (noisy); the clean ones are kept
    beside them for the metrics. ``y_val`` holds the validation labels noised the same way
    (what a user has to choose with); the test labels stay clean. ``pixels`` standardises
    uint8 images (None for float features, which are used as stored).
    """

    y_train_clean: torch.Tensor
    pixels: PixelScale | None = None

    @property
    def noise_realised(self) -> float:
        return realised_rate(self.y_train, self.y_train_clean)

    @classmethod
    def build(
        cls, dataset: Dataset, labels: dict[str, NoisyLabels], device: torch.device
    ) -> RunData:
        """``dataset`` on ``device`` with the noisy labels of each split (by split name, as
        :func:`ddprune.data.noise.draw_noise` gives them)."""
        for split, clean in (("train", dataset.y_train), ("validation", dataset.y_val)):
            if not torch.equal(labels[split].clean, clean):
                raise ValueError(
                    f"{dataset.name}: the recorded clean {split} labels differ from the "
                    "dataset's; the split changed since the labels were drawn (rerun the "
                    "labels rule)"
                )
        return cls(
            name=dataset.name,
            x_train=dataset.x_train.to(device),
            y_train=labels["train"].noisy.to(device),
            y_train_clean=labels["train"].clean.to(device),
            x_test=dataset.x_test.to(device),
            y_test=dataset.y_test.to(device),
            x_val=dataset.x_val.to(device),
            y_val=labels["validation"].noisy.to(device),
            num_classes=dataset.num_classes,
            sha256=dataset.sha256,
            pixels=PixelScale.of(dataset.x_train).to(device)
            if dataset.x_train.dtype == torch.uint8
            else None,
        )


def labels_table(
    labels: dict[str, NoisyLabels],
    study: str,
    dataset: str,
    noise: float,
    noise_kind: str,
    seed: int,
) -> list:
    """Rows recording one draw of label noise (one per training and validation sample)."""
    return [
        {
            "study": study,
            "dataset": dataset,
            "noise": float(noise),
            "noise_kind": noise_kind,
            "seed": int(seed),
            "split": split,
            "index": i,
            "label_clean": int(c),
            "label_noisy": int(n),
            "is_noisy": bool(m),
        }
        for split, draw in labels.items()
        for i, (c, n, m) in enumerate(
            zip(draw.clean.tolist(), draw.noisy.tolist(), draw.is_noisy.tolist(), strict=True)
        )
    ]


def labels_from_table(table: pd.DataFrame) -> dict[str, NoisyLabels]:
    """The inverse of :func:`labels_table`: each split's labels, in sample order."""

    def column(rows: pd.DataFrame, name: str, dtype: torch.dtype) -> torch.Tensor:
        return torch.tensor(rows[name].to_numpy(), dtype=dtype)

    return {
        split: NoisyLabels(
            clean=column(rows, "label_clean", torch.int64),
            noisy=column(rows, "label_noisy", torch.int64),
            is_noisy=column(rows, "is_noisy", torch.bool),
        )
        for split in SPLITS
        for rows in [table[table["split"] == split].sort_values("index")]
    }
