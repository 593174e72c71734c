"""The answer's statistics, comparisons and sentences on trajectories whose answer is known by
construction."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from ddprune.analysis.answer.comparisons import Primary, comparison_table
from ddprune.analysis.answer.dense_references import (
    curve_at,
    early_stopped,
    weight_decay_choices,
)
from ddprune.analysis.answer.inference import (
    SignFlip,
    fixed_sequence,
    holm,
    smallest_p,
    t_interval,
)
from ddprune.analysis.answer.page import inference_table, page_table, sentences
from ddprune.analysis.answer.statistics import (
    Footing,
    answer_table,
    footings,
    per_seed_values,
    sparse_threshold,
    walk_score,
)
from ddprune.analysis.figures.answer import answer_figure
from ddprune.foundations.tables import validate_table
from ddprune.study.hparams import PruneConfig
from ddprune.study.threshold_file import FamilyThreshold

# Dense curves: test error 0.30, 0.10, 0.20 at 100, 1,000 and 10,000 parameters, each seed
# shifted by 0.02 (seed - 1).
PARAMS = {10: 100, 20: 1_000, 40: 10_000}
MEANS = {10: 0.30, 20: 0.10, 40: 0.20}


def dense_table(seeds: int = 3) -> pd.DataFrame:
    rows = [
        {
            "study": "s",
            "dataset": "d",
            "model": "mlp",
            "noise": 0.2,
            "noise_kind": "incorrect-class",
            "width": width,
            "seed": seed,
            "epoch": 100,
            "diverged": False,
            "n_params": PARAMS[width],
            "val_error": MEANS[width] + 0.02 * (seed - 1) + 0.01,
            "test_error": MEANS[width] + 0.02 * (seed - 1),
        }
        for width in PARAMS
        for seed in range(seeds)
    ]
    return pd.DataFrame(rows)


def seed_curve(seed: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "width": list(PARAMS),
            "n_params": list(PARAMS.values()),
            "test_error": [m + 0.02 * (seed - 1) for m in MEANS.values()],
        }
    )


def test_interpolation_is_linear_in_log_parameters_and_never_extrapolates():
    at = curve_at(seed_curve(), [100, math.sqrt(100 * 1_000), 10_000, 99, 10_001])
    assert at[:3].tolist() == pytest.approx([0.30, 0.20, 0.20])
    assert np.isnan(at[3:]).all()


def test_a_trajectory_on_its_seeds_dense_curve_has_no_gap_and_one_offset_by_d_has_d():
    counts = [9_000, 5_000, 2_000, 500, 150]
    on = pd.DataFrame({"n_nonzero": counts, "test_error": curve_at(seed_curve(), counts)})
    assert walk_score(on, curve_at(seed_curve(), counts)) == {
        "walk_gap": pytest.approx(0.0),
        "walk_mean_abs": pytest.approx(0.0),
        "walk_max_abs": pytest.approx(0.0),
        "walk_rounds": 5.0,
    }
    below = walk_score(
        on.assign(test_error=on["test_error"] - 0.05), curve_at(seed_curve(), counts), "final_"
    )
    assert below["final_walk_gap"] == pytest.approx(-0.05)
    assert below["final_walk_mean_abs"] == pytest.approx(0.05)


def test_rounds_outside_the_trained_range_are_not_compared():
    inside_and_out = pd.DataFrame({"n_nonzero": [20_000, 5_000, 50], "test_error": [0.5] * 3})
    dense = curve_at(seed_curve(), inside_and_out["n_nonzero"])
    assert walk_score(inside_and_out, dense)["walk_rounds"] == 1.0
    outside = pd.DataFrame({"n_nonzero": [50, 20], "test_error": [0.5, 0.6]})
    assert walk_score(outside, curve_at(seed_curve(), [50, 20])) == {"walk_rounds": 0.0}


def test_the_interval_is_the_t_interval_of_the_mean():
    low, high = t_interval(np.array([1.0, 2.0, 3.0]))
    # mean 2, sd 1, n 3: t(0.975, 2) = 4.302653
    assert (low, high) == pytest.approx((2 - 4.302653 / math.sqrt(3), 2 + 4.302653 / math.sqrt(3)))
    assert all(math.isnan(v) for v in t_interval(np.array([1.0])))


def brute_p(d: np.ndarray, centre: float = 0.0) -> tuple[float, float, float]:
    """One-sided (greater, less) and two-sided sign-flip p at ``centre``, by enumerating every
    sign pattern of the shifted differences."""
    y = np.asarray(d, dtype=float) - centre
    sums = np.array([np.dot(s, y) for s in itertools.product((1, -1), repeat=len(y))])
    tie = 1e-9 * np.abs(d).max()
    greater, less = np.mean(sums >= y.sum() - tie), np.mean(sums <= y.sum() + tie)
    return greater, less, min(1.0, 2 * min(greater, less))


def centres(d: np.ndarray, flips: SignFlip) -> np.ndarray:
    """Candidate centres: a fine grid, every subset mean and both sides of each."""
    grid = np.linspace(d.min() - 0.5, d.max() + 0.5, 201)
    return np.concatenate([grid, flips.means, flips.means + 1e-7, flips.means - 1e-7])


def test_the_sign_flip_p_is_the_exact_enumeration():
    # [1, 2, 3]: only (+,+,+) reaches the sum 6, so each one-sided p is 1/8, the two-sided 1/4
    assert SignFlip(np.array([1.0, 2.0, 3.0])).p() == 0.25
    rng = np.random.default_rng(0)
    for n in (4, 7):
        d = rng.normal(0.3, 1.0, n).round(2)
        flips = SignFlip(d)
        for centre in centres(d, flips):
            greater, less, both = brute_p(d, centre)
            assert (flips.p_greater(centre), flips.p_less(centre)) == pytest.approx((greater, less))
            assert flips.p(centre) == pytest.approx(both)
    assert smallest_p(3) == 0.25 and smallest_p(6) == pytest.approx(0.03125)
    assert SignFlip(np.full(6, -0.1)).p() == pytest.approx(smallest_p(6))
    # differences that sum to zero exactly (in error counts) are as extreme as any pattern
    assert SignFlip(np.array([0.1, 0.2, -0.3, 0.7, -0.4, -0.3])).p() == 1.0
    # a tied seed cannot be flipped: the test is the five others' (p >= 2/2^5)
    assert SignFlip(np.array([0.0, 0.1, 0.2, 0.1, 0.3, 0.2])).p() == pytest.approx(2 / 2**5)
    # beyond the enumeration the patterns are sampled: the same p every run, near the exact
    many = rng.normal(0.5, 1.0, 22)
    assert SignFlip(many).p() == SignFlip(many).p()
    assert SignFlip(many).p() == pytest.approx(SignFlip(many[:20]).p(), abs=0.1)


def test_the_sign_flip_interval_is_every_centre_the_test_does_not_reject():
    rng = np.random.default_rng(1)
    for n, level in ((6, 0.95), (7, 0.9), (10, 0.95)):
        d = rng.normal(0.2, 1.0, n).round(3)
        flips = SignFlip(d)
        low, high = flips.interval(level)
        kept = [c for c in centres(d, flips) if brute_p(d, c)[2] >= 1 - level]
        assert (low, high) == (pytest.approx(min(kept)), pytest.approx(max(kept)))
        assert all(low - 1e-9 <= c <= high + 1e-9 for c in kept)  # an interval, no holes
        # it excludes zero exactly when the test rejects at 1 - level
        assert (low > 0 or high < 0) == (flips.p() < 1 - level)
    # at 6 seeds and 95% it runs from the smallest difference to the largest
    d = np.array([0.01, 0.03, -0.02, 0.05, 0.02, 0.04])
    assert SignFlip(d).interval(0.95) == (pytest.approx(-0.02), pytest.approx(0.05))
    assert SignFlip(d[:3]).interval(0.95) == (-math.inf, math.inf)  # 3 seeds reject nothing


def test_two_one_sided_tests_of_equivalence_agree_with_brute_force():
    rng = np.random.default_rng(2)
    for n in (6, 8):
        d = rng.normal(0.0, 0.5, n).round(3)
        flips = SignFlip(d)
        for margin in (0.1, 0.3, 0.6, 1.0, 2.0):
            tost = max(brute_p(d, -margin)[0], brute_p(d, margin)[1])
            assert flips.equivalence_p(margin) == pytest.approx(tost)
        bound = flips.equivalence_bound(0.05)
        assert flips.equivalence_p(bound + 1e-6) < 0.05 <= flips.equivalence_p(bound - 1e-6)
    # the bound is the larger end of the 1 - 2 alpha interval, in absolute value
    low, high = flips.interval(0.9)
    assert bound == pytest.approx(max(-low, high))
    assert SignFlip(d[:4]).equivalence_bound(0.05) == math.inf  # 4 seeds: p >= 1/16


def test_the_minimum_detectable_effect_of_6_and_10_seeds():
    # 6 seeds: decided only when all six differences share a sign, so a shift decides either
    # way only once it carries the smallest difference above zero (mean - min = 0.0417) and
    # the largest below it (max - mean = 0.0283)
    six = np.array([0.01, 0.03, -0.02, 0.05, 0.02, 0.04])
    assert SignFlip(six).detectable(0.05) == pytest.approx(0.13 / 6 + 0.02)
    rng = np.random.default_rng(3)
    for d in (six, rng.normal(0.0, 0.02, 10)):
        mde = SignFlip(d).detectable(0.05)
        centred = d - d.mean()
        # the same scatter shifted by more than the MDE is decided whichever way it goes;
        # by less, it is not decided in the direction that needs the full MDE
        assert all(SignFlip(centred + s * (mde + 1e-6)).p() < 0.05 for s in (1, -1))
        assert max(SignFlip(centred + s * (mde - 1e-4)).p() for s in (1, -1)) >= 0.05
    assert SignFlip(six[:5]).detectable(0.05) == math.inf  # 5 seeds: p >= 1/16


def test_the_fixed_sequence_stops_at_the_first_undecided_step():
    assert fixed_sequence([0.01, 0.03, 0.2, 0.001, 0.01], 0.05) == [
        "decided",
        "decided",
        "not decided",
        "not reached",
        "not reached",
    ]
    assert fixed_sequence([0.06, 0.001], 0.05) == ["not decided", "not reached"]
    assert fixed_sequence([math.nan, 0.001], 0.05) == ["not decided", "not reached"]
    assert fixed_sequence([], 0.05) == []
    # its family-wise error: under the null of every step, a false claim needs the first
    rng = np.random.default_rng(4)
    claims = ["decided" in fixed_sequence(list(rng.uniform(size=5)), 0.05) for _ in range(20_000)]
    assert np.mean(claims) == pytest.approx(0.05, abs=0.006)


def test_holm_on_a_known_case():
    # sorted 0.005 x4 = 0.02, 0.01 x3 = 0.03, 0.03 x2 = 0.06, 0.04 x1 -> kept at 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, math.nan])[0] == 0.5 and math.isnan(holm([0.5, math.nan])[1])
    assert holm([0.6, 0.6]) == [1.0, 1.0]


def test_the_sparse_threshold_and_the_best_round_are_chosen_on_validation():
    # Sparse double descent: fits until round 3, where the validation error peaks, best at 5.
    trajectory = pd.DataFrame(
        {
            "round": range(8),
            "train_error": [0, 0, 0, 0.05, 0.12, 0.18, 0.2, 0.4],
            "val_error": [0.30, 0.31, 0.33, 0.36, 0.28, 0.22, 0.25, 0.5],
            "test_error": [0.9, 0.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9],  # never read
        }
    )
    assert sparse_threshold(trajectory, tolerance=0.01) == {
        "sparse_it_round": 3.0,
        "peak_round": 3.0,
        "best_round": 5.0,
        "peak_at_sparse_it": 1.0,
    }
    still_fitting = trajectory.assign(train_error=0.0)
    assert "sparse_it_round" not in sparse_threshold(still_fitting, tolerance=0.01)
    never_fit = trajectory.assign(train_error=trajectory["train_error"] + 0.05)
    assert "sparse_it_round" not in sparse_threshold(never_fit, tolerance=0.01)


def trajectory_rows(method, seed, improvement, budgets=(500, 50), role="at", width=40):
    """One source pruned twice to exact budgets; the first round improves by ``improvement``
    on test and validation alike, the second falls back to the dense error."""
    dense_error = MEANS[width] + 0.02 * (seed - 1)
    rows = []
    for round_index, kept in enumerate([8_000, *budgets]):
        error = dense_error - improvement * (round_index == 1)
        rows.append(
            {
                "study": "s",
                "dataset": "d",
                "model": "mlp",
                "noise": 0.2,
                "noise_kind": "incorrect-class",
                "width": width,
                "seed": seed,
                "source_epoch": 100,
                "axis": "width",
                "role": role,
                "method": method,
                "round": round_index,
                "epochs": 50 * (round_index > 0),
                "diverged": False,
                "val_error": error + 0.01,
                "test_error": error,
                "train_error": 0.0 if round_index < 2 else 0.2,
                "n_nonzero": kept + 200,
                "n_prunable": 8_000,
                "n_prunable_nonzero": kept,
            }
        )
    return rows


def pruning_table(budgets=(500, 50), seeds=3) -> pd.DataFrame:
    """The IT source (width 40): each seed improves by 3, 4, 5 ... points at the first budget."""
    return pd.DataFrame(
        [
            row
            for seed in range(seeds)
            for row in trajectory_rows("imp-rewind", seed, 0.03 + 0.01 * seed, budgets)
        ]
    )


FAMILY = FamilyThreshold.from_dict(
    {
        "dataset": "d",
        "model": "mlp",
        "noise": 0.2,
        "noise_kind": "incorrect-class",
        "widths": [10, 20, 40, 80],
        "seeds": [0, 1, 2],
        "criteria": {"val_error_peak": {"status": "ok", "width": 20}},
        "notes": [],
        "selection": [],
        "it": {
            "status": "ok",
            "criterion": "val_error_peak",
            "width": 40,
            "bootstrap": {"status": "ok", "low": 20, "high": 40},
        },
    }
)


BOOT_40 = {"status": "ok", "low": 40, "high": 40}


def values(dense=None, pruning=None, prune=None, tuned=None):
    return per_seed_values(
        dense_table() if dense is None else dense,
        pruning_table() if pruning is None else pruning,
        [FAMILY],
        0.01,
        prune,
        tuned,
    )


def test_the_answer_table_pairs_each_seed_with_its_own_dense_source():
    table = answer_table(values())
    validate_table(table, "answer")
    row = table.set_index(["statistic", "budget"])
    delta = row.loc[("delta_best", 0)]
    assert delta["seeds"] == 3
    assert delta["mean"] == pytest.approx(-0.04)
    assert (delta["low"], delta["high"]) == pytest.approx(
        (-0.04 - 4.302653 * 0.01 / math.sqrt(3), -0.04 + 4.302653 * 0.01 / math.sqrt(3))
    )
    assert row.loc[("best_sparsity", 0), "mean"] == pytest.approx(1 - 500 / 8_000)
    # the width a user picks on validation is 20 for every seed (0.10 + 0.01 below the
    # others); the pruned IT model (0.20 - 0.03, 0.04, 0.05) is 0.06 above it on average
    assert row.loc[("best_width_choice", 0), "mean"] == 20
    assert row.loc[("delta_best_width", 0), "mean"] == pytest.approx(0.06)
    assert row.loc[("delta_best_dense", 0), "mean"] == pytest.approx(0.06)  # one epoch each
    assert row.loc[("delta_at_budget", 50), "mean"] == pytest.approx(0.0)
    assert ("delta_at_budget", 7) not in row.index  # never reached: no value, no guess
    assert row.loc[("sparse_it_round", 0), "mean"] == 2.0
    assert row.loc[("passes_peak", 0), "mean"] == 1.0  # from 8,200 to 250 across 1,000
    assert math.isnan(row.loc[("passes_peak", 0), "low"])  # indicators get no interval


def test_no_choice_reads_test_the_oracles_do():
    """Test errors that favour round 2 and a dense epoch that validation does not pick move
    only the oracle statistics."""
    pruning = pruning_table()
    scrambled = pruning.assign(
        test_error=np.where(pruning["round"] == 2, 0.0, pruning["test_error"])
    )
    early = dense_table().query("width == 40").assign(epoch=50, test_error=0.01, val_error=0.9)
    dense = pd.concat([dense_table(), early], ignore_index=True)
    plain = answer_table(values(dense=dense)).set_index(["statistic", "budget"])["mean"]
    moved = answer_table(values(dense=dense, pruning=scrambled)).set_index(["statistic", "budget"])[
        "mean"
    ]
    for chosen in ("best_round", "early_stop_epoch", "peak_round", "sparse_it_round"):
        assert moved[(chosen, 0)] == plain[(chosen, 0)]
    assert plain[("early_stop_epoch", 0)] == 100.0  # validation prefers the end
    assert plain[("dense_early_stopped_error", 0)] == pytest.approx(0.20)
    assert moved[("delta_best_oracle", 0)] == pytest.approx(-0.20)  # round 2's 0.0 on test
    assert plain[("delta_best_epoch_oracle", 0)] == pytest.approx(0.16 - 0.01)


REWOUND = PruneConfig.of(methods=["imp-rewind"], rewind_epoch=0)


def test_the_early_stopped_baseline_is_the_dense_runs_lowest_validation_error():
    """The dense IT runs (width 40) were better at epoch 50, on validation and test: a pruned
    model is compared with the run stopped there, and a rewound round that reports its epoch
    50 with the run's evaluation there as its same-budget control."""
    early = dense_table().query("width == 40").assign(epoch=50)
    early["test_error"] = 0.15 + 0.01 * early["seed"]
    early["val_error"] = early["test_error"] + 0.01
    dense = pd.concat([dense_table(), early], ignore_index=True)
    table = answer_table(values(dense=dense, prune=REWOUND))
    validate_table(table, "answer")
    row = table.set_index(["statistic", "budget"])["mean"]
    assert row[("early_stop_epoch", 0)] == 50.0
    assert row[("dense_early_stopped_error", 0)] == pytest.approx(0.16)
    best = row[("best_test_error", 0)]
    assert row[("delta_early_stopped", 0)] == pytest.approx(best - 0.16)
    assert row[("delta_same_budget", 0)] == pytest.approx(best - 0.16)
    # rewound to epoch 40, a round of 50 epochs has trained 90: the run's latest evaluation
    # before that is still epoch 50's; one of 500 epochs meets the run at its stop (100)
    later = answer_table(values(dense=dense, prune=dataclasses.replace(REWOUND, rewind_epoch=40)))
    assert later.set_index(["statistic", "budget"])["mean"][
        ("delta_same_budget", 0)
    ] == pytest.approx(best - 0.16)
    longer = pruning_table().assign(epochs=500)
    stopped = answer_table(values(dense=dense, pruning=longer, prune=REWOUND))
    assert stopped.set_index(["statistic", "budget"])["mean"][
        ("dense_same_budget_error", 0)
    ] == pytest.approx(0.20)
    fine_tuned = answer_table(values(dense=dense, prune=PruneConfig.of(methods=["imp-finetune"])))
    assert "delta_same_budget" not in set(fine_tuned["statistic"])  # not trained from the start


