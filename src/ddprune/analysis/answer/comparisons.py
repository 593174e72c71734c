"""The tested comparisons of a study, paired by seed, and the plan that tests them -- the four
questions the answer page asks, in order:

1. ``fixed-budget``: does the pruned IT model beat the final dense model when neither is
   early-stopped -- its fixed-budget twin (``<method>-fixed``: every round trained to its full
   budget, the best round chosen on validation) against the dense run trained to its own?
   ``vs-final``: the early-stopped pruned model against the same final dense model (unequal
   footing: one side early-stopped, the other not).
2. ``vs-early-stopped``: does it beat the dense run early-stopped on validation -- the
   baseline that training less, not pruning, gives? And ``vs-best-width`` /
   ``vs-best-dense``: the dense models a user would pick on validation across widths (the
   best final model; the best with every width early-stopped alike)? And
   ``vs-weight-decay``: the IT width's dense run regularised instead, its weight decay (and
   epoch) chosen on validation?
3. ``source``: is the IT a worse starting point than its neighbours and the controls at equal
   budgets (each seed's mean over the budgets both sources reach)? And ``method``: is that
   about the weights or the mask -- imp-finetune minus imp-rewind (the IT's trained weights
   against its mask alone), imp-rewind minus random-rewind (the IT's mask against a random one
   with the same per-layer counts), imp-finetune minus random (its mask with its weights
   against a random mask with them)?
4. ``walk``: do the pruned rounds lie on the dense curve of the same seed (zero gap)?

The plan, per (dataset, model, noise) family, each part at ``answer.alpha``:

- **primary**: the comparison the config designates (``answer.primary``; pre-registered
  where its record precedes the results, :mod:`ddprune.study.registration`), tested alone.
- **sequence**: every other comparison of the primary method (and the method contrasts),
  tested for a difference in the questions' order by the fixed-sequence procedure: a
  comparison is decided only if every one before it was, and the first that is not stops
  the sequence. Holm over one flat family made every secondary undecidable by arithmetic
  (2/2^6 times 22 is far above 0.05); the order the page asks its questions in earns the
  power instead.
- **equivalence**: the comparisons whose "no" would be a claim of no difference -- pruning
  against early stopping, the IT against its neighbours, its mask against a random one, the
  walk -- tested for equivalence within ``answer.margin`` (two one-sided sign-flip tests):
  the primary alone, beside its difference test; the others in the same order, again as a
  fixed sequence. A non-rejection is never read as "no difference".
- **exploratory**: the other methods' comparisons, reported with their uncorrected p and
  never decided.

A difference is decided in the direction of the sign-flip interval, which excludes zero
exactly when the test rejects (:class:`ddprune.analysis.answer.inference.SignFlip`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ddprune.analysis.answer.inference import (
    DECIDED,
    NOT_DECIDED,
    SignFlip,
    fixed_sequence,
    paired,
    smallest_p,
)
from ddprune.analysis.summaries import FAMILY_KEYS
from ddprune.foundations.tables import frame
from ddprune.study.pruning_methods import FIXED

QUESTIONS = {
    "fixed-budget": 1,
    "vs-final": 1,
    "vs-early-stopped": 2,
    "vs-best-width": 2,
    "vs-best-dense": 2,
    "vs-weight-decay": 2,
    "source": 3,
    "method": 3,
    "walk": 4,
}
BASELINES = {
    "final": "vs-final",
    "early-stopped": "vs-early-stopped",
    "best-width": "vs-best-width",
    "best-dense": "vs-best-dense",
    "weight-decay": "vs-weight-decay",
}
# (a, b, what a - b asks, whether "no difference" would be a claim) for the method contrasts
# at the IT source: a mask that carries nothing a random one does not is such a claim.
METHOD_PAIRS = (
    ("imp-finetune", "imp-rewind", "the IT's trained weights against its mask alone", False),
    ("imp-rewind", "random-rewind", "the IT's mask against a random one, both rewound", True),
    ("imp-finetune", "random", "the IT's mask against a random one, both with its weights", True),
)
NEIGHBOURS = ("before", "after")  # source roles the IT is asked to be no worse than
# Where a comparison stands in the plan (the ``family`` column) and what it concluded.
PRIMARY, SEQUENCE, EXPLORATORY = "primary", "sequence", "exploratory"
LOWER, HIGHER = "lower", "higher"
EQUIVALENT, NOT_SHOWN, NOT_ASKED = "equivalent", "not shown", "not asked"


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


def _source_order(role: str, width: int, it_width: int) -> tuple[int, float]:
    """Neighbours first (below, then above, nearest first), then the controls."""
    rank = {"before": 0, "after": 1}.get(role, 2)
    return rank, abs(math.log(width / it_width))


# Question 2's baselines: (comparison, what it is against, the statistic, whether its "no"
# would be a claim of no difference). "Pruning only matches early stopping" (or the best
# width and epoch, or tuned weight decay) is such a claim; "it matches the best final width"
# is not one anybody makes (pruning beats it or loses to it).
EARLY_STOPPED_BASELINES = (
    ("vs-early-stopped", "early-stopped dense", "delta_early_stopped", True),
    ("vs-best-width", "best dense width (validation)", "delta_best_width", False),
    ("vs-best-dense", "best dense width and epoch (validation)", "delta_best_dense", True),
    ("vs-weight-decay", "IT width, weight decay tuned (validation)", "delta_weight_decay", True),
)


@dataclass
class _Found:
    """The comparisons of one family as they are found, in the page's order."""

    it: str
    rows: list[dict[str, Any]]

    def add(
        self,
        name: str,
        method: str,
        against: str,
        differences: pd.Series,
        budgets: int = 0,
        no_difference: bool = False,
    ) -> None:
        if len(differences):
            self.rows.append(
                {
                    "comparison": name,
                    "method": method,
                    "source": self.it,
                    "against": against,
                    "budgets": budgets,
                    "differences": differences,
                    "no_difference": no_difference,
                }
            )


