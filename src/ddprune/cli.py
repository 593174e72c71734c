"""The ``ddprune`` command (also ``python -m ddprune``): a study's progress and answer in the
terminal, and two studies side by side.

    ddprune status  [--configfile F] [--config K=V ...]   per stage: done, started (with the
                                              epoch or round its log last reported), waiting
    ddprune answer  [--configfile F] [--config K=V ...]   the answer's sentences and tests
    ddprune compare RESULTS_A RESULTS_B [--figure F]
                                              two studies' dense curves and primary comparisons

``--configfile`` names the study as Snakemake does: it is merged over ``config.yaml`` of the
working directory, and ``--config KEY=VALUE ...`` overrides as Snakemake's does (a YAML
value, merged mapping by mapping: ``--config prune='{epochs: 10}'``). Torch-free: it reads
the config, Parquet, YAML and logs, and never runs a job.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ddprune.analysis.summaries import FAMILY_KEYS, final_rows
from ddprune.foundations.tables import DamagedFile, read_table
from ddprune.study import ConfigError, load_study
from ddprune.study.paths import RUN, Layout, fill
from ddprune.study.runs import Study
from ddprune.study.threshold_file import load_threshold

RECENT = 600  # seconds: a started job whose log changed more recently is called running
# "epoch 400/3000, 12 s so far, at most 78 s left" (ddprune.foundations.logs.progress_line)
PROGRESS = re.compile(r"(?:epoch|round) \d+(?:/\d+, [^(:]*[^(: ])?")


def merged_config(
    configfile: str | None, base: str = "config.yaml", overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """``base`` with ``configfile`` merged over it, mapping by mapping, then the ``KEY=VALUE``
    ``overrides`` (YAML values), as Snakemake merges its ``--configfile`` and ``--config``."""

    def merge(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
        for key, value in more.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value
        return into

    config = yaml.safe_load(Path(base).read_text()) if Path(base).is_file() else {}
    if configfile:
        merge(config, yaml.safe_load(Path(configfile).read_text()) or {})
    for override in overrides:
        key, equals, value = override.partition("=")
        if not equals or not key:
            raise ConfigError(f"--config {override!r}: expected KEY=VALUE, e.g. seed=1")
        merge(config, {key: yaml.safe_load(value)})
    return config


def _progress(log: Path) -> str:
    """What a started job's log last reported (its epoch or round), and whether it is recent."""
    if not log.is_file():
        return "no log yet"
    found = PROGRESS.findall(log.read_text(errors="replace"))
    age = time.time() - log.stat().st_mtime
    state = "running" if age < RECENT else f"quiet for {age / 60:.0f} min"
    return f"{found[-1] if found else 'starting'}, {state}"


def _stage(name: str, done: int, started: list[str], waiting: int) -> list[str]:
    lines = [f"  {name:<10} {done} done, {len(started)} started, {waiting} waiting"]
    return lines + [f"             {entry}" for entry in started]


def status(study: Study, layout: Layout) -> str:
    """Per stage, the jobs whose output exists, those started (their folder or log exists)
    with what their log last said, and the rest."""
    lines = [f"{study.name} ({layout.root})"]
    runs = study.trained_runs
    done = [r for r in runs if Path(fill(layout.metrics, r)).is_file()]
    started = [
        f"{r.dataset}/{r.model} noise {r.noise} width {r.width} seed {r.seed}: "
        + _progress(Path(fill(layout.log(f"train/{RUN}"), r)))
        for r in runs
        if r not in done and Path(fill(layout.train, r)).is_dir()
    ]
    lines += _stage("train", len(done), started, len(runs) - len(done) - len(started))
    if not Path(layout.threshold).is_file():
        lines.append("  threshold  waiting (and the pruning jobs it selects)")
        return "\n".join(lines)
    document = load_threshold(layout.threshold)
    its = [
        f"{f.dataset}/{f.model} noise {f.noise}: "
        + (f"width {f.it.width} ({f.it.criterion})" if f.it.ok else "undefined")
        for f in document.families
    ]
    lines.append("  threshold  done: IT " + "; ".join(its))
    jobs = document.pruning_jobs(study.prune.methods)
    log = layout.log(f"prune/{RUN}/epoch{{epoch}}/{{method}}")

    def exists(pattern: str, run, epoch: int, method: str) -> bool:
        return Path(fill(pattern, run, epoch=epoch, method=method)).exists()

    finished = [job for job in jobs if exists(layout.rounds_table, *job)]
    begun = [
        f"{run.dataset}/{run.model} width {run.width} seed {run.seed} {method}: "
        + _progress(Path(fill(log, run, epoch=epoch, method=method)))
        for run, epoch, method in jobs
        if (run, epoch, method) not in finished and exists(layout.rounds, run, epoch, method)
    ]
    lines += _stage("prune", len(finished), begun, len(jobs) - len(finished) - len(begun))
    tuned = [
        (run, repr(weight_decay))
        for run in (document.it_runs() if study.prune.methods else [])
        for weight_decay in study.baselines.weight_decay
    ]
    if tuned:
        finished = [
            t for t in tuned if Path(fill(layout.tuned_metrics, t[0], weight_decay=t[1])).is_file()
        ]
        begun = [
            f"{run.dataset}/{run.model} width {run.width} seed {run.seed} weight decay {wd}"
            for run, wd in tuned
            if (run, wd) not in finished and Path(fill(layout.tuned, run, weight_decay=wd)).is_dir()
        ]
        lines += _stage("tune", len(finished), begun, len(tuned) - len(finished) - len(begun))
    answered = Path(layout.answer_page).is_file()
    lines.append(f"  answer     {'done: ' + layout.answer_page if answered else 'waiting'}")
    return "\n".join(lines)


