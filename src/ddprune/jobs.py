"""One function per Snakemake job: plain arguments in, files out.

The workflow scripts only unpack the ``snakemake`` object into these calls, so every job can
be run and tested from Python without Snakemake.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import yaml

from ddprune import summaries
from ddprune.atomic import write_text
from ddprune.checkpoints import CheckpointError, load_checkpoint
from ddprune.data import RunData, labels_from_table, labels_table
from ddprune.datasets import load_dataset
from ddprune.evaluation import evaluate
from ddprune.exact import ClosedFormConfig, solve_run, solver_names, theory_curve
from ddprune.models import build_model, count_parameters
from ddprune.noise import NoisyLabels, corrupt_labels
from ddprune.platform import Platform, configure
from ddprune.prune import PruneConfig, prune_run
from ddprune.selection import (
    load_threshold,
    periodic_checkpoints,
    selection_entry,
)
from ddprune.study import Run
from ddprune.tables import TableSchema, concat_tables, frame, read_table, write_table
from ddprune.threshold import CheckpointFiles, ThresholdConfig, detect, to_yaml_ready
from ddprune.training import TrainConfig, train_run

log = logging.getLogger(__name__)
PathLike = str | os.PathLike
NOTHING_PRUNED = (
    "Nothing was pruned: no checkpoint was selected, because the interpolation threshold is "
    "undefined (see tables/thresholds.html for each criterion's status)."
)


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
    keep_epochs: tuple[int, ...] = (),
) -> None:
    """Train (or resume) one run; write its metric table and final checkpoint."""
    config = TrainConfig(**train_config)
    platform = Platform(**platform_config)
    data = _run_data(run, options, labels_path, schemas["labels"], configure(platform, threads))
    identity = {
        "study": study,
        **asdict(run),
        "n_train": len(data.y_train),
        "n_test": len(data.y_test),
        "data_sha256": data.sha256,
        "error_metric": "classification_error",
    }
    spec = {"run": asdict(run), "train": asdict(config), "data": _data_spec(options, data)}
    log.info("training %s on %s with %s", run, data.x_train.device, config)
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
        keep_epochs=tuple(keep_epochs),
    )
    dense = TableSchema.load(schemas["dense"])
    write_table(frame(rows, dense), metrics_path, dense)


def solve(
    study: str,
    dataset: str,
    model: str,
    noise: float,
    seed: int,
    widths: list[int],
    options: dict[str, Any],
    closed_form: dict[str, Any],
    labels_path: PathLike | None,
    schemas: dict[str, PathLike],
    dense_path: PathLike,
    compression_path: PathLike,
) -> None:
    """Solve a closed-form model at every width of one seed; write its dense and
    compression rows (one job per seed: each solve takes milliseconds, a job seconds)."""
    started = time.perf_counter()
    labels = _read_labels(labels_path, schemas["labels"]) if labels_path is not None else None
    config = ClosedFormConfig(**closed_form)
    dense_rows, compression_rows = solve_run(dataset, options, model, widths, seed, config, labels)
    identity = {"study": study, "dataset": dataset, "model": model, "noise": noise, "seed": seed}
    metric = "classification_error" if labels is not None else "mean_squared_error"
    for row in dense_rows:
        row.update(identity, epoch=0, step=0, lr=None, error_metric=metric)
        row.update(n_nonzero=row["n_params"], sparsity=0.0)
        row["wall_seconds"] = time.perf_counter() - started
        log.info(
            "width %d: train %.4g test %.4g", row["width"], row["train_error"], row["test_error"]
        )
    for row in compression_rows:
        row.update(identity, keep=config.keep, error_metric=metric)
    for rows, path, name in (
        (dense_rows, dense_path, "dense"),
        (compression_rows, compression_path, "compression"),
    ):
        table = TableSchema.load(schemas[name])
        write_table(frame(rows, table), path, table)


def _run_data(
    run: Run, options: dict[str, Any], labels_path: PathLike, schema: PathLike, device
) -> RunData:
    return RunData.build(
        load_dataset(run.dataset, options), _read_labels(labels_path, schema), device
    )


def _read_labels(path: PathLike, schema: PathLike) -> NoisyLabels:
    return labels_from_table(read_table(path, TableSchema.load(schema)))


def _data_spec(options: dict[str, Any], data: RunData) -> dict[str, Any]:
    """What identifies a job's data: its options and checksum (a changed file restarts it)."""
    return {**options, "sha256": data.sha256}


