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

from conftest import SCHEMAS
from ddprune.foundations.tables import TableSchema, read_table
from ddprune.jobs import all as jobs
from ddprune.study import Run
from ddprune.training.checkpoints import CheckpointError, latest_periodic, load_checkpoint

SCHEMA_PATHS = {"labels": SCHEMAS / "labels.schema.yaml", "dense": SCHEMAS / "dense.schema.yaml"}
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
}
PLATFORM = {"device": "cpu", "threads": 1, "eval_batch_size": 4096, "checkpoint_every": 10}


def job_arguments(
    directory: Path, run: Run = RUN, train: dict | None = None, platform: dict | None = None
) -> dict:
    """Keyword arguments of ``jobs.train`` for ``run`` under ``directory``."""
    labels = directory / "labels.parquet"
    if not labels.exists():
        jobs.draw_labels(
            "test", run.dataset, run.noise, run.seed, OPTIONS, labels, SCHEMA_PATHS["labels"]
        )
    run_dir = directory / "run"
    return {
        "study": "test",
        "run": run,
        "train_config": {**TRAIN, **(train or {})},
        "platform_config": {**PLATFORM, **(platform or {})},
        "options": OPTIONS,
        "labels_path": labels,
        "metrics_path": run_dir / "metrics.parquet",
        "model_path": run_dir / "final.pt",
        "schemas": SCHEMA_PATHS,
        "threads": 1,
    }


def metrics(arguments: dict) -> pd.DataFrame:
    table = read_table(arguments["metrics_path"], TableSchema.load(SCHEMA_PATHS["dense"]))
    return table.drop(columns="wall_seconds")


def test_same_seed_same_numbers_and_other_seed_other_numbers(tmp_path):
    first, again = job_arguments(tmp_path / "a"), job_arguments(tmp_path / "b")
    other = job_arguments(tmp_path / "c", run=Run("digits", "mlp", 32, 0.2, 1))
    for arguments in (first, again, other):
        jobs.train(**arguments)
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
    jobs.train(**arguments)
    table = metrics(arguments)
    assert table["train_error"].iloc[-1] == 0.0
    assert (table["train_error"].iloc[:-1] > 0).all()
    assert table["epoch"].iloc[-1] < 2000


def _train_in_subprocess(arguments: dict) -> subprocess.Popen:
    """``jobs.train`` in a process of its own, to be killed with SIGKILL."""
    code = (
        "import json, sys; from pathlib import Path; from ddprune import jobs; "
        "from ddprune.study import Run; a = json.loads(sys.argv[1]); a['run'] = Run(**a['run']); "
        "jobs.train(**a)"
    )
    payload = {**arguments, "run": RUN.__dict__}
    return subprocess.Popen([sys.executable, "-c", code, json.dumps(payload, default=str)])


def _newest_epoch(directory: Path, pattern: str) -> int:
    epochs = [int("".join(filter(str.isdigit, p.name))) for p in directory.glob(pattern)]
    return max(epochs, default=-1)


@pytest.mark.parametrize(
    ("platform", "saved"),
    [
        ({}, "epoch*.pt"),  # periodic checkpoints every 10 epochs
        ({"checkpoint_every": 1000, "checkpoint_minutes": 1e-6}, "resume-*.pt"),  # wall time
    ],
    ids=["every-n-epochs", "every-n-minutes"],
)
def test_a_job_killed_mid_run_resumes_to_the_same_numbers(tmp_path, platform, saved):
    long = {"max_epochs": 400}
    reference = job_arguments(tmp_path / "reference", train=long)
    jobs.train(**reference)

    killed = job_arguments(tmp_path / "killed", train=long, platform=platform)
    checkpoints = killed["metrics_path"].parent / "checkpoints"
    process = _train_in_subprocess(killed)
    deadline = time.monotonic() + 120
    while process.poll() is None and _newest_epoch(checkpoints, saved) < 20:
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.002)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not killed["model_path"].exists(), "the job finished before it could be killed"
    stopped_at = max(p.name for p in checkpoints.glob("*.pt"))
    assert "0000400" not in stopped_at

    jobs.train(**killed)
    pd.testing.assert_frame_equal(metrics(killed), metrics(reference))
    assert not list(checkpoints.glob("resume-*.pt")), "a finished job keeps no resume point"


