"""The threshold rule on synthetic dense tables with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import threshold_document
from ddprune.analysis.figures.plotting import it_lines
from ddprune.analysis.summaries import html_number, threshold_table, write_html
from ddprune.analysis.threshold.criteria import SEARCHES, find_peak, interpolation_point
from ddprune.analysis.threshold.detection import CheckpointFiles, detect, to_yaml_ready
from ddprune.foundations.tables import frame, write_table
from ddprune.jobs.threshold import threshold
from ddprune.study import load_study
from ddprune.study.hparams import ThresholdConfig
from ddprune.study.it_criteria import IT_CRITERIA, ITCriterion
from ddprune.study.paths import Layout, fill
from ddprune.study.runs import Run
from ddprune.study.threshold_file import (
    FamilyThreshold,
    ThresholdFileError,
    load_threshold,
    write_threshold,
)

WIDTHS = [2, 4, 8, 16, 32, 64, 128, 256]
#          descent    min  rise   peak  second descent
ERROR = [0.50, 0.30, 0.15, 0.20, 0.30, 0.22, 0.18, 0.16]
TRAIN = [0.55, 0.35, 0.20, 0.08, 0.005, 0.0, 0.0, 0.0]
LOSS = [1.5, 1.0, 0.6, 0.8, 1.1, 1.3, 1.4, 1.5]  # keeps rising: no test-loss peak


def dense_table(
    error=ERROR,
    train=TRAIN,
    loss=LOSS,
    widths=WIDTHS,
    seeds=(0, 1, 2),
    jitter=0.0,
    drop=(),
    nan=(),
    test_error=None,
    test_loss=None,
) -> pd.DataFrame:
    """One final row per (width, seed): ``error`` and ``loss`` on validation, and on test
    unless ``test_error`` / ``test_loss`` say otherwise; ``drop`` removes runs, ``nan`` makes
    them diverge."""
    rng = np.random.default_rng(0)
    rows = []
    for i, width in enumerate(widths):
        for seed in seeds:
            if (width, seed) in drop:
                continue
            noise = jitter * rng.standard_normal()
            bad = math.nan if (width, seed) in nan else 0.0
            rows.append(
                {
                    "study": "s",
                    "dataset": "digits",
                    "model": "mlp",
                    "width": width,
                    "noise": 0.2,
                    "noise_kind": "incorrect-class",
                    "noise_realised": 0.2,
                    "seed": seed,
                    "n_train": 1000,
                    "n_val": 300,
                    "n_test": 497,
                    "data_sha256": "0" * 64,
                    "epoch": 100,
                    "step": 100,
                    "lr": 1e-3,
                    "error_metric": "classification_error",
                    "train_loss": 0.1,
                    "train_error": train[i] + bad,
                    "train_error_clean": 0.2,
                    "memorization": 0.5,
                    "val_loss": loss[i] + bad,
                    "val_error": error[i] + noise + bad,
                    "test_loss": (test_loss or loss)[i] + bad,
                    "test_error": (test_error or error)[i] + noise + bad,
                    "diverged": (width, seed) in nan,
                    "n_params": 13 * width,
                    "n_nonzero": 13 * width,
                    "sparsity": 0.0,
                    "wall_seconds": 1.0,
                }
            )
    return pd.DataFrame(rows)


def checkpoint(run):
    return f"ckpt/w{run['width']}/s{run['seed']}.pt"


def periodic(run):
    """Synthetic runs are checkpointed every 20 epochs."""
    return {
        epoch: f"ckpt/w{run['width']}/s{run['seed']}/e{epoch}.pt" for epoch in range(0, 101, 20)
    }


def analyse(table, **config):
    families = detect(table, ThresholdConfig.of(**config), CheckpointFiles(checkpoint, periodic))
    assert len(families) == 1
    return families[0]


def test_known_peak_crossing_and_selection():
    family = analyse(dense_table())
    error = family["criteria"]["val_error_peak"]
    assert error["status"] == "ok" and error["width"] == 32
    assert error["height"] == pytest.approx(0.30)
    assert error["prominence"] == pytest.approx(0.30 - 0.16)  # above the higher side minimum
    assert error["first_minimum_width"] == 8
    assert family["criteria"]["val_loss_peak"]["status"] == "no_peak"
    assert "still rising" in family["criteria"]["val_loss_peak"]["reason"]
    interpolation = family["criteria"]["interpolation"]
    assert interpolation["width"] == 32 and interpolation["params_per_sample"] == 13 * 32 / 1000
    it = family["it"]
    assert it["criterion"] == "val_error_peak" and it["width"] == 32 and not it["fallback_used"]
    steps = {"val_error_peak": 0, "interpolation": 0, "test_error_peak": 0}  # with the oracle
    assert it["grid_steps_from_it"] == steps
    assert not it["criteria_agree"]  # the test-loss peak has no answer
    (row,) = threshold_table([FamilyThreshold.from_dict(family)]).to_dict("records")
    assert row["criteria agree"] == "no; val_loss_peak: no answer"
    roles = {(s["width"], s["role"]) for s in family["selection"]}
    assert roles == {(16, "before"), (32, "at"), (64, "after"), (8, "control"), (256, "control")}
    assert len(family["selection"]) == 5 * 3
    assert {s["checkpoint"] for s in family["selection"] if s["width"] == 32} == {
        "ckpt/w32/s0.pt",
        "ckpt/w32/s1.pt",
        "ckpt/w32/s2.pt",
    }


def test_no_choice_reads_the_test_curves():
    """Test curves that peak elsewhere (as if the test labels were permuted) change the
    oracle's answer and nothing that is chosen: the IT, its interval, the selection."""
    other_error = [0.40, 0.45, 0.20, 0.50, 0.21, 0.19, 0.60, 0.15]
    other_loss = [2.0, 0.5, 1.5, 0.4, 0.9, 0.3, 0.8, 0.2]
    plain = analyse(dense_table(jitter=0.01))
    scrambled = analyse(dense_table(jitter=0.01, test_error=other_error, test_loss=other_loss))
    assert scrambled["criteria"]["test_error_peak"] != plain["criteria"]["test_error_peak"]
    assert scrambled["selection"] == plain["selection"]
    chosen = ("val_error_peak", "val_loss_peak", "interpolation")
    for name in chosen:
        assert scrambled["criteria"][name] == plain["criteria"][name]

    def choice(it):  # the oracles' distances from the IT are reported, and differ
        steps = {k: v for k, v in it["grid_steps_from_it"].items() if k in chosen}
        return {**it, "grid_steps_from_it": steps}

    assert choice(scrambled["it"]) == choice(plain["it"])


