"""Jobs of the dense stage (workflow/rules/dense.smk): draw the label noise, train a run,
solve the closed-form models of one family."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict

from ddprune.catalog import is_regression
from ddprune.closed_form.solver import solve_run
from ddprune.data.datasets import load_dataset
from ddprune.data.noise import NoisyLabels, draw_noise
from ddprune.data.run_data import labels_from_table, labels_table
from ddprune.foundations.tables import frame, read_table, write_table
from ddprune.jobs.common import job_spec, run_data
from ddprune.study.paths import PathLike
from ddprune.study.runs import Run, Study, noise_wildcard
from ddprune.training.dense_run import train_run
from ddprune.training.platform import configure

log = logging.getLogger(__name__)


def draw_labels(
    study: Study, dataset: str, noise: float, noise_kind: str, seed: int, output: PathLike
) -> None:
    """Draw the label noise of (dataset, noise, noise kind, seed) once and record it."""
    data = load_dataset(dataset, study.dataset_options(dataset))
    labels = draw_noise(data, dataset, noise, seed, noise_kind)
    rows = labels_table(labels, study.name, dataset, noise, noise_kind, seed)
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


def train(
    study: Study,
    run: Run,
    labels: PathLike,
    metrics: PathLike,
    final: PathLike,
    checkpoints: PathLike,
    threads: int | None = None,
    weight_decay: float | None = None,
) -> None:
    """Train (or resume) one run on its ``labels``; write its ``metrics`` table and ``final``
    checkpoint (periodic checkpoints and resume points go to the ``checkpoints`` folder).
    With ``weight_decay``, the run trains with it instead of ``train.weight_decay`` -- one
    candidate of the tuned dense baseline -- and its table is ``tuning``, with that value."""
    tuned = {} if weight_decay is None else {"weight_decay": weight_decay}
    study = study.with_train(**tuned) if tuned else study
    config, platform = study.train, study.platform
    data = run_data(study, run, labels, configure(platform, threads))
    identity = {
        "study": study.name,
        **asdict(run),
        "noise_realised": data.noise_realised,
        "n_train": len(data.y_train),
        "n_val": len(data.y_val),
        "n_test": len(data.y_test),
        "data_sha256": data.sha256,
        "error_metric": "classification_error",
        **tuned,
    }
    log.info("training %s on %s with %s", run, data.x_train.device, config)
    rows = train_run(
        run,
        config,
        platform,
        data,
        spec=job_spec(study, run, data),
        identity=identity,
        checkpoint_dir=checkpoints,
        final_path=final,
        keep_epochs=tuple(study.kept_epochs()),
    )
    table = "tuning" if tuned else "dense"
    write_table(frame(rows, table), metrics, table)


def solve(
    study: Study,
    dataset: str,
    model: str,
    noise: float,
    noise_kind: str,
    labels: list[PathLike],
    dense: PathLike,
    compression: PathLike,
) -> None:
    """Solve a closed-form model at every width and seed of one family on the seeds' label
    tables (``labels``, none for regression); write its ``dense`` and ``compression`` rows
    (one job per family: each solve takes milliseconds, a job seconds)."""
    options = study.dataset_options(dataset)
    config = study.closed_form
    metric = "mean_squared_error" if is_regression(dataset, options) else "classification_error"
    drawn = labels_by_seed(labels)
    dense_rows, compression_rows = [], []
    for seed in study.seeds(dataset, model, noise_wildcard(noise, noise_kind)):
        started = time.perf_counter()
        labels = drawn[seed] if metric == "classification_error" else None
        widths = study.widths(dataset, model, noise, noise_kind, seed)
        solved, compared = solve_run(dataset, options, model, widths, seed, config, labels)
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
        for row in solved:
            row.update(identity, epoch=0, step=0, lr=None, wall_seconds=elapsed)
            row.update(n_nonzero=row["n_params"], sparsity=0.0)
        for row in compared:
            row.update(identity)
        log.info("seed %d: %d widths in %.2f s", seed, len(widths), elapsed)
        dense_rows += solved
        compression_rows += compared
    write_table(frame(dense_rows, "dense"), dense, "dense")
    write_table(frame(compression_rows, "compression"), compression, "compression")


def labels_by_seed(paths: list[PathLike]) -> dict[int, dict[str, NoisyLabels]]:
    """The label tables of one family's seeds, keyed by the seed each table records."""
    drawn = {}
    for path in paths:
        table = read_table(path, "labels")
        drawn[int(table["seed"].iloc[0])] = labels_from_table(table)
    return drawn
