"""Training: determinism, resume after SIGKILL, and checkpoints that must not be trusted."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import threshold_document
from ddprune.foundations.tables import read_table
from ddprune.jobs.dense import draw_labels
from ddprune.jobs.dense import train as train_job
from ddprune.jobs.verify import verify_selected
from ddprune.study import Run, load_study
from ddprune.study.paths import Layout, fill
from ddprune.training.checkpoints import CheckpointError, list_periodic, load_checkpoint

OPTIONS = {"n_train": 300, "split_seed": 0}
RUN = Run("digits", "mlp", 32, 0.2, 0)
TRAIN = {
    "optimizer": "adam",
    "lr": 1e-3,
    "momentum": 0.0,
    "weight_decay": 0.0,
    "batch_size": 64,
    "max_epochs": 40,
    "stop_at_train_error": None,
    "eval_every": 5,
    "checkpoint_every": 10,
}
PLATFORM = {"device": "cpu", "threads": 1, "eval_batch_size": 4096}


def job_arguments(
    directory: Path,
    run: Run = RUN,
    train: dict | None = None,
    platform: dict | None = None,
    prune: dict | None = None,
) -> dict:
    """Keyword arguments of the train job for ``run`` in a study under ``directory``."""
    grid = {"widths": [run.width], "noise": [run.noise], "seeds": [run.seed]}
    config = {
        "study": "test",
        "datasets": {"digits": OPTIONS},
        "sweep": [{"dataset": run.dataset, "model": run.model, **grid}],
        "train": {**TRAIN, **(train or {})},
        "platform": {**PLATFORM, **(platform or {})},
        "prune": prune or {},
    }
    study, layout = load_study(config), Layout(str(directory))
    labels = fill(layout.labels, run)
    if not Path(labels).exists():
        draw_labels(study, run.dataset, run.noise, run.noise_kind, run.seed, output=labels)
    return {
        "study": study,
        "run": run,
        "labels": labels,
        "metrics": fill(layout.metrics, run),
        "final": fill(layout.final_checkpoint, run),
        "checkpoints": fill(layout.checkpoints, run),
        "threads": 1,
    }


def run_file(arguments: dict, name: str) -> Path:
    """The file the train job's argument ``name`` names."""
    return Path(arguments[name])


def metrics(arguments: dict) -> pd.DataFrame:
    return read_table(run_file(arguments, "metrics"), "dense").drop(columns="wall_seconds")


def test_same_seed_same_numbers_and_other_seed_other_numbers(tmp_path):
    first, again = job_arguments(tmp_path / "a"), job_arguments(tmp_path / "b")
    other = job_arguments(tmp_path / "c", run=Run("digits", "mlp", 32, 0.2, 1))
    for arguments in (first, again, other):
        train_job(**arguments)
    pd.testing.assert_frame_equal(metrics(first), metrics(again))
    assert not metrics(first)["test_loss"].equals(metrics(other)["test_loss"])
    table = metrics(first)
    assert table["epoch"].tolist() == list(range(0, 41, 5))
    assert table["step"].iloc[-1] == 40 * 5  # 300 samples in batches of 64: 5 steps an epoch


def test_training_stops_once_the_noisy_labels_are_fit(tmp_path):
    arguments = job_arguments(
        tmp_path,
        run=Run("digits", "mlp", 256, 0.0, 0),
        train={
            "batch_size": None,
            "max_epochs": 2000,
            "stop_at_train_error": 0.0,
            "eval_every": 10,
        },
    )
    train_job(**arguments)
    table = metrics(arguments)
    assert table["train_error"].iloc[-1] == 0.0
    assert (table["train_error"].iloc[:-1] > 0).all()
    assert table["epoch"].iloc[-1] < 2000


def _train_in_subprocess(arguments: dict) -> subprocess.Popen:
    """``jobs.train`` in a process of its own, to be killed with SIGKILL."""
    code = (
        "import json, sys; from ddprune.jobs.dense import train; "
        "from ddprune.study import Run, Study; a = json.loads(sys.argv[1]); "
        "train(Study(a.pop('config')), Run(**a.pop('run')), **a)"
    )
    payload = {
        **arguments,
        "config": arguments["study"].config,
        "run": arguments["run"].__dict__,
    }
    del payload["study"]
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(payload, default=str)])


def _newest_epoch(directory: Path, pattern: str) -> int:
    epochs = [int("".join(filter(str.isdigit, p.name))) for p in directory.glob(pattern)]
    return max(epochs, default=-1)


@pytest.mark.parametrize(
    ("train", "platform", "saved"),
    [
        ({}, {}, "epoch*.pt"),  # periodic checkpoints every 10 epochs
        ({"checkpoint_every": 1000}, {"checkpoint_minutes": 1e-6}, "resume-*.pt"),  # wall time
    ],
    ids=["every-n-epochs", "every-n-minutes"],
)
def test_a_job_killed_mid_run_resumes_to_the_same_numbers(tmp_path, train, platform, saved):
    long = {"max_epochs": 400}
    reference = job_arguments(tmp_path / "reference", train=long)
    train_job(**reference)

    killed = job_arguments(tmp_path / "killed", train={**long, **train}, platform=platform)
    checkpoints = run_file(killed, "checkpoints")
    process = _train_in_subprocess(killed)
    deadline = time.monotonic() + 120
    while process.poll() is None and _newest_epoch(checkpoints, saved) < 20:
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.002)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not run_file(killed, "final").exists(), "the job finished too soon"
    stopped_at = max(p.name for p in checkpoints.glob("*.pt"))
    assert "0000400" not in stopped_at

    train_job(**killed)
    pd.testing.assert_frame_equal(metrics(killed), metrics(reference))
    assert not list(checkpoints.glob("resume-*.pt")), "a finished job keeps no resume point"


