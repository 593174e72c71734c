"""Resumable checkpoints: model, optimizer, RNG state and the metric rows written so far.

Files are written atomically and read with ``torch.load(weights_only=True)``, so a
checkpoint is either complete or absent, and loading one never executes pickled code.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import torch

from ddprune.atomic import atomic_path

log = logging.getLogger(__name__)
FORMAT_VERSION = 1
_PERIODIC = re.compile(r"epoch(\d+)\.pt")


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used: it is truncated, corrupted or not ddprune's."""


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


def _spec_text(spec: Any) -> str:
    return json.dumps(spec, sort_keys=True, default=str)


def resume_state(
    files: dict[int, Path], spec: dict[str, Any], map_location: str | torch.device = "cpu"
) -> dict[str, Any] | None:
    """The newest of a job's checkpoints ``files`` (by epoch or round) to resume from, if any.

    ``spec`` is everything that determines the job's numbers (run, hyper-parameters, the
    data's checksum). Snakemake reruns a job when its config or inputs changed; checkpoints
    written under another spec can then never be continued, so they are deleted and the job
    starts from scratch -- rather than refusing to run, or continuing with stale numbers.
    """
    if not files:
        return None
    newest = files[max(files)]
    state = load_checkpoint(newest, map_location=map_location)
    if _spec_text(state.get("spec")) == _spec_text(spec):
        log.info("resumed from %s", newest)
        return state
    log.warning(
        "%s was written under other settings; starting from scratch.\n  checkpoint: %s\n"
        "  this job:   %s",
        newest,
        _spec_text(state.get("spec")),
        _spec_text(spec),
    )
    for path in files.values():
        path.unlink()
    return None
