"""The start of every workflow script: the job's log, its study and the study's layout."""

from __future__ import annotations

from typing import Any

from ddprune.foundations.logs import log_to_file
from ddprune.study.paths import Layout
from ddprune.study.runs import Study


def start(snakemake: Any) -> tuple[Study, Layout]:
    """Log to the job's log file; return the study (its config validated, defaults filled
    in, by the Snakefile) and where its files are."""
    log_to_file(snakemake.log[0])
    study = Study(snakemake.config)
    return study, Layout.of(study.name)
