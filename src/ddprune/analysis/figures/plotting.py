"""What every figure shares: log-2 width axes, IT lines, selection rings, captions, saving."""

from __future__ import annotations

import math
import os
import textwrap

import pandas as pd
from plotnine import (
    aes,
    geom_point,
    geom_text,
    geom_vline,
    ggplot,
    scale_linetype_manual,
    scale_shape_manual,
    theme,
    theme_void,
)

from ddprune.catalog import DEFAULT_NOISE_KIND
from ddprune.foundations.atomic import atomic_path
from ddprune.study.it_criteria import IT_CRITERIA, it_criteria
from ddprune.study.threshold_file import FamilyThreshold


def log2_breaks(limits: tuple[float, float]) -> list[float]:
    """Powers of two covering ``limits``; at least two, so a single-width sweep still plots."""
    low, high = (math.log2(v) for v in limits)
    exponents = range(math.floor(low + 1e-9), math.ceil(high - 1e-9) + 1)
    breaks = [2.0**e for e in exponents]
    return breaks if len(breaks) > 1 else [breaks[0] / 2, breaks[0], breaks[0] * 2]


def integer_labels(breaks: list[float]) -> list[str]:
    return [f"{b:g}" for b in breaks]


# The criteria that may choose the IT (the test curves' oracle peaks are in the threshold
# table, not drawn: a line there would read as a choice).
SHAPES = {"before": "v", "at": "o", "after": "^", "control": "s"}


def rings(x: str, y: str, data: pd.DataFrame, color: str) -> list:
    """Hollow markers, one shape per role, for the checkpoints selected around the IT."""
    return [
        geom_point(
            aes(x, y, shape="role"),
            data=data,
            color=color,
            fill="none",
            size=4.5,
            stroke=0.9,
            inherit_aes=False,
        ),
        scale_shape_manual(values=SHAPES),
    ]


def noise_label(noise: float, kind: str) -> str:
    """``label noise 20%``, and the kind where it is not the default (``symmetric ...``)."""
    name = "label noise" if kind == DEFAULT_NOISE_KIND else f"{kind} label noise"
    return f"{name} {noise:.0%}"


def panels(table: pd.DataFrame) -> int:
    """How many noise panels a figure of ``table`` draws: one per (noise, noise kind)."""
    return len(table[["noise", "noise_kind"]].drop_duplicates())


def noise_labels(table: pd.DataFrame) -> pd.Series:
    """:func:`noise_label` of every row (its ``noise`` and ``noise_kind``)."""
    pairs = zip(table["noise"], table["noise_kind"], strict=True)
    return pd.Series([noise_label(*pair) for pair in pairs], index=table.index, dtype=object)


def it_lines(families: list[FamilyThreshold]) -> list:
    """A vertical line per IT criterion that has an answer, one line type per criterion
    (on a log width axis)."""
    markers = pd.DataFrame(
        [
            {
                "noise_label": noise_label(family.noise, family.noise_kind),
                "width": criterion["width"],
                "criterion": IT_CRITERIA[name].label,
            }
            for family in families
            for name, criterion in family.criteria.items()
            if criterion["status"] == "ok" and IT_CRITERIA[name].linetype
        ],
        columns=["noise_label", "width", "criterion"],
    )
    if markers.empty:
        return []
    # Criteria that agree would draw one line over another (a dotted line vanishes on a solid
    # one): side by side instead, 4% apart on the log width axis, centred on their width.
    group = markers.groupby(["noise_label", "width"])["criterion"]
    rank, count = group.cumcount(), group.transform("size")
    markers["x"] = markers["width"] * 1.04 ** (rank - (count - 1) / 2)
    return [
        geom_vline(aes(xintercept="x", linetype="criterion"), data=markers, color="#444444"),
        scale_linetype_manual(values={c.label: c.linetype for c in it_criteria() if c.linetype}),
    ]


def message(text: str) -> ggplot:
    """A figure that says why there is nothing to draw, instead of an empty or missing file."""
    frame = pd.DataFrame({"x": [0.0], "y": [0.0], "label": [textwrap.fill(text, 60)]})
    return (
        ggplot(frame, aes("x", "y", label="label"))
        + geom_text(size=11)
        + theme_void()
        + theme(figure_size=(7, 2.5))
    )


def wrap_caption(text: str, figure_width: float) -> str:
    """``text`` broken into lines that fit a figure ``figure_width`` inches wide (plotnine
    right-aligns a caption and lets a long line run off the figure's left edge)."""
    return "\n".join(textwrap.wrap(text, width=int(12 * figure_width)))


def save(figure: ggplot, path: str | os.PathLike, dpi: int = 150) -> None:
    """Save atomically; the format follows the file's extension (png, svg, pdf). A figure
    that grows past plotnine's 25-inch limit (many methods and noise levels) is still
    drawn: a large figure beats a failed study."""
    suffix = os.path.splitext(os.fspath(path))[1].lstrip(".")
    with atomic_path(path) as tmp:
        figure.save(tmp, format=suffix, dpi=dpi, verbose=False, limitsize=False)
