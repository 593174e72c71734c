"""Where jobs run: a slot of one GPU per job on a workstation (locks only: no GPU needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ddprune.training.platform import claim_gpu


def test_gpu_claims_are_exclusive_and_die_with_their_process(tmp_path):
    """Three jobs on a three-GPU workstation get GPUs 0, 1, 2; a fourth is refused with the
    fix; a killed job's GPU is free again. (Locks only: no GPU needed.)"""
    jobs = [claimer(tmp_path, gpus=3) for _ in range(3)]
    try:
        claimed = sorted(int(job.stdout.readline()) for job in jobs)
        assert claimed == [0, 1, 2]
        with pytest.raises(RuntimeError, match=r"all 3 visible GPUs.*--resources gpu=3"):
            claim_gpu(3, lock_dir=tmp_path)
        jobs[1].kill()
        jobs[1].wait()
        assert claim_gpu(3, lock_dir=tmp_path) in (0, 1, 2)
    finally:
        for job in jobs:
            job.kill()


def test_runs_per_gpu_share_each_gpu_in_slots_spread_over_the_gpus(tmp_path):
    """Two runs per GPU on two GPUs: the first two jobs land on different GPUs, four fill
    every slot, a fifth is refused with the hint, and a killed job's slot is free again."""
    jobs = []
    try:
        for _ in range(2):
            jobs.append(claimer(tmp_path, gpus=2, runs_per_gpu=2))
        assert sorted(int(job.stdout.readline()) for job in jobs) == [0, 1]
        for _ in range(2):
            jobs.append(claimer(tmp_path, gpus=2, runs_per_gpu=2))
        assert sorted(int(job.stdout.readline()) for job in jobs[2:]) == [0, 1]
        with pytest.raises(RuntimeError, match=r"2 visible GPUs x 2 runs per GPU.*gpu=2"):
            claim_gpu(2, 2, lock_dir=tmp_path)
        jobs[3].kill()
        jobs[3].wait()
        assert claim_gpu(2, 2, lock_dir=tmp_path) in (0, 1)
    finally:
        for job in jobs:
            job.kill()


def claimer(lock_dir, gpus: int, runs_per_gpu: int = 1) -> subprocess.Popen:
    """A process that claims a slot, prints its GPU and holds the claim for a minute."""
    code = (
        "import sys, time; from ddprune.training.platform import claim_gpu; "
        f"print(claim_gpu({gpus}, {runs_per_gpu}, lock_dir=sys.argv[1]), flush=True); "
        "time.sleep(60)"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, str(lock_dir)], stdout=subprocess.PIPE, text=True
    )


def test_deterministic_kernels_without_importing_the_compiler():
    """A job that compiles nothing switches torch to deterministic kernels without
    importing torch._inductor (about a second of every job's start); one that compiles sets
    the compiler's flag too."""
    script = (
        "import sys, torch\n"
        "from ddprune.study.hparams import Platform\n"
        "from ddprune.training.platform import configure\n"
        "configure(Platform.of(compile=sys.argv[1] == 'on'), threads=1)\n"
        "print(torch.are_deterministic_algorithms_enabled(),"
        " torch.is_deterministic_algorithms_warn_only_enabled(),"
        " 'torch._inductor' in sys.modules)\n"
    )
    ran = {
        mode: subprocess.run(
            [sys.executable, "-c", script, mode], capture_output=True, text=True, check=True
        ).stdout.split()
        for mode in ("off", "on")
    }
    assert ran["off"] == ["True", "True", "False"]
    assert ran["on"] == ["True", "True", "True"]
