"""A full or read-only results folder: a clear error, and nothing half-written under a final
name. Uses a real small file system (tmpfs), so it needs root; elsewhere it is skipped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ddprune.foundations.atomic import OutputError
from ddprune.foundations.tables import TableSchema, read_table, write_table
from ddprune.training.checkpoints import CheckpointError, load_checkpoint, save_checkpoint

SCHEMA = TableSchema(
    name="numbers", columns={"value": {"dtype": "float64"}}, key=()
)  # a one-column table is enough to fill a disk


def numbers(n: int) -> pd.DataFrame:
    return pd.DataFrame({"value": np.random.default_rng(0).random(n)})


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs, mounted for the test and removed after it."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_names_the_file_and_keeps_the_previous_table(small_disk):
    path = small_disk / "results" / "dense.parquet"
    write_table(numbers(10), path, SCHEMA)
    with pytest.raises(OutputError, match=r"cannot write .*dense.parquet: the disk is full"):
        write_table(numbers(100_000), path, SCHEMA)  # 800 KB of doubles
    assert read_table(path, SCHEMA).equals(numbers(10)), "the previous table is intact"
    assert sorted(p.name for p in path.parent.iterdir()) == ["dense.parquet"], "no temp file"


def test_a_checkpoint_on_a_full_disk_is_not_left_truncated(small_disk):
    path = small_disk / "epoch0000500.pt"
    with pytest.raises(OutputError, match="the disk is full"):
        save_checkpoint({"weights": torch.rand(100_000)}, path)
    assert list(small_disk.iterdir()) == []
    save_checkpoint({"weights": torch.zeros(10)}, path)  # space is back: it works
    assert load_checkpoint(path)["weights"].shape == (10,)


def test_a_read_only_results_folder_names_the_file(small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    path = small_disk / "results" / "dense.parquet"
    with pytest.raises(OutputError, match=r"cannot write .*dense.parquet: the file system is"):
        write_table(numbers(10), path, SCHEMA)
    assert not Path(path).exists()


def test_results_are_readable_as_the_umask_allows(tmp_path):
    """mkstemp creates 0600 files; a finished result gets the mode of any new file."""
    mask = os.umask(0o022)
    try:
        write_table(numbers(3), tmp_path / "table.parquet", SCHEMA)
    finally:
        os.umask(mask)
    assert (tmp_path / "table.parquet").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    "damage", [lambda b: b[: len(b) // 2], lambda b: bytes(range(256)) * 8], ids=["cut", "bytes"]
)
def test_a_damaged_checkpoint_is_named_without_torchs_unsafe_advice(tmp_path, damage):
    """A file that fails to load as plain tensors must not be loaded with weights_only=False:
    the message names the file and says nothing of that option."""
    path = tmp_path / "final.pt"
    save_checkpoint({"weights": torch.zeros(1000)}, path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CheckpointError) as error:
        load_checkpoint(path)
    message = str(error.value)
    assert f"checkpoint {path} is unreadable" in message and error.value.path == str(path)
    assert "weights_only" not in message and "pickled" not in message
