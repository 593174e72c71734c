"""The question's answer in numbers: what pruning does to each source checkpoint, how sure
that is, and whether the pruned models walk the dense double-descent curve backwards.

Every statistic is first measured on each pruned *trajectory* (one source checkpoint, one
method, one seed: its rounds in order), then summarised over seeds with the paired t interval
(:mod:`ddprune.analysis.answer.inference`); :mod:`ddprune.analysis.answer.comparisons`
builds the tested contrasts from the same per-seed values. What a trajectory is measured
against -- the dense runs read as curves and baselines -- is
:mod:`ddprune.analysis.answer.dense_references`.

Every choice is made on validation error: the best pruned round, the dense run's
early-stopping epoch, the peak round. Test error is read at the chosen points only. The two
statistics that choose on test -- ``delta_best_oracle`` and ``delta_best_epoch_oracle`` --
are kept to show how far the choice on test would have flattered the answer, and are called
oracles wherever they appear.

Torch-free: the answer job reads Parquet and YAML only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ddprune.analysis.answer.dense_references import (
    SeedCurves,
    curve_at,
    curve_at_epoch,
    dense_at,
    dense_curves,
    early_stopped,
    epoch_grids,
    stopped_curves,
)
from ddprune.analysis.answer.inference import LEVEL, t_interval
from ddprune.analysis.summaries import FAMILY_KEYS
from ddprune.foundations.tables import frame
from ddprune.study.hparams import PruneConfig
from ddprune.study.it_criteria import VALIDATION_ERROR_PEAK
from ddprune.study.pruning_methods import PRUNE_METHODS
from ddprune.study.threshold_file import FamilyThreshold

SOURCE_KEYS = [*FAMILY_KEYS, "axis", "role", "width", "source", "method"]
ROLE_ORDER = ["before", "at", "after", "control"]


@dataclass(frozen=True)
class Statistic:
    description: str
    interval: bool  # a mean of a continuous quantity (an indicator or a round gets none)


STATISTICS: dict[str, Statistic] = {
    "dense_test_error": Statistic("test error of the dense source (round 0)", True),
    "dense_train_error": Statistic("its error on the noisy training labels", True),
    "best_round": Statistic("the pruned round of lowest validation error (the choice)", False),
    "best_test_error": Statistic("test error at that round", True),
    "best_sparsity": Statistic("sparsity of the prunable weights at that round", True),
    "delta_best": Statistic("its test error minus the final dense model's", True),
    "early_stop_epoch": Statistic(
        "the dense run's epoch of lowest validation error, stopped by the rule a pruned round "
        "stops by (prune.patience)",
        False,
    ),
    "dense_early_stopped_error": Statistic("the dense run's test error at that epoch", True),
    "delta_early_stopped": Statistic(
        "best pruned minus the early-stopped dense test error (both chosen on validation)", True
    ),
    "dense_same_budget_error": Statistic(
        "the dense run's test error after as many epochs from its start as the best round of a "
        "rewinding method trained (rewind epoch + its epochs; the run's stop if earlier)",
        True,
    ),
    "delta_same_budget": Statistic("best pruned minus the same-budget dense test error", True),
    "best_width_choice": Statistic(
        "the dense width a user picks on validation: lowest final validation error", False
    ),
    "delta_best_width": Statistic("best pruned minus that final dense model's test error", True),
    "best_dense_choice": Statistic(
        "the dense width a user picks on validation with every width early-stopped by the "
        "rounds' rule: lowest validation error over widths and epochs",
        False,
    ),
    "delta_best_dense": Statistic("best pruned minus that early-stopped model's test error", True),
    "weight_decay_choice": Statistic(
        "the weight decay a user picks on validation at the IT width (train.weight_decay or "
        "one of baselines.weight_decay, each run early-stopped by the rounds' rule)",
        False,
    ),
    "delta_weight_decay": Statistic(
        "best pruned minus that run's test error at its early-stopping epoch", True
    ),
    "delta_best_oracle": Statistic(
        "oracle: the lowest test error over the pruned rounds minus the dense source's", True
    ),
    "delta_best_epoch_oracle": Statistic(
        "oracle: that minus the dense run's lowest test error at any evaluation", True
    ),
    "test_error_at_budget": Statistic("test error with exactly `budget` prunable weights", True),
    "delta_at_budget": Statistic("test error at `budget` minus the dense source's", True),
    **{
        f"{prefix}{name}": Statistic(description.format(curve=curve), interval)
        for prefix, curve in (
            (
                "",
                "the dense curve as the rounds are chosen: each width's run early-stopped on "
                "validation by the rule that stops a round, within the same budget (for a "
                "full-budget method, whose rounds are not early-stopped, the final models)",
            ),
            (
                "epoch_",
                "the dense curve after as many epochs from the start as the round trained "
                "(each run's stop if earlier; rewinding methods only)",
            ),
            ("final_", "the dense curve of final models (no early stopping)"),
        )
        for name, description, interval in (
            (
                "walk_gap",
                "mean over rounds of pruned minus the same seed's dense test error at the "
                "round's non-zero count on {curve}, interpolated on log-parameters",
                True,
            ),
            ("walk_mean_abs", "mean |that difference| over the rounds ({curve})", True),
            ("walk_max_abs", "largest |that difference| over the rounds ({curve})", True),
            ("walk_rounds", "pruned rounds inside the trained range of counts ({curve})", False),
        )
    },
    "passes_peak": Statistic("1 if the trajectory crosses the dense peak's size", False),
    "sparse_it_round": Statistic("first round that no longer fits the noisy labels", False),
    "peak_round": Statistic("round of the worst validation error up to the best round", False),
    "peak_at_sparse_it": Statistic("1 if the worst round is at the sparse IT, +-1", False),
}


def source_labels(pruning: pd.DataFrame) -> list[str]:
    """``final`` for model-wise sources, ``epoch N`` for epoch-wise ones.

    Model-wise sources are final checkpoints, whose epoch differs between seeds (runs stop
    when they fit); only epoch-wise sources are told apart by their epoch.
    """
    return [
        f"epoch {e}" if axis == "epoch" else "final"
        for axis, e in zip(pruning["axis"], pruning["source_epoch"], strict=True)
    ]


def walk_score(trajectory: pd.DataFrame, dense: np.ndarray, prefix: str = "") -> dict[str, float]:
    """How closely pruned rounds follow a dense curve of the same seed (the same label-noise
    draw) at their non-zero parameter counts: the signed mean gap, the mean and largest
    absolute gap. Over seeds, the signed gap's paired interval and test say whether pruned
    models differ from dense ones of the same size and noise draw (the null: zero gap, the
    pruned trajectory on the dense curve) -- where the dense seeds' min-max band of a few
    seeds would cover a new draw only about half the time.

    ``trajectory``: the pruned rounds (round > 0) with their ``test_error``; ``dense``: the
    dense curve's error at each round's count, NaN outside the trained range of parameter
    counts (those rounds are not compared). ``prefix`` names which curve it was.
    """
    inside = ~np.isnan(dense)
    if not inside.any():
        return {f"{prefix}walk_rounds": 0.0}
    gap = trajectory["test_error"].to_numpy()[inside] - dense[inside]
    return {
        f"{prefix}walk_gap": float(gap.mean()),
        f"{prefix}walk_mean_abs": float(np.abs(gap).mean()),
        f"{prefix}walk_max_abs": float(np.abs(gap).max()),
        f"{prefix}walk_rounds": float(inside.sum()),
    }


def sparse_threshold(trajectory: pd.DataFrame, tolerance: float) -> dict[str, float]:
    """The pruned model's own interpolation threshold (He et al. 2022) and where the
    validation error peaks and bottoms out.

    ``trajectory``: every round (0 = dense) in order. The sparse IT is the first round whose
    noisy-label train error exceeds ``tolerance``, for a source that interpolates (a source
    that does not fit its labels has no threshold to cross; one that still interpolates at
    the last round has not reached it). The best round has the lowest validation error after
    round 0 (the earliest among ties); the peak round has the highest validation error up to
    it -- the bump that sparse double descent predicts at the sparse IT, before the best
    sparse model.
    """
    rounds = trajectory["round"].to_numpy()
    error = trajectory["val_error"].to_numpy()
    pruned = rounds > 0
    if not pruned.any():
        return {}
    best = int(rounds[pruned][np.argmin(error[pruned])])
    upto = rounds <= best
    peak = int(rounds[upto][np.argmax(error[upto])])
    values = {"best_round": float(best), "peak_round": float(peak)}
    train_error = trajectory["train_error"].to_numpy()
    over = rounds[train_error > tolerance]
    if train_error[0] <= tolerance and len(over):
        values["sparse_it_round"] = float(over[0])
        values["peak_at_sparse_it"] = float(abs(peak - over[0]) <= 1)
    return values


@dataclass(frozen=True)
class Footing:
    """How a trajectory's rounds were trained, which its dense references must match:
    ``patience`` of the validation stop (None: the lowest validation error of the whole run);
    for a rewinding method, the epoch of the dense run its rounds start from (None: the
    method continues from trained weights, past any dense epoch); and whether its rounds are
    early-stopped at all (``early_stopped``: a full-budget method's are not, so its walk's
    reference is the dense curve of final models, trained to their full budget too)."""

    patience: int | None = None
    start: int | None = None
    early_stopped: bool = True


def _against_dense_run(
    dense_run: pd.DataFrame, best: pd.Series, oracle: float, footing: Footing
) -> list[tuple[str, int, float]]:
    """The best pruned round against the source's dense run stopped early on validation, at
    its test-chosen epoch (an oracle), and at the round's training budget where it has one."""
    best_error = float(best["test_error"])
    stopped = early_stopped(dense_run, footing.patience)
    values = [
        ("early_stop_epoch", 0, float(stopped["epoch"])),
        ("dense_early_stopped_error", 0, float(stopped["test_error"])),
        ("delta_early_stopped", 0, best_error - float(stopped["test_error"])),
        ("delta_best_epoch_oracle", 0, oracle - float(dense_run["test_error"].min())),
    ]
    same = None if footing.start is None else dense_at(dense_run, footing.start + best["epochs"])
    if same is not None:
        error = float(same["test_error"])
        values += [
            ("dense_same_budget_error", 0, error),
            ("delta_same_budget", 0, best_error - error),
        ]
    return values