def test_resume_points_change_neither_the_numbers_nor_the_kept_checkpoints(tmp_path):
    timed = job_arguments(tmp_path / "timed", platform={"checkpoint_minutes": 1e-6})
    plain = job_arguments(tmp_path / "plain")
    for arguments in (timed, plain):
        jobs.train(**arguments)
    pd.testing.assert_frame_equal(metrics(timed), metrics(plain))
    checkpoints = timed["metrics_path"].parent / "checkpoints"
    names = sorted(p.name for p in checkpoints.iterdir())
    assert names == [f"epoch{e:07d}.pt" for e in (0, 10, 20, 30, 40)]


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_corrupted_checkpoint_gives_a_clear_error_or_a_restart(tmp_path, damage):
    arguments = job_arguments(tmp_path)
    jobs.train(**arguments)
    reference = metrics(arguments)
    arguments["model_path"].unlink()
    newest = latest_periodic(arguments["metrics_path"].parent / "checkpoints")
    content = newest.read_bytes()
    newest.write_bytes(content[:100] if damage == "truncated" else bytes(len(content)))
    with pytest.raises(CheckpointError, match=r"epoch0000040.pt is unreadable.*on_bad_checkpoint"):
        jobs.train(**arguments)

    restart = job_arguments(tmp_path, platform={"on_bad_checkpoint": "restart"})
    jobs.train(**restart)
    pd.testing.assert_frame_equal(metrics(restart), reference)


def test_a_diverged_run_is_recorded_and_the_job_succeeds(tmp_path):
    exploding = {"optimizer": "sgd", "lr": 1e30, "batch_size": None}
    arguments = job_arguments(tmp_path, run=Run("digits", "mlp", 64, 0.2, 0), train=exploding)
    jobs.train(**arguments)
    table = metrics(arguments)
    assert table["diverged"].tolist() == [False, True]  # stopped at the first evaluation
    assert table.iloc[-1][["train_loss", "train_error", "test_error"]].isna().all()
    assert arguments["model_path"].exists()


def test_a_selected_periodic_checkpoint_is_verified_against_its_epoch(tmp_path):
    arguments = job_arguments(tmp_path)
    jobs.train(**arguments)
    checkpoints = arguments["metrics_path"].parent / "checkpoints"
    entry = {
        "width": RUN.width,
        "seed": RUN.seed,
        "role": "at",
        "offset": 0,
        "epoch": 20,
        "checkpoint": str(checkpoints / "epoch0000020.pt"),
        "axis": "epoch",
    }
    document = {
        "families": [
            {
                "dataset": RUN.dataset,
                "model": RUN.model,
                "noise": RUN.noise,
                "it": {"criterion": "test_error_peak", "width": RUN.width},
                "selection": [entry],
            }
        ]
    }
    threshold = tmp_path / "threshold.yaml"
    threshold.write_text(yaml.safe_dump(document))
    verify = {
        "study": "test",
        "run": RUN,
        "threshold_path": threshold,
        "checkpoint_path": entry["checkpoint"],
        "metrics_path": arguments["metrics_path"],
        "labels_path": arguments["labels_path"],
        "options": OPTIONS,
        "train_config": TRAIN,
        "platform_config": PLATFORM,
        "threads": 1,
        "schemas": {**SCHEMA_PATHS, "selection": SCHEMAS / "selection.schema.yaml"},
    }
    jobs.verify_selected(epoch=20, output=tmp_path / "ok.parquet", **verify)
    row = read_table(
        tmp_path / "ok.parquet", TableSchema.load(SCHEMAS / "selection.schema.yaml")
    ).iloc[0]
    recorded = metrics(arguments).set_index("epoch").loc[20]
    assert row["epoch"] == 20 and row["axis"] == "epoch" and row["role"] == "at"
    assert row["test_error"] == pytest.approx(recorded["test_error"], abs=1e-7)

    # The same file claimed for another epoch does not reproduce that epoch's metrics.
    entry["epoch"] = 30
    threshold.write_text(yaml.safe_dump(document))
    with pytest.raises(CheckpointError, match="does not reproduce"):
        jobs.verify_selected(epoch=30, output=tmp_path / "bad.parquet", **verify)
    assert not (tmp_path / "bad.parquet").exists()


def test_the_inverse_sqrt_schedule_sets_the_rate_of_every_step(tmp_path):
    schedule = {"optimizer": "sgd", "lr": 0.1, "lr_schedule": "inverse_sqrt", "lr_decay_steps": 7}
    arguments = job_arguments(tmp_path, train=schedule)
    jobs.train(**arguments)
    table = metrics(arguments)  # 5 steps an epoch; the row's lr is that of its last step
    expected = [0.1] + [0.1 / math.sqrt(1 + (step - 1) // 7) for step in table["step"][1:]]
    np.testing.assert_allclose(table["lr"], expected)
    assert table["lr"].iloc[-1] == pytest.approx(0.1 / math.sqrt(1 + 199 // 7))


def test_the_rewind_epoch_is_kept_between_periodic_checkpoints(tmp_path):
    arguments = job_arguments(tmp_path)
    jobs.train(**arguments, keep_epochs=(7,))
    checkpoints = arguments["metrics_path"].parent / "checkpoints"
    names = sorted(p.name for p in checkpoints.iterdir())
    assert names == [f"epoch{e:07d}.pt" for e in (0, 7, 10, 20, 30, 40)]
    assert load_checkpoint(checkpoints / "epoch0000007.pt")["epoch"] == 7
