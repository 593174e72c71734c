"""The pruning job (workflow/rules/prune.smk): one selected checkpoint, one method."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from ddprune.foundations.tables import frame, read_table, write_table
from ddprune.jobs.common import job_spec, load_model, run_data
from ddprune.pruning.rounds import PruneJob, prune_run
from ddprune.study.paths import PathLike
from ddprune.study.pruning_methods import PRUNE_METHODS
from ddprune.study.runs import Run, Study
from ddprune.study.threshold_file import load_threshold
from ddprune.training.checkpoints import load_checkpoint
from ddprune.training.platform import configure


def prune(
    study: Study,
    run: Run,
    epoch: int,
    method_name: str,
    *,
    threshold: PathLike,
    checkpoint: PathLike,
    labels: PathLike,
    output: PathLike,
    rounds: PathLike,
    rewind: PathLike | None = None,
    counts: PathLike | None = None,
    threads: int | None = None,
) -> None:
    """Prune ``checkpoint`` -- the ``threshold`` selection's entry for (run, epoch) -- by one
    method; write one row per round to ``output``, each round's weights and masks to the
    ``rounds`` folder. A rewinding method resets survivors to the ``rewind`` checkpoint; a
    method that keeps another's per-layer counts reads them from that method's ``counts``
    table of the same source."""
    method = PRUNE_METHODS[method_name]
    selected = load_threshold(threshold).entry(run, epoch)
    data = run_data(study, run, labels, configure(study.platform, threads))
    model = load_model(run, data, checkpoint)
    rewound = None
    if method.needs_rewind_checkpoint:
        rewound = load_checkpoint(rewind, map_location=data.x_train.device)["model"]
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
        matched = read_table(counts, "pruning")
        layer_counts = {
            int(r.round): json.loads(r.layer_counts) for r in matched.itertuples() if r.round > 0
        }
    job = PruneJob(
        method=method,
        prune=study.prune,
        train=study.train,
        platform=study.platform,
        source_epoch=epoch,
        seed=run.seed,
        identity=identity,
        spec=job_spec(
            study, run, data, epoch=epoch, method=method.name, prune=study.prune.job_values()
        ),
        directory=Path(rounds),
        layer_counts=layer_counts,
    )
    write_table(frame(prune_run(model, data, job, rewound), "pruning"), output, "pruning")
