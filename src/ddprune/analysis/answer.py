"""The question's answer in numbers: what pruning does to each source checkpoint, how sure
that is, and whether the pruned models walk the dense double-descent curve backwards.

Every statistic is first measured on each pruned *trajectory* (one source checkpoint, one
method, one seed: its rounds in order), then summarised over seeds. Differences are paired
by seed (a pruned model against its own dense source), so their interval is the paired t
interval: with the three to five seeds a study affords, a bootstrap over seeds has only a
handful of distinct resamples and understates the spread, while the t interval is exact
for normal errors and honest about few seeds (it widens as they get fewer).

Torch-free: the answer job reads Parquet and YAML only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ddprune.analysis.summaries import FAMILY_KEYS, final_rows, without_diverged_runs
from ddprune.foundations.tables import frame

LEVEL = 0.95
SOURCE_KEYS = [*FAMILY_KEYS, "axis", "role", "width", "source", "method"]
ROLE_ORDER = ["before", "at", "after", "control"]


@dataclass(frozen=True)
class Statistic:
    description: str
    interval: bool  # a mean of a continuous quantity (an indicator or a round gets none)


STATISTICS: dict[str, Statistic] = {
    "dense_test_error": Statistic("test error of the dense source (round 0)", True),
    "dense_train_error": Statistic("its error on the noisy training labels", True),
    "best_test_error": Statistic("lowest test error over the pruned rounds", True),
    "best_sparsity": Statistic("sparsity of the prunable weights at the best round", True),
    "delta_best": Statistic("best pruned minus dense test error (negative: pruning helps)", True),
    "dense_same_budget_error": Statistic(
        "the dense run's test error after as many epochs from its start as a rewound round "
        "trains (rewind epoch + retraining epochs): the same-budget control",
        True,
    ),
    "delta_same_budget": Statistic("best pruned minus the same-budget dense test error", True),
    "dense_best_epoch_error": Statistic(
        "the dense run's lowest test error at any evaluation (early stopping by an oracle)", True
    ),
    "delta_best_epoch": Statistic("best pruned minus the dense run's best-epoch error", True),
    "test_error_at_budget": Statistic("test error with exactly `budget` prunable weights", True),
    "delta_at_budget": Statistic("test error at `budget` minus the dense source's", True),
    "walk_mean_abs": Statistic("mean |pruned - dense curve| at the rounds' non-zero counts", True),
    "walk_max_abs": Statistic("largest |pruned - dense curve| over those rounds", True),
    "walk_in_band": Statistic("fraction of them inside the dense seeds' min-max band", True),
    "walk_rounds": Statistic("pruned rounds inside the trained range of parameter counts", False),
    "passes_peak": Statistic("1 if the trajectory crosses the dense peak's size", False),
    "sparse_it_round": Statistic("first round that no longer fits the noisy labels", False),
    "peak_round": Statistic("round of the worst test error up to the best round", False),
    "best_round": Statistic("round of the best test error", False),
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


def dense_curve(dense: pd.DataFrame) -> pd.DataFrame:
    """Per family and width: parameters and the seed mean, min and max of the final test
    error (diverged runs left out), sorted by parameter count."""
    final = final_rows(without_diverged_runs(dense))
    grouped = final.groupby([*FAMILY_KEYS, "width"], as_index=False)
    curve = grouped.agg(
        n_params=("n_params", "first"),
        mean=("test_error", "mean"),
        low=("test_error", "min"),
        high=("test_error", "max"),
    )
    return curve.sort_values([*FAMILY_KEYS, "n_params"], ignore_index=True)


def curve_at(curve: pd.DataFrame, counts: Iterable[float]) -> pd.DataFrame:
    """The curve (``mean``, ``low``, ``high``) at parameter ``counts``, interpolated linearly
    in log-parameters between trained widths; NaN outside the trained range (never
    extrapolated)."""
    x = np.log(curve["n_params"].to_numpy(dtype=float))
    at = np.log(np.asarray(list(counts), dtype=float))
    return pd.DataFrame(
        {
            column: np.interp(at, x, curve[column].to_numpy(), left=np.nan, right=np.nan)
            for column in ("mean", "low", "high")
        }
    )


def walk_score(trajectory: pd.DataFrame, curve: pd.DataFrame) -> dict[str, float]:
    """How closely pruned rounds follow the dense curve at their non-zero parameter counts.

    ``trajectory``: the pruned rounds (round > 0) with ``n_nonzero`` and ``test_error``.
    Rounds outside the trained range of parameter counts are not compared.
    """
    at = curve_at(curve, trajectory["n_nonzero"])
    error = trajectory["test_error"].to_numpy()
    inside = ~np.isnan(at["mean"].to_numpy())
    if not inside.any():
        return {"walk_rounds": 0.0}
    deviation = np.abs(error[inside] - at["mean"].to_numpy()[inside])
    in_band = (at["low"].to_numpy()[inside] <= error[inside]) & (
        error[inside] <= at["high"].to_numpy()[inside]
    )
    return {
        "walk_mean_abs": float(deviation.mean()),
        "walk_max_abs": float(deviation.max()),
        "walk_in_band": float(in_band.mean()),
        "walk_rounds": float(inside.sum()),
    }


def sparse_threshold(trajectory: pd.DataFrame, tolerance: float) -> dict[str, float]:
    """The pruned model's own interpolation threshold (He et al. 2022) and where the test
    error peaks and bottoms out.

    ``trajectory``: every round (0 = dense) in order. The sparse IT is the first round whose
    noisy-label train error exceeds ``tolerance``, for a source that interpolates (a source
    that does not fit its labels has no threshold to cross; one that still interpolates at
    the last round has not reached it). The best round has the lowest test error after round
    0; the peak round has the highest test error up to it -- the bump that sparse double
    descent predicts at the sparse IT, before the best sparse model.
    """
    rounds = trajectory["round"].to_numpy()
    error = trajectory["test_error"].to_numpy()
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


def trajectory_statistics(
    trajectory: pd.DataFrame,
    curve: pd.DataFrame,
    peak_params: float | None,
    budgets: list[int],
    tolerance: float,
    dense_run: pd.DataFrame | None = None,
    same_budget_epoch: int | None = None,
) -> list[tuple[str, int, float]]:
    """Every statistic of one trajectory as (statistic, budget or 0, value).

    ``dense_run`` (every evaluation of the source's dense run) gives the controls for the
    retraining budget: Δ against the final dense model mixes pruning with training for fewer
    epochs, which on noisy labels is early stopping. A rewinding method's round trains
    ``same_budget_epoch`` epochs from the run's start, so the dense run's evaluation at that
    epoch is the like-for-like control (none where the run has no evaluation there, or where
    the method does not rewind); its best evaluation bounds what early stopping alone gets.
    """
    trajectory = trajectory[~trajectory["diverged"]].sort_values("round")
    dense = trajectory[trajectory["round"] == 0]
    pruned = trajectory[trajectory["round"] > 0]
    if dense.empty or pruned.empty:
        return []
    dense_error = float(dense["test_error"].iloc[0])
    best = pruned.loc[pruned["test_error"].idxmin()]
    values: list[tuple[str, int, float]] = [
        ("dense_test_error", 0, dense_error),
        ("dense_train_error", 0, float(dense["train_error"].iloc[0])),
        ("best_test_error", 0, float(best["test_error"])),
        ("best_sparsity", 0, 1 - best["n_prunable_nonzero"] / best["n_prunable"]),
        ("delta_best", 0, float(best["test_error"]) - dense_error),
    ]
    if dense_run is not None and len(dense_run):
        best_epoch = float(dense_run["test_error"].min())
        values += [
            ("dense_best_epoch_error", 0, best_epoch),
            ("delta_best_epoch", 0, float(best["test_error"]) - best_epoch),
        ]
        same = dense_run[dense_run["epoch"] == same_budget_epoch]
        if len(same):
            error = float(same["test_error"].iloc[0])
            values += [
                ("dense_same_budget_error", 0, error),
                ("delta_same_budget", 0, float(best["test_error"]) - error),
            ]
    for budget in budgets:
        at = pruned[pruned["n_prunable_nonzero"] == budget]
        if len(at):
            error = float(at["test_error"].iloc[0])
            values += [
                ("test_error_at_budget", budget, error),
                ("delta_at_budget", budget, error - dense_error),
            ]
    scores = {**walk_score(pruned, curve), **sparse_threshold(trajectory, tolerance)}
    if peak_params is not None:
        counts = trajectory["n_nonzero"]
        scores["passes_peak"] = float(counts.min() < peak_params < counts.max())
    values += [(name, 0, value) for name, value in scores.items()]
    return values


def t_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The t interval of the mean of ``values`` (NaN with fewer than two)."""
    n = len(values)
    if n < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + level / 2, n - 1) * np.std(values, ddof=1) / math.sqrt(n)
    mean = float(np.mean(values))
    return mean - half, mean + half


