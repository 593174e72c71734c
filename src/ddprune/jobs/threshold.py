"""The threshold job (workflow/rules/threshold.smk): find the IT of every family and select
the checkpoints around it. Torch-free: it reads tables and lists checkpoint files."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ddprune.analysis.threshold.detection import CheckpointFiles, detect, to_yaml_ready
from ddprune.catalog import CLOSED_FORM_MODELS
from ddprune.foundations.tables import read_table
from ddprune.study.paths import PathLike, fill
from ddprune.study.runs import Run, Study
from ddprune.study.threshold_file import list_periodic, write_threshold

log = logging.getLogger(__name__)


def threshold(
    study: Study, dense: PathLike, output: PathLike, final: str, checkpoints: str
) -> None:
    """Find the IT of every family of the ``dense`` table and select the checkpoints around
    it (``output``, threshold.yaml). ``final`` and ``checkpoints`` are the patterns (with run
    wildcards) of a run's final checkpoint and of its folder of periodic ones."""
    table = read_table(dense, "dense")

    def final_file(run: dict[str, Any]) -> str:
        return fill(final, Run(**run))

    def periodic(run: dict[str, Any]) -> dict[int, str]:
        found = list_periodic(fill(checkpoints, Run(**run)))
        return {epoch: os.fspath(path) for epoch, path in found.items()}

    config = study.threshold
    files = CheckpointFiles(final_file, periodic)
    families = detect(table, config, files, frozenset(CLOSED_FORM_MODELS))
    missing = [
        entry["checkpoint"]
        for family in families
        for entry in family["selection"]
        if not Path(entry["checkpoint"]).is_file()
    ]
    if missing:
        raise FileNotFoundError(
            f"the selection names {len(missing)} checkpoint(s) that were not trained: "
            + ", ".join(missing)
        )
    for family in families:
        it = family["it"]
        log.info(
            "%s/%s %s noise %s: IT %s",
            family["dataset"],
            family["model"],
            family["noise_kind"],
            family["noise"],
            f"width {it['width']} by {it['criterion']}"
            if it["status"] == "ok"
            else f"undefined ({it['reason']})",
        )
    document = {
        "study": study.name,
        "config": config.as_dict(),
        "families": to_yaml_ready(families),
    }
    write_threshold(document, output)