def test_more_neighbours_and_other_controls():
    family = analyse(dense_table(), neighbours=2, controls=("smallest", "largest"))
    roles = sorted({(s["offset"], s["role"], s["width"]) for s in family["selection"]})
    assert roles == [
        (-4, "control", 2),
        (-2, "before", 8),
        (-1, "before", 16),
        (0, "at", 32),
        (1, "after", 64),
        (2, "after", 128),
        (3, "control", 256),
    ]


def test_ties_pick_the_smallest_width():
    error = [0.5, 0.3, 0.15, 0.30, 0.30, 0.2, 0.18, 0.16]
    assert analyse(dense_table(error=error))["criteria"]["val_error_peak"]["width"] == 16
    flat_start = [0.3, 0.3, 0.15, 0.2, 0.3, 0.2, 0.18, 0.16]  # tie continues the descent
    assert analyse(dense_table(error=flat_start))["criteria"]["val_error_peak"]["width"] == 32


def test_noisy_seeds_still_find_the_peak_and_the_bootstrap_brackets_it():
    family = analyse(dense_table(jitter=0.02), bootstrap=300)
    assert family["it"]["width"] == 32
    boot = family["it"]["bootstrap"]
    assert boot["status"] == "ok" and boot["low"] <= 32 <= boot["high"]
    assert boot["low"] >= 16 and boot["high"] <= 64
    assert 0 < boot["defined_fraction"] <= 1
    found = [c for c in family["criteria"].values() if c["status"] == "ok"]
    assert len(found) == 3  # the loss peaks are still rising: their intervals are undefined
    for criterion in found:  # every criterion, from the same resamples
        assert criterion["bootstrap"]["low"] <= criterion["width"] <= criterion["bootstrap"]["high"]
    assert family["criteria"]["val_loss_peak"]["bootstrap"]["status"] == "undefined"
    assert family["criteria"]["val_error_peak"]["bootstrap"] == boot  # it is the IT's criterion


def test_missing_widths_and_missing_seeds_are_noted_not_fatal():
    drop = {(16, 0), (16, 1), (16, 2), (64, 1)}
    family = analyse(dense_table(drop=drop))
    assert 16 not in family["widths"]
    assert "width 64: 2 of 3 seeds" in family["notes"]
    assert family["it"]["width"] == 32
    before = {s["width"] for s in family["selection"] if s["role"] == "before"}
    assert before == {8}  # the neighbour on the grid that was actually trained
    assert not any(s["width"] == 64 and s["seed"] == 1 for s in family["selection"])


