"""The answer as a reader meets it: a table in points, one generated sentence per (dataset,
model, noise), and one figure. Everything here is read off :func:`answer_table`'s rows --
no number is written by hand."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
from plotnine import (
    aes,
    element_text,
    facet_grid,
    geom_errorbar,
    geom_hline,
    geom_point,
    ggplot,
    labs,
    position_dodge,
    theme,
    theme_bw,
)

from ddprune.analysis.answer import LEVEL, ROLE_ORDER, SOURCE_KEYS, recovers
from ddprune.analysis.plotting import noise_labels, wrap_caption
from ddprune.analysis.summaries import FAMILY_KEYS
from ddprune.catalog import DEFAULT_NOISE_KIND

NONE = "n/a"  # a statistic that has no value for this source
RECOVERS = (
    f"A source recovers when the {LEVEL:.0%} paired t interval of Δ (pruned minus "
    "dense test error of the same seed) lies entirely below zero."
)
METHOD = (
    f"Intervals: paired t, {LEVEL:.0%}, over seeds (with a study's few seeds a bootstrap "
    "over seeds has too few distinct resamples and understates the spread). Errors and Δ "
    "in percentage points. The backwards-walk gap compares each pruned round with the dense "
    "curve (seed mean, interpolated on log-parameters between trained widths; rounds outside "
    "the trained range are not compared); the band is the dense seeds' min-max. The sparse "
    "IT is the first round whose noisy-label train error exceeds the interpolation "
    "tolerance; the peak round is the worst test error up to the best round."
)


def _family_key(row: Any) -> tuple[str, str, float, str]:
    return tuple(row[key] for key in FAMILY_KEYS)


def _points(value: float, signed: bool = False) -> str:
    if value is None or math.isnan(value):
        return NONE
    return f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}"


def _interval(row: pd.Series | None) -> str:
    if row is None:
        return NONE
    if math.isnan(row["low"]):
        return f"{_points(row['mean'], True)} (1 seed)"
    low, high = _points(row["low"], True), _points(row["high"], True)
    return f"{_points(row['mean'], True)} [{low}, {high}]"


def _count(row: pd.Series | None) -> str:
    """An indicator as the seeds where it holds ("2/3")."""
    if row is None:
        return NONE
    return f"{round(row['mean'] * row['seeds'])}/{row['seeds']}"


def _statistics(rows: pd.DataFrame) -> dict[tuple[str, int], pd.Series]:
    return {(r["statistic"], r["budget"]): r for _, r in rows.iterrows()}


def _mean(statistics: dict[tuple[str, int], pd.Series], name: str) -> float:
    row = statistics.get((name, 0))
    return math.nan if row is None else float(row["mean"])


def _recovers(delta: pd.Series) -> str:
    return NONE if math.isnan(delta["high"]) else ("yes" if recovers(delta) else "no")


def page_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per source and method, in points: the recovery, the walk, the sparse IT."""
    budgets = sorted(table.loc[table["budget"] > 0, "budget"].unique(), reverse=True)
    rows = []
    for key, group in table.groupby(SOURCE_KEYS, sort=False):
        found = _statistics(group)
        delta, in_band = found[("delta_best", 0)], _mean(found, "walk_in_band")
        row = {
            **dict(zip(SOURCE_KEYS, key, strict=True)),
            "seeds": delta["seeds"],
            "dense error": _points(_mean(found, "dense_test_error")),
            "best pruned error": _points(_mean(found, "best_test_error")),
            "at sparsity": f"{_mean(found, 'best_sparsity'):.1%}",
            "Δ best [95%]": _interval(delta),
            "recovers": _recovers(delta),
            "Δ vs same-budget dense [95%]": _interval(found.get(("delta_same_budget", 0))),
            "Δ vs dense best epoch [95%]": _interval(found.get(("delta_best_epoch", 0))),
            "walk gap, mean [95%]": _interval(found.get(("walk_mean_abs", 0))),
            "walk gap, max": _points(_mean(found, "walk_max_abs")),
            "in dense band": NONE if math.isnan(in_band) else f"{in_band:.0%}",
            "passes peak": _count(found.get(("passes_peak", 0))),
            "sparse IT round": f"{_mean(found, 'sparse_it_round'):.1f}",
            "peak round": f"{_mean(found, 'peak_round'):.1f}",
            "best round": f"{_mean(found, 'best_round'):.1f}",
            "peak at sparse IT": _count(found.get(("peak_at_sparse_it", 0))),
        }
        for budget in budgets:
            row[f"Δ at {budget} weights"] = _interval(found.get(("delta_at_budget", budget)))
        rows.append(row)
    return pd.DataFrame(rows).replace("nan", NONE)


