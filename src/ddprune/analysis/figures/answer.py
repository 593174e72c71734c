"""The answer's figures: Δ against both dense baselines and the walk gap per source, and the
primary method's Δ against label noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
from plotnine import (
    aes,
    element_text,
    facet_grid,
    facet_wrap,
    geom_errorbar,
    geom_hline,
    geom_point,
    ggplot,
    labs,
    position_dodge,
    scale_fill_manual,
    theme,
    theme_bw,
)

from ddprune.analysis.answer.inference import LEVEL
from ddprune.analysis.answer.statistics import ROLE_ORDER
from ddprune.analysis.figures.plotting import noise_labels, wrap_caption


def answer_figure(table: pd.DataFrame) -> ggplot:
    """Δ against the final and the early-stopped dense model, and the backwards-walk gap,
    with their intervals: a column per (dataset, model, noise), sources along x in role
    order, a colour per method."""
    shown = {
        "delta_best": "Δ vs final dense",
        "delta_early_stopped": "Δ vs early-stopped dense",
        "walk_gap": "walk gap to early-stopped dense",
    }
    rows = table[table["statistic"].isin(list(shown))].copy()
    rows["panel"] = pd.Categorical(rows["statistic"].map(shown), list(shown.values()))
    rows["family"] = rows["dataset"] + " / " + rows["model"] + ", " + noise_labels(rows)
    labels = zip(rows["role"], rows["width"], rows["source"], rows["axis"], strict=True)
    rows["source_label"] = [f"{r}, width {w}" + (a == "epoch") * f", {e}" for r, w, e, a in labels]
    order = rows.assign(o=rows["role"].map(ROLE_ORDER.index)).sort_values(["o", "width"])
    rows["source_label"] = pd.Categorical(rows["source_label"], order["source_label"].unique())
    for column in ("mean", "low", "high"):
        rows[column] = 100 * rows[column]
    dodge = position_dodge(width=0.6)
    width = max(7.0, 4.2 * rows["family"].nunique() + 2.5)
    caption = (
        "Δ < 0: the pruned model (best round on validation) has lower test error than the "
        "dense baseline; walk gap ≈ 0: its rounds lie on the same seed's dense curve, each "
        "width early-stopped by the rule that stops a round (no gap where every pruned round "
        "is smaller than the narrowest trained width: the curve is never extrapolated). "
        f"Bars: {LEVEL:.0%} paired t intervals over seeds (none with one seed); tests and "
        "corrections are on the answer page."
    )
    return (
        ggplot(rows, aes("source_label", "mean", color="method"))
        + geom_hline(yintercept=0, linetype="dashed", color="grey")
        + geom_errorbar(aes(ymin="low", ymax="high"), width=0.3, position=dodge)
        + geom_point(size=2, position=dodge)
        + facet_grid("panel ~ family", scales="free")
        + labs(
            x="source checkpoint",
            y="percentage points",
            color="method",
            title="What pruning does to each source checkpoint around the IT",
            caption=wrap_caption(caption, width),
        )
        + theme_bw()
        + theme(
            figure_size=(width, 8.5),
            axis_text_x=element_text(rotation=30, ha="right"),
        )
    )


def by_noise(comparisons: pd.DataFrame, method: str) -> ggplot:
    """``method``'s Δ at the IT model against the final and the early-stopped dense model, at
    each noise level (a column per dataset and model), with sign-flip intervals at 1 - alpha,
    decided ones filled."""
    names = {"vs-final": "vs final dense", "vs-early-stopped": "vs early-stopped dense"}
    rows = comparisons[comparisons["comparison"].isin(list(names))].copy()
    rows["against"] = rows["comparison"].map(names)
    rows["family_label"] = rows["dataset"] + " / " + rows["model"]
    rows["decided"] = rows["decided"].map({True: "decided", False: "not decided"})
    levels = sorted(rows["noise"].unique())
    rows["noise_level"] = pd.Categorical(
        [f"{n:.0%}" for n in rows["noise"]], [f"{n:.0%}" for n in levels]
    )
    # The interval that inverts the test that fills the point; none where seeds are too few.
    rows["low"] = rows["flip_low"].where(np.isfinite(rows["flip_low"]))
    rows["high"] = rows["flip_high"].where(np.isfinite(rows["flip_high"]))
    for column in ("mean", "low", "high"):
        rows[column] = 100 * rows[column]
    dodge = position_dodge(width=0.4)
    # One noise level is no curve against noise: the title says which level it is.
    over = "against label noise" if len(levels) > 1 else f"at {levels[0]:.0%} label noise"
    return (
        # one group per baseline, so that the filled and open points dodge with their bars
        ggplot(rows, aes("noise_level", "mean", color="against", group="against"))
        + geom_hline(yintercept=0, linetype="dashed", color="grey")
        + geom_errorbar(aes(ymin="low", ymax="high"), width=0.25, position=dodge)
        # Circles everywhere (the colour legend draws circles too), filled where decided.
        + geom_point(aes(fill="decided"), shape="o", size=3, position=dodge)
        + scale_fill_manual(values={"decided": "#333333", "not decided": "white"})
        + facet_wrap("family_label")
        + labs(
            x="label noise",
            y="Δ test error (points)",
            color="",
            fill="",
            title=f"Δ {over}: the IT model, {method}",
        )
        + theme_bw()
        + theme(figure_size=(8.5, 4.5))
    )
