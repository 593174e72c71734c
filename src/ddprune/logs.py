"""Route a job's log records to the file Snakemake assigned it (``log:`` of the rule)."""

from __future__ import annotations

import logging
import os


def log_to_file(path: str | os.PathLike) -> None:
    """Send INFO and above from every logger (and warnings) to ``path``."""
    logging.basicConfig(
        filename=os.fspath(path),
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
