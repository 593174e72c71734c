"""Where is the interpolation threshold (IT)? Every criterion, a choice, and what to prune.

The criteria (:mod:`ddprune.study.it_criteria`) disagree in practice, so each is reported
with its own status, its width in parameters (and, for the interpolation point, parameters
per training sample) and a seed-bootstrap interval. The IT used downstream is the configured
criterion, falling back to another when it has no answer; the selection names the
checkpoints to prune with their roles: ``before``, ``at``, ``after`` the IT, and far-away
``control`` widths -- and, where the config asks, the epochs around one width's epoch-wise
peak.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ddprune.analysis.summaries import FAMILY_KEYS, epoch_means, final_rows
from ddprune.analysis.threshold.criteria import FamilyCurves, bootstrap, choose, criteria, find_peak
from ddprune.study.hparams import ThresholdConfig
from ddprune.study.it_criteria import IT_CRITERIA, VALIDATION_ERROR_PEAK, choosable_names


@dataclass(frozen=True)
class CheckpointFiles:
    """Where a run's checkpoints are: its final one, and the periodic ones that exist."""

    final: Callable[[dict[str, Any]], str]
    periodic: Callable[[dict[str, Any]], dict[int, str]] = lambda run: {}


def _select(
    curves: FamilyCurves,
    criteria: dict,
    it_width: int,
    config: ThresholdConfig,
    checkpoint: Callable[[int, int], str],
    epochs: dict,
) -> tuple[list, list]:
    """Widths around the IT with roles, plus controls; one entry per (width, seed) run."""
    widths = curves.valid_widths
    at = widths.index(it_width)
    chosen: dict[int, tuple[str, int]] = {}
    for offset in range(-config.neighbours, config.neighbours + 1):
        if 0 <= at + offset < len(widths):
            role = "at" if offset == 0 else ("before" if offset < 0 else "after")
            chosen[widths[at + offset]] = (role, offset)
    notes = []
    control_width = {
        "first_minimum": criteria[VALIDATION_ERROR_PEAK].get("first_minimum_width"),
        "smallest": widths[0],
        "largest": widths[-1],
    }
    for control in config.controls:
        width = control_width[control]
        if width is None:
            notes.append(f"control {control}: undefined (no first minimum of validation error)")
        elif width in chosen:
            notes.append(
                f"control {control}: width {width} is already selected as {chosen[width][0]}"
            )
        else:
            chosen[width] = ("control", widths.index(width) - at)
    selection = []
    for width, (role, offset) in sorted(chosen.items()):
        row = curves.widths.index(width)
        for j, seed in enumerate(curves.seeds):
            if np.isfinite(curves.matrices["test_error"][row, j]):
                selection.append(
                    {
                        "width": width,
                        "seed": seed,
                        "role": role,
                        "offset": offset,
                        "epoch": epochs[(width, seed)],
                        "checkpoint": checkpoint(width, seed),
                        "axis": "width",
                    }
                )
    return selection, notes


def _epochwise(
    rows: pd.DataFrame,
    width: int,
    config: ThresholdConfig,
    periodic: Callable[[int, int], dict[int, str]],
) -> tuple[dict[str, Any], list[dict], list[str]]:
    """The epoch-wise validation-error peak of one width and the checkpoints around it.

    Seeds are averaged per evaluation epoch; a run that stopped early keeps its last value.
    Only epochs that were evaluated *and* checkpointed for every seed can be selected; the
    one nearest the peak is ``at``, its neighbours ``before`` and ``after``.
    """
    runs = rows[rows["width"] == width]
    if runs.empty:
        return {"status": "no_data", "width": width, "reason": f"width {width} has no runs"}, [], []
    curve = epoch_means(runs, "val_error")
    epochs = [int(e) for e in curve["epoch"]]
    mean = curve["val_error"].to_numpy()
    seeds = sorted(runs.loc[runs["val_error"].notna(), "seed"].unique())
    peak = find_peak(epochs, mean, config.min_prominence["error"], config.smoothing, axis="epoch")
    renamed = {"width": "epoch", "first_minimum_width": "first_minimum_epoch"}
    result = {"width": width, **{renamed.get(k, k): v for k, v in peak.items()}}
    if peak["status"] != "ok":
        return result, [], []
    evaluated = {seed: set(runs.loc[runs["seed"] == seed, "epoch"]) for seed in seeds}
    files = {seed: periodic(width, int(seed)) for seed in seeds}
    candidates = sorted(set.intersection(*(evaluated[s] & set(files[s]) for s in seeds)))
    if not candidates:
        note = f"epoch-wise: no epoch of width {width} is both evaluated and checkpointed"
        return result, [], [note]
    peak_epoch = result["epoch"]
    at = min(range(len(candidates)), key=lambda i: (abs(candidates[i] - peak_epoch), i))
    selection = []
    for offset in range(-config.epochwise["neighbours"], config.epochwise["neighbours"] + 1):
        if not 0 <= at + offset < len(candidates):
            continue
        epoch = candidates[at + offset]
        role = "at" if offset == 0 else ("before" if offset < 0 else "after")
        for seed in seeds:
            selection.append(
                {
                    "width": width,
                    "seed": int(seed),
                    "role": role,
                    "offset": offset,
                    "epoch": epoch,
                    "checkpoint": files[seed][epoch],
                    "axis": "epoch",
                }
            )
    return result, selection, []


