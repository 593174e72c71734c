"""How long Snakemake takes to plan each study (``snakemake -n``), and a study of ~10^4 jobs.

For every config in ``configs/`` (and ``config.yaml``) it runs a dry run in a scratch
directory (no data, no results: the plan of a fresh study), counts the jobs from
Snakemake's job-stats table and prints the wall seconds. Then it scales the CIFAR-10
ResNet18-k study to ``--seeds`` seeds (50: 9,600 training runs, about 10^4 jobs) and prints
that time against the goal (20 s). Usage:

    python benchmarks/planning.py [--seeds 50] [--repeats 3] [--only cifar10-resnet18k]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 20.0


def plan(configfile: Path, workdir: Path) -> tuple[int, float]:
    """(jobs, seconds) of one ``snakemake -n`` of ``configfile`` in ``workdir``."""
    command = [
        sys.executable, "-m", "snakemake", "-n", "--cores", "1",
        "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
        "--configfile", str(configfile),
    ]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{configfile}: snakemake -n failed:\n{result.stderr[-3000:]}")
    total = re.search(r"^total\s+(\d+)", result.stdout + result.stderr, re.MULTILINE)
    if total is None:
        raise RuntimeError(f"{configfile}: no job-stats table in the dry run's output")
    return int(total.group(1)), seconds


def median_plan(configfile: Path, repeats: int) -> tuple[int, float]:
    timings = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as workdir:
            jobs, seconds = plan(configfile, Path(workdir))
        timings.append(seconds)
    return jobs, statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="config names (without .yaml) to plan")
    arguments = parser.parse_args()
    configs = [REPO / "config.yaml", *sorted((REPO / "configs").glob("*.yaml"))]
    if arguments.only:
        configs = [c for c in configs if c.stem in arguments.only]
    print(f"{'config':<36} {'jobs':>7} {'seconds':>8}")
    for configfile in configs:
        jobs, seconds = median_plan(configfile, arguments.repeats)
        print(f"{configfile.stem:<36} {jobs:>7} {seconds:>8.1f}")

    study = yaml.safe_load((REPO / "configs/cifar10-resnet18k.yaml").read_text())
    study["study"] = "planning-benchmark"
    for grid in study["sweep"]:
        grid["seeds"] = list(range(arguments.seeds))
    with tempfile.TemporaryDirectory() as scratch:
        scaled = Path(scratch) / "scaled.yaml"
        scaled.write_text(yaml.safe_dump(study))
        jobs, seconds = median_plan(scaled, arguments.repeats)
    print(
        f"cifar10-resnet18k x {arguments.seeds} seeds: {jobs} jobs planned in {seconds:.1f} s "
        f"(goal {GOAL_SECONDS:.0f} s: ratio {seconds / GOAL_SECONDS:.2f})"
    )


if __name__ == "__main__":
    main()
