"""End to end: the tiny study through `snakemake --cores 2` in a temporary directory."""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import REPO, SCHEMAS, TINY, snakemake
from ddprune.foundations.tables import TableSchema, read_table
from ddprune.study.registration import load_registration
from ddprune.study.threshold_file import load_threshold

pytestmark = pytest.mark.workflow


def test_dense_table_rows_columns_dtypes_and_ranges(tiny_study):
    schema = TableSchema.load(SCHEMAS / "dense.schema.yaml")
    dense = read_table(tiny_study / "results/tiny/dense.parquet", schema)
    assert list(dense.columns) == list(schema.columns)
    assert dense["study"].unique().tolist() == ["tiny"]
    runs = dense.groupby(["width", "noise", "seed"])
    assert runs.ngroups == 3 * 2 * 2
    assert all(sorted(g["epoch"]) == [0, 150, 300, 450, 600] for _, g in runs)
    assert len(dense) == 12 * 5
    for width, params in dense.groupby("width")["n_params"].unique().items():
        assert params.tolist() == [64 * width + width + width * 10 + 10]
    assert (dense["sparsity"] == 0).all() and (dense["n_nonzero"] == dense["n_params"]).all()
    clean = dense[dense["noise"] == 0.0]
    noisy = dense[dense["noise"] == 0.2]
    assert clean["memorization"].isna().all()
    assert noisy["memorization"].between(0, 1).all()
    assert (clean["train_error"] == clean["train_error_clean"]).all()
    final = dense[(dense["epoch"] == 600) & (dense["width"] == 64)]
    assert (final["test_error"] < 0.3).all()  # the widest model learned the task
    assert dense["wall_seconds"].ge(0).all() and not dense["lr"].map(math.isnan).any()


def test_label_noise_is_recorded_once_per_noise_and_seed(tiny_study):
    schema = TableSchema.load(SCHEMAS / "labels.schema.yaml")
    files = sorted((tiny_study / "results/tiny/labels/digits").rglob("*.parquet"))
    assert len(files) == 2 * 2
    for path in files:
        labels = read_table(path, schema)
        assert labels["split"].value_counts().to_dict() == {"train": 300, "validation": 300}
        for _, split in labels.groupby("split"):  # each split noised at the same rate
            assert split["is_noisy"].sum() == round(split["noise"].iloc[0] * 300)
        assert (labels["is_noisy"] == (labels["label_clean"] != labels["label_noisy"])).all()


def test_threshold_selection_fans_out_to_existing_checkpoints(tiny_study):
    results = tiny_study / "results/tiny"
    document = yaml.safe_load((results / "threshold.yaml").read_text())
    assert [f["noise"] for f in document["families"]] == [0.0, 0.2]
    entries = [(f, e) for f in document["families"] for e in f["selection"]]
    assert entries, "the tiny study should select checkpoints"
    for family, entry in entries:
        assert family["it"]["status"] == "ok"
        assert (tiny_study / entry["checkpoint"]).is_file()
        assert entry["role"] in {"before", "at", "after", "control"}
    selection = read_table(
        results / "selection.parquet", TableSchema.load(SCHEMAS / "selection.schema.yaml")
    )
    assert len(selection) == len(entries) == len(list((results / "selected").rglob("*.parquet")))
    assert (selection["it_width"] > 0).all()
    assert set(selection["role"]) <= {"before", "at", "after", "control"}


def test_every_selected_checkpoint_is_pruned_by_every_method(tiny_study):
    results = tiny_study / "results/tiny"
    config = yaml.safe_load(TINY.read_text())["prune"]
    selection = pd.read_parquet(results / "selection.parquet")
    pruning = read_table(
        results / "pruning.parquet", TableSchema.load(SCHEMAS / "pruning.schema.yaml")
    )
    assert len(pruning) == len(selection) * len(config["methods"]) * (config["rounds"] + 1)
    assert set(pruning["method"]) == set(config["methods"])
    pruned = pruning[pruning["round"] > 0]
    expected = (pruned["n_prunable"] * (1 - pruned["target_sparsity"])).round().astype("int64")
    assert (pruned["n_prunable_nonzero"] == expected).all()  # exact to the weight
    assert pruned["target_sparsity"].round(6).isin([0.5, 0.75]).all()
    dense = pruning[pruning["round"] == 0].merge(selection, on=["width", "noise", "seed"])
    assert (dense["test_error_x"] - dense["test_error_y"]).abs().max() < 1e-6
    assert (pruning["role"].isin(["before", "at", "after", "control"])).all()
    for name in ("sparse_double_descent", "backwards_walk", "memorization"):
        figure = results / f"figures/digits/mlp/{name}.png"
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    recovery = (results / "tables/digits/mlp/recovery.html").read_text()
    sources = selection.groupby(["noise", "width", "epoch"]).ngroups
    assert recovery.count("<tr") == 1 + sources * len(config["methods"])


