"""The tested comparisons of a study, paired by seed, each with its interval, exact sign-flip
p and the family it is corrected in -- the four questions the answer page asks, in order:

1. ``vs-final``: does the pruned IT model (its best round, chosen on validation) beat the
   final dense model?
2. ``vs-early-stopped``: does it beat the dense run early-stopped on validation -- the
   baseline that training less, not pruning, gives? And ``vs-best-width`` /
   ``vs-best-dense``: the dense models a user would pick on validation across widths (the
   best final model; the best with every width early-stopped alike)?
3. ``source``: is the IT a worse starting point than its neighbours and the controls at equal
   budgets (each seed's mean over the budgets both sources reach)? And ``method``: is that
   about the weights or the mask -- imp-finetune minus imp-rewind (the IT's trained weights
   against its mask alone), imp-rewind minus random-rewind (the IT's mask against a random one
   with the same per-layer counts), imp-finetune minus random (its mask with its weights
   against a random mask with them)?
4. ``walk``: do the pruned rounds lie on the dense curve of the same seed (zero gap)?

The comparison the config designates (``answer.primary``; pre-registered where its record
precedes the results, :mod:`ddprune.study.registration`) is a family of its own, tested at
``answer.alpha``; every other comparison is secondary, and Holm's correction runs over all of
them together (the family size is printed with each p). A claim is *decided* when the
corrected p is below alpha and the interval excludes zero, and then only in the interval's
direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ddprune.analysis.answer.inference import decided, holm, paired, smallest_p
from ddprune.analysis.summaries import FAMILY_KEYS
from ddprune.foundations.tables import frame

QUESTIONS = {
    "vs-final": 1,
    "vs-early-stopped": 2,
    "vs-best-width": 2,
    "vs-best-dense": 2,
    "source": 3,
    "method": 3,
    "walk": 4,
}
BASELINES = {
    "final": "vs-final",
    "early-stopped": "vs-early-stopped",
    "best-width": "vs-best-width",
    "best-dense": "vs-best-dense",
}
# (a, b, what a - b asks) for the method contrasts at the IT source
METHOD_PAIRS = (
    ("imp-finetune", "imp-rewind", "the IT's trained weights against its mask alone"),
    ("imp-rewind", "random-rewind", "the IT's mask against a random one, both rewound"),
    ("imp-finetune", "random", "the IT's mask against a random one, both with its weights"),
)


@dataclass(frozen=True)
class Primary:
    """The primary comparison: ``method`` at the IT source against ``baseline``."""

    method: str
    baseline: str  # a key of BASELINES

    @property
    def comparison(self) -> str:
        return BASELINES[self.baseline]


def source_label(role: str, width: int) -> str:
    return f"{role} w{width}"


def _by_seed(values: pd.DataFrame, statistic: str, **where: Any) -> pd.Series:
    """One statistic's per-seed values (budget 0), filtered by source keys."""
    rows = values[(values["statistic"] == statistic) & (values["budget"] == 0)]
    for key, value in where.items():
        rows = rows[rows[key] == value]
    return rows.set_index("seed")["value"]


def _at_budgets(values: pd.DataFrame, **where: Any) -> pd.DataFrame:
    """Test error at each budget, seeds x budgets, of one source and method."""
    rows = values[values["statistic"] == "test_error_at_budget"]
    for key, value in where.items():
        rows = rows[rows[key] == value]
    return rows.pivot_table(index="seed", columns="budget", values="value", aggfunc="first")


def _budget_difference(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.Series, int]:
    """Per seed, the mean of a - b over the budgets that every seed of both reaches."""
    seeds = a.index.intersection(b.index)
    common = [
        budget
        for budget in a.columns.intersection(b.columns)
        if a.loc[seeds, budget].notna().all() and b.loc[seeds, budget].notna().all()
    ]
    if not common or seeds.empty:
        return pd.Series(dtype=float), 0
    return (a.loc[seeds, common] - b.loc[seeds, common]).mean(axis=1), len(common)