def test_resume_points_change_neither_the_numbers_nor_the_kept_checkpoints(tmp_path):
    timed = job_arguments(tmp_path / "timed", platform={"checkpoint_minutes": 1e-6})
    plain = job_arguments(tmp_path / "plain")
    for arguments in (timed, plain):
        train_job(**arguments)
    pd.testing.assert_frame_equal(metrics(timed), metrics(plain))
    checkpoints = run_file(timed, "checkpoints")
    names = sorted(p.name for p in checkpoints.iterdir())
    assert names == [f"epoch{e:07d}.pt" for e in (0, 10, 20, 30, 40)]


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_corrupted_checkpoint_gives_a_clear_error_or_a_restart(tmp_path, damage):
    arguments = job_arguments(tmp_path)
    train_job(**arguments)
    reference = metrics(arguments)
    run_file(arguments, "final").unlink()
    periodic = list_periodic(run_file(arguments, "checkpoints"))
    newest = periodic[max(periodic)]
    content = newest.read_bytes()
    newest.write_bytes(content[:100] if damage == "truncated" else bytes(len(content)))
    with pytest.raises(CheckpointError, match=r"epoch0000040.pt is unreadable.*on_bad_checkpoint"):
        train_job(**arguments)

    restart = job_arguments(tmp_path, platform={"on_bad_checkpoint": "restart"})
    train_job(**restart)
    pd.testing.assert_frame_equal(metrics(restart), reference)


def test_a_diverged_run_is_recorded_and_the_job_succeeds(tmp_path):
    sgd = {"optimizer": "sgd", "batch_size": None}
    arguments = job_arguments(tmp_path, run=Run("digits", "mlp", 64, 0.2, 0), train=sgd)
    # A rate that validation refuses (at most 10), set behind its back: the surest divergence.
    arguments["study"].config["train"]["lr"] = 1e30
    train_job(**arguments)
    table = metrics(arguments)
    assert table["diverged"].tolist() == [False, True]  # stopped at the first evaluation
    assert table.iloc[-1][["train_loss", "train_error", "test_error"]].isna().all()
    assert run_file(arguments, "final").exists()


def test_a_selected_periodic_checkpoint_is_verified_against_its_epoch(tmp_path):
    arguments = job_arguments(tmp_path)
    train_job(**arguments)
    checkpoints = run_file(arguments, "checkpoints")
    entry = {
        "width": RUN.width,
        "seed": RUN.seed,
        "role": "at",
        "offset": 0,
        "epoch": 20,
        "checkpoint": str(checkpoints / "epoch0000020.pt"),
        "axis": "epoch",
    }
    document = threshold_document(RUN, [entry])
    threshold = tmp_path / "threshold.yaml"
    threshold.write_text(yaml.safe_dump(document))
    files = {k: arguments[k] for k in ("threshold", "metrics", "labels") if k in arguments}

    def verify(epoch: int, output: Path) -> None:
        verify_selected(
            arguments["study"],
            RUN,
            epoch,
            threshold=threshold,
            checkpoint=entry["checkpoint"],
            output=output,
            threads=1,
            **files,
        )

    verify(20, tmp_path / "verified20.parquet")
    row = read_table(tmp_path / "verified20.parquet", "selection").iloc[0]
    recorded = metrics(arguments).set_index("epoch").loc[20]
    assert row["epoch"] == 20 and row["axis"] == "epoch" and row["role"] == "at"
    assert row["test_error"] == pytest.approx(recorded["test_error"], abs=1e-7)

    # The same file claimed for another epoch does not reproduce that epoch's metrics.
    entry["epoch"] = 30
    threshold.write_text(yaml.safe_dump(document))
    with pytest.raises(CheckpointError, match="does not reproduce"):
        verify(30, tmp_path / "verified30.parquet")
    assert not (tmp_path / "verified30.parquet").exists()


def test_the_inverse_sqrt_schedule_sets_the_rate_of_every_step(tmp_path):
    schedule = {"optimizer": "sgd", "lr": 0.1, "lr_schedule": "inverse_sqrt", "lr_decay_steps": 7}
    arguments = job_arguments(tmp_path, train=schedule)
    train_job(**arguments)
    table = metrics(arguments)  # 5 steps an epoch; the row's lr is that of its last step
    expected = [0.1] + [0.1 / math.sqrt(1 + (step - 1) // 7) for step in table["step"][1:]]
    np.testing.assert_allclose(table["lr"], expected)
    assert table["lr"].iloc[-1] == pytest.approx(0.1 / math.sqrt(1 + 199 // 7))


def test_the_rewind_epoch_is_kept_between_periodic_checkpoints(tmp_path):
    arguments = job_arguments(tmp_path, prune={"methods": ["imp-rewind"], "rewind_epoch": 7})
    train_job(**arguments)
    checkpoints = run_file(arguments, "checkpoints")
    names = sorted(p.name for p in checkpoints.iterdir())
    assert names == [f"epoch{e:07d}.pt" for e in (0, 7, 10, 20, 30, 40)]
    assert load_checkpoint(checkpoints / "epoch0000007.pt")["epoch"] == 7
