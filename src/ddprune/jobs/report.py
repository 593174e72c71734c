"""Jobs that aggregate tables and draw the report: figures and HTML tables. Torch-free (a
test keeps them so): they read Parquet and YAML, and plot."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from plotnine import ggplot

from ddprune.analysis import compression_claims as claims
from ddprune.analysis import dense_figures, plotting, pruning_figures, summaries
from ddprune.analysis.answer import answer_table, per_seed_values
from ddprune.analysis.answer_page import DECIDED, METHOD, inference_table, page_table, sentences
from ddprune.analysis.answer_page import answer_figure as answer_drawing
from ddprune.analysis.answer_page import by_noise as by_noise_drawing
from ddprune.analysis.comparisons import Primary, comparison_table
from ddprune.analysis.theory import theory_curve
from ddprune.catalog import CLOSED_FORM_MODELS, PRUNING_FIGURES
from ddprune.foundations.atomic import write_text
from ddprune.foundations.tables import concat_tables, frame, read_table, write_table
from ddprune.study.hparams import PruneConfig
from ddprune.study.paths import Layout, PathLike
from ddprune.study.pruning_methods import PRUNE_METHODS
from ddprune.study.runs import Study
from ddprune.study.threshold_file import load_threshold

NOTHING_PRUNED = (
    "Nothing was pruned: no checkpoint was selected, because the interpolation threshold is "
    "undefined (see tables/thresholds.html for each criterion's status)."
)


def aggregate(inputs: list[PathLike], output: PathLike, table: str) -> None:
    """Concatenate per-job tables of one schema (``table``) into the study's table."""
    write_table(concat_tables(inputs, table), output, table)


@dataclass(frozen=True)
class Family:
    """The rows of one (dataset, model) family in each of the study's tables, read on use."""

    study: Study
    layout: Layout
    dataset: str
    model: str

    def rows(self, path: str, table: str) -> pd.DataFrame:
        return summaries.select_family(
            read_table(path, table), self.dataset, self.model, table, allow_empty=True
        )

    def file(self, pattern: str) -> str:
        return pattern.format(dataset=self.dataset, model=self.model)

    @functools.cached_property
    def dense(self) -> pd.DataFrame:
        return self.rows(self.layout.dense, "dense")

    @functools.cached_property
    def pruning(self) -> pd.DataFrame:
        return self.rows(self.layout.pruning, "pruning")

    @functools.cached_property
    def compression(self) -> pd.DataFrame:
        return self.rows(self.layout.compression, "compression")

    @functools.cached_property
    def thresholds(self) -> list[dict[str, Any]]:
        """The family's entries of threshold.yaml (one per noise level)."""
        families = load_threshold(self.layout.threshold)["families"]
        return [f for f in families if (f["dataset"], f["model"]) == (self.dataset, self.model)]

    def theory(self) -> pd.DataFrame | None:
        """The closed-form risk curve where it holds (None elsewhere)."""
        widths = sorted(self.dense["width"].unique().tolist())
        curve = theory_curve(self.dataset, self.study.dataset_options(self.dataset), widths)
        return curve and pd.DataFrame(curve)


DRAW: dict[str, Callable[[Family], ggplot]] = {
    "double_descent": lambda f: dense_figures.double_descent(f.dense, f.thresholds, f.theory()),
    "epochwise_heatmap": lambda f: dense_figures.epochwise_heatmap(f.dense, f.thresholds),
    "prune_vs_small": lambda f: dense_figures.prune_vs_small(f.compression),
    "sparse_double_descent": lambda f: pruning_figures.pruning_curves(
        f.pruning, ["test_error", "train_error"]
    ),
    "memorization": lambda f: pruning_figures.pruning_curves(f.pruning, ["memorization"]),
    "backwards_walk": lambda f: pruning_figures.backwards_walk(f.dense, f.pruning),
}


def figure(study: Study, layout: Layout, kind: str, dataset: str, model: str) -> None:
    """Draw figure ``kind`` of one (dataset, model) family from the tables it needs."""
    family = Family(study, layout, dataset, model)
    if kind in PRUNING_FIGURES and family.pruning.empty:
        drawing = plotting.message(NOTHING_PRUNED)
    else:
        drawing = DRAW[kind](family)
    plotting.save(drawing, family.file(layout.figure(kind)))


def dense_summary(study: Study, layout: Layout, dataset: str, model: str) -> None:
    """Write the seed-mean final metrics of one model family as an HTML table."""
    family = Family(study, layout, dataset, model)
    summaries.write_html(
        summaries.final_summary(family.dense),
        family.file(layout.family_table("dense_summary")),
        title=f"Dense sweep: {dataset} / {model}",
    )


def answer(study: Study, layout: Layout) -> None:
    """Every statistic of every pruned source, summarised over seeds (``answer.parquet``),
    and the tested comparisons (``comparisons.parquet``), from the same per-seed values."""
    prune, config = study.prune, study.answer
    values = per_seed_values(
        read_table(layout.dense, "dense"),
        read_table(layout.pruning, "pruning") if prune.methods else frame([], "pruning"),
        load_threshold(layout.threshold)["families"],
        study.threshold.interpolation_tolerance,
        same_budget_epochs(prune),
    )
    write_table(answer_table(values, config.level), layout.answer, "answer")
    primary = Primary(**config.primary)
    tested = comparison_table(values, primary, config.alpha, config.level)
    write_table(tested, layout.comparisons, "comparisons")


def compression_claims(study: Study, layout: Layout) -> None:
    """Chang et al.'s claims, tested per closed-form regime (``compression_claims.parquet``)."""
    compression = read_table(layout.compression, "compression")
    config = study.answer
    table = claims.claim_table(compression, config.alpha, config.level)
    write_table(
        frame(table.to_dict("records"), "compression_claims"),
        layout.compression_claims,
        "compression_claims",
    )


