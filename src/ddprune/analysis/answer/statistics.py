"""The question's answer in numbers: what pruning does to each source checkpoint, how sure
that is, and whether the pruned models walk the dense double-descent curve backwards.

Every statistic is first measured on each pruned *trajectory* (one source checkpoint, one
method, one seed: its rounds in order), then summarised over seeds with the paired t interval
(:mod:`ddprune.analysis.answer.inference`); :mod:`ddprune.analysis.answer.comparisons`
builds the tested contrasts from the same per-seed values.

Every choice is made on validation error: the best pruned round, the dense run's
early-stopping epoch, the peak round. Test error is read at the chosen points only. The two
statistics that choose on test -- ``delta_best_oracle`` and ``delta_best_epoch_oracle`` --
are kept to show how far the choice on test would have flattered the answer, and are called
oracles wherever they appear.

Torch-free: the answer job reads Parquet and YAML only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ddprune.analysis.answer.inference import LEVEL, t_interval
from ddprune.analysis.summaries import FAMILY_KEYS, final_rows, without_diverged_runs
from ddprune.foundations.tables import frame
from ddprune.study.it_criteria import VALIDATION_ERROR_PEAK
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
    "early_stop_epoch": Statistic("the dense run's epoch of lowest validation error", False),
    "dense_early_stopped_error": Statistic("the dense run's test error at that epoch", True),
    "delta_early_stopped": Statistic(
        "best pruned minus the early-stopped dense test error (both chosen on validation)", True
    ),
    "dense_same_budget_error": Statistic(
        "the dense run's test error after as many epochs from its start as a rewound round "
        "trains (rewind epoch + retraining epochs): the same-budget control",
        True,
    ),
    "delta_same_budget": Statistic("best pruned minus the same-budget dense test error", True),
    "delta_best_oracle": Statistic(
        "oracle: the lowest test error over the pruned rounds minus the dense source's", True
    ),
    "delta_best_epoch_oracle": Statistic(
        "oracle: that minus the dense run's lowest test error at any evaluation", True
    ),
    "test_error_at_budget": Statistic("test error with exactly `budget` prunable weights", True),
    "delta_at_budget": Statistic("test error at `budget` minus the dense source's", True),
    "walk_gap": Statistic(
        "mean over rounds of pruned minus the same seed's dense test error at the round's "
        "non-zero count (the dense curve of that seed, interpolated on log-parameters)",
        True,
    ),
    "walk_mean_abs": Statistic("mean |that difference| over the rounds", True),
    "walk_max_abs": Statistic("largest |that difference| over the rounds", True),
    "walk_rounds": Statistic("pruned rounds inside the trained range of parameter counts", False),
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


def dense_curves(dense: pd.DataFrame) -> pd.DataFrame:
    """Per family, width and seed: parameters and the final test error (diverged runs left
    out), sorted by parameter count -- each seed's own double-descent curve."""
    final = final_rows(without_diverged_runs(dense))
    columns = [*FAMILY_KEYS, "seed", "width", "n_params", "test_error"]
    return final[columns].sort_values([*FAMILY_KEYS, "seed", "n_params"], ignore_index=True)


def curve_at(curve: pd.DataFrame, counts: Iterable[float]) -> np.ndarray:
    """One seed's curve (``n_params``, ``test_error``) at parameter ``counts``, interpolated
    linearly in log-parameters between trained widths; NaN outside the trained range (never
    extrapolated)."""
    x = np.log(curve["n_params"].to_numpy(dtype=float))
    at = np.log(np.asarray(list(counts), dtype=float))
    return np.interp(at, x, curve["test_error"].to_numpy(), left=np.nan, right=np.nan)