def analyse_family(
    rows: pd.DataFrame,
    config: ThresholdConfig,
    files: CheckpointFiles | None,
    family: dict[str, Any],
) -> dict[str, Any]:
    """Every criterion and the IT, each with its bootstrap interval, and the selection, for
    one family: criteria, then the choice, then the model-wise and epoch-wise selections.

    ``rows`` holds every evaluation of the family's runs; ``family`` its dataset, model,
    noise and noise kind (to name checkpoint files). Without ``files`` (models solved in
    closed form, which have no checkpoints to prune) nothing is selected.
    """
    final = final_rows(rows)
    curves = FamilyCurves.from_final(final)
    found, interval = _found_criteria(curves, config)
    result: dict[str, Any] = {
        "widths": curves.widths,
        "seeds": curves.seeds,
        "n_train": curves.n_train,
        "criteria": found,
        "notes": curves.notes,
        "selection": [],
        "it": _chosen_it(curves, found, config, interval),
    }
    if files is None:
        result["notes"].append("closed-form model: no checkpoints to select")
        return result

    def final_file(width: int, seed: int) -> str:
        return files.final({**family, "width": width, "seed": seed})

    def periodic(width: int, seed: int) -> dict[int, str]:
        return files.periodic({**family, "width": width, "seed": seed})

    it_width = result["it"].get("width")
    if it_width is not None:
        epochs = {(int(r.width), int(r.seed)): int(r.epoch) for r in final.itertuples()}
        result["selection"], notes = _select(curves, found, it_width, config, final_file, epochs)
        result["notes"] += notes
    _add_epochwise(result, rows, it_width, config, periodic)
    return result


def _found_criteria(
    curves: FamilyCurves, config: ThresholdConfig
) -> tuple[dict[str, dict], dict[str, Any]]:
    """Every criterion with the parameter count at its width (and parameters per training
    sample, where its record shows them) and its bootstrap interval; and the bootstrap
    interval of the IT itself (from the same resamples)."""
    found = criteria(curves, config)
    for name, criterion in found.items():
        if "width" not in criterion:
            continue
        criterion["n_params"] = curves.n_params[criterion["width"]]
        if "params_per_sample" in IT_CRITERIA[name].details and curves.n_train:
            criterion["params_per_sample"] = criterion["n_params"] / curves.n_train
    intervals = bootstrap(curves, config)
    for name, criterion in found.items():
        criterion["bootstrap"] = intervals[name]
    return found, intervals["it"]


def _chosen_it(
    curves: FamilyCurves, found: dict[str, dict], config: ThresholdConfig, interval: dict
) -> dict[str, Any]:
    """The IT: the configured criterion's width (or its fallback's), how far every other
    criterion lies from it, or why it is undefined."""
    chosen, fallback_used = choose(found, config)
    if chosen is None:
        return {
            "status": "undefined",
            "criterion": config.criterion,
            "reason": f"{config.criterion}: {found[config.criterion]['reason']}; "
            f"fallback {config.fallback} has no answer either",
        }
    it_width = found[chosen]["width"]
    grid = curves.valid_widths
    steps = {
        name: abs(grid.index(c["width"]) - grid.index(it_width))
        for name, c in found.items()
        if c["status"] == "ok"
    }
    return {
        "status": "ok",
        "criterion": chosen,
        "fallback_used": fallback_used,
        "width": it_width,
        "n_params": curves.n_params[it_width],
        "grid_steps_from_it": steps,
        # Every criterion that may choose has an answer, within one grid step of the IT.
        "criteria_agree": all(steps.get(name, 2) <= 1 for name in choosable_names()),
        "bootstrap": interval,
    }


def _add_epochwise(
    result: dict[str, Any],
    rows: pd.DataFrame,
    it_width: int | None,
    config: ThresholdConfig,
    periodic: Callable[[int, int], dict[int, str]],
) -> None:
    """The epoch-wise peak of the width the config names (``it``: the IT's) and the
    checkpoints around it, added to ``result``'s selection unless already selected."""
    epoch_width = config.epochwise.get("width")
    if epoch_width == "it":
        if it_width is None:
            result["epochwise"] = {"status": "undefined", "reason": "the IT is undefined"}
            return
        epoch_width = it_width
    if epoch_width is None:
        return
    result["epochwise"], selection, notes = _epochwise(rows, epoch_width, config, periodic)
    taken = {(e["width"], e["seed"], e["epoch"]) for e in result["selection"]}
    for entry in selection:
        key = (entry["width"], entry["seed"], entry["epoch"])
        if key in taken:
            notes.append(
                f"epoch-wise {entry['role']} width {key[0]} seed {key[1]} epoch "
                f"{key[2]} is already selected model-wise"
            )
        else:
            result["selection"].append(entry)
    result["notes"] += notes


def detect(
    dense: pd.DataFrame,
    config: ThresholdConfig,
    files: CheckpointFiles,
    unselectable: frozenset[str] = frozenset(),
) -> list[dict]:
    """Analyse every (dataset, model, noise, noise kind) family of a dense table.

    Families of the ``unselectable`` models (solved in closed form) get their IT but no
    checkpoint selection.
    """
    families = []
    for (dataset, model, noise, noise_kind), rows in dense.groupby(FAMILY_KEYS, sort=True):
        family = dict(dataset=dataset, model=model, noise=float(noise), noise_kind=noise_kind)
        usable = None if model in unselectable else files
        families.append({**family, **analyse_family(rows, config, usable, family)})
    return families


def _finite(value: Any) -> Any:
    """YAML-friendly: NaN becomes None (YAML's .nan reads back as a float but confuses people)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def to_yaml_ready(families: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _finite(families)
