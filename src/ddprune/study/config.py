"""The configuration of a study: validated, with defaults filled in, before any job starts.

``load_study`` is the single entry point for a config: it validates against
``workflow/schemas/config.schema.yaml``, fills in defaults and rejects bad input with one
message that names every offending field and what is allowed. The schema is the single
source of defaults and allowed values: the records of the sections
(:mod:`ddprune.study.hparams`) take their defaults from it, and rules that span fields (a
neighbourhood within the sweep, rounds that leave a weight) are checked here. Where a list of
allowed values is one of the package's registries, the schema names it (``x-registry``) and
the registry's names are filled in here, so that a new record needs no edit of the schema.
"""

from __future__ import annotations

import copy
import itertools
import logging
import math
import os
from collections.abc import Mapping
from typing import Any

import yaml

from ddprune.catalog import (
    CLOSED_FORM_MODELS,
    TRAINING_POOLS,
    design_problem,
    is_regression,
    source,
)
from ddprune.foundations.schemas import FillingValidator, describe, load_schema, schema_file
from ddprune.study.it_criteria import choosable_names
from ddprune.study.pruning_methods import PRUNE_METHODS
from ddprune.study.runs import Run, Study

log = logging.getLogger(__name__)
# Fewer than one weight in 10^8 kept: no network that ddprune trains keeps a weight.
MIN_REMAINING = 1e-8


class ConfigError(ValueError):
    """The configuration is invalid; the message names each field and what is allowed."""


# The registries a config-schema list may name (``x-registry: <name>``): their names are the
# allowed values, beside any ``enum`` given with it (``none``, say).
REGISTRIES = {"it-criteria": choosable_names, "pruning-methods": PRUNE_METHODS.names}


def _schema(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """The config schema with every ``x-registry`` turned into an ``enum`` of the registry's
    names at the time of the call (a record registered later is accepted too)."""

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(child) for child in node]
        if not isinstance(node, dict):
            return node
        resolved = {key: resolve(child) for key, child in node.items()}
        if "x-registry" in resolved:
            names = REGISTRIES[resolved["x-registry"]]()
            resolved["enum"] = [*names, *resolved.get("enum", [])]
        return resolved

    return resolve(load_schema(path or schema_file("config")))


def validate_config(
    config: Mapping[str, Any], schema_path: str | os.PathLike | None = None
) -> dict[str, Any]:
    """Return a validated copy of ``config`` with defaults filled in, or raise ConfigError."""
    schema = _schema(schema_path)
    filled = _coerce(_migrate(copy.deepcopy(dict(config))), schema)
    _warn_ignored(filled)
    errors = sorted(
        FillingValidator(schema).iter_errors(filled),
        key=lambda e: [str(p) for p in e.absolute_path],
    )
    if errors:
        _raise([describe(e) for e in errors])
    _raise(
        [
            *_check_unique_runs(filled),
            *_check_prune(filled),
            *_check_baselines(filled),
            *_check_threshold(filled),
            *_check_closed_form(filled),
            *_check_splits(filled),
        ]
    )
    _check_datasets(filled, builtin=list(schema["properties"]["datasets"]["properties"]))
    return filled


def _raise(problems: list[str]) -> None:
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigError(f"invalid configuration ({len(problems)} problem(s)):\n{lines}")


_SCALARS = {"integer": int, "number": float}


