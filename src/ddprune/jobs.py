"""One function per Snakemake job: plain arguments in, files out.

The workflow scripts only unpack the ``snakemake`` object into these calls, so every job can
be run and tested from Python without Snakemake.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict
from typing import Any

from ddprune import summaries
from ddprune.data import RunData, labels_from_table, labels_table
from ddprune.datasets import load_dataset
from ddprune.noise import corrupt_labels
from ddprune.platform import Platform, configure
from ddprune.study import Run
from ddprune.tables import TableSchema, concat_tables, frame, read_table, write_table
from ddprune.training import TrainConfig, train_run

log = logging.getLogger(__name__)
PathLike = str | os.PathLike


def draw_labels(
    study: str,
    dataset: str,
    noise: float,
    seed: int,
    options: dict[str, Any],
    output: PathLike,
    schema: PathLike,
) -> None:
    """Draw the label noise of (dataset, noise, seed) once and record it."""
    data = load_dataset(dataset, options)
    labels = corrupt_labels(data.y_train, data.num_classes, noise, dataset, seed)
    rows = labels_table(labels, study, dataset, noise, seed)
    table_schema = TableSchema.load(schema)
    write_table(frame(rows, table_schema), output, table_schema)
    log.info(
        "%s noise %s seed %d: %d of %d labels corrupted",
        dataset,
        noise,
        seed,
        int(labels.is_noisy.sum()),
        len(rows),
    )


def train(
    study: str,
    run: Run,
    train_config: dict[str, Any],
    platform_config: dict[str, Any],
    options: dict[str, Any],
    labels_path: PathLike,
    metrics_path: PathLike,
    model_path: PathLike,
    schemas: dict[str, PathLike],
    threads: int | None = None,
) -> None:
    """Train (or resume) one run; write its metric table and final checkpoint."""
    config = TrainConfig(**train_config)
    platform = Platform(**platform_config)
    device = configure(platform, threads)
    dataset = load_dataset(run.dataset, options)
    labels = labels_from_table(read_table(labels_path, TableSchema.load(schemas["labels"])))
    data = RunData.build(dataset, labels, device)
    identity = {"study": study, **asdict(run)}
    spec = {"run": asdict(run), "train": asdict(config), "data": options}
    log.info("training %s on %s with %s", run, device, config)
    rows = train_run(
        spec=spec,
        identity=identity,
        width=run.width,
        model_name=run.model,
        seed=run.seed,
        config=config,
        platform=platform,
        data=data,
        run_dir=os.path.dirname(os.fspath(metrics_path)),
        final_path=model_path,
    )
    dense = TableSchema.load(schemas["dense"])
    write_table(frame(rows, dense), metrics_path, dense)


def aggregate(inputs: list[PathLike], output: PathLike, schema: PathLike) -> None:
    """Concatenate per-job tables of one schema into the study's table."""
    table_schema = TableSchema.load(schema)
    write_table(concat_tables(inputs, table_schema), output, table_schema)


def dense_summary(
    dense_path: PathLike, schema: PathLike, dataset: str, model: str, output: PathLike
) -> None:
    """Write the seed-mean final metrics of one model family as an HTML table."""
    dense = read_table(dense_path, TableSchema.load(schema))
    table = summaries.final_summary(summaries.select_family(dense, dataset, model))
    summaries.write_html(table, output, title=f"Dense sweep: {dataset} / {model}")


def double_descent_figure(
    dense_path: PathLike, schema: PathLike, dataset: str, model: str, output: PathLike
) -> None:
    """Draw the double-descent figure of one model family."""
    from ddprune import figures

    dense = read_table(dense_path, TableSchema.load(schema))
    figure = figures.double_descent(summaries.select_family(dense, dataset, model))
    figures.save(figure, output)