def family_comparisons(values: pd.DataFrame) -> list[dict[str, Any]]:
    """Every comparison of one (dataset, model, noise) family's per-seed values: each with
    its per-seed ``differences`` (a Series by seed) and what it compares."""
    width_sources = values[values["axis"] == "width"]
    at = width_sources[width_sources["role"] == "at"]
    if at.empty:
        return []
    it_width = int(at["width"].iloc[0])
    it = source_label("at", it_width)
    methods = sorted(at["method"].unique())
    found = []

    def add(name: str, method: str, against: str, differences: pd.Series, budgets: int = 0):
        if len(differences):
            found.append(
                {
                    "comparison": name,
                    "method": method,
                    "source": it,
                    "against": against,
                    "budgets": budgets,
                    "differences": differences,
                }
            )

    for method in methods:
        mine = {"method": method, "role": "at", "axis": "width"}
        add("vs-final", method, "final dense", _by_seed(values, "delta_best", **mine))
        for name, against, statistic in (
            ("vs-early-stopped", "early-stopped dense", "delta_early_stopped"),
            ("vs-best-width", "best dense width (validation)", "delta_best_width"),
            ("vs-best-dense", "best dense width and epoch (validation)", "delta_best_dense"),
        ):
            add(name, method, against, _by_seed(values, statistic, **mine))
    for method in methods:
        mine = _at_budgets(width_sources, method=method, role="at")
        others = width_sources[
            (width_sources["method"] == method) & (width_sources["role"] != "at")
        ]
        for (role, width), _ in others.groupby(["role", "width"], sort=False):
            theirs = _at_budgets(others, role=role, width=width)
            difference, budgets = _budget_difference(mine, theirs)
            add("source", method, source_label(role, int(width)), difference, budgets)
    for a, b, _ in METHOD_PAIRS:
        if a in methods and b in methods:
            difference, budgets = _budget_difference(
                _at_budgets(at, method=a), _at_budgets(at, method=b)
            )
            add("method", a, b, difference, budgets)
    for method in methods:
        mine = {"method": method, "role": "at", "axis": "width"}
        add("walk", method, "dense curve", _by_seed(values, "walk_gap", **mine))
    return found


def comparison_table(
    values: pd.DataFrame, primary: Primary, alpha: float, level: float
) -> pd.DataFrame:
    """Every family's comparisons with their inference: the ``comparisons`` table.

    The primary comparison of each (dataset, model, noise) family is tested alone at
    ``alpha``; the rest of the study's comparisons form one secondary family, Holm-corrected.
    """
    rows = []
    if values.empty:
        return frame([], "comparisons")
    for key, group in values.groupby(["study", *FAMILY_KEYS], sort=True):
        for found in family_comparisons(group):
            d = found.pop("differences").to_numpy(dtype=float)
            is_primary = (found["comparison"], found["method"]) == (
                primary.comparison,
                primary.method,
            )
            rows.append(
                {
                    **dict(zip(["study", *FAMILY_KEYS], key, strict=True)),
                    "question": QUESTIONS[found["comparison"]],
                    **found,
                    **paired(d, level),
                    "smallest_p": smallest_p(len(d)),
                    "family": "primary" if is_primary else "secondary",
                }
            )
    table = pd.DataFrame(rows)
    if table.empty:
        return frame([], "comparisons")
    table["p_adjusted"] = table["p"]
    table["family_size"] = 1
    secondary = table["family"] == "secondary"
    table.loc[secondary, "p_adjusted"] = holm(table.loc[secondary, "p"].tolist())
    table.loc[secondary, "family_size"] = int(secondary.sum())
    table["decided"] = decided(table["p_adjusted"], table["low"], table["high"], alpha)
    table["alpha"] = alpha
    return frame(table.to_dict("records"), "comparisons")