def _against_choices(
    best_error: float, curves: SeedCurves, tuned: tuple[float, pd.Series] | None
) -> list[tuple[str, int, float]]:
    """The best pruned round against the dense models a user would pick on validation: each
    choice (a width, or the tuned weight decay) and the difference of test errors."""
    choices = {name: (float(pick["width"]), pick) for name, pick in curves.choices().items()}
    if tuned is not None:
        choices["weight_decay"] = tuned
    return [
        value
        for name, (choice, pick) in choices.items()
        for value in (
            (f"{name}_choice", 0, choice),
            (f"delta_{name}", 0, best_error - float(pick["test_error"])),
        )
    ]


def _walks(pruned: pd.DataFrame, curves: SeedCurves, footing: Footing) -> dict[str, float]:
    """The walk against each of the seed's curves that applies (see :data:`STATISTICS`)."""
    counts = pruned["n_nonzero"]
    scores = walk_score(pruned, curve_at(curves.final, counts), "final_")
    reference = curves.stopped if footing.early_stopped else curves.final
    if reference is not None:
        scores.update(walk_score(pruned, curve_at(reference, counts)))
    if curves.grid is not None and footing.start is not None:
        epochs = footing.start + pruned["epochs"]
        at = [
            curve_at(curve_at_epoch(curves.grid, e), [c])[0]
            for e, c in zip(epochs, counts, strict=True)
        ]
        scores.update(walk_score(pruned, np.asarray(at, dtype=float), "epoch_"))
    return scores