def test_diverged_runs_are_excluded_and_reported():
    family = analyse(dense_table(nan={(32, 0)}))
    assert any("diverged" in note and "width 32 seed 0" in note for note in family["notes"])
    assert family["it"]["width"] == 32
    assert not any(s["width"] == 32 and s["seed"] == 0 for s in family["selection"])


def test_a_whole_width_diverged():
    family = analyse(dense_table(nan={(32, 0), (32, 1), (32, 2)}))
    assert 32 not in family["selection"] and family["it"]["status"] == "ok"


def test_monotone_curve_falls_back_to_the_interpolation_point():
    error = [0.5, 0.4, 0.3, 0.25, 0.2, 0.18, 0.16, 0.15]
    family = analyse(dense_table(error=error))
    assert family["criteria"]["val_error_peak"]["status"] == "no_peak"
    assert "decreases over the whole grid" in family["criteria"]["val_error_peak"]["reason"]
    assert family["it"]["criterion"] == "interpolation" and family["it"]["fallback_used"]
    assert family["it"]["width"] == 32


def test_no_peak_and_no_fallback_is_undefined_with_a_reason():
    error = [0.5, 0.4, 0.3, 0.25, 0.2, 0.18, 0.16, 0.15]
    family = analyse(dense_table(error=error), fallback="none")
    assert family["it"]["status"] == "undefined" and "decreases" in family["it"]["reason"]
    assert family["selection"] == []


def test_never_interpolates():
    train = [0.5, 0.4, 0.3, 0.25, 0.2, 0.18, 0.16, 0.15]
    family = analyse(dense_table(train=train))
    assert family["criteria"]["interpolation"]["status"] == "never_interpolates"
    assert family["it"]["criterion"] == "val_error_peak"
    assert "interpolation" not in family["it"]["grid_steps_from_it"]


def test_single_width():
    family = analyse(dense_table(error=[0.3], train=[0.0], loss=[1.0], widths=[16]))
    assert family["criteria"]["val_error_peak"]["status"] == "single_width"
    assert family["criteria"]["interpolation"]["width"] == 16
    assert family["it"]["criterion"] == "interpolation"


def test_small_bumps_are_not_peaks():
    error = [0.5, 0.4, 0.3, 0.302, 0.25, 0.2, 0.18, 0.15]
    family = analyse(dense_table(error=error), fallback="none")
    assert family["criteria"]["val_error_peak"]["status"] == "no_peak"
    assert "prominence" in family["criteria"]["val_error_peak"]["reason"]


def test_smoothing_removes_a_one_width_spike():
    values = np.array([0.5, 0.3, 0.2, 0.45, 0.2, 0.15, 0.3, 0.35, 0.2])  # spike at width 4
    widths = list(range(1, 10))
    assert find_peak(widths, values, 0.0)["width"] == 4
    smoothed = find_peak(widths, values, 0.0, window=3)
    assert smoothed["width"] == 8 and smoothed["height"] == 0.35  # height from the raw curve


def test_interpolation_tolerance_is_inclusive():
    result = interpolation_point([1, 2, 3], np.array([0.5, 0.01, 0.0]), 0.01)
    assert result["width"] == 2


def test_a_selection_naming_an_untrained_checkpoint_fails_clearly(tmp_path):
    layout = Layout(str(tmp_path))
    write_table(frame(dense_table().to_dict("records"), "dense"), layout.dense, "dense")
    sweep = {"dataset": "digits", "model": "mlp", "widths": WIDTHS, "noise": [0.2]}
    study = load_study({"study": "s", "sweep": [{**sweep, "seeds": [0, 1, 2]}]})
    files = {
        "dense": layout.dense,
        "output": layout.threshold,
        "final": layout.final_checkpoint,
        "checkpoints": layout.checkpoints,
    }
    with pytest.raises(FileNotFoundError, match=r"15 checkpoint.*not trained.*width16/seed0/final"):
        threshold(study, **files)
    assert not (tmp_path / "threshold.yaml").exists()
    for run in study.runs:
        path = tmp_path.joinpath(fill(layout.final_checkpoint, run))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    threshold(study, **files)
    assert "width: 32" in (tmp_path / "threshold.yaml").read_text()


