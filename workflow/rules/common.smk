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

# Planning never imports torch (seconds per command): these modules are torch-free.
from ddprune.study.paths import FAMILY, RUN, Layout, fill, unfinished_study
from ddprune.study.pruning_methods import PRUNE_METHODS
from ddprune.study import ConfigError, Run, load_study, require_data
from ddprune.study.config import profile_placeholders
from ddprune.study.registration import RegistrationError, register
from ddprune.study.resources import job_group, network_resources
from ddprune.study.runs import NOISE_PATTERN, parse_noise_wildcard
from ddprune.catalog import (
    CLOSED_FORM_MODELS,
    DENSE_FIGURES,
    PRUNING_FIGURES,
    SOLVED_FIGURES,
    TRAINED_FIGURES,
    is_regression,
)
from ddprune.study.threshold_file import load_threshold, rewind_checkpoint

try:
    STUDY = load_study(config)
except ConfigError as error:
    raise WorkflowError(str(error)) from None
config.update(STUDY.config)  # defaults filled in, for every rule and script


LAYOUT = Layout.of(STUDY.name)  # every file of the study (ddprune.study.paths)


onstart:
    # Before any job, but not in a dry run: a study can be planned without its data. The
    # first run of a study registers what it will test; later ones check the config against
    # that record (ddprune.study.registration).
    try:
        require_data(config)
        register(LAYOUT.registration, STUDY)
    except (ConfigError, RegistrationError) as error:
        raise WorkflowError(str(error)) from None


# `snakemake --report` of a study that has not run (usually: a missing --configfile) would
# print a hundred "Missing metadata" lines and then name one missing file; say why instead.
reporting = any(a == "--report" or a.startswith("--report=") for a in sys.argv)
if reporting and (why := unfinished_study(LAYOUT)):
    raise WorkflowError(why)
for placeholder in profile_placeholders(sys.argv, os.environ):
    print(
        f"ddprune: the profile still holds a placeholder, {placeholder}; edit it "
        "(docs/slurm.md, step 1): SLURM refuses such jobs",
        file=sys.stderr,
    )
# What a job that trains or evaluates a network asks for, sized from its model
# (ddprune.study.resources): on a cluster, a GPU only where the model pays for one. With
# `--resources gpu=G` on a GPU machine, every such job holds a GPU slot instead, and G x
# platform.runs_per_gpu of them run at a time (each claims its own slot:
# ddprune.training.platform). Snakemake's resources are integers, so the GPU count the user
# gives is turned into slots here; the SLURM executor sets no global limit to scale.
GPU_SLOTS = workflow.global_resources.get("gpu").value is not None
if GPU_SLOTS:
    workflow.global_resources["gpu"] = (
        workflow.global_resources["gpu"].value * STUDY.platform.runs_per_gpu
    )


NETWORK_RESOURCES = network_resources(STUDY.platform, GPU_SLOTS)


def network_group(wildcards):
    """A network job's group on a cluster (ddprune.study.resources.job_group)."""
    return job_group(wildcards.model)


wildcard_constraints:
    dataset=r"[A-Za-z0-9-]+",
    model=r"[A-Za-z0-9-]+",
    noise=NOISE_PATTERN,
    width=r"[0-9]+",
    seed=r"[0-9]+",
    epoch=r"[0-9]+",
    method=r"[a-z-]+",
    weight_decay=r"[0-9.e-]+",


def config_sections(*names):
    """The config sections whose values a job's numbers depend on, given to it as ``params``:
    Snakemake reruns a job whose params changed (its ``params`` rerun trigger), so changing
    a section reruns exactly the jobs that depend on it. (The platform section is never
    among them: it does not change the numbers.)"""
    return {name: STUDY.config[name] for name in names}


def dataset_options(wildcards):
    """A dataset's options (its files, sizes, split): a job's numbers depend on them."""
    return STUDY.dataset_options(wildcards.dataset)


def run_paths(pattern, runs=None):
    """``pattern`` (with run wildcards) filled in for every run of the study (or of ``runs``)."""
    return [
        pattern.format(**run.wildcards)
        for run in (STUDY.runs if runs is None else runs)
    ]


def dense_tables():
    """Every per-job dense table: one per trained run, one per closed-form family."""
    trained = run_paths(LAYOUT.metrics, STUDY.trained_runs)
    solved = [LAYOUT.solved_dense.format(**w) for w in STUDY.solved_families]
    return trained + solved


def selected_paths(pattern, **values):
    """``pattern`` (run wildcards, epoch and ``values``) for every selected checkpoint."""
    document = load_threshold(checkpoints.threshold.get().output[0])
    return [
        pattern.format(**run.wildcards, epoch=epoch, **values)
        for run, epoch in document.selected_runs()
    ]


def pruned_paths(pattern):
    """``pattern`` for every pruning job (selected checkpoint, method), once the selection
    is known."""
    document = load_threshold(checkpoints.threshold.get().output[0])
    return [
        pattern.format(**run.wildcards, epoch=epoch, method=method)
        for run, epoch, method in document.pruning_jobs(STUDY.prune.methods)
    ]


