"""The answer as a reader meets it: four questions answered in generated sentences per
(dataset, model, noise), the tested comparisons and a table in points (its figures are in
:mod:`ddprune.analysis.figures.answer`). Everything here is read off the ``answer`` and
``comparisons`` tables -- no number is written by hand, and no sentence claims more than its
corrected test decides."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from ddprune.analysis.answer.comparisons import METHOD_PAIRS
from ddprune.analysis.answer.inference import LEVEL
from ddprune.analysis.answer.statistics import SOURCE_KEYS
from ddprune.analysis.summaries import FAMILY_KEYS
from ddprune.catalog import DEFAULT_NOISE_KIND
from ddprune.study.pruning_methods import FIXED
from ddprune.study.threshold_file import FamilyThreshold

NONE = "n/a"
PLAN_ORDER = ["primary", "sequence", "exploratory"]  # a statistic that has no value for this source
ORACLE_EPOCH = ("delta_best_epoch_oracle", 0)
DECIDED = (
    "How the comparisons are tested, in each dataset, model and noise level, each at alpha "
    "(answer.alpha): the primary comparison (answer.primary) alone; the primary method's "
    "other comparisons for a difference, in the questions' order, by the fixed-sequence "
    "procedure -- a comparison is tested only when every one before it was decided, so the "
    "first that is not stops the sequence and those after it are 'not reached', however "
    "large; the comparisons whose 'no' would claim no difference (pruning against early "
    "stopping, the IT against its neighbours, its mask against a random one, the walk) for "
    "equivalence within answer.margin by two one-sided sign-flip tests -- the primary alone, "
    "the others again in sequence; the other methods' comparisons are exploratory and never "
    "decided. A difference is decided when its exact sign-flip p is below alpha, in the "
    "direction of its sign-flip interval (which then excludes zero). 'Not decided' is not 'no "
    "effect': each says the smallest shift its seeds could have decided (the minimum "
    "detectable effect, with their scatter); only 'equivalent' says two sides do not differ "
    "by more than the margin."
)
METHOD = (
    "Every choice is made on validation data (labels noised like the training labels): the "
    "IT, the best pruned round, and the epoch of each retraining round and of the dense "
    "baseline, both early-stopped by one rule (prune.stop, prune.patience); test error is "
    "read at the chosen points. Columns marked oracle choose on test and are shown only to "
    "measure how much that would flatter the answer. A tested comparison's interval is the "
    "sign-flip interval at 1 - alpha: the shifts its test does not reject (at 6 seeds and "
    "alpha 0.05, the smallest to the largest difference). Every other interval is a paired t "
    f"interval, {LEVEL:.0%} (unless answer.level says otherwise), over seeds. Errors and Δ in "
    "percentage points. The "
    "walk gap compares each pruned round with the same seed's dense curve, each width "
    "early-stopped by the same rule (interpolated on log-parameters between trained widths; "
    "rounds outside the trained range are not compared). The sparse IT is the first round "
    "whose noisy-label train error exceeds the interpolation tolerance; the peak round is the "
    "worst validation error up to the best round."
)


def _points(value: float, signed: bool = False) -> str:
    if value is None or math.isnan(value):
        return NONE
    return f"{100 * value:+.1f}" if signed else f"{100 * value:.1f}"


def _interval(row: pd.Series | None) -> str:
    if row is None:
        return NONE
    if math.isnan(row["low"]):
        return f"{_points(row['mean'], True)} (1 seed)"
    low, high = _points(row["low"], True), _points(row["high"], True)
    return f"{_points(row['mean'], True)} [{low}, {high}]"


def _count(row: pd.Series | None) -> str:
    """An indicator as the seeds where it holds ("2/3")."""
    if row is None:
        return NONE
    return f"{round(row['mean'] * row['seeds'])}/{row['seeds']}"


def _statistics(rows: pd.DataFrame) -> dict[tuple[str, int], pd.Series]:
    return {(r["statistic"], r["budget"]): r for _, r in rows.iterrows()}


def _mean(statistics: dict[tuple[str, int], pd.Series], name: str) -> float:
    row = statistics.get((name, 0))
    return math.nan if row is None else float(row["mean"])


def page_table(table: pd.DataFrame, budgets: list[int] | None = None) -> pd.DataFrame:
    """One row per source and method, in points: Δ against both dense baselines, the oracle,
    the walk, the sparse IT, and Δ at each of ``budgets`` (``prune.budgets``)."""
    budgets = budgets or []
    rows = []
    for key, group in table.groupby(SOURCE_KEYS, sort=False):
        found = _statistics(group)
        delta = found[("delta_best", 0)]
        row = {
            **dict(zip(SOURCE_KEYS, key, strict=True)),
            "seeds": delta["seeds"],
            "dense error": _points(_mean(found, "dense_test_error")),
            "best pruned error": _points(_mean(found, "best_test_error")),
            "at sparsity": f"{_mean(found, 'best_sparsity'):.1%}",
            "Δ vs final dense [95%]": _interval(delta),
            "Δ vs early-stopped dense [95%]": _interval(found.get(("delta_early_stopped", 0))),
            "early-stopping epoch": f"{_mean(found, 'early_stop_epoch'):.0f}",
            "Δ vs same-budget dense [95%]": _interval(found.get(("delta_same_budget", 0))),
            "oracle Δ vs final (best round on test)": _interval(
                found.get(("delta_best_oracle", 0))
            ),
            "oracle Δ vs dense best epoch": _interval(found.get(("delta_best_epoch_oracle", 0))),
            "walk gap vs early-stopped dense [95%]": _interval(found.get(("walk_gap", 0))),
            "walk gap, largest": _points(_mean(found, "walk_max_abs")),
            "walk gap vs dense at equal epochs": _interval(found.get(("epoch_walk_gap", 0))),
            "walk gap vs final dense": _interval(found.get(("final_walk_gap", 0))),
            "passes peak": _count(found.get(("passes_peak", 0))),
            "sparse IT round": f"{_mean(found, 'sparse_it_round'):.1f}",
            "peak round": f"{_mean(found, 'peak_round'):.1f}",
            "best round": f"{_mean(found, 'best_round'):.1f}",
            "peak at sparse IT": _count(found.get(("peak_at_sparse_it", 0))),
        }
        for budget in budgets:
            row[f"Δ at {budget} weights"] = _interval(found.get(("delta_at_budget", budget)))
        rows.append(row)
    return pd.DataFrame(rows).replace("nan", NONE)


def _p(value: float) -> str:
    return NONE if math.isnan(value) else (f"{value:.3f}" if value < 0.1 else f"{value:.2f}")


def _flip(row: pd.Series) -> str:
    """A tested comparison's mean and sign-flip interval, in points."""
    if math.isinf(row["flip_low"]):
        return f"{_points(row['mean'], True)} (no interval at {row['seeds']} seeds)"
    low, high = _points(row["flip_low"], True), _points(row["flip_high"], True)
    return f"{_points(row['mean'], True)} [{low}, {high}]"


