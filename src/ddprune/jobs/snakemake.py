"""The start of every workflow script: the job's log, its study and the study's layout, and
a failure that names a damaged file on the console."""

from __future__ import annotations

import sys
from typing import Any

from ddprune.foundations.logs import log_to_file
from ddprune.study.paths import Layout
from ddprune.study.runs import Study


def start(snakemake: Any) -> tuple[Study, Layout]:
    """Log to the job's log file; return the study (its config validated, defaults filled
    in, by the Snakefile) and where its files are."""
    log_to_file(snakemake.log[0])
    sys.excepthook = name_damaged_files(sys.excepthook)
    study = Study(snakemake.config)
    return study, Layout.of(study.name)


def name_damaged_files(hook: Any) -> Any:
    """``hook`` (which writes the traceback to the job's log), preceded, for an error about a
    damaged file, by a line on the console -- where Snakemake itself only says "message:
    None" -- naming the file and how to rebuild it."""

    def excepthook(kind, error, trace) -> None:
        path = getattr(error, "path", None)
        if path:
            print(
                f"ddprune: {error}\nddprune: to rebuild it, delete {path} and run snakemake "
                "again: the rule that writes it runs again.",
                file=sys.__stderr__,
            )
        hook(kind, error, trace)

    return excepthook