def answer(study: Study, layout: Layout) -> str:
    """The answer page's paragraphs and its tested comparisons, as text."""
    from ddprune.analysis.answer.page import inference_table
    from ddprune.jobs.report import AnswerTables, answer_paragraphs

    if not Path(layout.comparisons).is_file():
        return f"{study.name}: no answer yet ({layout.comparisons} is missing; run snakemake)"
    solved = bool(study.solved_families)
    tables = AnswerTables.read(
        layout.answer,
        layout.comparisons,
        layout.threshold,
        layout.compression if solved else None,
        layout.compression_claims if solved else None,
        layout.registration,
    )
    text = "\n\n".join(answer_paragraphs(study, tables))
    tested = tables.comparisons
    tests = inference_table(tested).to_string(index=False) if len(tested) else ""
    return f"{text}\n\n{tests}".rstrip()


def dense_curves(results: Path) -> pd.DataFrame:
    """Seed-mean final validation and test error per family and width of one study."""
    final = final_rows(read_table(results / "dense.parquet", "dense"))
    keys = [*FAMILY_KEYS, "width"]
    return final.groupby(keys, as_index=False)[["val_error", "test_error"]].mean()


def compare(first: Path, second: Path, figure: str | None = None) -> str:
    """Two studies' dense curves side by side and each one's primary comparisons."""
    for folder in (first, second):
        missing = [
            n for n in ("dense.parquet", "comparisons.parquet") if not (folder / n).is_file()
        ]
        if missing:
            raise FileNotFoundError(
                f"{folder} is not a finished study's results folder: it has no "
                f"{' and no '.join(missing)} (give results/<study> of a study that snakemake "
                "has run to the end)"
            )
    names = [first.name, second.name] if first.name != second.name else ["A", "B"]
    paths = (first, second)
    curves = [
        dense_curves(path).assign(study=name) for path, name in zip(paths, names, strict=True)
    ]
    keys = [*FAMILY_KEYS, "width"]
    plain = [curve.drop(columns="study") for curve in curves]
    side = plain[0].merge(plain[1], on=keys, how="outer", suffixes=[f" {n}" for n in names])
    lines = [side.round(4).to_string(index=False)]
    for path, name in zip(paths, names, strict=True):
        tested = read_table(path / "comparisons.parquet", "comparisons")
        primary = tested[tested["family"] == "primary"]
        for _, row in primary.iterrows():
            lines.append(
                f"{name}: {row['dataset']}/{row['model']} noise {row['noise']}: {row['method']} "
                f"{row['comparison']} Δ {100 * row['mean']:+.1f} points "
                f"[{100 * row['flip_low']:+.1f}, {100 * row['flip_high']:+.1f}] (sign-flip), "
                f"p {row['p']:.3g}, {row['decision']} ({row['seeds']} seeds)"
            )
    if figure:
        from ddprune.analysis.figures import plotting
        from ddprune.analysis.figures.dense import compared_curves

        plotting.save(compared_curves(pd.concat(curves, ignore_index=True)), figure)
        lines.append(f"figure: {figure}")
    return "\n".join(lines)


def _study(configfile: str | None, overrides: Sequence[str]) -> tuple[Study, Layout]:
    study = load_study(merged_config(configfile, overrides=overrides))
    return study, Layout.of(study.name)


def main(argv: Sequence[str] | None = None) -> int:
    # The docstring's first sentence; no abbreviated options (--config is not --configfile).
    about = __doc__.split("\n\n")[0].replace("\n", " ")
    parser = argparse.ArgumentParser(prog="ddprune", description=about, allow_abbrev=False)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, helptext in (
        ("status", "per stage: jobs done, started (with their last epoch or round), waiting"),
        ("answer", "the answer's sentences and tested comparisons"),
    ):
        command = commands.add_parser(name, help=helptext, allow_abbrev=False)
        command.add_argument("--configfile", help="merged over config.yaml, as for snakemake")
        command.add_argument(
            "--config",
            nargs="+",
            default=[],
            metavar="KEY=VALUE",
            help="overrides, as for snakemake (a YAML value: prune='{epochs: 10}')",
        )
    both = commands.add_parser(
        "compare", help="two studies' dense curves and primary answers", allow_abbrev=False
    )
    both.add_argument("first", type=Path, help="a study's results folder, results/<study>")
    both.add_argument("second", type=Path)
    both.add_argument("--figure", help="also draw both dense curves into this file (.png/.svg)")
    args = parser.parse_args(argv)
    try:
        if args.command == "compare":
            print(compare(args.first, args.second, args.figure))
        else:
            chosen = {"status": status, "answer": answer}[args.command]
            print(chosen(*_study(args.configfile, args.config)))
    except (ConfigError, FileNotFoundError) as error:
        print(f"ddprune {args.command}: {error}", file=sys.stderr)
        return 2
    except DamagedFile as error:
        print(
            f"ddprune {args.command}: {error}\nrebuild it: rm {error.path} && snakemake "
            f"--cores N {error.path} (with the study's --configfile)",
            file=sys.stderr,
        )
        return 2
    return 0