def _plan(row: pd.Series) -> str:
    """Where a comparison's difference test stands in the plan, in brief."""
    if row["family"] == "sequence":
        return f"sequence step {row['step']}"
    return str(row["family"])


def _equivalence_brief(row: pd.Series) -> str:
    if row["equivalence"] == "not asked":
        return NONE
    return f"{row['equivalence']} (TOST p {_p(row['equivalence_p'])})"


def inference_table(comparisons: pd.DataFrame) -> pd.DataFrame:
    """The tested comparisons, question by question, for the answer page."""
    margin = comparisons["margin"].iloc[0] if len(comparisons) else math.nan
    return pd.DataFrame(
        [
            {
                "dataset": r["dataset"],
                "model": r["model"],
                "noise": r["noise"],
                "question": r["question"],
                "comparison": r["comparison"],
                "method": r["method"],
                "source": r["source"],
                "against": r["against"],
                "budgets averaged": r["budgets"] or NONE,  # 0: not a comparison at budgets
                "seeds": r["seeds"],
                "Δ [sign-flip interval]": _flip(r),
                "t interval": _interval(r),
                "sign-flip p": _p(r["p"]),
                "plan": _plan(r),
                "decision": r["decision"],
                "detectable shift": _points(r["detectable"]),
                f"equivalent within ±{_points(margin)}": _equivalence_brief(r),
                "equivalence bound": _points(r["equivalence_bound"]),
            }
            for _, r in comparisons.assign(rank=comparisons["family"].map(PLAN_ORDER.index))
            .sort_values(["question", "rank", "step"], kind="stable")
            .iterrows()
        ]
    )


