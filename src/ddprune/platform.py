"""Where a job runs: its device and CPU threads. Never part of a run's identity."""

from __future__ import annotations

import fcntl
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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
    """``auto`` picks CUDA when present (respecting CUDA_VISIBLE_DEVICES), else the CPU.

    With several visible GPUs (a workstation; a SLURM job sees only its own) the job claims
    one that no other ddprune job holds, so that `--resources gpu=G` runs G jobs on G GPUs.
    """
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("platform.device is 'cuda' but no CUDA device is visible; use 'auto'")
    if name == "cuda" and torch.cuda.device_count() > 1:
        return torch.device("cuda", claim_gpu(torch.cuda.device_count()))
    return torch.device(name)


_claimed: list[IO] = []  # open lock files: a claim lasts as long as the process


def claim_gpu(count: int, lock_dir: str | os.PathLike | None = None) -> int:
    """The index of a visible GPU that no other live ddprune process has claimed.

    Claims are exclusive ``flock`` locks on one file per GPU; the kernel drops them when the
    process ends, however it ends, so a killed job never leaves a GPU claimed.
    """
    directory = Path(lock_dir or tempfile.gettempdir())
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "all").replace(",", "-")
    for index in range(count):
        handle = open(directory / f"ddprune-gpu-{visible}-{index}.lock", "a")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _claimed.append(handle)
        return index
    raise RuntimeError(
        f"all {count} visible GPUs are claimed by other ddprune jobs; run Snakemake with "
        f"--resources gpu={count} so that it starts no more GPU jobs than there are GPUs"
    )


def configure(platform: Platform, threads: int | None = None) -> torch.device:
    """Use exactly the CPU threads the scheduler granted (Snakemake's ``threads``)."""
    torch.set_num_threads(threads or platform.threads)
    return resolve_device(platform.device)