ROLE_NAMES = {
    "at": "the IT model",
    "before": "the model before the IT",
    "after": "the model after the IT",
    "control": "the control",
}


def _source_name(row: pd.Series) -> str:
    where = f"width {row['width']}" + (f", {row['source']}" if row["axis"] == "epoch" else "")
    return f"{ROLE_NAMES[row['role']]} ({where})"


def _same_source(rows: pd.DataFrame, like: pd.Series) -> pd.DataFrame:
    """The rows of ``like``'s source and method."""
    keys = SOURCE_KEYS[len(FAMILY_KEYS) :]
    return rows[(rows[keys] == like[keys]).all(axis=1)]


def _recovery(best: pd.Series, found: dict[tuple[str, int], pd.Series]) -> str:
    """How far pruning moves the focus source, how sure, and how close to the dense curve."""
    verb = "lowers" if best["mean"] < 0 else "raises"
    interval = (
        "one seed, no interval"
        if math.isnan(best["low"])
        else f"{LEVEL:.0%} interval {_points(best['low'], True)} to "
        f"{_points(best['high'], True)}, {best['seeds']} seeds"
    )
    verdict = "a recovery" if recovers(best) else "not a recovery: the interval reaches zero"
    text = (
        f"pruned with {best['method']}, {_source_name(best)} {verb} its test error by "
        f"{abs(100 * best['mean']):.1f} points ({interval}) at "
        f"{_mean(found, 'best_sparsity'):.0%} sparsity, {verdict}"
    )
    if ("walk_mean_abs", 0) not in found:
        text += "; its pruned rounds lie outside the trained range of parameter counts."
    else:
        text += (
            f"; its pruned rounds stay within {_points(_mean(found, 'walk_mean_abs'))} "
            f"points of the dense curve on average (largest gap "
            f"{_points(_mean(found, 'walk_max_abs'))})."
        )
    return text + _budget_controls(found)


def _budget_controls(found: dict[tuple[str, int], pd.Series]) -> str:
    """Δ against the dense run trained as long as a round, and at its best epoch: the
    final dense model has trained longer, and on noisy labels that alone costs error."""
    parts = []
    if ("delta_same_budget", 0) in found:
        parts.append(
            f"against the dense run after as many epochs as a pruned round trains, Δ is "
            f"{_interval(found[('delta_same_budget', 0)])}"
        )
    if ("delta_best_epoch", 0) in found:
        parts.append(
            f"against its best epoch (early stopping on the test set), "
            f"{_interval(found[('delta_best_epoch', 0)])}"
        )
    return f" Controls for the training budget: {'; '.join(parts)}." if parts else ""


def _at_common_budget(rows: pd.DataFrame, best: pd.Series) -> str:
    """Every source of the focus method at the budget where the focus source does best."""
    at = rows[(rows["statistic"] == "test_error_at_budget") & (rows["method"] == best["method"])]
    mine = _same_source(at, best)
    if mine.empty:
        return ""
    budget = mine.loc[mine["mean"].idxmin(), "budget"]
    here = at[at["budget"] == budget]
    return (
        f" Like for like, at {budget} prunable weights with {best['method']}, the test error is "
        + "; ".join(f"{_points(r['mean'])}% for {_source_name(r)}" for _, r in here.iterrows())
        + "."
    )


def _sparse_threshold(found: dict[tuple[str, int], pd.Series]) -> str:
    if ("sparse_it_round", 0) in found:
        return (
            f" It stops fitting its noisy labels (the sparse IT) at round "
            f"{_mean(found, 'sparse_it_round'):.1f} on average; its worst test error before "
            f"the best round is within one round of it in "
            f"{_count(found.get(('peak_at_sparse_it', 0)))} seeds."
        )
    train = _mean(found, "dense_train_error")
    if train > 0.0 and ("walk_rounds", 0) in found:
        return (
            f" It has no sparse IT: the dense source does not fit its noisy labels "
            f"(train error {_points(train)}%) or still fits them at the last round."
        )
    return ""