def _against_dense(found: _Found, values: pd.DataFrame, methods: list[str]) -> None:
    """Questions 1 and 2: each method's IT model against the dense baselines."""
    for method in methods:
        mine = {"method": method, "role": "at", "axis": "width"}
        if method + FIXED in methods:  # the 2 x 2's other diagonal: neither side early-stopped
            twin = _by_seed(values, "delta_best", **{**mine, "method": method + FIXED})
            found.add("fixed-budget", method, "final dense, neither early-stopped", twin)
        found.add("vs-final", method, "final dense", _by_seed(values, "delta_best", **mine))
        for name, against, statistic, no_difference in EARLY_STOPPED_BASELINES:
            differences = _by_seed(values, statistic, **mine)
            found.add(name, method, against, differences, 0, no_difference)


def _against_sources(
    found: _Found, width_sources: pd.DataFrame, methods: list[str], it_width: int
) -> None:
    """Question 3: the IT against the other sources at equal budgets, then weights vs mask."""
    at = width_sources[width_sources["role"] == "at"]
    for method in methods:
        mine = _at_budgets(width_sources, method=method, role="at")
        others = width_sources[
            (width_sources["method"] == method) & (width_sources["role"] != "at")
        ]
        sources = others.groupby(["role", "width"]).size().index
        for role, width in sorted(sources, key=lambda rw: _source_order(*rw, it_width)):
            theirs = _at_budgets(others, role=role, width=width)
            difference, budgets = _budget_difference(mine, theirs)
            label = source_label(role, int(width))
            found.add("source", method, label, difference, budgets, role in NEIGHBOURS)
    for a, b, _, no_difference in METHOD_PAIRS:
        if a in methods and b in methods:
            difference, budgets = _budget_difference(
                _at_budgets(at, method=a), _at_budgets(at, method=b)
            )
            found.add("method", a, b, difference, budgets, no_difference)


def family_comparisons(values: pd.DataFrame) -> list[dict[str, Any]]:
    """Every comparison of one (dataset, model, noise) family's per-seed values, in the
    order the page asks them: each with its per-seed ``differences`` (a Series by seed),
    what it compares, and whether it asks for equivalence (``no_difference``)."""
    width_sources = values[values["axis"] == "width"]
    at = width_sources[width_sources["role"] == "at"]
    if at.empty:
        return []
    it_width = int(at["width"].iloc[0])
    methods = sorted(at["method"].unique())
    found = _Found(source_label("at", it_width), [])
    _against_dense(found, values, methods)
    _against_sources(found, width_sources, methods, it_width)
    for method in methods:  # question 4
        mine = {"method": method, "role": "at", "axis": "width"}
        walk = _by_seed(values, "walk_gap", **mine)
        found.add("walk", method, "dense curve", walk, 0, True)
    return found.rows


