"""The answer's statistics on trajectories whose answer is known by construction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ddprune.analysis.answer import (
    answer_table,
    curve_at,
    sparse_threshold,
    t_interval,
    walk_score,
)
from ddprune.analysis.answer_page import answer_figure, page_table, sentences
from ddprune.foundations.tables import validate_table

# A dense curve: test error 0.30, 0.10, 0.20 at 100, 1,000 and 10,000 parameters, seeds
# spread by +-0.02 around the mean.
PARAMS = {10: 100, 20: 1_000, 40: 10_000}
MEANS = {10: 0.30, 20: 0.10, 40: 0.20}


def dense_table() -> pd.DataFrame:
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
            "test_error": MEANS[width] + 0.02 * (seed - 1),
        }
        for width in PARAMS
        for seed in range(3)
    ]
    return pd.DataFrame(rows)


def curve() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "n_params": list(PARAMS.values()),
            "mean": list(MEANS.values()),
            "low": [m - 0.02 for m in MEANS.values()],
            "high": [m + 0.02 for m in MEANS.values()],
        }
    )


def on_curve(counts: list[float], offset: float = 0.0) -> pd.DataFrame:
    errors = curve_at(curve(), counts)["mean"] + offset
    return pd.DataFrame({"n_nonzero": counts, "test_error": errors})


def test_interpolation_is_linear_in_log_parameters_and_never_extrapolates():
    at = curve_at(curve(), [100, math.sqrt(100 * 1_000), 10_000, 99, 10_001])
    assert at["mean"].tolist()[:3] == pytest.approx([0.30, 0.20, 0.20])
    assert at[["mean", "low", "high"]].iloc[3:].isna().all().all()


def test_a_trajectory_on_the_dense_curve_scores_zero_and_one_offset_by_d_scores_d():
    counts = [8_000, 3_000, 1_000, 400, 150]
    assert walk_score(on_curve(counts), curve()) == {
        "walk_mean_abs": pytest.approx(0.0),
        "walk_max_abs": pytest.approx(0.0),
        "walk_in_band": 1.0,
        "walk_rounds": 5.0,
    }
    shifted = walk_score(on_curve(counts, 0.05), curve())
    assert shifted["walk_mean_abs"] == pytest.approx(0.05)
    assert shifted["walk_max_abs"] == pytest.approx(0.05)
    assert shifted["walk_in_band"] == 0.0  # 5 points is outside the +-2-point seed band


def test_counts_outside_the_trained_range_get_no_value():
    inside_and_out = walk_score(on_curve([20_000, 5_000, 50], 0.01), curve())
    assert inside_and_out["walk_rounds"] == 1.0
    assert inside_and_out["walk_mean_abs"] == pytest.approx(0.01)
    outside = pd.DataFrame({"n_nonzero": [50, 20], "test_error": [0.5, 0.6]})
    assert walk_score(outside, curve()) == {"walk_rounds": 0.0}


def test_the_interval_is_the_t_interval_of_the_mean():
    low, high = t_interval(np.array([1.0, 2.0, 3.0]))
    # mean 2, sd 1, n 3: t(0.975, 2) = 4.302653
    assert (low, high) == pytest.approx((2 - 4.302653 / math.sqrt(3), 2 + 4.302653 / math.sqrt(3)))
    assert all(math.isnan(v) for v in t_interval(np.array([1.0])))


def test_the_sparse_threshold_is_where_the_noisy_labels_stop_fitting():
    # Sparse double descent: fits until round 3, where the test error peaks, best at round 5.
    trajectory = pd.DataFrame(
        {
            "round": range(8),
            "train_error": [0, 0, 0, 0.05, 0.12, 0.18, 0.2, 0.4],
            "test_error": [0.30, 0.31, 0.33, 0.36, 0.28, 0.22, 0.25, 0.5],
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


def pruning_table(budgets=(500, 50)) -> pd.DataFrame:
    """The IT source (width 40) of three seeds: pruned twice to exact budgets, each seed
    improving by 3, 4 and 5 points at the first budget."""
    rows = []
    for seed in range(3):
        dense_error = MEANS[40] + 0.02 * (seed - 1)
        for round_index, kept in enumerate([8_000, *budgets]):
            error = dense_error - (0.03 + 0.01 * seed) * (round_index == 1)
            rows.append(
                {
                    "study": "s",
                    "dataset": "d",
                    "model": "mlp",
                    "noise": 0.2,
                    "noise_kind": "incorrect-class",
                    "width": 40,
                    "seed": seed,
                    "source_epoch": 100,
                    "axis": "width",
                    "role": "at",
                    "method": "imp-rewind",
                    "round": round_index,
                    "diverged": False,
                    "test_error": error,
                    "train_error": 0.0 if round_index < 2 else 0.2,
                    "n_nonzero": kept + 200,
                    "n_prunable": 8_000,
                    "n_prunable_nonzero": kept,
                }
            )
    return pd.DataFrame(rows)


FAMILY = {
    "dataset": "d",
    "model": "mlp",
    "noise": 0.2,
    "noise_kind": "incorrect-class",
    "criteria": {"test_error_peak": {"status": "ok", "width": 20}},
}


def test_the_answer_table_pairs_each_seed_with_its_own_dense_source():
    table = answer_table(dense_table(), pruning_table(), [FAMILY], [500, 50, 7], 0.01)
    validate_table(table, "answer")
    row = table.set_index(["statistic", "budget"])
    delta = row.loc[("delta_best", 0)]
    assert delta["seeds"] == 3
    assert delta["mean"] == pytest.approx(-0.04)
    assert (delta["low"], delta["high"]) == pytest.approx(
        (-0.04 - 4.302653 * 0.01 / math.sqrt(3), -0.04 + 4.302653 * 0.01 / math.sqrt(3))
    )
    assert row.loc[("best_sparsity", 0), "mean"] == pytest.approx(1 - 500 / 8_000)
    assert row.loc[("delta_at_budget", 50), "mean"] == pytest.approx(0.0)
    assert ("delta_at_budget", 7) not in row.index  # never reached: no value, no guess
    assert row.loc[("sparse_it_round", 0), "mean"] == 2.0
    assert row.loc[("passes_peak", 0), "mean"] == 1.0  # from 8,200 to 250 across 1,000
    assert math.isnan(row.loc[("passes_peak", 0), "low"])  # indicators get no interval


def test_budget_controls_compare_with_the_dense_run_early_and_at_its_best():
    """The dense IT runs (width 40) were better at epoch 50 (0.15, 0.16, 0.17) than at their
    end (0.18, 0.20, 0.22): a rewound round retrained for 50 epochs is compared with that."""
    early = dense_table().query("width == 40").assign(epoch=50)
    early["test_error"] = 0.15 + 0.01 * early["seed"]
    dense = pd.concat([dense_table(), early], ignore_index=True)
    table = answer_table(dense, pruning_table(), [FAMILY], None, 0.01, {"imp-rewind": 50})
    validate_table(table, "answer")
    row = table.set_index(["statistic", "budget"])["mean"]
    assert row[("dense_same_budget_error", 0)] == pytest.approx(0.16)
    assert row[("dense_best_epoch_error", 0)] == pytest.approx(0.16)
    best = row[("best_test_error", 0)]
    assert row[("delta_same_budget", 0)] == pytest.approx(best - 0.16)
    assert row[("delta_best_epoch", 0)] == pytest.approx(best - 0.16)
    unmatched = answer_table(dense, pruning_table(), [FAMILY], None, 0.01, {"imp-rewind": 75})
    assert "delta_same_budget" not in set(unmatched["statistic"])  # no evaluation there
    assert "delta_best_epoch" in set(unmatched["statistic"])


def test_the_page_says_what_the_numbers_say():
    table = answer_table(dense_table(), pruning_table(), [FAMILY], None, 0.01)
    (text,) = sentences(table, [FAMILY], lambda family: "unused")
    assert text.startswith(
        "d/mlp, 20% noise: pruned with imp-rewind, the IT model (width 40) lowers its test "
        "error by 4.0 points (95% interval -6.5 to -1.5, 3 seeds) at 94% sparsity, a recovery"
    )
    assert "sparse IT) at round 2.0" in text
    assert "Like for like" not in text  # no budgets
    budgets = answer_table(dense_table(), pruning_table(), [FAMILY], [500, 50], 0.01)
    (text,) = sentences(budgets, [FAMILY], lambda family: "unused")
    assert "Like for like, at 500 prunable weights with imp-rewind, the test error is 16.0% " in (
        text
    )
    page = page_table(table)
    assert page.loc[0, "recovers"] == "yes" and page.loc[0, "Δ best [95%]"] == "-4.0 [-6.5, -1.5]"


def test_a_study_with_nothing_pruned_says_why():
    empty = answer_table(dense_table(), pruning_table().iloc[:0], [FAMILY], None, 0.01)
    assert empty.empty
    validate_table(empty, "answer")
    (text,) = sentences(empty, [FAMILY], lambda family: "nothing was pruned: reasons.")
    assert text == "d/mlp, 20% noise: nothing was pruned: reasons."


def test_the_answer_figure_caption_fits_its_width():
    table = answer_table(dense_table(), pruning_table(), [FAMILY], [500, 50, 7], 0.01)
    figure = answer_figure(table)
    width, _ = figure.theme.getp("figure_size")
    lines = figure.labels.caption.splitlines()
    assert len(lines) > 1 and all(len(line) <= 12 * width for line in lines)
