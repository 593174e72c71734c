"""A study: the validated configuration and the runs it expands to.

``load_study`` is the single entry point for a config: it validates against
``workflow/schemas/config.schema.yaml``, fills in defaults and rejects bad input with one
message that names every offending field and what is allowed -- before any job starts.
"""

from __future__ import annotations

import copy
import itertools
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ddprune.catalog import CLOSED_FORM_MODELS, is_regression, source


class ConfigError(ValueError):
    """The configuration is invalid; the message names each field and what is allowed."""


@dataclass(frozen=True, order=True)
class Run:
    """One training run; its fields are the wildcards of every path that belongs to it."""

    dataset: str
    model: str
    width: int
    noise: float
    seed: int

    @property
    def noise_label(self) -> str:
        """The noise rate as it appears in paths: ``repr`` round-trips through ``float``."""
        return repr(float(self.noise))

    @property
    def wildcards(self) -> dict[str, str]:
        values = asdict(self)
        values["noise"] = self.noise_label
        return {k: str(v) for k, v in values.items()}

    @classmethod
    def from_wildcards(cls, wildcards: Mapping[str, str]) -> Run:
        return cls(
            dataset=wildcards["dataset"],
            model=wildcards["model"],
            width=int(wildcards["width"]),
            noise=float(wildcards["noise"]),
            seed=int(wildcards["seed"]),
        )


@dataclass(frozen=True)
class Study:
    """A validated configuration (with defaults filled in)."""

    config: dict[str, Any]

    @property
    def name(self) -> str:
        return self.config["study"]

    @property
    def runs(self) -> list[Run]:
        runs = []
        for grid in self.config["sweep"]:
            for width, noise, seed in itertools.product(
                grid["widths"], grid["noise"], grid["seeds"]
            ):
                runs.append(Run(grid["dataset"], grid["model"], width, float(noise), seed))
        return sorted(runs)

    @property
    def trained_runs(self) -> list[Run]:
        """Runs trained by SGD, one job each (the closed-form ones are solved per seed)."""
        return [run for run in self.runs if run.model not in CLOSED_FORM_MODELS]

    @property
    def solved_seeds(self) -> list[dict[str, str]]:
        """Wildcards of every closed-form job: one per (dataset, model, noise, seed)."""
        keys = {
            (run.dataset, run.model, run.noise_label, str(run.seed))
            for run in self.runs
            if run.model in CLOSED_FORM_MODELS
        }
        names = ("dataset", "model", "noise", "seed")
        return [dict(zip(names, key, strict=True)) for key in sorted(keys)]

    def widths(self, dataset: str, model: str, noise: float, seed: int) -> list[int]:
        """The widths of the runs that share (dataset, model, noise, seed)."""
        return sorted(
            run.width
            for run in self.runs
            if (run.dataset, run.model, run.noise, run.seed) == (dataset, model, noise, seed)
        )

    def dataset_options(self, dataset: str) -> dict[str, Any]:
        return dict(self.config["datasets"].get(dataset, {}))

    def kept_epochs(self) -> list[int]:
        """Epochs whose checkpoints training keeps besides the periodic ones: the rewind
        point of imp-rewind (He et al. rewind to an early epoch, between two periodic ones)."""
        prune = self.config["prune"]
        return [prune["rewind_epoch"]] if "imp-rewind" in prune["methods"] else []

    def dataset_files(self, dataset: str) -> list[str]:
        """The file a dataset is read from (none for a built-in one): an input of its jobs."""
        file = self.dataset_options(dataset).get("file")
        return [file] if file else []