def test_the_answer_comes_first(tiny_study):
    results = tiny_study / "results/tiny"
    answer = read_table(results / "answer.parquet", "answer")
    pruning = read_table(results / "pruning.parquet", "pruning")
    trajectories = pruning.groupby(["width", "noise", "seed", "source_epoch", "method"]).ngroups
    deltas = answer[answer["statistic"] == "delta_best"]
    assert deltas["seeds"].sum() == trajectories  # every trajectory counted once
    # One source by hand: the answer's delta is the seed mean of the test error at the round
    # of lowest validation error (the earliest among ties) minus round 0's.
    source = deltas.iloc[0]
    rows = pruning[
        (pruning["width"] == source["width"])
        & (pruning["noise"] == source["noise"])
        & (pruning["method"] == source["method"])
        & (pruning["axis"] == source["axis"])
    ]
    by_seed = rows.groupby(["seed", "source_epoch"])

    def chosen(trajectory):
        pruned = trajectory[trajectory["round"] > 0].sort_values("round")
        return pruned.loc[pruned["val_error"].idxmin(), "test_error"]

    expected = (
        by_seed.apply(chosen)
        - by_seed.apply(lambda r: r.loc[r["round"] == 0, "test_error"].iloc[0])
    ).mean()
    assert source["mean"] == pytest.approx(expected)
    page = (results / "tables/answer.html").read_text()
    assert page.count("<p>digits/mlp, ") == 2  # a paragraph per noise level
    assert "(1) Does the pruned IT model beat the final dense model?" in page
    assert "by the fixed-sequence procedure" in page
    tested = read_table(results / "comparisons.parquet", "comparisons")
    assert set(tested["family"]) == {"primary", "sequence", "exploratory"}
    for figure in ("answer.png", "primary_by_noise.png"):
        assert (results / "figures" / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_weight_decay_baseline_is_tuned_at_the_it_width(tiny_study):
    """One more run per seed at each family's IT width for each baselines.weight_decay value:
    the same initialisation as the sweep's run (equal at epoch 0), trained differently."""
    results = tiny_study / "results/tiny"
    tuning = read_table(results / "tuning.parquet", "tuning")
    it_runs = load_threshold(results / "threshold.yaml").it_runs()
    tuned = zip(tuning["width"], tuning["noise"], tuning["seed"], strict=True)
    assert it_runs and set(tuned) == {(run.width, run.noise, run.seed) for run in it_runs}
    assert set(tuning["weight_decay"]) == {0.01}
    keys = ["width", "noise", "seed", "epoch"]
    dense = read_table(results / "dense.parquet", "dense")
    both = tuning.merge(dense, on=keys, suffixes=("", "_sweep"))
    start, trained = both[both["epoch"] == 0], both[both["epoch"] > 0]
    assert len(start) == len(it_runs) and (start["test_loss"] == start["test_loss_sweep"]).all()
    assert (trained["train_loss"] != trained["train_loss_sweep"]).all()
    tested = read_table(results / "comparisons.parquet", "comparisons")
    primary = tested[tested["method"] == "imp-rewind"]
    assert "vs-weight-decay" in set(primary["comparison"])
    assert (
        "weight decay and epoch of lowest validation error"
        in (results / "tables/answer.html").read_text()
    )


def test_the_study_is_registered_before_its_results_and_refuses_another_primary(
    tiny_study, tmp_path
):
    results = tiny_study / "results/tiny"
    record = load_registration(results / "preregistration.yaml")
    assert record.before_results, "written before the first job"
    page = (results / "tables/answer.html").read_text()
    assert f"registered on {record.registered}, before any training result existed" in page
    assert "the pre-registered primary comparison, tested alone" in page
    config = yaml.safe_load(TINY.read_text())
    config["answer"] = {"primary": {"method": "oneshot", "baseline": "final"}}
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(config))
    answer = (results / "answer.parquet").read_bytes()
    result = snakemake(tiny_study, "--cores", "2", configfile=changed)
    assert result.returncode != 0
    assert f"registered study 'tiny' on {record.registered}" in result.stderr
    assert "answer.primary: registered {'method': 'imp-rewind'" in result.stderr
    assert (results / "answer.parquet").read_bytes() == answer


