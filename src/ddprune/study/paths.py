"""Every file of a study, in one place: the Snakefile and the library both read it here.

Patterns carry Snakemake's wildcards (``{dataset}``, ``{model}``, ``{noise}``, ``{width}``,
``{seed}``, ``{epoch}``, ``{method}``); :func:`fill` turns one into the file of a run. The
names of the files *inside* a run's folders (periodic checkpoints, resume points, pruning
rounds) are here too, with the patterns that recognise them. Torch-free: Snakemake imports
it for every command.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ddprune.study.runs import Run

PathLike = str | os.PathLike

RUN = "{dataset}/{model}/noise{noise}/width{width}/seed{seed}"
FAMILY = "{dataset}/{model}"
SOURCE = f"{RUN}/epoch{{epoch}}"  # a checkpoint that pruning starts from


@dataclass(frozen=True)
class Layout:
    """The files of one study, under ``results/<study>/`` of the working directory."""

    root: str

    @classmethod
    def of(cls, study: str) -> Layout:
        return cls(f"results/{study}")

    def log(self, job: str) -> str:
        return f"{self.root}/logs/{job}.log"

    @property
    def registration(self) -> str:
        """What the study tests, recorded before its results (ddprune.study.registration)."""
        return f"{self.root}/preregistration.yaml"

    # Dense training and the closed-form solves.
    @property
    def labels(self) -> str:
        return f"{self.root}/labels/{{dataset}}/noise{{noise}}/seed{{seed}}.parquet"

    @property
    def train(self) -> str:
        return f"{self.root}/train/{RUN}"

    @property
    def metrics(self) -> str:
        return f"{self.train}/metrics.parquet"

    @property
    def final_checkpoint(self) -> str:
        return f"{self.train}/final.pt"

    @property
    def checkpoints(self) -> str:
        """The run's periodic checkpoints and its resume point."""
        return f"{self.train}/checkpoints"

    @property
    def solved(self) -> str:
        """One closed-form job: every width and seed of one (dataset, model, noise)."""
        return f"{self.root}/solve/{FAMILY}/noise{{noise}}"

    @property
    def solved_dense(self) -> str:
        return f"{self.solved}/dense.parquet"

    @property
    def solved_compression(self) -> str:
        return f"{self.solved}/compression.parquet"

    @property
    def dense(self) -> str:
        return f"{self.root}/dense.parquet"

    @property
    def compression(self) -> str:
        return f"{self.root}/compression.parquet"

    @property
    def compression_claims(self) -> str:
        """Chang et al.'s claims tested on the closed-form regimes."""
        return f"{self.root}/compression_claims.parquet"

    # The threshold and its selection.
    @property
    def threshold(self) -> str:
        return f"{self.root}/threshold.yaml"

    @property
    def verified(self) -> str:
        return f"{self.root}/selected/{SOURCE}.parquet"

    @property
    def selection(self) -> str:
        return f"{self.root}/selection.parquet"

    # The dense baselines tuned at the IT width.
    @property
    def tuned(self) -> str:
        """One run at the IT width with another weight decay (``baselines.weight_decay``)."""
        return f"{self.root}/tune/{RUN}/wd{{weight_decay}}"

    @property
    def tuned_metrics(self) -> str:
        return f"{self.tuned}/metrics.parquet"

    @property
    def tuned_checkpoint(self) -> str:
        return f"{self.tuned}/final.pt"

    @property
    def tuned_checkpoints(self) -> str:
        return f"{self.tuned}/checkpoints"

    @property
    def tuning(self) -> str:
        return f"{self.root}/tuning.parquet"

    # Pruning.
    @property
    def prune(self) -> str:
        return f"{self.root}/prune/{SOURCE}/{{method}}"

    @property
    def rounds_table(self) -> str:
        return f"{self.prune}/rounds.parquet"

    @property
    def rounds(self) -> str:
        """One checkpoint per finished round, and the resume point inside the next one."""
        return f"{self.prune}/rounds"

    @property
    def pruning(self) -> str:
        return f"{self.root}/pruning.parquet"

    # The answer: every source's statistics, their page and figure (study-wide).
    @property
    def answer(self) -> str:
        return f"{self.root}/answer.parquet"

    @property
    def comparisons(self) -> str:
        return f"{self.root}/comparisons.parquet"

    @property
    def answer_page(self) -> str:
        return f"{self.root}/tables/answer.html"

    @property
    def answer_figure(self) -> str:
        return f"{self.root}/figures/answer.png"

    @property
    def landing(self) -> str:
        """The report's first page: its description with the study's answer (reStructuredText)."""
        return f"{self.root}/report/landing.rst"

    @property
    def noise_figure(self) -> str:
        return f"{self.root}/figures/primary_by_noise.png"

    # The report.
    def figure(self, kind: str) -> str:
        return f"{self.root}/figures/{FAMILY}/{kind}.png"

    def family_table(self, name: str) -> str:
        return f"{self.root}/tables/{FAMILY}/{name}.html"

    @property
    def threshold_table(self) -> str:
        return f"{self.root}/tables/thresholds.html"


def unfinished_study(layout: Layout) -> str | None:
    """Why a report of ``layout``'s study cannot be built (None: its answer page exists):
    which study the config names, and the studies whose results are on disk -- the usual
    cause is a missing ``--configfile``."""
    if Path(layout.answer_page).is_file():
        return None
    results = Path(layout.root).parent
    finished = sorted(
        p.parent.parent.name for p in results.glob("*/tables/answer.html") if p.is_file()
    )
    hint = (
        f"studies with results here: {', '.join(finished)} -- pass the --configfile you ran "
        "it with (configs/<study>.yaml), as for snakemake"
        if finished
        else "no study has finished here: run it first (snakemake --cores N)"
    )
    return f"the report is of study {Path(layout.root).name!r}, which has no answer yet; {hint}"


def fill(pattern: str, run: Run, **values: object) -> str:
    """``pattern`` for ``run`` (and any other wildcards, such as ``epoch`` and ``method``)."""
    return pattern.format(**run.wildcards, **{k: str(v) for k, v in values.items()})


# Files inside a run's checkpoints folder and a pruning job's rounds folder. Temporary files
# (atomic writes) never match these patterns.
PERIODIC = re.compile(r"epoch(\d+)\.pt")
RESUME_EPOCH = re.compile(r"resume-epoch(\d+)\.pt")
ROUND = re.compile(r"round(\d+)\.pt")
RESUME_ROUND = re.compile(r"resume-round(\d+)-epoch(\d+)\.pt")
RESUME_POINTS = "resume-*.pt"


def periodic_checkpoint(directory: PathLike, epoch: int) -> Path:
    return Path(directory) / f"epoch{epoch:07d}.pt"


def resume_point(directory: PathLike, epoch: int) -> Path:
    return Path(directory) / f"resume-epoch{epoch:07d}.pt"


def round_checkpoint(directory: PathLike, round_index: int) -> Path:
    return Path(directory) / f"round{round_index:03d}.pt"


def round_resume_point(directory: PathLike, round_index: int, epoch: int) -> Path:
    return Path(directory) / f"resume-round{round_index:03d}-epoch{epoch:07d}.pt"


def matching(directory: PathLike, pattern: re.Pattern[str]) -> dict[tuple[int, ...], Path]:
    """Files of ``directory`` whose names match ``pattern``, keyed by its integer groups."""
    directory = Path(directory)
    if not directory.is_dir():
        return {}
    return {
        tuple(int(g) for g in m.groups()): path
        for path in directory.iterdir()
        if (m := pattern.fullmatch(path.name))
    }
