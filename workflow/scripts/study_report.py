"""The study-wide report jobs of ddprune.jobs.report, which take (study, layout): the rule's
params.job names one of them."""

from ddprune.jobs.report import (
    answer,
    answer_figure,
    answer_page,
    compression_claims,
    noise_figure,
)
from ddprune.jobs.snakemake import start

JOBS = {
    "answer": answer,
    "answer_page": lambda study, layout: answer_page(study, layout, snakemake.input.template),
    "answer_figure": answer_figure,
    "noise_figure": noise_figure,
    "compression_claims": compression_claims,
}
JOBS[snakemake.params.job](*start(snakemake))