def test_the_dense_baseline_is_early_stopped_by_the_patience_that_stops_a_round():
    """Validation errors 0.5, 0.3, 0.35, 0.36, 0.2 at epochs 0, 50, ..., 200: a round with
    patience P stops at epoch (best epoch + P), having evaluated every epoch up to there."""
    run = pd.DataFrame({"epoch": [200, 0, 50, 100, 150], "val_error": [0.2, 0.5, 0.3, 0.35, 0.36]})
    chosen = {p: early_stopped(run, p)["epoch"] for p in (None, 50, 100, 149, 150)}
    assert chosen == {None: 200, 50: 50, 100: 50, 149: 50, 150: 200}


def tuning_table(seeds: int = 3) -> pd.DataFrame:
    """The IT width (40) trained again with weight decay 0.01 and 0.1, each evaluated at
    epochs 50 and 100. Validation picks, per seed: 0.1 at epoch 50 for seed 0 (0.12), 0.01
    at epoch 100 for seed 1 (its own run, 0.21, loses), and for seed 2 the sweep's own run,
    whose 0.23 ties the tuned ones' best (the smaller weight decay wins a tie)."""
    val = {  # (seed, weight decay) -> validation error at epochs 50, 100
        (0, 0.01): (0.30, 0.25),
        (0, 0.1): (0.12, 0.40),
        (1, 0.01): (0.30, 0.15),
        (1, 0.1): (0.30, 0.30),
        (2, 0.01): (0.23, 0.50),
        (2, 0.1): (0.23, 0.50),
    }
    rows = []
    for (seed, weight_decay), errors in val.items():
        if seed >= seeds:
            continue
        for epoch, error in zip((50, 100), errors, strict=True):
            row = dense_table(seeds).query("width == 40 and seed == @seed").iloc[0].to_dict()
            row.update(
                weight_decay=weight_decay,
                epoch=epoch,
                val_error=error,
                test_error=error - 0.05,  # test follows validation here
            )
            rows.append(row)
    return pd.DataFrame(rows)