def test_figure_summary_and_report(tiny_study):
    figures = tiny_study / "results/tiny/figures/digits/mlp"
    for name in ("double_descent.png", "epochwise_heatmap.png"):
        figure = figures / name
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 20_000
    thresholds = (tiny_study / "results/tiny/tables/thresholds.html").read_text()
    assert thresholds.count("<tr") == 1 + 2 and "interpolation" in thresholds
    summary = (tiny_study / "results/tiny/tables/digits/mlp/dense_summary.html").read_text()
    assert summary.count("<tr") == 1 + 3 * 2  # header + (width, noise) rows
    report = tiny_study / "report.html"
    result = snakemake(tiny_study, "--report", str(report))
    assert result.returncode == 0, result.stderr[-5000:]
    assert report.stat().st_size > 100_000
    text = report.read_text(errors="replace")
    for name in (
        "double_descent.png",
        "epochwise_heatmap.png",
        "dense_summary.html",
        "thresholds.html",
        "answer.html",
        "answer.png",
        "primary_by_noise.png",
    ):
        assert name in text, name
    # The report's menu sorts categories by name: "0. Answer" comes first.
    assert "0. Answer" in text and "1. Double descent" in text
    # and its first page, where a reader lands, says what the study found
    assert "The answer</h1>" in text and "(1) Does the pruned IT model beat" in text


MEASURE = """<script>
setTimeout(function () {
  var heading = [...document.querySelectorAll("h1")].find(h => h.textContent === "The answer");
  var figure = document.querySelector("img[alt^='data:image']");
  var out = document.createElement("div");
  out.id = "measured";
  out.textContent = heading ? [heading, figure].map(e => e.getBoundingClientRect())
    .map(r => Math.round(r.top) + "," + Math.round(r.width)).join(";") : "none";
  document.body.appendChild(out);
}, 5000);
</script>"""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_the_report_opens_on_its_answer_in_a_browser(tiny_study, tmp_path):
    """Headless Chromium at 1,400 x 900 px: the landing page starts at its heading "The
    answer" (Snakemake's report would centre it, out of reach above the window) and draws
    the answer figure wider than the 32 rem column it would get."""
    report = tmp_path / "report.html"
    assert snakemake(tiny_study, "--report", str(report)).returncode == 0
    text = report.read_text()
    end = text.rindex("</body>")
    measured = tmp_path / "measured.html"
    measured.write_text(text[:end] + MEASURE + text[end:])
    dom = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--window-size=1400,900",
            "--virtual-time-budget=20000",
            "--dump-dom",
            measured.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    found = re.search(r'id="measured">(-?\d+),\d+;-?\d+,(\d+)<', dom)
    assert found, dom[-2000:]
    heading_top, figure_width = int(found[1]), int(found[2])
    assert 0 <= heading_top < 100 and figure_width > 600