def _load_model(run: Run, data: RunData, checkpoint_path: PathLike) -> torch.nn.Module:
    """The run's model on the data's device, with the weights of ``checkpoint_path``."""
    device = data.x_train.device
    model = build_model(run.model, run.width, data.input_shape, data.num_classes).to(device)
    model.load_state_dict(load_checkpoint(checkpoint_path, map_location=device)["model"])
    return model


def threshold(
    study: str,
    dense_path: PathLike,
    schema: PathLike,
    threshold_config: dict[str, Any],
    checkpoint_template: str,
    output: PathLike,
) -> None:
    """Find the IT of every family and select the checkpoints around it (threshold.yaml)."""
    dense = read_table(dense_path, TableSchema.load(schema))

    def final(run: dict[str, Any]) -> str:
        return checkpoint_template.format(**Run(**run).wildcards)

    def periodic(run: dict[str, Any]) -> dict[int, str]:
        found = periodic_checkpoints(checkpoint_template, Run(**run))
        return {epoch: os.fspath(path) for epoch, path in found.items()}

    files = CheckpointFiles(final, periodic)
    closed_form = frozenset(solver_names())
    families = detect(dense, ThresholdConfig(**threshold_config), files, closed_form)
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
            "%s/%s noise %s: IT %s",
            family["dataset"],
            family["model"],
            family["noise"],
            f"width {it['width']} by {it['criterion']}"
            if it["status"] == "ok"
            else f"undefined ({it['reason']})",
        )
    document = {"study": study, "config": threshold_config, "families": to_yaml_ready(families)}
    write_text(output, yaml.safe_dump(document, sort_keys=False))


def verify_selected(
    study: str,
    run: Run,
    epoch: int,
    threshold_path: PathLike,
    checkpoint_path: PathLike,
    metrics_path: PathLike,
    labels_path: PathLike,
    options: dict[str, Any],
    train_config: dict[str, Any],
    platform_config: dict[str, Any],
    schemas: dict[str, PathLike],
    output: PathLike,
    threads: int | None = None,
) -> None:
    """Reload a selected checkpoint and check that it reproduces its recorded final metrics.

    Pruning starts from these files, so a checkpoint that does not reproduce the dense table
    (a changed dataset split, a corrupted file) stops the study here, loudly.
    """
    family, entry = selection_entry(load_threshold(threshold_path), run, epoch)
    platform = Platform(**platform_config)
    data = _run_data(run, options, labels_path, schemas["labels"], configure(platform, threads))
    model = _load_model(run, data, checkpoint_path)
    config = TrainConfig(**train_config)
    measured = evaluate(platform.accelerate(model), data, config.feed(data, platform))
    # The same kernels give the same numbers on a CPU; a GPU of another model (a cluster's
    # next node) or bfloat16 may flip a few predictions. A changed split or a damaged file
    # moves the metrics by far more than either tolerance.
    exact = data.x_train.device.type == "cpu" and config.autocast() is None
    tolerance = 1e-6 if exact else 2e-3
    metrics = read_table(metrics_path, TableSchema.load(schemas["dense"]))
    at_epoch = metrics[metrics["epoch"] == epoch]
    if at_epoch.empty:
        raise ValueError(f"{metrics_path} has no evaluation at epoch {epoch} to verify against")
    recorded = at_epoch.iloc[0]
    keys = ["train_error", "train_error_clean", "test_error", "test_loss"]
    off = {
        k: (measured[k], float(recorded[k]))
        for k in keys
        if abs(measured[k] - recorded[k]) > tolerance * max(1.0, abs(recorded[k]))
    }
    if off:
        raise CheckpointError(
            f"{checkpoint_path} does not reproduce its recorded metrics (measured, recorded): {off}"
        )
    row = {
        "study": study,
        **asdict(run),
        "role": entry["role"],
        "offset": entry["offset"],
        "it_criterion": family["it"]["criterion"],
        "it_width": family["it"]["width"],
        "epoch": epoch,
        "axis": entry["axis"],
        "checkpoint": os.fspath(checkpoint_path),
        "n_params": count_parameters(model),
        **{k: measured[k] for k in [*keys, "memorization"]},
    }
    table = TableSchema.load(schemas["selection"])
    write_table(frame([row], table), output, table)