def test_the_weight_decay_baseline_is_chosen_on_validation_with_the_sweeps_run_among_it():
    """Per seed, every candidate early-stopped by the rounds' rule, then the lowest
    validation error: 0.1 (epoch 50), 0.01 (epoch 100), and the sweep's own 0.0 on a tie."""
    dense = dense_table()
    choices = weight_decay_choices(dense, tuning_table(), 0.0, None)
    family = ("d", "mlp", 0.2, "incorrect-class", 40)
    picked = {seed: (wd, row["epoch"]) for (*key, seed), (wd, row) in choices.items()}
    assert set(choices) == {(*family, seed) for seed in range(3)}
    assert picked == {0: (0.1, 50), 1: (0.01, 100), 2: (0.0, 100)}
    # with patience 0 a run is read as stopped at its first evaluation after 0 epochs' wait:
    # seed 1's weight decay 0.01 is then stopped at epoch 50 (0.30) and loses to its own run
    impatient = weight_decay_choices(dense, tuning_table(), 0.0, 0)
    assert impatient[(*family, 1)][0] == 0.0
    table = answer_table(values(dense=dense, prune=None, tuned=choices))
    row = table.set_index(["statistic", "budget"])["mean"]
    assert row[("weight_decay_choice", 0)] == pytest.approx((0.1 + 0.01 + 0.0) / 3)
    best = row[("best_test_error", 0)]
    # the chosen test errors: 0.07 and 0.10 (validation - 0.05), seed 2's own run 0.22
    assert row[("delta_weight_decay", 0)] == pytest.approx(best - (0.07 + 0.10 + 0.22) / 3)
    assert "delta_weight_decay" not in set(answer_table(values())["statistic"])  # not tuned
    # its comparison closes question 2, and its "no" would be a claim of no difference
    tested = comparison_table(
        values(dense=dense, tuned=choices), Primary("imp-rewind", "early-stopped"), 0.05, 0.95, 0.01
    )
    order = list(tested.sort_values("step")["comparison"])
    assert order.index("vs-weight-decay") == order.index("vs-best-dense") + 1
    assert tested.set_index("comparison").loc["vs-weight-decay", "equivalence_step"] > 0