def _tested(row: pd.Series, kind: str = "designated") -> str:
    """The inference of one comparison, in words; ``kind``: how the primary was chosen
    (``pre-registered`` only where a registration precedes the results)."""
    where = {
        "primary": f"the {kind} primary comparison, tested alone at alpha {row['alpha']:g}",
        "sequence": f"step {row['step']} of the fixed sequence at alpha {row['alpha']:g}",
    }.get(row["family"], "exploratory, no claim")
    return f"{row['seeds']} seeds; sign-flip p {_p(row['p'])}, {where}"


def _verdict(row: pd.Series, lower: str, higher: str, stopped: str = "") -> str:
    """``lower`` or ``higher`` when decided, else why not: the seeds, the minimum detectable
    effect, or the earlier step that stopped the sequence (``stopped``)."""
    if row["decided"]:
        return lower if row["decision"] == "lower" else higher
    if row["decision"] == "not reached":
        return f"not tested: the fixed sequence stopped earlier, at {stopped}"
    if row["decision"] == "exploratory":
        return "exploratory, not decided"
    if math.isinf(row["detectable"]):
        return (
            f"not decided: {row['seeds']} seeds cannot reach alpha (the smallest p they allow "
            f"is {_p(row['smallest_p'])})"
        )
    return (
        f"not decided at {row['seeds']} seeds (with their scatter, only a shift of more than "
        f"{_points(row['detectable'])} points either way would have been)"
    )


def _equivalence(row: pd.Series) -> str:
    """What the equivalence test says of one comparison, as a clause ('' if not asked)."""
    margin = _points(row["margin"])
    if row["equivalence"] == "equivalent":
        where = (
            "tested alone"
            if row["family"] == "primary"
            else f"step {row['equivalence_step']} of the equivalence sequence"
        )
        return f"equivalent within ±{margin} points (TOST p {_p(row['equivalence_p'])}, {where})"
    if row["equivalence"] == "not shown":
        bound = row["equivalence_bound"]
        could = "at no margin" if math.isinf(bound) else f"only within ±{100 * bound:.2f} points"
        return (
            f"equivalence within ±{margin} points not shown (TOST p "
            f"{_p(row['equivalence_p'])}; these seeds could show it {could})"
        )
    if row["equivalence"] == "not reached":
        return "equivalence not tested (the equivalence sequence stopped earlier)"
    return ""


def _also(row: pd.Series) -> str:
    """The equivalence clause that follows a verdict ('' where none is asked)."""
    clause = _equivalence(row)
    return f"; {clause}" if clause else ""


def _stopped(comparisons: pd.DataFrame) -> str:
    """The step that stopped a family's difference sequence, in words."""
    rows = comparisons[comparisons["decision"] == "not decided"]
    rows = rows[rows["family"] == "sequence"]
    if rows.empty:
        return "no step"
    row = rows.sort_values("step").iloc[0]
    return f"step {row['step']} ({row['comparison']}, {row['method']} against {row['against']})"


def _short(row: pd.Series, lower: str = "lower", higher: str = "higher") -> str:
    """A listed comparison's test in brief: which side is better if decided, else its
    decision; the p and the plan."""
    if row["family"] == "exploratory":
        return f"p {_p(row['p'])}, exploratory, no claim"
    side = (lower if row["decision"] == "lower" else higher) if row["decided"] else row["decision"]
    return f"{side}, p {_p(row['p'])}, {_plan(row)}{_also(row)}"