def _coerce(value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` with the numbers and booleans that arrived as text (Snakemake passes the
    values of ``--config train='{max_epochs: 3}'`` as strings) turned into what ``schema``
    says the field holds; anything that does not parse is left for validation to report."""
    if isinstance(value, dict):
        fields = schema.get("properties", {})
        return {k: _coerce(v, fields[k]) if k in fields else v for k, v in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_coerce(v, schema["items"]) for v in value]
    if not isinstance(value, str):
        return value
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if "null" in types and value in ("null", "None", "~"):
        return None
    if "boolean" in types and value.lower() in ("true", "false"):
        return value.lower() == "true"
    for name in ("integer", "number"):
        if name in types:
            try:
                return _SCALARS[name](value)
            except ValueError:
                pass
    return value


def _warn_ignored(config: dict[str, Any]) -> None:
    """A schedule that another one overrides is said, naming both (an overlay that sets
    ``prune.fraction`` over a config with ``prune.budgets`` would otherwise run the budgets)."""
    prune = config.get("prune")
    if not isinstance(prune, dict):
        return
    winner = next((k for k in ("budgets", "sparsities") if prune.get(k)), None)
    ignored = [k for k in ("fraction", "rounds") if k in prune]
    if winner and ignored:
        names = " and ".join(f"prune.{k}" for k in ignored)
        log.warning(
            "%s %s ignored: prune.%s is set and decides the rounds (set prune.%s: null to "
            "prune by fraction and rounds)",
            names,
            "are" if len(ignored) > 1 else "is",
            winner,
            winner,
        )


def _migrate(config: dict[str, Any]) -> dict[str, Any]:
    """Configs written before ``checkpoint_every`` moved from ``platform`` to ``train``
    (it decides which checkpoints exist, so it belongs with the run's identity)."""
    platform = config.get("platform")
    if not isinstance(platform, dict) or "checkpoint_every" not in platform:
        return config
    moved = platform.pop("checkpoint_every")
    train = config.setdefault("train", {})
    if isinstance(train, dict) and train.setdefault("checkpoint_every", moved) != moved:
        _raise(
            [
                f"platform.checkpoint_every: {moved} disagrees with train.checkpoint_every: "
                f"{train['checkpoint_every']}; the setting moved to train.checkpoint_every, "
                "give it there only"
            ]
        )
    log.warning("platform.checkpoint_every is now train.checkpoint_every; read it from there")
    return config


def _check_closed_form(config: dict[str, Any]) -> list[str]:
    """Regression data needs a closed-form model; d = width needs the linear one; a
    closed-form model on data without a known support needs ``closed_form.keep``."""
    problems = _check_keep(config)
    for index, grid in enumerate(config["sweep"]):
        name, model = grid["dataset"], grid["model"]
        options = config["datasets"].get(name, {})
        if not is_regression(name, options):
            continue
        where = f"sweep[{index}]"
        if model not in CLOSED_FORM_MODELS:
            problems.append(
                f"{where}.model: {model!r} cannot fit the regression dataset {name!r}; "
                f"allowed models: {list(CLOSED_FORM_MODELS)}"
            )
        if any(noise != 0 for noise in grid["noise"]):
            problems.append(f"{where}.noise: {grid['noise']}; regression data allows [0.0] only")
        if options["d"] is None and model != "linear":
            problems.append(
                f"datasets.{name}.d: null (d = width) needs model 'linear', not {model!r}"
            )
        problems += _check_design(name, options)
        too_wide = [
            w
            for w in grid["widths"]
            if model == "linear" and options["d"] is not None and w > options["d"]
        ]
        if too_wide:
            problems.append(
                f"{where}.widths: {too_wide} exceed datasets.{name}.d = {options['d']}; the "
                "linear model uses the first width coordinates"
            )
    return problems


def _check_design(name: str, options: dict[str, Any]) -> list[str]:
    """A gaussian-linear world that can be built: blocks that fit d, shares that sum to 1,
    a correlation within its range (checked by building it, before any job)."""
    if options["d"] is None:
        if options.get("blocks"):
            return [f"datasets.{name}.blocks: needs a fixed d (d null grows the world with p)"]
        return []
    problem = design_problem(
        options["d"], options["signal_norm"], options.get("blocks"), options.get("correlation")
    )
    return [f"datasets.{name}: gaussian-linear: {problem}"] if problem else []


def _check_keep(config: dict[str, Any]) -> list[str]:
    """``closed_form.keep``: named datasets are swept ones; null only where the support is
    known (gaussian-linear)."""
    keep = config["closed_form"]["keep"]
    solved = {g["dataset"] for g in config["sweep"] if g["model"] in CLOSED_FORM_MODELS}
    problems = []
    if isinstance(keep, dict) and set(keep) - solved:
        problems.append(
            f"closed_form.keep: {sorted(set(keep) - solved)} are not swept with a closed-form "
            f"model; allowed: {sorted(solved)}"
        )
    for name in sorted(solved):
        value = keep.get(name) if isinstance(keep, dict) else keep
        options = config["datasets"].get(name, {})
        if value is None and source(name, options) != "gaussian-linear":
            problems.append(
                f"closed_form.keep: null for {name!r}, whose informative features are unknown "
                "(only gaussian-linear knows them); give an integer"
            )
    return problems


def _check_datasets(config: dict[str, Any], builtin: list[str]) -> None:
    """Every swept dataset is ``builtin`` (the schema's, which the tests keep equal to the
    registry's) or declared; every data file is readable and sound (read in full)."""
    declared = config["datasets"]
    files = sorted(name for name, options in declared.items() if "file" in options)
    allowed = sorted(set(builtin) | set(declared))
    for index, grid in enumerate(config["sweep"]):
        if grid["dataset"] not in allowed:
            raise ConfigError(
                f"invalid configuration:\n  - sweep[{index}].dataset: {grid['dataset']!r} is not "
                f"allowed; allowed values: {allowed} (declare your own under datasets.<name>.file)"
            )
    if not files:
        return
    # Imported only now: reading files needs torch, which planning a study does not.
    from ddprune.data.array_files import DataFileError
    from ddprune.data.datasets import load_dataset

    for name in files:
        try:
            load_dataset(name, declared[name])
        except DataFileError as error:
            message = f"invalid configuration:\n  - datasets.{name}.file: {error}"
            raise ConfigError(message) from None


def _check_splits(config: dict[str, Any]) -> list[str]:
    """The training and validation samples of a swept built-in dataset fit in its pool."""
    problems = []
    for name in sorted({grid["dataset"] for grid in config["sweep"]}):
        options = config["datasets"].get(name, {})
        pool = TRAINING_POOLS.get(source(name, options))
        if pool is None or "n_validation" not in options:
            continue
        n_train, n_validation = options.get("n_train"), options["n_validation"]
        # n_train null trains on what validation leaves: at least the schema's 10 samples
        if (n_train or 10) + n_validation > pool:
            problems.append(
                f"datasets.{name}.n_validation: {n_validation} validation samples and "
                f"n_train {n_train} do not fit in the {pool} samples {source(name, options)} "
                f"offers for training; allowed: n_train + n_validation <= {pool}"
            )
    return problems


def _check_prune(config: dict[str, Any]) -> list[str]:
    """Rules that span fields, so the schema cannot state them."""
    prune, problems = config["prune"], []
    sparsities = prune["sparsities"]
    if sparsities and any(b <= a for a, b in itertools.pairwise(sparsities)):
        problems.append(f"prune.sparsities: {sparsities} must increase strictly")
    budgets = prune["budgets"]
    if budgets and any(b >= a for a, b in itertools.pairwise(budgets)):
        problems.append(f"prune.budgets: {budgets} must decrease strictly")
    if budgets and sparsities:
        problems.append("prune.budgets and prune.sparsities: set one schedule, not both")
    if not (sparsities or budgets) and (1 - prune["fraction"]) ** prune["rounds"] < MIN_REMAINING:
        most = max(1, int(math.log(MIN_REMAINING) / math.log(1 - prune["fraction"])))
        problems.append(
            f"prune.rounds: {prune['rounds']} rounds removing {prune['fraction']} each keep "
            f"{(1 - prune['fraction']) ** prune['rounds']:.3g} of the weights, less than one "
            f"weight of a network of {1 / MIN_REMAINING:.0e}; allowed: at most {most} rounds "
            "at this fraction"
        )
    for name in prune["methods"]:
        like = PRUNE_METHODS[name].counts_from
        if like is not None and like not in prune["methods"]:
            problems.append(
                f"prune.methods: {name} keeps {like}'s per-layer counts, round by round; "
                f"add {like} to prune.methods"
            )
    primary = config["answer"]["primary"]["method"]
    if prune["methods"] and primary not in prune["methods"]:
        problems.append(
            f"answer.primary.method: {primary!r} is not pruned; allowed: one of prune.methods "
            f"{prune['methods']}"
        )
    if prune["stop"] == "fixed" and prune["patience"] is not None:
        problems.append(
            f"prune.patience: {prune['patience']} ends a round for a stall of its validation "
            "error, which prune.stop fixed does not watch; allowed: null with prune.stop fixed, "
            "or prune.stop validation"
        )
    rewinds = any(PRUNE_METHODS[name].needs_rewind_checkpoint for name in prune["methods"])
    if rewinds and prune["rewind_epoch"] > config["train"]["max_epochs"]:
        problems.append(
            f"prune.rewind_epoch: {prune['rewind_epoch']} is after the last epoch; allowed: 0 "
            f"to train.max_epochs ({config['train']['max_epochs']})"
        )
    return problems


def _check_baselines(config: dict[str, Any]) -> list[str]:
    """A weight decay to tune must differ from the sweep's own, which is a candidate already."""
    own = config["train"]["weight_decay"]
    if own in config["baselines"]["weight_decay"]:
        return [
            f"baselines.weight_decay: {config['baselines']['weight_decay']} repeats "
            f"train.weight_decay ({own}), whose run the sweep trains already; allowed: values "
            "other than it"
        ]
    return []


def _check_threshold(config: dict[str, Any]) -> list[str]:
    """The threshold's neighbourhoods and windows fit inside the sweep they look at."""
    threshold, problems = config["threshold"], []
    trained = [g for g in config["sweep"] if g["model"] not in CLOSED_FORM_MODELS]
    fewest = min((len(g["widths"]) for g in config["sweep"]), default=0)
    # The default (1) stays valid for a sweep of one width; more must fit in the widest grid.
    most = max([1] + [len(g["widths"]) - 1 for g in trained])
    if threshold["neighbours"] > most:
        problems.append(
            f"threshold.neighbours: {threshold['neighbours']} widths on each side of the IT, "
            f"but the sweep has at most {most + 1} widths; allowed: 0 to {most}"
        )
    if threshold["smoothing"] > fewest:
        problems.append(
            f"threshold.smoothing: a window of {threshold['smoothing']} widths is wider than "
            f"a sweep of {fewest}; allowed: 1 to {fewest}"
        )
    epochwise, train = threshold["epochwise"], config["train"]
    widths = sorted({w for g in trained for w in g["widths"]})
    if isinstance(epochwise["width"], int) and epochwise["width"] not in widths:
        problems.append(
            f"threshold.epochwise.width: {epochwise['width']} is not a trained width; "
            f"allowed: {widths}, 'it' or null"
        )
    if train["eval_every"] > train["max_epochs"]:  # the real problem, not the neighbours
        return [
            *problems,
            f"train.eval_every: {train['eval_every']} is more than train.max_epochs "
            f"({train['max_epochs']}): a run would be evaluated only at its start; allowed: "
            f"1 to {train['max_epochs']}",
        ]
    evaluations = train["max_epochs"] // train["eval_every"] + 1
    if epochwise["width"] is not None and epochwise["neighbours"] >= evaluations:
        problems.append(
            f"threshold.epochwise.neighbours: {epochwise['neighbours']} epochs on each side, "
            f"but a run is evaluated at most {evaluations} times; allowed: 0 to "
            f"{evaluations - 1}"
        )
    return problems


def _check_unique_runs(config: dict[str, Any]) -> list[str]:
    seen: dict[Run, int] = {}
    for index, grid in enumerate(config["sweep"]):
        for run in Study({**config, "sweep": [grid]}).runs:
            if run in seen:
                return [
                    f"sweep[{index}]: run {run} is already in sweep[{seen[run]}]; each "
                    "(dataset, model, width, noise, noise_kind, seed) once"
                ]
            seen[run] = index
    return []


def require_data(config: Mapping[str, Any]) -> None:
    """The files of every swept dataset that lives in a data directory exist (and MNIST-1D
    generates as published), or a ConfigError naming them and the command that fixes it.

    Checked when a run starts (Snakemake's ``onstart``), not when the config loads, so that
    a study can be planned (``snakemake -n``) on a machine that does not hold its data.
    """
    from ddprune.data.image_datasets import REQUIRED, DataMissingError, require_files
    from ddprune.data.mnist1d import Mnist1dError, mnist1d_arrays

    for name in sorted({grid["dataset"] for grid in config["sweep"]}):
        options = config["datasets"].get(name, {})
        if source(name, options) == "mnist1d":
            try:
                mnist1d_arrays(options.get("root", "data"))
            except Mnist1dError as error:
                raise ConfigError(f"missing data:\n  - datasets.{name}: {error}") from None
        if source(name, options) in REQUIRED:
            try:
                require_files(source(name, options), options.get("root", "data"))
            except DataMissingError as error:
                raise ConfigError(f"missing data:\n  - datasets.{name}: {error}") from None


def profile_placeholders(argv: list[str], environ: Mapping[str, str]) -> list[str]:
    """The values still marked ``EDIT-...`` in the Snakemake profile of this command line
    (``--profile DIR``, ``--profile=DIR`` or ``$SNAKEMAKE_PROFILE``), as ``key: value``; a
    dry run with them plans hundreds of jobs that no cluster would accept."""
    found = [environ.get("SNAKEMAKE_PROFILE")]
    for index, argument in enumerate(argv):
        if argument == "--profile" and index + 1 < len(argv):
            found.append(argv[index + 1])
        elif argument.startswith("--profile="):
            found.append(argument.split("=", 1)[1])
    placeholders = []
    for profile in filter(None, found):
        path = os.path.join(profile, "config.yaml")
        if not os.path.isfile(path):
            continue  # a profile found by name in Snakemake's search path: not read here
        with open(path) as text:
            settings = yaml.safe_load(text) or {}
        resources = settings.get("default-resources") or {}
        placeholders += [
            f"{path}: default-resources: {key}: {value}"
            for key, value in resources.items()
            if str(value).startswith("EDIT")
        ]
    return placeholders


def load_study(config: Mapping[str, Any], schema_path: str | os.PathLike | None = None) -> Study:
    """Validate ``config`` (a dict, e.g. Snakemake's ``config``) and wrap it as a Study."""
    return Study(validate_config(config, schema_path))
