"""The closed-form route's figure: prune a large model, or train a small one?"""

from __future__ import annotations

import numpy as np
import pandas as pd
from mizani.bounds import squish
from plotnine import (
    aes,
    geom_hline,
    geom_line,
    geom_point,
    geom_vline,
    ggplot,
    labs,
    scale_color_manual,
    scale_linetype_manual,
    scale_x_log10,
    scale_y_log10,
    theme,
    theme_bw,
)

from ddprune.closed_form.claims import BASELINES, curve_table

VARIANT_COLORS = {
    "dense": "#7f7f7f",
    "small": "#000000",
    "small-ridge": "#9467bd",
    "null": "#8c564b",
    "magnitude": "#1f77b4",
    "hessian": "#d62728",
    "oracle": "#2ca02c",
}


def prune_vs_small(compression: pd.DataFrame) -> ggplot:
    """Prune a large closed-form model, or train a small one? Seed-mean test risk vs p/n.

    One colour per pruning score (plus the dense model), solid without and dashed with
    refitting on the kept columns; the baselines that do not depend on p (small, small-ridge,
    null) are horizontal lines; the dotted vertical line marks p = n. The peak at p = n
    reaches far above everything else, so the axis stops at a few times the worst baseline
    and taller values sit on its top edge.
    """
    curves = curve_table(compression)
    curves["curve"] = curves["score"].fillna(curves["variant"])
    curves["refit"] = np.where(curves["variant"] == "refit", "refit on kept", "no refit")
    flat = curves[curves["variant"].isin(BASELINES)].drop_duplicates("variant")
    grown = curves[~curves["variant"].isin(BASELINES)]
    regression = (compression["error_metric"] == "mean_squared_error").all()
    first = curves.iloc[0]
    n_train, keep = int(first["n_train"]), int(first["keep"])
    pruned = curves["variant"].isin(["pruned", "refit"]).any()
    question = f"Prune to {keep} or train {keep}" if pruned else "Nothing to prune (d = p)"
    figure = (
        ggplot(grown, aes("p_over_n", "test_error", color="curve", linetype="refit"))
        + geom_hline(flat, aes(yintercept="test_error", color="curve"), linetype="dotted", size=0.8)
        + geom_line(size=0.9)
        + geom_point(size=1.4)
        + geom_vline(xintercept=1.0, color="#888888", linetype="dotted")
        + scale_x_log10()
        + scale_color_manual(values=VARIANT_COLORS)
        + scale_linetype_manual(values={"no refit": "solid", "refit on kept": "dashed"})
        + labs(
            x=f"p / n, the large model's width over the n = {n_train} training samples (log scale)",
            y="test risk (MSE, log scale)" if regression else "test error",
            color="",
            linetype="",
            title=f"{question}: {first['dataset']} / {first['model']} "
            f"({int(curves['n_seeds'].max())} seeds, mean)",
        )
        + theme_bw()
        + theme(figure_size=(8, 5))
    )
    if not regression:
        return figure
    top = 3 * float(flat["test_error"].max())
    bottom = 0.8 * float(curves["test_error"].min())
    return figure + scale_y_log10(limits=(bottom, top), oob=squish)
