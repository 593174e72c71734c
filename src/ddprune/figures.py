"""plotnine figures: each function takes tidy tables and returns a ggplot; ``save`` writes it."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
from mizani.bounds import squish
from plotnine import (
    aes,
    facet_grid,
    facet_wrap,
    geom_line,
    geom_point,
    geom_tile,
    geom_vline,
    ggplot,
    labs,
    scale_color_manual,
    scale_fill_cmap,
    scale_linetype_manual,
    scale_shape_manual,
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


def double_descent(dense: pd.DataFrame, families: list[dict] | None = None) -> ggplot:
    """Final test error, train error and test loss vs width (log axis), a column per noise.

    Points are single seeds, lines the seed mean; errors and loss get separate rows because
    their scales differ (and because loss often keeps rising where error descends again).
    With ``families`` (from threshold.yaml) every IT criterion is a vertical line, one line
    type per criterion, and the selected checkpoints are ringed on the test-error curve.
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
    long["noise_label"] = long["noise"].map(_noise_label)
    mean = long.groupby(["width", "noise_label", "metric", "panel"], observed=True, as_index=False)[
        "value"
    ].mean()
    figure = (
        ggplot(long, aes("width", "value", color="metric"))
        + geom_point(alpha=0.35, size=1.2)
        + geom_line(data=mean, size=0.9)
        + geom_point(data=mean, size=1.8)
    )
    if families:
        markers, selected = _threshold_layers(families, mean)
        if not markers.empty:
            figure += geom_vline(
                aes(xintercept="width", linetype="criterion"), data=markers, color="#444444"
            )
            figure += scale_linetype_manual(values=LINETYPES)
        if not selected.empty:
            figure += geom_point(
                aes("width", "value", shape="role"),
                data=selected,
                color="black",
                fill="none",
                size=4.5,
                stroke=0.8,
                inherit_aes=False,
            )
            figure += scale_shape_manual(values=SHAPES)
    return (
        figure
        + scale_x_continuous(trans="log2", breaks=_log2_breaks, labels=_integer_labels)
        + scale_color_manual(values=COLORS)
        + facet_grid("panel ~ noise_label", scales="free_y")
        + labs(
            x="width (log scale)",
            y="",
            color="",
            linetype="IT",
            shape="selected",
            title=_title(dense),
        )
        + theme_bw()
        + theme(legend_position="right", figure_size=(6.5 + 3 * final["noise"].nunique(), 6))
    )


CRITERION_LABELS = {
    "test_error_peak": "test-error peak",
    "test_loss_peak": "test-loss peak",
    "interpolation": "interpolation point",
}
LINETYPES = {
    "test-error peak": "solid",
    "test-loss peak": "dashed",
    "interpolation point": "dotted",
}
SHAPES = {"before": "v", "at": "o", "after": "^", "control": "s"}


def _noise_label(noise: float) -> str:
    return f"label noise {noise:.0%}"


def _threshold_layers(families: list[dict], mean: pd.DataFrame):
    """Vertical IT markers (every criterion with an answer) and the selected widths."""
    markers, selected = [], []
    for family in families:
        label = _noise_label(family["noise"])
        for name, criterion in family["criteria"].items():
            if criterion["status"] == "ok":
                markers.append(
                    {
                        "noise_label": label,
                        "width": criterion["width"],
                        "criterion": CRITERION_LABELS[name],
                    }
                )
        for entry in family["selection"]:
            selected.append({"noise_label": label, "width": entry["width"], "role": entry["role"]})
    markers = pd.DataFrame(markers, columns=["noise_label", "width", "criterion"])
    selected = pd.DataFrame(selected, columns=["noise_label", "width", "role"]).drop_duplicates()
    test_error = mean[mean["metric"] == METRICS["test_error"][0]]
    selected = selected.merge(test_error, on=["noise_label", "width"])
    return markers, selected


def epochwise_heatmap(dense: pd.DataFrame, families: list[dict] | None = None) -> ggplot:
    """Seed-mean test error over width x epoch (Nakkiran et al.'s Fig. 2), a panel per noise.

    A run that stopped early (it fit its training labels) keeps its last value for the
    remaining epochs: the model no longer changes. With ``families`` the checkpoints selected
    epoch-wise are marked.
    """
    keys = ["noise", "width", "seed"]
    epochs = sorted(dense["epoch"].unique())
    filled = []
    for (noise, width, seed), rows in dense.groupby(keys):
        series = rows.set_index("epoch")["test_error"].reindex(epochs).ffill()
        filled.append(
            pd.DataFrame(
                {
                    "noise": noise,
                    "width": width,
                    "seed": seed,
                    "epoch": epochs,
                    "test_error": series.to_numpy(),
                }
            )
        )
    table = (
        pd.concat(filled).groupby(["noise", "width", "epoch"], as_index=False)["test_error"].mean()
    )
    # geom_tile reads a column named "width" as the tile width: keep the model width elsewhere.
    table = table.rename(columns={"width": "model_width"})
    widths = sorted(table["model_width"].unique())
    table["width_label"] = pd.Categorical(
        table["model_width"].astype(str), [str(w) for w in widths]
    )
    table["noise_label"] = table["noise"].map(_noise_label)
    # Tiles span the gap to the next evaluation (plotnine's own estimate is unreliable here).
    gaps = np.diff(epochs)
    table["tile_height"] = float(gaps.min()) if len(gaps) else 1.0
    dataset, model = dense["dataset"].iloc[0], dense["model"].iloc[0]
    figure = ggplot(table, aes("width_label", "epoch", fill="test_error", height="tile_height"))
    figure += geom_tile()
    marks = pd.DataFrame(
        [
            {
                "noise_label": _noise_label(f["noise"]),
                "width_label": str(e["width"]),
                "epoch": e["epoch"],
                "role": e["role"],
            }
            for f in families or []
            for e in f["selection"]
            if e["axis"] == "epoch"
        ],
        columns=["noise_label", "width_label", "epoch", "role"],
    ).drop_duplicates()
    if not marks.empty:
        marks["width_label"] = pd.Categorical(marks["width_label"], [str(w) for w in widths])
        figure += geom_point(
            aes("width_label", "epoch", shape="role"),
            data=marks,
            color="#00c0ff",
            fill="none",
            size=4,
            stroke=1,
            inherit_aes=False,
        )
        figure += scale_shape_manual(values=SHAPES)
    return (
        figure
        # Untrained models (~90% error) would take the whole colour range; saturate above the
        # 90th percentile so that differences between trained models stay visible.
        + scale_fill_cmap(
            "magma",
            limits=(table["test_error"].min(), table["test_error"].quantile(0.9)),
            oob=squish,
        )
        + facet_wrap("~noise_label")
        + labs(
            x="width",
            y="epoch",
            fill="test error",
            shape="selected",
            title=f"Epoch-wise test error: {dataset} / {model} (seed mean)",
        )
        + theme_bw()
        + theme(figure_size=(3 + 4 * table["noise"].nunique(), 5))
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
