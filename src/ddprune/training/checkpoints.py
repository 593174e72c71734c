"""Resumable checkpoints: model, optimizer, RNG state and the metric rows written so far.

Files are written atomically and read with ``torch.load(weights_only=True)``, so a
checkpoint is either complete or absent, and loading one never executes pickled code.

Two kinds of file, because they serve two purposes:

* *periodic* checkpoints (``epoch0000500.pt``) every ``checkpoint_every`` epochs are part of
  the record: the rewind point of IMP and the epoch-wise selection read them, so where they
  fall must not depend on how fast a machine is;
* *resume points* (``resume-*.pt``) every ``checkpoint_minutes`` of wall time exist only so
  that a preempted job loses little work. Only the newest is kept, and a finished job
  deletes it.
"""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ddprune.foundations.atomic import atomic_path
from ddprune.study.paths import RESUME_EPOCH, RESUME_POINTS, matching
from ddprune.study.threshold_file import list_periodic

log = logging.getLogger(__name__)
FORMAT_VERSION = 1
RESTART_HINT = (
    "Delete it to resume from the previous checkpoint, or set platform.on_bad_checkpoint: "
    "restart to run this job again from scratch."
)


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used: it is truncated, corrupted or not ddprune's; ``path``
    names it."""

    def __init__(self, message: str, path: str | os.PathLike | None = None) -> None:
        super().__init__(message)
        self.path = None if path is None else os.fspath(path)


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> None:
    # Serialised in memory first: on a full disk torch.save's own writer fails with an opaque
    # "unexpected pos" RuntimeError, while a plain write raises ENOSPC, which atomic_path
    # turns into an error that names the file and the cause.
    buffer = io.BytesIO()
    torch.save({"format": FORMAT_VERSION, **state}, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getbuffer())


def _reason(error: Exception) -> str:
    """Why torch could not read a file, without torch's advice to load it with
    ``weights_only=False`` -- unsafe for a file that failed to load as plain tensors."""
    if isinstance(error, pickle.UnpicklingError) or "weights_only" in str(error):
        return "its bytes are not the tensors and plain values a ddprune checkpoint holds"
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict:
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises several types for truncated or foreign files
        raise CheckpointError(
            f"checkpoint {path} is unreadable (truncated or corrupted?): {_reason(error)}", path
        ) from error
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} is not a ddprune checkpoint (format {FORMAT_VERSION})", path
        )
    return state


@dataclass
class CheckpointSchedule:
    """When a long loop saves: every ``epochs`` epochs (periodic checkpoints, part of the
    record) and, between them, whenever ``minutes`` of wall time have passed since the last
    save (resume points, so that a job preempted after hours loses minutes)."""

    epochs: int
    minutes: float | None = None
    _last_save: float = field(default_factory=time.monotonic)

    def periodic(self, epoch: int) -> bool:
        return epoch % self.epochs == 0

    def overdue(self) -> bool:
        return self.minutes is not None and time.monotonic() - self._last_save >= 60 * self.minutes

    def saved(self) -> None:
        self._last_save = time.monotonic()


def save_resume_point(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write the resume point ``path`` (``resume-*.pt``), then delete the older ones beside it."""
    path = Path(path)
    save_checkpoint(state, path)
    for other in path.parent.glob(RESUME_POINTS):
        if other != path:
            other.unlink()


def drop_resume_points(directory: str | os.PathLike) -> None:
    """A finished job's resume points are never read again."""
    for path in Path(directory).glob(RESUME_POINTS):
        path.unlink()


def list_resumable(directory: str | os.PathLike) -> dict[int, Path]:
    """Every checkpoint of a training run to resume from, by epoch: periodic ones and the
    resume point (a periodic checkpoint wins a tie)."""
    points = {epoch: path for (epoch,), path in matching(directory, RESUME_EPOCH).items()}
    return {**points, **list_periodic(directory)}


def _spec_text(spec: Any) -> str:
    return json.dumps(spec, sort_keys=True, default=str)


def resume_state(
    files: dict[Any, Path],
    spec: dict[str, Any],
    map_location: str | torch.device = "cpu",
    on_bad_checkpoint: str = "fail",
) -> dict[str, Any] | None:
    """The newest of a job's checkpoints ``files`` (keyed by epoch or round) to resume from.

    ``spec`` is everything that determines the job's numbers (run, hyper-parameters, the
    data's checksum). Snakemake reruns a job when its config or inputs changed; checkpoints
    written under another spec can then never be continued, so they are deleted and the job
    starts from scratch -- rather than refusing to run, or continuing with stale numbers.

    An unreadable newest checkpoint stops the job with a :class:`CheckpointError` (silently
    falling back could hide a failing disk), unless ``on_bad_checkpoint`` is ``restart``:
    then all of the job's checkpoints are deleted and it starts from scratch.
    """
    if not files:
        return None
    newest = files[max(files)]
    try:
        state = load_checkpoint(newest, map_location=map_location)
    except CheckpointError as error:
        if on_bad_checkpoint != "restart":
            raise CheckpointError(f"{error}. {RESTART_HINT}", error.path) from error
        log.warning("%s\nplatform.on_bad_checkpoint is 'restart': starting from scratch", error)
        _discard(files)
        return None
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
    _discard(files)
    return None


def _discard(files: dict[Any, Path]) -> None:
    for path in files.values():
        path.unlink(missing_ok=True)
