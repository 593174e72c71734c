"""Where jobs run: one GPU per job on a multi-GPU workstation."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ddprune.training.platform import claim_gpu


def test_gpu_claims_are_exclusive_and_die_with_their_process(tmp_path):
    """Three jobs on a three-GPU workstation get GPUs 0, 1, 2; a fourth is refused with the
    fix; a killed job's GPU is free again. (Locks only: no GPU needed.)"""
    code = (
        "import sys, time; from ddprune.training.platform import claim_gpu; "
        "print(claim_gpu(3, sys.argv[1]), flush=True); time.sleep(60)"
    )
    jobs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    try:
        claimed = sorted(int(job.stdout.readline()) for job in jobs)
        assert claimed == [0, 1, 2]
        with pytest.raises(RuntimeError, match=r"all 3 visible GPUs.*--resources gpu=3"):
            claim_gpu(3, tmp_path)
        jobs[1].kill()
        jobs[1].wait()
        assert claim_gpu(3, tmp_path) in (0, 1, 2)
    finally:
        for job in jobs:
            job.kill()