def walk_score(trajectory: pd.DataFrame, curve: pd.DataFrame) -> dict[str, float]:
    """How closely pruned rounds follow the dense curve of the same seed (the same label-noise
    draw) at their non-zero parameter counts: the signed mean gap, the mean and largest
    absolute gap. Over seeds, the signed gap's paired interval and test say whether pruned
    models differ from dense ones of the same size and noise draw (the null: zero gap, the
    pruned trajectory on the dense curve) -- where the dense seeds' min-max band of a few
    seeds would cover a new draw only about half the time.

    ``trajectory``: the pruned rounds (round > 0) with ``n_nonzero`` and ``test_error``.
    Rounds outside the trained range of parameter counts are not compared.
    """
    dense = curve_at(curve, trajectory["n_nonzero"])
    inside = ~np.isnan(dense)
    if not inside.any():
        return {"walk_rounds": 0.0}
    gap = trajectory["test_error"].to_numpy()[inside] - dense[inside]
    return {
        "walk_gap": float(gap.mean()),
        "walk_mean_abs": float(np.abs(gap).mean()),
        "walk_max_abs": float(np.abs(gap).max()),
        "walk_rounds": float(inside.sum()),
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


def early_stopped(dense_run: pd.DataFrame) -> pd.Series:
    """The dense run's evaluation of lowest validation error (the earliest among ties): early
    stopping as a user can do it."""
    ordered = dense_run.sort_values("epoch")
    return ordered.loc[ordered["val_error"].idxmin()]


def _against_dense_run(
    dense_run: pd.DataFrame, best_error: float, oracle: float, same_budget_epoch: int | None
) -> list[tuple[str, int, float]]:
    """The best pruned round against the source's dense run stopped early on validation, at
    its test-chosen epoch (an oracle), and at the round's training budget where it has one."""
    stopped = early_stopped(dense_run)
    values = [
        ("early_stop_epoch", 0, float(stopped["epoch"])),
        ("dense_early_stopped_error", 0, float(stopped["test_error"])),
        ("delta_early_stopped", 0, best_error - float(stopped["test_error"])),
        ("delta_best_epoch_oracle", 0, oracle - float(dense_run["test_error"].min())),
    ]
    same = dense_run[dense_run["epoch"] == same_budget_epoch]
    if len(same):
        error = float(same["test_error"].iloc[0])
        values += [
            ("dense_same_budget_error", 0, error),
            ("delta_same_budget", 0, best_error - error),
        ]
    return values


def trajectory_statistics(
    trajectory: pd.DataFrame,
    curve: pd.DataFrame,
    peak_params: float | None,
    tolerance: float,
    dense_run: pd.DataFrame | None = None,
    same_budget_epoch: int | None = None,
) -> list[tuple[str, int, float]]:
    """Every statistic of one trajectory as (statistic, budget or 0, value); the statistics
    at a budget are at every pruned round's count of prunable weights (with ``prune.budgets``
    the same counts for every source, so that sources meet there).

    ``curve`` is the seed's dense curve, ``dense_run`` every evaluation of the source's dense
    run: the early-stopped dense model (the run's epoch of lowest validation error) is the
    baseline a user could have had without pruning. A rewinding method's round trains
    ``same_budget_epoch`` epochs from the run's start, so the dense run's evaluation at that
    epoch is the like-for-like control for the training budget (none where the run has no
    evaluation there, or where the method does not rewind).
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
        values += _against_dense_run(dense_run, best_error, oracle, same_budget_epoch)
    for budget, error in zip(pruned["n_prunable_nonzero"], pruned["test_error"], strict=True):
        values += [
            ("test_error_at_budget", int(budget), float(error)),
            ("delta_at_budget", int(budget), float(error) - dense_error),
        ]
    scores = {**walk_score(pruned, curve), **chosen}
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


def per_seed_values(
    dense: pd.DataFrame,
    pruning: pd.DataFrame,
    families: Sequence[FamilyThreshold],
    tolerance: float,
    same_budget_epochs: dict[str, int] | None = None,
) -> pd.DataFrame:
    """Every statistic of every trajectory: one row per (study, source keys, seed, statistic,
    budget) with its ``value`` -- what :func:`answer_table` summarises and the comparisons
    pair. ``same_budget_epochs`` maps each rewinding method to the epoch a round's retraining
    reaches from the run's start (see :func:`trajectory_statistics`)."""
    columns = ["study", *SOURCE_KEYS, "seed", "statistic", "budget", "value"]
    if pruning.empty:
        return pd.DataFrame(columns=columns)
    pruning = pruning.assign(source=source_labels(pruning))
    curves = {key: rows for key, rows in dense_curves(dense).groupby([*FAMILY_KEYS, "seed"])}
    runs = {
        key: rows
        for key, rows in dense[~dense["diverged"]].groupby([*FAMILY_KEYS, "width", "seed"])
    }
    thresholds = {f.key: f for f in families}
    rows = []
    for (study, *key, seed), trajectory in pruning.groupby(
        ["study", *SOURCE_KEYS, "seed"], sort=True
    ):
        source = dict(zip(SOURCE_KEYS, key, strict=True))
        family = tuple(key[: len(FAMILY_KEYS)])
        curve = curves.get((*family, seed), pd.DataFrame(columns=["n_params", "test_error"]))
        peak = _peak_params(curve, thresholds.get(family))
        for statistic, budget, value in trajectory_statistics(
            trajectory,
            curve,
            peak,
            tolerance,
            runs.get((*family, source["width"], seed)),
            (same_budget_epochs or {}).get(source["method"]),
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
