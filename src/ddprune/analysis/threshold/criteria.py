"""The IT criteria (records in :mod:`ddprune.study.it_criteria`) evaluated on the seed means
of one family's final metrics, each with its own status -- and a seed bootstrap of them all.

A quantity that does not exist gets a status and a reason (no second peak, never
interpolates, a single width, ...), never a made-up number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ddprune.study.hparams import ThresholdConfig
from ddprune.study.it_criteria import ITCriterion, it_criteria


def kind_of(metric: str) -> str:
    """``error`` or ``loss``: what a metric measures, whichever split (the key of
    ``threshold.min_prominence``)."""
    return metric.rsplit("_", 1)[1]


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average over ``window`` neighbouring widths (1 = no smoothing)."""
    if window <= 1:
        return values.copy()
    half = window // 2
    return np.array([values[max(0, i - half) : i + half + 1].mean() for i in range(len(values))])


def find_peak(
    widths: list[int],
    values: np.ndarray,
    min_prominence: float,
    window: int = 1,
    axis: str = "width",
) -> dict[str, Any]:
    """The second peak of a curve over increasing widths, or a status saying why there is none.

    The first local minimum ends the initial descent (ties continue it); the peak is the
    largest value after it (the smallest width among ties). Values are compared rounded to
    12 significant digits: seed means of error fractions that are equal counts of mistakes
    must tie on every CPU, whatever the last bits of their float sums. The peak must descend again
    before the largest width and stand ``min_prominence`` above the higher of the minima on
    its two sides. ``axis`` names the x values in statuses (the same search runs over epochs).
    """
    if len(widths) < 3:
        return {
            "status": f"single_{axis}" if len(widths) == 1 else f"too_few_{axis}s",
            "reason": f"{len(widths)} {axis}(s); a peak needs at least 3",
        }
    curve = np.array([float(f"{v:.12g}") for v in smooth(values, window)])
    first_min = 0
    while first_min + 1 < len(curve) and curve[first_min + 1] <= curve[first_min]:
        first_min += 1
    base = {
        "first_minimum_width": int(widths[first_min]),
        "first_minimum_value": float(values[first_min]),
    }
    if first_min == len(curve) - 1:
        return {"status": "no_peak", "reason": "the curve decreases over the whole grid", **base}
    peak = first_min + 1 + int(np.argmax(curve[first_min + 1 :]))
    if peak == len(curve) - 1:
        return {"status": "no_peak", "reason": f"still rising at the largest {axis}", **base}
    prominence = float(curve[peak] - max(curve[first_min], curve[peak + 1 :].min()))
    result = {
        "width": int(widths[peak]),
        "height": float(values[peak]),
        "prominence": prominence,
        **base,
    }
    if prominence < min_prominence:
        return {
            "status": "no_peak",
            **result,
            "reason": f"prominence {prominence:.4f} below {min_prominence}",
        }
    return {"status": "ok", **result}


def interpolation_point(
    widths: list[int], train_error: np.ndarray, tolerance: float
) -> dict[str, Any]:
    """The smallest width whose seed-mean training error (noisy labels) is <= ``tolerance``."""
    if len(widths) == 0:
        return {"status": "no_data", "reason": "no runs"}
    fitted = np.flatnonzero(train_error <= tolerance)
    if len(fitted) == 0:
        return {
            "status": "never_interpolates",
            "reason": f"train error never <= {tolerance} (lowest {train_error.min():.4f})",
        }
    index = int(fitted[0])
    return {
        "status": "ok",
        "width": int(widths[index]),
        "train_error": float(train_error[index]),
        "tolerance": tolerance,
    }


@dataclass
class FamilyCurves:
    """Final metrics of one (dataset, model, noise) family as width x seed matrices."""

    METRICS = tuple(dict.fromkeys(c.metric for c in it_criteria()))

    widths: list[int]
    seeds: list[int]
    matrices: dict[str, np.ndarray]  # metric -> (widths, seeds), NaN where a run is missing
    n_params: dict[int, int]
    n_train: int | None
    notes: list[str]

    @classmethod
    def from_final(cls, final: pd.DataFrame) -> FamilyCurves:
        notes = []
        diverged = final["diverged"]
        for _, row in final[diverged].iterrows():
            notes.append(f"excluded diverged run width {row.width} seed {row.seed}")
        final = final[~diverged]
        widths = sorted(int(w) for w in final["width"].unique())
        seeds = sorted(int(s) for s in final["seed"].unique())
        matrices = {
            m: final.pivot_table(index="width", columns="seed", values=m, aggfunc="first")
            .reindex(index=widths, columns=seeds)
            .to_numpy(dtype=float)
            for m in cls.METRICS
        }
        for i, width in enumerate(widths):
            present = int(np.isfinite(matrices["test_error"][i]).sum())
            if present < len(seeds):
                notes.append(f"width {width}: {present} of {len(seeds)} seeds")
        n_params = final.groupby("width")["n_params"].first().astype(int).to_dict()
        n_train = int(final["n_train"].iloc[0]) if len(final) else None
        return cls(widths, seeds, matrices, n_params, n_train, notes)

    @property
    def valid_widths(self) -> list[int]:
        """Widths with at least one finite run."""
        keep = np.isfinite(self.mean("test_error"))
        return [w for w, k in zip(self.widths, keep, strict=True) if k]

    def mean(self, metric: str, weights: np.ndarray | None = None) -> np.ndarray:
        """Seed mean per width; ``weights`` (per seed) resample seeds for the bootstrap."""
        matrix = self.matrices[metric]
        w = np.ones(len(self.seeds)) if weights is None else weights
        mask = np.isfinite(matrix) & (w > 0)
        total = np.where(mask, matrix, 0.0) @ w
        count = mask.astype(float) @ w
        with np.errstate(invalid="ignore", divide="ignore"):
            return total / count


