"""Resumable checkpoints: model, optimizer, RNG state and the metric rows written so far.

Files are written atomically and read with ``torch.load(weights_only=True)``, so a
checkpoint is either complete or absent, and loading one never executes pickled code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch

from ddprune.atomic import atomic_path

FORMAT_VERSION = 1
_PERIODIC = re.compile(r"epoch(\d+)\.pt")


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used: unreadable, or written for a different run."""


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> None:
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT_VERSION, **state}, tmp)


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for truncated or foreign files
        raise CheckpointError(
            f"checkpoint {path} is unreadable (truncated or corrupted?): {error}. "
            "Delete it to resume from the previous checkpoint, or delete the run's folder "
            "to train the run from scratch."
        ) from error
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {path} is not a ddprune checkpoint (format 1)")
    return state


def periodic_path(directory: str | os.PathLike, epoch: int) -> Path:
    return Path(directory) / f"epoch{epoch:07d}.pt"


def list_periodic(directory: str | os.PathLike) -> dict[int, Path]:
    """Periodic checkpoints in ``directory`` by epoch (temporary files are not matched)."""
    directory = Path(directory)
    if not directory.is_dir():
        return {}
    return {int(m.group(1)): p for p in directory.iterdir() if (m := _PERIODIC.fullmatch(p.name))}


def latest_periodic(directory: str | os.PathLike) -> Path | None:
    """The periodic checkpoint with the highest epoch in ``directory``, if any."""
    found = list_periodic(directory)
    return found[max(found)] if found else None