def sentences(
    table: pd.DataFrame,
    families: list[dict[str, Any]],
    nothing: Callable[[dict[str, Any]], str],
) -> list[str]:
    """One paragraph per family (dataset, model, noise) of the threshold stage, from the numbers:
    the method that helps the IT model most (the closest source when there is none), the
    other sources under that method, all of them at a common budget, and the sparse IT.

    ``nothing(family)`` says why a family has no pruned rows (the caller knows the study).
    """
    out = []
    for family in families:
        key = _family_key(family)
        kind = "" if key[3] == DEFAULT_NOISE_KIND else f"{key[3]} "
        head = f"{key[0]}/{key[1]}, {key[2]:.0%} {kind}noise: "
        rows = table[(table[FAMILY_KEYS] == list(key)).all(axis=1)]
        deltas = rows[rows["statistic"] == "delta_best"]
        if deltas.empty:
            out.append(head + nothing(family))
            continue
        focus = deltas[(deltas["role"] == "at") & (deltas["axis"] == "width")]
        focus = focus if len(focus) else deltas
        best = focus.loc[focus["mean"].idxmin()]
        found = _statistics(_same_source(rows, best))
        text = head + _recovery(best, found)
        others = deltas[(deltas["method"] == best["method"]) & (deltas.index != best.name)]
        if len(others):
            text += (
                f" With {best['method']}, Δ is "
                + "; ".join(f"{_interval(r)} for {_source_name(r)}" for _, r in others.iterrows())
                + "."
            )
        out.append(text + _at_common_budget(rows, best) + _sparse_threshold(found))
    return out


def answer_figure(table: pd.DataFrame) -> ggplot:
    """Δ (best pruned - dense) and the backwards-walk gap with their intervals: a column per
    (dataset, model, noise), sources along x in role order, a colour per method."""
    shown = {"delta_best": "Δ: best pruned - dense", "walk_mean_abs": "walk gap to dense curve"}
    rows = table[table["statistic"].isin(list(shown))].copy()
    rows["panel"] = pd.Categorical(rows["statistic"].map(shown), list(shown.values()))
    rows["family"] = rows["dataset"] + " / " + rows["model"] + ", " + noise_labels(rows)
    labels = zip(rows["role"], rows["width"], rows["source"], rows["axis"], strict=True)
    rows["source_label"] = [f"{r} w{w}" + (a == "epoch") * f" {e}" for r, w, e, a in labels]
    order = rows.assign(o=rows["role"].map(ROLE_ORDER.index)).sort_values(["o", "width"])
    rows["source_label"] = pd.Categorical(rows["source_label"], order["source_label"].unique())
    for column in ("mean", "low", "high"):
        rows[column] = 100 * rows[column]
    gaps = rows["statistic"] == "walk_mean_abs"  # a mean of distances is never negative
    rows.loc[gaps, "low"] = rows.loc[gaps, "low"].clip(lower=0)
    dodge = position_dodge(width=0.6)
    width = max(7.0, 4.2 * rows["family"].nunique() + 2.5)
    caption = (
        "Δ < 0: pruning helps; walk gap ≈ 0: pruning walks double descent backwards (no gap "
        "where every pruned round is smaller than the narrowest trained width: the dense curve "
        f"is never extrapolated). Bars: {LEVEL:.0%} paired t intervals over seeds (none with "
        "one seed)."
    )
    return (
        ggplot(rows, aes("source_label", "mean", color="method"))
        + geom_hline(yintercept=0, linetype="dashed", color="grey")
        + geom_errorbar(aes(ymin="low", ymax="high"), width=0.3, position=dodge)
        + geom_point(size=2, position=dodge)
        + facet_grid("panel ~ family", scales="free")
        + labs(
            x="source checkpoint (role, width)",
            y="percentage points",
            color="method",
            title="What pruning does to each source checkpoint around the IT",
            caption=wrap_caption(caption, width),
        )
        + theme_bw()
        + theme(
            figure_size=(width, 7.0),
            axis_text_x=element_text(rotation=30, ha="right"),
        )
    )
