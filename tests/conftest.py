"""Shared fixtures: repository paths, schemas and a small run set up on disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ddprune.foundations.tables import TableSchema

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "workflow" / "schemas"
CONFIG_SCHEMA = SCHEMAS / "config.schema.yaml"
TINY = REPO / "tests" / "configs" / "tiny.yaml"


def snakemake_command(workdir: Path, *arguments: str, configfile: Path = TINY) -> list[str]:
    """The command line of `snakemake` on the repository's Snakefile in ``workdir``."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        *arguments,
    ]


def snakemake(
    workdir: Path, *arguments: str, configfile: Path = TINY, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run `snakemake` (see :func:`snakemake_command`), output captured."""
    command = snakemake_command(workdir, *arguments, configfile=configfile)
    return subprocess.run(command, capture_output=True, text=True, check=False, env=env)


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory) -> Path:
    """The tiny study, run once locally; shared by the workflow and SLURM tests."""
    workdir = tmp_path_factory.mktemp("tiny")
    result = snakemake(workdir, "--cores", "2")
    assert result.returncode == 0, result.stderr[-5000:]
    return workdir


def threshold_document(run, selection: list[dict]) -> dict:
    """A valid threshold.yaml of one family (``run``'s) with an IT at its width and
    ``selection`` as its entries."""
    unanswered = {"status": "no_peak", "reason": "a test's document"}
    return {
        "study": "test",
        "config": {},
        "families": [
            {
                "dataset": run.dataset,
                "model": run.model,
                "noise": run.noise,
                "noise_kind": run.noise_kind,
                "widths": [run.width],
                "seeds": [run.seed],
                "criteria": {
                    "val_error_peak": {"status": "ok", "width": run.width},
                    "val_loss_peak": unanswered,
                    "interpolation": unanswered,
                    "test_error_peak": unanswered,
                    "test_loss_peak": unanswered,
                },
                "notes": [],
                "selection": selection,
                "it": {
                    "status": "ok",
                    "criterion": "val_error_peak",
                    "fallback_used": False,
                    "width": run.width,
                },
            }
        ],
    }


@pytest.fixture
def dense_schema() -> TableSchema:
    return TableSchema.load(SCHEMAS / "dense.schema.yaml")


@pytest.fixture
def labels_schema() -> TableSchema:
    return TableSchema.load(SCHEMAS / "labels.schema.yaml")
