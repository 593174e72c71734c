"""Where a job runs: its device and CPU threads. Never part of a run's identity."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ddprune.checkpoints import CheckpointSchedule


@dataclass(frozen=True)
class Platform:
    device: str = "auto"
    threads: int = 1
    eval_batch_size: int = 4096
    checkpoint_every: int = 500
    checkpoint_minutes: float | None = None
    on_bad_checkpoint: str = "fail"

    def schedule(self) -> CheckpointSchedule:
        return CheckpointSchedule(self.checkpoint_every, self.checkpoint_minutes)


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present (respecting CUDA_VISIBLE_DEVICES), else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("platform.device is 'cuda' but no CUDA device is visible; use 'auto'")
    return torch.device(name)


def configure(platform: Platform, threads: int | None = None) -> torch.device:
    """Use exactly the CPU threads the scheduler granted (Snakemake's ``threads``)."""
    torch.set_num_threads(threads or platform.threads)
    return resolve_device(platform.device)