def _pick(comparisons: pd.DataFrame, name: str, **where: Any) -> pd.DataFrame:
    rows = comparisons[comparisons["comparison"] == name]
    for key, value in where.items():
        rows = rows[rows[key] == value]
    return rows


def _question_dense(
    comparisons: pd.DataFrame,
    found: dict[tuple[str, int], pd.Series],
    name: str,
    method: str,
    number: int,
    kind: str = "designated",
    twin: dict[tuple[str, int], pd.Series] | None = None,
) -> str:
    """Questions 1 and 2: the IT model pruned against one dense baseline (question 1 first
    on equal footing, where the method's fixed-budget twin was pruned: ``twin``, its
    statistics at the IT)."""
    baseline = (
        "the final dense model"
        if name == "vs-final"
        else ("the dense model early-stopped on validation")
    )
    head = f"({number}) Does the pruned IT model beat {baseline}? "
    rows = _pick(comparisons, name)
    mine = rows[rows["method"] == method]
    stopped = _stopped(comparisons)
    if mine.empty:
        return head + f"Not measured: no IT source was pruned with {method}."
    row = mine.iloc[0]
    text = head + (
        f"Pruned with {method} to its best round on validation "
        f"({_mean(found, 'best_sparsity'):.0%} sparse), the IT model ({row['source']}) has "
        f"Δ {_flip(row)} points of test error against {baseline} "
        f"({_tested(row, kind)}): {_verdict(row, 'yes, lower', 'no, higher', stopped)}"
        f"{_also(row)}."
    )
    if name == "vs-final":
        text = (
            head + _equal_footing(comparisons, found, twin or {}, method, kind) + text[len(head) :]
        )
    if name == "vs-early-stopped":
        text += (
            " The dense run is early-stopped by the rule that stops each pruned round, at "
            f"epoch {_mean(found, 'early_stop_epoch'):.0f} on average. "
            f"Chosen on test instead (an oracle, for comparison only), the best round against "
            f"the dense run's best epoch would read {_interval(found.get(ORACLE_EPOCH))}."
        ) + _chosen_baselines(comparisons, found, method, kind)
    # the twin's row against the final model is the equal-footing comparison said above
    said = {method} | ({method + FIXED} if name == "vs-final" else set())
    others = rows[~rows["method"].isin(said)]
    if len(others):
        text += (
            " Other methods: "
            + "; ".join(f"{r['method']} {_flip(r)} ({_short(r)})" for _, r in others.iterrows())
            + "."
        )
    return text


def _equal_footing(
    comparisons: pd.DataFrame, found: dict, twin: dict, method: str, kind: str
) -> str:
    """Question 1 with neither side early-stopped, and the 2 x 2 of test errors ('' where
    the method's fixed-budget twin was not pruned)."""
    rows = _pick(comparisons, "fixed-budget", method=method)
    if rows.empty:
        return ""
    row = rows.iloc[0]
    cells = (
        f"dense {_points(_mean(found, 'dense_early_stopped_error'))} early-stopped, "
        f"{_points(_mean(found, 'dense_test_error'))} at its full budget; pruned "
        f"{_points(_mean(found, 'best_test_error'))} early-stopped, "
        f"{_points(_mean(twin, 'best_test_error'))} at its full budget"
    )
    return (
        f"Neither side early-stopped -- every round of {method}{FIXED} trained to its full "
        "budget, as the final dense model was, the best round chosen on validation -- the IT "
        f"model has Δ {_flip(row)} points against the final dense model ({_tested(row, kind)}): "
        f"{_verdict(row, 'yes, lower', 'no, higher', _stopped(comparisons))}. The 2 x 2 of test "
        f"error (%): {cells}. Early-stopped, unlike the dense model: "
    )