def same_budget_epochs(prune: PruneConfig) -> dict[str, int]:
    """The epoch of the dense run that a rewinding method's round matches in training: it
    retrains ``prune.epochs`` from ``prune.rewind_epoch`` (other methods continue from the
    dense checkpoint, past the dense run's end: they get no same-budget control)."""
    return {
        name: prune.rewind_epoch + prune.epochs
        for name in prune.methods
        if PRUNE_METHODS[name].start == "rewind"
    }


def _nothing_pruned(study: Study, family: dict[str, Any]) -> str:
    """Why a family of the threshold stage has no pruned trajectory."""
    if not study.prune.methods:
        return "nothing was pruned: prune.methods is empty."
    if family["it"]["status"] != "ok":
        return NOTHING_PRUNED
    return "no source was pruned below its size (are prune.budgets all above it?)."


def answer_paragraphs(
    study: Study, layout: Layout, table: pd.DataFrame, tested: pd.DataFrame
) -> list[str]:
    """The answer's four questions per (dataset, model, noise), generated from its ``answer``
    and ``comparisons`` tables, then how to read them: the page's text, also what
    ``ddprune answer`` prints."""
    families = load_threshold(layout.threshold)["families"]
    trained = [f for f in families if f["model"] not in CLOSED_FORM_MODELS]
    paragraphs = []
    if trained:
        primary = study.answer.primary["method"]
        nothing = functools.partial(_nothing_pruned, study)
        paragraphs += [*sentences(table, tested, trained, primary, nothing), DECIDED, METHOD]
    if study.solved_families:
        paragraphs += claims.sentences(
            read_table(layout.compression, "compression"),
            read_table(layout.compression_claims, "compression_claims"),
        )
        paragraphs.append(claims.METHOD)
    return paragraphs


def answer_page(study: Study, layout: Layout, template: PathLike) -> None:
    """The answer first: four questions per (dataset, model, noise), then the tests and the
    numbers they come from; and the report's first page, the workflow description
    (``template``, a Jinja/rst file the report renders) followed by the same sentences, so
    that a reader lands on the answer."""
    table = read_table(layout.answer, "answer")
    tested = read_table(layout.comparisons, "comparisons")
    paragraphs = answer_paragraphs(study, layout, table, tested)
    more = []
    if len(table):
        more.append(("Every source and method, in points", page_table(table, study.prune.budgets)))
    if study.solved_families:
        tested_claims = read_table(layout.compression_claims, "compression_claims")
        more.append(("Chang et al.'s claims: every contrast", claims.page_table(tested_claims)))
    summaries.write_html(
        inference_table(tested) if len(tested) else pd.DataFrame(),
        layout.answer_page,
        title=f"The answer: pruning around the interpolation threshold ({study.name})",
        paragraphs=paragraphs,
        more=more,
    )
    figure = Path(layout.answer_figure) if len(table) else None
    write_text(layout.landing, landing_page(Path(template).read_text(), paragraphs, figure))


def landing_page(about: str, paragraphs: list[str], figure: Path | None) -> str:
    """The report's first page (reStructuredText): the answer -- its figure, embedded, and
    its sentences -- then ``about``, what the report is. The figure travels inside the text
    (a data URI) because the page is the workflow description, which links no files."""
    lines = ["The answer", "==========", ""]
    if figure is not None:
        # docutils refuses lines over 10,000 characters; a URI's lines are joined back.
        uri = "data:image/png;base64," + base64.b64encode(figure.read_bytes()).decode()
        lines += [".. image::", *("   " + uri[i : i + 76] for i in range(0, len(uri), 76))]
        lines += ["   :width: 100%", ""]
    for paragraph in paragraphs:
        text = paragraph.replace("\\", "\\\\").replace("*", "\\*")
        lines += ["\\" + text if text.startswith("(") else text, ""]  # "(2) ..." is no list
    lines += ["About this report", "=================", "", about.strip(), ""]
    return "\n".join(lines)


def answer_figure(study: Study, layout: Layout) -> None:
    """Δ and the backwards-walk gap with their intervals, a panel per family and noise."""
    table = read_table(layout.answer, "answer")
    drawing = answer_drawing(table) if len(table) else plotting.message(NOTHING_PRUNED)
    plotting.save(drawing, layout.answer_figure)


def noise_figure(study: Study, layout: Layout) -> None:
    """The primary method's Δ at the IT against each dense baseline, by noise level."""
    tested = read_table(layout.comparisons, "comparisons")
    method = study.answer.primary["method"]
    mine = tested[tested["method"] == method] if len(tested) else tested
    drawing = by_noise_drawing(mine, method) if len(mine) else plotting.message(NOTHING_PRUNED)
    plotting.save(drawing, layout.noise_figure)


def recovery_table(study: Study, layout: Layout, dataset: str, model: str) -> None:
    """Does pruning help each source checkpoint of one family? The answer's rows, in points."""
    table = summaries.select_family(
        read_table(layout.answer, "answer"), dataset, model, "answer", allow_empty=True
    )
    summaries.write_html(
        page_table(table, study.prune.budgets)
        if len(table)
        else pd.DataFrame({"": [NOTHING_PRUNED]}),
        layout.family_table("recovery").format(dataset=dataset, model=model),
        title=f"Recovery after pruning: {dataset} / {model}",
        paragraphs=[METHOD],
    )


def threshold_table(layout: Layout) -> None:
    """The thresholds of every family as an HTML table for the report."""
    families = load_threshold(layout.threshold)["families"]
    summaries.write_html(
        summaries.threshold_table(families),
        layout.threshold_table,
        title="Interpolation thresholds and selected checkpoints",
    )