def test_the_walk_compares_each_round_with_the_dense_curves_of_equal_footing():
    """Each seed's dense runs are 0.05 better on test at epoch 50 than at their end (epoch
    100), but worse on validation, so early stopping keeps the end. Rewound rounds that
    report epoch 50 (or 60) and lie on the epoch-50 curve are 0.05 below the early-stopped
    and the final curves, and on the curve of equal epochs."""
    early = dense_table().assign(
        epoch=50, test_error=lambda t: t["test_error"] - 0.05, val_error=0.9
    )
    dense = pd.concat([dense_table(), early], ignore_index=True)
    curve = dense_table().query("seed == 0")[["n_params", "test_error"]].sort_values("n_params")
    rows = pruning_table(budgets=(5_000, 2_000), seeds=1)
    pruned = rows["round"] > 0
    rows.loc[pruned, "test_error"] = curve_at(curve, rows.loc[pruned, "n_nonzero"]) - 0.05
    for epochs in (50, 60):
        table = answer_table(values(dense=dense, pruning=rows.assign(epochs=epochs), prune=REWOUND))
        row = table.set_index(["statistic", "budget"])["mean"]
        assert row[("walk_gap", 0)] == pytest.approx(-0.05)
        assert row[("epoch_walk_gap", 0)] == pytest.approx(0.0)
        assert row[("final_walk_gap", 0)] == pytest.approx(-0.05)
        assert row[("walk_rounds", 0)] == row[("epoch_walk_rounds", 0)] == 2.0
    # with the early epochs better on validation too, early stopping takes them
    chosen = dense.assign(val_error=np.where(dense["epoch"] == 50, 0.0, dense["val_error"]))
    table = answer_table(values(dense=chosen, pruning=rows, prune=REWOUND))
    assert table.set_index(["statistic", "budget"])["mean"][("walk_gap", 0)] == pytest.approx(0)
    unrewound = answer_table(values(dense=dense, pruning=rows))
    assert "epoch_walk_gap" not in set(unrewound["statistic"])  # no training budget to match
    assert "walk_gap" in set(unrewound["statistic"])


