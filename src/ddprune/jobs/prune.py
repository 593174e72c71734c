"""The pruning job (workflow/rules/prune.smk): one selected checkpoint, one method."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from ddprune.foundations.tables import frame, read_table, write_table
from ddprune.jobs.common import job_spec, load_model, run_data
from ddprune.pruning.rounds import PruneJob, prune_run
from ddprune.study.paths import Layout, fill
from ddprune.study.pruning_methods import PRUNE_METHODS
from ddprune.study.runs import Run, Study
from ddprune.study.threshold_file import load_threshold, rewind_checkpoint, selection_entry
from ddprune.training.checkpoints import load_checkpoint
from ddprune.training.platform import configure


def prune(
    study: Study, layout: Layout, run: Run, epoch: int, method_name: str, threads: int | None = None
) -> None:
    """Prune one selected checkpoint by one method; write one row per round."""
    method = PRUNE_METHODS[method_name]
    selected = selection_entry(load_threshold(layout.threshold), run, epoch)
    data = run_data(study, layout, run, configure(study.platform, threads))
    model = load_model(run, data, selected.checkpoint)
    rewind = None
    if method.needs_rewind_checkpoint:
        path = rewind_checkpoint(layout, run, study.prune.rewind_epoch)
        rewind = load_checkpoint(path, map_location=data.x_train.device)["model"]
    identity = {
        "study": study.name,
        **asdict(run),
        "noise_realised": data.noise_realised,
        "source_epoch": epoch,
        "axis": selected.axis,
        "role": selected.role,
        "offset": selected.offset,
        "it_width": selected.it_width,
        "it_criterion": selected.it_criterion,
        "data_sha256": data.sha256,
    }
    layer_counts = None
    if method.counts_from is not None:
        matched = read_table(
            fill(layout.rounds_table, run, epoch=epoch, method=method.counts_from), "pruning"
        )
        layer_counts = {
            int(r.round): json.loads(r.layer_counts) for r in matched.itertuples() if r.round > 0
        }
    directory = fill(layout.rounds, run, epoch=epoch, method=method.name)
    job = PruneJob(
        method=method,
        prune=study.prune,
        train=study.train,
        platform=study.platform,
        source_epoch=epoch,
        seed=run.seed,
        identity=identity,
        spec=job_spec(
            study, run, data, epoch=epoch, method=method.name, prune=study.prune.as_dict()
        ),
        directory=Path(directory),
        layer_counts=layer_counts,
    )
    rows = prune_run(model, data, job, rewind)
    write_table(
        frame(rows, "pruning"),
        fill(layout.rounds_table, run, epoch=epoch, method=method.name),
        "pruning",
    )
