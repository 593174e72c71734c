"""Figures of the pruning stage: metrics vs sparsity per source, and the pruned trajectories
on the dense curve (does pruning walk double descent backwards?)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from mizani.transforms import trans_new
from plotnine import (
    aes,
    facet_grid,
    geom_line,
    geom_path,
    geom_point,
    geom_ribbon,
    ggplot,
    labs,
    scale_color_manual,
    scale_x_continuous,
    theme,
    theme_bw,
)

from ddprune.analysis.answer.dense_references import dense_curves, stopped_curves
from ddprune.analysis.figures.plotting import message, noise_labels, panels, wrap_caption
from ddprune.analysis.summaries import FAMILY_KEYS, diverged_caption, final_rows

ROLE_COLORS = {"before": "#1f77b4", "at": "#d62728", "after": "#ff7f0e"}


CONTROL_GREYS = ["#9e9e9e", "#424242", "#bdbdbd", "#616161"]


PRUNE_METRICS = {
    "test_error": "test error",
    "train_error": "train error (noisy labels)",
    "memorization": "memorisation of noisy labels",
}


def _reverse_log10():
    """Log axis that grows to the left: sparsity increases from left to right."""
    return trans_new(
        "reverse_log10",
        lambda x: -np.log10(x),
        lambda x: 10 ** (-np.asarray(x)),
        domain=(1e-300, np.inf),
    )


ROLE_WORDS = {"before": "before the IT", "at": "at the IT", "after": "after the IT"}


def _sources(pruning: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Label every source checkpoint ("at the IT, width 40") and give it its role's colour."""
    pruning = pruning.copy()
    labels, colours = [], {}
    for w, r, a, e in zip(
        pruning["width"], pruning["role"], pruning["axis"], pruning["source_epoch"], strict=True
    ):
        labels.append(
            f"{ROLE_WORDS.get(r, r)}, width {w}" + (f", epoch {e}" if a == "epoch" else "")
        )
        colours[labels[-1]] = r
    pruning["source"] = labels
    order = pruning.sort_values(["axis", "width", "source_epoch"])["source"].unique().tolist()
    pruning["source"] = pd.Categorical(pruning["source"], order)
    colors, greys = {}, iter(CONTROL_GREYS * 4)
    for label in order:
        colors[label] = ROLE_COLORS.get(colours[label]) or next(greys)
    return pruning, colors


MOST_COLUMNS = 4


def _panel_layout(long: pd.DataFrame) -> pd.DataFrame:
    """Each value's panel: a row per method, a column per metric and noise level -- up to
    four columns: wider, the text is unreadable (and eight columns pass plotnine's 25-inch
    limit), so more noise levels go in the rows, beside the method."""
    long = long.assign(metric=long["key"].map(PRUNE_METRICS), row=long["method"])
    if panels(long) > 1:
        noise = noise_labels(long)
        if long["metric"].nunique() * panels(long) <= MOST_COLUMNS:
            long["metric"] = long["metric"] + ", " + noise
        else:
            long["row"] = long["method"] + ", " + noise
    return long


def pruning_curves(pruning: pd.DataFrame, metrics: list[str]) -> ggplot:
    """Metrics vs the remaining fraction of prunable weights, one line per source checkpoint.

    A column per pruning method; lines are seed means, points single seeds. Round 0 (all
    weights remaining) is the dense source checkpoint.
    """
    pruning, colors = _sources(pruning)
    pruning["remaining"] = pruning["n_prunable_nonzero"] / pruning["n_prunable"]
    keys = ["method", "noise", "noise_kind", "source", "round"]
    long = pruning.melt(
        id_vars=[*keys, "seed", "remaining"], value_vars=metrics, var_name="key", value_name="value"
    )
    notes = [diverged_caption(pruning)]
    if "memorization" in metrics:  # nothing to memorise without noise: say so, draw nothing
        clean = long["key"].eq("memorization") & long["noise"].eq(0)
        if clean.any():
            notes.append("Memorisation is not drawn at 0% noise: there are no noisy labels.")
        long = long[~clean]
        if long["value"].isna().all():
            return message("Nothing to draw: no pruned source was trained on noisy labels.")
    long = _panel_layout(long)
    rows = long["row"].nunique()
    mean = long.groupby([*keys, "metric", "row"], observed=True, as_index=False)[
        ["remaining", "value"]
    ].mean()
    breaks = [1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005]
    return (
        ggplot(long, aes("remaining", "value", color="source"))
        + geom_point(alpha=0.3, size=1)
        + geom_line(aes(group="source"), data=mean, size=0.9)
        + geom_point(data=mean, size=1.6)
        + scale_x_continuous(
            trans=_reverse_log10(),
            breaks=breaks,
            labels=lambda bs: [f"{b:.1%}".replace(".0%", "%") for b in bs],
        )
        + scale_color_manual(values=colors)
        + facet_grid("row ~ metric", scales="free_y")
        + labs(
            x="prunable weights remaining\n(log scale; sparsity grows to the right)",
            y="",
            color="source checkpoint",
            title=_pruning_title(
                pruning,
                "Memorisation of the noisy labels while pruning"
                if metrics == ["memorization"]
                else "Pruning from checkpoints around the IT",
            ),
            caption="\n".join(filter(None, notes)),
        )
        + theme_bw()
        + theme(figure_size=(3.4 * long["metric"].nunique() + 3.5, 2.4 * rows + 1.5))
    )


