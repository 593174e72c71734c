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