def _chosen_baselines(
    comparisons: pd.DataFrame, found: dict, method: str, kind: str = "designated"
) -> str:
    """Question 2, continued: the dense models a user would pick on validation across
    widths, and the IT width's run regularised by weight decay instead of early stopping
    alone."""
    parts = []
    for name, what, choice in (
        (
            "vs-best-width",
            "the final model of the width with the lowest validation error",
            "the chosen width averages {:.0f}",
        ),
        (
            "vs-best-dense",
            "the width and epoch of lowest validation error, every width early-stopped alike",
            "the chosen width averages {:.0f}",
        ),
        (
            "vs-weight-decay",
            "the IT width's run with the weight decay and epoch of lowest validation error, "
            "its own and every baselines.weight_decay run early-stopped alike",
            "the chosen weight decay averages {:.2g}",
        ),
    ):
        rows = _pick(comparisons, name, method=method)
        if len(rows):
            row = rows.iloc[0]
            statistic = f"{name.removeprefix('vs-').replace('-', '_')}_choice"
            parts.append(
                f"against {what} ({choice.format(_mean(found, statistic))}), Δ "
                f"{_flip(row)} ({_tested(row, kind)}): "
                f"{_verdict(row, 'pruned lower', 'pruned higher', _stopped(comparisons))}"
                f"{_also(row)}"
            )
    if not parts:
        return ""
    return " Against the dense models a user would pick on validation: " + "; ".join(parts) + "."


def _over_budgets(count: int) -> str:
    return "at its one shared budget" if count == 1 else f"mean over {count} budgets"


def _question_start(comparisons: pd.DataFrame, method: str) -> str:
    """Question 3: the IT against the other sources at equal budgets, and weights vs mask."""
    head = "(3) Is the IT a worse starting point than its neighbours and the controls? "
    sources = _pick(comparisons, "source", method=method)
    if sources.empty:
        text = head + f"No other source shares a budget with the IT model under {method}."
    else:
        text = head + (
            f"At equal budgets with {method}, the IT model's test error minus that of "
            + "; ".join(
                f"{r['against']} {_flip(r)} ({_over_budgets(r['budgets'])}; "
                f"{_short(r, 'IT better', 'IT worse')})"
                for _, r in sources.iterrows()
            )
            + f" ({sources['seeds'].min()} seeds)."
        )
    pairs = _pick(comparisons, "method")
    asks = {(a, b): what for a, b, what, _ in METHOD_PAIRS}
    if len(pairs):
        text += (
            " Weights or mask, at the IT model's budgets: "
            + "; ".join(
                f"{r['method']} minus {r['against']} ({asks[(r['method'], r['against'])]}) "
                f"{_flip(r)} ({_short(r, r['method'] + ' better', r['against'] + ' better')})"
                for _, r in pairs.iterrows()
            )
            + "."
        )
    else:
        text += " Weights or mask: not measured (it needs two of imp-finetune, imp-rewind,"
        text += " random-rewind and random)."
    return text


def _question_walk(comparisons: pd.DataFrame, found: dict, method: str) -> str:
    head = "(4) Does the pruned trajectory walk the dense curve backwards? "
    others = (
        " Not tested, for comparison: against the dense runs after as many epochs as each "
        f"round trained, {_interval(found.get(('epoch_walk_gap', 0)))} (a round's epoch is "
        "chosen on validation, the dense run's is not); against the final dense models "
        f"(no early stopping), {_interval(found.get(('final_walk_gap', 0)))}."
    )
    mine = _pick(comparisons, "walk", method=method)
    if mine.empty:
        return head + "Its pruned rounds lie outside the trained range of parameter counts."
    row = mine.iloc[0]
    verdict = _verdict(
        row,
        "its rounds beat dense models of their size chosen alike: pruning does more than walk back",
        "its rounds are worse than dense models of their size chosen alike: it does not walk "
        "the curve",
        _stopped(comparisons),
    )
    equivalence = _equivalence(row)
    if row["equivalence"] == "equivalent":
        equivalence += ": its rounds lie on the dense curve, within the margin"
    return (
        head
        + (
            f"With {method}, the IT model's pruned rounds lie {_flip(row)} points from the "
            "same seed's dense models of equal size, each early-stopped on validation by the "
            "rule that stops a round, within the same budget (mean over the rounds; largest "
            f"gap {_points(_mean(found, 'walk_max_abs'))}; {_tested(row)}): {verdict}"
            + (f"; {equivalence}." if equivalence else ".")
        )
        + others
    )


