"""Reductions of the dense table that the figures, tables and threshold rule share."""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence

import pandas as pd

from ddprune.foundations.atomic import write_text
from ddprune.study.it_criteria import choosable_names, it_criteria
from ddprune.study.threshold_file import FamilyThreshold, ThresholdIT

# A family shares one dense curve: the sweep over width of one (dataset, model, noise rate,
# noise kind); a run is one width and seed of it.
FAMILY_KEYS = ["dataset", "model", "noise", "noise_kind"]
RUN_KEYS = ["study", "dataset", "model", "width", "noise", "noise_kind", "seed"]


def select_family(
    table: pd.DataFrame, dataset: str, model: str, name: str = "dense", allow_empty: bool = False
) -> pd.DataFrame:
    """Rows of one (dataset, model) family; unexpectedly empty is an error, not a blank plot."""
    rows = table[(table["dataset"] == dataset) & (table["model"] == model)]
    if rows.empty and not allow_empty:
        raise ValueError(f"the {name} table has no rows for dataset {dataset!r}, model {model!r}")
    return rows


def diverged_caption(table: pd.DataFrame) -> str:
    """Names the runs (or pruning rounds) that diverged and were left out -- or ''.

    Means skip the empty metrics of a diverged row anyway; the caption says so instead of
    letting a curve quietly average fewer seeds.
    """
    rows = table[table["diverged"]]
    if rows.empty:
        return ""
    where = []
    for row in rows.itertuples():
        parts = [f"width {row.width} seed {row.seed}"]
        if "method" in table.columns:
            parts.append(f"{row.method} round {row.round}")
        else:
            parts.append(f"epoch {row.epoch}")
        where.append(" ".join(parts))
    return f"Left out, diverged (loss not finite): {'; '.join(where)}"


def without_diverged_runs(dense: pd.DataFrame) -> pd.DataFrame:
    """The dense rows of runs that never diverged (a diverged run's earlier rows included)."""
    bad = dense.groupby(RUN_KEYS)["diverged"].transform("any")
    return dense[~bad]


def final_rows(dense: pd.DataFrame) -> pd.DataFrame:
    """The last evaluation of every run (runs may stop early once they fit the data)."""
    last = dense.groupby(RUN_KEYS, sort=True)["epoch"].transform("max")
    return dense[dense["epoch"] == last].reset_index(drop=True)


def epoch_means(dense: pd.DataFrame, value: str = "test_error") -> pd.DataFrame:
    """Seed mean of ``value`` per (noise, noise kind, width) at every evaluation epoch.

    A run that stopped early (it fit its training labels) keeps its last value for the
    remaining epochs: the model no longer changes. A run that diverged is left out whole (its
    last value must not be carried forward). Shared by the epoch-wise heatmap and the
    epoch-wise threshold, so the two always agree.
    """
    runs = without_diverged_runs(dense).pivot_table(
        index="epoch",
        columns=["noise", "noise_kind", "width", "seed"],
        values=value,
        aggfunc="first",
    )
    means = runs.sort_index().ffill().T.groupby(level=["noise", "noise_kind", "width"]).mean().T
    return means.melt(ignore_index=False, value_name=value).reset_index()


def final_summary(dense: pd.DataFrame) -> pd.DataFrame:
    """Seed mean and standard deviation of the final metrics per family and width; for
    classification, errors and memorisation in percent (the unit of the answer's tables)."""
    final = final_rows(dense)
    grouped = final.groupby([*FAMILY_KEYS, "width"], sort=True)
    table = grouped.agg(
        n_params=("n_params", "first"),
        seeds=("seed", "nunique"),
        epochs=("epoch", "mean"),
        val_error=("val_error", "mean"),
        test_error=("test_error", "mean"),
        test_error_sd=("test_error", "std"),
        test_loss=("test_loss", "mean"),
        train_error=("train_error", "mean"),
        train_error_clean=("train_error_clean", "mean"),
        memorization=("memorization", "mean"),
        diverged=("diverged", "sum"),
    )
    if (final["error_metric"] != "classification_error").any():  # mean squared errors
        return table.reset_index()
    percent = ["val_error", "test_error", "test_error_sd", "train_error", "train_error_clean"]
    table[[*percent, "memorization"]] *= 100
    names = {name: f"{name} (%)" for name in [*percent, "memorization"]}
    return table.reset_index().rename(columns=names)


