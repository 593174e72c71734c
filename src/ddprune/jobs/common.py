"""What the jobs that train or evaluate a network share: a run's data on its device, its
model from a checkpoint, and what identifies its data in a checkpoint's spec."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import torch

from ddprune.data.datasets import load_dataset
from ddprune.data.noise import NoisyLabels
from ddprune.data.run_data import RunData, labels_from_table
from ddprune.foundations.tables import read_table
from ddprune.models import build_model
from ddprune.study.paths import PathLike
from ddprune.study.runs import Run, Study
from ddprune.training.checkpoints import load_checkpoint


def read_labels(path: PathLike) -> dict[str, NoisyLabels]:
    return labels_from_table(read_table(path, "labels"))


def run_data(study: Study, run: Run, labels: PathLike, device: torch.device) -> RunData:
    """The run's dataset with its recorded label noise (the ``labels`` table), on ``device``."""
    dataset = load_dataset(run.dataset, study.dataset_options(run.dataset))
    return RunData.build(dataset, read_labels(labels), device)


def job_spec(study: Study, run: Run, data: RunData, **more: Any) -> dict[str, Any]:
    """What determines a training or pruning job's numbers, stored in each of its checkpoints
    (a checkpoint saved under another spec is never resumed): the run, the ``train``
    section, the data's options and checksum (a changed file restarts the job), and what the
    job adds (a pruning job: the source epoch, the method, the ``prune`` section)."""
    data_spec = {**study.dataset_options(run.dataset), "sha256": data.sha256}
    return {"run": asdict(run), "train": study.train.as_dict(), "data": data_spec, **more}


def load_model(run: Run, data: RunData, checkpoint: PathLike) -> torch.nn.Module:
    """The run's model on the data's device, with the weights of ``checkpoint``."""
    device = data.x_train.device
    model = build_model(run.model, run.width, data.input_shape, data.num_classes).to(device)
    model.load_state_dict(load_checkpoint(checkpoint, map_location=device)["model"])
    return model
