"""Figures of the dense sweep: double descent (trained and closed-form), the epoch-wise heatmap,
and prune-large-vs-train-small for the closed-form models."""

from __future__ import annotations

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
    ggplot,
    labs,
    scale_color_manual,
    scale_fill_cmap,
    scale_x_continuous,
    scale_y_log10,
    theme,
    theme_bw,
)

from ddprune.analysis.figures.plotting import (
    integer_labels,
    it_lines,
    log2_breaks,
    noise_label,
    noise_labels,
    panels,
    rings,
)
from ddprune.analysis.summaries import (
    FAMILY_KEYS,
    diverged_caption,
    epoch_means,
    final_rows,
    without_diverged_runs,
)
from ddprune.study.threshold_file import FamilyThreshold

METRICS = {
    "test_error": ("test error", "error"),
    "val_error": ("validation error (noisy labels)", "error"),
    "train_error": ("train error (noisy labels)", "error"),
    "train_error_clean": ("train error (clean labels)", "error"),
    "test_loss": ("test loss", "loss"),
    "val_loss": ("validation loss (noisy labels)", "loss"),
}


COLORS = {
    "test error": "#d62728",
    "validation error (noisy labels)": "#ff9896",
    "train error (noisy labels)": "#1f77b4",
    "train error (clean labels)": "#2ca02c",
    "test loss": "#9467bd",
    "validation loss (noisy labels)": "#c5b0d5",
}


def double_descent(
    dense: pd.DataFrame,
    families: list[FamilyThreshold] | None = None,
    theory: pd.DataFrame | None = None,
) -> ggplot:
    """Final test error, train error and test loss vs width (log axis), a column per noise.

    Points are single seeds, lines the seed mean; errors and loss get separate rows because
    their scales differ (and because loss often keeps rising where error descends again).
    With ``families`` (from threshold.yaml) every IT criterion is a vertical line, one line
    type per criterion, and the selected checkpoints are ringed on the test-error curve.
    Regression data (mean squared error) is drawn by :func:`risk_curve` instead.
    """
    if (dense["error_metric"] == "mean_squared_error").all():
        return risk_curve(dense, families, theory)
    final = final_rows(dense)
    long = final.melt(
        id_vars=["width", "noise", "noise_kind", "seed"],
        value_vars=list(METRICS),
        var_name="key",
        value_name="value",
    )
    long["metric"] = long["key"].map(lambda k: METRICS[k][0])
    long["panel"] = pd.Categorical(
        long["key"].map(lambda k: METRICS[k][1]), categories=["error", "loss"]
    )
    long["noise_label"] = noise_labels(long)
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
        figure += it_lines(families)
        selected = _selected_points(families, mean)
        if not selected.empty:
            figure += rings("width", "value", selected, color="black")
    return (
        figure
        + scale_x_continuous(trans="log2", breaks=log2_breaks, labels=integer_labels)
        + scale_color_manual(values=COLORS)
        + facet_grid("panel ~ noise_label", scales="free_y")
        + labs(
            x="width (log scale)",
            y="",
            color="",
            linetype="IT",
            shape="selected",
            title=_title(dense),
            caption=diverged_caption(final),
        )
        + theme_bw()
        + theme(legend_position="right", figure_size=(6.5 + 3 * panels(final), 6))
    )


INTERPOLATED = 1e-12


def risk_curve(
    dense: pd.DataFrame,
    families: list[FamilyThreshold] | None = None,
    theory: pd.DataFrame | None = None,
) -> ggplot:
    """Test and train mean squared error vs width, both axes logarithmic, with the IT lines
    and, where the closed form holds, ``theory`` (columns width, value) as a dashed curve."""
    final = final_rows(dense)
    long = final.melt(
        id_vars=["width", "seed"],
        value_vars=["test_error", "train_error"],
        var_name="key",
        value_name="value",
    )
    long["metric"] = long["key"].map({"test_error": "test MSE", "train_error": "train MSE"})
    # An interpolating fit's train MSE is 0 up to rounding (1e-28): left off the log axis.
    long = long[long["value"] > INTERPOLATED]
    mean = long.groupby(["width", "metric"], as_index=False)["value"].mean()
    figure = (
        ggplot(long, aes("width", "value", color="metric"))
        + geom_point(alpha=0.25, size=1)
        + geom_line(data=mean, size=0.9)
        + geom_point(data=mean, size=1.6)
    )
    if theory is not None and not theory.empty:
        curve = theory[np.isfinite(theory["value"])].assign(metric="closed form")
        figure += geom_line(data=curve, linetype="dashed", size=0.9)
    if families:
        figure += it_lines(families)
    colors = {"test MSE": "#d62728", "train MSE": "#1f77b4", "closed form": "#000000"}
    return (
        figure
        + scale_x_continuous(trans="log2", breaks=log2_breaks, labels=integer_labels)
        + scale_y_log10()
        + scale_color_manual(values=colors)
        + labs(
            x="width p (log scale)",
            y="mean squared error (log scale)",
            color="",
            linetype="IT",
            title=_title(dense),
        )
        + theme_bw()
        + theme(figure_size=(9, 5))
    )


def _selected_points(families: list[FamilyThreshold], mean: pd.DataFrame) -> pd.DataFrame:
    """The selected widths on the seed-mean test-error curve, with their roles."""
    selected = pd.DataFrame(
        [
            {
                "noise_label": noise_label(family.noise, family.noise_kind),
                "width": e.width,
                "role": e.role,
            }
            for family in families
            for e in family.selection
        ],
        columns=["noise_label", "width", "role"],
    ).drop_duplicates()
    test_error = mean[mean["metric"] == METRICS["test_error"][0]]
    return selected.merge(test_error, on=["noise_label", "width"])