def study_values(seeds=6, rewind_gain=0.04, random_gain=0.10):
    """Two methods at the IT (imp-rewind improves by ``rewind_gain``, random by more) and a
    neighbour before it, over ``seeds`` seeds."""
    rows = [
        row
        for seed in range(seeds)
        for method, gain in (("imp-rewind", rewind_gain), ("random", random_gain))
        for row in trajectory_rows(method, seed, gain + 0.002 * seed)
    ]
    rows += [
        row
        for seed in range(seeds)
        for row in trajectory_rows("imp-rewind", seed, 0.0, role="before", width=20)
    ]
    return values(dense=dense_table(seeds), pruning=pd.DataFrame(rows))


def test_comparisons_are_tested_in_the_plans_order():
    tested = comparison_table(
        study_values(), Primary("imp-rewind", "early-stopped"), 0.05, 0.95, 0.01
    )
    validate_table(tested, "comparisons")
    primary = tested[tested["family"] == "primary"]
    assert len(primary) == 1 and primary.iloc[0]["comparison"] == "vs-early-stopped"
    assert primary.iloc[0]["method"] == "imp-rewind"
    assert primary.iloc[0]["p"] == pytest.approx(2 / 64)  # every seed improves: the floor
    assert primary.iloc[0]["decision"] == "lower"  # 0.031 < 0.05, interval below zero
    # the primary method's other comparisons, in the questions' order: four decided at the
    # floor p, then the walk (p 0.094) stops the sequence
    sequence = tested[tested["family"] == "sequence"].sort_values("step")
    assert list(sequence["comparison"]) == [
        "vs-final",
        "vs-best-width",
        "vs-best-dense",
        "source",
        "walk",
    ]
    assert list(sequence["decision"]) == ["lower", "higher", "higher", "higher", "not decided"]
    assert (sequence["method"] == "imp-rewind").all()
    # the other method is exploratory: never decided, whatever its p
    exploratory = tested[tested["family"] == "exploratory"]
    assert set(exploratory["method"]) == {"random"} and not exploratory["decided"].any()
    assert exploratory["p"].min() == pytest.approx(2 / 64)
    source = tested[tested["comparison"] == "source"].iloc[0]
    assert source["against"] == "before w20" and source["budgets"] == 2
    assert tested[tested["comparison"] == "method"].empty  # no weights-vs-mask pair here
    # equivalence: the primary alone; then, in sequence, the early-stopped width and epoch
    # (5.5 points worse), the neighbour and the walk. The first is not shown within 1 point,
    # so the neighbour and the walk are not reached -- though the walk's own TOST p (1/64)
    # is below alpha
    assert primary.iloc[0]["equivalence"] == "not shown"
    asked = tested[tested["equivalence_step"] > 0]
    asked = asked[asked["family"] == "sequence"].sort_values("equivalence_step")
    assert list(asked["comparison"]) == ["vs-best-dense", "source", "walk"]
    assert list(asked["equivalence"]) == ["not shown", "not reached", "not reached"]
    assert asked.iloc[2]["equivalence_p"] == pytest.approx(1 / 64)
    wide = comparison_table(study_values(), Primary("imp-rewind", "early-stopped"), 0.05, 0.95, 0.1)
    asked = wide[wide["equivalence_step"] > 0]
    assert set(asked["equivalence"]) == {"equivalent"} and len(asked) == 4
    assert (asked["equivalence_bound"] < 0.1).all()