def test_rerun_is_a_no_op(tiny_study):
    result = snakemake(tiny_study, "--cores", "2", "--dry-run")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_the_repair_hint_for_a_damaged_checkpoint_repairs_the_study(tiny_study, tmp_path):
    """A selected run's final checkpoint damaged: its pruning jobs fail naming it, and the
    console's hint -- delete it, name it as a target, run the study again -- rebuilds it and
    everything downstream, to the same numbers."""
    study = tmp_path / "study"
    shutil.copytree(tiny_study / "results", study / "results")
    results = study / "results/tiny"
    before = read_table(results / "pruning.parquet", "pruning").drop(columns="wall_seconds")
    entry = yaml.safe_load((results / "threshold.yaml").read_text())["families"][0]
    damaged = entry["selection"][0]["checkpoint"]
    (study / damaged).write_bytes(b"not a checkpoint")
    for table in results.glob("prune/**/rounds.parquet"):
        table.unlink()  # the pruning jobs must read it again
    failed = snakemake(study, "--cores", "2")
    assert failed.returncode != 0
    assert f"rm {damaged} && snakemake --cores N {damaged}" in failed.stderr
    (study / damaged).unlink()
    assert snakemake(study, "--cores", "2", damaged).returncode == 0
    result = snakemake(study, "--cores", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    after = read_table(results / "pruning.parquet", "pruning").drop(columns="wall_seconds")
    pd.testing.assert_frame_equal(after, before)


def test_bad_config_fails_before_any_job_and_keeps_results(tiny_study, tmp_path):
    config = yaml.safe_load(TINY.read_text())
    config["train"]["optimizer"] = "adamw"
    config["sweep"][0]["noise"] = [0.2, 2.0]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    dense = tiny_study / "results/tiny/dense.parquet"
    before = dense.read_bytes()
    result = snakemake(tiny_study, "--cores", "2", configfile=bad)
    assert result.returncode != 0
    assert "train.optimizer: 'adamw' is not allowed; allowed values: ['adam', 'sgd']" in (
        result.stderr
    )
    assert "sweep[0].noise[1]: 2.0 is greater than the maximum of 1" in result.stderr
    assert dense.read_bytes() == before


def test_killed_training_job_is_resumed_by_snakemake(tmp_path):
    """A training job whose outputs are gone (as after a kill: Snakemake deletes the outputs
    of incomplete jobs) reruns from its newest checkpoint, not from scratch."""
    workdir = tmp_path / "w"
    config = yaml.safe_load(TINY.read_text())
    config["sweep"][0].update(widths=[8], noise=[0.2], seeds=[0])
    configfile = tmp_path / "one.yaml"
    configfile.write_text(yaml.safe_dump(config))
    assert snakemake(workdir, "--cores", "1", configfile=configfile).returncode == 0
    # One width that never fits its noisy labels: no IT, nothing selected, and the pruning
    # outputs say so instead of failing.
    recovery = workdir / "results/tiny/tables/digits/mlp/recovery.html"
    assert "Nothing was pruned" in recovery.read_text()
    run = workdir / "results/tiny/train/digits/mlp/noise0.2/width8/seed0"
    first = pd.read_parquet(run / "metrics.parquet").drop(columns="wall_seconds")
    (run / "final.pt").unlink()
    (run / "metrics.parquet").unlink()
    (run / "checkpoints" / "epoch0000600.pt").unlink()
    target = str(run.relative_to(workdir) / "metrics.parquet")
    result = snakemake(workdir, "--cores", "1", target, configfile=configfile)
    assert result.returncode == 0, result.stderr[-3000:]
    log = (workdir / "results/tiny/logs/train/digits/mlp/noise0.2/width8/seed0.log").read_text()
    assert "resumed from" in log and "epoch0000300.pt" in log
    again = pd.read_parquet(run / "metrics.parquet").drop(columns="wall_seconds")
    pd.testing.assert_frame_equal(first, again)


def write_blobs(
    path: Path, shape: tuple[int, ...], seed: int, with_test: bool, scale: float = 1.0
) -> None:
    """A noisy 3-class problem saved as .npz (with or without its own test arrays)."""
    rng = np.random.default_rng(seed)
    n = 240
    y = np.arange(n) % 3
    centres = rng.normal(size=(3, *shape))
    x = (centres[y] + rng.normal(size=(n, *shape)) * 1.5) * scale
    arrays = {"x_train": x[:180], "y_train": y[:180]}
    if with_test:
        arrays.update(x_test=x[180:], y_test=y[180:])
    else:
        arrays = {"x_train": x, "y_train": y}
    np.savez(path, **arrays)


def test_a_study_on_your_own_npz_files(tmp_path):
    """Two generated .npz datasets (vectors split by the study; images with a test set) go
    through every rule; changing one file reruns that dataset's jobs and nothing else."""
    workdir = tmp_path / "w"
    (workdir / "data").mkdir(parents=True)
    write_blobs(workdir / "data/vectors.npz", (12,), seed=0, with_test=False)
    write_blobs(workdir / "data/images.npz", (5, 5), seed=1, with_test=True)
    config = yaml.safe_load(TINY.read_text())
    config["study"] = "own"
    config["datasets"] = {
        "vectors": {"file": "data/vectors.npz", "test_size": 60},
        "images": {"file": "data/images.npz"},
    }
    grid = {"model": "mlp", "widths": [2, 8, 32], "noise": [0.2], "seeds": [0]}
    config["sweep"] = [{"dataset": "vectors", **grid}, {"dataset": "images", **grid}]
    config["train"].update(max_epochs=300, eval_every=100)
    config["prune"].update(methods=["oneshot"], rounds=1)
    config["answer"] = {"primary": {"method": "oneshot"}}
    config["train"]["checkpoint_every"] = 100
    configfile = tmp_path / "own.yaml"
    configfile.write_text(yaml.safe_dump(config))

    result = snakemake(workdir, "--cores", "2", configfile=configfile)
    assert result.returncode == 0, result.stderr[-5000:]
    results = workdir / "results/own"
    dense = pd.read_parquet(results / "dense.parquet")
    assert sorted(dense["dataset"].unique()) == ["images", "vectors"]
    for name in ("vectors", "images"):
        rows = dense[dense["dataset"] == name]
        digest = hashlib.sha256((workdir / f"data/{name}.npz").read_bytes()).hexdigest()
        assert (rows["data_sha256"] == digest).all()  # the file's, whatever the split
        # a fifth of the 180 training samples is held out for validation
        assert rows["n_train"].unique().tolist() == [144] and rows["n_test"].unique() == [60]
        assert rows["n_val"].unique().tolist() == [36]
        assert (rows.groupby("width")["n_params"].first().index == [2, 8, 32]).all()
        figure = results / f"figures/{name}/mlp/double_descent.png"
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    inputs = {"vectors": 12, "images": 25}
    for (name, width), params in dense.groupby(["dataset", "width"])["n_params"].first().items():
        assert params == inputs[name] * width + width + width * 3 + 3  # flattened inputs
    labels = pd.read_parquet(results / "labels/vectors/noise0.2/seed0.parquet")
    assert labels.loc[labels["split"] == "train", "is_noisy"].sum() == round(0.2 * 144)
    assert labels.loc[labels["split"] == "validation", "is_noisy"].sum() == round(0.2 * 36)
    assert (results / "pruning.parquet").is_file()

    def modified() -> dict[str, float]:
        return {p: p.stat().st_mtime_ns for p in (results / "train").rglob("metrics.parquet")}

    before = modified()
    write_blobs(workdir / "data/images.npz", (5, 5), seed=2, with_test=True)
    result = snakemake(workdir, "--cores", "2", configfile=configfile)
    assert result.returncode == 0, result.stderr[-5000:]
    after = modified()
    changed = [p.relative_to(results / "train").parts[0] for p in after if after[p] != before[p]]
    assert sorted(changed) == ["images"] * 3
    dense = pd.read_parquet(results / "dense.parquet")
    digest = hashlib.sha256((workdir / "data/images.npz").read_bytes()).hexdigest()
    assert (dense.loc[dense["dataset"] == "images", "data_sha256"] == digest).all()


def test_symmetric_and_incorrect_class_noise_side_by_side(tmp_path):
    """Two families at the same rate that differ only in their noise kind: their own label
    draws and paths, their own threshold and pruning, told apart in every table."""
    config = yaml.safe_load(TINY.read_text())
    config["study"] = "kinds"
    grid = {"dataset": "digits", "model": "mlp", "widths": [2, 16, 64], "noise": [0.2]}
    config["sweep"] = [{**grid, "seeds": [0]}, {**grid, "seeds": [0], "noise_kind": "symmetric"}]
    config["prune"].update(methods=["oneshot"], rounds=1)
    config["answer"] = {"primary": {"method": "oneshot"}}
    config["threshold"]["interpolation_tolerance"] = 0.1  # one seed: let the fallback answer
    configfile = tmp_path / "kinds.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--cores", "2", configfile=configfile)
    assert result.returncode == 0, result.stderr[-5000:]
    results = tmp_path / "results/kinds"
    drawn = {}
    for label, kind in (("0.2", "incorrect-class"), ("0.2-symmetric", "symmetric")):
        labels = read_table(results / f"labels/digits/noise{label}/seed0.parquet", "labels")
        labels = labels[labels["split"] == "train"]
        assert labels["noise_kind"].unique().tolist() == [kind]
        assert labels["is_noisy"].sum() == round(0.2 * 300)  # redrawn, either way
        drawn[kind] = (labels["label_noisy"] != labels["label_clean"]).mean()
        assert (results / f"train/digits/mlp/noise{label}/width16/seed0/final.pt").is_file()
    assert drawn["incorrect-class"] == 0.2 and 0.12 < drawn["symmetric"] < 0.2
    dense = read_table(results / "dense.parquet", "dense")
    realised = dense.groupby("noise_kind")["noise_realised"].unique().map(list).to_dict()
    assert realised == {kind: [rate] for kind, rate in drawn.items()}
    families = yaml.safe_load((results / "threshold.yaml").read_text())["families"]
    assert [(f["noise"], f["noise_kind"]) for f in families] == [
        (0.2, "incorrect-class"),
        (0.2, "symmetric"),
    ]
    assert all(f["selection"] for f in families), [f["it"] for f in families]
    for table in ("selection", "pruning", "answer"):
        rows = read_table(results / f"{table}.parquet", table)
        assert set(rows["noise_kind"]) == {"incorrect-class", "symmetric"}, table
    png = results / "figures/digits/mlp/double_descent.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_closed_form_study(tmp_path):
    """linear and rff solved per family; the IT at p = n; the compression table, Chang et
    al.'s claims tested, the answer page's paragraph per regime, and the figures."""
    configfile = REPO / "tests" / "configs" / "closed-form.yaml"
    result = snakemake(tmp_path, "--cores", "2", configfile=configfile)
    assert result.returncode == 0, result.stderr[-5000:]
    results = tmp_path / "results/closed-form"
    dense = read_table(results / "dense.parquet", TableSchema.load(SCHEMAS / "dense.schema.yaml"))
    assert len(dense) == 9 * 4 + 5 * 6 + 4
    metric = dense.groupby("dataset")["error_metric"].unique().map(list).to_dict()
    assert metric == {
        "block": ["mean_squared_error"],
        "digits": ["classification_error"],
        "isotropic": ["mean_squared_error"],
    }
    families = yaml.safe_load((results / "threshold.yaml").read_text())["families"]
    its = {f["dataset"]: f["it"]["width"] for f in families}
    assert its["isotropic"] in (25, 30, 35) and its["digits"] == 200  # p = n
    assert all(f["selection"] == [] for f in families)
    compression = pd.read_parquet(results / "compression.parquet")
    variants = compression.groupby("dataset")["variant"].unique().map(set).to_dict()
    assert variants["isotropic"] == {"dense", "null"}  # d = p: no world to prune to
    assert variants["block"] == {"dense", "pruned", "refit", "small", "small-ridge", "null"}
    assert variants["digits"] == {"dense", "pruned", "refit", "small", "small-ridge"}
    assert set(compression.loc[compression["dataset"] == "digits", "score"].dropna()) == {
        "magnitude",
        "hessian",
    }  # no oracle for random features
    assert set(compression.loc[compression["dataset"] == "block", "keep"]) == {5}
    tested = read_table(results / "compression_claims.parquet", "compression_claims")
    assert set(tested.loc[tested["dataset"] == "block", "claim"]) == {"a", "b", "c", "ridge"}
    page = (results / "tables/answer.html").read_text()
    assert "block / linear (n = 30, keep 5, 6 seeds;" in page
    assert "refit (oracle) is the small model at every width" in page
    for name in ("isotropic/linear", "block/linear", "digits/rff"):
        for figure in ("double_descent", "prune_vs_small"):
            png = results / f"figures/{name}/{figure}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    assert not list(results.glob("figures/*/*/epochwise_heatmap.png"))
    assert not (results / "train").exists()  # nothing trained by SGD


