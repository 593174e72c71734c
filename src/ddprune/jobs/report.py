"""Jobs that aggregate tables and draw the report: figures and HTML tables. Torch-free (a
test keeps them so): they read Parquet and YAML, and plot."""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from plotnine import ggplot

from ddprune.analysis import summaries
from ddprune.analysis.answer.comparisons import Primary, comparison_table
from ddprune.analysis.answer.dense_references import weight_decay_choices
from ddprune.analysis.answer.page import DECIDED, METHOD, inference_table, page_table, sentences
from ddprune.analysis.answer.statistics import answer_table, per_seed_values, stop_patience
from ddprune.analysis.figures import dense as dense_figures
from ddprune.analysis.figures import plotting
from ddprune.analysis.figures import pruning as pruning_figures
from ddprune.analysis.figures.answer import answer_figure as answer_drawing
from ddprune.analysis.figures.answer import by_noise as by_noise_drawing
from ddprune.catalog import CLOSED_FORM_MODELS, PRUNING_FIGURES
from ddprune.closed_form import claims
from ddprune.closed_form.figures import prune_vs_small
from ddprune.closed_form.theory import theory_curve
from ddprune.foundations.atomic import write_text
from ddprune.foundations.tables import concat_tables, frame, read_table, write_table
from ddprune.study.paths import PathLike
from ddprune.study.registration import Registration, load_registration, register
from ddprune.study.runs import Study
from ddprune.study.threshold_file import FamilyThreshold, ThresholdDocument, load_threshold

NOTHING_PRUNED = (
    "Nothing was pruned: no checkpoint was selected, because the interpolation threshold is "
    "undefined (see tables/thresholds.html for each criterion's status)."
)


def aggregate(inputs: list[PathLike], output: PathLike, table: str) -> None:
    """Concatenate per-job tables of one schema (``table``) into the study's table."""
    write_table(concat_tables(inputs, table), output, table)


@dataclass(frozen=True)
class Family:
    """The rows of one (dataset, model) family in the tables a figure draws from: ``files``
    holds the rule's inputs by name (``dense``, ``threshold``, ``pruning``, ``compression``);
    each is read once, when first used."""

    study: Study
    dataset: str
    model: str
    files: Mapping[str, PathLike]

    def rows(self, table: str) -> pd.DataFrame:
        return summaries.select_family(
            read_table(self.files[table], table), self.dataset, self.model, table, allow_empty=True
        )

    @functools.cached_property
    def dense(self) -> pd.DataFrame:
        return self.rows("dense")

    @functools.cached_property
    def pruning(self) -> pd.DataFrame:
        return self.rows("pruning")

    @functools.cached_property
    def compression(self) -> pd.DataFrame:
        return self.rows("compression")

    @functools.cached_property
    def thresholds(self) -> list[FamilyThreshold]:
        """The family's entries of threshold.yaml (one per noise level)."""
        return load_threshold(self.files["threshold"]).of(self.dataset, self.model)

    def theory(self) -> pd.DataFrame | None:
        """The closed-form risk curve where it holds (None elsewhere)."""
        widths = sorted(self.dense["width"].unique().tolist())
        curve = theory_curve(self.dataset, self.study.dataset_options(self.dataset), widths)
        return curve and pd.DataFrame(curve)


DRAW: dict[str, Callable[[Family], ggplot]] = {
    "double_descent": lambda f: dense_figures.double_descent(f.dense, f.thresholds, f.theory()),
    "epochwise_heatmap": lambda f: dense_figures.epochwise_heatmap(f.dense, f.thresholds),
    "prune_vs_small": lambda f: prune_vs_small(f.compression),
    "sparse_double_descent": lambda f: pruning_figures.pruning_curves(
        f.pruning, ["test_error", "train_error"]
    ),
    "memorization": lambda f: pruning_figures.pruning_curves(f.pruning, ["memorization"]),
    "backwards_walk": lambda f: pruning_figures.backwards_walk(
        f.dense, f.pruning, stop_patience(f.study.prune)
    ),
}


def figure(
    study: Study,
    kind: str,
    dataset: str,
    model: str,
    inputs: Mapping[str, PathLike],
    output: PathLike,
) -> None:
    """Draw figure ``kind`` of one (dataset, model) family from the tables it needs
    (``inputs``, by table name) into ``output``."""
    family = Family(study, dataset, model, inputs)
    if kind in PRUNING_FIGURES and family.pruning.empty:
        drawing = plotting.message(NOTHING_PRUNED)
    else:
        drawing = DRAW[kind](family)
    plotting.save(drawing, output)