def trajectory_statistics(
    trajectory: pd.DataFrame,
    curves: SeedCurves,
    peak_params: float | None,
    tolerance: float,
    dense_run: pd.DataFrame | None = None,
    footing: Footing = Footing(),
    tuned: tuple[float, pd.Series] | None = None,
) -> list[tuple[str, int, float]]:
    """Every statistic of one trajectory as (statistic, budget or 0, value); the statistics
    at a budget are at every pruned round's count of prunable weights (with ``prune.budgets``
    the same counts for every source, so that sources meet there).

    ``curves`` are the seed's dense curves, ``dense_run`` every evaluation of the source's
    dense run: the early-stopped dense model (by ``footing.patience``, the rule that stops a
    round) is the baseline a user could have had without pruning, and each width's run
    stopped by it is the dense curve the rounds walk against on equal footing. A rewinding
    method's round has trained ``footing.start`` + its ``epochs`` from the run's start, so
    the dense runs at that epoch are the references of equal epochs: for the best round (the
    same-budget control) and for every round (``epoch_walk_*``). ``tuned`` is the source
    width's weight-decay baseline where it was tuned: the chosen value and its evaluation
    (:func:`~ddprune.analysis.answer.dense_references.weight_decay_choices`).
    """
    trajectory = trajectory[~trajectory["diverged"]].sort_values("round")
    dense = trajectory[trajectory["round"] == 0]
    pruned = trajectory[trajectory["round"] > 0]
    if dense.empty or pruned.empty:
        return []
    dense_error = float(dense["test_error"].iloc[0])
    chosen = sparse_threshold(trajectory, tolerance)
    best = pruned[pruned["round"] == chosen["best_round"]].iloc[0]
    best_error = float(best["test_error"])
    oracle = float(pruned["test_error"].min())
    values: list[tuple[str, int, float]] = [
        ("dense_test_error", 0, dense_error),
        ("dense_train_error", 0, float(dense["train_error"].iloc[0])),
        ("best_test_error", 0, best_error),
        ("best_sparsity", 0, 1 - best["n_prunable_nonzero"] / best["n_prunable"]),
        ("delta_best", 0, best_error - dense_error),
        ("delta_best_oracle", 0, oracle - dense_error),
    ]
    if dense_run is not None and len(dense_run):
        values += _against_dense_run(dense_run, best, oracle, footing)
    values += _against_choices(best_error, curves, tuned)
    for budget, error in zip(pruned["n_prunable_nonzero"], pruned["test_error"], strict=True):
        values += [
            ("test_error_at_budget", int(budget), float(error)),
            ("delta_at_budget", int(budget), float(error) - dense_error),
        ]
    scores = {**_walks(pruned, curves, footing), **chosen}
    if peak_params is not None:
        counts = trajectory["n_nonzero"]
        scores["passes_peak"] = float(counts.min() < peak_params < counts.max())
    values += [(name, 0, value) for name, value in scores.items()]
    return values