def _peak_params(curve: pd.DataFrame, family: dict[str, Any] | None) -> float | None:
    """Parameter count of the dense test-error peak that the threshold stage found."""
    if family is None:
        return None
    peak = family["criteria"]["test_error_peak"]
    at = curve[curve["width"] == peak.get("width")]
    return float(at["n_params"].iloc[0]) if peak["status"] == "ok" and len(at) else None


def answer_table(
    dense: pd.DataFrame,
    pruning: pd.DataFrame,
    families: list[dict[str, Any]],
    budgets: list[int] | None,
    tolerance: float,
    same_budget_epochs: dict[str, int] | None = None,
) -> pd.DataFrame:
    """Every statistic per (source, method), summarised over seeds: the answer, tidy.

    Columns: the source keys, ``statistic``, ``budget`` (0 where none applies), ``seeds``
    (trajectories measured), ``mean``, ``sd`` and the t interval ``low``-``high``.
    ``same_budget_epochs`` maps each rewinding method to the epoch a round's retraining
    reaches from the run's start (see :func:`trajectory_statistics`).
    """
    columns = ["study", *SOURCE_KEYS, "statistic", "budget", "seeds", "mean", "sd", "low", "high"]
    if pruning.empty:
        return frame([], "answer")
    pruning = pruning.assign(source=source_labels(pruning))
    curves = dense_curve(dense)
    runs = {
        key: rows
        for key, rows in dense[~dense["diverged"]].groupby([*FAMILY_KEYS, "width", "seed"])
    }
    thresholds = {tuple(f[k] for k in FAMILY_KEYS): f for f in families}
    per_seed = []
    for (study, *key, seed), trajectory in pruning.groupby(
        ["study", *SOURCE_KEYS, "seed"], sort=True
    ):
        source = dict(zip(SOURCE_KEYS, key, strict=True))
        family = tuple(key[: len(FAMILY_KEYS)])
        curve = curves[(curves[FAMILY_KEYS] == list(family)).all(axis=1)]
        peak = _peak_params(curve, thresholds.get(family))
        for statistic, budget, value in trajectory_statistics(
            trajectory,
            curve,
            peak,
            budgets or [],
            tolerance,
            runs.get((*family, source["width"], seed)),
            (same_budget_epochs or {}).get(source["method"]),
        ):
            per_seed.append((study, *key, seed, statistic, budget, value))
    values = pd.DataFrame(
        per_seed, columns=["study", *SOURCE_KEYS, "seed", "statistic", "budget", "value"]
    )
    rows = []
    for key, group in values.groupby(["study", *SOURCE_KEYS, "statistic", "budget"], sort=False):
        sample = group["value"].to_numpy(dtype=float)
        low, high = t_interval(sample) if STATISTICS[key[-2]].interval else (math.nan, math.nan)
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


def recovers(row: pd.Series) -> bool:
    """Pruning *recovers* a source when the 95% interval of Δ lies entirely below zero."""
    return bool(row["high"] < 0)