def _sparse(found: dict, method: str) -> str:
    """Sparse double descent (He et al. 2022) along the IT model's trajectory, untested."""
    crossed = found.get(("sparse_it_round", 0))
    if crossed is None:
        return (
            f"Sparse double descent: with {method} the IT model's rounds never cross a sparse "
            "IT (a source that does not fit its noisy labels has none to cross)."
        )
    return (
        f"Sparse double descent (He et al. 2022; described, not tested): with {method} the IT "
        f"model stops fitting its noisy labels at round {crossed['mean']:.1f} on average (the "
        f"sparse IT, in {crossed['seeds']} seed{'s' * (crossed['seeds'] != 1)}); its worst "
        "validation error before its best round sits within one round of it in "
        f"{_count(found.get(('peak_at_sparse_it', 0)))} seeds (worst round "
        f"{_mean(found, 'peak_round'):.1f}, best {_mean(found, 'best_round'):.1f} on average)."
    )


def _limits(family: FamilyThreshold, comparisons: pd.DataFrame, seeds: int) -> str:
    """What the study cannot show, from its own numbers."""
    boot = family.it.bootstrap
    if boot.get("status") != "ok":
        interval = "the IT has no bootstrap interval"
    elif boot["low"] == boot["high"]:
        interval = f"its seed bootstrap puts the IT at width {boot['low']} in 95% of resamples"
    else:
        interval = f"its seed bootstrap puts the IT between widths {boot['low']} and {boot['high']}"
    unreached = int((comparisons["decision"] == "not reached").sum())
    return (
        f"What this cannot show: one dataset, model and noise level per paragraph; {seeds} "
        f"seeds, so no comparison can reach a p below {2.0 / 2.0**seeds:.3g}; {interval}; "
        f"{unreached} comparison(s) of the sequence were not reached, and say nothing either "
        "way; a comparison that is not decided may still hold a real effect smaller than its "
        "detectable shift; the order of the sequence is the page's question order, fixed by "
        "the code, and a different order would decide different comparisons; and a gap of zero "
        "along the walk is consistent with walking the curve backwards, not a proof of it."
    )


def sentences(
    table: pd.DataFrame,
    comparisons: pd.DataFrame,
    families: Sequence[FamilyThreshold],
    primary_method: str,
    nothing: Callable[[FamilyThreshold], str],
    registered: str = "designated",
) -> list[str]:
    """The four questions per family (dataset, model, noise) of the threshold stage, in
    order, about the primary method whatever the numbers say, then what the study cannot
    show. ``nothing(family)`` says why a family has no pruned rows (the caller knows the
    study); ``registered``: ``pre-registered`` where a registration precedes the results."""
    out = []
    for family in families:
        key = family.key
        noise_kind = "" if key[3] == DEFAULT_NOISE_KIND else f"{key[3]} "
        head = f"{key[0]}/{key[1]}, {key[2]:.0%} {noise_kind}noise: "
        rows = table[(table[FAMILY_KEYS] == list(key)).all(axis=1)]
        tested = comparisons[(comparisons[FAMILY_KEYS] == list(key)).all(axis=1)]
        if rows.empty or tested.empty:
            out.append(head + nothing(family))
            continue
        it = rows[(rows["role"] == "at") & (rows["axis"] == "width")]
        found = _statistics(it[it["method"] == primary_method])
        twin = _statistics(it[it["method"] == primary_method + FIXED])
        out += [
            head + _question_dense(tested, found, "vs-final", primary_method, 1, registered, twin),
            _question_dense(tested, found, "vs-early-stopped", primary_method, 2, registered),
            _question_start(tested, primary_method),
            _question_walk(tested, found, primary_method),
            _sparse(found, primary_method),
            _limits(family, tested, int(tested["seeds"].max())),
        ]
    return out
