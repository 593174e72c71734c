"""The tiny study on a real SLURM cluster through `snakemake --profile` and the SLURM
executor plugin, against a local run of the same study.

The cluster (munged, slurmctld, slurmd from Debian's packages) is started on this machine by
``slurm_cluster``; it needs root and the packages, which `.ci/run` installs. Elsewhere the
test is skipped and says why.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from slurm_cluster import jobs, single_node_cluster, why_unavailable

from conftest import REPO, TINY, snakemake, snakemake_command

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(why_unavailable() is not None, reason=f"no SLURM: {why_unavailable()}"),
]
PROFILE = REPO / "profiles" / "slurm" / "config.yaml"


def test_profile_marks_what_a_user_edits_and_lets_network_jobs_size_themselves():
    profile = yaml.safe_load(PROFILE.read_text())
    assert profile["executor"] == "slurm"
    assert profile["default-resources"]["slurm_account"].startswith("EDIT")
    assert profile["default-resources"]["slurm_partition"].startswith("EDIT")
    # no GPU, 16 GB and 12 hours forced on a tiny MLP's jobs: they ask for what their model
    # needs (ddprune.study.resources; tests/test_resources.py)
    assert not {"train", "tune", "prune", "verify_selected"} & set(profile["set-resources"])
    assert "set-threads" not in profile
    assert profile["retries"] >= 1 and profile["rerun-incomplete"] and profile["keep-going"]


def on_this_cluster(profile: dict) -> dict:
    """The shipped profile with what a user of this one-node cluster edits: no account (there
    is no slurmdbd), its partition, resources that fit 2 CPUs (the tiny study's MLP jobs ask
    for no GPU themselves); and `squeue` for job status, with a short first wait so that the
    test is quick."""
    profile = {
        **profile,
        "slurm-no-account": True,
        "slurm-status-command": "squeue",
        "slurm-init-seconds-before-status-checks": 2,
        "slurm-keep-successful-logs": True,
        "latency-wait": 5,
        "jobs": 4,
        "resources": ["cpus_per_task=2", "mem_mb=8000"],  # what one submission may hold here
    }
    defaults = dict(profile["default-resources"])
    del defaults["slurm_account"]
    profile["default-resources"] = {**defaults, "slurm_partition": "debug", "mem_mb": 1000}
    profile["set-resources"] = {
        rule: {
            **resources,
            "gpu": 0,
            "cpus_per_task": 1,
            "mem_mb": _scaled(resources["mem_mb"], 1000),
        }
        for rule, resources in profile["set-resources"].items()
    }
    return profile


def _scaled(value: int | str, to: int) -> int | str:
    """A memory request with its base size replaced: `16000 * attempt` -> `1000 * attempt`."""
    return re.sub(r"^\d+", str(to), value) if isinstance(value, str) else to


def tables(workdir: Path) -> dict[str, pd.DataFrame]:
    results = workdir / "results/tiny"
    return {
        name: pd.read_parquet(results / f"{name}.parquet")
        .drop(columns="wall_seconds", errors="ignore")
        .sort_values(key)
        .reset_index(drop=True)
        for name, key in {
            "dense": ["width", "noise", "seed", "epoch"],
            "selection": ["width", "noise", "seed", "epoch"],
            "pruning": ["width", "noise", "seed", "source_epoch", "method", "round"],
        }.items()
    }


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[dict[str, str]]:
    """A running one-node cluster (the environment its clients need), and our profile for it."""
    directory = tmp_path_factory.mktemp("cluster")
    profile = on_this_cluster(yaml.safe_load(PROFILE.read_text()))
    (directory / "profile").mkdir()
    (directory / "profile" / "config.yaml").write_text(yaml.safe_dump(profile))
    with single_node_cluster(directory / "slurm") as env:
        yield {**env, "PROFILE": str(directory / "profile")}


def test_the_tiny_study_on_slurm_equals_a_local_run(cluster, tiny_study, tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    already = {job["JobId"] for job in jobs(cluster)}
    result = snakemake(workdir, "--profile", cluster["PROFILE"], env=cluster)
    submitted = [job for job in jobs(cluster) if job["JobId"] not in already]
    assert result.returncode == 0, result.stderr[-6000:]

    # Every rule job ran as a SLURM job, and completed.
    assert submitted and {job["JobState"] for job in submitted} == {"COMPLETED"}
    logs = sorted((workdir / "results/tiny/logs/train").rglob("*.log"))
    assert len(logs) == 12
    slurm_ids = {job["JobId"] for job in submitted}
    for log in logs:
        ran_in = re.search(r"SLURM job (\d+)", log.read_text())
        assert ran_in and ran_in.group(1) in slurm_ids, log
    n_jobs = len(list((workdir / "logs/slurm").rglob("*.log")))
    assert n_jobs == len(submitted)
    # The 30 network jobs (12 train, 2 tune, their verification and pruning) went grouped
    # (group-components), a few submissions that each hold at most 2 CPUs here and ask for
    # what MLPs need: no GPU, 2 GB a job (ddprune.study.resources), 2 jobs side by side
    grouped = [job for job in submitted if "rule_small-networks" in job.get("Comment", "")]
    assert 1 <= len(grouped) <= 4, [job.get("Comment") for job in submitted]
    for job in grouped:
        assert job["NumCPUs"] == "2" and job["MinMemoryNode"] == "4000M", job
        assert "gpu" not in job["TRES"], job
    assert len(submitted) <= 25  # of the study's 49 jobs: one SLURM job each without groups

    # And gave the same numbers as the local run.
    local, remote = tables(tiny_study), tables(workdir)
    for name in local:
        pd.testing.assert_frame_equal(remote[name], local[name], obj=name)
    threshold = "results/tiny/threshold.yaml"
    assert (workdir / threshold).read_text() == (tiny_study / threshold).read_text()


def test_a_job_killed_on_slurm_is_resubmitted_and_resumes_to_the_same_numbers(cluster, tmp_path):
    """SIGKILL to a running training job (as a node failure or preemption would): SLURM
    reports it failed, the profile's retries resubmit it, and it resumes from its newest
    checkpoint to exactly the numbers of an uninterrupted local run."""
    config = yaml.safe_load(TINY.read_text())
    config["sweep"][0].update(widths=[64], noise=[0.2], seeds=[0])
    config["train"].update(batch_size=16, max_epochs=1000, eval_every=50)
    config["train"]["checkpoint_every"] = 50
    configfile = tmp_path / "long.yaml"
    configfile.write_text(yaml.safe_dump(config))
    run = "results/tiny/train/digits/mlp/noise0.2/width64/seed0"
    target = f"{run}/metrics.parquet"
    local = tmp_path / "local"
    assert snakemake(local, "--cores", "1", target, configfile=configfile).returncode == 0

    workdir = tmp_path / "slurm"
    workdir.mkdir()
    command = snakemake_command(
        workdir, "--profile", cluster["PROFILE"], target, configfile=configfile
    )
    process = subprocess.Popen(
        command, env=cluster, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    checkpoint = workdir / run / "checkpoints" / "epoch0000100.pt"
    deadline = time.monotonic() + 180
    while not checkpoint.exists():
        assert process.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.1)
    running = [job for job in jobs(cluster) if job["JobState"] == "RUNNING"]
    assert len(running) == 1
    subprocess.run(
        ["scancel", "--signal=KILL", "--full", running[0]["JobId"]], env=cluster, check=True
    )
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output[-6000:]
    assert (workdir / run / "final.pt").is_file()
    states = {job["JobId"]: job["JobState"] for job in jobs(cluster)}
    assert states[running[0]["JobId"]] in ("CANCELLED", "FAILED")
    log = (workdir / "results/tiny/logs/train/digits/mlp/noise0.2/width64/seed0.log").read_text()
    assert re.search(r"resumed from .*epoch0000(1|2|3|4|5|6|7|8|9)\d\d\.pt", log), log[-3000:]

    def metrics(root: Path) -> pd.DataFrame:
        return pd.read_parquet(root / target).drop(columns="wall_seconds")

    pd.testing.assert_frame_equal(metrics(workdir), metrics(local))