def test_diverged_runs_are_recorded_and_the_study_goes_on(tmp_path):
    """Runs whose loss overflows to NaN: every job succeeds, the table flags them, the
    threshold rule leaves them out and says which, and every figure is still drawn."""
    (tmp_path / "data").mkdir()
    # float32 holds 3.4e38: about 5e36 (a 5% margin on either side) overflows the loss of
    # some initialised networks and not others (tests/configs/diverging.yaml).
    write_blobs(tmp_path / "data/loud.npz", (12,), seed=0, with_test=False, scale=5.4e36)
    configfile = REPO / "tests" / "configs" / "diverging.yaml"
    result = snakemake(tmp_path, "--cores", "2", configfile=configfile)
    assert result.returncode == 0, result.stderr[-5000:]
    results = tmp_path / "results/diverging"
    dense = read_table(results / "dense.parquet", TableSchema.load(SCHEMAS / "dense.schema.yaml"))
    diverged = dense[dense["diverged"]]
    assert sorted(zip(diverged["width"], diverged["seed"], strict=True)) == [(4, 0), (16, 0)]
    assert diverged[["train_loss", "test_error"]].isna().all().all()
    assert not dense[~dense["diverged"]]["test_error"].isna().any()
    family = yaml.safe_load((results / "threshold.yaml").read_text())["families"][0]
    assert [n for n in family["notes"] if "diverged" in n] == [
        "excluded diverged run width 4 seed 0",
        "excluded diverged run width 16 seed 0",
    ]
    assert "width 16: 1 of 2 seeds" in family["notes"]  # the curve uses the seed that trained
    for figure in ("double_descent", "epochwise_heatmap"):
        png = results / f"figures/loud/mlp/{figure}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png


