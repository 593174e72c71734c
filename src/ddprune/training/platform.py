"""Where and how a job runs (the ``platform`` section, :class:`~ddprune.study.hparams.Platform`):
its device, CPU threads and speed switches. None of them changes the numbers beyond
floating-point rounding, so none is part of a run's identity."""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
from pathlib import Path
from typing import IO

import torch
from torch import nn

from ddprune.study.hparams import Platform

log = logging.getLogger(__name__)


def accelerate(platform: Platform, model: nn.Module) -> nn.Module:
    """The module to call for ``model``: its convolution weights laid out channels_last
    (in place; the faster layout for tensor cores) and compiled, as ``platform`` says.

    Compiling wraps the model without copying it, so masks, optimizers and state dicts
    keep working on ``model`` itself, whose state_dict keys stay unprefixed.
    """
    if platform.channels_last:
        model.to(memory_format=torch.channels_last)
    return torch.compile(model) if platform.compile else model


def resolve_device(name: str, runs_per_gpu: int = 1) -> torch.device:
    """``auto`` picks CUDA when present (respecting CUDA_VISIBLE_DEVICES), else the CPU.

    With several visible GPUs (a workstation; a SLURM job sees only its own), or several runs
    per GPU, the job claims a slot of a GPU that no other ddprune job holds, so that
    `--resources gpu=G` runs G x ``runs_per_gpu`` jobs spread over G GPUs.
    """
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("platform.device is 'cuda' but no CUDA device is visible; use 'auto'")
    if name == "cuda" and (torch.cuda.device_count() > 1 or runs_per_gpu > 1):
        return torch.device("cuda", claim_gpu(torch.cuda.device_count(), runs_per_gpu))
    return torch.device(name)


_claimed: list[IO] = []  # open lock files: a claim lasts as long as the process


def claim_gpu(count: int, runs_per_gpu: int = 1, lock_dir: str | os.PathLike | None = None) -> int:
    """The index of a visible GPU with a slot that no other live ddprune process holds.

    Claims are exclusive ``flock`` locks on one file per (GPU, slot); the kernel drops them
    when the process ends, however it ends, so a killed job never leaves a slot claimed.
    Slots are taken round the GPUs (every GPU's first slot, then every second one), so that
    fewer jobs than slots still spread over all GPUs.
    """
    directory = Path(lock_dir or tempfile.gettempdir())
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "all").replace(",", "-")
    for slot in range(runs_per_gpu):
        for index in range(count):
            lock = directory / f"ddprune-gpu-{visible}-{index}-slot{slot}.lock"
            handle = open(lock, "a")  # noqa: SIM115
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            _claimed.append(handle)
            return index
    raise RuntimeError(
        f"all {count} visible GPUs x {runs_per_gpu} runs per GPU are claimed by other "
        f"ddprune jobs; run Snakemake with --resources gpu={count} so that it starts no more "
        "GPU jobs than there are slots"
    )


def configure(platform: Platform, threads: int | None = None) -> torch.device:
    """Use exactly the CPU threads the scheduler granted (Snakemake's ``threads``), and
    deterministic kernels, so that a rerun on the same machine gives the same numbers.

    cuBLAS needs its workspace fixed before it starts for that. An operation without a
    deterministic CUDA kernel warns in the job's log instead of failing the job.

    ``torch.use_deterministic_algorithms`` also sets the compiler's own determinism flag,
    and importing the compiler's config to do so imports ``torch._inductor`` -- some 800
    modules, about a second of every job's start. Where nothing is compiled
    (``platform.compile`` off) that flag is never read, so only the switch the kernels read
    is set; with compilation on, the public call sets both.
    """
    torch.set_num_threads(threads or platform.threads)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if platform.compile:
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        torch._C._set_deterministic_algorithms(True, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = False  # a cost, not a guarantee
    torch.backends.cudnn.benchmark = False
    device = resolve_device(platform.device, platform.runs_per_gpu)
    log.info(
        "device %s (%d runs per GPU), %d CPU threads, channels_last %s, compile %s",
        device,
        platform.runs_per_gpu,
        torch.get_num_threads(),
        platform.channels_last,
        platform.compile,
    )
    return device
