"""What a job that trains or evaluates a network asks its scheduler for, sized from its model.

Locally these numbers only order jobs (Snakemake runs what ``--cores`` and ``--resources``
allow); on a cluster they are the request: a one-hidden-layer MLP of a few thousand weights
that asked for a GPU, 16 GB and 12 hours would wait in the GPU queue for hardware it cannot use
and hold a node slot it does not need. So a job asks for a GPU only where its model pays for one
-- ``platform.device: cuda``, or ``auto`` with a convolutional model -- except where the user
shares GPUs out as slots (``--resources gpu=G``): then every network job holds a slot unless
``platform.device`` is ``cpu``, as docs/gpus.md describes. And on a cluster, the jobs of small
networks are grouped (:func:`job_group`), a few submissions where each was one (the tiny test
study's 30 network jobs: 3).
Torch-free: the Snakefile reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ddprune.study.hparams import Platform

# The models that pay for a GPU: convolutional networks on images, whose steps are large. The
# MLPs of the shipped studies train in minutes on one CPU core.
GPU_MODELS = ("cnn5k", "resnet18k")


@dataclass(frozen=True)
class JobSize:
    """A network job's request: GPUs, CPU cores, memory (MB) and run time (minutes) at its
    first attempt; a retry (a job killed at its limit, docs/slurm.md) asks for ``attempt``
    times the memory and the time."""

    gpu: int
    cpus: int
    mem_mb: int
    runtime: int


def network_job(platform: Platform, model: str, gpu_slots: bool = False) -> JobSize:
    """The request of a job that trains or evaluates a ``model`` network. ``gpu_slots``: the
    run shares GPUs out with ``--resources gpu=G`` (then every job but a CPU study's holds a
    slot, so that G x runs_per_gpu of them run at once)."""
    wants = platform.device == "cuda" or (platform.device == "auto" and model in GPU_MODELS)
    gpu = platform.device != "cpu" if gpu_slots else wants
    if model in GPU_MODELS:
        return JobSize(int(gpu), platform.threads, mem_mb=16_000, runtime=720)
    return JobSize(int(gpu), platform.threads, mem_mb=2_000, runtime=120)


def network_resources(platform: Platform, gpu_slots: bool) -> dict[str, Callable[..., int]]:
    """The ``resources:`` of a rule whose jobs train or evaluate a network: ``gpu``,
    ``cpus_per_task``, ``mem_mb`` and ``runtime`` (the names the SLURM executor reads), each
    a function of the job's wildcards (its ``model``) and attempt, as Snakemake calls it."""
    fields = {"gpu": "gpu", "cpus_per_task": "cpus", "mem_mb": "mem_mb", "runtime": "runtime"}

    def resource(field: str) -> Callable[..., int]:
        grows = field in ("mem_mb", "runtime")

        def value(wildcards: Any, attempt: int) -> int:
            size = network_job(platform, wildcards.model, gpu_slots)
            return getattr(size, field) * (attempt if grows else 1)

        return value

    return {name: resource(field) for name, field in fields.items()}


def job_group(model: str) -> str:
    """The Snakemake group of a network job (used on a cluster only): the jobs of small
    networks share one, which the SLURM profile submits several at a time as one job
    (``group-components``); convolutional networks' jobs, hours each, stay one submission
    each."""
    return "gpu-networks" if model in GPU_MODELS else "small-networks"
