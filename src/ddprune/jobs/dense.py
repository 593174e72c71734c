"""Jobs of the dense stage (workflow/rules/dense.smk): draw the label noise, train a run,
solve the closed-form models of one family."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict

from ddprune.catalog import is_regression
from ddprune.closed_form import solve_run
from ddprune.data.datasets import load_dataset
from ddprune.data.noise import draw_noise
from ddprune.data.run_data import labels_table
from ddprune.foundations.tables import frame, write_table
from ddprune.jobs.common import job_spec, read_labels, run_data
from ddprune.study.paths import Layout, fill
from ddprune.study.runs import Run, Study, noise_wildcard
from ddprune.training.dense_run import train_run
from ddprune.training.platform import configure

log = logging.getLogger(__name__)


def draw_labels(
    study: Study, layout: Layout, dataset: str, noise: float, noise_kind: str, seed: int
) -> None:
    """Draw the label noise of (dataset, noise, noise kind, seed) once and record it."""
    data = load_dataset(dataset, study.dataset_options(dataset))
    labels = draw_noise(data, dataset, noise, seed, noise_kind)
    rows = labels_table(labels, study.name, dataset, noise, noise_kind, seed)
    output = layout.labels.format(
        dataset=dataset, noise=noise_wildcard(noise, noise_kind), seed=seed
    )
    write_table(frame(rows, "labels"), output, "labels")
    log.info(
        "%s %s noise %s seed %d: %d of %d labels redrawn, %.4f changed",
        dataset,
        noise_kind,
        noise,
        seed,
        int(labels["train"].is_noisy.sum()),
        len(labels["train"].clean),
        labels["train"].realised_rate,
    )


def train(study: Study, layout: Layout, run: Run, threads: int | None = None) -> None:
    """Train (or resume) one run; write its metric table and final checkpoint."""
    config, platform = study.train, study.platform
    data = run_data(study, layout, run, configure(platform, threads))
    identity = {
        "study": study.name,
        **asdict(run),
        "noise_realised": data.noise_realised,
        "n_train": len(data.y_train),
        "n_val": len(data.y_val),
        "n_test": len(data.y_test),
        "data_sha256": data.sha256,
        "error_metric": "classification_error",
    }
    log.info("training %s on %s with %s", run, data.x_train.device, config)
    rows = train_run(
        run,
        config,
        platform,
        data,
        spec=job_spec(study, run, data),
        identity=identity,
        checkpoint_dir=fill(layout.checkpoints, run),
        final_path=fill(layout.final_checkpoint, run),
        keep_epochs=tuple(study.kept_epochs()),
    )
    write_table(frame(rows, "dense"), fill(layout.metrics, run), "dense")


def solve(
    study: Study,
    layout: Layout,
    dataset: str,
    model: str,
    noise: float,
    noise_kind: str,
) -> None:
    """Solve a closed-form model at every width and seed of one family; write its dense and
    compression rows (one job per family: each solve takes milliseconds, a job seconds)."""
    options = study.dataset_options(dataset)
    label = noise_wildcard(noise, noise_kind)
    wildcards = {"dataset": dataset, "model": model, "noise": label}
    config = study.closed_form
    metric = "mean_squared_error" if is_regression(dataset, options) else "classification_error"
    dense_rows, compression_rows = [], []
    for seed in study.seeds(dataset, model, label):
        started = time.perf_counter()
        labels = None
        if metric == "classification_error":
            labels = read_labels(layout.labels.format(**wildcards, seed=seed))
        widths = study.widths(dataset, model, noise, noise_kind, seed)
        dense, compression = solve_run(dataset, options, model, widths, seed, config, labels)
        identity = {
            "study": study.name,
            "dataset": dataset,
            "model": model,
            "noise": noise,
            "noise_kind": noise_kind,
            "noise_realised": 0.0 if labels is None else labels["train"].realised_rate,
            "seed": seed,
            "error_metric": metric,
        }
        elapsed = time.perf_counter() - started
        for row in dense:
            row.update(identity, epoch=0, step=0, lr=None, wall_seconds=elapsed)
            row.update(n_nonzero=row["n_params"], sparsity=0.0)
        for row in compression:
            row.update(identity)
        log.info("seed %d: %d widths in %.2f s", seed, len(widths), elapsed)
        dense_rows += dense
        compression_rows += compression
    for rows, table, pattern in (
        (dense_rows, "dense", layout.solved_dense),
        (compression_rows, "compression", layout.solved_compression),
    ):
        write_table(frame(rows, table), pattern.format(**wildcards), table)