def tuned_paths(pattern):
    """``pattern`` for every run of the tuned dense baseline (each seed at its family's IT
    width, each value of baselines.weight_decay), once the IT is known."""
    document = load_threshold(checkpoints.threshold.get().output[0])
    return [
        pattern.format(**run.wildcards, weight_decay=repr(weight_decay))
        for run in document.it_runs()
        for weight_decay in STUDY.baselines.weight_decay
    ]


def tuning_table(wildcards):
    """The tuned baseline's table, when the study prunes and tunes at all."""
    return LAYOUT.tuning if STUDY.prune.methods and STUDY.baselines.weight_decay else []


def pruning_table(wildcards):
    """The study's pruning table, when it prunes at all."""
    return LAYOUT.pruning if STUDY.prune.methods else []


def data_file(wildcards):
    """The file a declared dataset is read from: an input, so that changing it reruns its jobs."""
    return STUDY.dataset_files(wildcards.dataset)


def rewind_checkpoint_file(wildcards):
    """The run's checkpoint of prune.rewind_epoch, for the methods that rewind to it."""
    if not PRUNE_METHODS[wildcards.method].needs_rewind_checkpoint:
        return []
    run = Run.from_wildcards(wildcards)
    return rewind_checkpoint(LAYOUT, run, STUDY.prune.rewind_epoch)


def landing_page():
    """The report's first page: the study's answer once the answer job has written it,
    else the plain workflow description."""
    if os.path.exists(LAYOUT.landing):
        return os.path.abspath(LAYOUT.landing)
    return "workflow/report/workflow.rst"


def counts_table_file(wildcards):
    """The rounds table of the method whose per-layer counts a method keeps (random-rewind
    keeps imp-rewind's), for the same source."""
    like = PRUNE_METHODS[wildcards.method].counts_from
    return (
        []
        if like is None
        else LAYOUT.rounds_table.format(**{**dict(wildcards.items()), "method": like})
    )


def selected_checkpoint_file(wildcards):
    """The checkpoint file that the threshold selection names for a (run, epoch)."""
    document = load_threshold(checkpoints.threshold.get().output[0])
    return document.entry(
        Run.from_wildcards(wildcards), int(wildcards.epoch)
    ).checkpoint


def model_families():
    """The (dataset, model) pairs of the study, each with its own figures."""
    return sorted({(run.dataset, run.model) for run in STUDY.runs})


FAMILY_FIGURES = (*DENSE_FIGURES, *TRAINED_FIGURES, *SOLVED_FIGURES)


def family_figure_input(wildcards):
    """What a family's dense-stage figure draws: the closed-form compression table, or the
    dense table and the threshold."""
    if wildcards.kind in SOLVED_FIGURES:
        return {"compression": LAYOUT.compression}
    return {"dense": LAYOUT.dense, "threshold": LAYOUT.threshold}


def family_paths(pattern, kind=None):
    """``pattern`` for every family, or only the ``trained`` or ``solved`` (closed-form) ones."""
    return [
        pattern.format(dataset=d, model=m)
        for d, m in model_families()
        if kind is None or (kind == "solved") == (m in CLOSED_FORM_MODELS)
    ]


def all_targets():
    return [
        LAYOUT.dense,
        LAYOUT.threshold,
        LAYOUT.selection,
        LAYOUT.threshold_table,
        *[p for kind in DENSE_FIGURES for p in family_paths(LAYOUT.figure(kind))],
        *[
            p
            for kind in TRAINED_FIGURES
            for p in family_paths(LAYOUT.figure(kind), "trained")
        ],
        *family_paths(LAYOUT.family_table("dense_summary")),
        LAYOUT.answer_page,
        LAYOUT.landing,
        LAYOUT.answer_figure,
        LAYOUT.noise_figure,
        *pruning_targets(),
        *closed_form_targets(),
    ]


def pruning_targets():
    """Pruning table, figures and recovery table, when the study prunes at all."""
    if not STUDY.prune.methods:
        return []
    patterns = [LAYOUT.figure(kind) for kind in PRUNING_FIGURES]
    patterns.append(LAYOUT.family_table("recovery"))
    return [LAYOUT.pruning] + [
        path for pattern in patterns for path in family_paths(pattern, "trained")
    ]


# The closed-form route (closed_form.smk).


def solve_labels(wildcards):
    """The label-noise tables a closed-form job fits, one per seed (none for regression)."""
    if is_regression(wildcards.dataset, STUDY.dataset_options(wildcards.dataset)):
        return []
    seeds = STUDY.seeds(wildcards.dataset, wildcards.model, wildcards.noise)
    return [rules.labels.output[0].format(**wildcards, seed=seed) for seed in seeds]


def closed_form_targets():
    """The prune-large-vs-train-small table and figures, when closed-form models run."""
    if not STUDY.solved_families:
        return []
    figures = [LAYOUT.figure(kind) for kind in SOLVED_FIGURES]
    return [
        LAYOUT.compression,
        LAYOUT.compression_claims,
        *[p for f in figures for p in family_paths(f, "solved")],
    ]


def compression_inputs(wildcards):
    """What the answer page reads of the closed-form regimes (nothing without them)."""
    if not STUDY.solved_families:
        return {}
    return {"compression": LAYOUT.compression, "claims": LAYOUT.compression_claims}