def html_number(value: float) -> str:
    """A float as a table shows it: whole numbers without decimals (``600``, ``38,410``: epochs
    and counts averaged over seeds), others to four significant digits (``0.2681``)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:.4g}"


def write_html(
    table: pd.DataFrame,
    path: str | os.PathLike,
    title: str,
    paragraphs: list[str] = (),
    more: list[tuple[str, pd.DataFrame]] = (),
) -> None:
    """A self-contained HTML page: ``paragraphs`` of text, then ``table``, then each of
    ``more`` under its heading (numbers by :func:`html_number`)."""

    def html_table(frame: pd.DataFrame) -> str:
        return frame.to_html(index=False, float_format=html_number, border=0)

    body = html_table(table) + "".join(
        f"<h3>{html.escape(heading)}</h3>{html_table(frame)}" for heading, frame in more
    )
    text = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    style = (
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
        "td,th{padding:.25em .7em;text-align:right;border-bottom:1px solid #ddd}"
        "p{max-width:60em;line-height:1.4}"
    )
    write_text(
        path,
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{style}</style></head><body><h2>{html.escape(title)}</h2>{text}{body}"
        "</body></html>\n",
    )


def _agreement(it: ThresholdIT, criteria: Mapping[str, Mapping]) -> str:
    """Whether every criterion that may choose the IT has an answer within one grid step of
    it, and if not, which has none or lies further (the oracles do not count)."""
    if not it.ok:
        return ""
    choosable = choosable_names()
    missing = [f"{name}: no answer" for name in choosable if criteria[name]["status"] != "ok"]
    far = [
        f"{name}: {steps} grid steps away"
        for name, steps in it.grid_steps_from_it.items()
        if steps > 1 and name in choosable
    ]
    return "; ".join(["no", *missing, *far]) if missing or far else "yes, within one grid step"


def threshold_table(families: Sequence[FamilyThreshold]) -> pd.DataFrame:
    """One row per family: the chosen IT, every criterion and the selection, for the report."""

    def describe(criterion: dict, *fields: str) -> str:
        if criterion["status"] != "ok":
            return f"{criterion['status']}: {criterion.get('reason', '')}"
        text = ", ".join(f"{f} {number(criterion[f])}" for f in fields if f in criterion)
        return f"{text} (95% bootstrap {interval(criterion.get('bootstrap', {}))})"

    def number(value: float) -> str:
        return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"

    def interval(boot: dict) -> str:
        return (
            f"{boot['low']}-{boot['high']}"
            if boot.get("status") == "ok"
            else boot.get("status", "not computed")
        )

    rows = []
    for family in families:
        it, criteria = family.it, family.criteria
        roles: dict[str, list[int]] = {}
        for entry in family.selection:
            if entry.axis != "width":
                continue
            roles.setdefault(entry.role, [])
            if entry.width not in roles[entry.role]:
                roles[entry.role].append(entry.width)
        rows.append(
            {
                "dataset": family.dataset,
                "model": family.model,
                "noise": family.noise,
                "noise kind": family.noise_kind,
                "IT width": it.width if it.ok else "undefined",
                "IT criterion": it.criterion + (" (fallback)" if it.fallback_used else ""),
                "95% bootstrap": interval(it.bootstrap),
                "criteria agree": _agreement(it, criteria),
                **{
                    c.column: describe(criteria[c.name], *c.details)
                    for c in sorted(it_criteria(), key=lambda c: not c.choosable)
                },
                "epoch-wise peak": _epochwise_text(family.epochwise),
                "selected widths": "; ".join(
                    f"{r} {', '.join(map(str, w))}" for r, w in roles.items()
                ),
                "notes": "; ".join(family.notes),
            }
        )
    return pd.DataFrame(rows)


def _epochwise_text(epochwise: dict | None) -> str:
    if not epochwise:
        return "not requested"
    if epochwise["status"] != "ok":
        return f"width {epochwise.get('width')}: {epochwise['status']} ({epochwise['reason']})"
    return (
        f"width {epochwise['width']}: epoch {epochwise['epoch']}, height "
        f"{epochwise['height']:.4g}, prominence {epochwise['prominence']:.4g}"
    )
