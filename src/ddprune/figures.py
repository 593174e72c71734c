"""plotnine figures: each function takes tidy tables and returns a ggplot; ``save`` writes it."""

from __future__ import annotations

import math
import os

import pandas as pd
from plotnine import (
    aes,
    facet_grid,
    geom_line,
    geom_point,
    ggplot,
    labs,
    scale_color_manual,
    scale_x_continuous,
    theme,
    theme_bw,
)

from ddprune.atomic import atomic_path
from ddprune.summaries import final_rows

METRICS = {
    "test_error": ("test error", "error"),
    "train_error": ("train error (noisy labels)", "error"),
    "train_error_clean": ("train error (clean labels)", "error"),
    "test_loss": ("test loss", "cross-entropy"),
}
COLORS = {
    "test error": "#d62728",
    "train error (noisy labels)": "#1f77b4",
    "train error (clean labels)": "#2ca02c",
    "test loss": "#9467bd",
}


def _log2_breaks(limits: tuple[float, float]) -> list[float]:
    """Powers of two covering ``limits``; at least two, so a single-width sweep still plots."""
    low, high = (math.log2(v) for v in limits)
    exponents = range(math.floor(low + 1e-9), math.ceil(high - 1e-9) + 1)
    breaks = [2.0**e for e in exponents]
    return breaks if len(breaks) > 1 else [breaks[0] / 2, breaks[0], breaks[0] * 2]


def _integer_labels(breaks: list[float]) -> list[str]:
    return [f"{b:g}" for b in breaks]


def double_descent(dense: pd.DataFrame) -> ggplot:
    """Final test error, train error and test loss vs width (log axis), a column per noise.

    Points are single seeds, lines the seed mean; errors and loss get separate rows because
    their scales differ (and because loss often keeps rising where error descends again).
    """
    final = final_rows(dense)
    long = final.melt(
        id_vars=["width", "noise", "seed"],
        value_vars=list(METRICS),
        var_name="key",
        value_name="value",
    )
    long["metric"] = long["key"].map(lambda k: METRICS[k][0])
    long["panel"] = pd.Categorical(
        long["key"].map(lambda k: METRICS[k][1]), categories=["error", "cross-entropy"]
    )
    long["noise_label"] = long["noise"].map(lambda p: f"label noise {p:.0%}")
    mean = long.groupby(["width", "noise_label", "metric", "panel"], observed=True, as_index=False)[
        "value"
    ].mean()
    return (
        ggplot(long, aes("width", "value", color="metric"))
        + geom_point(alpha=0.35, size=1.2)
        + geom_line(data=mean, size=0.9)
        + geom_point(data=mean, size=1.8)
        + scale_x_continuous(trans="log2", breaks=_log2_breaks, labels=_integer_labels)
        + scale_color_manual(values=COLORS)
        + facet_grid("panel ~ noise_label", scales="free_y")
        + labs(x="width (log scale)", y="", color="", title=_title(dense))
        + theme_bw()
        + theme(legend_position="bottom", figure_size=(4.5 + 3 * final["noise"].nunique(), 6))
    )


def _title(dense: pd.DataFrame) -> str:
    dataset, model = dense["dataset"].iloc[0], dense["model"].iloc[0]
    seeds = dense["seed"].nunique()
    return f"Model-wise double descent: {dataset} / {model} ({seeds} seeds, final evaluation)"


def save(figure: ggplot, path: str | os.PathLike, dpi: int = 150) -> None:
    """Save atomically; the format follows the file's extension (png, svg, pdf)."""
    suffix = os.path.splitext(os.fspath(path))[1].lstrip(".")
    with atomic_path(path) as tmp:
        figure.save(tmp, format=suffix, dpi=dpi, verbose=False)
