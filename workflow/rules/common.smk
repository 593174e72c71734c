"""Configuration, validation and path helpers shared by every rule file."""

import os
import sys
from pathlib import Path

# Jobs import ddprune from this checkout, whether or not it is installed into the
# interpreter or conda environment that runs them.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
os.environ.update(
    PYTHONPATH=os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))
)

from snakemake.exceptions import WorkflowError

# Planning never imports torch (seconds per command): ddprune.catalog and .selection.
from ddprune.catalog import CLOSED_FORM_MODELS, is_regression
from ddprune.selection import (
    load_threshold,
    rewind_checkpoint,
    selected_checkpoint,
    selected_runs,
)
from ddprune.study import ConfigError, Run, load_study, require_data

SCHEMAS = Path(workflow.basedir) / "workflow" / "schemas"

try:
    STUDY = load_study(config, SCHEMAS / "config.schema.yaml")
except ConfigError as error:
    raise WorkflowError(str(error)) from None
config.update(STUDY.config)  # defaults filled in, for every rule and script


onstart:
    # Before any job, but not in a dry run: a study can be planned without its data.
    try:
        require_data(config)
    except ConfigError as error:
        raise WorkflowError(str(error)) from None


RESULTS = f"results/{STUDY.name}"
LOGS = f"{RESULTS}/logs"
RUN = "{dataset}/{model}/noise{noise}/width{width}/seed{seed}"
CHECKPOINT = f"{RESULTS}/train/{RUN}/final.pt"
FAMILY = "{dataset}/{model}"
PRUNE = f"{RESULTS}/prune/{RUN}/epoch{{epoch}}/{{method}}"
SOLVED = f"{RESULTS}/solve/{FAMILY}/noise{{noise}}/seed{{seed}}"
# Of the platform settings only this one changes results (it decides which checkpoints are
# kept), so only it is a rule parameter; the scripts read the others from the config, so that
# changing them (device, threads, resume points) reruns nothing.
CHECKPOINT_EVERY = config["platform"]["checkpoint_every"]
# Jobs that train or evaluate networks hold a GPU when there may be one, so that
# `--resources gpu=G` runs G of them at a time (each claims its own: ddprune.platform).
GPUS_PER_JOB = 0 if config["platform"]["device"] == "cpu" else 1


wildcard_constraints:
    dataset=r"[A-Za-z0-9-]+",
    model=r"[A-Za-z0-9-]+",
    noise=r"[0-9]+\.[0-9]+(e-?[0-9]+)?",
    width=r"[0-9]+",
    seed=r"[0-9]+",
    epoch=r"[0-9]+",
    method=r"[a-z-]+",


def schema(table):
    """Path of a table's schema, passed to the scripts that write or read the table."""
    return str(SCHEMAS / f"{table}.schema.yaml")


def run_paths(pattern, runs=None):
    """``pattern`` (with run wildcards) filled in for every run of the study (or of ``runs``)."""
    return [
        pattern.format(**run.wildcards)
        for run in (STUDY.runs if runs is None else runs)
    ]


def dense_tables():
    """Every per-job dense table: one per trained run, one per closed-form seed."""
    trained = run_paths(f"{RESULTS}/train/{RUN}/metrics.parquet", STUDY.trained_runs)
    solved = [f"{SOLVED}/dense.parquet".format(**w) for w in STUDY.solved_seeds]
    return trained + solved


def solve_labels(wildcards):
    """The label-noise table a closed-form job fits (none for regression data)."""
    if is_regression(wildcards.dataset, STUDY.dataset_options(wildcards.dataset)):
        return []
    return rules.labels.output[0].format(**wildcards)


def solved_widths(wildcards):
    return STUDY.widths(
        wildcards.dataset, wildcards.model, float(wildcards.noise), int(wildcards.seed)
    )


def selected_paths(pattern, **values):
    """``pattern`` (run wildcards, epoch and ``values``) for every selected checkpoint."""
    document = load_threshold(checkpoints.threshold.get().output[0])
    return [
        pattern.format(**run.wildcards, epoch=epoch, **values)
        for run, epoch in selected_runs(document)
    ]


def pruned_paths(pattern):
    """``pattern`` for every (selected checkpoint, pruning method), once the selection is known."""
    methods = config["prune"]["methods"]
    return [path for m in methods for path in selected_paths(pattern, method=m)]


def data_file(wildcards):
    """The file a declared dataset is read from: an input, so that changing it reruns its jobs."""
    return STUDY.dataset_files(wildcards.dataset)


def rewind_checkpoint_file(wildcards):
    """imp-rewind's early checkpoint of the run (no input for the other methods)."""
    if wildcards.method != "imp-rewind":
        return []
    run = Run.from_wildcards(wildcards)
    return rewind_checkpoint(CHECKPOINT, run, config["prune"]["rewind_epoch"])


def selected_checkpoint_file(wildcards):
    """The checkpoint file that the threshold selection names for a (run, epoch)."""
    threshold = checkpoints.threshold.get().output[0]
    return selected_checkpoint(
        threshold, Run.from_wildcards(wildcards), int(wildcards.epoch)
    )


def model_families():
    """The (dataset, model) pairs of the study, each with its own figures."""
    return sorted({(run.dataset, run.model) for run in STUDY.runs})


def family_paths(pattern, kind=None):
    """``pattern`` for every family, or only the ``trained`` or ``solved`` (closed-form) ones."""
    return [
        pattern.format(dataset=d, model=m)
        for d, m in model_families()
        if kind is None or (kind == "solved") == (m in CLOSED_FORM_MODELS)
    ]


def all_targets():
    return [
        f"{RESULTS}/dense.parquet",
        f"{RESULTS}/threshold.yaml",
        f"{RESULTS}/selection.parquet",
        f"{RESULTS}/tables/thresholds.html",
        *family_paths(f"{RESULTS}/figures/{{dataset}}/{{model}}/double_descent.png"),
        *family_paths(
            f"{RESULTS}/figures/{{dataset}}/{{model}}/epochwise_heatmap.png", "trained"
        ),
        *family_paths(f"{RESULTS}/tables/{{dataset}}/{{model}}/dense_summary.html"),
        *pruning_targets(),
        *closed_form_targets(),
    ]


def closed_form_targets():
    """The prune-large-vs-train-small table and figures, when closed-form models run."""
    if not STUDY.solved_seeds:
        return []
    figure = f"{RESULTS}/figures/{{dataset}}/{{model}}/prune_vs_small.png"
    return [f"{RESULTS}/compression.parquet", *family_paths(figure, "solved")]


def pruning_targets():
    """Pruning table, figures and recovery table, when the study prunes at all."""
    if not config["prune"]["methods"]:
        return []
    kinds = ["sparse_double_descent", "backwards_walk", "memorization"]
    figures = [f"{RESULTS}/figures/{{dataset}}/{{model}}/{kind}.png" for kind in kinds]
    recovery = f"{RESULTS}/tables/{{dataset}}/{{model}}/recovery.html"
    return [f"{RESULTS}/pruning.parquet"] + [
        path
        for pattern in [*figures, recovery]
        for path in family_paths(pattern, "trained")
    ]


def family_report(caption, label):
    """Report metadata shared by every per-family figure and table."""
    return dict(
        caption=f"../report/{caption}.rst",
        category="1. Double descent",
        subcategory="{dataset} / {model}",
        labels={"dataset": "{dataset}", "model": "{model}", "figure": label},
    )
