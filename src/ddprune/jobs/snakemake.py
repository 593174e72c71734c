"""The start of every workflow script: the job's log, its study and the study's layout, and
a failure that names a damaged file on the console."""

from __future__ import annotations

import sys
from typing import Any

from ddprune.foundations.logs import log_to_file
from ddprune.study.runs import Study


def start(snakemake: Any) -> Study:
    """Log to the job's log file; return the study (its config validated, defaults filled
    in, by the Snakefile). The job's files are the rule's: scripts pass them on by name."""
    log_to_file(snakemake.log[0])
    sys.excepthook = name_damaged_files(sys.excepthook)
    return Study(snakemake.config)


def optional(files: Any) -> str | None:
    """A named input that an input function may leave empty (a method that does not rewind
    has no rewind checkpoint): its one file, or None."""
    if isinstance(files, str):
        return files
    return files[0] if len(files) else None


def name_damaged_files(hook: Any) -> Any:
    """``hook`` (which writes the traceback to the job's log), preceded, for an error about a
    damaged file, by a line on the console -- where Snakemake itself only says "message:
    None" -- naming the file and how to rebuild it. (Deleting it alone is not enough:
    Snakemake does not rebuild a missing file whose consumers are up to date; naming it as a
    target does, and the study's next run sees its consumers outdated.)"""

    def excepthook(kind, error, trace) -> None:
        path = getattr(error, "path", None)
        if path:
            print(
                f"ddprune: {error}\nddprune: to rebuild it, delete it and name it as a target "
                f"-- rm {path} && snakemake --cores N {path} -- then run the study again: "
                "what depends on it reruns (add the --configfile you use to both).",
                file=sys.__stderr__,
            )
        hook(kind, error, trace)

    return excepthook