def _heatmap_table(dense: pd.DataFrame) -> pd.DataFrame:
    """Seed-mean test error per (noise, width, epoch) up to each width's last trained epoch,
    with the tiles' labels and height."""
    table = epoch_means(dense)
    trained = (
        without_diverged_runs(dense)
        .groupby(["noise", "noise_kind", "width"], as_index=False)["epoch"]
        .max()
        .rename(columns={"epoch": "last_epoch"})
    )
    table = table.merge(trained, on=["noise", "noise_kind", "width"])
    table = table[table["epoch"] <= table["last_epoch"]]
    epochs = sorted(table["epoch"].unique())
    # geom_tile reads a column named "width" as the tile width: keep the model width elsewhere.
    table = table.rename(columns={"width": "model_width"})
    widths = sorted(table["model_width"].unique())
    table["width_label"] = pd.Categorical(
        table["model_width"].astype(str), [str(w) for w in widths]
    )
    table["noise_label"] = noise_labels(table)
    # Tiles span the gap to the next evaluation (plotnine's own estimate is unreliable here).
    gaps = np.diff(epochs)
    table["tile_height"] = float(gaps.min()) if len(gaps) else 1.0
    return table


def _epochwise_marks(families: list[FamilyThreshold], widths: list[int]) -> pd.DataFrame:
    """The checkpoints selected epoch-wise, placed on the heatmap's axes."""
    marks = pd.DataFrame(
        [
            {
                "noise_label": noise_label(f.noise, f.noise_kind),
                "width_label": str(e.width),
                "epoch": e.epoch,
                "role": e.role,
            }
            for f in families
            for e in f.selection
            if e.axis == "epoch"
        ],
        columns=["noise_label", "width_label", "epoch", "role"],
    ).drop_duplicates()
    if not marks.empty:
        marks["width_label"] = pd.Categorical(marks["width_label"], [str(w) for w in widths])
    return marks


def epochwise_heatmap(dense: pd.DataFrame, families: list[FamilyThreshold] | None = None) -> ggplot:
    """Seed-mean test error over width x epoch (Nakkiran et al.'s Fig. 2), a panel per noise.

    A run that stopped early keeps its last value (``summaries.epoch_means``) while another
    seed of its width trains on; once every run of a width has stopped, its column ends
    (blank above), rather than being drawn as if trained to the last epoch. With
    ``families`` the checkpoints selected epoch-wise are marked.
    """
    table = _heatmap_table(dense)
    widths = sorted(table["model_width"].unique())
    dataset, model = dense["dataset"].iloc[0], dense["model"].iloc[0]
    figure = ggplot(table, aes("width_label", "epoch", fill="test_error", height="tile_height"))
    figure += geom_tile()
    marks = _epochwise_marks(families or [], widths)
    if not marks.empty:
        figure += rings("width_label", "epoch", marks, color="#00c0ff")
    # Untrained models (~90% error) would take the whole colour range; saturate above the
    # 90th percentile so that differences between trained models stay visible, and say so.
    low, top = float(table["test_error"].min()), float(table["test_error"].quantile(0.9))
    breaks = np.linspace(low, top, 5).tolist()
    return (
        figure
        + scale_fill_cmap(
            "magma",
            limits=(low, top),
            oob=squish,
            breaks=breaks,
            labels=[f"{b:.2f}" for b in breaks[:-1]] + [f"≥ {top:.2f}"],
        )
        + facet_wrap("~noise_label")
        + labs(
            x="width",
            y="epoch",
            fill="test error",
            shape="selected",
            title=f"Epoch-wise test error: {dataset} / {model} (seed mean)",
            caption="\n".join(
                filter(
                    None,
                    [
                        "Blank above a column: every run of that width had stopped (it fit "
                        "its noisy training labels).",
                        diverged_caption(final_rows(dense)),
                    ],
                )
            ),
        )
        + theme_bw()
        + theme(figure_size=(3 + 4 * panels(table), 5))
    )


def _title(dense: pd.DataFrame) -> str:
    dataset, model = dense["dataset"].iloc[0], dense["model"].iloc[0]
    seeds = dense["seed"].nunique()
    return f"Model-wise double descent: {dataset} / {model} ({seeds} seeds, final evaluation)"


def compared_curves(curves: pd.DataFrame) -> ggplot:
    """Seed-mean final test (solid) and validation (dashed) error against width of several
    studies (column ``study``), a panel per family and noise: ``ddprune compare``'s figure."""
    long = curves.melt(
        id_vars=[*FAMILY_KEYS, "width", "study"],
        value_vars=["test_error", "val_error"],
        var_name="split",
        value_name="error",
    )
    long["split"] = long["split"].map({"test_error": "test", "val_error": "validation (noisy)"})
    long["panel"] = long["dataset"] + " / " + long["model"] + ", " + noise_labels(long)
    return (
        ggplot(long, aes("width", "error", color="study", linetype="split"))
        + geom_line()
        + geom_point(size=1.5)
        + scale_x_continuous(trans="log2", breaks=log2_breaks, labels=integer_labels)
        + facet_wrap("panel")
        + labs(x="width (log scale)", y="error", title="Two studies' dense curves")
        + theme_bw()
        + theme(figure_size=(8.5, 4.5))
    )