def test_the_headline_follows_the_designated_primary_even_when_another_looks_better():
    per_seed = study_values()
    table = answer_table(per_seed)
    for primary in ("imp-rewind", "random"):
        tested = comparison_table(per_seed, Primary(primary, "early-stopped"), 0.05, 0.95, 0.01)
        first = sentences(table, tested, [FAMILY], primary, lambda family: "unused")[0]
        assert first.startswith("d/mlp, 20% noise: (1) Does the pruned IT model beat")
        assert f"Pruned with {primary} to its best round" in first
    (row,) = tested[tested["family"] == "primary"]["method"]
    assert row == "random"


def test_the_page_says_what_the_numbers_say_and_no_more():
    tested = comparison_table(values(), Primary("imp-rewind", "final"), 0.05, 0.95, 0.01)
    text = sentences(answer_table(values()), tested, [FAMILY], "imp-rewind", lambda f: "")
    # 3 seeds: the sign-flip test rejects no centre at 0.05, so it has no interval
    assert "Δ -4.0 (no interval at 3 seeds) points of test error against the final" in text[0]
    assert "not decided: 3 seeds cannot reach alpha (the smallest p they allow is 0.25)" in text[0]
    assert "not tested: the fixed sequence stopped earlier, at step 1 (vs-early-stopped" in text[1]
    assert text[1].startswith("(2) Does the pruned IT model beat the dense model early-stopped")
    assert text[3].startswith("(4) Does the pruned trajectory walk the dense curve backwards?")
    # each seed stops fitting at round 2; its worst validation error before its best round
    # (round 1) is the dense source's, two rounds off
    assert "noisy labels at round 2.0 on average (the sparse IT, in 3 seeds)" in text[4]
    assert "within one round of it in 0/3 seeds (worst round 0.0, best 1.0" in text[4]
    assert text[5].startswith("What this cannot show") and "between widths 20 and 40" in text[5]
    page = page_table(answer_table(values()))
    assert page.loc[0, "Δ vs final dense [95%]"] == "-4.0 [-6.5, -1.5]"
    assert set(inference_table(tested)["decision"]) == {"not decided", "not reached"}
    decided = comparison_table(study_values(), Primary("imp-rewind", "final"), 0.05, 0.95, 0.01)
    text = sentences(answer_table(study_values()), decided, [FAMILY], "imp-rewind", str)
    assert "Δ -4.5 [-5.0, -4.0] points of test error against the final dense model" in text[0]
    assert "tested alone at alpha 0.05): yes, lower." in text[0]
    assert "random -10.5 [-11.0, -10.0] (p 0.031, exploratory, no claim)" in text[0]
    assert "step 3 of the fixed sequence at alpha 0.05): pruned higher" in text[1]
    assert (
        "before w20 +7.8 [+7.5, +8.0] (mean over 2 budgets; IT worse, p 0.031, sequence " in text[2]
    )
    # equivalence to early stopping (4.5 points better) is not shown, which stops that sequence
    assert "equivalence within ±1.0 points not shown (TOST p 1.00; these seeds could" in text[1]
    assert "equivalence not tested (the equivalence sequence stopped earlier)" in text[2]
    # the walk stops the sequence with a p of 0.094, and says what it could have decided
    assert "not decided at 6 seeds (with their scatter, only a shift of more than 0.3" in text[3]
    assert "equivalence not tested (the equivalence sequence stopped earlier)" in text[3]
    # No "between widths 40 and 40"; a comparison that is not at budgets averages none.
    sure = dataclasses.replace(FAMILY, it=dataclasses.replace(FAMILY.it, bootstrap=BOOT_40))
    text = sentences(answer_table(values()), tested, [sure], "imp-rewind", str)
    assert "puts the IT at width 40 in 95% of resamples" in text[5]
    assert set(inference_table(tested)["budgets averaged"]) <= {"n/a"} | set(range(1, 99))