def _family_plan(found: list[dict[str, Any]], primary: Primary) -> None:
    """Place each of one family's comparisons in the plan: its ``family``, its ``step`` in
    the difference sequence and its ``equivalence_step`` (0: not asked). The primary is
    step 1 of both its tests, alone: its difference and equivalence nulls cannot both be
    true (the margin is above zero), so testing both at alpha keeps its error at alpha."""
    steps = equivalence_steps = 0
    for row in found:
        row["family"], row["step"], row["equivalence_step"] = EXPLORATORY, 0, 0
        if (row["comparison"], row["method"]) == (primary.comparison, primary.method):
            row["family"], row["step"] = PRIMARY, 1
            row["equivalence_step"] = int(row["no_difference"])
        elif row["method"] == primary.method or row["comparison"] == "method":
            steps += 1
            row["family"], row["step"] = SEQUENCE, steps
            if row["no_difference"]:
                equivalence_steps += 1
                row["equivalence_step"] = equivalence_steps


def _decide(rows: list[dict[str, Any]], alpha: float) -> None:
    """Each comparison's ``decision`` (lower, higher, not decided, not reached, or
    exploratory) and ``equivalence`` (equivalent, not shown, not reached, not asked)."""
    primary = [r for r in rows if r["family"] == PRIMARY]
    sequence = sorted((r for r in rows if r["family"] == SEQUENCE), key=lambda r: r["step"])
    asked = sorted(
        (r for r in sequence if r["equivalence_step"]), key=lambda r: r["equivalence_step"]
    )

    def alone(p: float) -> str:  # a test that is its own family
        return DECIDED if p < alpha else NOT_DECIDED

    differences = [
        *((r, alone(r["p"])) for r in primary),
        *zip(sequence, fixed_sequence([r["p"] for r in sequence], alpha), strict=True),
    ]
    equivalences = [
        *((r, alone(r["equivalence_p"])) for r in primary if r["equivalence_step"]),
        *zip(asked, fixed_sequence([r["equivalence_p"] for r in asked], alpha), strict=True),
    ]
    for row in rows:
        row["decision"], row["equivalence"] = EXPLORATORY, NOT_ASKED
    for row, outcome in differences:
        side = LOWER if row["flip_high"] < 0 else HIGHER
        row["decision"] = side if outcome == DECIDED else outcome
    for row, outcome in equivalences:
        row["equivalence"] = {DECIDED: EQUIVALENT, NOT_DECIDED: NOT_SHOWN}.get(outcome, outcome)


def comparison_table(
    values: pd.DataFrame, primary: Primary, alpha: float, level: float, margin: float
) -> pd.DataFrame:
    """Every family's comparisons with their inference and their place in the plan (the
    module's docstring): the ``comparisons`` table."""
    rows = []
    for key, group in values.groupby(["study", *FAMILY_KEYS], sort=True) if len(values) else []:
        found = family_comparisons(group)
        _family_plan(found, primary)
        for row in found:
            d = row.pop("differences").to_numpy(dtype=float)
            row.pop("no_difference")
            flips = SignFlip(d)
            flip_low, flip_high = flips.interval(1 - alpha)
            row.update(
                dict(zip(["study", *FAMILY_KEYS], key, strict=True)),
                question=QUESTIONS[row["comparison"]],
                **paired(d, level, flips),
                flip_low=flip_low,
                flip_high=flip_high,
                smallest_p=smallest_p(len(d)),
                detectable=flips.detectable(alpha),
                equivalence_p=flips.equivalence_p(margin),
                equivalence_bound=flips.equivalence_bound(alpha),
                alpha=alpha,
                margin=margin,
            )
        _decide(found, alpha)
        rows += found
    for row in rows:
        row["decided"] = row["decision"] in (LOWER, HIGHER)
    return frame(rows, "comparisons")
