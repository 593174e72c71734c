"""The ``ddprune`` command on the tiny study: status, answer and compare, as a user runs them."""

import shutil
import subprocess
import sys

import pytest

from conftest import TINY
from ddprune.cli import main


@pytest.fixture
def in_tiny(tiny_study, monkeypatch):
    monkeypatch.chdir(tiny_study)
    return tiny_study


def run(capsys, *arguments: str) -> tuple[int, str]:
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_status_counts_every_stage_of_a_finished_study(in_tiny, capsys):
    code, out = run(capsys, "status", "--configfile", str(TINY))
    assert code == 0, out
    assert out.splitlines()[0] == "tiny (results/tiny)"
    assert "train      12 done, 0 started, 0 waiting" in out  # 3 widths x 2 noise x 2 seeds
    assert "threshold  done: IT digits/mlp noise 0.0: width 64" in out
    assert "tune       2 done, 0 started, 0 waiting" in out  # 2 seeds x 1 decay at the one IT
    assert "answer     done: results/tiny/tables/answer.html" in out


def test_status_of_a_study_in_progress_names_what_each_started_job_last_reported(
    tiny_study, tmp_path, monkeypatch, capsys
):
    copy = tmp_path / "study"
    shutil.copytree(tiny_study / "results", copy / "results")
    monkeypatch.chdir(copy)
    run_dir = copy / "results/tiny/train/digits/mlp/noise0.2/width16/seed1"
    (run_dir / "metrics.parquet").unlink()  # started, not finished
    shutil.rmtree(copy / "results/tiny/train/digits/mlp/noise0.2/width64/seed1")  # not started
    (copy / "results/tiny/threshold.yaml").unlink()
    code, out = run(capsys, "status", "--configfile", str(TINY))
    assert code == 0, out
    assert "train      10 done, 1 started, 1 waiting" in out
    # the last evaluation its log names, with how long it took and may still take
    assert "width 16 seed 1: epoch 600/600, " in out and " so far, " in out
    assert "threshold  waiting" in out


def test_answer_prints_the_four_questions_and_the_tests(in_tiny, capsys):
    code, out = run(capsys, "answer", "--configfile", str(TINY))
    assert code == 0, out
    assert "(1) Does the pruned IT model beat the final dense model?" in out
    assert "(4) Does the pruned trajectory walk the dense curve backwards?" in out
    assert "sign-flip p" in out and "sequence step 1" in out  # the table of tests


def test_compare_puts_two_studies_side_by_side_with_a_figure(in_tiny, tmp_path):
    figure = tmp_path / "both.png"
    command = [sys.executable, "-m", "ddprune", "compare", "results/tiny", "results/tiny"]
    result = subprocess.run(
        [*command, "--figure", str(figure)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test_error A" in result.stdout and "test_error B" in result.stdout
    assert "A: digits/mlp noise 0.0: imp-rewind vs-early-stopped" in result.stdout
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_bad_config_is_a_message_not_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text("study: x\nsweep: []\n")
    code, out = run(capsys, "status", "--configfile", "bad.yaml")
    assert code == 2 and out.startswith("ddprune status: invalid configuration")


def test_a_long_jobs_log_line_says_how_far_it_is_and_how_long_it_may_take():
    from ddprune.foundations.logs import progress_line

    assert progress_line(400, 3000, 12.0, "epoch") == (
        "epoch 400/3000, 12 s so far, at most 78 s left"
    )
    assert progress_line(3, 17, 600.0, "round") == "round 3/17, 10 min so far, at most 47 min left"
    assert progress_line(17, 17, 9000.0, "round") == "round 17/17, 2.5 h so far"


def test_help_options_and_a_missing_study_say_what_they_mean(in_tiny, capsys):
    """--help ends its sentence; --config is Snakemake's overrides, never an abbreviation of
    --configfile; compare names the folder that is not a finished study and what it lacks."""
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "and two studies side by side." in capsys.readouterr().out
    code, out = run(capsys, "status", "--configfile", str(TINY), "--config", "study=other")
    assert code == 0 and out.splitlines()[0] == "other (results/other)", out
    code, out = run(capsys, "status", "--config", "prune.epochs")
    assert code == 2 and "--config 'prune.epochs': expected KEY=VALUE" in out
    code, out = run(capsys, "compare", "results/tiny", "results/nothere")
    assert code == 2, out
    assert "results/nothere is not a finished study's results folder" in out
    assert "no dense.parquet and no comparisons.parquet" in out


def test_a_report_of_a_study_that_has_not_run_names_the_ones_that_have(tmp_path):
    """`snakemake --report` without the study's --configfile: say so, naming the studies
    whose answers are on disk (issue: a hundred 'Missing metadata' lines, then one file)."""
    from ddprune.study.paths import Layout, unfinished_study

    done = tmp_path / "results/quick/tables/answer.html"
    done.parent.mkdir(parents=True)
    done.write_text("<html></html>")
    message = unfinished_study(Layout(str(tmp_path / "results/digits-mlp")))
    assert "study 'digits-mlp', which has no answer yet" in message
    assert "studies with results here: quick -- pass the --configfile" in message
    assert unfinished_study(Layout(str(tmp_path / "results/quick"))) is None
    assert "no study has finished here" in unfinished_study(Layout(str(tmp_path / "x/y")))