def dense_summary(dense: PathLike, output: PathLike, dataset: str, model: str) -> None:
    """Write the seed-mean final metrics of one model family as an HTML table."""
    table = read_table(dense, "dense")
    rows = summaries.select_family(table, dataset, model, "dense", allow_empty=True)
    summaries.write_html(
        summaries.final_summary(rows), output, title=f"Dense sweep: {dataset} / {model}"
    )


def answer(
    study: Study,
    *,
    dense: PathLike,
    threshold: PathLike,
    pruning: PathLike | None,
    answer: PathLike,
    comparisons: PathLike,
    registration: PathLike | None = None,
    tuning: PathLike | None = None,
) -> None:
    """Every statistic of every pruned source, summarised over seeds (``answer``), and the
    tested comparisons (``comparisons``), from the same per-seed values; ``pruning`` is None
    when the study prunes nothing, ``tuning`` when it tunes no dense baseline. A study whose
    config departs from its ``registration`` (where it has one) refuses to answer."""
    if registration is not None and Path(registration).exists():
        register(registration, study)
    prune, config = study.prune, study.answer
    dense_rows = read_table(dense, "dense")
    tuned = None
    if tuning:
        tuned = weight_decay_choices(
            dense_rows, read_table(tuning, "tuning"), study.train.weight_decay, stop_patience(prune)
        )
    values = per_seed_values(
        dense_rows,
        read_table(pruning, "pruning") if pruning else frame([], "pruning"),
        load_threshold(threshold).families,
        study.threshold.interpolation_tolerance,
        prune,
        tuned,
    )
    write_table(answer_table(values, config.level), answer, "answer")
    primary = Primary(**config.primary)
    tested = comparison_table(values, primary, config.alpha, config.level, config.margin)
    write_table(tested, comparisons, "comparisons")


def compression_claims(study: Study, compression: PathLike, output: PathLike) -> None:
    """Chang et al.'s claims, tested per closed-form regime (``compression_claims``)."""
    config = study.answer
    table = claims.claim_table(read_table(compression, "compression"), config.alpha, config.level)
    write_table(frame(table.to_dict("records"), "compression_claims"), output, "compression_claims")


@dataclass(frozen=True)
class AnswerTables:
    """What the answer's page says, read once: the ``answer`` and ``comparisons`` tables,
    the threshold document, and the closed-form regimes' ``compression`` rows and tested
    ``claims`` (None in a study without closed-form models)."""

    answer: pd.DataFrame
    comparisons: pd.DataFrame
    threshold: ThresholdDocument
    compression: pd.DataFrame | None = None
    claims: pd.DataFrame | None = None
    registration: Registration | None = None

    @classmethod
    def read(
        cls,
        answer: PathLike,
        comparisons: PathLike,
        threshold: PathLike,
        compression: PathLike | None = None,
        claims: PathLike | None = None,
        registration: PathLike | None = None,
    ) -> AnswerTables:
        registered = registration is not None and Path(registration).exists()
        return cls(
            answer=read_table(answer, "answer"),
            comparisons=read_table(comparisons, "comparisons"),
            threshold=load_threshold(threshold),
            compression=read_table(compression, "compression") if compression else None,
            claims=read_table(claims, "compression_claims") if claims else None,
            registration=load_registration(registration) if registered else None,
        )


def _nothing_pruned(study: Study, family: FamilyThreshold) -> str:
    """Why a family of the threshold stage has no pruned trajectory."""
    if not study.prune.methods:
        return "nothing was pruned: prune.methods is empty."
    if not family.it.ok:
        return NOTHING_PRUNED
    return "no source was pruned below its size (are prune.budgets all above it?)."


