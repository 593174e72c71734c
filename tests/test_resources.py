"""What network jobs ask a scheduler for: sized from the model, a GPU only where it pays."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from conftest import REPO, snakemake
from ddprune.models import MODELS
from ddprune.study.hparams import Platform
from ddprune.study.resources import (
    GPU_MODELS,
    JobSize,
    job_group,
    network_job,
    network_resources,
)


def test_the_models_that_ask_for_a_gpu_are_registered():
    assert set(GPU_MODELS) <= set(MODELS.names())


@pytest.mark.parametrize(
    ("device", "slots", "mlp_gpu", "cnn_gpu"),
    [
        ("auto", False, 0, 1),  # a cluster: a GPU only where the model pays for one
        ("cuda", False, 1, 1),
        ("cpu", False, 0, 0),
        ("auto", True, 1, 1),  # --resources gpu=G: every job holds a slot ...
        ("cpu", True, 0, 0),  # ... unless the study runs on the CPU
    ],
)
def test_a_gpu_is_asked_for_where_the_model_pays_or_slots_are_shared(
    device, slots, mlp_gpu, cnn_gpu
):
    platform = Platform.of(device=device, threads=2)
    assert network_job(platform, "mlp", slots) == JobSize(mlp_gpu, 2, 2_000, 120)
    assert network_job(platform, "cnn5k", slots) == JobSize(cnn_gpu, 2, 16_000, 720)


def test_small_networks_share_a_group_and_convolutional_ones_stay_apart():
    """On a cluster the profile submits a group's jobs together (group-components): the MLPs'
    minutes-long jobs, never a convolutional network's hours-long ones."""
    assert job_group("mlp") == "small-networks"
    assert {job_group(model) for model in GPU_MODELS} == {"gpu-networks"}


def test_memory_and_time_grow_with_each_attempt():
    resources = network_resources(Platform.of(), gpu_slots=False)
    job = SimpleNamespace(model="resnet18k")
    asked = {name: [value(job, attempt) for attempt in (1, 3)] for name, value in resources.items()}
    assert asked == {
        "gpu": [1, 1],
        "cpus_per_task": [1, 1],
        "mem_mb": [16_000, 48_000],
        "runtime": [720, 2_160],
    }


def test_the_planned_jobs_carry_their_requests(tmp_path):
    """A dry run shows what each job would ask a cluster for: the tiny MLP study's training
    jobs no GPU, 2 GB and 2 hours; a convolutional study's a GPU, 16 GB and 12 hours."""
    for configfile, expected in (
        (REPO / "tests/configs/tiny.yaml", "gpu=0, cpus_per_task=1, runtime=120, mem_mb=2000"),
        (
            REPO / "configs/cifar10-cnn5k-short.yaml",
            "gpu=1, cpus_per_task=4, runtime=720, mem_mb=16000",
        ),
    ):
        result = snakemake(tmp_path, "-n", configfile=configfile)
        assert result.returncode == 0, result.stderr[-3000:]
        asked = set(re.findall(r"resources: tmpdir=\S+, (gpu=.*), mem=", result.stdout))
        assert asked == {expected}, (configfile, asked)