def _peak_params(curve: pd.DataFrame, family: FamilyThreshold | None) -> float | None:
    """Parameter count of the dense validation-error peak that the threshold stage found."""
    if family is None:
        return None
    peak = family.criteria[VALIDATION_ERROR_PEAK]
    at = curve[curve["width"] == peak.get("width")]
    return float(at["n_params"].iloc[0]) if peak["status"] == "ok" and len(at) else None


def stop_patience(prune: PruneConfig | None) -> int | None:
    """The patience that early-stops a round and the dense references (None: none -- a
    validation stop without patience, a fixed budget, or an unknown study)."""
    return None if prune is None else prune.stop_patience


def footings(prune: PruneConfig | None) -> dict[str, Footing]:
    """Each pruned method's :class:`Footing` under the study's ``prune`` section (None: every
    method read as fixed-budget and non-rewinding); a fixed-budget twin stops on nothing."""
    if prune is None:
        return {}
    patience = stop_patience(prune)
    full_budget = {m for m in prune.methods if PRUNE_METHODS[m].stop == "fixed"}
    if not prune.validation_stop:
        full_budget = set(prune.methods)
    return {
        name: Footing(
            None if name in full_budget else patience,
            prune.rewind_epoch if PRUNE_METHODS[name].start == "rewind" else None,
            early_stopped=name not in full_budget,
        )
        for name in prune.methods
    }