Search = Callable[[list[int], np.ndarray, ITCriterion, ThresholdConfig], dict[str, Any]]

# How a criterion reads its curve (``ITCriterion.search``): a new way is one function here.
SEARCHES: dict[str, Search] = {
    "peak": lambda widths, values, criterion, config: find_peak(
        widths, values, config.min_prominence[kind_of(criterion.metric)], config.smoothing
    ),
    "crossing": lambda widths, values, criterion, config: interpolation_point(
        widths, values, config.interpolation_tolerance
    ),
}


def criteria(
    curves: FamilyCurves, config: ThresholdConfig, weights: np.ndarray | None = None
) -> dict[str, dict]:
    """Every criterion on the seed means (``weights`` resample seeds for the bootstrap)."""
    keep = np.isfinite(curves.mean("test_error", weights))
    widths = [w for w, k in zip(curves.widths, keep, strict=True) if k]
    result = {}
    for criterion in it_criteria():
        values = curves.mean(criterion.metric, weights)[keep]
        result[criterion.name] = (
            SEARCHES[criterion.search](widths, values, criterion, config)
            if np.isfinite(values).all()
            else {
                "status": "no_data",
                "reason": f"no {criterion.metric} (the data have no such split)",
            }
        )
    return result


def choose(found: dict[str, dict], config: ThresholdConfig) -> tuple[str | None, bool]:
    """The criterion that gives the IT, and whether it is the fallback."""
    if found[config.criterion]["status"] == "ok":
        return config.criterion, False
    if config.fallback != "none" and found[config.fallback]["status"] == "ok":
        return config.fallback, True
    return None, False


def bootstrap(curves: FamilyCurves, config: ThresholdConfig) -> dict[str, dict[str, Any]]:
    """95% intervals, over seed resamples, of the IT (key ``"it"``) and of every criterion's
    width (keys as in :func:`criteria`).

    Each resample reweights the seeds and reruns every criterion, so all intervals come from
    the same resamples at the cost of one: where the criteria disagree, their intervals show
    whether the disagreement is larger than the seeds' spread.
    """
    names = [c.name for c in it_criteria()]
    if config.bootstrap == 0 or len(curves.seeds) < 2:
        skipped = {"status": "skipped", "reason": "needs at least 2 seeds and bootstrap > 0"}
        return {"it": skipped, **{name: skipped for name in names}}
    rng = np.random.default_rng(config.bootstrap_seed)
    found: dict[str, list[int]] = {"it": [], **{name: [] for name in names}}
    for _ in range(config.bootstrap):
        weights = np.bincount(
            rng.integers(0, len(curves.seeds), len(curves.seeds)), minlength=len(curves.seeds)
        ).astype(float)
        found_criteria = criteria(curves, config, weights)
        chosen, _ = choose(found_criteria, config)
        for name in (name for name in names if found_criteria[name]["status"] == "ok"):
            found[name].append(curves.widths.index(found_criteria[name]["width"]))
        if chosen is not None:
            found["it"].append(curves.widths.index(found_criteria[chosen]["width"]))
    return {key: _interval(indices, curves, config) for key, indices in found.items()}


def _interval(indices: list[int], curves: FamilyCurves, config: ThresholdConfig) -> dict:
    if not indices:
        return {"status": "undefined", "samples": config.bootstrap, "defined_fraction": 0.0}
    low, high = np.percentile(indices, [2.5, 97.5], method="nearest")
    return {
        "status": "ok",
        "samples": config.bootstrap,
        "level": 0.95,
        "low": curves.widths[int(low)],
        "high": curves.widths[int(high)],
        "defined_fraction": len(indices) / config.bootstrap,
    }