def test_a_tiny_cifar_shaped_study_with_convolutional_models(tmp_path):
    """32x32 colour uint8 images (an .npz here; torchvision's CIFAR files load into the same
    tensors), cnn5k and resnet18k trained with crops and flips, pruned, drawn."""
    workdir = tmp_path / "w"
    rng = np.random.default_rng(0)
    y = np.arange(150) % 3
    x = rng.integers(0, 128, (150, 3, 32, 32)) + y[:, None, None, None] * 64
    x = x.astype(np.uint8)
    (workdir / "data").mkdir(parents=True)
    np.savez(
        workdir / "data/cifar-shaped.npz",
        x_train=x[:120],
        y_train=y[:120],
        x_test=x[120:],
        y_test=y[120:],
    )
    config = yaml.safe_load(TINY.read_text())
    config["study"] = "conv"
    config["datasets"] = {"cifar-shaped": {"file": "data/cifar-shaped.npz"}}
    grid = {"dataset": "cifar-shaped", "widths": [1, 2, 4], "noise": [0.0], "seeds": [0]}
    config["sweep"] = [{**grid, "model": "cnn5k"}, {**grid, "model": "resnet18k", "widths": [1, 2]}]
    config["train"].update(
        lr=0.003, batch_size=40, max_epochs=15, eval_every=5, augment=["crop", "flip"]
    )
    config["prune"].update(methods=["imp-rewind", "random"], rounds=1, epochs=2)
    config["train"]["checkpoint_every"] = 5
    configfile = tmp_path / "conv.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "--cores", "2", configfile=configfile)
    assert result.returncode == 0, result.stderr[-5000:]
    results = workdir / "results/conv"
    dense = read_table(results / "dense.parquet", TableSchema.load(SCHEMAS / "dense.schema.yaml"))
    assert dense.groupby("model")["width"].unique().map(sorted).to_dict() == {
        "cnn5k": [1, 2, 4],
        "resnet18k": [1, 2],
    }
    assert dense["epoch"].max() == 15 and not dense["diverged"].any()
    for model in ("cnn5k", "resnet18k"):
        png = results / f"figures/cifar-shaped/{model}/double_descent.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    pruning = pd.read_parquet(results / "pruning.parquet")  # the data is easy: both fit it
    assert set(pruning["model"]) == {"cnn5k", "resnet18k"}
    assert set(pruning["method"]) == {"imp-rewind", "random"}
    assert (pruning.loc[pruning["round"] == 1, "sparsity"] > 0.1).all()