def test_a_study_with_nothing_pruned_says_why():
    empty = values(pruning=pruning_table().iloc[:0])
    assert answer_table(empty).empty
    validate_table(answer_table(empty), "answer")
    tested = comparison_table(empty, Primary("imp-rewind", "final"), 0.05, 0.95, 0.01)
    validate_table(tested, "comparisons")
    (text,) = sentences(answer_table(empty), tested, [FAMILY], "imp-rewind", lambda f: "why.")
    assert text == "d/mlp, 20% noise: why."


def test_the_answer_figure_caption_fits_its_width():
    figure = answer_figure(answer_table(values()))
    width, _ = figure.theme.getp("figure_size")
    lines = figure.labels.caption.splitlines()
    assert len(lines) > 1 and all(len(line) <= 12 * width for line in lines)


def test_the_2x2_asks_question_1_with_neither_side_early_stopped_first():
    """With the primary method's fixed-budget twin pruned at the IT, question 1 is first
    asked on equal footing: the twin (every round to its full budget) against the final dense
    model, at step 1 of the sequence, then the early-stopped model against it."""
    rows = [
        row
        for seed in range(6)
        for method, gain in (("imp-rewind", 0.04), ("imp-rewind-fixed", 0.01 + 0.002 * seed))
        for row in trajectory_rows(method, seed, gain)
    ]
    per_seed = values(dense=dense_table(6), pruning=pd.DataFrame(rows))
    tested = comparison_table(per_seed, Primary("imp-rewind", "early-stopped"), 0.05, 0.95, 0.01)
    validate_table(tested, "comparisons")
    sequence = tested[tested["family"] == "sequence"].sort_values("step")
    assert list(sequence["comparison"])[:2] == ["fixed-budget", "vs-final"]
    fixed = sequence.iloc[0]
    assert (fixed["method"], fixed["question"], fixed["decision"]) == ("imp-rewind", 1, "lower")
    assert fixed["mean"] == pytest.approx(-0.015)  # the twin's gain, 1 to 2 points
    assert set(tested.loc[tested["method"] == "imp-rewind-fixed", "family"]) == {"exploratory"}
    text = sentences(answer_table(per_seed), tested, [FAMILY], "imp-rewind", str)[0]
    assert "Neither side early-stopped -- every round of imp-rewind-fixed trained to its" in text
    assert "Δ -1.5 [-2.0, -1.0] points against the final dense model (6 seeds" in text
    assert "The 2 x 2 of test error (%): dense " in text
    assert "Early-stopped, unlike the dense model: Pruned with imp-rewind" in text
    assert "Other methods" not in text  # the twin's row is the equal-footing sentence