def _extend_with_defaults(validator_class: type) -> type:
    """A validator that fills in each property's ``default`` while it validates."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def properties_with_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if isinstance(subschema, dict) and "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": properties_with_defaults})


_Validator = _extend_with_defaults(jsonschema.Draft202012Validator)


def _field(path: Any) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    """One line per problem: the field, what was found, and what is allowed."""
    field = _field(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return f"{field}: unknown key(s) {unknown}; allowed keys: {allowed}"
    if error.validator == "enum":
        return (
            f"{field}: {error.instance!r} is not allowed; allowed values: {error.validator_value}"
        )
    if error.validator == "required":
        return f"{field}: {error.message}"
    if error.validator == "type":
        return f"{field}: {error.instance!r} has the wrong type; expected {error.validator_value}"
    return f"{field}: {error.message}"


def validate_config(config: Mapping[str, Any], schema_path: str | os.PathLike) -> dict[str, Any]:
    """Return a validated copy of ``config`` with defaults filled in, or raise ConfigError."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    filled = copy.deepcopy(dict(config))
    errors = sorted(
        _Validator(schema).iter_errors(filled), key=lambda e: [str(p) for p in e.absolute_path]
    )
    if errors:
        lines = "\n".join(f"  - {_describe(e)}" for e in errors)
        raise ConfigError(f"invalid configuration ({len(errors)} problem(s)):\n{lines}")
    _check_unique_runs(filled)
    _check_prune(filled)
    _check_datasets(filled, builtin=list(schema["properties"]["datasets"]["properties"]))
    _check_closed_form(filled)
    return filled


def _check_closed_form(config: dict[str, Any]) -> None:
    """Regression data needs a closed-form model; d = width needs the linear one."""
    problems = []
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
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigError(f"invalid configuration ({len(problems)} problem(s)):\n{lines}")


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
    from ddprune.array_files import DataFileError
    from ddprune.datasets import load_dataset

    for name in files:
        try:
            load_dataset(name, declared[name])
        except DataFileError as error:
            message = f"invalid configuration:\n  - datasets.{name}.file: {error}"
            raise ConfigError(message) from None


def _check_prune(config: dict[str, Any]) -> None:
    """Rules that span fields, so the schema cannot state them."""
    prune = config["prune"]
    sparsities = prune["sparsities"]
    if sparsities and any(b <= a for a, b in itertools.pairwise(sparsities)):
        raise ConfigError(
            f"invalid configuration:\n  - prune.sparsities: {sparsities} must increase strictly"
        )
    if "imp-rewind" in prune["methods"] and prune["rewind_epoch"] > config["train"]["max_epochs"]:
        raise ConfigError(
            f"invalid configuration:\n  - prune.rewind_epoch: {prune['rewind_epoch']} is after "
            f"the last epoch; allowed: 0 to train.max_epochs ({config['train']['max_epochs']})"
        )


def _check_unique_runs(config: dict[str, Any]) -> None:
    seen: dict[Run, int] = {}
    for index, grid in enumerate(config["sweep"]):
        for run in Study({**config, "sweep": [grid]}).runs:
            if run in seen:
                raise ConfigError(
                    f"invalid configuration:\n  - sweep[{index}]: run {run} is already in "
                    f"sweep[{seen[run]}]; each (dataset, model, width, noise, seed) once"
                )
            seen[run] = index


def require_data(config: Mapping[str, Any]) -> None:
    """The files of every swept dataset that lives in a data directory exist, or a
    ConfigError naming them and the command that fetches them.

    Checked when a run starts (Snakemake's ``onstart``), not when the config loads, so that
    a study can be planned (``snakemake -n``) on a machine that does not hold its data.
    """
    from ddprune.image_datasets import REQUIRED, DataMissingError, require_files

    for name in sorted({grid["dataset"] for grid in config["sweep"]}):
        options = config["datasets"].get(name, {})
        if source(name, options) in REQUIRED:
            try:
                require_files(source(name, options), options.get("root", "data"))
            except DataMissingError as error:
                raise ConfigError(f"missing data:\n  - datasets.{name}: {error}") from None


def load_study(config: Mapping[str, Any], schema_path: str | os.PathLike) -> Study:
    """Validate ``config`` (a dict, e.g. Snakemake's ``config``) and wrap it as a Study."""
    return Study(validate_config(config, schema_path))