@pytest.mark.parametrize("configfile", [TINY, REPO / "configs/cifar10-resnet18k.yaml"])
def test_planning_a_study_never_imports_torch(tmp_path, configfile):
    """Snakemake imports the Snakefile's helpers for every command; torch there would cost
    seconds each time (and slow the planning of 10^4 jobs). A torch that cannot be imported
    proves it: the dry run plans the study all the same."""
    poisoned = tmp_path / "poisoned" / "torch"
    poisoned.mkdir(parents=True)
    (poisoned / "__init__.py").write_text("raise ImportError('torch imported while planning')\n")
    env = {**os.environ, "PYTHONPATH": str(poisoned.parent)}
    result = snakemake(tmp_path / "w", "-n", configfile=configfile, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"^train\s+\d+$", result.stdout, re.MULTILINE), result.stdout[-3000:]


def test_report_aggregate_and_table_jobs_never_import_torch(tiny_study, tmp_path):
    """The report's jobs read tables and draw: with a torch that cannot be imported they
    redo every figure, table and aggregate of the tiny study, and threshold.yaml too."""
    poisoned = tmp_path / "poisoned" / "torch"
    poisoned.mkdir(parents=True)
    (poisoned / "__init__.py").write_text("raise ImportError('torch imported by a report job')\n")
    code = """
import os, sys, yaml
from pathlib import Path
os.chdir(sys.argv[1])
from ddprune.jobs import report, threshold
from ddprune.study.paths import Layout
from ddprune.study import load_study
study = load_study(yaml.safe_load(Path(sys.argv[2]).read_text()))
layout = Layout.of(study.name)
family = lambda pattern: pattern.format(dataset="digits", model="mlp")
metrics = sorted(str(p) for p in Path(layout.root, "train").rglob("metrics.parquet"))
report.aggregate(metrics, layout.dense, "dense")
threshold.threshold(
    study, layout.dense, layout.threshold, layout.final_checkpoint, layout.checkpoints
)
tables = {"dense": layout.dense, "threshold": layout.threshold, "pruning": layout.pruning}
for kind in report.DRAW:
    if kind != "prune_vs_small":
        report.figure(study, kind, "digits", "mlp", tables, family(layout.figure(kind)))
report.dense_summary(layout.dense, family(layout.family_table("dense_summary")), "digits", "mlp")
report.answer(
    study,
    dense=layout.dense,
    threshold=layout.threshold,
    pruning=layout.pruning,
    answer=layout.answer,
    comparisons=layout.comparisons,
)
report.answer_page(
    study,
    report.AnswerTables.read(layout.answer, layout.comparisons, layout.threshold),
    figure=layout.answer_figure,
    template=sys.argv[3],
    page=layout.answer_page,
    landing=layout.landing,
)
report.answer_figure(layout.answer, layout.answer_figure)
recovery = family(layout.family_table("recovery"))
report.recovery_table(study, layout.answer, recovery, "digits", "mlp")
report.threshold_table(layout.threshold, layout.threshold_table)
assert "torch" not in sys.modules or not hasattr(sys.modules["torch"], "nn")
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(poisoned.parent), str(REPO / "src")])}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(tiny_study),
            str(TINY),
            str(REPO / "workflow/report/workflow.rst"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_runs_per_gpu_turns_the_gpu_count_into_slots(tmp_path):
    """`--resources gpu=1` with two runs per GPU: two training jobs at a time, never three,
    although three cores are free. (Jobs on a CPU-only machine claim no GPU; the limit is
    Snakemake's.)"""
    config = yaml.safe_load(TINY.read_text()) | {"platform": {"runs_per_gpu": 2}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(
        tmp_path,
        *("--cores", "3", "--resources", "gpu=1", "--until", "train"),
        configfile=tmp_path / "config.yaml",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    running, most = 0, 0
    for line in result.stderr.splitlines():
        if re.match(r"(local)?rule train:", line.strip()):
            running += 1
            most = max(most, running)
        elif "(Rule: train)" in line:
            running -= 1
    assert most == 2