def test_a_full_budget_method_walks_the_curve_of_final_models():
    """The walk's reference has the rounds' training: early-stopped curves for rounds that
    stop on validation, the final models for a full-budget twin (its rounds are not)."""
    prune = PruneConfig.of(methods=["imp-rewind", "imp-rewind-fixed"], patience=50)
    by_method = footings(prune)
    assert by_method["imp-rewind"] == Footing(50, 0, early_stopped=True)
    assert by_method["imp-rewind-fixed"] == Footing(None, 0, early_stopped=False)
    fixed = footings(PruneConfig.of(methods=["imp-rewind"], stop="fixed", patience=None))
    assert not fixed["imp-rewind"].early_stopped
    # a dense run whose early epochs are best on validation: the early-stopped curve differs
    # from the final one, and only the early-stopped method is walked against it
    dense = dense_table()
    early = dense.assign(epoch=50, val_error=dense["val_error"] - 0.05, test_error=0.0)
    both = pd.concat([early, dense], ignore_index=True)
    rows = [
        row
        for seed in range(3)
        for method in ("imp-rewind", "imp-rewind-fixed")
        for row in trajectory_rows(method, seed, 0.0)
    ]
    table = answer_table(values(dense=both, pruning=pd.DataFrame(rows), prune=prune))
    gap = table.set_index(["method", "statistic"])["mean"]
    assert gap[("imp-rewind-fixed", "walk_gap")] == gap[("imp-rewind-fixed", "final_walk_gap")]
    assert gap[("imp-rewind", "walk_gap")] != gap[("imp-rewind", "final_walk_gap")]
