"""Route a job's output to the file Snakemake assigned it (``log:`` of the rule)."""

from __future__ import annotations

import logging
import os
import socket
import sys


def log_to_file(path: str | os.PathLike) -> None:
    """Send log records (INFO and above), warnings and any traceback to ``path``.

    stderr is redirected as well, so that an uncaught exception -- the one thing a user
    looks for when Snakemake says "check log file(s) for error details" -- lands in the log.
    """
    stream = open(path, "a", buffering=1)  # noqa: SIM115 -- lives as long as the job
    sys.stderr = stream
    logging.basicConfig(
        stream=stream,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    # Where the job ran: on a cluster the first thing to know about a failed or slow job.
    slurm_job = os.environ.get("SLURM_JOB_ID")
    logging.getLogger(__name__).info(
        "host %s%s", socket.gethostname(), f", SLURM job {slurm_job}" if slurm_job else ""
    )


def progress_line(done: int, total: int, seconds: float, unit: str) -> str:
    """``epoch 400/3000, 12 s so far, at most 78 s left``: what a long job's log says at
    each evaluation or round, so that a reader (or ``ddprune status``) sees how far it is and
    how long it may still take ("at most": a run that fits its labels stops early)."""
    text = f"{unit} {done}/{total}, {_duration(seconds)} so far"
    if 0 < done < total:
        text += f", at most {_duration(seconds / done * (total - done))} left"
    return text


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