def answer_paragraphs(study: Study, tables: AnswerTables) -> list[str]:
    """The answer's four questions per (dataset, model, noise), generated from its ``answer``
    and ``comparisons`` tables, then how to read them: the page's text, also what
    ``ddprune answer`` prints."""
    trained = [f for f in tables.threshold.families if f.model not in CLOSED_FORM_MODELS]
    registration = tables.registration
    paragraphs = [registration.quote()] if registration else []
    if trained:
        primary = study.answer.primary["method"]
        nothing = functools.partial(_nothing_pruned, study)
        kind = registration.kind if registration else "designated"
        found = sentences(tables.answer, tables.comparisons, trained, primary, nothing, kind)
        paragraphs += [*found, DECIDED, METHOD]
    if tables.claims is not None:
        paragraphs += claims.sentences(tables.compression, tables.claims)
        paragraphs.append(claims.METHOD)
    return paragraphs


def answer_page(
    study: Study,
    tables: AnswerTables,
    *,
    figure: PathLike,
    template: PathLike,
    page: PathLike,
    landing: PathLike,
) -> None:
    """The answer first: four questions per (dataset, model, noise), then the tests and the
    numbers they come from (``page``); and the report's first page (``landing``), the
    workflow description (``template``, a Jinja/rst file the report renders) after the same
    sentences and the answer's ``figure``, so that a reader lands on the answer."""
    table, tested = tables.answer, tables.comparisons
    paragraphs = answer_paragraphs(study, tables)
    more = []
    if len(table):
        more.append(("Every source and method, in points", page_table(table, study.prune.budgets)))
    if tables.claims is not None:
        more.append(("Chang et al.'s claims: every contrast", claims.page_table(tables.claims)))
    summaries.write_html(
        inference_table(tested) if len(tested) else pd.DataFrame(),
        page,
        title=f"The answer: pruning around the interpolation threshold ({study.name})",
        paragraphs=paragraphs,
        more=more,
    )
    shown = Path(figure) if len(table) else None
    write_text(landing, landing_page(Path(template).read_text(), paragraphs, shown))


# Snakemake's report shows the landing page in a scrolling flex box that centres its content
# vertically (``items-center``): a page taller than the window starts above its top, where no
# scrolling reaches (the heading "The answer" sat at y = -1,240 px at 1,400 x 900), and in a
# column 32 rem wide. A style element inside the page (raw HTML, which docutils passes on and
# the browser applies) starts it at the top and widens the column.
LANDING_STYLE = """\
.. raw:: html

   <style>
   div.grow.flex.items-center.justify-center.h-screen.overflow-auto { align-items: flex-start; }
   div.prose.max-w-lg { max-width: 56rem; }
   </style>
"""


def landing_page(about: str, paragraphs: list[str], figure: Path | None) -> str:
    """The report's first page (reStructuredText): the answer -- its figure, embedded, and
    its sentences -- then ``about``, what the report is. The figure travels inside the text
    (a data URI) because the page is the workflow description, which links no files."""
    lines = [LANDING_STYLE, "The answer", "==========", ""]
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


def answer_figure(answer: PathLike, output: PathLike) -> None:
    """Δ and the backwards-walk gap with their intervals, a panel per family and noise."""
    table = read_table(answer, "answer")
    drawing = answer_drawing(table) if len(table) else plotting.message(NOTHING_PRUNED)
    plotting.save(drawing, output)


def noise_figure(study: Study, comparisons: PathLike, output: PathLike) -> None:
    """The primary method's Δ at the IT against each dense baseline, by noise level."""
    tested = read_table(comparisons, "comparisons")
    method = study.answer.primary["method"]
    mine = tested[tested["method"] == method] if len(tested) else tested
    drawing = by_noise_drawing(mine, method) if len(mine) else plotting.message(NOTHING_PRUNED)
    plotting.save(drawing, output)


def recovery_table(
    study: Study, answer: PathLike, output: PathLike, dataset: str, model: str
) -> None:
    """Does pruning help each source checkpoint of one family? The answer's rows, in points."""
    table = summaries.select_family(
        read_table(answer, "answer"), dataset, model, "answer", allow_empty=True
    )
    summaries.write_html(
        page_table(table, study.prune.budgets)
        if len(table)
        else pd.DataFrame({"": [NOTHING_PRUNED]}),
        output,
        title=f"Recovery after pruning: {dataset} / {model}",
        paragraphs=[METHOD],
    )


def threshold_table(threshold: PathLike, output: PathLike) -> None:
    """The thresholds of every family as an HTML table for the report."""
    summaries.write_html(
        summaries.threshold_table(load_threshold(threshold).families),
        output,
        title="Interpolation thresholds and selected checkpoints",
    )