def _dense_band(dense: pd.DataFrame, methods: Sequence[str], patience: int | None) -> pd.DataFrame:
    """Per width, the seed mean and the seeds' range of two dense curves, once per method (a
    facet row each): every width early-stopped by the rule that stops a round (``curve``
    ``early-stopped``: what the walk gap compares each seed's rounds with) and the final
    models (``final``)."""
    stopped = pd.concat(
        [
            curve.assign(**dict(zip([*FAMILY_KEYS, "seed"], key, strict=True)))
            for key, curve in stopped_curves(dense, patience).items()
        ]
    )
    bands = [
        rows.groupby([*FAMILY_KEYS, "width"], as_index=False)
        .agg(
            n_params=("n_params", "first"),
            test_error=("test_error", "mean"),
            low=("test_error", "min"),
            high=("test_error", "max"),
        )
        .assign(curve=name)
        for name, rows in (("early-stopped", stopped), ("final", dense_curves(dense)))
    ]
    return pd.concat(bands, ignore_index=True).merge(pd.DataFrame({"method": methods}), how="cross")


def _dense_layers(curve: pd.DataFrame, final: pd.DataFrame) -> list:
    """The dense curves under the trajectories: the early-stopped seed mean (black) with the
    seeds' range (grey), and the final models' curve (dashed)."""
    xy = aes("n_params", "test_error")
    return [
        geom_ribbon(
            aes("n_params", ymin="low", ymax="high"),
            data=curve,
            fill="#9e9e9e",
            alpha=0.35,
            inherit_aes=False,
        ),
        geom_line(xy, data=curve, color="black", size=1.1, inherit_aes=False),
        geom_point(xy, data=curve, color="black", size=1.5, inherit_aes=False),
        geom_line(xy, data=final, color="#616161", linetype="dashed", size=0.8, inherit_aes=False),
    ]


def _walk_caption(dense: pd.DataFrame, pruning: pd.DataFrame) -> str:
    return "\n".join(
        filter(
            None,
            [
                wrap_caption(
                    "Black: dense seed mean, each width early-stopped by the rule that stops a "
                    "round (what the walk gap compares with), grey: the seeds' range; dashed: "
                    "the final dense models; colours: pruned trajectories (seed means).",
                    4.2 * panels(pruning) + 3.5,
                ),
                diverged_caption(final_rows(dense)),
                diverged_caption(pruning),
            ],
        )
    )


def backwards_walk(
    dense: pd.DataFrame, pruning: pd.DataFrame, patience: int | None = None
) -> ggplot:
    """Dense test error vs parameters with every pruned trajectory on the same axes.

    The dense curve (black, the seeds' min-max band in grey) is the seed mean of the curves
    the walk gap compares each seed's rounds with: every width early-stopped by the rule that
    stops a round (``patience``, :func:`ddprune.analysis.answer.dense_references.
    stopped_curves`; diverged runs left out); the final models' curve is dashed. Each pruned
    trajectory is plotted against its non-zero parameters, so a trajectory that follows the
    black curve walks double descent backwards.
    """
    pruning, colors = _sources(pruning)
    both = _dense_band(dense, pruning["method"].unique(), patience)
    curve, final = both[both["curve"] == "early-stopped"], both[both["curve"] == "final"]
    keys = ["method", "noise", "noise_kind", "source", "round"]
    walk = pruning.groupby(keys, observed=True, as_index=False)[["n_nonzero", "test_error"]].mean()
    curve, final = (
        curve.assign(noise_label=noise_labels(curve)),
        final.assign(noise_label=noise_labels(final)),
    )
    walk["noise_label"] = noise_labels(walk)
    return (
        ggplot(walk, aes("n_nonzero", "test_error", color="source"))
        + _dense_layers(curve, final)
        + geom_path(aes(group="source"), size=0.8)
        + geom_point(size=1.4)
        + scale_x_continuous(trans="log10")
        + scale_color_manual(values=colors)
        + facet_grid("method ~ noise_label")
        + labs(
            x="non-zero parameters (log scale)",
            y="test error",
            color="source checkpoint",
            title="Does pruning walk the dense curve backwards?",
            caption=_walk_caption(dense, pruning),
        )
        + theme_bw()
        + theme(figure_size=(4.2 * panels(pruning) + 3.5, 2.6 * pruning["method"].nunique() + 1.8))
    )


def _pruning_title(pruning: pd.DataFrame, what: str) -> str:
    """``what`` the figure shows, then the family and the scope over which masks are chosen
    (not "magnitude": a random method's row chooses at random)."""
    dataset, model = pruning["dataset"].iloc[0], pruning["model"].iloc[0]
    words = {"global": "over all layers", "layer": "per layer"}
    scope = ", ".join(words.get(s, s) for s in sorted(pruning["scope"].unique()))
    # Two lines: one line would not fit the one-metric figure (memorisation), 6.9 in wide.
    return f"{what}\n{dataset} / {model}, masks chosen {scope}"
