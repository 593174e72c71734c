"""What a pruned trajectory is measured against: each seed's dense runs read as curves and
baselines -- the final models, each run early-stopped by the rule that stops a retraining
round, every run at a given epoch -- and the dense models a user would pick on validation:
across widths, and with weight decay tuned at the IT width.

Every reading is chosen on validation (the early-stopping epoch, the width picked); test
error is only read at the chosen points. Torch-free, like the rest of the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ddprune.analysis.summaries import FAMILY_KEYS, RUN_KEYS, final_rows, without_diverged_runs


def dense_curves(dense: pd.DataFrame) -> pd.DataFrame:
    """Per family, width and seed: parameters and the final test error (diverged runs left
    out), sorted by parameter count -- each seed's own double-descent curve."""
    final = final_rows(without_diverged_runs(dense))
    columns = [*FAMILY_KEYS, "seed", "width", "n_params", "val_error", "test_error"]
    return final[columns].sort_values([*FAMILY_KEYS, "seed", "n_params"], ignore_index=True)


def curve_at(curve: pd.DataFrame, counts: Iterable[float]) -> np.ndarray:
    """One seed's curve (``n_params``, ``test_error``) at parameter ``counts``, interpolated
    linearly in log-parameters between trained widths; NaN outside the trained range (never
    extrapolated)."""
    x = np.log(curve["n_params"].to_numpy(dtype=float))
    at = np.log(np.asarray(list(counts), dtype=float))
    if not len(x):
        return np.full(len(at), np.nan)
    return np.interp(at, x, curve["test_error"].to_numpy(), left=np.nan, right=np.nan)


def epoch_grids(dense: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    """Per family and seed, every width's test error at every evaluated epoch: rows epochs,
    columns parameter counts (ascending). A run that stopped (it fit its labels) carries its
    last evaluation on: its error "at epoch E" is at min(its stop, E)."""
    runs = without_diverged_runs(dense)
    return {
        key: rows.pivot_table(
            index="epoch", columns="n_params", values="test_error", aggfunc="first"
        )
        .sort_index()
        .sort_index(axis=1)
        .ffill()
        for key, rows in runs.groupby([*FAMILY_KEYS, "seed"])
    }


def curve_at_epoch(grid: pd.DataFrame, epoch: int) -> pd.DataFrame:
    """A seed's dense curve after ``epoch`` epochs of training (each run's latest evaluation
    at or before it), as :func:`curve_at` reads it."""
    before = grid.loc[:epoch]
    row = before.iloc[-1] if len(before) else pd.Series(dtype=float)
    return pd.DataFrame({"n_params": row.index.to_numpy(), "test_error": row.to_numpy()})


def early_stopped(dense_run: pd.DataFrame, patience: int | None = None) -> pd.Series:
    """The dense run's evaluation of lowest validation error (the earliest among ties), as a
    retraining round stops: with ``patience``, the run is read as if it had ended once its
    validation error had not reached a new low for that many epochs (what
    :class:`ddprune.training.loop.Progress` does to a round), so that both arms are
    early-stopped by one rule."""
    ordered = dense_run.sort_values("epoch")
    best = None
    for label, epoch, error in zip(
        ordered.index, ordered["epoch"], ordered["val_error"], strict=True
    ):
        if best is not None and patience is not None and epoch > best[2] + patience:
            break  # the round would have stopped at epoch best + patience, before this one
        if best is None or error < best[1]:
            best = (label, error, epoch)
    return ordered.loc[best[0]]


def dense_at(dense_run: pd.DataFrame, epoch: int) -> pd.Series | None:
    """The dense run's latest evaluation at or before ``epoch`` (its stop, if earlier); None
    where it has none."""
    ordered = dense_run.sort_values("epoch")
    before = ordered[ordered["epoch"] <= epoch]
    return before.iloc[-1] if len(before) else None


@dataclass(frozen=True)
class SeedCurves:
    """One seed's dense double-descent curves (``n_params``, ``test_error``, ascending) that
    its pruned rounds are walked against: of the final models, and of each width's run
    early-stopped by the rounds' rule (``stopped``); and every width at every evaluated
    epoch (``grid``, :func:`epoch_grids`)."""

    final: pd.DataFrame
    stopped: pd.DataFrame | None = None
    grid: pd.DataFrame | None = None

    def choices(self) -> dict[str, pd.Series]:
        """The dense models a user would pick on validation across widths: ``best_width``,
        the final model of lowest validation error, and ``best_dense``, the one of lowest
        validation error with every width early-stopped by the rounds' rule (the smaller
        width among ties)."""
        curves = {"best_width": self.final, "best_dense": self.stopped}
        return {
            name: curve.loc[curve["val_error"].idxmin()]
            for name, curve in curves.items()
            if curve is not None and len(curve)
        }


def stopped_curves(dense: pd.DataFrame, patience: int | None) -> dict[tuple, pd.DataFrame]:
    """Per family and seed, each width's run early-stopped by ``patience``
    (:func:`early_stopped`): the dense curve a user choosing on validation gets."""
    runs = without_diverged_runs(dense)
    measured = ["n_params", "val_error", "test_error"]
    rows = [
        (*key, *early_stopped(run, patience)[measured])
        for key, run in runs.groupby([*FAMILY_KEYS, "seed", "width"])
    ]
    table = pd.DataFrame(rows, columns=[*FAMILY_KEYS, "seed", "width", *measured])
    return {
        key: curve[["width", *measured]].sort_values("n_params", ignore_index=True)
        for key, curve in table.groupby([*FAMILY_KEYS, "seed"])
    }


def weight_decay_choices(
    dense: pd.DataFrame, tuning: pd.DataFrame, own: float, patience: int | None
) -> dict[tuple, tuple[float, pd.Series]]:
    """Per family, width and seed that the tuned baseline ran at: the weight decay a user
    picks on validation and its run's chosen evaluation. The candidates are the sweep's own
    run (at ``own``, train.weight_decay) and every ``tuning`` run; each is early-stopped by
    the rounds' rule (:func:`early_stopped`), and the lowest validation error wins (the
    smaller weight decay among ties). A diverged candidate is left out."""
    tuned = tuning[~tuning.groupby([*RUN_KEYS, "weight_decay"])["diverged"].transform("any")]
    sweep = {
        key: run
        for key, run in without_diverged_runs(dense).groupby([*FAMILY_KEYS, "width", "seed"])
    }
    choices = {}
    for key, runs in tuned.groupby([*FAMILY_KEYS, "width", "seed"]):
        candidates = [(float(wd), run) for wd, run in runs.groupby("weight_decay")]
        if key in sweep:
            candidates.append((own, sweep[key]))
        stopped = [
            (wd, early_stopped(run, patience)) for wd, run in sorted(candidates, key=lambda c: c[0])
        ]
        choices[key] = min(stopped, key=lambda candidate: candidate[1]["val_error"])
    return choices
