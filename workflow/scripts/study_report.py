"""The study-wide report jobs of ddprune.jobs.report, which take (study, layout): the rule's
params.job names one of them."""

from ddprune.jobs.report import answer, answer_figure, answer_page, landing_page, noise_figure
from ddprune.jobs.snakemake import start

JOBS = {
    "answer": answer,
    "answer_page": answer_page,
    "answer_figure": answer_figure,
    "noise_figure": noise_figure,
}
study, layout = start(snakemake)
JOBS[snakemake.params.job](study, layout)
if snakemake.params.job == "answer_page":  # and the report's first page, with the answer
    landing_page(study, layout, snakemake.input.template)