EPOCHS = list(range(0, 101, 10))
#               descent        min   rise        peak  second descent
EPOCH_ERROR = [0.9, 0.5, 0.3, 0.2, 0.25, 0.3, 0.35, 0.32, 0.28, 0.26, 0.25]


def with_epochs(table: pd.DataFrame, width: int, stop_seed_at: int | None = None) -> pd.DataFrame:
    """Give ``width`` an epoch-wise curve (one seed may stop early, as a fitted run does)."""
    rows = [table[table["width"] != width]]
    for _, run in table[table["width"] == width].iterrows():
        for epoch, error in zip(EPOCHS, EPOCH_ERROR, strict=True):
            if stop_seed_at is not None and run["seed"] == 0 and epoch > stop_seed_at:
                break
            rows.append(run.to_frame().T.assign(epoch=epoch, val_error=error))
    return pd.concat(rows, ignore_index=True).astype(table.dtypes.to_dict())


def test_epochwise_peak_selects_checkpointed_epochs_around_it():
    table = with_epochs(dense_table(), width=256)
    family = analyse(table, epochwise={"width": 256, "neighbours": 1})
    assert family["epochwise"]["status"] == "ok"
    assert family["epochwise"]["epoch"] == 60 and family["epochwise"]["first_minimum_epoch"] == 30
    entries = [e for e in family["selection"] if e["axis"] == "epoch"]
    # checkpoints exist every 20 epochs: 60 is "at", 40 and 80 are its neighbours
    assert sorted({(e["epoch"], e["role"]) for e in entries}) == [
        (40, "before"),
        (60, "at"),
        (80, "after"),
    ]
    assert {e["checkpoint"] for e in entries if e["seed"] == 1 and e["epoch"] == 60} == {
        "ckpt/w256/s1/e60.pt"
    }
    assert all(e["axis"] == "width" for e in family["selection"] if e not in entries)


def test_epochwise_width_it_uses_the_threshold_width():
    table = with_epochs(dense_table(), width=32)
    family = analyse(table, epochwise={"width": "it", "neighbours": 0})
    assert family["epochwise"]["width"] == 32
    assert {(e["epoch"], e["role"]) for e in family["selection"] if e["axis"] == "epoch"} == {
        (60, "at")
    }


def test_epochwise_runs_that_stop_early_keep_their_last_value():
    table = with_epochs(dense_table(), width=256, stop_seed_at=60)
    family = analyse(table, epochwise={"width": 256, "neighbours": 1})
    entries = [e for e in family["selection"] if e["axis"] == "epoch"]
    # epoch 80 was not evaluated for seed 0, so the neighbour after 60 cannot be selected
    assert sorted({e["epoch"] for e in entries}) == [40, 60]


def test_epochwise_without_a_peak_or_a_width_says_so():
    family = analyse(dense_table(), epochwise={"width": 256, "neighbours": 1})
    assert family["epochwise"]["status"] == "single_epoch"  # one evaluation: nothing to find
    family = analyse(dense_table(), epochwise={"width": 3, "neighbours": 1})
    assert family["epochwise"]["status"] == "no_data"
    assert all(e["axis"] == "width" for e in family["selection"])


def test_a_fixed_budget_twin_is_pruned_from_the_it_model_only(tmp_path):
    at = {"width": 40, "seed": 0, "role": "at", "offset": 0, "epoch": 100}
    before = {**at, "width": 20, "role": "before", "offset": -1}
    entries = [{**e, "checkpoint": "final.pt", "axis": "width"} for e in (at, before)]
    path = tmp_path / "threshold.yaml"
    write_threshold(threshold_document(Run("digits", "mlp", 40, 0.2, 0), entries), path)
    jobs = load_threshold(path).pruning_jobs(["imp-rewind", "imp-rewind-fixed"])
    assert [(run.width, method) for run, _, method in jobs] == [
        (20, "imp-rewind"),
        (40, "imp-rewind"),
        (40, "imp-rewind-fixed"),
    ]