def per_seed_values(
    dense: pd.DataFrame,
    pruning: pd.DataFrame,
    families: Sequence[FamilyThreshold],
    tolerance: float,
    prune: PruneConfig | None = None,
    tuned: Mapping[tuple, tuple[float, pd.Series]] | None = None,
) -> pd.DataFrame:
    """Every statistic of every trajectory: one row per (study, source keys, seed, statistic,
    budget) with its ``value`` -- what :func:`answer_table` summarises and the comparisons
    pair. ``prune``: the study's section, which says how the rounds were trained (see
    :func:`footings`); ``tuned``: the weight-decay baselines by (family, width, seed)
    (:func:`~ddprune.analysis.answer.dense_references.weight_decay_choices`)."""
    columns = ["study", *SOURCE_KEYS, "seed", "statistic", "budget", "value"]
    if pruning.empty:
        return pd.DataFrame(columns=columns)
    pruning = pruning.assign(source=source_labels(pruning))
    finals = {key: rows for key, rows in dense_curves(dense).groupby([*FAMILY_KEYS, "seed"])}
    stopped, grids = stopped_curves(dense, stop_patience(prune)), epoch_grids(dense)
    runs = {
        key: rows
        for key, rows in dense[~dense["diverged"]].groupby([*FAMILY_KEYS, "width", "seed"])
    }
    thresholds = {f.key: f for f in families}
    by_method = footings(prune)
    rows = []
    for (study, *key, seed), trajectory in pruning.groupby(
        ["study", *SOURCE_KEYS, "seed"], sort=True
    ):
        source = dict(zip(SOURCE_KEYS, key, strict=True))
        family = tuple(key[: len(FAMILY_KEYS)])
        final = finals.get((*family, seed), pd.DataFrame(columns=["n_params", "test_error"]))
        curves = SeedCurves(final, stopped.get((*family, seed)), grids.get((*family, seed)))
        for statistic, budget, value in trajectory_statistics(
            trajectory,
            curves,
            _peak_params(final, thresholds.get(family)),
            tolerance,
            runs.get((*family, source["width"], seed)),
            by_method.get(source["method"], Footing()),
            (tuned or {}).get((*family, source["width"], seed)),
        ):
            rows.append((study, *key, seed, statistic, budget, value))
    return pd.DataFrame(rows, columns=columns)


def answer_table(values: pd.DataFrame, level: float = LEVEL) -> pd.DataFrame:
    """Every statistic per (source, method), summarised over seeds: the answer, tidy.

    ``values`` are :func:`per_seed_values`. Columns: the source keys, ``statistic``,
    ``budget`` (0 where none applies), ``seeds`` (trajectories measured), ``mean``, ``sd``
    and the t interval ``low``-``high`` of coverage ``level``.
    """
    columns = ["study", *SOURCE_KEYS, "statistic", "budget", "seeds", "mean", "sd", "low", "high"]
    if values.empty:
        return frame([], "answer")
    rows = []
    for key, group in values.groupby(["study", *SOURCE_KEYS, "statistic", "budget"], sort=False):
        sample = group["value"].to_numpy(dtype=float)
        interval = STATISTICS[key[-2]].interval
        low, high = t_interval(sample, level) if interval else (math.nan, math.nan)
        sd = float(np.std(sample, ddof=1)) if len(sample) > 1 else math.nan
        rows.append((*key, len(sample), float(sample.mean()), sd, low, high))
    table = frame([dict(zip(columns, row, strict=True)) for row in rows], "answer")
    order = table["role"].map(ROLE_ORDER.index).rename("role_order")
    return (
        table.assign(role_order=order)
        .sort_values([*FAMILY_KEYS, "method", "role_order", "width", "source"])
        .drop(columns="role_order")
        .reset_index(drop=True)
    )