def prune(
    study: str,
    run: Run,
    epoch: int,
    method: str,
    threshold_path: PathLike,
    checkpoint_path: PathLike,
    rewind_path: PathLike | None,
    labels_path: PathLike,
    options: dict[str, Any],
    train_config: dict[str, Any],
    prune_config: dict[str, Any],
    platform_config: dict[str, Any],
    schemas: dict[str, PathLike],
    output: PathLike,
    threads: int | None = None,
) -> None:
    """Prune one selected checkpoint by one method; write one row per round."""
    family, entry = selection_entry(load_threshold(threshold_path), run, epoch)
    platform = Platform(**platform_config)
    data = _run_data(run, options, labels_path, schemas["labels"], configure(platform, threads))
    model = _load_model(run, data, checkpoint_path)
    device = data.x_train.device
    rewind = load_checkpoint(rewind_path, map_location=device)["model"] if rewind_path else None
    identity = {
        "study": study,
        **asdict(run),
        "source_epoch": epoch,
        "axis": entry["axis"],
        "role": entry["role"],
        "offset": entry["offset"],
        "it_width": family["it"]["width"],
        "it_criterion": family["it"]["criterion"],
        "data_sha256": data.sha256,
    }
    config = PruneConfig(**prune_config)
    spec = {
        "run": asdict(run),
        "epoch": epoch,
        "method": method,
        "prune": asdict(config),
        "train": train_config,
        "data": _data_spec(options, data),
    }
    rows = prune_run(
        model,
        data,
        method,
        config,
        TrainConfig(**train_config),
        platform,
        rewind,
        identity,
        run.seed,
        Path(output).parent / "rounds",
        spec,
        source_epoch=epoch,
    )
    table = TableSchema.load(schemas["pruning"])
    write_table(frame(rows, table), output, table)


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


def figure(
    kind: str,
    dataset: str,
    model: str,
    output: PathLike,
    schemas: dict[str, PathLike],
    dense_path: PathLike | None = None,
    threshold_path: PathLike | None = None,
    pruning_path: PathLike | None = None,
    compression_path: PathLike | None = None,
    options: dict[str, Any] | None = None,
) -> None:
    """Draw figure ``kind`` of one (dataset, model) family from the tables it needs
    (``options``: the dataset's, for the closed-form risk curve where it applies)."""
    from ddprune import figures

    def family_rows(path: PathLike, table: str) -> pd.DataFrame:
        rows = read_table(path, TableSchema.load(schemas[table]))
        return summaries.select_family(rows, dataset, model, table, allow_empty=True)

    families = None
    if threshold_path is not None:
        families = [
            f
            for f in load_threshold(threshold_path)["families"]
            if (f["dataset"], f["model"]) == (dataset, model)
        ]
    dense = family_rows(dense_path, "dense") if dense_path is not None else None
    pruning = family_rows(pruning_path, "pruning") if pruning_path is not None else None
    if pruning is not None and pruning.empty:
        drawing = figures.message(NOTHING_PRUNED)
    elif kind == "double_descent":
        curve = theory_curve(dataset, options or {}, sorted(dense["width"].unique().tolist()))
        drawing = figures.double_descent(dense, families, curve and pd.DataFrame(curve))
    elif kind == "prune_vs_small":
        drawing = figures.prune_vs_small(family_rows(compression_path, "compression"))
    elif kind == "epochwise_heatmap":
        drawing = figures.epochwise_heatmap(dense, families)
    elif kind == "sparse_double_descent":
        drawing = figures.pruning_curves(pruning, ["test_error", "train_error"])
    elif kind == "memorization":
        drawing = figures.pruning_curves(pruning, ["memorization"])
    elif kind == "backwards_walk":
        drawing = figures.backwards_walk(dense, pruning)
    else:
        raise ValueError(f"unknown figure {kind!r}")
    figures.save(drawing, output)


def recovery_table(
    pruning_path: PathLike, schema: PathLike, dataset: str, model: str, output: PathLike
) -> None:
    """Does pruning help each source checkpoint? An HTML table for the report."""
    pruning = read_table(pruning_path, TableSchema.load(schema))
    rows = summaries.select_family(pruning, dataset, model, "pruning", allow_empty=True)
    table = summaries.recovery_table(rows) if len(rows) else pd.DataFrame({"": [NOTHING_PRUNED]})
    summaries.write_html(table, output, title=f"Recovery after pruning: {dataset} / {model}")


def threshold_table(threshold_path: PathLike, output: PathLike) -> None:
    """The thresholds of every family as an HTML table for the report."""
    families = load_threshold(threshold_path)["families"]
    summaries.write_html(
        summaries.threshold_table(families),
        output,
        title="Interpolation thresholds and selected checkpoints",
    )