def test_a_malformed_threshold_file_is_refused_naming_the_field(tmp_path):
    """threshold.yaml drives the DAG: checked on write and on read, every problem named."""
    run = Run("digits", "mlp", 40, 0.2, 0)
    entry = {"width": 40, "seed": 0, "role": "at", "offset": 0, "epoch": 100}
    entry.update(checkpoint="final.pt", axis="width")
    path = tmp_path / "threshold.yaml"
    write_threshold(threshold_document(run, [entry]), path)
    document = load_threshold(path)
    selected = document.entry(run, 100)
    assert (selected.role, selected.it_width, selected.checkpoint) == ("at", 40, "final.pt")
    assert document.selected_runs() == [(run, 100)]
    assert document.families[0].it.ok and document.of("digits", "mlp") == [document.families[0]]

    document = yaml.safe_load(path.read_text())
    family = document["families"][0]
    family["selection"][0]["role"] = "middle"
    del family["it"]["width"]
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ThresholdFileError) as error:
        load_threshold(path)
    message = str(error.value)
    assert f"{path} is not a valid threshold file (2 problem(s))" in message
    assert "families[0].selection[0].role: 'middle' is not allowed; allowed values: " in message
    assert "families[0].it: 'width' is a required property" in message
    assert "snakemake --forcerun threshold" in message

    before = path.read_text()
    with pytest.raises(ThresholdFileError, match="role"):
        write_threshold(document, path)
    assert path.read_text() == before  # nothing malformed is written
    path.write_text("families: [unclosed")
    with pytest.raises(ThresholdFileError, match="not readable YAML"):
        load_threshold(path)


@pytest.mark.parametrize(
    ("curve", "reason"),
    [
        ([0.3, 0.2, 0.155, 0.245], "still rising at the largest width"),  # first minimum at 32
        ([0.3, 0.2, 0.155, 0.15], "the curve decreases over the whole grid"),
    ],
)
def test_a_peak_at_the_last_width_is_not_called_a_decreasing_curve(curve, reason):
    found = find_peak([8, 16, 32, 64], np.array(curve), min_prominence=0.01)
    assert found["status"] == "no_peak" and found["reason"] == reason


def test_report_tables_print_whole_numbers_without_decimals(tmp_path):
    table = pd.DataFrame({"noise": [0.0], "epochs": [600.0], "params": [38410.0], "e": [0.26812]})
    write_html(table, tmp_path / "t.html", title="t")
    cells = [html_number(v) for v in table.iloc[0]]
    assert cells == ["0", "600", "38,410", "0.2681"]
    assert all(f"<td>{cell}</td>" in (tmp_path / "t.html").read_text() for cell in cells)


def test_a_new_criterion_is_one_record_and_one_search(monkeypatch, tmp_path):
    """A toy criterion -- the widest width whose validation error is above the curve's mean
    -- added as a record and a search function: the config accepts it, the threshold stage
    reports and chooses by it, threshold.yaml keeps it, the report shows it."""

    def above_mean(widths, values, criterion, config):
        above = [w for w, v in zip(widths, values, strict=True) if v > values.mean()]
        return {"status": "ok", "width": above[-1]} if above else {"status": "none", "reason": ""}

    toy = ITCriterion("toy", "val_error", "above-mean", "toy line", ("width",), "dotdash")
    monkeypatch.setitem(IT_CRITERIA._entries, "toy", toy)
    monkeypatch.setitem(SEARCHES, "above-mean", above_mean)

    sweep = {"dataset": "digits", "model": "mlp", "widths": WIDTHS, "seeds": [0, 1, 2]}
    study = load_study({"study": "s", "sweep": [sweep], "threshold": {"criterion": "toy"}})
    family = analyse(dense_table(), **study.threshold.as_dict())
    assert family["criteria"]["toy"]["width"] == 32  # 0.50, 0.30, 0.30 above the mean 0.25
    assert family["it"]["criterion"] == "toy" and family["it"]["width"] == 32
    document = {"study": "s", "config": {}, "families": to_yaml_ready([family])}
    write_threshold(document, tmp_path / "threshold.yaml")
    (loaded,) = load_threshold(tmp_path / "threshold.yaml").families
    assert loaded.it.criterion == "toy" and loaded.criteria["toy"]["width"] == 32
    (row,) = threshold_table([loaded]).to_dict("records")
    assert row["toy line"].startswith("width 32")
    (lines, _) = it_lines([loaded])
    assert "toy line" in set(lines.data["criterion"])


def test_criteria_at_the_same_width_are_drawn_side_by_side():
    """A dotted line on a solid one vanishes: lines at one width are spread around it."""
    family = analyse(dense_table())
    assert family["criteria"]["interpolation"]["width"] == 32 == family["it"]["width"]
    document = to_yaml_ready([family])
    (lines, _) = it_lines([FamilyThreshold.from_dict(document[0])])
    at_32 = lines.data[lines.data["width"] == 32]
    assert len(at_32) == 2 and at_32["x"].nunique() == 2
    assert np.prod(at_32["x"]) == pytest.approx(32 * 32)  # centred on 32 (log scale)
